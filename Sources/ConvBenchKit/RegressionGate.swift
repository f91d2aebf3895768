import ConvCore
import Foundation

/// Compares a run with a baseline after normalizing each by its own calibration, so a uniformly
/// slower machine is not a regression and a slower kernel is. Decisions are statistical: a
/// layer × algorithm regresses only when the whole bootstrap confidence interval of its normalized
/// time ratio (current ÷ baseline) lies beyond 1 + threshold.
///
/// Normalization: a time t measured on a machine whose SGEMM calibration ran at R GFLOP/s becomes
/// t · R — the time in units of "work the machine could do in SGEMM", which a machine twice as slow
/// leaves unchanged.
public struct RegressionGate {
    public var threshold: Double
    public var confidence: Double
    public var resamples: Int
    public var seed: UInt64

    public init(threshold: Double = 0.10, confidence: Double = 0.95, resamples: Int = 2000, seed: UInt64 = 1) {
        self.threshold = threshold
        self.confidence = confidence
        self.resamples = resamples
        self.seed = seed
    }

    public struct Finding: Sendable {
        public var layer: String
        public var caseLine: String
        public var algorithm: String
        /// Normalized median ratio, current ÷ baseline (> 1 is slower).
        public var ratio: Double
        public var low: Double
        public var high: Double
        public var regressed: Bool
        public var improved: Bool
    }

    public struct Result: Sendable {
        public var findings: [Finding]
        /// Layer × algorithm pairs in the baseline that the current run lacks or that turned invalid.
        public var missing: [String]
        public var regressions: [Finding] { findings.filter(\.regressed) }
        public var passed: Bool { regressions.isEmpty && missing.isEmpty }
    }

    public func compare(baseline: RunReport, current: RunReport) -> Result {
        var rng = SeededGenerator(seed: seed)
        var findings: [Finding] = []
        var missing: [String] = []
        let scaleBase = baseline.calibration.sgemmGFLOPS, scaleCurrent = current.calibration.sgemmGFLOPS
        for old in baseline.layers {
            for a in old.algorithms where a.status == .ok {
                guard let oldRun = a.run else { continue }
                guard let layer = current.layers.first(where: { $0.caseLine == old.caseLine }),
                      let now = layer.algorithms.first(where: { $0.algorithm == a.algorithm }) else {
                    missing.append("\(old.name) / \(a.algorithm): not measured in the current run")
                    continue
                }
                guard now.status == .ok, let newRun = now.run else {
                    missing.append("\(old.name) / \(a.algorithm): \(now.status.rawValue) in the current run")
                    continue
                }
                let before = oldRun.samples.map { $0 * scaleBase }
                let after = newRun.samples.map { $0 * scaleCurrent }
                let ratio = median(after) / median(before)
                let (low, high) = bootstrap(before, after, &rng)
                findings.append(Finding(layer: old.name, caseLine: old.caseLine, algorithm: a.algorithm, ratio: ratio,
                                        low: low, high: high, regressed: low > 1 + threshold, improved: high < 1 - threshold))
            }
        }
        return Result(findings: findings, missing: missing)
    }

    /// Percentile bootstrap of median(after) / median(before).
    func bootstrap(_ before: [Double], _ after: [Double], _ rng: inout SeededGenerator) -> (Double, Double) {
        var ratios: [Double] = []
        ratios.reserveCapacity(resamples)
        for _ in 0..<resamples {
            let b = (0..<before.count).map { _ in before[Int(rng.next() % UInt64(before.count))] }
            let a = (0..<after.count).map { _ in after[Int(rng.next() % UInt64(after.count))] }
            ratios.append(median(a) / median(b))
        }
        ratios.sort()
        let tail = (1 - confidence) / 2
        let lo = ratios[Int(Double(resamples - 1) * tail)], hi = ratios[Int(Double(resamples - 1) * (1 - tail))]
        return (lo, hi)
    }

    func median(_ v: [Double]) -> Double {
        let s = v.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}

extension RegressionGate.Result {
    public var text: String {
        var s = "convbench gate: \(findings.count) layer x algorithm figures compared\n"
        for f in findings.sorted(by: { $0.ratio > $1.ratio }) where f.regressed || f.improved {
            s += String(format: "%@ %@ / %@: %.2fx (95%% CI %.2f-%.2f)\n", f.regressed ? "REGRESSED" : "improved ",
                        f.layer, f.algorithm, f.ratio, f.low, f.high)
        }
        for m in missing { s += "MISSING \(m)\n" }
        s += passed ? "gate passed\n" : "gate FAILED\n"
        return s
    }
}
