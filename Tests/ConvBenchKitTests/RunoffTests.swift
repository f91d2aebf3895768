import ConvAlgorithms
import ConvBenchKit
import ConvCore
import Foundation
import Testing

/// A host whose speed drops for a while: every run of any `Loaded` algorithm during the first
/// `slowCalls` runs takes `factor` times as long.
final class SimulatedLoad: @unchecked Sendable {
    private let lock = NSLock()
    private var calls = 0
    let slowCalls: Int
    let factor: Double
    init(slowCalls: Int, factor: Double) {
        self.slowCalls = slowCalls
        self.factor = factor
    }
    func next() -> Double {
        lock.lock()
        defer { lock.unlock() }
        calls += 1
        return calls <= slowCalls ? factor : 1
    }
}

/// im2col-gemm's result after a busy wait of `seconds` (× the load): an algorithm of known speed.
struct Loaded: ConvolutionAlgorithm {
    let name: String
    let seconds: Double
    let load: SimulatedLoad
    var summary: String { "test-only" }
    var errorModel: ErrorModel { .float32Summation }
    func support(for conv: ConvDescriptor) -> Support { .supported }
    func prepare(_ conv: ConvDescriptor, weights: Tensor, bias: Tensor?, options: AlgorithmOptions) throws -> any PreparedConvolution {
        P(inner: try Im2colGEMM().prepare(conv, weights: weights, bias: bias, options: options), seconds: seconds, load: load)
    }
    final class P: PreparedConvolution {
        let inner: any PreparedConvolution
        let seconds: Double
        let load: SimulatedLoad
        init(inner: any PreparedConvolution, seconds: Double, load: SimulatedLoad) {
            self.inner = inner; self.seconds = seconds; self.load = load
        }
        var descriptor: ConvDescriptor { inner.descriptor }
        var workspaceBytes: Int { inner.workspaceBytes }
        func run(_ input: Tensor, into output: inout Tensor) throws {
            try inner.run(input, into: &output)
            let until = Clock.now() + seconds * load.next()
            while Clock.now() < until {}
        }
    }
}

@Suite struct RunoffTests {
    /// "fast" (2 ms) is timed first, while the host is slow (×2: 4 ms); "slow" (3 ms) after, at
    /// full speed. Their own medians pick "slow"; the paired runoff, at one speed for both, must
    /// pick "fast". The gaps are wide and the runoff margin is opened up, because the busy waits run
    /// on a host shared with the rest of the test suite: what is tested is the decision, not the
    /// 25% threshold (`noRunoffWhenTheMarginIsWide` keeps that).
    @Test func runoffSeesThroughADriftingHost() throws {
        let conv = try ConvDescriptor(inChannels: 2, outChannels: 2, inHeight: 4, inWidth: 4, kernelHeight: 1, kernelWidth: 1)
        // Each algorithm runs twice before its timed repetitions (the judged run, the heap run).
        let policy = TimingPolicy(warmup: 0, minRepetitions: 5, maxRepetitions: 5, budget: 100, stableFraction: 0)
        func bench(runoff: Bool) -> LayerResult {
            let load = SimulatedLoad(slowCalls: 7, factor: 2)
            var b = LayerBenchmark(algorithms: [Loaded(name: "fast", seconds: 0.002, load: load),
                                                Loaded(name: "slow", seconds: 0.003, load: load)],
                                   threads: 1, policy: policy, calibration: BenchKitTests.calibration, checkDeterminism: false)
            b.runoffMargin = 10
            b.runoffRounds = runoff ? 7 : 0
            return b.run(name: "drift", conv: conv)
        }
        let blocks = bench(runoff: false)
        #expect(blocks.selected == "slow" && blocks.runoff == nil)

        let paired = bench(runoff: true)
        let runoff = try #require(paired.runoff)
        #expect(runoff.algorithms == ["slow", "fast"] && runoff.first.count == 7 && runoff.second.count == 7)
        #expect(paired.selected == "fast" && runoff.winner == "fast")
        #expect(runoff.medianRatio > 0.45 && runoff.medianRatio < 0.9, "\(runoff.medianRatio)")
        #expect(abs(paired.marginOverRunnerUp! - (1 / runoff.medianRatio - 1)) < 1e-12)
        // In the reports: JSON round trip, and "paired" beside the margin.
        let decoded = try JSONDecoder().decode(LayerResult.self, from: JSONEncoder().encode(paired))
        #expect(decoded.runoff == runoff)
        let report = RunReport(suite: "test", command: "test", threads: 1, policy: policy,
                               calibration: BenchKitTests.calibration, layers: [paired])
        #expect(report.markdownSummary().contains(" paired |") && report.html().contains(" paired</td>"))
    }

    /// Far apart (runner-up 4× slower, more than the 25% margin): no runoff, the medians decide.
    @Test func noRunoffWhenTheMarginIsWide() throws {
        let conv = try ConvDescriptor(inChannels: 2, outChannels: 2, inHeight: 4, inWidth: 4, kernelHeight: 1, kernelWidth: 1)
        let load = SimulatedLoad(slowCalls: 0, factor: 1)
        let policy = TimingPolicy(warmup: 0, minRepetitions: 3, maxRepetitions: 3, budget: 100, stableFraction: 0)
        let b = LayerBenchmark(algorithms: [Loaded(name: "a", seconds: 0.001, load: load), Loaded(name: "b", seconds: 0.004, load: load)],
                               threads: 1, policy: policy, calibration: BenchKitTests.calibration, checkDeterminism: false)
        let r = b.run(name: "wide", conv: conv)
        #expect(r.selected == "a" && r.runoff == nil && r.marginOverRunnerUp! >= 0.25)
    }
}
