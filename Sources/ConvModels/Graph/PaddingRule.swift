/// How a layer pads its input, resolved to rows and columns per side once the input size is known.
public enum PaddingRule: Sendable, Hashable {
    /// No padding (Keras and TensorFlow 'VALID').
    case valid
    /// TensorFlow and Keras 'SAME': the output has ⌈input / stride⌉ positions; the total padding
    /// max((out − 1)·stride + extent − input, 0) is split with the odd pixel at the bottom/right.
    case same
    /// Explicit rows and columns per side (PyTorch's symmetric `padding=p` is `.symmetric(p)`).
    case explicit(top: Int, bottom: Int, left: Int, right: Int)

    public static func symmetric(_ p: Int) -> PaddingRule { .explicit(top: p, bottom: p, left: p, right: p) }

    /// TensorFlow DeepLab's `fixed_padding` for strided layers (`use_explicit_padding`): extent − 1
    /// pixels in total, independent of the input size, the odd one at the end; then 'VALID'.
    public static func fixed(extent: Int) -> PaddingRule {
        let total = extent - 1
        return .explicit(top: total / 2, bottom: total - total / 2, left: total / 2, right: total - total / 2)
    }

    /// Per-side padding for an input of `height`×`width` and a window of the given dilated extent and stride.
    public func resolve(height: Int, width: Int, extentHeight: Int, extentWidth: Int,
                        strideHeight: Int, strideWidth: Int) -> (top: Int, bottom: Int, left: Int, right: Int) {
        switch self {
        case .valid:
            return (0, 0, 0, 0)
        case let .explicit(top, bottom, left, right):
            return (top, bottom, left, right)
        case .same:
            func split(_ input: Int, _ extent: Int, _ stride: Int) -> (Int, Int) {
                let out = (input + stride - 1) / stride
                let total = max((out - 1) * stride + extent - input, 0)
                return (total / 2, total - total / 2)
            }
            let (t, b) = split(height, extentHeight, strideHeight)
            let (l, r) = split(width, extentWidth, strideWidth)
            return (t, b, l, r)
        }
    }
}
