@testable import ConvAlgorithms
import ConvCore
import ConvVerify
import Testing

/// direct's shifted-tap path for dilated layers with many input channels (DirectTaps.swift):
/// 16-pixel strips in row-major order, taps that reach only padding for a strip skipped, chunks of
/// 128 input channels, 8 output channels per register tile. ASPP-like rate 6 on a 20×20 map (strips
/// cross rows, 20 output channels leave a partial block), rate 13 on 24×24 (corner taps reach the
/// image for 11 rows and columns), a 3×2 kernel dilated (3, 1) with uneven padding on two 13×17
/// images (the last strip of each plane holds 13 pixels), and 300 input channels (a 44-channel
/// last chunk). Each gives the same bits at 1–4 threads and agrees with the reference.
@Suite struct DirectTapsTests {
    static let cases: [ConvDescriptor] = [
        try! ConvDescriptor(inChannels: 256, outChannels: 20, inHeight: 20, inWidth: 20, kernelHeight: 3, kernelWidth: 3,
                            padTop: 6, padBottom: 6, padLeft: 6, padRight: 6, dilationHeight: 6, dilationWidth: 6, hasBias: true),
        try! ConvDescriptor(inChannels: 256, outChannels: 8, inHeight: 24, inWidth: 24, kernelHeight: 3, kernelWidth: 3,
                            padTop: 13, padBottom: 13, padLeft: 13, padRight: 13, dilationHeight: 13, dilationWidth: 13),
        try! ConvDescriptor(batch: 2, inChannels: 256, outChannels: 11, inHeight: 13, inWidth: 17, kernelHeight: 3, kernelWidth: 2,
                            padTop: 3, padBottom: 3, padLeft: 0, padRight: 1, dilationHeight: 3, dilationWidth: 1, hasBias: true),
        try! ConvDescriptor(inChannels: 300, outChannels: 16, inHeight: 18, inWidth: 18, kernelHeight: 3, kernelWidth: 3,
                            padTop: 2, padBottom: 2, padLeft: 2, padRight: 2, dilationHeight: 2, dilationWidth: 2, hasBias: true),
    ]

    @Test(arguments: cases)
    func sameBitsAtEveryThreadCountAndAgreesWithTheReference(_ conv: ConvDescriptor) throws {
        #expect(DirectConvolution.runsAsShiftedTaps(conv), "\(conv.caseLine)")
        try expectSameBitsAtEveryThreadCount(DirectConvolution(), on: conv, seed: 51)
    }

    /// The ReLU applied as the panel is stored: the same bits as max(y, 0) after the plain run.
    @Test func reluAsItStores() throws {
        try expectReLUAsItStores(DirectConvolution(), on: Self.cases[0], seed: 9)
    }

    /// A strip whose pixels all read padding under a tap skips it: at rate 13 on 24×24, the
    /// top-left tap (offset −13, −13) reaches the image only from output row 13 on.
    @Test func tapsWhollyInPaddingAreSkipped() {
        let p = DirectConvolution.Plan(Self.cases[1])
        #expect(!DirectConvolution.tapReaches(p, strip: 0, dy: -13, dx: -13))
        #expect(DirectConvolution.tapReaches(p, strip: 13 * 24 / 16 + 1, dy: -13, dx: -13))
        #expect(DirectConvolution.tapReaches(p, strip: 0, dy: 0, dx: 0))
    }

    /// Strided, grouped, undilated or narrow layers keep the other paths.
    @Test func otherLayersKeepTheirPaths() throws {
        func conv(groups: Int = 1, cin: Int = 256, stride: Int = 1, dilation: Int = 2) throws -> ConvDescriptor {
            try ConvDescriptor(groups: groups, inChannels: cin, outChannels: 16, inHeight: 20, inWidth: 20, kernelHeight: 3,
                               kernelWidth: 3, strideHeight: stride, strideWidth: stride, padTop: 2, padBottom: 2, padLeft: 2,
                               padRight: 2, dilationHeight: dilation, dilationWidth: dilation)
        }
        #expect(DirectConvolution.runsAsShiftedTaps(try conv()))
        #expect(!DirectConvolution.runsAsShiftedTaps(try conv(groups: 2)))
        #expect(!DirectConvolution.runsAsShiftedTaps(try conv(stride: 2)))
        #expect(!DirectConvolution.runsAsShiftedTaps(try conv(dilation: 1)))
        #expect(!DirectConvolution.runsAsShiftedTaps(try conv(cin: 128)))
    }
}
