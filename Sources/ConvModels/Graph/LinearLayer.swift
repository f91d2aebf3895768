import ConvCore

/// A fully connected layer, y = W·x + b with W `[outFeatures, inFeatures]` (PyTorch's layout;
/// Keras stores the transpose, which does not change the count).
public struct LinearLayer: Sendable {
    public let inFeatures: Int
    public let outFeatures: Int
    public let hasBias: Bool
    let name: String
    let modelSeed: UInt64

    public init(name: String, inFeatures: Int, outFeatures: Int, hasBias: Bool, modelSeed: UInt64) {
        precondition(inFeatures >= 1 && outFeatures >= 1)
        self.name = name
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.hasBias = hasBias
        self.modelSeed = modelSeed
    }

    public var weightCount: Int { inFeatures * outFeatures }
    public var biasCount: Int { hasBias ? outFeatures : 0 }

    /// He-normal with fan-in `inFeatures`.
    public func weights() -> Tensor {
        .heNormal(shape: [outFeatures, inFeatures], fanIn: inFeatures,
                  seed: ParameterSeed.derive(model: modelSeed, layer: name, role: "weight"))
    }

    /// Uniform in [−0.1, 0.1), or nil without a bias.
    public func bias() -> Tensor? {
        guard hasBias else { return nil }
        return .random(shape: [outFeatures], .uniform(low: -0.1, high: 0.1),
                       seed: ParameterSeed.derive(model: modelSeed, layer: name, role: "bias"))
    }
}
