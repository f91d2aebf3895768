import ConvCore

/// 1×1 convolution as a matrix product. With stride 1 and no padding the NCHW input already is
/// the B matrix [Cin/g, H·W], so the convolution is one SGEMM per group per image with no copy
/// at all. Strided (or cropped) 1×1 gathers only the pixels it reads into a column matrix first,
/// via the same unfold as im2col-gemm.
public struct PointwiseGEMM: ConvolutionAlgorithm {
    public init() {}

    public var name: String { "pointwise-gemm" }
    public var summary: String { "1x1 forward: one SGEMM on NCHW with no copy; strided 1x1 gathers the pixels it needs" }
    public var errorModel: ErrorModel { .float32Summation }

    public func support(for c: ConvDescriptor) -> Support {
        if c.transposed { return .unsupported("transposed convolution (im2col-gemm and direct cover it)") }
        if !c.isPointwise { return .unsupported("kernel is not 1x1") }
        if c.padTop != 0 || c.padLeft != 0 { return .unsupported("front padding on a 1x1 kernel (use im2col-gemm)") }
        return .supported
    }

    /// No copy is possible when the output pixels are exactly the input pixels.
    static func isCopyFree(_ c: ConvDescriptor) -> Bool {
        c.strideHeight == 1 && c.strideWidth == 1 && c.outHeight == c.inHeight && c.outWidth == c.inWidth
    }

    public func prepare(_ conv: ConvDescriptor, weights: Tensor, bias: Tensor?,
                        options: AlgorithmOptions) throws -> any PreparedConvolution {
        try checkPrepare(conv, weights: weights, bias: bias)
        if !Self.isCopyFree(conv) {
            // Gathering the strided pixels is exactly a 1×1 unfold.
            return try Im2colGEMM().prepare(conv, weights: weights, bias: bias, options: options)
        }
        return Prepared(conv, weights: weights, bias: conv.hasBias ? bias : nil, threads: options.threads)
    }

    final class Prepared: PreparedConvolution {
        let descriptor: ConvDescriptor
        let weights: Tensor
        let bias: Tensor?
        let threads: Int
        var workspaceBytes: Int { 0 }

        init(_ c: ConvDescriptor, weights: Tensor, bias: Tensor?, threads: Int) {
            descriptor = c
            self.weights = weights
            self.bias = bias
            self.threads = threads
        }

        func run(_ input: Tensor, into output: inout Tensor) throws {
            try checkRun(input, output)
            SGEMM.setThreads(threads)
            let c = descriptor
            let (cinG, coutG) = (c.inChannelsPerGroup, c.outChannelsPerGroup)
            let plane = c.inHeight * c.inWidth
            input.withUnsafeBufferPointer { x in
                weights.withUnsafeBufferPointer { w in
                    output.withUnsafeMutableBufferPointer { y in
                        let biasPointer = bias?.withUnsafeBufferPointer { $0.baseAddress }
                        for n in 0..<c.batch {
                            let yImage = y.baseAddress! + n * c.outChannels * plane
                            if biasPointer != nil {
                                OutputInit.fill(yImage, channels: c.outChannels, plane: plane, bias: biasPointer)
                            }
                            for g in 0..<c.groups {
                                // Y_g[coutG, HW] = W_g[coutG, cinG] · X_g[cinG, HW]
                                SGEMM.multiply(m: coutG, n: plane, k: cinG, a: w.baseAddress! + g * coutG * cinG, lda: cinG,
                                               b: x.baseAddress! + (n * c.inChannels + g * cinG) * plane, ldb: plane,
                                               c: yImage + g * coutG * plane, ldc: plane, beta: biasPointer == nil ? 0 : 1)
                            }
                        }
                    }
                }
            }
        }
    }
}
