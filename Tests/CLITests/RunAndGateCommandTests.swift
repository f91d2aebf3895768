import ConvAlgorithms
import Foundation
import Testing

@Suite struct RunAndGateCommandTests {
    /// A real quick run on a small shapes file, then the gate against itself and against a copy
    /// with one algorithm slowed by 30%.
    @Test func runWritesReportsAndGateDecides() throws {
        let dir = CLI.temporaryDirectory()
        let shapes = dir.appendingPathComponent("shapes.txt")
        try "# two small layers\nmb1ic8ih12oc8kh3ph1n\"a\"\n\nmb1ic8ih12oc16kh1n\"b 1x1\"\nmb1ic8ih12oc16kh1n\"b again\"\n"
            .write(to: shapes, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("run").path
        // The standard policy (at least 5 samples, up to 50, until the median is stable), not --quick:
        // with --quick's 3–10 samples of these microsecond layers the bootstrap interval of a 30%
        // slowdown sometimes reached below 1.1, and the gate rightly would not call it (1 run in 4).
        let r = try CLI.run(["run", "--shapes", shapes.path, "--time-limit", "0.2", "--threads", "1", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("## ConvBench shapes.txt: 2 layers"))
        for f in ["report.json", "layers.csv", "report.html"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + f), "\(f) missing")
        }
        let csv = try String(contentsOfFile: out + "/layers.csv", encoding: .utf8)
        // Every non-reference algorithm has a row per layer (supported or not).
        #expect(csv.split(separator: "\n").count == 1 + 2 * (AlgorithmRegistry.standard.names.count - 1))
        let html = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        #expect(html.hasPrefix("<!doctype html>") && html.contains("<svg") && !html.contains("http"))

        let same = try CLI.run(["gate", "--baseline", out + "/report.json", "--current", out + "/report.json"])
        #expect(same.status == 0 && same.stdout.contains("gate passed"))

        // Slow every sample of `direct` by 30% in a copy.
        let slowed = dir.appendingPathComponent("slowed.json").path
        try Self.scaleSamples(of: out + "/report.json", by: 1.3, only: "direct", into: slowed)
        let gate = try CLI.run(["gate", "--baseline", out + "/report.json", "--current", slowed, "--max-regression", "10%"])
        #expect(gate.status == 1)
        #expect(gate.stdout.contains("REGRESSED") && gate.stdout.contains("/ direct"))

        let bad = try CLI.run(["gate", "--baseline", shapes.path, "--current", slowed])
        #expect(bad.status == 2 && bad.stderr.contains("is not a ConvBench report"))
        let badFlag = try CLI.run(["gate", "--baseline", slowed, "--current", slowed, "--max-regression", "lots"])
        #expect(badFlag.status == 2)
        let render = try CLI.run(["render", slowed, "--out", dir.appendingPathComponent("r").path])
        #expect(render.status == 0)

        // --baseline gates right after the run. Timing noise on these tiny layers is large, so the
        // pass case uses a wide threshold and the fail case a baseline made 1,000× faster.
        let again = try CLI.run(["run", "--shapes", shapes.path, "--quick", "--threads", "1",
                                 "--out", dir.appendingPathComponent("again").path,
                                 "--baseline", out + "/report.json", "--max-regression", "900%"])
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("gate passed"))
        let fast = dir.appendingPathComponent("fast.json").path
        try Self.scaleSamples(of: out + "/report.json", by: 0.001, into: fast)
        // Cold cache and a CPU profile of the timed region, on the same run.
        let profile = dir.appendingPathComponent("run.prof").path
        let cold = try CLI.run(["run", "--shapes", shapes.path, "--quick", "--threads", "1", "--cold-cache",
                                "--cpu-profile", profile, "--out", dir.appendingPathComponent("cold").path, "--baseline", fast])
        #expect(cold.status == 1 && cold.stdout.contains("REGRESSED"), "\(cold.stdout)\(cold.stderr)")
        let method = try String(contentsOfFile: dir.appendingPathComponent("cold/report.json").path, encoding: .utf8)
        #expect(method.contains("Cold cache"))
        let size = (try FileManager.default.attributesOfItem(atPath: profile)[.size] as? Int) ?? 0
        #expect(size > 0)
        let missingBaseline = try CLI.run(["run", "--shapes", shapes.path, "--quick", "--baseline", "/nonexistent.json"])
        #expect(missingBaseline.status == 2)
    }

    /// Writes a copy of a report with the timing samples of `only` (or of every algorithm) scaled.
    static func scaleSamples(of report: String, by factor: Double, only: String? = nil, into copy: String) throws {
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as! [String: Any]
        var layers = json["layers"] as! [[String: Any]]
        for i in layers.indices {
            var algorithms = layers[i]["algorithms"] as! [[String: Any]]
            for j in algorithms.indices where only == nil || algorithms[j]["algorithm"] as? String == only {
                guard var run = algorithms[j]["run"] as? [String: Any] else { continue }
                run["samples"] = (run["samples"] as! [Double]).map { $0 * factor }
                algorithms[j]["run"] = run
            }
            layers[i]["algorithms"] = algorithms
        }
        json["layers"] = layers
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: copy))
    }

    @Test func runRejectsBadInput() throws {
        for (args, needle) in [(["run"], "exactly one of --suite and --shapes"),
                               (["run", "--shapes", "/nonexistent.txt"], "cannot read shapes file"),
                               (["run", "--suite", "layers", "--algorithm", "nope"], "unknown algorithm"),
                               (["run", "--suite", "nosuch"], "nosuch"),
                               (["run", "--suite", "layers", "--threads", "0"], "--threads")] {
            let r = try CLI.run(args)
            #expect(r.status == 2, "\(args)")
            #expect(r.stderr.contains(needle), "\(args): \(r.stderr)")
        }
    }
}
