@testable import ConvAlgorithms
import ConvCore
import Testing

/// direct's 1×1 path on small planes under large weights (`pointwiseBlockMajor`): the workers split
/// the output-channel blocks, each computing every strip in panels and the plane's last pixels eight
/// blocks at a time after its last panel. The same bits at 1–4 threads (1 thread takes the strip
/// split, so this also compares the two splits) and agreement with the reference: 10×10 (4 strips
/// and a 4-pixel tail, Xception's exit flow), 5×5 (1 strip, 1 pixel), 8×12 (4 strips, no tail),
/// a panel limit below the strip count (1200 input channels: panels of 3 strips), a strided gather
/// with groups, and output channels that leave a partial last block.
@Suite struct PointwiseBlockMajorTests {
    @Test(arguments: [(1, 40, 104, 10, 10, 1), (1, 12, 30, 5, 5, 1), (1, 16, 100, 8, 12, 1), (1, 1200, 110, 10, 10, 1),
                      (2, 24, 242, 19, 19, 2)])
    func sameBitsAsTheStripSplit(groups: Int, cin: Int, cout: Int, height: Int, width: Int, stride: Int) throws {
        let conv = try ConvDescriptor(groups: groups, inChannels: cin, outChannels: cout, inHeight: height, inWidth: width,
                                      kernelHeight: 1, kernelWidth: 1, strideHeight: stride, strideWidth: stride, hasBias: true)
        let p = DirectConvolution.Plan(conv)
        let fullTiles = conv.outHeight * conv.outWidth / DirectConvolution.pointwiseTile
        #expect(DirectConvolution.pointwiseBlockMajor(p, fullTiles: fullTiles, threads: 2))
        #expect(!DirectConvolution.pointwiseBlockMajor(p, fullTiles: fullTiles, threads: 1))
        try DirectPointwiseTests().expectPointwiseSameBits(conv, seed: UInt64(cin + cout))
    }

    /// Xception's middle flow (15 strips) keeps the strip split.
    @Test func largerPlanesKeepTheStripSplit() throws {
        let conv = try ConvDescriptor(inChannels: 728, outChannels: 728, inHeight: 19, inWidth: 19, kernelHeight: 1, kernelWidth: 1)
        #expect(!DirectConvolution.pointwiseBlockMajor(DirectConvolution.Plan(conv), fullTiles: 15, threads: 2))
    }
}
