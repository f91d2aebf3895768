/// One 2D convolution, forward or transposed, described exactly.
///
/// Layout conventions are PyTorch's, so `.npy` files made with `torch.nn.functional.conv2d`
/// or `conv_transpose2d` run unchanged:
/// - input  NCHW: `[batch, inChannels, inHeight, inWidth]`
/// - weight OIHW (forward): `[outChannels, inChannels/groups, kernelHeight, kernelWidth]`
/// - weight IOHW (transposed): `[inChannels, outChannels/groups, kernelHeight, kernelWidth]`
/// - output NCHW: `[batch, outChannels, outHeight, outWidth]`
/// - bias: `[outChannels]`
///
/// Dilation is PyTorch's (1 = dense). Padding is given per side. The end (bottom/right) padding
/// may be negative, as oneDNN allows: the last input rows are then never read (forward), or the
/// output is extended by rows that only the bias reaches (transposed). For a transposed
/// convolution, `outputPadding` adds rows at the end exactly as PyTorch's `output_padding`.
///
/// The initializer validates everything; an existing descriptor is always a computable problem.
public struct ConvDescriptor: Hashable, Sendable, Codable {
    public let batch: Int
    public let groups: Int
    public let inChannels: Int
    public let outChannels: Int
    public let inHeight: Int
    public let inWidth: Int
    public let kernelHeight: Int
    public let kernelWidth: Int
    public let strideHeight: Int
    public let strideWidth: Int
    public let padTop: Int
    public let padBottom: Int
    public let padLeft: Int
    public let padRight: Int
    public let dilationHeight: Int
    public let dilationWidth: Int
    public let transposed: Bool
    public let outputPaddingHeight: Int
    public let outputPaddingWidth: Int
    public let hasBias: Bool
    /// Output size, computed once by `ConvDescriptor.outputExtent`.
    public let outHeight: Int
    public let outWidth: Int

    /// 16 GiB: two thirds of the machine this project targets; input + weights + output in float32.
    public static let defaultMemoryCapBytes = 16 << 30

    public init(
        batch: Int = 1, groups: Int = 1,
        inChannels: Int, outChannels: Int,
        inHeight: Int, inWidth: Int,
        kernelHeight: Int, kernelWidth: Int,
        strideHeight: Int = 1, strideWidth: Int = 1,
        padTop: Int = 0, padBottom: Int = 0, padLeft: Int = 0, padRight: Int = 0,
        dilationHeight: Int = 1, dilationWidth: Int = 1,
        transposed: Bool = false,
        outputPaddingHeight: Int = 0, outputPaddingWidth: Int = 0,
        hasBias: Bool = false,
        memoryCapBytes: Int = ConvDescriptor.defaultMemoryCapBytes
    ) throws(DescriptorError) {
        func positive(_ field: String, _ v: Int) throws(DescriptorError) {
            if v < 1 { throw .notPositive(field: field, value: v) }
        }
        try positive("batch (mb)", batch)
        try positive("groups (g)", groups)
        try positive("inChannels (ic)", inChannels)
        try positive("outChannels (oc)", outChannels)
        try positive("inHeight (ih)", inHeight)
        try positive("inWidth (iw)", inWidth)
        try positive("kernelHeight (kh)", kernelHeight)
        try positive("kernelWidth (kw)", kernelWidth)
        try positive("strideHeight (sh)", strideHeight)
        try positive("strideWidth (sw)", strideWidth)
        try positive("dilationHeight (dh, PyTorch convention)", dilationHeight)
        try positive("dilationWidth (dw, PyTorch convention)", dilationWidth)
        if padTop < 0 { throw .negativeValue(field: "padTop (ph)", value: padTop) }
        if padLeft < 0 { throw .negativeValue(field: "padLeft (pw)", value: padLeft) }
        if outputPaddingHeight < 0 { throw .negativeValue(field: "outputPaddingHeight (oph)", value: outputPaddingHeight) }
        if outputPaddingWidth < 0 { throw .negativeValue(field: "outputPaddingWidth (opw)", value: outputPaddingWidth) }
        if inChannels % groups != 0 {
            throw .groupsDoNotDivide(field: "inChannels (ic)", channels: inChannels, groups: groups)
        }
        if outChannels % groups != 0 {
            throw .groupsDoNotDivide(field: "outChannels (oc)", channels: outChannels, groups: groups)
        }
        if !transposed {
            if outputPaddingHeight != 0 { throw .outputPaddingWithoutTransposed(field: "outputPaddingHeight (oph)", value: outputPaddingHeight) }
            if outputPaddingWidth != 0 { throw .outputPaddingWithoutTransposed(field: "outputPaddingWidth (opw)", value: outputPaddingWidth) }
        } else {
            if outputPaddingHeight >= max(strideHeight, dilationHeight) {
                throw .outputPaddingTooLarge(field: "outputPaddingHeight (oph)", value: outputPaddingHeight,
                                             stride: strideHeight, dilation: dilationHeight)
            }
            if outputPaddingWidth >= max(strideWidth, dilationWidth) {
                throw .outputPaddingTooLarge(field: "outputPaddingWidth (opw)", value: outputPaddingWidth,
                                             stride: strideWidth, dilation: dilationWidth)
            }
        }
        let oh = try ConvDescriptor.checkedAxis(
            axis: "height", endField: "padBottom (eh)", input: inHeight, kernel: kernelHeight,
            stride: strideHeight, dilation: dilationHeight, padBegin: padTop, padEnd: padBottom,
            outputPadding: outputPaddingHeight, transposed: transposed)
        let ow = try ConvDescriptor.checkedAxis(
            axis: "width", endField: "padRight (ew)", input: inWidth, kernel: kernelWidth,
            stride: strideWidth, dilation: dilationWidth, padBegin: padLeft, padEnd: padRight,
            outputPadding: outputPaddingWidth, transposed: transposed)

        let inputElements = try checkedProduct([batch, inChannels, inHeight, inWidth], "input element count")
        let outputElements = try checkedProduct([batch, outChannels, oh, ow], "output element count")
        let weightElements = try checkedProduct(
            [transposed ? inChannels : outChannels, (transposed ? outChannels : inChannels) / groups,
             kernelHeight, kernelWidth], "weight element count")
        let (sum1, o1) = inputElements.addingReportingOverflow(outputElements)
        let (sum2, o2) = sum1.addingReportingOverflow(weightElements)
        let (bytes, o3) = sum2.multipliedReportingOverflow(by: MemoryLayout<Float>.size)
        if o1 || o2 || o3 { throw .overflow(what: "tensor byte count") }
        if bytes > memoryCapBytes { throw .exceedsMemoryCap(bytes: bytes, cap: memoryCapBytes) }
        // The multiply-accumulate count must be representable too; reports use it.
        _ = try checkedProduct([transposed ? inputElements : outputElements,
                                (transposed ? outChannels : inChannels) / groups,
                                kernelHeight, kernelWidth], "multiply-accumulate count")

        self.batch = batch; self.groups = groups
        self.inChannels = inChannels; self.outChannels = outChannels
        self.inHeight = inHeight; self.inWidth = inWidth
        self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight; self.strideWidth = strideWidth
        self.padTop = padTop; self.padBottom = padBottom; self.padLeft = padLeft; self.padRight = padRight
        self.dilationHeight = dilationHeight; self.dilationWidth = dilationWidth
        self.transposed = transposed
        self.outputPaddingHeight = outputPaddingHeight; self.outputPaddingWidth = outputPaddingWidth
        self.hasBias = hasBias
        self.outHeight = oh; self.outWidth = ow
    }

    /// Validates one spatial axis and returns its output size.
    private static func checkedAxis(
        axis: String, endField: String, input: Int, kernel: Int, stride: Int, dilation: Int,
        padBegin: Int, padEnd: Int, outputPadding: Int, transposed: Bool
    ) throws(DescriptorError) -> Int {
        let extent = try checkedProduct([kernel - 1, dilation], "dilated kernel \(axis)") + 1
        if !transposed {
            // Negative end padding may crop every input row (benchdnn's lists have such cases:
            // the output then reads only padding); the padded extent must still hold the kernel.
            let padded = input + padBegin + padEnd
            if extent > padded {
                throw .kernelLargerThanInput(axis: axis, kernelExtent: extent, paddedInput: padded)
            }
        } else {
            // Negative end padding extends the output past the scattered extent with bias-only rows;
            // allow it up to what output padding could express (PyTorch's own limit).
            let limit = -(max(stride, dilation) - 1)
            if padEnd - outputPadding < limit {
                throw .endPaddingTooNegative(field: endField, value: padEnd, limit: limit)
            }
        }
        let out = outputExtent(input: input, kernel: kernel, stride: stride, dilation: dilation,
                               padBegin: padBegin, padEnd: padEnd, outputPadding: outputPadding,
                               transposed: transposed)
        if out < 1 { throw .emptyOutput(axis: axis, value: out) }
        return out
    }

    /// The one place the output size is computed.
    /// Forward:    ⌊(input + padBegin + padEnd − extent) / stride⌋ + 1
    /// Transposed: (input − 1)·stride + extent − padBegin − padEnd + outputPadding
    /// where extent = (kernel − 1)·dilation + 1.
    public static func outputExtent(
        input: Int, kernel: Int, stride: Int, dilation: Int,
        padBegin: Int, padEnd: Int, outputPadding: Int = 0, transposed: Bool = false
    ) -> Int {
        let extent = (kernel - 1) * dilation + 1
        if transposed {
            return (input - 1) * stride + extent - padBegin - padEnd + outputPadding
        }
        let span = input + padBegin + padEnd - extent
        return span < 0 ? 0 : span / stride + 1
    }
}
