import Foundation

extension RunReport {
    static let csvColumns = [
        "suite", "layer", "case", "occurrences", "algorithm", "status", "median_ms", "p10_ms", "p90_ms",
        "repetitions", "gflops", "fraction_of_sgemm", "ratio_to_equivalent_gemm", "workspace_bytes", "selected",
    ]

    /// One row per layer × algorithm, stable columns; fields are quoted when they hold a comma,
    /// a quote or a newline (the case line is always one quoted column).
    public func csv() -> String {
        func q(_ s: String) -> String { RunReport.csvQuoted(s) }
        func f(_ v: Double?, _ scale: Double = 1) -> String { RunReport.csvNumber(v, scale) }
        var out = RunReport.csvColumns.joined(separator: ",") + "\n"
        for layer in layers {
            for a in layer.algorithms {
                let fields = [
                    q(suite), q(layer.name), q(layer.caseLine), String(layer.occurrences), q(a.algorithm), a.status.rawValue,
                    f(a.run?.median, 1e3), f(a.run?.p10, 1e3), f(a.run?.p90, 1e3), a.run.map { String($0.repetitions) } ?? "",
                    f(a.gflops), f(a.fractionOfSGEMM), f(a.ratioToEquivalentGEMM), a.workspaceBytes.map(String.init) ?? "",
                    layer.selected == a.algorithm ? "yes" : "no",
                ]
                out += fields.joined(separator: ",") + "\n"
            }
        }
        return out
    }

    /// A CSV text field: always quoted, inner quotes doubled.
    static func csvQuoted(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
    /// A CSV number (6 significant digits), empty when absent.
    static func csvNumber(_ v: Double?, _ scale: Double = 1) -> String { v.map { String(format: "%.6g", $0 * scale) } ?? "" }

    static let forwardCSVColumns = [
        "suite", "model", "input", "pass", "kind", "status", "median_ms", "p10_ms", "p90_ms", "repetitions",
        "images_per_second", "time_ratio_to_convbench_selected", "agrees", "worst_relative_difference",
        "convbench_paired_ratio",
    ]

    /// Model suites: one row per forward pass — convbench's (selected table, single algorithms) and
    /// each peer runtime's. A peer's time ratio uses convbench's passes from the same interleaved rounds.
    public func forwardCSV() -> String {
        func q(_ s: String) -> String { RunReport.csvQuoted(s) }
        func f(_ v: Double?, _ scale: Double = 1) -> String { RunReport.csvNumber(v, scale) }
        let name = model?.name ?? "", input = model?.input.map(String.init).joined(separator: "x") ?? ""
        var out = RunReport.forwardCSVColumns.joined(separator: ",") + "\n"
        let selected = endToEnd?.first { $0.policy == "selected" }?.run?.median
        for e in endToEnd ?? [] {
            let ratio = e.run.flatMap { r in selected.map { r.median / $0 } }
            out += [q(suite), q(name), input, q(e.policy), "convbench", q(e.status), f(e.run?.median, 1e3), f(e.run?.p10, 1e3),
                    f(e.run?.p90, 1e3), e.run.map { String($0.repetitions) } ?? "", f(e.imagesPerSecond), f(ratio), "", "", ""]
                .joined(separator: ",") + "\n"
        }
        for p in peers ?? [] {
            let ratio = p.convbenchTimeRatio.map { 1 / $0 }
            out += [q(suite), q(name), input, q(p.runtime), "peer", q(p.status), f(p.run?.median, 1e3), f(p.run?.p10, 1e3),
                    f(p.run?.p90, 1e3), p.run.map { String($0.repetitions) } ?? "",
                    f(p.run.map { Double(model?.input.first ?? 1) / $0.median }), f(ratio), p.agrees ? "yes" : "no",
                    f(p.worstRelativeDifference), f(p.pairedTimeRatio)].joined(separator: ",") + "\n"
        }
        return out
    }

    /// A short summary that fits a CI log.
    public func markdownSummary() -> String {
        var s = "## ConvBench \(suite): \(layers.count) layers, \(threads) threads\n\n"
        s += String(format: "Calibration: SGEMM %.1f GFLOP/s at %d³, copy %.1f GB/s",
                    calibration.sgemmGFLOPS, calibration.sgemmSize, calibration.copyBytesPerSecond / 1e9)
        if let peak = calibration.theoreticalPeakGFLOPS { s += String(format: ", nominal peak %.0f GFLOP/s", peak) }
        s += "\n\n| layer | selected | ms | GFLOP/s | × equiv. SGEMM | margin |\n| --- | --- | ---: | ---: | ---: | ---: |\n"
        for l in layers {
            let best = l.algorithms.first { $0.algorithm == l.selected }
            s += "| \(l.name) | \(l.selected ?? "none") | "
            s += best.flatMap { $0.run }.map { String(format: "%.3f", $0.median * 1e3) } ?? "–"
            s += " | " + (best?.gflops.map { String(format: "%.1f", $0) } ?? "–")
            s += " | " + (best?.ratioToEquivalentGEMM.map { String(format: "%.2f", $0) } ?? "–")
            s += " | " + (l.marginOverRunnerUp.map { String(format: "%.0f%%", $0 * 100) } ?? "–")
            s += (l.runoff == nil ? "" : " paired") + " |\n"
        }
        if let model {
            s += "\n\(model.name) at \(model.input): \(model.convolutions) convolutions (\(model.uniqueShapes) unique shapes), "
            s += "\(model.convMACs) conv MACs, \(model.parameters) deployed parameters\n"
        }
        if let endToEnd, !endToEnd.isEmpty {
            s += "\n| forward pass | ms/image | images/s | max rel. diff vs im2col-gemm | status |\n| --- | ---: | ---: | ---: | --- |\n"
            for e in endToEnd {
                s += "| \(e.policy) | " + (e.millisecondsPerImage.map { String(format: "%.1f", $0) } ?? "–")
                s += " | " + (e.imagesPerSecond.map { String(format: "%.2f", $0) } ?? "–")
                s += " | " + (e.maxRelativeDifference.map { String(format: "%.1e", $0) } ?? "–") + " | \(e.status) |\n"
            }
        }
        if let peers, !peers.isEmpty {
            s += "\n| peer | ms/image | convbench ms (same rounds) | convbench ÷ peer time | paired (median round) | agreement (worst rel. diff) | status |\n"
            s += "| --- | ---: | ---: | ---: | ---: | --- | --- |\n"
            for p in peers {
                s += "| \(p.runtime) \(p.version ?? "") | " + (p.run.map { String(format: "%.1f", $0.median * 1e3) } ?? "–")
                s += " | " + (p.convbench.map { String(format: "%.1f", $0.median * 1e3) } ?? "–")
                s += " | " + (p.convbenchTimeRatio.map { String(format: "%.2f", $0) } ?? "–")
                s += " | " + (p.pairedTimeRatio.map { String(format: "%.3f", $0) } ?? "–")
                s += " | \(p.agrees ? "agrees" : "DISAGREES") at \(p.agreement.count) checkpoints ("
                s += (p.worstRelativeDifference.map { String(format: "%.1e", $0) } ?? "–") + ") | \(p.status) |\n"
            }
        }
        let invalid = layers.flatMap { l in l.algorithms.filter { $0.status == .invalid }.map { "\(l.name): \($0.algorithm)" } }
        if !invalid.isEmpty { s += "\nINVALID (disagreed with the judge, never selected): " + invalid.joined(separator: "; ") + "\n" }
        return s
    }
}
