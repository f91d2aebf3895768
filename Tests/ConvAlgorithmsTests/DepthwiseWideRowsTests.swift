@testable import ConvAlgorithms
import ConvCore
import Testing

/// depthwise-simd's 3×3 stride-1 kernel for rows at least 32 wide, or 16 on Intel cores
/// (`plane3x3Wide`: four output rows and 16 columns per step; 19×19 and 6×16 take it only there): every output element is exactly the bias followed by its nine taps in
/// order (kernel row by row) by fused multiply-adds, padding taps included as zeros — the sum the
/// 8-lane kernel forms — for output heights leaving 0–3 rows after the four-row steps, widths that
/// are and are not multiples of 16, symmetric, no and one-sided padding, depth multipliers 1 and 2,
/// the input ReLU, and 1–3 threads; and with the output rows prefetched ahead (planes of 64 KB
/// and more, `prefetchesOutputRows`). Planes narrower than 32 with padding 1 all round take the
/// flat kernel instead on Intel cores, and here on every CPU (`planeFlat3x3`, at least 16 pixels:
/// 19×19, 10×10, 4×4, 7×31, 6×16), to the same bits; 3×5 does not.
@Suite struct DepthwiseWideRowsTests {
    @Test(arguments: [(8, 32), (9, 37), (10, 48), (11, 147), (4, 33), (115, 147), (19, 19), (6, 16), (10, 10), (4, 4),
                      (7, 31), (3, 5)])
    func exactSums(height: Int, width: Int) throws {
        for (padTop, padBottom, padLeft, padRight) in [(1, 1, 1, 1), (0, 0, 0, 0), (0, 1, 1, 0)] {
            for multiplier in [1, 2] {
                let conv = try ConvDescriptor(groups: 3, inChannels: 3, outChannels: 3 * multiplier, inHeight: height,
                                              inWidth: width + 2 - padLeft - padRight, kernelHeight: 3, kernelWidth: 3,
                                              padTop: padTop, padBottom: padBottom, padLeft: padLeft, padRight: padRight,
                                              hasBias: true)
                #expect(conv.outWidth == width)
                let single = try ConvDescriptor(inChannels: 1, outChannels: 1, inHeight: conv.inHeight, inWidth: conv.inWidth,
                                                kernelHeight: 3, kernelWidth: 3, padTop: padTop, padBottom: padBottom,
                                                padLeft: padLeft, padRight: padRight)
                #expect(DepthwiseSIMD.widensRows(DirectConvolution.Plan(single))
                        == (DirectConvolution.wide && (width >= 32 || (DepthwiseSIMD.narrowRowsWiden && width >= 16))))
                #expect(DepthwiseSIMD.prefetchesOutputRows(DirectConvolution.Plan(single)) == (height == 115))
                #expect(DepthwiseSIMD.runsFlat(DirectConvolution.Plan(single))
                        == (DirectConvolution.wide && padTop == 1 && padLeft == 1 && padBottom == 1 && padRight == 1
                            && width < 32 && height * width >= 16))
                let x = Tensor.random(shape: conv.inputShape, .normal(mean: 0, std: 1), seed: UInt64(height * width))
                let w = Tensor.random(shape: conv.weightShape, .normal(mean: 0, std: 1), seed: 5)
                let b = Tensor.random(shape: conv.biasShape, .normal(mean: 0, std: 1), seed: 6)
                for (threads, algorithm) in [(1, DepthwiseSIMD()), (2, DepthwiseSIMD()), (3, DepthwiseSIMD()),
                                             (1, DepthwiseSIMD(flatPlanes: true)), (2, DepthwiseSIMD(flatPlanes: true))] {
                    let prepared = try algorithm.prepare(conv, weights: w, bias: b, options: AlgorithmOptions(threads: threads))
                    for reluInput in [false, true] {
                        var y = Tensor(shape: conv.outputShape)
                        y.fill(.nan)
                        if reluInput {
                            let fusing = try #require(prepared as? any InputReLUFusing)
                            try fusing.run(reluOf: x, into: &y, relu: false, threads: threads)
                        } else {
                            try prepared.run(x, into: &y)
                        }
                        let want = expected(conv, x, w, b, reluInput: reluInput)
                        let differing = zip(y.scalars, want).filter { $0.bitPattern != $1.bitPattern }.count
                        #expect(differing == 0,
                                "\(conv.caseLine), \(threads) threads, input ReLU \(reluInput): \(differing) of \(want.count) differ")
                    }
                }
            }
        }
    }

    /// Xception's 147×147 depthwise layers prefetch their output rows; its 74×74 ones, whose
    /// outputs are still in the cache in a pass, do not.
    @Test func prefetchedPlanes() throws {
        func plan(_ side: Int) throws -> DirectConvolution.Plan {
            DirectConvolution.Plan(try ConvDescriptor(groups: 64, inChannels: 64, outChannels: 64, inHeight: side,
                                                      inWidth: side, kernelHeight: 3, kernelWidth: 3,
                                                      padTop: 1, padBottom: 1, padLeft: 1, padRight: 1))
        }
        #expect(try DepthwiseSIMD.prefetchesOutputRows(plan(147)))
        #expect(try !DepthwiseSIMD.prefetchesOutputRows(plan(74)))
        #expect(try !DepthwiseSIMD.prefetchesOutputRows(plan(19)))
    }

    /// y[oc][oy][ox] = bias, then + w[ky][kx]·x[oy + ky − padTop][ox + kx − padLeft] for ky, kx in
    /// order by fused multiply-adds, x zero outside the image (and max(x, 0) with the input ReLU).
    func expected(_ c: ConvDescriptor, _ x: Tensor, _ w: Tensor, _ b: Tensor, reluInput: Bool) -> [Float] {
        let xs = x.scalars, ws = w.scalars, bs = b.scalars
        let m = c.outChannels / c.inChannels
        var out = [Float](repeating: 0, count: c.outChannels * c.outHeight * c.outWidth)
        for oc in 0..<c.outChannels {
            let ic = oc / m
            for oy in 0..<c.outHeight {
                for ox in 0..<c.outWidth {
                    var sum = bs[oc]
                    for ky in 0..<3 {
                        for kx in 0..<3 {
                            let iy = oy + ky - c.padTop, ix = ox + kx - c.padLeft
                            var v: Float = 0
                            if iy >= 0 && iy < c.inHeight && ix >= 0 && ix < c.inWidth {
                                v = xs[(ic * c.inHeight + iy) * c.inWidth + ix]
                                if reluInput && v < 0 { v = 0 }
                            }
                            sum = sum.addingProduct(v, ws[oc * 9 + ky * 3 + kx])
                        }
                    }
                    out[(oc * c.outHeight + oy) * c.outWidth + ox] = sum
                }
            }
        }
        return out
    }
}
