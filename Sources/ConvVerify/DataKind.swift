import ConvCore

/// How input, weight and bias values are drawn for a case.
public enum DataKind: String, CaseIterable, Sendable, Codable {
    /// N(0, 1).
    case normal
    /// U(−1, 1).
    case uniform
    /// U(−1e4, 1e4): large magnitudes, large absolute errors.
    case large
    /// Inputs around 1e-30 and weights around 1e-8: products in the denormal range.
    case tiny
    /// All-zero input (the output must be exactly the bias); always mistrusted as a pass.
    case zeros
    /// Normal values with 90% of inputs and half the weights zeroed.
    case sparse
    /// Integers: inputs −3…3, weights −2…2, bias −5…5. Partial sums stay far below 2²⁴, so every
    /// algorithm without a numeric transform must match the reference exactly.
    case smallIntegers

    /// Draws input, weights and bias for `conv`.
    public func tensors(for conv: ConvDescriptor, seed: UInt64) -> (input: Tensor, weights: Tensor, bias: Tensor?) {
        var rng = SeededGenerator(seed: seed)
        var x = Tensor(shape: conv.inputShape)
        var w = Tensor(shape: conv.weightShape)
        var b: Tensor? = conv.hasBias ? Tensor(shape: conv.biasShape) : nil
        switch self {
        case .normal:
            x.fill(.normal(mean: 0, std: 1), using: &rng)
            w.fill(.normal(mean: 0, std: 1), using: &rng)
            b?.fill(.normal(mean: 0, std: 1), using: &rng)
        case .uniform:
            x.fill(.uniform(low: -1, high: 1), using: &rng)
            w.fill(.uniform(low: -1, high: 1), using: &rng)
            b?.fill(.uniform(low: -1, high: 1), using: &rng)
        case .large:
            x.fill(.uniform(low: -1e4, high: 1e4), using: &rng)
            w.fill(.uniform(low: -1e4, high: 1e4), using: &rng)
            b?.fill(.uniform(low: -1e4, high: 1e4), using: &rng)
        case .tiny:
            x.fill(.uniform(low: -1e-30, high: 1e-30), using: &rng)
            w.fill(.uniform(low: -1e-8, high: 1e-8), using: &rng)
            b?.fill(.uniform(low: -1e-38, high: 1e-38), using: &rng)
        case .zeros:
            w.fill(.normal(mean: 0, std: 1), using: &rng)
            b?.fill(.normal(mean: 0, std: 1), using: &rng)
        case .sparse:
            x.fill(.normal(mean: 0, std: 1), using: &rng)
            w.fill(.normal(mean: 0, std: 1), using: &rng)
            b?.fill(.normal(mean: 0, std: 1), using: &rng)
            x.withUnsafeMutableBufferPointer { p in for i in p.indices where rng.next() % 10 != 0 { p[i] = 0 } }
            w.withUnsafeMutableBufferPointer { p in for i in p.indices where rng.next() % 2 == 0 { p[i] = 0 } }
        case .smallIntegers:
            x.fill(.integers(low: -3, high: 3), using: &rng)
            w.fill(.integers(low: -2, high: 2), using: &rng)
            b?.fill(.integers(low: -5, high: 5), using: &rng)
        }
        return (x, w, b)
    }

    /// Whether exact equality is demanded of algorithms without a numeric transform.
    public var demandsExactness: Bool { self == .smallIntegers || self == .zeros }
}
