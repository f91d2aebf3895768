extension ConvDescriptor {
    /// The same convolution with or without a bias term.
    public func withBias(_ hasBias: Bool) throws(DescriptorError) -> ConvDescriptor {
        try ConvDescriptor(
            batch: batch, groups: groups, inChannels: inChannels, outChannels: outChannels,
            inHeight: inHeight, inWidth: inWidth, kernelHeight: kernelHeight, kernelWidth: kernelWidth,
            strideHeight: strideHeight, strideWidth: strideWidth,
            padTop: padTop, padBottom: padBottom, padLeft: padLeft, padRight: padRight,
            dilationHeight: dilationHeight, dilationWidth: dilationWidth, transposed: transposed,
            outputPaddingHeight: outputPaddingHeight, outputPaddingWidth: outputPaddingWidth,
            hasBias: hasBias, memoryCapBytes: Int.max)
    }
}
