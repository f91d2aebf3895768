@testable import ConvAlgorithms
import ConvCore
import Testing

/// direct's 1×1 path on small planes under large weights (`pointwiseBlockMajor`): the workers split
/// the output-channel blocks, each computing every pixel for eight blocks at a time. The same bits
/// at 1–4 threads (1 thread takes the strip split, so this also compares the two splits), read in
/// place and packed (`StripInput`), and agreement with the reference. 48-pixel strips where the
/// kernels have 32 registers, read in place (`inPlaceBlocks`) or packed: 10×10 (2 wide strips and
/// a 4-pixel tail, Xception's exit flow), 8×12 (2 wide strips, no tail), 8×10 (a wide strip, a
/// 24-pixel strip and an 8-pixel tail), 1200 input channels, a strided gather with groups (19×19
/// at stride 2: 10×10, always packed); packed 24-pixel panels: 5×5 (1 strip, 1 pixel). Odd block
/// counts per worker leave a block without a pair, and output channels a partial last block.
@Suite struct PointwiseBlockMajorTests {
    @Test(arguments: [(1, 40, 104, 10, 10, 1), (1, 12, 30, 5, 5, 1), (1, 16, 100, 8, 12, 1), (1, 1200, 110, 10, 10, 1),
                      (1, 20, 90, 8, 10, 1), (2, 24, 242, 19, 19, 2)])
    func sameBitsAsTheStripSplit(groups: Int, cin: Int, cout: Int, height: Int, width: Int, stride: Int) throws {
        let conv = try ConvDescriptor(groups: groups, inChannels: cin, outChannels: cout, inHeight: height, inWidth: width,
                                      kernelHeight: 1, kernelWidth: 1, strideHeight: stride, strideWidth: stride, hasBias: true)
        let p = DirectConvolution.Plan(conv)
        let fullTiles = conv.outHeight * conv.outWidth / DirectConvolution.pointwiseTile
        #expect(DirectConvolution.pointwiseBlockMajor(p, fullTiles: fullTiles, threads: 2))
        #expect(!DirectConvolution.pointwiseBlockMajor(p, fullTiles: fullTiles, threads: 1))
        #expect(DirectConvolution.pointwiseReadsInPlace(p) == (DirectConvolution.wide && stride == 1 && height * width >= 48))
        try DirectPointwiseTests().expectPointwiseSameBits(conv, seed: UInt64(cin + cout))
    }

    /// Xception's middle flow (15 strips) keeps the strip split.
    @Test func largerPlanesKeepTheStripSplit() throws {
        let conv = try ConvDescriptor(inChannels: 728, outChannels: 728, inHeight: 19, inWidth: 19, kernelHeight: 1, kernelWidth: 1)
        #expect(!DirectConvolution.pointwiseBlockMajor(DirectConvolution.Plan(conv), fullTiles: 15, threads: 2))
    }
}
