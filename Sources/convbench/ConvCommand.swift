import ArgumentParser
import ConvAlgorithms
import ConvCore
import Foundation

struct ConvCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conv",
        abstract: "Run one convolution on .npy files with a chosen algorithm.",
        discussion: """
            Input NCHW, weight OIHW (IOHW when transposed), bias [outC], as PyTorch stores them; \
            float32 or float64 (rounded to float32). The output is written as float32, atomically. \
            Whether a bias is added is decided by --bias, not by the case line's bias entry.
            """
    )

    @OptionGroup var options: CaseOptions
    @Option(help: "Algorithm name (see `convbench algorithms`).") var algorithm = "reference"
    @Option(help: "Input tensor (.npy, NCHW).") var input: String
    @Option(help: "Weight tensor (.npy, OIHW; IOHW for transposed).") var weight: String
    @Option(help: "Bias vector (.npy, [outC]).") var bias: String?
    @Option(help: "Where to write the output (.npy, float32).") var output: String
    @Option(help: "Worker threads.") var threads = 1

    func validate() throws {
        if threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    func run() throws {
        let parsed = try options.parse().descriptor
        let algo = try AlgorithmRegistry.named.algorithm(named: algorithm)
        let conv = try parsed.withBias(bias != nil)
        let x = try load(input, as: "input", expected: conv.inputShape)
        let w = try load(weight, as: "weight", expected: conv.weightShape)
        let b = try bias.map { try load($0, as: "bias", expected: conv.biasShape) }
        let prepared = try algo.prepare(conv, weights: w, bias: b, options: AlgorithmOptions(threads: threads))
        var y = Tensor(shape: conv.outputShape)
        try prepared.run(x, into: &y)
        try NPY.write(y, to: output)
    }

    private func load(_ path: String, as what: String, expected: [Int]) throws -> Tensor {
        let array = try NPY.read(path: path)
        if array.shape != expected {
            throw NPYError.shapeMismatch(what: "\(what) \(path)", expected: expected, actual: array.shape)
        }
        return array.tensor
    }
}
