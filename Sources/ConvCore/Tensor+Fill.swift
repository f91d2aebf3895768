/// Seeded, deterministic fills: the same seed gives the same tensor everywhere.
public enum FillDistribution: Sendable, Hashable {
    /// Uniform in [low, high).
    case uniform(low: Float, high: Float)
    /// Normal with the given mean and standard deviation.
    case normal(mean: Float, std: Float)
    /// Integers drawn uniformly from low...high (exactly representable; sums stay exact while
    /// they remain below 2^24).
    case integers(low: Int, high: Int)
}

extension Tensor {
    /// A tensor of `shape` filled from `distribution` with generator seed `seed`.
    public static func random(shape: [Int], _ distribution: FillDistribution, seed: UInt64) -> Tensor {
        var t = Tensor(shape: shape)
        var rng = SeededGenerator(seed: seed)
        t.fill(distribution, using: &rng)
        return t
    }

    /// Fills from `distribution`, drawing from `rng`.
    public mutating func fill(_ distribution: FillDistribution, using rng: inout SeededGenerator) {
        withUnsafeMutableBufferPointer { buf in
            switch distribution {
            case let .uniform(low, high):
                let span = Double(high - low)
                for i in buf.indices { buf[i] = low + Float(rng.nextUnit() * span) }
            case let .normal(mean, std):
                for i in buf.indices { buf[i] = mean + std * Float(rng.nextNormal()) }
            case let .integers(low, high):
                let n = UInt64(high - low + 1)
                for i in buf.indices { buf[i] = Float(low + Int(rng.next() % n)) }
            }
        }
    }
}
