import ArgumentParser
import ConvAlgorithms
import ConvCore
import ConvVerify
import Foundation

extension DataKind: ExpressibleByArgument {}

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Differential property tests: every algorithm against the float64 reference on generated cases.",
        discussion: "Exit status 0 when every check passed, 1 when anything failed, 2 for bad arguments. The same seed draws the same cases."
    )

    @Option(help: "Number of generated cases.") var cases = 1000
    @Option(help: "Random seed (with --case: the data seed).") var seed: UInt64 = 1
    @Option(name: .customLong("algorithm"), help: "Check only these algorithms (repeatable).") var algorithms: [String] = []
    @Option(name: .customLong("case"), help: "Check this one case (benchdnn syntax) instead of generated ones.") var caseLine: String?
    @Option(help: "Data kind: \(DataKind.allCases.map(\.rawValue).joined(separator: ", ")) (default: drawn per case).") var data: DataKind?
    @Option(help: "Stop drawing cases after this many seconds.") var timeLimit: Double?
    @Option(help: "Thread count to run each algorithm with (default: 1 and 2).") var threads: Int?
    @Option(help: "Write each shrunk failure's tensors as .npy into this folder.") var saveFailures: String?
    @Option(help: "Output format: text or json.") var format: OutputFormat = .text

    func validate() throws {
        if cases < 1 { throw ValidationError("--cases must be at least 1, got \(cases)") }
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1, got \(t)") }
        if let t = timeLimit, !(t > 0) { throw ValidationError("--time-limit must be positive, got \(t)") }
        for name in algorithms where !AlgorithmRegistry.named.names.contains(name) {
            throw ValidationError("unknown algorithm '\(name)' (known: \(AlgorithmRegistry.named.names.joined(separator: ", ")))")
        }
    }

    func run() throws {
        let registry = AlgorithmRegistry.standard
        let chosen = algorithms.isEmpty ? registry.algorithms : try algorithms.map { try AlgorithmRegistry.named.algorithm(named: $0) }
        var options = VerifyEngine.Options()
        options.cases = cases
        options.seed = seed
        options.timeLimit = timeLimit
        options.data = data
        if let threads { options.threadCounts = [threads] }
        if let caseLine { options.fixedCase = try ConvCase(parsing: caseLine).descriptor }
        let engine = VerifyEngine(algorithms: chosen, options: options)
        let tty = isatty(STDERR_FILENO) != 0 && format == .text
        let started = Date()
        let report = engine.run { done, total in
            guard tty, done % 10 == 0 || done == total else { return }
            let width = 30, filled = width * done / max(total, 1)
            let elapsed = Date().timeIntervalSince(started)
            let eta = String(format: "%.0fs", elapsed / Double(done) * Double(total - done))
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            FileHandle.standardError.write(Data("\r[\(bar)] \(done)/\(total) ETA \(eta) ".utf8))
        }
        if tty { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        if let saveFailures {
            for a in report.algorithms {
                for (i, f) in a.failures.enumerated() {
                    try f.save(to: "\(saveFailures)/\(f.algorithm)-\(i + 1)",
                               algorithmImplementation: AlgorithmOutput(try registry.algorithm(named: f.algorithm)))
                }
            }
        }
        switch format {
        case .text: print(report.text, terminator: "")
        case .json: print(String(decoding: try report.jsonData(), as: UTF8.self))
        }
        if report.failed { throw ExitCode(1) }
    }
}
