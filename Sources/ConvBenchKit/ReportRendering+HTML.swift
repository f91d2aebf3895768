import ConvCore
import Foundation

/// A self-contained HTML page (inline CSS and SVG, no scripts, no network) rendered from the report.
extension RunReport {
    static let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"]

    public func html() -> String {
        let algorithms = orderedAlgorithms
        var h = """
            <!doctype html><html lang="en"><head><meta charset="utf-8">
            <title>ConvBench \(esc(suite))</title>
            <style>
            body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1200px;color:#222;padding:0 16px}
            h1{font-size:22px;margin-bottom:4px} h2{font-size:17px;margin-top:32px;border-bottom:1px solid #ddd} h3{font-size:15px;margin-top:20px}
            table{border-collapse:collapse;font-size:12.5px;margin:8px 0} td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:right}
            td:first-child,th:first-child{text-align:left} th{background:#f6f6f6} code{font-size:11.5px}
            .meta td{text-align:left} .invalid{color:#b00;font-weight:600} .sel{font-weight:600}
            .legend span{display:inline-block;margin-right:14px} .sw{display:inline-block;width:11px;height:11px;margin-right:4px;vertical-align:-1px}
            svg text{font:11px system-ui,sans-serif;fill:#333}
            </style></head><body>
            <h1>ConvBench — \(esc(suite))</h1>
            <div>\(esc(createdAt)) · \(threads) threads · commit \(esc(gitCommit ?? "unknown"))</div>
            """
        h += "<h2>Machine and calibration</h2><table class=meta>"
        let cal = calibration
        let rows: [(String, String)] = [
            ("CPU", "\(machine.cpuModel), \(machine.cores) cores, \(machine.cpuFlags.joined(separator: " "))"),
            ("OS / build", "\(machine.os) · Swift \(machine.swiftVersion) · \(machine.buildFlags)"),
            ("libraries", "OpenBLAS \(machine.openBLAS) · \(machine.fftw)"),
            ("SGEMM \(cal.sgemmSize)³", String(format: "%.1f GFLOP/s", cal.sgemmGFLOPS)),
            ("copy bandwidth", String(format: "%.1f GB/s (read + write, %d MiB buffers)", cal.copyBytesPerSecond / 1e9, cal.copyBytes >> 20)),
            ("nominal peak", cal.theoreticalPeakGFLOPS.map { String(format: "%.0f GFLOP/s (clock × 2 FMA × lanes × 2 × threads)", $0) } ?? "not readable"),
            ("method", measurementMethod),
        ]
        for (k, v) in rows { h += "<tr><td><b>\(esc(k))</b></td><td>\(esc(v))</td></tr>" }
        h += "</table>"

        h += "<h2>Selection per layer</h2><table><tr><th>layer</th><th>MACs</th><th>selected</th><th>ms</th><th>GFLOP/s</th><th>× equiv. SGEMM</th><th>× SGEMM calib.</th><th>speed-up over im2col-gemm</th><th>margin</th></tr>"
        for l in layers {
            let best = l.algorithms.first { $0.algorithm == l.selected }
            let im2col = l.algorithms.first { $0.algorithm == "im2col-gemm" && $0.status == .ok }
            let speedup = best?.run.flatMap { b in im2col?.run.map { $0.median / b.median } }
            h += "<tr><td>\(esc(l.name))<br><code>\(esc(l.caseLine))</code></td><td>\(grouped(l.macs))</td>"
            h += "<td class=sel>\(esc(l.selected ?? "none"))</td><td>\(fmt(best?.run?.median, 1e3, "%.3f"))</td>"
            h += "<td>\(fmt(best?.gflops))</td><td>\(fmt(best?.ratioToEquivalentGEMM, 1, "%.2f"))</td>"
            h += "<td>\(fmt(best?.fractionOfSGEMM, 1, "%.2f"))</td><td>\(fmt(speedup, 1, "%.2f×"))</td>"
            h += "<td>\(fmt(l.marginOverRunnerUp, 100, "%.0f%%"))\(l.runoff == nil ? "" : " paired")</td></tr>"
        }
        h += "</table>"

        h += networkSection()
        h += "<h2>Throughput by algorithm</h2>" + legend(algorithms) + throughputChart(algorithms)
        h += "<h2>Speed-up of the selected algorithm over im2col-gemm</h2>" + speedupChart()
        h += "<h2>Roofline</h2><p>Measured ceilings: SGEMM calibration (compute) and copy bandwidth × arithmetic intensity "
        h += "(memory, compulsory bytes). Each point is one layer × algorithm.</p>" + legend(algorithms) + roofline(algorithms)

        h += "<h2>Every layer × algorithm</h2><table><tr><th>layer</th><th>algorithm</th><th>status</th><th>prepare ms</th><th>median ms</th><th>p10</th><th>p90</th><th>reps</th><th>GFLOP/s</th><th>× copy BW</th><th>workspace</th><th>heap growth</th><th>deterministic</th><th>judged against (worst/bound)</th><th>phases (ms, one run)</th></tr>"
        for l in layers {
            for a in l.algorithms {
                let cls = a.status == .invalid ? " class=invalid" : (a.algorithm == l.selected ? " class=sel" : "")
                h += "<tr\(cls)><td>\(esc(l.name))</td><td>\(esc(a.algorithm))</td><td>\(a.status.rawValue)\(a.reason.map { ": " + esc($0) } ?? "")</td>"
                h += "<td>\(fmt(a.prepareSeconds, 1e3, "%.2f"))</td><td>\(fmt(a.run?.median, 1e3, "%.3f"))</td>"
                h += "<td>\(fmt(a.run?.p10, 1e3, "%.3f"))</td><td>\(fmt(a.run?.p90, 1e3, "%.3f"))</td><td>\(a.run.map { String($0.repetitions) } ?? "")</td>"
                h += "<td>\(fmt(a.gflops))</td><td>\(fmt(a.fractionOfCopyBandwidth, 1, "%.2f"))</td>"
                h += "<td>\(a.workspaceBytes.map(grouped) ?? "")</td><td>\(a.heapGrowthBytes.map(grouped) ?? "")</td>"
                h += "<td>\(a.deterministic.map { $0 ? "yes" : "no" } ?? "")</td>"
                h += "<td>\(a.judgement.map { "\(esc($0.against)) (\(String(format: "%.2g", $0.worstRatio)))" } ?? "")</td>"
                h += "<td>\(a.phases.map { $0.map { "\(esc($0.name)) \(String(format: "%.2f", $0.seconds * 1e3))" }.joined(separator: "; ") } ?? "")</td></tr>"
            }
        }
        h += "</table><p>Command: <code>\(esc(command))</code></p></body></html>\n"
        return h
    }

    var orderedAlgorithms: [String] {
        var seen: [String] = []
        for l in layers { for a in l.algorithms where a.status != .unsupported && !seen.contains(a.algorithm) { seen.append(a.algorithm) } }
        return seen
    }

    func color(_ algorithm: String, _ all: [String]) -> String {
        RunReport.palette[(all.firstIndex(of: algorithm) ?? 0) % RunReport.palette.count]
    }

    func legend(_ all: [String]) -> String {
        "<div class=legend>" + all.map { "<span><i class=sw style=\"background:\(color($0, all))\"></i>\(esc($0))</span>" }.joined() + "</div>"
    }

    /// Horizontal bars: GFLOP/s of each valid algorithm on each layer.
    func throughputChart(_ all: [String]) -> String {
        let labelWidth = 300.0, plotWidth = 760.0, bar = 9.0
        let maxRate = max(1, layers.flatMap { $0.algorithms.compactMap(\.gflops) }.max() ?? 1) * 1.05
        var y = 10.0
        var body = ""
        for l in layers {
            let valid = l.algorithms.filter { $0.status == .ok }
            body += "<text x=0 y=\(y + bar)>\(esc(String(l.name.prefix(48))))</text>"
            for a in valid {
                let w = plotWidth * (a.gflops ?? 0) / maxRate
                body += "<rect x=\(labelWidth) y=\(y) width=\(String(format: "%.1f", w)) height=\(bar - 1) fill=\"\(color(a.algorithm, all))\"><title>\(esc(a.algorithm)): \(fmt(a.gflops)) GFLOP/s</title></rect>"
                body += "<text x=\(String(format: "%.1f", labelWidth + w + 3)) y=\(y + bar - 1)>\(fmt(a.gflops))</text>"
                y += bar
            }
            y += 8
        }
        let sgemm = labelWidth + plotWidth * calibration.sgemmGFLOPS / maxRate
        body += "<line x1=\(sgemm) x2=\(sgemm) y1=0 y2=\(y) stroke=\"#999\" stroke-dasharray=\"4 3\"/>"
        body += "<text x=\(sgemm + 3) y=\(y + 12)>SGEMM calibration \(fmt(calibration.sgemmGFLOPS)) GFLOP/s</text>"
        return "<svg width=\(Int(labelWidth + plotWidth + 60)) height=\(Int(y + 20)) role=img>\(body)</svg>"
    }

    func speedupChart() -> String {
        let labelWidth = 300.0, plotWidth = 600.0, bar = 14.0
        let values: [(String, Double?)] = layers.map { l in
            let best = l.algorithms.first { $0.algorithm == l.selected }?.run?.median
            let base = l.algorithms.first { $0.algorithm == "im2col-gemm" && $0.status == .ok }?.run?.median
            return (l.name, best.flatMap { b in base.map { $0 / b } })
        }
        let maxValue = max(1.5, values.compactMap(\.1).max() ?? 1) * 1.05
        var body = "", y = 4.0
        for (name, v) in values {
            body += "<text x=0 y=\(y + bar - 3)>\(esc(String(name.prefix(48))))</text>"
            if let v {
                let w = plotWidth * v / maxValue
                body += "<rect x=\(labelWidth) y=\(y) width=\(String(format: "%.1f", w)) height=\(bar - 2) fill=\"#4e79a7\"/>"
                body += "<text x=\(String(format: "%.1f", labelWidth + w + 3)) y=\(y + bar - 3)>\(String(format: "%.2f×", v))</text>"
            }
            y += bar
        }
        let one = labelWidth + plotWidth / maxValue
        body += "<line x1=\(one) x2=\(one) y1=0 y2=\(y) stroke=\"#999\" stroke-dasharray=\"4 3\"/><text x=\(one + 3) y=\(y + 12)>1×</text>"
        return "<svg width=\(Int(labelWidth + plotWidth + 60)) height=\(Int(y + 20)) role=img>\(body)</svg>"
    }

    /// Log-log roofline: arithmetic intensity (FLOP per compulsory byte) against GFLOP/s.
    func roofline(_ all: [String]) -> String {
        let w = 780.0, h = 440.0, left = 60.0, bottom = 40.0, top = 28.0, right = 40.0
        let points = layers.flatMap { l in l.algorithms.compactMap { a -> (Double, Double, String, String)? in
            guard let g = a.gflops, a.status == .ok else { return nil }
            return (Double(l.flops) / Double(l.bytes), g, a.algorithm, l.name)
        } }
        let xs = points.map(\.0), ys = points.map(\.1) + [calibration.sgemmGFLOPS]
        let xMin = pow(10, floor(log10(max(1e-2, xs.min() ?? 1)))), xMax = pow(10, ceil(log10(max(10, xs.max() ?? 10))))
        let yMin = pow(10, floor(log10(max(1e-2, ys.min() ?? 1)))), yMax = pow(10, ceil(log10(max(10, ys.max() ?? 10) * 1.2)))
        func px(_ x: Double) -> Double { left + (log10(x) - log10(xMin)) / (log10(xMax) - log10(xMin)) * (w - left - right) }
        func py(_ y: Double) -> Double { (h - bottom) - (log10(y) - log10(yMin)) / (log10(yMax) - log10(yMin)) * (h - bottom - top) }
        var body = "<rect x=\(left) y=\(top) width=\(w - left - right) height=\(h - bottom - top) fill=none stroke=\"#ccc\"/>"
        var d = xMin
        while d <= xMax * 1.0001 {
            body += "<text x=\(px(d) - 8) y=\(h - bottom + 16)>\(axis(d))</text>"
            d *= 10
        }
        d = yMin
        while d <= yMax * 1.0001 {
            body += "<text x=4 y=\(py(d) + 4)>\(axis(d))</text>"
            d *= 10
        }
        body += "<text x=\(w / 2 - 80) y=\(h - 6)>FLOP per byte (compulsory traffic)</text><text x=4 y=14>GFLOP/s</text>"
        let bw = calibration.copyBytesPerSecond / 1e9, peak = calibration.sgemmGFLOPS
        let knee = peak / bw
        let x0 = max(xMin, yMin / bw)
        body += "<polyline fill=none stroke=\"#333\" stroke-width=1.5 points=\"\(px(x0)),\(py(x0 * bw)) \(px(min(knee, xMax))),\(py(min(knee, xMax) * bw)) \(px(xMax)),\(py(peak))\"/>"
        body += "<text x=\(px(xMax) - 190) y=\(py(peak) - 5)>SGEMM \(fmt(peak)) GFLOP/s</text>"
        for (x, y, a, name) in points {
            body += "<circle cx=\(String(format: "%.1f", px(x))) cy=\(String(format: "%.1f", py(y))) r=4 fill=\"\(color(a, all))\" fill-opacity=0.8><title>\(esc(name)) · \(esc(a)): \(fmt(y)) GFLOP/s at \(String(format: "%.1f", x)) FLOP/B</title></circle>"
        }
        return "<svg width=\(Int(w)) height=\(Int(h)) role=img>\(body)</svg>"
    }

    private func axis(_ v: Double) -> String { v >= 1 ? String(format: "%.0f", v) : String(format: "%g", v) }
}

func esc(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}

func fmt(_ v: Double?, _ scale: Double = 1, _ format: String = "%.1f") -> String {
    v.map { String(format: format, $0 * scale) } ?? "–"
}

