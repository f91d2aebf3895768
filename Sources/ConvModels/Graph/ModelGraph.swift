import ConvCore

/// Index of a node in its graph. Node 0 is always the graph's input.
public struct NodeID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let index: Int
    public init(_ index: Int) { self.index = index }
    public static func < (a: NodeID, b: NodeID) -> Bool { a.index < b.index }
    public var description: String { "#\(index)" }
}

/// One layer of a model: what it computes, from which earlier nodes, and the shape it produces.
///
/// Names are the original framework's: torchvision's qualified module names
/// (`backbone.layer3.0.conv2`), Keras layer names (`block5_sepconv1_bn` is folded into
/// `block5_sepconv1/pointwise`), TensorFlow DeepLab scopes. Functional operations that have no
/// module in the framework (torchvision's residual additions, `F.interpolate`) get the module path
/// they occur in plus the operation (`backbone.layer1.0.add`).
public struct Node: Sendable {
    public let name: String
    /// The part of the network the node belongs to (a ResNet stage, an Xception block, the ASPP):
    /// reports group time, parameters and FLOPs by it.
    public let block: String
    public let op: LayerOp
    /// Earlier nodes whose outputs this node reads, in operand order.
    public let inputs: [NodeID]
    /// NCHW for feature maps, `[N, features]` after a fully connected layer.
    public let outputShape: [Int]

    public var outputCount: Int { outputShape.reduce(1, *) }
}

/// A model as an explicit list of nodes in execution order (every node's inputs come earlier).
/// It is not a general framework: a node has exactly one output, and the graph is fixed when
/// built. Weights are not stored; each layer generates them from its seed when asked, so a
/// 60-million-parameter graph costs nothing to build and count.
public struct ModelGraph: Sendable {
    public let name: String
    public let nodes: [Node]
    /// Nodes whose outputs the model returns, in order (DeepLab with an aux head returns two).
    public let outputs: [NodeID]

    public init(name: String, nodes: [Node], outputs: [NodeID]) {
        precondition(!nodes.isEmpty, "a graph has at least its input node")
        if case .input = nodes[0].op {} else { preconditionFailure("node 0 must be the input") }
        for (i, node) in nodes.enumerated() {
            precondition(node.inputs.allSatisfy { $0.index < i }, "\(node.name) reads a later node")
        }
        precondition(Set(nodes.map(\.name)).count == nodes.count, "node names must be unique in \(name)")
        self.name = name
        self.nodes = nodes
        self.outputs = outputs
    }

    public var input: NodeID { NodeID(0) }
    public var inputShape: [Int] { nodes[0].outputShape }

    public subscript(id: NodeID) -> Node { nodes[id.index] }

    public var ids: [NodeID] { nodes.indices.map(NodeID.init) }

    public func id(named name: String) -> NodeID? {
        nodes.firstIndex { $0.name == name }.map(NodeID.init)
    }

    /// The same graph returning the outputs of the nodes named `names`, in that order (to look at
    /// intermediate values: the buffer plan then keeps them to the end).
    public func returning(_ names: [String]) throws(ModelError) -> ModelGraph {
        var outputs: [NodeID] = []
        for n in names {
            guard let id = id(named: n) else { throw .unknownLayer(model: name, layer: n) }
            outputs.append(id)
        }
        return ModelGraph(name: name, nodes: nodes, outputs: outputs)
    }

    /// The convolution nodes in execution order (a separable convolution is two of them).
    public var convolutions: [(id: NodeID, node: Node, layer: ConvLayer)] {
        nodes.enumerated().compactMap { i, node in
            if case let .convolution(layer) = node.op { return (NodeID(i), node, layer) }
            return nil
        }
    }
}
