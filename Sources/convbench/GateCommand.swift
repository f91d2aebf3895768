import ArgumentParser
import ConvAlgorithms
import ConvBenchKit
import ConvCore
import Foundation

struct GateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate",
        abstract: "Fail (exit 1) when a run regressed against a baseline, after normalizing both by their calibration.",
        discussion: """
            A layer x algorithm regresses when the whole 95% bootstrap confidence interval of its \
            calibration-normalized median time ratio lies beyond 1 + --max-regression. A figure in the \
            baseline that the current run lacks, or that became invalid, also fails the gate.
            """
    )

    @Option(help: "Baseline report.json.") var baseline: String
    @Option(help: "Current report.json.") var current: String
    @Option(help: "Largest tolerated slowdown, e.g. 10% or 0.1.") var maxRegression: String = "10%"
    @Flag(help: "Re-measure suspected regressions with this build before failing.") var confirm = false
    @Option(help: "Threads for --confirm re-measurements (default: the current report's).") var threads: Int?

    func threshold() throws -> Double { try Self.parseThreshold(maxRegression) }

    /// "10%" or "0.1" → 0.1.
    static func parseThreshold(_ text: String) throws -> Double {
        let t = text.trimmingCharacters(in: .whitespaces)
        let value = t.hasSuffix("%") ? Double(t.dropLast()).map { $0 / 100 } : Double(t)
        guard let v = value, v >= 0, v < 10 else {
            throw ValidationError("--max-regression must be a fraction or a percentage like 10%, got '\(text)'")
        }
        return v
    }

    func validate() throws {
        _ = try threshold()
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1, got \(t)") }
    }

    func run() throws {
        let old = try RunReport.load(path: baseline)
        var new = try RunReport.load(path: current)
        let gate = RegressionGate(threshold: try threshold())
        var result = gate.compare(baseline: old, current: new)
        if confirm && !result.regressions.isEmpty {
            // Re-time only what regressed, with a fresh calibration, and decide again.
            let t = threads ?? new.threads
            let policy = new.policy
            let calibration = Calibration.measure(threads: t, policy: policy)
            let scale = calibration.sgemmGFLOPS / new.calibration.sgemmGFLOPS
            for f in result.regressions {
                guard let li = new.layers.firstIndex(where: { $0.caseLine == f.caseLine }),
                      let ai = new.layers[li].algorithms.firstIndex(where: { $0.algorithm == f.algorithm }) else { continue }
                let conv = try ConvCase(parsing: f.caseLine).descriptor
                let algorithm = try AlgorithmRegistry.named.algorithm(named: f.algorithm)
                let again = LayerBenchmark(algorithms: [algorithm], threads: t, policy: policy, calibration: calibration,
                                           checkDeterminism: false).run(name: f.layer, conv: conv)
                if var timing = again.algorithms.first, let run = timing.run {
                    // Express the new samples on the current report's calibration scale.
                    timing.run = TimingStats(samples: run.samples.map { $0 * scale })
                    new.layers[li].algorithms[ai] = timing
                }
            }
            result = gate.compare(baseline: old, current: new)
            print("(suspected regressions re-measured)")
        }
        print(result.text, terminator: "")
        if !result.passed { throw ExitCode(1) }
    }
}
