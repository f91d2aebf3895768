import ConvCore

/// A convolution as the framework defines it, plus the batch norm and ReLU that follow it.
///
/// `descriptor` is the framework's convolution (with a bias only if the framework layer has one);
/// `deployedDescriptor` is what actually runs: batch norm folded in, so it has a bias whenever
/// either the convolution or a batch norm supplies one. Weights are generated on demand from the
/// layer's seed: He-normal for the weights, small uniform values for a framework bias.
public struct ConvLayer: Sendable {
    public let descriptor: ConvDescriptor
    public let batchNorm: BatchNorm?
    /// ReLU applied after the (folded) batch norm.
    public let relu: Bool
    /// The layer's name, for deriving its parameter seeds.
    let name: String
    let modelSeed: UInt64

    public init(name: String, descriptor: ConvDescriptor, batchNorm: BatchNorm?, relu: Bool, modelSeed: UInt64) {
        precondition(batchNorm == nil || batchNorm!.channels == descriptor.outChannels,
                     "\(name): batch norm channels must equal the convolution's output channels")
        self.name = name
        self.descriptor = descriptor
        self.batchNorm = batchNorm
        self.relu = relu
        self.modelSeed = modelSeed
    }

    /// The convolution that runs: the framework's, with a bias when batch norm is folded in.
    public var deployedDescriptor: ConvDescriptor {
        let needsBias = descriptor.hasBias || batchNorm != nil
        // Only the bias flag changes, so the descriptor stays valid.
        return needsBias == descriptor.hasBias ? descriptor : try! descriptor.withBias(needsBias)
    }

    /// The framework's weights, OIHW, He-normal with fan-in (Cin/groups)·kH·kW.
    public func weights() -> Tensor {
        let d = descriptor
        return .heNormal(shape: d.weightShape, fanIn: d.inChannelsPerGroup * d.kernelHeight * d.kernelWidth,
                         seed: ParameterSeed.derive(model: modelSeed, layer: name, role: "weight"))
    }

    /// The framework's own bias (nil when it has none), uniform in [−0.1, 0.1).
    public func bias() -> Tensor? {
        guard descriptor.hasBias else { return nil }
        return .random(shape: descriptor.biasShape, .uniform(low: -0.1, high: 0.1),
                       seed: ParameterSeed.derive(model: modelSeed, layer: name, role: "bias"))
    }

    /// Weights and bias of `deployedDescriptor`: W' = scale·W and b' = scale·b + shift per output
    /// channel (see `BatchNorm.foldFactors`), computed in float64 and rounded once. Without a batch
    /// norm, the framework's tensors unchanged.
    public func foldedParameters() -> (weights: Tensor, bias: Tensor?) {
        var w = weights()
        let b = bias()
        guard let batchNorm else { return (w, b) }
        let (scale, shift) = batchNorm.foldFactors()
        let perChannel = descriptor.weightCount / descriptor.outChannels
        w.withUnsafeMutableBufferPointer { w in
            for oc in 0..<descriptor.outChannels {
                for i in (oc * perChannel)..<((oc + 1) * perChannel) { w[i] = Float(Double(w[i]) * scale[oc]) }
            }
        }
        let original = b?.scalars ?? [Float](repeating: 0, count: descriptor.outChannels)
        let folded = (0..<descriptor.outChannels).map { Float(Double(original[$0]) * scale[$0] + shift[$0]) }
        return (w, Tensor(shape: [descriptor.outChannels], values: folded))
    }
}
