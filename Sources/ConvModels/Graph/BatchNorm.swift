import ConvCore

/// A batch normalization that follows a convolution. At inference it is the per-channel affine map
///     y = γ · (x − μ) / √(σ² + ε) + β
/// which the model folds into the convolution before running it. It is kept as a layer so its
/// parameters are counted the way each framework counts them: γ and β are trainable parameters in
/// both; the running mean μ and variance σ² are non-trainable weights in Keras (`count_params()`
/// includes them) and buffers in PyTorch (`parameters()` leaves them out).
public struct BatchNorm: Sendable, Hashable {
    /// The framework's name for the batch-norm layer (`backbone.bn1`, `block1_conv1_bn`).
    public let name: String
    public let channels: Int
    /// 1e-5 in PyTorch, 1e-3 in Keras and TensorFlow slim.
    public let epsilon: Double
    let seed: UInt64

    public init(name: String, channels: Int, epsilon: Double, seed: UInt64) {
        precondition(channels >= 1 && epsilon > 0)
        self.name = name
        self.channels = channels
        self.epsilon = epsilon
        self.seed = seed
    }

    /// γ and β.
    public var affineCount: Int { 2 * channels }
    /// Running mean and variance.
    public var statisticsCount: Int { 2 * channels }

    /// Random but fixed: γ ∈ [0.5, 1.5), β and μ ∈ [−0.2, 0.2), σ² ∈ [0.5, 2) (positive, so the
    /// fold is defined), each from its own seeded stream.
    public func parameters() -> (gamma: [Float], beta: [Float], mean: [Float], variance: [Float]) {
        func draw(_ role: String, _ low: Float, _ high: Float) -> [Float] {
            Tensor.random(shape: [channels], .uniform(low: low, high: high),
                          seed: ParameterSeed.derive(model: seed, layer: name, role: role)).scalars
        }
        return (draw("gamma", 0.5, 1.5), draw("beta", -0.2, 0.2), draw("mean", -0.2, 0.2), draw("variance", 0.5, 2))
    }

    /// Per-channel scale γ/√(σ²+ε) and shift β − μ·scale, in float64, so that the folded layer is
    /// W' = scale·W and b' = scale·b + shift.
    public func foldFactors() -> (scale: [Double], shift: [Double]) {
        let p = parameters()
        var scale = [Double](repeating: 0, count: channels), shift = scale
        for c in 0..<channels {
            scale[c] = Double(p.gamma[c]) / (Double(p.variance[c]) + epsilon).squareRoot()
            shift[c] = Double(p.beta[c]) - Double(p.mean[c]) * scale[c]
        }
        return (scale, shift)
    }
}
