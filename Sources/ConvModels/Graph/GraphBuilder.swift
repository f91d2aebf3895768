import ConvCore

/// Appends nodes in execution order, working out each output shape as it goes and checking every
/// geometry, so a builder reads like the framework's model definition. Each method returns the new
/// node's id; a geometry that fails for this input size throws `ModelError.layerGeometry` naming
/// the layer.
public struct GraphBuilder {
    public let model: String
    public let seed: UInt64
    /// Batch-norm epsilon for layers added from now on (1e-5 PyTorch, 1e-3 Keras and TF slim).
    public var batchNormEpsilon: Double
    public private(set) var nodes: [Node]
    /// The block that nodes appended from now on belong to (`Node.block`); nil derives it from the
    /// node's name: `backbone.layer3.0.conv2` → `backbone.layer3`, `aspp1_depthwise` → `aspp1`.
    public var block: String?

    /// `inputShape` is NCHW.
    public init(model: String, inputShape: [Int], seed: UInt64, batchNormEpsilon: Double) {
        precondition(inputShape.count == 4 && inputShape.allSatisfy { $0 >= 1 }, "input must be NCHW")
        self.model = model
        self.seed = seed
        self.batchNormEpsilon = batchNormEpsilon
        nodes = [Node(name: "input", block: "input", op: .input, inputs: [], outputShape: inputShape)]
    }

    public var input: NodeID { NodeID(0) }
    public func shape(_ id: NodeID) -> [Int] { nodes[id.index].outputShape }
    public func channels(_ id: NodeID) -> Int { shape(id)[1] }

    public func finish(outputs: [NodeID]) -> ModelGraph {
        ModelGraph(name: model, nodes: nodes, outputs: outputs)
    }

    private mutating func append(_ name: String, _ op: LayerOp, _ inputs: [NodeID], _ shape: [Int]) -> NodeID {
        precondition(!nodes.contains { $0.name == name }, "\(model): duplicate node name \(name)")
        nodes.append(Node(name: name, block: block ?? Self.block(of: name), op: op, inputs: inputs, outputShape: shape))
        return NodeID(nodes.count - 1)
    }

    static func block(of name: String) -> String {
        let dotted = name.split(separator: ".")
        if dotted.count >= 2 { return dotted[0] + "." + dotted[1] }
        return String(name.prefix { $0 != "/" && $0 != "_" })
    }

    private func fail(_ layer: String, _ reason: String) -> ModelError {
        .layerGeometry(model: model, layer: layer, reason: reason)
    }

    /// Convolution, optionally followed by batch norm (named `batchNorm`) and ReLU.
    @discardableResult
    public mutating func conv(
        _ name: String, _ x: NodeID, outChannels: Int, kernel: Int, stride: Int = 1, dilation: Int = 1,
        padding: PaddingRule, groups: Int = 1, bias: Bool = false, batchNorm: String? = nil, relu: Bool = false
    ) throws(ModelError) -> NodeID {
        let s = shape(x)
        precondition(s.count == 4, "\(name): convolution needs an NCHW input")
        let extent = (kernel - 1) * dilation + 1
        let p = padding.resolve(height: s[2], width: s[3], extentHeight: extent, extentWidth: extent,
                                strideHeight: stride, strideWidth: stride)
        let d: ConvDescriptor
        do {
            d = try ConvDescriptor(
                batch: s[0], groups: groups, inChannels: s[1], outChannels: outChannels,
                inHeight: s[2], inWidth: s[3], kernelHeight: kernel, kernelWidth: kernel,
                strideHeight: stride, strideWidth: stride,
                padTop: p.top, padBottom: p.bottom, padLeft: p.left, padRight: p.right,
                dilationHeight: dilation, dilationWidth: dilation, hasBias: bias, memoryCapBytes: .max)
        } catch {
            throw fail(name, error.description)
        }
        let bn = batchNorm.map { BatchNorm(name: $0, channels: outChannels, epsilon: batchNormEpsilon, seed: seed) }
        let layer = ConvLayer(name: name, descriptor: d, batchNorm: bn, relu: relu, modelSeed: seed)
        return append(name, .convolution(layer), [x], d.outputShape)
    }

    /// Depthwise-separable convolution as two convolution nodes: a depthwise k×k (groups = channels,
    /// depth multiplier 1) then a pointwise 1×1. Keras' `SeparableConv2D` has nothing between them
    /// (`depthwiseBatchNorm` nil, `depthwiseReLU` false); TensorFlow DeepLab's split separable
    /// convolution puts batch norm (and in some blocks ReLU) after each.
    @discardableResult
    public mutating func separable(
        depthwise depthwiseName: String, pointwise pointwiseName: String, _ x: NodeID, outChannels: Int,
        kernel: Int = 3, stride: Int = 1, dilation: Int = 1, padding: PaddingRule,
        depthwiseBatchNorm: String? = nil, depthwiseReLU: Bool = false,
        pointwiseBatchNorm: String? = nil, pointwiseReLU: Bool = false
    ) throws(ModelError) -> NodeID {
        let c = channels(x)
        let dw = try conv(depthwiseName, x, outChannels: c, kernel: kernel, stride: stride, dilation: dilation,
                          padding: padding, groups: c, batchNorm: depthwiseBatchNorm, relu: depthwiseReLU)
        return try conv(pointwiseName, dw, outChannels: outChannels, kernel: 1, padding: .valid,
                        batchNorm: pointwiseBatchNorm, relu: pointwiseReLU)
    }

    private mutating func pool(_ name: String, _ x: NodeID, kernel: Int, stride: Int, padding: PaddingRule,
                               ceilMode: Bool, makeOp: (PoolGeometry) -> LayerOp) throws(ModelError) -> NodeID {
        let s = shape(x)
        let p = padding.resolve(height: s[2], width: s[3], extentHeight: kernel, extentWidth: kernel,
                                strideHeight: stride, strideWidth: stride)
        let g = PoolGeometry(kernelHeight: kernel, kernelWidth: kernel, strideHeight: stride, strideWidth: stride,
                             padTop: p.top, padBottom: p.bottom, padLeft: p.left, padRight: p.right, ceilMode: ceilMode)
        let (oh, ow) = g.outputSize(height: s[2], width: s[3])
        if oh < 1 || ow < 1 {
            throw fail(name, "\(kernel)x\(kernel) pool leaves no output on a \(s[2])x\(s[3]) input")
        }
        // Every window must hold at least one input element (PyTorch's rule: padding ≤ kernel / 2
        // is stricter; Keras 'same' pads up to kernel − 1 at the end).
        if p.top >= kernel || p.left >= kernel || (oh - 1) * stride - p.top >= s[2] || (ow - 1) * stride - p.left >= s[3] {
            throw fail(name, "a pool window lies wholly in padding")
        }
        return append(name, makeOp(g), [x], [s[0], s[1], oh, ow])
    }

    @discardableResult
    public mutating func maxPool(_ name: String, _ x: NodeID, kernel: Int, stride: Int, padding: PaddingRule,
                                 ceilMode: Bool = false) throws(ModelError) -> NodeID {
        try pool(name, x, kernel: kernel, stride: stride, padding: padding, ceilMode: ceilMode) { .maxPool($0) }
    }

    @discardableResult
    public mutating func averagePool(_ name: String, _ x: NodeID, kernel: Int, stride: Int, padding: PaddingRule,
                                     ceilMode: Bool = false, countsPadding: Bool = true) throws(ModelError) -> NodeID {
        try pool(name, x, kernel: kernel, stride: stride, padding: padding, ceilMode: ceilMode) {
            .averagePool($0, countsPadding: countsPadding)
        }
    }

    @discardableResult
    public mutating func globalAveragePool(_ name: String, _ x: NodeID) -> NodeID {
        let s = shape(x)
        return append(name, .globalAveragePool, [x], [s[0], s[1], 1, 1])
    }

    @discardableResult
    public mutating func add(_ name: String, _ a: NodeID, _ b: NodeID) -> NodeID {
        precondition(shape(a) == shape(b), "\(name): add of \(shape(a)) and \(shape(b))")
        return append(name, .add, [a, b], shape(a))
    }

    @discardableResult
    public mutating func concat(_ name: String, _ xs: [NodeID]) -> NodeID {
        let first = shape(xs[0])
        precondition(xs.allSatisfy { let s = shape($0); return s[0] == first[0] && s[2...] == first[2...] },
                     "\(name): concat operands differ in batch or spatial size")
        let c = xs.map(channels).reduce(0, +)
        return append(name, .concat, xs, [first[0], c, first[2], first[3]])
    }

    @discardableResult
    public mutating func resizeBilinear(_ name: String, _ x: NodeID, height: Int, width: Int,
                                        alignCorners: Bool = false) -> NodeID {
        let s = shape(x)
        return append(name, .resizeBilinear(alignCorners: alignCorners), [x], [s[0], s[1], height, width])
    }

    @discardableResult
    public mutating func dropout(_ name: String, _ x: NodeID) -> NodeID {
        append(name, .dropout, [x], shape(x))
    }

    @discardableResult
    public mutating func relu(_ name: String, _ x: NodeID) -> NodeID {
        append(name, .relu, [x], shape(x))
    }

    @discardableResult
    public mutating func softmax(_ name: String, _ x: NodeID) -> NodeID {
        append(name, .softmax, [x], shape(x))
    }

    /// Fully connected on the flattened `[N, C·H·W]` input.
    @discardableResult
    public mutating func linear(_ name: String, _ x: NodeID, outFeatures: Int, bias: Bool = true) -> NodeID {
        let s = shape(x)
        let inFeatures = s.dropFirst().reduce(1, *)
        let layer = LinearLayer(name: name, inFeatures: inFeatures, outFeatures: outFeatures, hasBias: bias, modelSeed: seed)
        return append(name, .fullyConnected(layer), [x], [s[0], outFeatures])
    }
}
