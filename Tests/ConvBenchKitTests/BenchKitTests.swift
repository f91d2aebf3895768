import ConvAlgorithms
import ConvBenchKit
import ConvCore
import ConvModels
import Foundation
import Testing

/// Adds 1 to one output element: fast and wrong, which the runner must never select.
struct OffByOneElement: ConvolutionAlgorithm {
    var name: String { "wrong-by-one" }
    var summary: String { "test-only" }
    var errorModel: ErrorModel { .float32Summation }
    func support(for conv: ConvDescriptor) -> Support { .supported }
    func prepare(_ conv: ConvDescriptor, weights: Tensor, bias: Tensor?, options: AlgorithmOptions) throws -> any PreparedConvolution {
        P(inner: try Im2colGEMM().prepare(conv, weights: weights, bias: bias, options: options))
    }
    final class P: PreparedConvolution {
        let inner: any PreparedConvolution
        init(inner: any PreparedConvolution) { self.inner = inner }
        var descriptor: ConvDescriptor { inner.descriptor }
        var workspaceBytes: Int { inner.workspaceBytes }
        func run(_ input: Tensor, into output: inout Tensor) throws {
            try inner.run(input, into: &output)
            output[output.count / 2] += 1
        }
    }
}

@Suite struct BenchKitTests {
    static let calibration = Calibration(sgemmGFLOPS: 100, sgemmSize: 64, copyBytesPerSecond: 1e10, copyBytes: 1 << 20,
                                         theoreticalPeakGFLOPS: nil, threads: 1)

    @Test func timingStatsQuantiles() {
        let s = TimingStats(samples: [5, 1, 4, 2, 3])
        #expect(s.median == 3 && s.min == 1 && s.repetitions == 5)
        #expect(abs(s.p10 - 1.4) < 1e-12 && abs(s.p90 - 4.6) < 1e-12)
    }

    @Test func policyStopsAtItsLimits() {
        var calls = 0
        let s = TimingPolicy(warmup: 2, minRepetitions: 3, maxRepetitions: 7, budget: 100, stableFraction: 0).measure { calls += 1 }
        #expect(s.repetitions <= 7 && s.repetitions >= 3)
        #expect(calls == s.repetitions + 2)
    }

    @Test func wrongAlgorithmIsInvalidAndNeverSelected() throws {
        let conv = try ConvCase(parsing: "mb1ic8ih12oc8kh3ph1").descriptor
        let bench = LayerBenchmark(algorithms: [OffByOneElement(), Im2colGEMM(), DirectConvolution()], threads: 1,
                                   policy: .quick, calibration: Self.calibration)
        let r = bench.run(name: "t", conv: conv)
        let wrong = try #require(r.algorithms.first { $0.algorithm == "wrong-by-one" })
        #expect(wrong.status == .invalid)
        #expect(wrong.run == nil && wrong.reason != nil)
        #expect(r.selected != "wrong-by-one" && r.selected != nil)
        let ok = try #require(r.algorithms.first { $0.algorithm == "im2col-gemm" })
        #expect(ok.status == .ok && ok.judgement?.against == "reference" && ok.deterministic == true)
        // (Heap growth is read process-wide from tcmalloc; tests running in parallel make it noise here.)
    }

    @Test func aboveTheReferenceLimitASecondAlgorithmJudges() throws {
        let conv = try ConvCase(parsing: "mb1ic16ih20oc8kh3ph1").descriptor
        let x = Tensor.random(shape: conv.inputShape, .normal(mean: 0, std: 1), seed: 1)
        let w = Tensor.random(shape: conv.weightShape, .normal(mean: 0, std: 1), seed: 2)
        let b = Tensor.random(shape: conv.biasShape, .normal(mean: 0, std: 1), seed: 3)
        let checker = OutputChecker(conv: conv, input: x, weights: w, bias: b, threads: 1, referenceMACLimit: 0)
        func output(_ a: any ConvolutionAlgorithm) throws -> Tensor {
            var y = Tensor(shape: conv.outputShape)
            try a.prepare(conv, weights: w, bias: b, options: AlgorithmOptions()).run(x, into: &y)
            return y
        }
        let good = try checker.judge(DirectConvolution(), output: try output(DirectConvolution()))
        #expect(good.valid && good.against == "im2col-gemm")
        let bad = try checker.judge(OffByOneElement(), output: try output(OffByOneElement()))
        #expect(!bad.valid && bad.against == "im2col-gemm" && bad.worstRatio > 1)
        let judgedByDirect = try checker.judge(Im2colGEMM(), output: try output(Im2colGEMM()))
        #expect(judgedByDirect.valid && judgedByDirect.against == "direct")
    }

    @Test func unsupportedIsSkippedWithItsReason() throws {
        let conv = try ConvCase(parsing: "mb1ic4ih8oc4kh3").descriptor
        let r = LayerBenchmark(algorithms: [PointwiseGEMM()], threads: 1, policy: .quick, calibration: Self.calibration)
            .run(name: "t", conv: conv)
        #expect(r.algorithms[0].status == .unsupported && r.algorithms[0].reason == "kernel is not 1x1")
        #expect(r.selected == nil)
    }

    @Test func csvHasStableColumnsAndQuotedCaseLines() throws {
        let conv = try ConvCase(parsing: "mb1ic4ih8oc4kh3ph1").descriptor
        let layer = LayerBenchmark(algorithms: [Im2colGEMM(), PointwiseGEMM()], threads: 1, policy: .quick,
                                   calibration: Self.calibration).run(name: "a, \"quoted\" name", conv: conv)
        let report = RunReport(suite: "test", command: "convbench run", threads: 1, policy: .quick,
                               calibration: Self.calibration, layers: [layer])
        let lines = report.csv().split(separator: "\n")
        #expect(lines[0] == "suite,layer,case,occurrences,algorithm,status,median_ms,p10_ms,p90_ms,repetitions,gflops,fraction_of_sgemm,ratio_to_equivalent_gemm,workspace_bytes,selected")
        #expect(lines.count == 3)
        #expect(lines[1].hasPrefix("\"test\",\"a, \"\"quoted\"\" name\",\"\(conv.caseLine)\",1,\"im2col-gemm\",ok,"))
        #expect(lines[2].contains("\"pointwise-gemm\",unsupported,"))
        // JSON is the source of truth and reads back.
        let data = try report.jsonData()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("r-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try AtomicFile.write(data, to: path)
        let back = try RunReport.load(path: path)
        #expect(back.layers[0].caseLine == conv.caseLine && back.schemaVersion == RunReport.currentSchemaVersion)
    }

    @Test func equivalentGEMMShape() throws {
        let conv = try ConvCase(parsing: "g2mb3ic8ih10oc6kh3ph1").descriptor
        let s = EquivalentGEMM.shape(conv)
        #expect(s.m == 3 && s.n == 100 && s.k == 36 && s.count == 6)
        #expect(2 * s.m * s.n * s.k * s.count == conv.flops)
    }

    /// A model suite's forward pass is profiled node by node; the blocks' measured times add up to
    /// the profiled nodes, their MACs and parameters to the network's, and the HTML draws both.
    @Test func modelSuiteReportsWhereTheForwardPassGoes() throws {
        let suite = try ModelSuite(.deeplabv3Resnet50, ModelOptions(height: 33, width: 33), suiteName: "deeplab")
        let bench = LayerBenchmark(algorithms: [Im2colGEMM(), PointwiseGEMM()], threads: 1, policy: .quick,
                                   calibration: Self.calibration, checkDeterminism: false)
        let layers = suite.suite.layers.map { bench.run(name: $0.name, conv: $0.conv, occurrences: $0.occurrences) }
        let once = TimingPolicy(warmup: 0, minRepetitions: 1, maxRepetitions: 1, budget: 0)
        let run = suite.endToEnd(selected: layers, algorithms: [Im2colGEMM(), PointwiseGEMM()], threads: 1, policy: once,
                                 profiledPasses: 2)
        let nodes = try #require(run.nodeSeconds)
        #expect(nodes.count == suite.graph.nodes.count && nodes.dropFirst().allSatisfy { $0 > 0 })
        let info = suite.info(selected: layers, nodeSeconds: nodes, profiledPasses: run.profiledPasses)
        #expect(info.blocks.map(\.name) == ["backbone.stem", "backbone.layer1", "backbone.layer2", "backbone.layer3",
                                            "backbone.layer4", "classifier.0 (ASPP)", "classifier (head)"])
        let forward = info.blocks.compactMap(\.forwardSeconds).reduce(0, +)
        #expect(abs(forward - nodes.reduce(0, +)) <= 1e-9 * max(1, forward))
        #expect(info.blocks.allSatisfy { ($0.forwardConvSeconds ?? -1) > 0 && $0.forwardConvSeconds! <= $0.forwardSeconds! })
        #expect(info.blocks.map(\.macs).reduce(0, +) == info.convMACs)
        #expect(info.blocks.map(\.parameters).reduce(0, +) == info.parameters)
        #expect(info.profiledPasses == 2)
        let slowest = try #require(info.slowestNodes)
        #expect(slowest.count == 15 && zip(slowest, slowest.dropFirst()).allSatisfy { $0.seconds >= $1.seconds })
        #expect(slowest[0].seconds == nodes.max())
        #expect(slowest.allSatisfy { ($0.algorithm != nil) == $0.kind.contains("conv") })
        let report = RunReport(suite: "deeplab", command: "test", threads: 1, policy: .quick, calibration: Self.calibration,
                               layers: layers, model: info, endToEnd: run.results)
        let html = report.html()
        #expect(html.contains("Where the forward pass goes, by block") && html.contains("Parameters and multiply-accumulates by block"))
        #expect(html.contains("classifier.0 (ASPP) convolutions:") && html.contains("backbone.layer4: \(grouped(info.blocks[4].macs)) MACs"))
        #expect(html.contains("<td>selected</td>") && html.contains("<td>im2col-gemm</td>"))
        #expect(html.contains("Slowest nodes of the forward pass") && html.contains("<td>\(slowest[0].name)</td>"))
    }

    /// Xception ends in a 1000-class softmax, saturated on random weights (one class at 1.0), so
    /// comparing outputs said 0.0 whatever the convolutions computed; the tables are compared on
    /// the logits: im2col-gemm and direct sum in different orders and must differ a little.
    @Test func endToEndComparesXceptionOnItsLogits() throws {
        let suite = try ModelSuite(.xception, ModelOptions(height: 71, width: 71), suiteName: "xception")
        let algorithms: [any ConvolutionAlgorithm] = [Im2colGEMM(), DirectConvolution()]
        let bench = LayerBenchmark(algorithms: algorithms, threads: 1, policy: .quick,
                                   calibration: Self.calibration, checkDeterminism: false)
        let layers = suite.suite.layers.map { bench.run(name: $0.name, conv: $0.conv, occurrences: $0.occurrences) }
        let once = TimingPolicy(warmup: 0, minRepetitions: 1, maxRepetitions: 1, budget: 0)
        let run = suite.endToEnd(selected: layers, algorithms: algorithms, threads: 1, policy: once, profiledPasses: 0)
        let direct = try #require(run.results.first { $0.policy == "direct" })
        let difference = try #require(direct.maxRelativeDifference)
        #expect(difference > 0 && difference < 1e-4, "\(difference)")
        let output = try #require(run.im2colRunner?.run(run.input).first)
        #expect(abs(output.scalars.reduce(0, +) - 1) < 1e-3 && output.scalars.max()! > 0.999)
    }

}

/// The default number of peer rounds fills about 30 s: DeepLab's rounds (1.0 s + 1.3 s + two
/// settles) get 11, Xception's (85 + 85 ms + two settles) 52, tiny networks stop at 60, slow ones
/// keep the minimum of 5, and a round time that cannot be judged gives 5.
@Suite struct PeerRoundsTests {
    @Test func roundsFillTheBudget() {
        #expect(PeerComparison.automaticRounds(roundSeconds: 1.0 + 1.3 + 0.4, budget: 30) == 11)
        #expect(PeerComparison.automaticRounds(roundSeconds: 0.085 + 0.085 + 0.4, budget: 30) == 52)
        #expect(PeerComparison.automaticRounds(roundSeconds: 0.001, budget: 30) == 60)
        #expect(PeerComparison.automaticRounds(roundSeconds: 8, budget: 30) == 5)
        #expect(PeerComparison.automaticRounds(roundSeconds: 0, budget: 30) == 5)
        #expect(PeerComparison.automaticRounds(roundSeconds: .nan, budget: 30) == 5)
    }

    /// The paired ratio takes each round's two passes together. The fixture is a real Xception run
    /// (ms, 50 rounds) whose last 24 rounds fell in one of the host's slow spells: the ratio of the
    /// medians is 1.03, the median round's ratio 0.967. Rounds that do not pair give none.
    @Test func pairedRatioComparesEachRound() throws {
        let convbench = [81.2, 89.6, 80.6, 84.4, 85.7, 108.0, 79.2, 84.7, 84.4, 101.3, 80.5, 79.2, 81.4, 79.3, 80.3, 80.3,
                         83.8, 78.8, 91.0, 81.6, 88.5, 79.1, 96.0, 79.3, 83.5, 80.8, 92.9, 126.6, 102.1, 93.1, 93.6, 94.0,
                         98.3, 104.6, 102.5, 93.8, 99.6, 93.6, 111.3, 96.6, 96.4, 93.2, 99.2, 93.3, 116.1, 95.1, 87.3, 80.0,
                         80.3, 89.2]
        let peer = [84.1, 88.6, 85.7, 83.6, 84.0, 89.5, 83.3, 82.7, 85.8, 86.5, 83.6, 83.5, 83.5, 86.3, 86.4, 85.1, 84.4,
                    83.3, 83.7, 82.9, 83.6, 83.6, 85.4, 85.4, 86.8, 83.4, 101.2, 100.4, 100.1, 101.1, 98.2, 97.8, 98.2,
                    102.1, 129.0, 101.3, 98.4, 98.4, 99.4, 99.0, 101.7, 99.9, 98.6, 97.8, 98.3, 98.6, 85.4, 90.9, 87.1, 84.2]
        let ofMedians = TimingStats(samples: convbench).median / TimingStats(samples: peer).median
        let paired = try #require(PeerComparison.pairedRatio(convbench: convbench, peer: peer))
        #expect(abs(ofMedians - 1.0317) < 1e-3)
        #expect(abs(paired - 0.9672) < 1e-3)
        #expect(PeerComparison.pairedRatio(convbench: [1, 2, 3], peer: [2, 2, 2]) == 1)
        #expect(PeerComparison.pairedRatio(convbench: [1, 2], peer: [1]) == nil)
        #expect(PeerComparison.pairedRatio(convbench: [], peer: []) == nil)
        #expect(PeerComparison.pairedRatio(convbench: [1], peer: [0]) == nil)
    }

    /// Untimed rounds before them fill about 2 s: three of Xception's, one of DeepLab's, at most
    /// ten, and one when the round time cannot be judged.
    @Test func warmupFillsItsSeconds() {
        #expect(PeerComparison.warmupRounds(roundSeconds: 0.09 + 0.085 + 0.4, seconds: 2) == 3)
        #expect(PeerComparison.warmupRounds(roundSeconds: 1.2 + 1.4 + 0.4, seconds: 2) == 1)
        #expect(PeerComparison.warmupRounds(roundSeconds: 0.001, seconds: 2) == 10)
        #expect(PeerComparison.warmupRounds(roundSeconds: 0, seconds: 2) == 1)
        #expect(PeerComparison.warmupRounds(roundSeconds: .infinity, seconds: 2) == 1)
    }
}
