import Foundation

/// Summary of repeated timings, in seconds.
public struct TimingStats: Codable, Sendable, Equatable {
    public var median: Double
    public var p10: Double
    public var p90: Double
    public var min: Double
    public var repetitions: Int
    /// Every sample, in the order measured (the regression gate bootstraps from them).
    public var samples: [Double]

    public init(samples: [Double]) {
        precondition(!samples.isEmpty)
        self.samples = samples
        let sorted = samples.sorted()
        func quantile(_ q: Double) -> Double {
            let pos = q * Double(sorted.count - 1)
            let lo = Int(pos.rounded(.down)), hi = Swift.min(lo + 1, sorted.count - 1)
            return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - Double(lo))
        }
        median = quantile(0.5)
        p10 = quantile(0.1)
        p90 = quantile(0.9)
        min = sorted[0]
        repetitions = samples.count
    }

    /// The median over pairs of `numerators[i] ÷ denominators[i]`: two things timed in alternation,
    /// each pair under the same load of the host (the layer runoff, the peer rounds).
    public static func medianRatio(_ numerators: [Double], over denominators: [Double]) -> Double {
        precondition(!numerators.isEmpty && numerators.count == denominators.count)
        return TimingStats(samples: zip(numerators, denominators).map { $0 / $1 }).median
    }
}

/// How repetitions are chosen: warm-up runs first (not recorded), then timed runs until at least
/// `minRepetitions` are in and either the median has settled (the median of all samples and the
/// median of the first half differ by less than `stableFraction`) or `budget` seconds are spent,
/// never more than `maxRepetitions`.
public struct TimingPolicy: Codable, Sendable {
    public var warmup: Int
    public var minRepetitions: Int
    public var maxRepetitions: Int
    public var budget: Double
    public var stableFraction: Double

    public init(warmup: Int = 1, minRepetitions: Int = 5, maxRepetitions: Int = 50, budget: Double = 2,
                stableFraction: Double = 0.02) {
        self.warmup = warmup
        self.minRepetitions = minRepetitions
        self.maxRepetitions = maxRepetitions
        self.budget = budget
        self.stableFraction = stableFraction
    }

    public static let standard = TimingPolicy()
    /// For CI. No separate warm-up: the judged run and the heap-growth run before timing warm up already.
    public static let quick = TimingPolicy(warmup: 0, minRepetitions: 3, maxRepetitions: 10, budget: 0.4)
}

public enum Clock {
    /// Monotonic seconds.
    @inline(__always)
    public static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// Seconds one call of `body` takes.
    @inline(__always)
    public static func time(_ body: () throws -> Void) rethrows -> Double {
        let start = now()
        try body()
        return now() - start
    }
}

extension TimingPolicy {
    /// Times `body` under this policy. `between` runs before each repetition, untimed (cache flushing).
    public func measure(between: (() -> Void)? = nil, _ body: () throws -> Void) rethrows -> TimingStats {
        for _ in 0..<warmup { between?(); try body() }
        var samples: [Double] = []
        let start = Clock.now()
        while samples.count < maxRepetitions {
            between?()
            samples.append(try Clock.time(body))
            if samples.count >= minRepetitions {
                if Clock.now() - start >= budget { break }
                let all = TimingStats(samples: samples).median
                let half = TimingStats(samples: Array(samples.prefix(samples.count / 2 + 1))).median
                if abs(all - half) <= stableFraction * all && samples.count >= 2 * minRepetitions { break }
            }
        }
        return TimingStats(samples: samples)
    }
}
