/// Why a convolution descriptor is invalid. Every message names the field, the value and the rule,
/// so a user can fix the line without reading the source.
public enum DescriptorError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A size, stride, dilation or group count that must be at least 1.
    case notPositive(field: String, value: Int)
    /// Front (top/left) padding or output padding below zero.
    case negativeValue(field: String, value: Int)
    /// End padding so negative that no input row (or column) is left to read.
    case endPaddingTooNegative(field: String, value: Int, limit: Int)
    /// `groups` does not divide a channel count.
    case groupsDoNotDivide(field: String, channels: Int, groups: Int)
    /// The dilated kernel does not fit in the padded input.
    case kernelLargerThanInput(axis: String, kernelExtent: Int, paddedInput: Int)
    /// The geometry leaves no output element on an axis.
    case emptyOutput(axis: String, value: Int)
    /// PyTorch's rule: output padding must be smaller than the stride or the dilation.
    case outputPaddingTooLarge(field: String, value: Int, stride: Int, dilation: Int)
    /// Output padding is a property of transposed convolution only.
    case outputPaddingWithoutTransposed(field: String, value: Int)
    /// An element count or byte count does not fit in `Int`.
    case overflow(what: String)
    /// The tensors would need more memory than the cap allows.
    case exceedsMemoryCap(bytes: Int, cap: Int)

    public var description: String {
        switch self {
        case let .notPositive(field, value):
            return "\(field) must be at least 1, got \(value)"
        case let .negativeValue(field, value):
            return "\(field) must not be negative, got \(value)"
        case let .endPaddingTooNegative(field, value, limit):
            return "\(field) is \(value), but negative end padding may crop at most \(-limit) (it would leave nothing to read)"
        case let .groupsDoNotDivide(field, channels, groups):
            return "\(field) \(channels) is not divisible by groups \(groups)"
        case let .kernelLargerThanInput(axis, extent, padded):
            return "dilated kernel \(axis) extent \(extent) is larger than the padded input \(axis) \(padded)"
        case let .emptyOutput(axis, value):
            return "output \(axis) would be \(value); the geometry leaves no output"
        case let .outputPaddingTooLarge(field, value, stride, dilation):
            return "\(field) \(value) must be smaller than stride \(stride) or dilation \(dilation)"
        case let .outputPaddingWithoutTransposed(field, value):
            return "\(field) is \(value), but output padding applies only to transposed convolution"
        case let .overflow(what):
            return "\(what) overflows a 64-bit integer"
        case let .exceedsMemoryCap(bytes, cap):
            return "tensors need \(bytes) bytes, more than the memory cap of \(cap) bytes"
        }
    }
}

/// Overflow-checked products for shape arithmetic: a shape from a file must never trap.
@usableFromInline
func checkedProduct(_ factors: [Int], _ what: String) throws(DescriptorError) -> Int {
    var result = 1
    for f in factors {
        let (p, o) = result.multipliedReportingOverflow(by: f)
        if o { throw .overflow(what: what) }
        result = p
    }
    return result
}
