import ConvBenchKit
import ConvCore
import Foundation
import Testing

@Suite struct RegressionGateTests {
    /// A report with one layer × two algorithms and noisy samples around the given medians.
    static func report(medians: [String: Double], sgemm: Double, seed: UInt64, scale: Double = 1) -> RunReport {
        var rng = SeededGenerator(seed: seed)
        let calibration = Calibration(sgemmGFLOPS: sgemm, sgemmSize: 1024, copyBytesPerSecond: 1e10, copyBytes: 1 << 26,
                                      theoreticalPeakGFLOPS: nil, threads: 2)
        let algorithms = medians.keys.sorted().map { name -> AlgorithmTiming in
            let samples = (0..<15).map { _ in medians[name]! * scale * (1 + 0.04 * (rng.nextUnit() - 0.5)) }
            var t = AlgorithmTiming(algorithm: name, status: .ok)
            t.run = TimingStats(samples: samples)
            return t
        }
        let layer = LayerResult(name: "layer", caseLine: "g1mb1ic8ih8iw8oc8oh8ow8kh3kw3sh1sw1ph1pw1dh0dw0", occurrences: 1,
                                macs: 1, flops: 2, bytes: 4, equivalentGEMMGFLOPS: 1, algorithms: algorithms,
                                selected: nil, marginOverRunnerUp: nil)
        return RunReport(suite: "t", command: "t", threads: 2, policy: .quick, calibration: calibration, layers: [layer])
    }

    static let base = ["direct": 0.010, "im2col-gemm": 0.006]

    @Test func injectedTwentyPercentSlowdownFails() {
        let baseline = Self.report(medians: Self.base, sgemm: 100, seed: 1)
        var slower = Self.base
        slower["direct"]! *= 1.2
        let current = Self.report(medians: slower, sgemm: 100, seed: 2)
        let r = RegressionGate().compare(baseline: baseline, current: current)
        #expect(!r.passed)
        #expect(r.regressions.map(\.algorithm) == ["direct"])
        #expect(abs(r.regressions[0].ratio - 1.2) < 0.03)
    }

    @Test func uniformlyTwiceSlowerMachinePasses() {
        let baseline = Self.report(medians: Self.base, sgemm: 100, seed: 1)
        // Every figure twice as slow, and the calibration too: the same code on a slower machine.
        let current = Self.report(medians: Self.base, sgemm: 50, seed: 2, scale: 2)
        let r = RegressionGate().compare(baseline: baseline, current: current)
        #expect(r.passed, "\(r.text)")
        for f in r.findings { #expect(abs(f.ratio - 1) < 0.03) }
    }

    @Test func noiseWithinThresholdPassesAndMissingFigureFails() {
        let baseline = Self.report(medians: Self.base, sgemm: 100, seed: 1)
        var slightly = Self.base
        slightly["direct"]! *= 1.05
        #expect(RegressionGate().compare(baseline: baseline, current: Self.report(medians: slightly, sgemm: 100, seed: 3)).passed)
        let fewer = Self.report(medians: ["direct": 0.010], sgemm: 100, seed: 4)
        let r = RegressionGate().compare(baseline: baseline, current: fewer)
        #expect(!r.passed && r.missing.count == 1)
    }
}
