import ConvAlgorithms
import ConvCore
import ConvModels
import Foundation

/// Suites built from a whole network: every convolution of the model (batch norm folded, as it
/// runs), identical shapes timed once and counted, plus end-to-end forward passes.
public struct ModelSuite: Sendable {
    public var suite: Suite
    public var model: ModelName
    public var options: ModelOptions
    public var graph: ModelGraph
    /// Unique shape → the names of the layers that have it.
    public var layerNames: [ConvDescriptor: [String]]

    public init(_ model: ModelName, _ options: ModelOptions, suiteName: String) throws {
        graph = try ModelCatalog.build(model, options)
        self.model = model
        self.options = options
        var order: [ConvDescriptor] = []
        var names: [ConvDescriptor: [String]] = [:]
        for (_, node, layer) in graph.convolutions {
            let conv = layer.deployedDescriptor
            if names[conv] == nil { order.append(conv) }
            names[conv, default: []].append(node.name)
        }
        layerNames = names
        suite = Suite(name: suiteName, layers: order.map { conv in
            let n = names[conv]!
            return Suite.Layer(name: n.count > 1 ? "\(n[0]) (+\(n.count - 1) same)" : n[0], conv: conv, occurrences: n.count)
        })
    }
}

/// One timed forward pass configuration.
public struct EndToEndResult: Codable, Sendable {
    /// "selected" (the per-layer table), or the single algorithm's name.
    public var policy: String
    /// Layers per algorithm under this policy.
    public var algorithmsUsed: [String: Int]
    public var run: TimingStats?
    public var imagesPerSecond: Double?
    public var millisecondsPerImage: Double?
    /// max |y − y_im2col| ÷ max |y_im2col| over the first output (the logits, when that output is a
    /// softmax), against the im2col-gemm pass.
    public var maxRelativeDifference: Double?
    public var prepareSeconds: Double?
    public var workspaceBytes: Int?
    public var activationBytes: Int?
    public var status: String
}

/// What the report records about the network.
public struct ModelInfo: Codable, Sendable {
    public var name: String
    public var input: [Int]
    public var convolutions: Int
    public var uniqueShapes: Int
    public var convMACs: Int
    public var parameters: Int
    /// Per block (`Node.block`, in execution order): conv MACs, parameters and times.
    public var blocks: [BlockInfo]
    /// Forward passes of the selected table that were timed node by node for `BlockInfo.forward*`.
    public var profiledPasses: Int?
    /// The nodes that took longest in those passes, slowest first.
    public var slowestNodes: [NodeTime]?
}

public struct NodeTime: Codable, Sendable {
    public var name: String
    /// The operation ("conv+bn+relu", "maxpool", …) and, for convolutions, the algorithm that ran it.
    public var kind: String
    public var algorithm: String?
    public var seconds: Double
}

public struct BlockInfo: Codable, Sendable {
    public var name: String
    public var macs: Int
    public var parameters: Int
    /// Time of the block's convolutions under the selected table (sum of per-layer medians).
    public var selectedSeconds: Double?
    /// Measured inside forward passes of the selected table (median over the profiled passes):
    /// every node of the block, and its convolutions alone (their ReLU included).
    public var forwardSeconds: Double?
    public var forwardConvSeconds: Double?
}

/// The forward passes of a model suite and, for the selected table, each node's time.
public struct EndToEndRun {
    public var results: [EndToEndResult]
    /// Median seconds per graph node over `profiledPasses` node-timed passes of the selected table.
    public var nodeSeconds: [Double]?
    public var profiledPasses: Int
    /// Kept prepared for what follows the timing (the peers' export and interleaved passes).
    public var selectedRunner: ModelRunner?
    public var im2colRunner: ModelRunner?
    public var weights: ModelWeights
    /// The input every pass was timed on.
    public var input: Tensor
}

extension ModelSuite {
    public func info(selected layers: [LayerResult], nodeSeconds: [Double]? = nil, profiledPasses: Int? = nil) -> ModelInfo {
        var blocks: [String: BlockInfo] = [:]
        var order: [String] = []
        var seconds: [ConvDescriptor: Double] = [:]
        var chosen: [ConvDescriptor: String] = [:]
        for l in layers {
            guard let conv = suite.layers.first(where: { $0.conv.caseLine == l.caseLine })?.conv else { continue }
            chosen[conv] = l.selected
            if let best = l.algorithms.first(where: { $0.algorithm == l.selected })?.run?.median { seconds[conv] = best }
        }
        var macs = 0, params = 0
        let timed = nodeSeconds?.count == graph.nodes.count ? nodeSeconds : nil
        for (i, node) in graph.nodes.enumerated().dropFirst() {
            let b = node.block
            if blocks[b] == nil {
                blocks[b] = BlockInfo(name: b, macs: 0, parameters: 0, selectedSeconds: 0,
                                      forwardSeconds: timed == nil ? nil : 0, forwardConvSeconds: timed == nil ? nil : 0)
                order.append(b)
            }
            if let timed { blocks[b]!.forwardSeconds! += timed[i] }
            guard case let .convolution(layer) = node.op else { continue }
            let conv = layer.deployedDescriptor
            blocks[b]!.macs += conv.multiplyAccumulates
            blocks[b]!.parameters += conv.parameterCount
            if let s = seconds[conv] { blocks[b]!.selectedSeconds! += s }
            if let timed { blocks[b]!.forwardConvSeconds! += timed[i] }
            macs += conv.multiplyAccumulates
            params += conv.parameterCount
        }
        let slowest = timed.map { t in
            graph.nodes.indices.dropFirst().sorted { t[$0] > t[$1] }.prefix(15).map { i -> NodeTime in
                let node = graph.nodes[i]
                var algorithm: String?
                if case let .convolution(layer) = node.op { algorithm = chosen[layer.deployedDescriptor] ?? AlgorithmPolicy.fallback }
                return NodeTime(name: node.name, kind: node.op.kind, algorithm: algorithm, seconds: t[i])
            }
        }
        return ModelInfo(name: model.rawValue, input: graph.inputShape, convolutions: graph.convolutions.count,
                         uniqueShapes: suite.layers.count, convMACs: macs, parameters: params,
                         blocks: order.map { blocks[$0]! }, profiledPasses: timed == nil ? nil : profiledPasses,
                         slowestNodes: slowest)
    }

    /// Times forward passes: the selected table, then each single algorithm that covers every layer.
    /// `singles` false times only the selected table and im2col-gemm (its comparison baseline).
    public func endToEnd(selected layers: [LayerResult], algorithms: [any ConvolutionAlgorithm], threads: Int,
                         policy timing: TimingPolicy, singles: Bool = true, profiledPasses: Int = 3) -> EndToEndRun {
        var table: [String: String] = [:]
        for l in layers {
            guard let choice = l.selected, let conv = suite.layers.first(where: { $0.conv.caseLine == l.caseLine })?.conv
            else { continue }
            for name in layerNames[conv] ?? [] { table[name] = choice }
        }
        let weights = ModelWeights(graph)
        let input = Tensor.random(shape: graph.inputShape, .uniform(low: -1, high: 1), seed: 7)
        var configurations: [(String, AlgorithmPolicy)] = [("selected", .table(table))]
        var results: [EndToEndResult] = []
        for a in algorithms where a.name != "reference" {
            let uncovered = graph.convolutions.filter { !a.support(for: $0.layer.deployedDescriptor).isSupported }
            if !singles && a.name != "im2col-gemm" {
                results.append(EndToEndResult(policy: a.name, algorithmsUsed: [:], status: "not run (--quick)"))
            } else if uncovered.isEmpty {
                configurations.append((a.name, .algorithm(a.name)))
            } else {
                results.append(EndToEndResult(policy: a.name, algorithmsUsed: [:], status:
                    "not run: unsupported on \(uncovered.count) of \(graph.convolutions.count) convolutions (e.g. \(uncovered[0].node.name))"))
            }
        }
        var baseline: [Float]?
        var timed: [EndToEndResult] = []
        var nodeSeconds: [Double]?
        var kept: [String: ModelRunner] = [:]
        // im2col-gemm first when present, so the others are compared with it.
        configurations.sort { ($0.0 == "im2col-gemm" ? 0 : 1) < ($1.0 == "im2col-gemm" ? 0 : 1) }
        for (name, policy) in configurations {
            var r = EndToEndResult(policy: name, algorithmsUsed: [:], status: "ok")
            do {
                var runner: ModelRunner?
                r.prepareSeconds = try Clock.time {
                    runner = try ModelRunner(graph: graph, policy: policy, options: AlgorithmOptions(threads: threads),
                                             weights: weights)
                }
                let m = runner!
                if name == "selected" || name == AlgorithmPolicy.fallback { kept[name] = m }
                for (_, algorithm) in m.assignments { r.algorithmsUsed[algorithm, default: 0] += 1 }
                var output: [Tensor] = []
                let stats = try timing.measure { output = try m.run(input) }
                r.run = stats
                r.imagesPerSecond = Double(options.batch) / stats.median
                r.millisecondsPerImage = stats.median * 1e3 / Double(options.batch)
                r.workspaceBytes = m.workspaceBytes
                r.activationBytes = m.plan.arenaBytes
                if name == "selected" && profiledPasses > 0 {
                    // Apart from the timed passes, so the clock reads do not touch their figures.
                    var passes: [[Double]] = []
                    var seconds: [Double] = []
                    for _ in 0..<profiledPasses {
                        _ = try m.run(input, nodeSeconds: &seconds)
                        passes.append(seconds)
                    }
                    nodeSeconds = graph.nodes.indices.map { i in TimingStats(samples: passes.map { $0[i] }).median }
                }
                let y = try Self.compared(m, output: output[0], input: input)
                if let b = baseline {
                    r.maxRelativeDifference = ModelExport.relativeDifference(y, b)
                } else if name == "im2col-gemm" {
                    baseline = y
                    r.maxRelativeDifference = 0
                }
            } catch {
                r.status = "error: \(error)"
            }
            timed.append(r)
        }
        // Report the selected table first.
        let ordered = timed.sorted { ($0.policy == "selected" ? 0 : 1) < ($1.policy == "selected" ? 0 : 1) } + results
        return EndToEndRun(results: ordered, nodeSeconds: nodeSeconds, profiledPasses: profiledPasses,
                           selectedRunner: kept["selected"], im2colRunner: kept[AlgorithmPolicy.fallback],
                           weights: weights, input: input)
    }

    /// What the tables' outputs are compared on: the first output, or when that is a softmax, its
    /// input (the logits), taken in one more pass. A softmax over 1000 classes of a random-weight
    /// network is saturated (one class at 1.0 in float32), so its outputs agreed exactly whatever
    /// the convolutions computed.
    static func compared(_ runner: ModelRunner, output: Tensor, input: Tensor) throws -> [Float] {
        let graph = runner.graph
        let node = graph.nodes[graph.outputs[0].index]
        guard case .softmax = node.op, let logits = node.inputs.first?.index else { return output.scalars }
        var kept: [Float] = []
        _ = try runner.run(input) { i, _, y in if i == logits { kept = y.scalars } }
        return kept
    }
}
