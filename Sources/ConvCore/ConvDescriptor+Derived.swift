/// Shapes and counts derived from a descriptor. Every count is exact integer arithmetic
/// (the initializer proved that none of them overflows).
extension ConvDescriptor {
    /// NCHW: N images, C channels, H rows, W columns.
    public var inputShape: [Int] { [batch, inChannels, inHeight, inWidth] }
    public var outputShape: [Int] { [batch, outChannels, outHeight, outWidth] }
    /// OIHW for forward, IOHW for transposed (PyTorch's storage).
    public var weightShape: [Int] {
        transposed
            ? [inChannels, outChannels / groups, kernelHeight, kernelWidth]
            : [outChannels, inChannels / groups, kernelHeight, kernelWidth]
    }
    public var biasShape: [Int] { [outChannels] }

    public var inChannelsPerGroup: Int { inChannels / groups }
    public var outChannelsPerGroup: Int { outChannels / groups }

    public var inputCount: Int { batch * inChannels * inHeight * inWidth }
    public var outputCount: Int { batch * outChannels * outHeight * outWidth }
    public var weightCount: Int { outChannels * inChannelsPerGroup * kernelHeight * kernelWidth }
    public var biasCount: Int { hasBias ? outChannels : 0 }

    /// Learnable parameters: weights plus bias.
    public var parameterCount: Int { weightCount + biasCount }

    /// Dilated kernel extent, (k − 1)·d + 1.
    public var kernelExtentHeight: Int { (kernelHeight - 1) * dilationHeight + 1 }
    public var kernelExtentWidth: Int { (kernelWidth - 1) * dilationWidth + 1 }

    /// Multiply-accumulates, counting taps that land in padding as frameworks' hooks do:
    /// forward N·Cout·Hout·Wout·(Cin/g)·kH·kW; transposed N·Cin·Hin·Win·(Cout/g)·kH·kW
    /// (every input element scattered through the whole kernel).
    public var multiplyAccumulates: Int {
        transposed
            ? inputCount * outChannelsPerGroup * kernelHeight * kernelWidth
            : outputCount * inChannelsPerGroup * kernelHeight * kernelWidth
    }
    /// 2 × MACs.
    public var flops: Int { 2 * multiplyAccumulates }

    /// Bytes of float32 data read and written once each (input, weights, bias, output):
    /// the compulsory traffic for a roofline.
    public var bytesTouched: Int { 4 * (inputCount + weightCount + biasCount + outputCount) }

    /// Input rows × columns that can reach one output element. Forward: the dilated kernel extent.
    /// Transposed: ⌈extent / stride⌉ input positions per axis at most.
    public var receptiveField: (height: Int, width: Int) {
        if transposed {
            return ((kernelExtentHeight + strideHeight - 1) / strideHeight,
                    (kernelExtentWidth + strideWidth - 1) / strideWidth)
        }
        return (kernelExtentHeight, kernelExtentWidth)
    }

    /// Groups equal to input channels: each input channel convolved on its own
    /// (depth multiplier = outChannels / inChannels).
    public var isDepthwise: Bool { !transposed && groups == inChannels }
    public var depthMultiplier: Int { outChannels / inChannels }
    /// 1×1 kernel.
    public var isPointwise: Bool { kernelHeight == 1 && kernelWidth == 1 }
}
