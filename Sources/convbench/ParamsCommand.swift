import ArgumentParser
import ConvModels
import Foundation

struct ParamsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "params",
        abstract: "Per-layer shapes, parameters, MACs and receptive fields of a model, with totals.",
        discussion: """
            Models: \(ModelName.allCases.map(\.rawValue).joined(separator: ", ")).
            Parameters are counted two ways: as the framework counts them (PyTorch parameters() = Keras \
            trainable; Keras count_params() adds the batch-norm moving statistics) and deployed (batch norm \
            folded into the convolutions).
            """
    )

    @Option(help: "The model (\(ModelName.allCases.map(\.rawValue).joined(separator: ", "))).")
    var model: String
    @Option(help: "Input size HxW, or N for NxN (default: the model's reference size).")
    var input: String?
    @Flag(help: "Add torchvision's auxiliary FCN head (deeplabv3-resnet50/101 only).")
    var aux = false
    @Flag(name: .customLong("no-top"), help: "Leave out the classification top (xception only).")
    var noTop = false
    @Option(help: "Output format: table, csv or json.")
    var format: Format = .table

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, csv, json
    }

    func validate() throws {
        _ = try ModelName(parsing: model)
        if let input { _ = try Self.size(input) }
    }

    /// "512x384" → (512, 384); "65" → (65, 65).
    static func size(_ text: String) throws -> (height: Int, width: Int) {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        let values = parts.compactMap { Int($0) }
        guard (parts.count == 1 || parts.count == 2), values.count == parts.count, values.allSatisfy({ $0 >= 1 }) else {
            throw ValidationError("--input must be HxW or N with positive integers, got '\(text)'")
        }
        return (values[0], values.last!)
    }

    func run() throws {
        let name = try ModelName(parsing: model)
        var options = ModelOptions.defaults(for: name)
        if let input { (options.height, options.width) = try Self.size(input) }
        options.aux = aux
        options.includeTop = !noTop
        let report = ModelReport(try ModelCatalog.build(name, options))
        switch format {
        case .table: print(report.table(), terminator: "")
        case .csv: print(report.csv(), terminator: "")
        case .json: print(try report.json())
        }
    }
}
