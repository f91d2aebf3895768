import ArgumentParser
import ConvAlgorithms
import ConvBenchKit
import ConvCore
import Foundation

struct AccuracyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accuracy",
        abstract: "Measure each algorithm's worst error against the float64 reference on real 3x3 layer shapes.",
        discussion: """
            Every 3x3 stride-1 shape of DeepLab v3-ResNet-50 at 512x512 and of ResNet-50 at 224x224 (or the \
            lines of --shapes), N(0,1) data: max absolute error, max error / (eps * sum|x*w|) of the element's \
            window, max error / (eps * M) with M the tile magnitude transform algorithms are bounded by, \
            and the worst error as a fraction of the algorithm's declared bound. This is where the \
            Winograd error constants come from.
            """
    )

    @Option(name: .customLong("algorithm"), help: "Algorithms to measure (repeatable; default: every Winograd variant and im2col-gemm).")
    var algorithms: [String] = []
    @Option(help: "A file of case lines instead of the built-in shapes.") var shapes: String?
    @Option(help: "Worker threads.") var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Flag(help: "JSON instead of a Markdown table.") var json = false

    func validate() throws {
        if threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        for name in algorithms { _ = try AlgorithmRegistry.named.algorithm(named: name) }
    }

    func run() throws {
        let registry = AlgorithmRegistry.standard
        let names = algorithms.isEmpty ? registry.names.filter { $0.hasPrefix("winograd") } + ["im2col-gemm"] : algorithms
        let chosen = try names.map { try AlgorithmRegistry.named.algorithm(named: $0) }
        let layers = try shapes.map { try Suite.shapes(file: $0, mode: .convolution).layers } ?? AccuracyStudy.threeByThreeShapes()
        let rows = try AccuracyStudy.measure(layers, algorithms: chosen, threads: threads) { message in
            FileHandle.standardError.write(Data("… \(message)\n".utf8))
        }
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try e.encode(rows), as: UTF8.self))
        } else {
            print(AccuracyStudy.markdown(rows), terminator: "")
        }
    }
}
