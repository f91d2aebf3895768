import ArgumentParser
import ConvAlgorithms
import ConvBenchKit
import ConvCore
import ConvModels
import Foundation

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Time every layer of a suite under every supporting algorithm, pick the fastest, write reports.",
        discussion: "Writes report.json (the source of truth), layers.csv and report.html into --out, atomically, and a Markdown summary to stdout."
    )

    @Option(help: "Suite: \(SuiteName.allCases.map(\.rawValue).joined(separator: ", ")).") var suite: SuiteName?
    @Option(help: "A file of case lines (benchdnn batch files as they are) instead of a suite.") var shapes: String?
    @Flag(help: "Read --shapes lines as deconvolutions.") var deconv = false
    @Option(help: "Worker threads (default: every core).") var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(name: .customLong("algorithm"), help: "Restrict to these algorithms (repeatable).") var algorithms: [String] = []
    @Flag(help: "Fewer repetitions (for CI).") var quick = false
    @Option(help: "Time budget per layer and algorithm, in seconds.") var timeLimit: Double?
    @Option(help: "Output folder (default Reports/runs/<date>-<suite>).") var out: String?

    @Option(help: "Input size HxW for model suites (default: the model's own, e.g. 512x512 for deeplab).") var input: String?
    @Option(help: "Images per batch for model suites.") var batch = 1
    @Flag(name: .customLong("cold-cache"), help: "Flush the caches (256 MiB written and read) before every timed repetition.")
    var coldCache = false
    @Option(name: .customLong("cpu-profile"), help: "Write a gperftools CPU profile of the timed repetitions to FILE (read it with pprof).")
    var cpuProfile: String?
    @Option(help: "Gate this run against a baseline report.json right after it (exit 1 on regression; see convbench gate).")
    var baseline: String?
    @Option(name: .customLong("max-regression"), help: "Threshold for --baseline, e.g. 10% (default 10%).")
    var maxRegression: String = "10%"
    @Option(name: .customLong("fftw-plan"), help: "FFTW planning rigor for the FFT algorithms: estimate (default) or measure.")
    var fftwPlan: FFTPlanner.Rigor = .estimate
    @Option(name: .customLong("fftw-wisdom"), help: "FFTW wisdom file: loaded first when it exists, saved (atomically) after the run.")
    var fftwWisdom: String?
    @Flag(help: "Model suites: also run the network in ONNX Runtime (same as --peer onnxruntime).") var peers = false
    @Option(name: .customLong("peer"), help: "Model suites: a peer runtime to check and time against (onnxruntime, torch; repeatable).")
    var peerRuntimes: [String] = []
    @Option(name: .customLong("peer-rounds"), help: "Interleaved rounds of convbench and peer forward passes (default: enough for about 30 s, 5 to 60; 3 with --quick).")
    var peerRounds: Int?
    @Option(name: .customLong("peer-script"), help: "The peer script.") var peerScript = "Benchmarks/peers/peers.py"
    @Option(name: .customLong("peer-settle"), help: "Seconds between the end of one timed pass and the start of the next in the peer rounds (default 0.2).")
    var peerSettle: Double = 0.2

    static let knownPeers = ["onnxruntime", "torch"]
    var chosenPeers: [String] {
        var all = peerRuntimes
        if peers && !all.contains("onnxruntime") { all.insert("onnxruntime", at: 0) }
        return all
    }

    enum SuiteName: String, ExpressibleByArgument, CaseIterable {
        case deeplab, xception
        case deeplabPaper = "deeplab-paper"
        case deeplabv3plus, layers

        var model: ModelName? {
            switch self {
            case .deeplab: return .deeplabv3Resnet50
            case .xception: return .xception
            case .deeplabPaper: return .deeplabv3Paper
            case .deeplabv3plus: return .deeplabv3PlusXception65
            case .layers: return nil
            }
        }
    }

    func inputSize() throws -> (Int, Int)? { try input.map(Self.parseInputSize) }

    /// "512x512" → (512, 512); anything else is a one-line error naming --input.
    static func parseInputSize(_ input: String) throws -> (Int, Int) {
        let parts = input.lowercased().split(separator: "x")
        guard parts.count == 2, let h = Int(parts[0]), let w = Int(parts[1]), h > 0, w > 0 else {
            throw ValidationError("--input must be HxW with positive sizes, e.g. 512x512; got '\(input)'")
        }
        return (h, w)
    }

    func validate() throws {
        _ = try GateCommand.parseThreshold(maxRegression)
        if threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if let t = timeLimit, !(t > 0) { throw ValidationError("--time-limit must be positive, got \(t)") }
        if (suite == nil) == (shapes == nil) { throw ValidationError("give exactly one of --suite and --shapes") }
        if batch < 1 { throw ValidationError("--batch must be at least 1, got \(batch)") }
        if try inputSize() != nil && suite?.model == nil {
            throw ValidationError("--input applies to model suites (deeplab, xception, deeplab-paper, deeplabv3plus)")
        }
        for name in peerRuntimes where !Self.knownPeers.contains(name) {
            throw ValidationError("unknown peer '\(name)' (known: \(Self.knownPeers.joined(separator: ", ")))")
        }
        if !chosenPeers.isEmpty && suite?.model == nil {
            throw ValidationError("--peers and --peer apply to model suites (deeplab, xception, deeplab-paper, deeplabv3plus)")
        }
        if let r = peerRounds, r < 1 { throw ValidationError("--peer-rounds must be at least 1, got \(r)") }
        if !(peerSettle >= 0 && peerSettle <= 60) { throw ValidationError("--peer-settle must be between 0 and 60 seconds, got \(peerSettle)") }
        for name in algorithms where !AlgorithmRegistry.named.names.contains(name) {
            throw ValidationError("unknown algorithm '\(name)' (known: \(AlgorithmRegistry.named.names.joined(separator: ", ")))")
        }
    }

    func run() throws {
        // A missing or unreadable baseline fails before hours of timing, not after.
        let baselineReport = try baseline.map { try RunReport.load(path: $0) }
        let threshold = try GateCommand.parseThreshold(maxRegression)
        if let cpuProfile, !CPUProfile.start(path: cpuProfile) {
            throw ValidationError("--cpu-profile: cannot write a profile to '\(cpuProfile)'")
        }
        defer { if cpuProfile != nil { CPUProfile.stop() } }
        FFTPlanner.shared.rigor = fftwPlan
        if let fftwWisdom, FileManager.default.fileExists(atPath: fftwWisdom) {
            try FFTPlanner.shared.importWisdom(from: fftwWisdom)
        }
        let chosen: Suite
        var modelSuite: ModelSuite?
        if let shapes {
            chosen = try Suite.shapes(file: shapes, mode: deconv ? .deconvolution : .convolution)
        } else if let model = suite!.model {
            var options = ModelOptions.defaults(for: model)
            if let (h, w) = try inputSize() { options.height = h; options.width = w }
            options.batch = batch
            let m = try ModelSuite(model, options, suiteName: suite!.rawValue)
            modelSuite = m
            chosen = m.suite
        } else {
            chosen = try Suite.layers()
        }
        var policy: TimingPolicy = quick ? .quick : .standard
        if let timeLimit { policy.budget = timeLimit }
        let registry = AlgorithmRegistry.standard
        let selected = algorithms.isEmpty ? registry.algorithms : try algorithms.map { try AlgorithmRegistry.named.algorithm(named: $0) }
        let folder = out ?? Self.defaultFolder(suite: chosen.name)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)

        let progress = Progress(total: chosen.layers.count)
        progress.note("calibrating")
        let calibration = Calibration.measure(threads: threads, policy: policy)
        // --quick skips the bitwise determinism re-runs (two more runs per layer and algorithm).
        let bench = LayerBenchmark(algorithms: selected, threads: threads, policy: policy, calibration: calibration,
                                   checkDeterminism: !quick, coldCache: coldCache, profileTimedRegion: cpuProfile != nil)
        var results: [LayerResult] = []
        for (i, layer) in chosen.layers.enumerated() {
            progress.update(done: i, note: layer.name)
            results.append(bench.run(name: layer.name, conv: layer.conv, occurrences: layer.occurrences))
        }
        var endToEnd: [EndToEndResult]?
        var modelInfo: ModelInfo?
        var peerResults: [PeerResult]?
        if let modelSuite {
            progress.update(done: chosen.layers.count, note: "end-to-end forward passes")
            // A forward pass takes seconds: fewer repetitions than a layer.
            let passes = quick ? TimingPolicy(warmup: 1, minRepetitions: 2, maxRepetitions: 3, budget: 1)
                               : TimingPolicy(warmup: 1, minRepetitions: 3, maxRepetitions: 10, budget: 10)
            let run = modelSuite.endToEnd(selected: results, algorithms: selected, threads: threads, policy: passes,
                                          singles: !quick)
            endToEnd = run.results
            modelInfo = modelSuite.info(selected: results, nodeSeconds: run.nodeSeconds, profiledPasses: run.profiledPasses)
            if !chosenPeers.isEmpty {
                progress.note("peers: exporting the network, starting \(chosenPeers.joined(separator: ", "))")
                peerResults = try comparePeers(modelSuite, run, folder: folder)
            }
        }
        progress.finish()
        let report = RunReport(suite: chosen.name, command: CommandLine.arguments.joined(separator: " "),
                               threads: threads, policy: policy, coldCache: coldCache, calibration: calibration, layers: results,
                               model: modelInfo, endToEnd: endToEnd, peers: peerResults)
        if let fftwWisdom { try FFTPlanner.shared.exportWisdom(to: fftwWisdom) }
        try AtomicFile.write(report.jsonData(), to: folder + "/report.json")
        try AtomicFile.write(Data(report.csv().utf8), to: folder + "/layers.csv")
        try AtomicFile.write(Data(report.html().utf8), to: folder + "/report.html")
        if modelSuite != nil { try AtomicFile.write(Data(report.forwardCSV().utf8), to: folder + "/forward.csv") }
        print(report.markdownSummary())
        print("Reports: \(folder)/report.json, \(folder)/layers.csv, \(modelSuite != nil ? "\(folder)/forward.csv, " : "")\(folder)/report.html")
        for p in peerResults ?? [] where p.status != "ok" || !p.agrees {
            let failed = p.agreement.first { !$0.ok }.map { " at \($0.node)" } ?? ""
            FileHandle.standardError.write(Data("convbench: peer \(p.runtime) \(p.status != "ok" ? p.status : "disagrees with convbench\(failed)")\n".utf8))
        }
        if let peerResults, peerResults.contains(where: { $0.status != "ok" || !$0.agrees }) { throw ExitCode(1) }
        if let baselineReport {
            let result = RegressionGate(threshold: threshold).compare(baseline: baselineReport, current: report)
            print(result.text, terminator: "")
            if !result.passed { throw ExitCode(1) }
        }
    }

    /// Exports the network as it ran (selected table; spread against im2col-gemm) to a temporary
    /// folder, starts each peer on it, and interleaves its forward passes with convbench's.
    func comparePeers(_ suite: ModelSuite, _ run: EndToEndRun, folder: String) throws -> [PeerResult] {
        guard let selected = run.selectedRunner else {
            throw SuiteError("--peers: the selected table did not run, so there is nothing to compare")
        }
        let export = FileManager.default.temporaryDirectory.appendingPathComponent("convbench-export-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: export) }
        // The spread between two tables sets the tolerance where transforms (Winograd, FFT) err more
        // than plain sums, so there is always a second one, even when im2col-gemm was not timed.
        let second = try run.im2colRunner ?? ModelRunner(graph: suite.graph, policy: .algorithm(AlgorithmPolicy.fallback),
                                                         options: AlgorithmOptions(threads: threads), weights: run.weights)
        _ = try ModelExport.write(graph: suite.graph, weights: run.weights, first: ("selected", selected),
                                  second: second, modelSeed: suite.options.seed, threads: threads, to: export)
        // The export is written to disk now rather than by the kernel's writeback 5–30 s later, in
        // the middle of the timed rounds (Xception's: 189 MB).
        sync()
        var sessions: [PeerSession] = []
        for runtime in chosenPeers {
            sessions.append(try PeerSession(script: peerScript, export: export, runtime: runtime, threads: threads,
                                            logPath: "\(folder)/peer-\(runtime).log"))
        }
        defer { sessions.forEach { $0.close() } }
        return PeerComparison.interleave(runner: selected, input: run.input, sessions: sessions,
                                         rounds: peerRounds ?? (quick ? 3 : nil), settle: peerSettle)
    }

    static func defaultFolder(suite: String) -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd-HHmmss"
        f.locale = Locale(identifier: "en_US_POSIX")
        return "Reports/runs/\(f.string(from: Date()))-\(suite)"
    }
}

/// A progress bar with ETA on a terminal; silent otherwise (so logs stay machine-readable).
final class Progress {
    let total: Int
    let start = Date()
    let enabled = isatty(STDERR_FILENO) != 0

    init(total: Int) { self.total = total }

    func note(_ text: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
    }

    func update(done: Int, note text: String) {
        guard enabled else { return }
        let width = 30
        let filled = total == 0 ? width : width * done / total
        let elapsed = Date().timeIntervalSince(start)
        let eta = done == 0 ? "?" : String(format: "%.0fs", elapsed / Double(done) * Double(total - done))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        note("[\(bar)] \(done)/\(total) ETA \(eta)  \(text.prefix(50))")
    }

    func finish() { note("") ; if enabled { FileHandle.standardError.write(Data("\r".utf8)) } }
}

extension FFTPlanner.Rigor: ExpressibleByArgument {}
