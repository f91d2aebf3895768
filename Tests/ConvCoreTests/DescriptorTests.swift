import Testing
@testable import ConvCore

@Suite struct DescriptorShapeTests {
    @Test func sevenBySevenWithThreeByThreeGivesFiveByFive() throws {
        let d = try ConvDescriptor(inChannels: 1, outChannels: 1, inHeight: 7, inWidth: 7, kernelHeight: 3, kernelWidth: 3)
        #expect(d.outputShape == [1, 1, 5, 5])
    }

    @Test func stridedFiveByFiveGivesTwoByTwoAndTransposedGivesItBack() throws {
        let d = try ConvDescriptor(inChannels: 1, outChannels: 1, inHeight: 5, inWidth: 5,
                                   kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2)
        #expect(d.outHeight == 2 && d.outWidth == 2)
        let t = try ConvDescriptor(inChannels: 1, outChannels: 1, inHeight: 2, inWidth: 2,
                                   kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2, transposed: true)
        #expect(t.outHeight == 5 && t.outWidth == 5)
    }

    @Test func asymmetricPaddingDilationAndOutputPadding() throws {
        // (6 + 2 + 0 − 3)/1 + 1 = 6 rows; (7 + 1 + 3 − 3)/1 + 1 = 9 columns.
        let a = try ConvDescriptor(inChannels: 2, outChannels: 3, inHeight: 6, inWidth: 7, kernelHeight: 3, kernelWidth: 3,
                                   padTop: 2, padBottom: 0, padLeft: 1, padRight: 3)
        #expect(a.outHeight == 6 && a.outWidth == 9)
        // Dilation 2 makes a 3×3 kernel span 5: (12 + 4 − 5) + 1 = 12.
        let b = try ConvDescriptor(inChannels: 1, outChannels: 1, inHeight: 12, inWidth: 12, kernelHeight: 3, kernelWidth: 3,
                                   padTop: 2, padBottom: 2, padLeft: 2, padRight: 2, dilationHeight: 2, dilationWidth: 2)
        #expect(b.outHeight == 12 && b.kernelExtentHeight == 5)
        // PyTorch: (4 − 1)·2 − 2·1 + 1·(3 − 1) + 1 + 1 = 8.
        let c = try ConvDescriptor(inChannels: 3, outChannels: 2, inHeight: 4, inWidth: 4, kernelHeight: 3, kernelWidth: 3,
                                   strideHeight: 2, strideWidth: 2, padTop: 1, padBottom: 1, padLeft: 1, padRight: 1,
                                   transposed: true, outputPaddingHeight: 1, outputPaddingWidth: 1)
        #expect(c.outputShape == [1, 2, 8, 8])
        #expect(c.weightShape == [3, 2, 3, 3])
    }

    @Test func negativeEndPaddingCropsUnreadRows() throws {
        // 10 rows, stride 2, kernel 3, no padding: the last row is never read; end padding −1 says so.
        let d = try ConvDescriptor(inChannels: 1, outChannels: 1, inHeight: 10, inWidth: 10, kernelHeight: 3, kernelWidth: 3,
                                   strideHeight: 2, strideWidth: 2, padBottom: -1, padRight: -1)
        #expect(d.outHeight == 4)
    }
}

@Suite struct DescriptorCountTests {
    @Test func threeByThreeSixteenToThirtyTwoHas4608Weights() throws {
        let d = try ConvDescriptor(inChannels: 16, outChannels: 32, inHeight: 8, inWidth: 8, kernelHeight: 3, kernelWidth: 3)
        #expect(d.parameterCount == 4_608)
        #expect(try d.withBias(true).parameterCount == 4_608 + 32)
    }

    @Test func depthwiseSeparableReplacementHas656() throws {
        let dw = try ConvDescriptor(groups: 16, inChannels: 16, outChannels: 16, inHeight: 8, inWidth: 8,
                                    kernelHeight: 3, kernelWidth: 3, padTop: 1, padBottom: 1, padLeft: 1, padRight: 1)
        let pw = try ConvDescriptor(inChannels: 16, outChannels: 32, inHeight: 8, inWidth: 8, kernelHeight: 1, kernelWidth: 1)
        #expect(dw.parameterCount == 144)
        #expect(dw.isDepthwise && dw.depthMultiplier == 1)
        #expect(pw.isPointwise)
        #expect(dw.parameterCount + pw.parameterCount == 656)
    }

    @Test func alexNetFirstLayerTwoStreamsHas34848Weights() throws {
        // Two streams of 11×11×3 → 48, each reading the full 3-channel image.
        let stream = try ConvDescriptor(inChannels: 3, outChannels: 48, inHeight: 227, inWidth: 227,
                                        kernelHeight: 11, kernelWidth: 11, strideHeight: 4, strideWidth: 4)
        #expect(2 * stream.parameterCount == 34_848)
        #expect(stream.outHeight == 55)
    }

    @Test func macsFlopsBytesAndReceptiveField() throws {
        let d = try ConvDescriptor(batch: 2, groups: 2, inChannels: 4, outChannels: 6, inHeight: 5, inWidth: 5,
                                   kernelHeight: 3, kernelWidth: 3, padTop: 1, padBottom: 1, padLeft: 1, padRight: 1,
                                   dilationHeight: 2, dilationWidth: 2, hasBias: true)
        // Output 5 − 5 + 2 + 1 = 3 per axis; MACs = 2·6·3·3 · (4/2)·3·3.
        #expect(d.outputShape == [2, 6, 3, 3])
        #expect(d.multiplyAccumulates == 2 * 6 * 3 * 3 * 2 * 9)
        #expect(d.flops == 2 * d.multiplyAccumulates)
        #expect(d.parameterCount == 6 * 2 * 9 + 6)
        #expect(d.bytesTouched == 4 * (2 * 4 * 25 + 6 * 2 * 9 + 6 + 2 * 6 * 9))
        #expect(d.receptiveField == (5, 5))
        let t = try ConvDescriptor(inChannels: 2, outChannels: 4, inHeight: 3, inWidth: 3, kernelHeight: 3, kernelWidth: 3,
                                   strideHeight: 2, strideWidth: 2, transposed: true)
        #expect(t.multiplyAccumulates == 2 * 9 * 4 * 9)
        #expect(t.receptiveField == (2, 2))
    }
}

@Suite struct DescriptorValidationTests {
    typealias Make = @Sendable () throws(DescriptorError) -> ConvDescriptor

    static func base(batch: Int = 1, groups: Int = 1, ic: Int = 4, oc: Int = 4, ih: Int = 8, iw: Int = 8,
                     kh: Int = 3, kw: Int = 3, sh: Int = 1, sw: Int = 1, pt: Int = 0, pb: Int = 0, pl: Int = 0, pr: Int = 0,
                     dh: Int = 1, dw: Int = 1, transposed: Bool = false, oph: Int = 0, opw: Int = 0,
                     cap: Int = ConvDescriptor.defaultMemoryCapBytes) throws(DescriptorError) -> ConvDescriptor {
        try ConvDescriptor(batch: batch, groups: groups, inChannels: ic, outChannels: oc, inHeight: ih, inWidth: iw,
                           kernelHeight: kh, kernelWidth: kw, strideHeight: sh, strideWidth: sw,
                           padTop: pt, padBottom: pb, padLeft: pl, padRight: pr, dilationHeight: dh, dilationWidth: dw,
                           transposed: transposed, outputPaddingHeight: oph, outputPaddingWidth: opw, memoryCapBytes: cap)
    }

    static let cases: [(String, Make, DescriptorError)] = [
        ("zero batch", { () throws(DescriptorError) in try base(batch: 0) }, .notPositive(field: "batch (mb)", value: 0)),
        ("negative channels", { () throws(DescriptorError) in try base(ic: -3) }, .notPositive(field: "inChannels (ic)", value: -3)),
        ("zero out channels", { () throws(DescriptorError) in try base(oc: 0) }, .notPositive(field: "outChannels (oc)", value: 0)),
        ("zero groups", { () throws(DescriptorError) in try base(groups: 0) }, .notPositive(field: "groups (g)", value: 0)),
        ("zero height", { () throws(DescriptorError) in try base(ih: 0) }, .notPositive(field: "inHeight (ih)", value: 0)),
        ("zero width", { () throws(DescriptorError) in try base(iw: 0) }, .notPositive(field: "inWidth (iw)", value: 0)),
        ("zero kernel", { () throws(DescriptorError) in try base(kh: 0) }, .notPositive(field: "kernelHeight (kh)", value: 0)),
        ("negative kernel width", { () throws(DescriptorError) in try base(kw: -1) }, .notPositive(field: "kernelWidth (kw)", value: -1)),
        ("zero stride", { () throws(DescriptorError) in try base(sh: 0) }, .notPositive(field: "strideHeight (sh)", value: 0)),
        ("zero stride width", { () throws(DescriptorError) in try base(sw: 0) }, .notPositive(field: "strideWidth (sw)", value: 0)),
        ("zero dilation", { () throws(DescriptorError) in try base(dh: 0) },
         .notPositive(field: "dilationHeight (dh, PyTorch convention)", value: 0)),
        ("zero dilation width", { () throws(DescriptorError) in try base(dw: 0) },
         .notPositive(field: "dilationWidth (dw, PyTorch convention)", value: 0)),
        ("negative top padding", { () throws(DescriptorError) in try base(pt: -1) }, .negativeValue(field: "padTop (ph)", value: -1)),
        ("negative left padding", { () throws(DescriptorError) in try base(pl: -2) }, .negativeValue(field: "padLeft (pw)", value: -2)),
        ("end padding crops past the kernel", { () throws(DescriptorError) in try base(kh: 1, pb: -8) },
         .kernelLargerThanInput(axis: "height", kernelExtent: 1, paddedInput: 0)),
        ("transposed end padding beyond output padding's reach", { () throws(DescriptorError) in
            try base(sh: 2, pb: -2, transposed: true) },
         .endPaddingTooNegative(field: "padBottom (eh)", value: -2, limit: -1)),
        ("groups do not divide input", { () throws(DescriptorError) in try base(groups: 3, ic: 4, oc: 6) },
         .groupsDoNotDivide(field: "inChannels (ic)", channels: 4, groups: 3)),
        ("groups do not divide output", { () throws(DescriptorError) in try base(groups: 2, ic: 4, oc: 5) },
         .groupsDoNotDivide(field: "outChannels (oc)", channels: 5, groups: 2)),
        ("dilated kernel larger than padded input", { () throws(DescriptorError) in try base(ih: 8, pt: 1, pb: 1, dh: 5) },
         .kernelLargerThanInput(axis: "height", kernelExtent: 11, paddedInput: 10)),
        ("kernel wider than input", { () throws(DescriptorError) in try base(iw: 2) },
         .kernelLargerThanInput(axis: "width", kernelExtent: 3, paddedInput: 2)),
        ("output padding equal to stride", { () throws(DescriptorError) in try base(sh: 2, transposed: true, oph: 2) },
         .outputPaddingTooLarge(field: "outputPaddingHeight (oph)", value: 2, stride: 2, dilation: 1)),
        ("output padding with stride and dilation 1", { () throws(DescriptorError) in try base(transposed: true, opw: 1) },
         .outputPaddingTooLarge(field: "outputPaddingWidth (opw)", value: 1, stride: 1, dilation: 1)),
        ("output padding on forward", { () throws(DescriptorError) in try base(sh: 2, oph: 1) },
         .outputPaddingWithoutTransposed(field: "outputPaddingHeight (oph)", value: 1)),
        ("negative output padding", { () throws(DescriptorError) in try base(transposed: true, oph: -1) },
         .negativeValue(field: "outputPaddingHeight (oph)", value: -1)),
        ("transposed padding crops all output", { () throws(DescriptorError) in try base(ih: 1, kh: 1, pt: 1, transposed: true) },
         .emptyOutput(axis: "height", value: 0)),
        ("element count overflows Int", { () throws(DescriptorError) in try base(batch: Int.max / 2, ic: 4) },
         .overflow(what: "input element count")),
        ("exceeds memory cap", { () throws(DescriptorError) in try base(batch: 1000, ic: 64, oc: 64, ih: 64, iw: 64, cap: 1 << 30) },
         .exceedsMemoryCap(bytes: 4 * (1000 * 64 * 64 * 64 + 1000 * 64 * 62 * 62 + 64 * 64 * 9), cap: 1 << 30)),
    ]

    @Test(arguments: 0..<cases.count)
    func invalidDescriptorIsRejectedWithItsField(_ index: Int) {
        let (label, make, expected) = Self.cases[index]
        do {
            let d = try make()
            Issue.record("\(label): accepted \(d)")
        } catch {
            #expect(error == expected, "\(label)")
            // The message names the field or axis and the value.
            #expect(!error.description.isEmpty)
        }
    }

    @Test func messagesNameFieldAndValue() {
        #expect(DescriptorError.notPositive(field: "strideHeight (sh)", value: 0).description
            == "strideHeight (sh) must be at least 1, got 0")
        #expect(DescriptorError.groupsDoNotDivide(field: "inChannels (ic)", channels: 4, groups: 3).description
            == "inChannels (ic) 4 is not divisible by groups 3")
        #expect(DescriptorError.kernelLargerThanInput(axis: "height", kernelExtent: 11, paddedInput: 10).description
            == "dilated kernel height extent 11 is larger than the padded input height 10")
    }
}
