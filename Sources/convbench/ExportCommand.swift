import ArgumentParser
import ConvAlgorithms
import ConvBenchKit
import ConvCore
import ConvModels
import Foundation

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a model's graph, weights, a seeded input and convbench's outputs, for other runtimes to check.",
        discussion: """
            The folder gets graph.json (nodes in execution order with their attributes, checkpoints and \
            tolerances), weights/*.npy (deployed: batch norm folded; framework: the original conv weights and \
            batch-norm parameters), input.npy and checkpoints/*.npy. Benchmarks/peers/peers.py rebuilds the \
            network in ONNX Runtime (and PyTorch) from it and checks their outputs against the checkpoints.
            """
    )

    @Option(help: "The model (\(ModelName.allCases.map(\.rawValue).joined(separator: ", "))).") var model: String
    @Option(help: "Output folder (created if missing).") var out: String
    @Option(help: "Input size HxW (default: the model's own).") var input: String?
    @Option(help: "Images per batch.") var batch = 1
    @Option(help: "Seed of the generated parameters.") var seed: UInt64 = 1
    @Option(help: "Algorithm whose outputs are written (where it cannot run a layer, im2col-gemm does).")
    var algorithm = AlgorithmPolicy.fallback
    @Option(help: "Worker threads (default: every core).") var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        _ = try ModelName(parsing: model)
        if let input { _ = try RunCommand.parseInputSize(input) }
        if batch < 1 { throw ValidationError("--batch must be at least 1, got \(batch)") }
        if threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if !AlgorithmRegistry.named.names.contains(algorithm) || algorithm == "reference" {
            throw ValidationError("unknown algorithm '\(algorithm)' (known: \(AlgorithmRegistry.named.names.filter { $0 != "reference" }.joined(separator: ", ")))")
        }
    }

    func run() throws {
        let name = try ModelName(parsing: model)
        var options = ModelOptions.defaults(for: name)
        if let input { (options.height, options.width) = try RunCommand.parseInputSize(input) }
        options.batch = batch
        options.seed = seed
        let graph = try ModelCatalog.build(name, options)
        let weights = ModelWeights(graph)
        let algorithmOptions = AlgorithmOptions(threads: threads)
        let first = try ModelRunner(graph: graph, policy: .algorithm(algorithm), registry: .named, options: algorithmOptions,
                                    weights: weights)
        // A second table measures convbench's own float32 spread; im2col-gemm against itself would say nothing.
        let second = algorithm == AlgorithmPolicy.fallback ? nil
            : try ModelRunner(graph: graph, policy: .algorithm(AlgorithmPolicy.fallback), options: algorithmOptions, weights: weights)
        let exported = try ModelExport.write(graph: graph, weights: weights, first: (algorithm, first), second: second,
                                             modelSeed: seed, threads: threads, to: out)
        print("Exported \(graph.name) (\(exported.nodes.count) nodes, \(exported.checkpoints.count) checkpoints) to \(out)/graph.json")
    }
}
