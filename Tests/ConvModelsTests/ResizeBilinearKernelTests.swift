import ConvAlgorithms
import ConvCore
@testable import ConvModels
import Testing

/// `ActivationKernels.resizeBilinear` (rows blended once and reused, SIMD vertical blend, rows split
/// among threads) against the element-by-element formula in the same float32 order: the same bits.
/// ×8 upsampling as DeepLab's (rows reused for runs of eight, moving down one input row at a time),
/// a downsampling with non-integer scales, a 1×1 map spread over a plane (the image-pooling branch),
/// corners aligned, widths with and without a scalar tail after the 16-lane vectors; 1–3 threads.
@Suite struct ResizeBilinearKernelTests {
    @Test(arguments: [(3, 9, 13, 72, 104, false), (2, 40, 37, 7, 21, false), (4, 1, 1, 9, 20, false),
                      (2, 6, 5, 33, 48, true), (1, 64, 64, 512, 512, false)])
    func sameBitsAsTheFormula(planes: Int, ih: Int, iw: Int, oh: Int, ow: Int, alignCorners: Bool) {
        let x = Tensor.random(shape: [planes, ih, iw], .uniform(low: -1, high: 1), seed: 12).scalars
        let rows = ResizeBilinear.taps(input: ih, output: oh, alignCorners: alignCorners)
        let cols = ResizeBilinear.taps(input: iw, output: ow, alignCorners: alignCorners)
        var expected = [Float](repeating: 0, count: planes * oh * ow)
        for plane in 0..<planes {
            for (oy, (r0, r1, h1)) in rows.enumerated() {
                for (ox, (c0, c1, w1)) in cols.enumerated() {
                    let p = plane * ih * iw, h0 = 1 - h1, w0 = 1 - w1
                    let top = w0 * x[p + r0 * iw + c0] + w1 * x[p + r0 * iw + c1]
                    let bottom = w0 * x[p + r1 * iw + c0] + w1 * x[p + r1 * iw + c1]
                    expected[(plane * oh + oy) * ow + ox] = h0 * top + h1 * bottom
                }
            }
        }
        for threads in [1, 2, 3] {
            var y = [Float](repeating: .nan, count: expected.count)
            x.withUnsafeBufferPointer { xb in
                y.withUnsafeMutableBufferPointer {
                    ResizeBilinear.run(alignCorners: alignCorners, xb, inShape: [1, planes, ih, iw], $0,
                                       outShape: [1, planes, oh, ow], threads: threads)
                }
            }
            // A count, not the arrays: a failing == on 262,144 elements makes the test library diff them.
            let differing = zip(y, expected).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "threads \(threads): \(differing) of \(y.count) differ")
        }
    }
}
