import ConvAlgorithms
import ConvCore
import ConvModels
import Foundation

/// `graph.json` of an export: the network as nodes in execution order with every attribute a
/// runtime needs to rebuild it, the files of its weights, a seeded input, and convbench's outputs
/// at checkpoints (the last node of every block, the logits before a softmax, the model outputs)
/// with the tolerance a peer's outputs must meet there. Shapes are NCHW; tensors are `.npy`
/// little-endian float32 files, named relative to the folder.
public struct ExportedModel: Codable, Sendable {
    public static let formatName = "convbench-model-export"
    public static let currentVersion = 1

    public var format = ExportedModel.formatName
    public var version = ExportedModel.currentVersion
    public var model: String
    public var seed: UInt64
    public var gitCommit: String?
    public var input: InputTensor
    public var outputs: [String]
    public var nodes: [ExportedNode]
    public var checkpoints: [Checkpoint]
    /// The algorithm tables whose outputs are exported: `first` is written, `second` only measures
    /// convbench's own float32 spread.
    public var convbench: Tables
    public var toleranceRule: String

    public struct InputTensor: Codable, Sendable {
        public var node: String
        public var shape: [Int]
        public var file: String
        public var seed: UInt64
    }

    public struct Tables: Codable, Sendable {
        public var first: String
        public var second: String?
        public var threads: Int
        /// Layers per algorithm in the first table.
        public var algorithms: [String: Int]
    }

    public struct Checkpoint: Codable, Sendable {
        public var node: String
        public var file: String
        public var shape: [Int]
        /// Convolutions computed before this node's output is complete (its own included).
        public var convolutionsBefore: Int
        /// max |y_first − y_second| ÷ max |y_second|: how far convbench's two tables lie apart here.
        public var spread: Double?
        /// A peer agrees when max |y_peer − y| ÷ max |y| ≤ this.
        public var tolerance: Double
    }
}

/// One node. `op` is one of: input, conv, maxpool, avgpool, globalavgpool, add, concat, resize,
/// dropout, fc, softmax, relu. Attributes appear only for the ops that have them.
public struct ExportedNode: Codable, Sendable {
    public var name: String
    public var block: String
    public var op: String
    public var inputs: [String]
    public var shape: [Int]
    /// conv, maxpool, avgpool: [height, width] each; pads are [top, left, bottom, right] (ONNX order).
    public var kernel: [Int]?
    public var stride: [Int]?
    public var dilation: [Int]?
    public var pads: [Int]?
    public var groups: Int?
    public var inChannels: Int?
    public var outChannels: Int?
    /// conv: ReLU after the (folded) batch norm.
    public var relu: Bool?
    public var ceilMode: Bool?
    public var countIncludePad: Bool?
    public var alignCorners: Bool?
    /// conv and fc: the deployed parameters (batch norm folded into conv weight and bias).
    public var weight: String?
    public var bias: String?
    /// conv: the framework's own parameters, before folding (for runtimes that load the original
    /// modules, e.g. torchvision's with its batch norms).
    public var framework: FrameworkParameters?

    public struct FrameworkParameters: Codable, Sendable {
        public var weight: String
        public var bias: String?
        public var batchNorm: BatchNormFiles?
    }

    public struct BatchNormFiles: Codable, Sendable {
        public var name: String
        public var epsilon: Double
        public var gamma: String, beta: String, mean: String, variance: String
    }
}

public enum ModelExport {
    /// The tolerance at a checkpoint, relative to max |y| there. Each convolution adds a relative
    /// error of about ε√K (Higham and Mary's probabilistic bound for a sum of K terms), independent
    /// from layer to layer, so they compose in quadrature to ε√(Σ K); twice that, as both convbench
    /// and the peer round. Algorithms with transforms (Winograd, FFT) err more: the tolerance is
    /// never below ten times the spread between convbench's own two algorithm tables.
    public static func tolerance(spread: Double?, reductionSum: Int) -> Double {
        max(10 * (spread ?? 0), 2 * Double(Float.ulpOfOne) * Double(max(reductionSum, 1)).squareRoot())
    }

    public static let toleranceRule = "max(10 × spread between convbench's two algorithm tables, 2·ε·√(Σ K over the convolutions before the checkpoint)), ε = 2^-23, K = (Cin/groups)·kH·kW + bias; relative to max |y| at the checkpoint"

    /// Writes the export of `graph` into `folder` (created if missing): weights, input, checkpoint
    /// outputs of `first` (and the spread against `second` when given), then `graph.json` last, so a
    /// folder with a graph.json is complete. Every file is written atomically.
    public static func write(graph: ModelGraph, weights: ModelWeights, first: (name: String, runner: ModelRunner),
                             second: ModelRunner?, modelSeed: UInt64, inputSeed: UInt64 = 7, threads: Int, to folder: String) throws -> ExportedModel {
        let fm = FileManager.default
        for sub in ["", "/weights", "/checkpoints"] {
            do { try fm.createDirectory(atPath: folder + sub, withIntermediateDirectories: true) } catch {
                throw SuiteError("cannot create \(folder + sub): \(error.localizedDescription)")
            }
        }
        let input = Tensor.random(shape: graph.inputShape, .uniform(low: -1, high: 1), seed: inputSeed)
        try writeNPY(input, folder + "/input.npy")

        let points = checkpointNodes(graph)
        let a = try outputs(of: first.runner, at: points, input: input)
        let b = try second.map { try outputs(of: $0, at: points, input: input) }
        // Convolutions and their summed reduction lengths up to each node, along the execution order
        // (a branch's checkpoint counts the other branches too, erring on the loose side).
        var convolutionsBefore = 0, reductionSum = 0
        var seen: [Int: (Int, Int)] = [:]
        for (i, node) in graph.nodes.enumerated() {
            if case let .convolution(layer) = node.op {
                convolutionsBefore += 1
                reductionSum += layer.deployedDescriptor.reductionLength
            }
            seen[i] = (convolutionsBefore, reductionSum)
        }
        var checkpoints: [ExportedModel.Checkpoint] = []
        for (k, i) in points.enumerated() {
            let file = String(format: "checkpoints/%03d-%@.npy", k, safe(graph.nodes[i].name))
            try writeNPY(a[i]!, folder + "/" + file)
            let spread = b.map { relativeDifference(a[i]!.scalars, $0[i]!.scalars) }
            checkpoints.append(.init(node: graph.nodes[i].name, file: file, shape: graph.nodes[i].outputShape,
                                     convolutionsBefore: seen[i]!.0, spread: spread,
                                     tolerance: tolerance(spread: spread, reductionSum: seen[i]!.1)))
        }

        var nodes: [ExportedNode] = []
        for (i, node) in graph.nodes.enumerated() {
            nodes.append(try describe(node, index: i, graph: graph, weights: weights, folder: folder))
        }
        var algorithms: [String: Int] = [:]
        for (_, name) in first.runner.assignments { algorithms[name, default: 0] += 1 }
        let model = ExportedModel(
            model: graph.name, seed: modelSeed, gitCommit: RunReport.gitCommit(),
            input: .init(node: graph.nodes[0].name, shape: graph.inputShape, file: "input.npy", seed: inputSeed),
            outputs: graph.outputs.map { graph.nodes[$0.index].name }, nodes: nodes, checkpoints: checkpoints,
            convbench: .init(first: first.name, second: second == nil ? nil : AlgorithmPolicy.fallback, threads: threads,
                             algorithms: algorithms),
            toleranceRule: toleranceRule)
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try e.encode(model), to: folder + "/graph.json")
        return model
    }

    /// The last node of each block, every node whose output feeds a softmax (a saturated softmax
    /// hides differences), and the model outputs; in execution order.
    static func checkpointNodes(_ graph: ModelGraph) -> [Int] {
        var points = Set(graph.outputs.map(\.index))
        for i in 1..<graph.nodes.count {
            let node = graph.nodes[i]
            if i + 1 == graph.nodes.count || graph.nodes[i + 1].block != node.block { points.insert(i) }
            if case .softmax = node.op { points.formUnion(node.inputs.map(\.index)) }
        }
        return points.sorted()
    }

    static func outputs(of runner: ModelRunner, at points: [Int], input: Tensor) throws -> [Int: Tensor] {
        let wanted = Set(points)
        var kept: [Int: Tensor] = [:]
        _ = try runner.run(input) { i, _, y in
            if wanted.contains(i) { kept[i] = Tensor(shape: y.shape, values: y.scalars) }
        }
        return kept
    }

    /// max |a − b| ÷ max |b| (0 when both are zero).
    public static func relativeDifference(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count)
        var difference: Float = 0, scale: Float = 0
        for i in a.indices {
            difference = max(difference, abs(a[i] - b[i]))
            scale = max(scale, abs(b[i]))
        }
        return scale == 0 ? Double(difference) : Double(difference) / Double(scale)
    }

    static func describe(_ node: Node, index: Int, graph: ModelGraph, weights: ModelWeights, folder: String) throws -> ExportedNode {
        var n = ExportedNode(name: node.name, block: node.block, op: "", inputs: node.inputs.map { graph.nodes[$0.index].name },
                             shape: node.outputShape)
        let stem = String(format: "weights/%04d-%@", index, safe(node.name))
        func write(_ t: Tensor, _ suffix: String) throws -> String {
            let file = "\(stem).\(suffix).npy"
            try writeNPY(t, folder + "/" + file)
            return file
        }
        func pool(_ g: PoolGeometry) {
            n.kernel = [g.kernelHeight, g.kernelWidth]
            n.stride = [g.strideHeight, g.strideWidth]
            n.pads = [g.padTop, g.padLeft, g.padBottom, g.padRight]
            n.ceilMode = g.ceilMode
        }
        switch node.op {
        case .input: n.op = "input"
        case let .convolution(layer):
            let d = layer.descriptor
            n.op = "conv"
            n.kernel = [d.kernelHeight, d.kernelWidth]
            n.stride = [d.strideHeight, d.strideWidth]
            n.dilation = [d.dilationHeight, d.dilationWidth]
            n.pads = [d.padTop, d.padLeft, d.padBottom, d.padRight]
            n.groups = d.groups
            n.inChannels = d.inChannels
            n.outChannels = d.outChannels
            n.relu = layer.relu
            let folded = weights.byLayer[node.name]!
            n.weight = try write(folded.weights, "weight")
            n.bias = try folded.bias.map { try write($0, "bias") }
            var framework = ExportedNode.FrameworkParameters(weight: try write(layer.weights(), "framework-weight"),
                                                             bias: try layer.bias().map { try write($0, "framework-bias") })
            if let bn = layer.batchNorm {
                let p = bn.parameters()
                let c = [bn.channels]
                framework.batchNorm = .init(
                    name: bn.name, epsilon: bn.epsilon,
                    gamma: try write(Tensor(shape: c, values: p.gamma), "bn-gamma"),
                    beta: try write(Tensor(shape: c, values: p.beta), "bn-beta"),
                    mean: try write(Tensor(shape: c, values: p.mean), "bn-mean"),
                    variance: try write(Tensor(shape: c, values: p.variance), "bn-variance"))
            }
            n.framework = framework
        case let .maxPool(g):
            n.op = "maxpool"
            pool(g)
        case let .averagePool(g, countsPadding):
            n.op = "avgpool"
            pool(g)
            n.countIncludePad = countsPadding
        case .globalAveragePool: n.op = "globalavgpool"
        case .add: n.op = "add"
        case .concat: n.op = "concat"
        case let .resizeBilinear(alignCorners):
            n.op = "resize"
            n.alignCorners = alignCorners
        case .dropout: n.op = "dropout"
        case .fullyConnected:
            n.op = "fc"
            let w = weights.byLayer[node.name]!
            n.weight = try write(w.weights, "weight")
            n.bias = try w.bias.map { try write($0, "bias") }
        case .softmax: n.op = "softmax"
        case .relu: n.op = "relu"
        }
        return n
    }

    static func writeNPY(_ t: Tensor, _ path: String) throws {
        try AtomicFile.write(Data(NPY.encode(shape: t.shape, float32: t.scalars)), to: path)
    }

    /// A node name as a file name: anything but letters, digits, '.', '-' and '_' becomes '_'.
    static func safe(_ name: String) -> String {
        String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" })
    }
}
