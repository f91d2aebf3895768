import ConvCore
import Foundation

/// The HTML report's network section (model suites): forward passes, where their time goes by
/// block, and the parameter and multiply-accumulate breakdown by block.
extension RunReport {
    func networkSection() -> String {
        guard let model else { return "" }
        var h = "<h2 id=network>Network: \(esc(model.name))</h2>"
        h += "<p>Input \(model.input.map(String.init).joined(separator: "×")) · \(model.convolutions) convolutions "
        h += "(\(model.uniqueShapes) unique shapes) · \(grouped(model.convMACs)) conv multiply-accumulates · "
        h += "\(grouped(model.parameters)) deployed conv parameters (batch norm folded)</p>"
        if let endToEnd, !endToEnd.isEmpty { h += forwardPassTable(endToEnd) }
        if let peers, !peers.isEmpty { h += peerSection(peers) }
        h += "<h3>Where the forward pass goes, by block</h3>" + blockTimeChart(model)
        if let slowest = model.slowestNodes, !slowest.isEmpty {
            let total = model.blocks.compactMap(\.forwardSeconds).reduce(0, +)
            h += "<h3>Slowest nodes of the forward pass</h3><table><tr><th>node</th><th>operation</th><th>algorithm</th><th>ms</th><th>share</th></tr>"
            for n in slowest {
                h += "<tr><td>\(esc(n.name))</td><td>\(esc(n.kind))</td><td>\(esc(n.algorithm ?? ""))</td>"
                h += "<td>\(String(format: "%.2f", n.seconds * 1e3))</td><td>\(total > 0 ? String(format: "%.1f%%", n.seconds / total * 100) : "–")</td></tr>"
            }
            h += "</table>"
        }
        h += "<h3>Parameters and multiply-accumulates by block</h3>" + blockCostChart(model)
        return h
    }

    private func forwardPassTable(_ passes: [EndToEndResult]) -> String {
        let selected = passes.first { $0.policy == "selected" }?.millisecondsPerImage
        var h = "<table><tr><th>forward pass</th><th>ms/image</th><th>p10–p90 ms</th><th>images/s</th><th>× selected time</th>"
        h += "<th>max rel. diff vs im2col-gemm</th><th>prepare s</th><th>workspace</th><th>activations</th><th>layers per algorithm</th><th>status</th></tr>"
        for e in passes {
            let relative = e.millisecondsPerImage.flatMap { m in selected.map { m / $0 } }
            let spread = e.run.map { String(format: "%.1f–%.1f", $0.p10 * 1e3, $0.p90 * 1e3) } ?? "–"
            let used = e.algorithmsUsed.sorted { $0.value > $1.value }.map { "\(esc($0.key)) \($0.value)" }.joined(separator: ", ")
            h += "<tr\(e.policy == "selected" ? " class=sel" : "")><td>\(esc(e.policy))</td><td>\(fmt(e.millisecondsPerImage))</td>"
            h += "<td>\(spread)</td><td>\(fmt(e.imagesPerSecond, 1, "%.2f"))</td><td>\(fmt(relative, 1, "%.2f"))</td>"
            h += "<td>\(fmt(e.maxRelativeDifference, 1, "%.1e"))</td><td>\(fmt(e.prepareSeconds, 1, "%.2f"))</td>"
            h += "<td>\(e.workspaceBytes.map(grouped) ?? "")</td><td>\(e.activationBytes.map(grouped) ?? "")</td>"
            h += "<td>\(used)</td><td>\(esc(e.status))</td></tr>"
        }
        return h + "</table>"
    }

    /// Peers: time next to convbench's from the same interleaved rounds, and the whole-network
    /// differential test checkpoint by checkpoint.
    private func peerSection(_ peers: [PeerResult]) -> String {
        var h = "<h3>Peers on the same network, same threads, one run</h3>"
        h += "<p>Each round times one convbench forward pass (selected table) and then one pass of each peer; "
        h += "medians over the rounds; paired: the median over the rounds of each round's convbench ÷ peer time. "
        h += "Agreement: \(esc(peerToleranceRule ?? ""))</p>"
        h += "<table><tr><th>peer</th><th>ms/image</th><th>p10–p90 ms</th><th>convbench ms (same rounds)</th>"
        h += "<th>convbench ÷ peer time</th><th>paired: median round's ratio</th><th>agreement</th><th>worst rel. diff</th>"
        h += "<th>status</th></tr>"
        for p in peers {
            let spread = p.run.map { String(format: "%.1f–%.1f", $0.p10 * 1e3, $0.p90 * 1e3) } ?? "–"
            let verdict = p.agrees ? "agrees at \(p.agreement.count) checkpoints" : "DISAGREES"
            h += "<tr><td>\(esc(p.runtime)) \(esc(p.version ?? ""))</td><td>\(fmt(p.run?.median, 1e3))</td><td>\(spread)</td>"
            h += "<td>\(fmt(p.convbench?.median, 1e3))</td><td class=sel>\(fmt(p.convbenchTimeRatio, 1, "%.2f"))</td>"
            h += "<td>\(fmt(p.pairedTimeRatio, 1, "%.3f"))</td>"
            h += "<td\(p.agrees ? "" : " class=invalid")>\(verdict)</td><td>\(fmt(p.worstRelativeDifference, 1, "%.1e"))</td>"
            h += "<td>\(esc(p.status))</td></tr>"
        }
        h += "</table><table><tr><th>checkpoint</th>" + peers.map { "<th>\(esc($0.runtime)) rel. diff</th>" }.joined()
        h += "<th>tolerance</th></tr>"
        let nodes = peers.flatMap { $0.agreement.map(\.node) }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        for node in nodes {
            h += "<tr><td>\(esc(node))</td>"
            var tolerance: Double?
            for p in peers {
                let a = p.agreement.first { $0.node == node }
                tolerance = tolerance ?? a?.tolerance
                h += "<td\(a?.ok == false ? " class=invalid" : "")>\(fmt(a?.relativeDifference, 1, "%.2e"))\(a?.error.map { " " + esc($0) } ?? "")</td>"
            }
            h += "<td>\(fmt(tolerance, 1, "%.2e"))</td></tr>"
        }
        return h + "</table>"
    }

    /// Stacked bars per block: its convolutions and its other operations, measured inside forward
    /// passes of the selected table; a thin bar below gives the sum of the block's isolated layer
    /// medians, so a block whose layers run slower in the network than alone stands out.
    private func blockTimeChart(_ model: ModelInfo) -> String {
        let measured = model.blocks.contains { $0.forwardSeconds != nil }
        let total = model.blocks.compactMap { measured ? $0.forwardSeconds : $0.selectedSeconds }.reduce(0, +)
        guard total > 0 else { return "<p>No per-block times (no layer was selected).</p>" }
        let labelWidth = 220.0, plotWidth = 640.0, bar = 12.0, thin = 4.0
        let longest = model.blocks.map { max($0.forwardSeconds ?? 0, $0.selectedSeconds ?? 0) }.max() ?? 1
        let scale = plotWidth / (longest * 1.08)
        var body = "", y = 4.0
        for b in model.blocks {
            body += "<text x=0 y=\(y + bar - 2)>\(esc(String(b.name.prefix(34))))</text>"
            var x = labelWidth
            let own = measured ? b.forwardSeconds ?? 0 : b.selectedSeconds ?? 0
            let conv = measured ? b.forwardConvSeconds ?? 0 : own
            for (part, seconds, colour) in [("convolutions", conv, "#4e79a7"), ("other operations", own - conv, "#f28e2b")] where seconds > 0 {
                let w = seconds * scale
                body += "<rect x=\(String(format: "%.1f", x)) y=\(y) width=\(String(format: "%.1f", w)) height=\(bar - 1) fill=\"\(colour)\">"
                body += "<title>\(esc(b.name)) \(part): \(String(format: "%.2f", seconds * 1e3)) ms</title></rect>"
                x += w
            }
            body += "<text x=\(String(format: "%.1f", x + 3)) y=\(y + bar - 2)>\(String(format: "%.1f ms · %.0f%%", own * 1e3, own / total * 100))</text>"
            y += bar
            if measured, let alone = b.selectedSeconds, alone > 0 {
                body += "<rect x=\(labelWidth) y=\(y) width=\(String(format: "%.1f", alone * scale)) height=\(thin) fill=\"#999\">"
                body += "<title>\(esc(b.name)) convolutions timed alone: \(String(format: "%.2f", alone * 1e3)) ms</title></rect>"
                y += thin
            }
            y += 5
        }
        var legend = "<div class=legend><span><i class=sw style=\"background:#4e79a7\"></i>convolutions (with their ReLU)</span>"
        if measured {
            legend += "<span><i class=sw style=\"background:#f28e2b\"></i>other operations (pooling, add, concat, resize)</span>"
            legend += "<span><i class=sw style=\"background:#999\"></i>sum of the block's layer medians timed alone</span></div>"
            legend += "<p>Measured node by node in \(model.profiledPasses ?? 0) forward pass(es) of the selected table (median per node), "
            legend += String(format: "%.1f ms in all.</p>", total * 1e3)
        } else {
            legend += "</div><p>Sum of the selected layers' isolated medians (no forward pass was profiled).</p>"
        }
        return legend + "<svg width=\(Int(labelWidth + plotWidth + 130)) height=\(Int(y + 6)) role=img>\(body)</svg>"
    }

    /// Paired bars per block: its share of the network's conv multiply-accumulates and of its parameters.
    private func blockCostChart(_ model: ModelInfo) -> String {
        let macs = Double(max(model.convMACs, 1)), params = Double(max(model.parameters, 1))
        let labelWidth = 220.0, plotWidth = 560.0, bar = 9.0
        let largest = model.blocks.map { max(Double($0.macs) / macs, Double($0.parameters) / params) }.max() ?? 1
        let scale = plotWidth / (max(largest, 0.01) * 1.1)
        var body = "", y = 4.0
        for b in model.blocks {
            body += "<text x=0 y=\(y + bar + 3)>\(esc(String(b.name.prefix(34))))</text>"
            for (what, value, share, colour) in [("MACs", b.macs, Double(b.macs) / macs, "#4e79a7"),
                                                 ("parameters", b.parameters, Double(b.parameters) / params, "#59a14f")] {
                let w = share * scale
                body += "<rect x=\(labelWidth) y=\(y) width=\(String(format: "%.1f", w)) height=\(bar - 1) fill=\"\(colour)\">"
                body += "<title>\(esc(b.name)): \(grouped(value)) \(what)</title></rect>"
                body += "<text x=\(String(format: "%.1f", labelWidth + w + 3)) y=\(y + bar - 1)>\(grouped(value)) (\(String(format: "%.1f", share * 100))%)</text>"
                y += bar
            }
            y += 6
        }
        let legend = "<div class=legend><span><i class=sw style=\"background:#4e79a7\"></i>conv multiply-accumulates</span>"
            + "<span><i class=sw style=\"background:#59a14f\"></i>conv parameters (deployed)</span></div>"
        return legend + "<svg width=\(Int(labelWidth + plotWidth + 170)) height=\(Int(y + 6)) role=img>\(body)</svg>"
    }
}
