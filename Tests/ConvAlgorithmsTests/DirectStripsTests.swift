@testable import ConvAlgorithms
import ConvCore
import ConvVerify
import Testing

/// direct's strip path for layers with few taps (DirectStrips.swift): 4 output channels × 24
/// columns over a list of tap offsets, a row's last columns recomputed as the row's last 24.
/// Xception's stem at a smaller size (stride 2, no padding: the buffer's phases start even; with
/// padding 1 they start odd), ResNet's 7×7 stride-2 stem, a dilated grouped layer (two groups, a
/// partial last block of output channels), stride 3 (three phases, copied column by column), a
/// row exactly one tile wide, and two images, and rows of 48 columns and more (`wideCases`). Each
/// gives the same bits at 1–4 threads and agrees with the reference.
@Suite struct DirectStripsTests {
    static let cases: [ConvDescriptor] = {
        func conv(batch: Int = 1, groups: Int = 1, _ cin: Int, _ cout: Int, _ h: Int, _ w: Int, k: Int, stride: Int = 1,
                  pad: Int = 0, dilation: Int = 1) -> ConvDescriptor {
            try! ConvDescriptor(batch: batch, groups: groups, inChannels: cin, outChannels: cout, inHeight: h, inWidth: w,
                                kernelHeight: k, kernelWidth: k, strideHeight: stride, strideWidth: stride,
                                padTop: pad, padBottom: pad, padLeft: pad, padRight: pad,
                                dilationHeight: dilation, dilationWidth: dilation, hasBias: true)
        }
        return [conv(3, 32, 61, 61, k: 3, stride: 2), conv(3, 32, 61, 61, k: 3, stride: 2, pad: 1),
                conv(3, 16, 70, 64, k: 7, stride: 2, pad: 3), conv(groups: 2, 8, 20, 30, 50, k: 3, pad: 2, dilation: 2),
                conv(5, 12, 40, 92, k: 3, stride: 3, pad: 1), conv(6, 9, 26, 26, k: 3), conv(batch: 2, 4, 8, 13, 35, k: 5, pad: 2)]
            + wideCases
    }()

    /// Rows of at least 48 columns, which take the 8 × 48 tile where the kernels have 32 registers
    /// (DirectStripsWide.swift): two whole tiles (96 columns), a last tile of 32 (2·48 + 24), of 16
    /// (Xception's stem at full width: 149 = 3·48 + 5), of 48 overlapping (48 + 37), and 288 taps
    /// (Xception's 32→64 layer: beyond `stripMaxTaps`) with an odd block count (5 blocks of 4 for
    /// 20 output channels, the last without a pair).
    static let wideCases: [ConvDescriptor] = [
        try! ConvDescriptor(inChannels: 3, outChannels: 8, inHeight: 9, inWidth: 98, kernelHeight: 3, kernelWidth: 3, hasBias: true),
        try! ConvDescriptor(inChannels: 2, outChannels: 12, inHeight: 7, inWidth: 120, kernelHeight: 3, kernelWidth: 3,
                            padTop: 1, padBottom: 1, padLeft: 1, padRight: 1, hasBias: true),
        try! ConvDescriptor(inChannels: 3, outChannels: 32, inHeight: 9, inWidth: 299, kernelHeight: 3, kernelWidth: 3,
                            strideHeight: 2, strideWidth: 2, hasBias: true),
        try! ConvDescriptor(inChannels: 4, outChannels: 6, inHeight: 5, inWidth: 89, kernelHeight: 5, kernelWidth: 5,
                            padTop: 2, padBottom: 2, padLeft: 2, padRight: 2, hasBias: true),
        try! ConvDescriptor(inChannels: 32, outChannels: 20, inHeight: 6, inWidth: 62, kernelHeight: 3, kernelWidth: 3, hasBias: true),
    ]

    /// The wide cases' last tiles are those named, where the wide tile applies.
    @Test func wideRowsEndWithTheTileTheyNeed() {
        #expect(Self.wideCases.map { $0.outWidth } == [96, 120, 149, 89, 60])
        #expect(Self.wideCases.allSatisfy { $0.outWidth >= DirectConvolution.wideStrip })
        #expect(Self.wideCases[4].inChannels * 9 > DirectConvolution.stripMaxTaps)
    }

    @Test(arguments: cases)
    func sameBitsAtEveryThreadCountAndAgreesWithTheReference(_ conv: ConvDescriptor) throws {
        #expect(DirectConvolution.runsAsStrips(conv), "\(conv.caseLine)")
        try expectSameBitsAtEveryThreadCount(DirectConvolution(), on: conv, seed: 41)
    }

    /// The ReLU applied as each tile is stored: the same bits as max(y, 0) after the plain run.
    @Test func reluAsItStores() throws {
        try expectReLUAsItStores(DirectConvolution(), on: Self.cases[0], seed: 7)
        try expectReLUAsItStores(DirectConvolution(), on: Self.wideCases[2], seed: 8)
    }

    /// Rows narrower than a tile, many taps, and output channels fewer than a block stay on the row kernel.
    @Test func otherLayersKeepTheRowKernel() throws {
        #expect(!DirectConvolution.runsAsStrips(try ConvDescriptor(inChannels: 3, outChannels: 8, inHeight: 20, inWidth: 20,
                                                                    kernelHeight: 3, kernelWidth: 3)))
        #expect(!DirectConvolution.runsAsStrips(try ConvDescriptor(inChannels: 64, outChannels: 64, inHeight: 56, inWidth: 56,
                                                                    kernelHeight: 3, kernelWidth: 3, padTop: 1, padBottom: 1,
                                                                    padLeft: 1, padRight: 1)))
        #expect(!DirectConvolution.runsAsStrips(try ConvDescriptor(groups: 16, inChannels: 16, outChannels: 16, inHeight: 40,
                                                                    inWidth: 40, kernelHeight: 3, kernelWidth: 3)))
    }
}
