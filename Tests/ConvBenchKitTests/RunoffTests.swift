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
    /// The decision, on samples shaped like a drifting host: "fast" timed in its own block while the
    /// host was slow (4 ms), "slow" after it at full speed (3 ms), so the blocks say "slow"; in the
    /// alternating pairs both see the same speed, whatever it is at each pair, and "fast" wins.
    @Test func pairsDecideAgainstTheBlocks() {
        let blocks = (fast: TimingStats(samples: [4.0, 4.1, 3.9, 4.2, 4.0]), slow: TimingStats(samples: [3.0, 3.1, 2.9, 3.0, 3.2]))
        #expect(blocks.slow.median < blocks.fast.median)
        let speed = [1.0, 1.6, 1.1, 2.0, 1.3, 1.0, 1.8]  // the host's speed at each pair
        let runoff = Runoff(algorithms: ["slow", "fast"], first: speed.map { 3.0 * $0 }, second: speed.map { 2.0 * $0 })
        #expect(runoff.winner == "fast" && abs(runoff.medianRatio - 2.0 / 3.0) < 1e-12 && abs(runoff.margin - 0.5) < 1e-12)
        // One pair hit by a hiccup does not move the median.
        var hiccup = runoff.second
        hiccup[3] *= 10
        #expect(Runoff(algorithms: ["slow", "fast"], first: runoff.first, second: hiccup).winner == "fast")
        #expect(Runoff(algorithms: ["a", "b"], first: [1, 1, 1], second: [1.2, 1.1, 1.3]).winner == "a")
    }

    /// In a layer's benchmark: the two fastest run in alternation, as many pairs as asked, and the
    /// runoff's winner is the selection with the paired margin; in report.json and the tables.
    /// (Only the structure is asserted: the busy waits share the host with the rest of the suite.)
    @Test func layerBenchmarkRunsTheRunoffAndSelectsItsWinner() throws {
        let conv = try ConvDescriptor(inChannels: 2, outChannels: 2, inHeight: 4, inWidth: 4, kernelHeight: 1, kernelWidth: 1)
        let policy = TimingPolicy(warmup: 0, minRepetitions: 3, maxRepetitions: 3, budget: 100, stableFraction: 0)
        let load = SimulatedLoad(slowCalls: 5, factor: 2)
        var b = LayerBenchmark(algorithms: [Loaded(name: "fast", seconds: 0.002, load: load),
                                            Loaded(name: "slow", seconds: 0.003, load: load)],
                               threads: 1, policy: policy, calibration: BenchKitTests.calibration, checkDeterminism: false)
        #expect(b.runoffRounds == 3 && b.runoffMargin == 0.25)
        b.runoffMargin = .infinity
        b.runoffRounds = 6
        let paired = b.run(name: "drift", conv: conv)
        let runoff = try #require(paired.runoff)
        #expect(Set(runoff.algorithms) == ["fast", "slow"] && runoff.first.count == 6 && runoff.second.count == 6)
        #expect(runoff.first.allSatisfy { $0 >= 0.002 } && runoff.second.allSatisfy { $0 >= 0.002 })
        #expect(paired.selected == runoff.winner && paired.marginOverRunnerUp == runoff.margin)
        let decoded = try JSONDecoder().decode(LayerResult.self, from: JSONEncoder().encode(paired))
        #expect(decoded.runoff == runoff)
        let report = RunReport(suite: "test", command: "test", threads: 1, policy: policy,
                               calibration: BenchKitTests.calibration, layers: [paired])
        #expect(report.markdownSummary().contains(" paired |") && report.html().contains(" paired</td>"))

        b.runoffRounds = 0
        #expect(b.run(name: "drift", conv: conv).runoff == nil)
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
