import ConvCore

/// Every generated parameter of a graph, materialized once: folded convolution weights and biases
/// and fully connected weights, by node name. Generating tens of millions of normal samples is the
/// slow part of setting up a run, so runners with different algorithm policies can share one.
public struct ModelWeights: Sendable {
    public struct Pair: Sendable {
        public let weights: Tensor
        public let bias: Tensor?
    }

    public let byLayer: [String: Pair]

    public init(_ graph: ModelGraph) {
        var byLayer: [String: Pair] = [:]
        for node in graph.nodes {
            switch node.op {
            case let .convolution(c):
                let (w, b) = c.foldedParameters()
                byLayer[node.name] = Pair(weights: w, bias: b)
            case let .fullyConnected(l):
                byLayer[node.name] = Pair(weights: l.weights(), bias: l.bias())
            default:
                break
            }
        }
        self.byLayer = byLayer
    }
}
