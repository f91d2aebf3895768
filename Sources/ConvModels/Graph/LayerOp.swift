import ConvCore

/// What a node computes. Shapes are NCHW; operands come from `Node.inputs`.
public enum LayerOp: Sendable {
    /// The graph's input (node 0 only).
    case input
    /// Convolution with batch norm folded in and an optional ReLU (see `ConvLayer`).
    case convolution(ConvLayer)
    /// Max over each window; padding never wins (it is −∞, as in PyTorch and Keras).
    case maxPool(PoolGeometry)
    /// Mean over each window. `countsPadding` is PyTorch's `count_include_pad` (its default, true);
    /// Keras 'same' pooling divides by the in-bounds count only (false).
    case averagePool(PoolGeometry, countsPadding: Bool)
    /// Mean over all rows and columns: `[N, C, H, W]` → `[N, C, 1, 1]`.
    case globalAveragePool
    /// Element-wise sum of two operands of the same shape.
    case add
    /// Operands stacked along channels, in operand order.
    case concat
    /// Bilinear resize to the node's output height and width. `alignCorners` false is PyTorch's
    /// `F.interpolate(mode="bilinear", align_corners=False)` (half-pixel centres, source index
    /// clamped at 0); true maps corner pixels to corner pixels (TensorFlow DeepLab's resize).
    case resizeBilinear(alignCorners: Bool)
    /// Identity at inference.
    case dropout
    /// `[N, features…]` → `[N, outFeatures]`, y = W·x + b.
    case fullyConnected(LinearLayer)
    /// Softmax over dimension 1 (channels, or features after a fully connected layer).
    case softmax
    case relu

    /// Short kind for reports: "conv", "conv+bn+relu", "maxpool", …
    public var kind: String {
        switch self {
        case .input: return "input"
        case let .convolution(c):
            var k = c.descriptor.isDepthwise && c.descriptor.groups > 1 ? "dwconv" : "conv"
            if c.batchNorm != nil { k += "+bn" }
            if c.relu { k += "+relu" }
            return k
        case .maxPool: return "maxpool"
        case .averagePool: return "avgpool"
        case .globalAveragePool: return "global-avgpool"
        case .add: return "add"
        case .concat: return "concat"
        case .resizeBilinear: return "resize-bilinear"
        case .dropout: return "dropout"
        case .fullyConnected: return "fc"
        case .softmax: return "softmax"
        case .relu: return "relu"
        }
    }
}
