/// The window of a max or average pool: kernel, stride, padding per side and PyTorch's ceil mode.
/// Dilation is always 1 (no model here dilates a pool).
public struct PoolGeometry: Sendable, Hashable {
    public let kernelHeight: Int, kernelWidth: Int
    public let strideHeight: Int, strideWidth: Int
    public let padTop: Int, padBottom: Int, padLeft: Int, padRight: Int
    /// PyTorch's `ceil_mode`: round the output size up, but never start a window in the end padding.
    public let ceilMode: Bool

    public init(kernelHeight: Int, kernelWidth: Int, strideHeight: Int, strideWidth: Int,
                padTop: Int, padBottom: Int, padLeft: Int, padRight: Int, ceilMode: Bool = false) {
        self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight; self.strideWidth = strideWidth
        self.padTop = padTop; self.padBottom = padBottom; self.padLeft = padLeft; self.padRight = padRight
        self.ceilMode = ceilMode
    }

    /// The one place a pool's output size is computed (PyTorch's `pooling_output_shape`):
    /// ⌊ or ⌈ (input + padBegin + padEnd − kernel) / stride ⌉ + 1, minus one in ceil mode when the
    /// last window would start at or past the input's end plus begin padding.
    public static func outputExtent(input: Int, kernel: Int, stride: Int, padBegin: Int, padEnd: Int,
                                    ceilMode: Bool) -> Int {
        let span = input + padBegin + padEnd - kernel
        if span < 0 { return 0 }
        var out = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1
        if ceilMode && (out - 1) * stride >= input + padBegin { out -= 1 }
        return out
    }

    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        (Self.outputExtent(input: height, kernel: kernelHeight, stride: strideHeight,
                           padBegin: padTop, padEnd: padBottom, ceilMode: ceilMode),
         Self.outputExtent(input: width, kernel: kernelWidth, stride: strideWidth,
                           padBegin: padLeft, padEnd: padRight, ceilMode: ceilMode))
    }
}
