/// A model's parameters, split by what they are, so every counting convention is a sum of parts.
///
/// Conventions (checked against the frameworks by the fixture tests):
/// - `trainable`: PyTorch `sum(p.numel() for p in model.parameters())` = Keras trainable weights:
///   convolution and dense weights and biases, batch-norm γ and β.
/// - `keras`: Keras `model.count_params()` = trainable + batch-norm moving mean and variance
///   (PyTorch keeps those as buffers: `parameters()` + buffers, `num_batches_tracked` aside).
/// - `deployed`: what inference stores after folding batch norm into the convolutions: convolution
///   weights, one bias per output channel of every convolution that has a bias or a batch norm,
///   and the dense layers.
public struct ParameterCounts: Sendable, Hashable {
    public var convolutionWeights = 0
    /// Biases the framework's convolutions have themselves.
    public var convolutionBiases = 0
    public var batchNormAffine = 0
    public var batchNormStatistics = 0
    public var linearWeights = 0
    public var linearBiases = 0
    /// Biases of the deployed (folded) convolutions.
    public var deployedConvolutionBiases = 0

    public init() {}

    public var trainable: Int {
        convolutionWeights + convolutionBiases + batchNormAffine + linearWeights + linearBiases
    }
    public var keras: Int { trainable + batchNormStatistics }
    public var deployed: Int { convolutionWeights + deployedConvolutionBiases + linearWeights + linearBiases }

    public static func + (a: ParameterCounts, b: ParameterCounts) -> ParameterCounts {
        var s = ParameterCounts()
        s.convolutionWeights = a.convolutionWeights + b.convolutionWeights
        s.convolutionBiases = a.convolutionBiases + b.convolutionBiases
        s.batchNormAffine = a.batchNormAffine + b.batchNormAffine
        s.batchNormStatistics = a.batchNormStatistics + b.batchNormStatistics
        s.linearWeights = a.linearWeights + b.linearWeights
        s.linearBiases = a.linearBiases + b.linearBiases
        s.deployedConvolutionBiases = a.deployedConvolutionBiases + b.deployedConvolutionBiases
        return s
    }
}

extension Node {
    public var parameterCounts: ParameterCounts {
        var p = ParameterCounts()
        switch op {
        case let .convolution(c):
            p.convolutionWeights = c.descriptor.weightCount
            p.convolutionBiases = c.descriptor.biasCount
            p.batchNormAffine = c.batchNorm?.affineCount ?? 0
            p.batchNormStatistics = c.batchNorm?.statisticsCount ?? 0
            p.deployedConvolutionBiases = c.deployedDescriptor.biasCount
        case let .fullyConnected(l):
            p.linearWeights = l.weightCount
            p.linearBiases = l.biasCount
        default:
            break
        }
        return p
    }

    /// Multiply-accumulates: convolutions as `ConvDescriptor.multiplyAccumulates` (taps in padding
    /// included, as frameworks' hooks count), fully connected N·in·out; zero for everything else.
    public var multiplyAccumulates: Int {
        switch op {
        case let .convolution(c): return c.descriptor.multiplyAccumulates
        case let .fullyConnected(l): return outputShape[0] * l.weightCount
        default: return 0
        }
    }
}

extension ModelGraph {
    public var parameterCounts: ParameterCounts { nodes.map(\.parameterCounts).reduce(ParameterCounts(), +) }

    /// Multiply-accumulates of the convolutions only.
    public var convolutionMACs: Int { convolutions.map { $0.layer.descriptor.multiplyAccumulates }.reduce(0, +) }

    /// Multiply-accumulates of convolutions and fully connected layers.
    public var multiplyAccumulates: Int { nodes.map(\.multiplyAccumulates).reduce(0, +) }
}
