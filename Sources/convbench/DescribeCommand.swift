import ArgumentParser
import ConvCore
import Foundation

struct DescribeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe",
        abstract: "Shapes, parameters, MACs, FLOPs and receptive field of one case."
    )

    @OptionGroup var options: CaseOptions
    @Option(help: "Output format: text or json.") var format: OutputFormat = .text

    func run() throws {
        let c = try options.parse()
        let d = c.descriptor
        let rf = d.receptiveField
        let rows: [(String, String)] = [
            ("case", c.line),
            ("kind", d.transposed ? "transposed convolution" : "convolution"),
            ("input", shape(d.inputShape) + " (NCHW)"),
            ("weight", shape(d.weightShape) + (d.transposed ? " (IOHW)" : " (OIHW)")),
            ("bias", d.hasBias ? shape(d.biasShape) : "none"),
            ("output", shape(d.outputShape) + " (NCHW)"),
            ("padding", "top \(d.padTop) bottom \(d.padBottom) left \(d.padLeft) right \(d.padRight)"),
            ("parameters", grouped(d.parameterCount)),
            ("MACs", grouped(d.multiplyAccumulates)),
            ("FLOPs", grouped(d.flops)),
            ("bytes touched", grouped(d.bytesTouched)),
            ("receptive field", "\(rf.height)x\(rf.width)"),
        ]
        switch format {
        case .text:
            let width = rows.map(\.0.count).max()!
            for (k, v) in rows { print(k.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + v) }
        case .json:
            let object: [String: Any] = [
                "case": c.line, "transposed": d.transposed,
                "input": d.inputShape, "weight": d.weightShape, "bias": d.hasBias ? d.biasShape : [],
                "output": d.outputShape,
                "padding": ["top": d.padTop, "bottom": d.padBottom, "left": d.padLeft, "right": d.padRight],
                "parameters": d.parameterCount, "macs": d.multiplyAccumulates, "flops": d.flops,
                "bytesTouched": d.bytesTouched, "receptiveField": [rf.height, rf.width],
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
            print(String(decoding: data, as: UTF8.self))
        }
    }
}

func shape(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ", ") + "]" }

