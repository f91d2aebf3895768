import ConvAlgorithms
import ConvCore
import Dispatch

/// Runs a model's forward pass. Everything that depends only on the graph, the weights and the
/// policy happens once in `init`: every convolution is prepared (batch norm folded into its
/// weights) by the algorithm the policy picks, and activation memory is planned and allocated
/// (`BufferPlan`). `run` then only computes. A runner runs one forward pass at a time.
public final class ModelRunner {
    public let graph: ModelGraph
    public let plan: BufferPlan
    /// The algorithm that runs each convolution, in execution order.
    public let assignments: [(layer: String, algorithm: String)]

    private let prepared: [Int: any PreparedConvolution]
    private let weights: ModelWeights
    private let arena: ActivationArena
    /// Worker threads for the passes between convolutions (ReLU, add, pooling).
    private let threads: Int
    /// A view of each node's output in the arena (the input node's entry is unused).
    private var values: [Tensor]
    /// ReLU nodes whose only reader is a convolution that applies max(x, 0) as it copies its input
    /// (`InputReLUFusing`): not computed in passes that observe no node's output; the convolution
    /// reads the ReLU's operand instead. Keyed by the convolution's index, the ReLU's as value.
    private let reluReadBy: [Int: Int]
    /// Residual adds computed by a convolution as it stores its output (`AddendFusing`), in plain
    /// passes: keyed by the convolution's index (the add's later operand, the node just before it),
    /// the add and its other operand as value. The convolution writes the sum into the add's memory.
    private let addedBy: [Int: (add: Int, addend: Int)]
    /// ReLUs applied by the convolution of `addedBy` as it stores the sum (keyed by the convolution).
    private let reluAfterAdd: [Int: Int]
    /// The nodes plain passes do not compute: the ReLUs of `reluReadBy`, the adds of `addedBy` and
    /// the ReLUs of `reluAfterAdd`.
    private let fusedAway: Set<Int>

    /// - Parameters:
    ///   - weights: pass one `ModelWeights(graph)` to several runners to generate the weights once.
    ///   - registry: where algorithm names are looked up (tests add deliberately broken ones).
    public init(graph: ModelGraph, policy: AlgorithmPolicy, registry: AlgorithmRegistry = .standard,
                options: AlgorithmOptions = AlgorithmOptions(), weights: ModelWeights? = nil) throws {
        if case let .table(table) = policy {
            let convNames = Set(graph.convolutions.map(\.node.name))
            for layer in table.keys.sorted() where !convNames.contains(layer) {
                throw ModelError.badAlgorithmTable("\(graph.name) has no convolution layer named \(layer)")
            }
        }
        let weights = weights ?? ModelWeights(graph)
        var prepared: [Int: any PreparedConvolution] = [:]
        var assignments: [(String, String)] = []
        for (id, node, layer) in graph.convolutions {
            let conv = layer.deployedDescriptor
            let algorithm = try policy.choose(layer: node.name, conv: conv, registry: registry)
            guard let w = weights.byLayer[node.name] else {
                preconditionFailure("weights were generated for another graph: no \(node.name)")
            }
            prepared[id.index] = try algorithm.prepare(conv, weights: w.weights, bias: w.bias, options: options)
            assignments.append((node.name, algorithm.name))
        }
        // Layers whose algorithm may write over its input (depthwise-simd, plane by plane, each
        // copied before its output is written) do so where the input dies there: no second map of
        // the size to fill from memory, and each output line is already in the cache. Whole
        // Xception passes alternated with the plan before (120 rounds): 0.989 of the time; block
        // 2's 128-channel depthwise layer at 147×147 0.58 ms instead of 0.80, the middle flow's
        // 0.058 instead of 0.110.
        let overwriting = Set(prepared.filter { ($0.value as? any InputOverwriting)?.overwritesInputSafely == true }.map(\.key))
        let plan = BufferPlan(graph, overwritableInputs: overwriting)
        let arena = ActivationArena(floats: plan.arenaFloats)
        let offsets = plan.slotOffsets
        values = graph.nodes.enumerated().map { i, node in
            guard let slot = plan.slots[i] else { return Tensor(shape: [0]) }
            return Tensor(viewing: arena.base + offsets[slot], shape: node.outputShape, owner: arena)
        }
        // A ReLU fuses into its one reader when the operand it would have read stays intact through
        // that reader: in place (its operand's memory becomes the ReLU's and lives until the
        // convolution), the graph input, or an operand read again later.
        var consumers = [Int](repeating: 0, count: graph.nodes.count)
        for node in graph.nodes { for v in node.inputs { consumers[v.index] += 1 } }
        var reluReadBy: [Int: Int] = [:]
        for (i, node) in graph.nodes.enumerated() {
            guard case .convolution = node.op, node.inputs.count == 1, prepared[i] is any InputReLUFusing else { continue }
            let r = node.inputs[0].index
            guard r != 0, case .relu = graph.nodes[r].op, consumers[r] == 1,
                  !graph.outputs.contains(where: { $0.index == r }) else { continue }
            let operand = graph.nodes[r].inputs[0].index
            if plan.inPlace[r] || operand == 0 || plan.lastUse[operand] > i { reluReadBy[i] = r }
        }
        self.reluReadBy = reluReadBy
        // An add fuses into its later operand c when c is the node just before it, a convolution
        // without ReLU read by nothing else, on a path that adds as it stores; the add runs in place
        // (so its memory is one of its operands': c's, or the addend's, read element by element just
        // before being written), and the addend is not c's input (which c still reads after writing).
        var addedBy: [Int: (add: Int, addend: Int)] = [:]
        for (i, node) in graph.nodes.enumerated() {
            guard case .add = node.op, node.inputs.count == 2, plan.inPlace[i] else { continue }
            let c = max(node.inputs[0].index, node.inputs[1].index), r = min(node.inputs[0].index, node.inputs[1].index)
            guard c == i - 1, r != c, case let .convolution(layer) = graph.nodes[c].op, !layer.relu, consumers[c] == 1,
                  reluReadBy[c] == nil, let f = prepared[c] as? any AddendFusing, f.fusesAddend,
                  graph.nodes[c].inputs[0].index != r else { continue }
            addedBy[c] = (i, r)
        }
        self.addedBy = addedBy
        // The ReLU after such an add (ResNet's bottleneck output) goes into the same store when it is
        // the add's only reader and runs in place: the convolution writes max((sum + bias) + addend, 0)
        // into the memory the add and the ReLU share, the order the separate passes use.
        var reluAfter: [Int: Int] = [:]
        for (c, fused) in addedBy where consumers[fused.add] == 1 && !graph.outputs.contains(where: { $0.index == fused.add }) {
            guard let r = graph.nodes.indices.first(where: { graph.nodes[$0].inputs.contains { $0.index == fused.add } }),
                  case .relu = graph.nodes[r].op, plan.inPlace[r], !reluReadBy.values.contains(r) else { continue }
            reluAfter[c] = r
        }
        self.reluAfterAdd = reluAfter
        fusedAway = Set(reluReadBy.values).union(addedBy.values.map(\.add)).union(reluAfter.values)
        self.graph = graph
        self.plan = plan
        self.assignments = assignments
        self.prepared = prepared
        self.weights = weights
        self.arena = arena
        threads = options.threads
    }

    /// The ReLU nodes that plain passes (`run(_:)`, `run(_:nodeSeconds:)`) do not compute, their
    /// one reader applying them as it copies its input; `run(_:observe:)` computes every node.
    public var fusedReLUs: [String] { reluReadBy.values.sorted().map { graph.nodes[$0].name } }

    /// The add nodes that plain passes leave to the convolution before them (see `addedBy`).
    public var fusedAdds: [String] { addedBy.values.map(\.add).sorted().map { graph.nodes[$0].name } }

    /// The ReLU nodes after those adds that the same convolution applies as it stores.
    public var fusedReLUsAfterAdds: [String] { reluAfterAdd.values.sorted().map { graph.nodes[$0].name } }

    /// Bytes held by the prepared convolutions beyond their weights (packing, columns, scratch).
    public var workspaceBytes: Int { prepared.values.map(\.workspaceBytes).reduce(0, +) }

    /// The model's outputs for `input` (NCHW, the graph's input shape), in `graph.outputs` order,
    /// copied out of the activation arena.
    public func run(_ input: Tensor) throws -> [Tensor] {
        try forward(input, record: nil, fuse: true)
    }

    /// A forward pass that also records each node's wall time (seconds, indexed like
    /// `graph.nodes`; the input node's entry stays 0): where the time of the pass goes.
    public func run(_ input: Tensor, nodeSeconds: inout [Double]) throws -> [Tensor] {
        if nodeSeconds.count != graph.nodes.count { nodeSeconds = [Double](repeating: 0, count: graph.nodes.count) }
        var seconds = nodeSeconds
        defer { nodeSeconds = seconds }
        return try forward(input, record: { i, t, _ in seconds[i] = t }, fuse: true)
    }

    /// A forward pass that hands `observe` each node's index, time and output right after computing
    /// it. The output is a view of the activation arena, valid only during the call: later nodes
    /// reuse its memory, so copy what you keep.
    public func run(_ input: Tensor, observe: (Int, Double, Tensor) -> Void) throws -> [Tensor] {
        try withoutActuallyEscaping(observe) { try forward(input, record: $0, fuse: false) }
    }

    /// `fuse`: leave the nodes of `fusedAway` to the convolutions next to them (their own outputs are
    /// never written).
    private func forward(_ input: Tensor, record: ((Int, Double, Tensor) -> Void)?, fuse: Bool) throws -> [Tensor] {
        func value(_ i: Int) -> Tensor { i == 0 ? input : values[i] }
        if input.shape != graph.inputShape {
            throw ConvolutionError.shapeMismatch(what: "model input", expected: graph.inputShape, actual: input.shape)
        }
        for i in 1..<graph.nodes.count {
            if fuse && fusedAway.contains(i) {
                record?(i, 0, values[i])
                continue
            }
            let node = graph.nodes[i]
            let operands = node.inputs.map { value($0.index) }
            let expected = values[i].baseAddress
            let start = record == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            if fuse, let (add, r) = addedBy[i] {
                let sum = values[add].baseAddress
                try (prepared[i] as! any AddendFusing).run(operands[0], adding: value(r), into: &values[add],
                                                           relu: reluAfterAdd[i] != nil)
                precondition(values[add].baseAddress == sum, "\(node.name): output left the activation arena")
            } else if fuse, let r = reluReadBy[i], case let .convolution(layer) = node.op {
                try (prepared[i] as! any InputReLUFusing).run(reluOf: value(graph.nodes[r].inputs[0].index), into: &values[i],
                                                                 relu: layer.relu, threads: threads)
            } else {
                try compute(node, index: i, operands, into: &values[i])
            }
            record?(i, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9, values[i])
            // A view that had been copied would have written elsewhere (copy-on-write).
            precondition(values[i].baseAddress == expected, "\(node.name): output left the activation arena")
        }
        return graph.outputs.map { Tensor(shape: values[$0.index].shape, values: values[$0.index].scalars) }
    }

    private func compute(_ node: Node, index: Int, _ x: [Tensor], into y: inout Tensor) throws {
        let inShape = x[0].shape
        let outShape = node.outputShape
        switch node.op {
        case .input:
            preconditionFailure("the input node is not computed")
        case let .convolution(layer):
            try prepared[index]!.run(x[0], into: &y, relu: layer.relu, threads: threads)
        case let .maxPool(g):
            x[0].withUnsafeBufferPointer { xb in
                y.withUnsafeMutableBufferPointer {
                    ActivationKernels.maxPool(xb.baseAddress!, planes: inShape[0] * inShape[1], height: inShape[2],
                                              width: inShape[3], $0.baseAddress!, outHeight: outShape[2], outWidth: outShape[3],
                                              kernel: (g.kernelHeight, g.kernelWidth), stride: (g.strideHeight, g.strideWidth),
                                              padTop: g.padTop, padLeft: g.padLeft, threads: threads)
                }
            }
        case let .averagePool(g, countsPadding):
            x[0].withUnsafeBufferPointer { xb in
                y.withUnsafeMutableBufferPointer {
                    Pooling.average(g, countsPadding: countsPadding, xb, inShape: inShape, $0, outShape: outShape)
                }
            }
        case .globalAveragePool:
            x[0].withUnsafeBufferPointer { xb in
                y.withUnsafeMutableBufferPointer { Pooling.globalAverage(xb, inShape: inShape, $0, threads: threads) }
            }
        case .add:
            x[0].withUnsafeBufferPointer { a in
                x[1].withUnsafeBufferPointer { b in
                    y.withUnsafeMutableBufferPointer {
                        ActivationKernels.add(a.baseAddress!, b.baseAddress!, $0.baseAddress!, count: $0.count, threads: threads)
                    }
                }
            }
        case .concat:
            // Operand pointers stay valid: the tensors in `x` are alive for the whole call.
            let operands = x.map { t in (t.baseAddress, t.shape) }
            y.withUnsafeMutableBufferPointer { Concat.run(operands, $0, outShape: outShape) }
        case let .resizeBilinear(alignCorners):
            x[0].withUnsafeBufferPointer { xb in
                y.withUnsafeMutableBufferPointer {
                    ResizeBilinear.run(alignCorners: alignCorners, xb, inShape: inShape, $0, outShape: outShape, threads: threads)
                }
            }
        case .dropout:
            x[0].withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { Elementwise.copy(xb, $0) } }
        case let .fullyConnected(layer):
            let w = weights.byLayer[node.name]!
            x[0].withUnsafeBufferPointer { xb in
                w.weights.withUnsafeBufferPointer { wb in
                    y.withUnsafeMutableBufferPointer { yb in
                        if let bias = w.bias {
                            bias.withUnsafeBufferPointer {
                                FullyConnected.run(xb, batch: outShape[0], inFeatures: layer.inFeatures, weights: wb,
                                                   bias: $0, yb, outFeatures: layer.outFeatures, threads: threads)
                            }
                        } else {
                            FullyConnected.run(xb, batch: outShape[0], inFeatures: layer.inFeatures, weights: wb,
                                               bias: nil, yb, outFeatures: layer.outFeatures, threads: threads)
                        }
                    }
                }
            }
        case .softmax:
            x[0].withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { Softmax.run(xb, shape: outShape, $0) } }
        case .relu:
            x[0].withUnsafeBufferPointer { xb in
                y.withUnsafeMutableBufferPointer {
                    ActivationKernels.relu(xb.baseAddress!, $0.baseAddress!, count: $0.count, threads: threads)
                }
            }
        }
    }
}
