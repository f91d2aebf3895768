import ConvCore
import Foundation

/// Text, CSV and JSON forms of a model report. Shapes print as `1x256x64x64`; a window size,
/// stride or dilation that is equal on both axes prints once (`3`), else `HxW`; padding prints
/// once when equal on all sides, else `top,bottom,left,right`.
extension ModelReport {
    static let columns = ["layer", "kind", "input", "output", "kernel", "stride", "padding", "dilation", "groups",
                          "params", "deployed", "MACs", "receptive field"]

    /// Cells of one layer row; `allInputs` lists every operand (CSV), else the first and a count.
    static func cells(_ l: LayerSummary, allInputs: Bool, groupDigits: Bool) -> [String] {
        func dims(_ s: [Int]) -> String { s.map(String.init).joined(separator: "x") }
        func pair(_ p: (height: Int, width: Int)?) -> String {
            guard let p else { return "" }
            return p.height == p.width ? "\(p.height)" : "\(p.height)x\(p.width)"
        }
        func number(_ n: Int) -> String { groupDigits ? grouped(n) : String(n) }
        var input = l.inputShapes.first.map(dims) ?? ""
        if allInputs {
            input = l.inputShapes.map(dims).joined(separator: " + ")
        } else if l.inputShapes.count > 1 {
            input += " +\(l.inputShapes.count - 1)"
        }
        var padding = ""
        if let p = l.padding {
            padding = [p.bottom, p.left, p.right].allSatisfy { $0 == p.top } ? "\(p.top)" : "\(p.top),\(p.bottom),\(p.left),\(p.right)"
        }
        return [l.name, l.kind, input, dims(l.outputShape), pair(l.kernel), pair(l.stride), padding, pair(l.dilation),
                l.groups.map(String.init) ?? "", number(l.parameters.trainable), number(l.parameters.deployed),
                number(l.multiplyAccumulates), l.receptiveField.description]
    }

    /// A header stating the model and both counting conventions, an aligned table, then totals.
    public func table() -> String {
        let p = parameters
        var out = "convbench params: \(model), input \(inputShape.map(String.init).joined(separator: "x")) (NCHW), "
            + "\(layers.count) layers, \(convolutionCount) convolutions\n"
        out += "parameters, two conventions (per layer: params = framework, deployed = deployed):\n"
        for (key, text) in Self.conventions { out += "  \(key.padding(toLength: 9, withPad: " ", startingAt: 0)) \(text)\n" }
        out += "receptive field: cumulative, in input pixels (Araujo et al., Distill 2019); +global once a global pool or dense layer feeds in\n\n"

        let rows = [Self.columns] + layers.map { Self.cells($0, allInputs: false, groupDigits: true) }
        let numeric: Set<Int> = [8, 9, 10, 11]
        let widths = Self.columns.indices.map { c in rows.map { $0[c].count }.max()! }
        for row in rows {
            let padded = row.enumerated().map { c, cell in
                let fill = String(repeating: " ", count: widths[c] - cell.count)
                return numeric.contains(c) ? fill + cell : cell + fill
            }
            out += padded.joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
        }
        out += "\ntotals\n"
        let totals: [(String, String)] = [
            ("parameters (framework)", "\(grouped(p.trainable))  PyTorch parameters(), Keras trainable"),
            ("parameters (Keras)", "\(grouped(p.keras))  count_params(), incl. \(grouped(p.batchNormStatistics)) batch-norm statistics"),
            ("parameters (deployed)", "\(grouped(p.deployed))  batch norm folded"),
            ("conv MACs", grouped(convolutionMACs)),
            ("all MACs", "\(grouped(multiplyAccumulates))  conv + dense; FLOPs = 2 x MACs"),
            ("activations", "\(grouped(activationArenaBytes)) bytes planned (live peak \(grouped(activationLivePeakBytes)))"),
        ]
        let w = totals.map(\.0.count).max()!
        for (k, v) in totals { out += "  " + k.padding(toLength: w, withPad: " ", startingAt: 0) + "  " + v + "\n" }
        return out
    }

    /// One row per layer with plain integers, then a `total` row (parameters and MACs summed).
    public func csv() -> String {
        func field(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        let header = ["layer", "kind", "input", "output", "kernel", "stride", "padding", "dilation", "groups",
                      "params", "deployed_params", "macs", "receptive_field"]
        var lines = [header.joined(separator: ",")]
        for l in layers { lines.append(Self.cells(l, allInputs: true, groupDigits: false).map(field).joined(separator: ",")) }
        lines.append(["total", "", "", "", "", "", "", "", "", String(parameters.trainable), String(parameters.deployed),
                      String(multiplyAccumulates), ""].joined(separator: ","))
        return lines.joined(separator: "\n") + "\n"
    }

    /// Everything, with the conventions spelled out and shapes as arrays.
    public func json() throws -> String {
        func pair(_ p: (height: Int, width: Int)?) -> Any { p.map { [$0.height, $0.width] } ?? NSNull() }
        let layerObjects: [[String: Any]] = layers.map { l in
            [
                "name": l.name, "kind": l.kind, "inputs": l.inputShapes, "output": l.outputShape,
                "kernel": pair(l.kernel), "stride": pair(l.stride), "dilation": pair(l.dilation),
                "padding": l.padding.map { [$0.top, $0.bottom, $0.left, $0.right] } ?? NSNull(),
                "groups": l.groups ?? NSNull(),
                "parameters": l.parameters.trainable, "parametersWithStatistics": l.parameters.keras,
                "deployedParameters": l.parameters.deployed, "macs": l.multiplyAccumulates,
                "receptiveField": ["height": l.receptiveField.pixels.height, "width": l.receptiveField.pixels.width,
                                   "global": l.receptiveField.global],
            ]
        }
        let p = parameters
        let object: [String: Any] = [
            "model": model, "input": inputShape,
            "conventions": Dictionary(uniqueKeysWithValues: Self.conventions.map { ($0.key, $0.text) }),
            "totals": [
                "parameters": ["framework": p.trainable, "keras": p.keras, "deployed": p.deployed,
                               "batchNormStatistics": p.batchNormStatistics],
                "convolutionMACs": convolutionMACs, "macs": multiplyAccumulates,
                "layers": layers.count, "convolutions": convolutionCount,
                "activationArenaBytes": activationArenaBytes, "activationLivePeakBytes": activationLivePeakBytes,
            ],
            "layers": layerObjects,
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
        return String(decoding: data, as: UTF8.self)
    }
}

