import ConvAlgorithms
import ConvCore
import Testing

/// The SIMD, threaded passes between convolutions against plain loops, on sizes that leave SIMD
/// tails and split unevenly over threads, and above the size where work is parallelized.
@Suite struct ActivationKernelTests {
    let x = Tensor.random(shape: [2, 20, 37, 41], .uniform(low: -1, high: 1), seed: 3).scalars
    let z = Tensor.random(shape: [2, 20, 37, 41], .uniform(low: -1, high: 1), seed: 4).scalars

    @Test(arguments: [1, 2, 3]) func reluAndAddMatchScalarLoops(threads: Int) {
        var y = [Float](repeating: .nan, count: x.count)
        ActivationKernels.relu(x, &y, count: x.count, threads: threads)
        #expect(y == x.map { $0 < 0 ? 0 : $0 })
        var inPlace = x
        inPlace.withUnsafeMutableBufferPointer { ActivationKernels.relu($0.baseAddress!, $0.baseAddress!, count: $0.count, threads: threads) }
        #expect(inPlace == y)
        var sum = [Float](repeating: .nan, count: x.count)
        ActivationKernels.add(x, z, &sum, count: x.count, threads: threads)
        #expect(sum == zip(x, z).map { $0 + $1 })
        // NaN passes through ReLU, as in PyTorch.
        var nan: [Float] = [.nan, -1, 2]
        nan.withUnsafeMutableBufferPointer { ActivationKernels.relu($0.baseAddress!, $0.baseAddress!, count: 3, threads: 1) }
        #expect(nan[0].isNaN && nan[1] == 0 && nan[2] == 2)
    }

    func scalarMaxPool(_ x: [Float], planes: Int, _ ih: Int, _ iw: Int, _ oh: Int, _ ow: Int,
                       k: Int, s: Int, top: Int, left: Int) -> [Float] {
        var y = [Float](repeating: 0, count: planes * oh * ow)
        for p in 0..<planes {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var m = -Float.infinity
                    for r in (oy * s - top)..<(oy * s - top + k) where r >= 0 && r < ih {
                        for c in (ox * s - left)..<(ox * s - left + k) where c >= 0 && c < iw { m = max(m, x[(p * ih + r) * iw + c]) }
                    }
                    y[(p * oh + oy) * ow + ox] = m
                }
            }
        }
        return y
    }

    /// Keras 'same' (padding only at the end), PyTorch symmetric, ceil mode (a window past the end)
    /// and a window wholly in padding (−∞), at stride 2 (even lanes of shifted maxima, a last vector
    /// overlapping the one before, a row narrower than a vector) and at other strides; the 41-wide
    /// rows are reduced vertically with a last vector overlapping the one before (narrower rows,
    /// one by one, are in OperationTests' 4×4 and 5×5 pools).
    @Test(arguments: [(3, 2, 0, 0, 19, 21), (3, 2, 1, 1, 19, 21), (2, 2, 0, 0, 19, 21), (3, 2, 3, 3, 19, 22),
                      (3, 2, 1, 1, 4, 7), (3, 1, 1, 1, 37, 41), (3, 3, 4, 4, 15, 16)])
    func maxPoolMatchesScalarLoop(k: Int, s: Int, top: Int, left: Int, oh: Int, ow: Int) {
        let planes = 40
        for threads in [1, 2] {
            var y = [Float](repeating: .nan, count: planes * oh * ow)
            ActivationKernels.maxPool(x, planes: planes, height: 37, width: 41, &y, outHeight: oh, outWidth: ow,
                                      kernel: (k, k), stride: (s, s), padTop: top, padLeft: left, threads: threads)
            #expect(y == scalarMaxPool(x, planes: planes, 37, 41, oh, ow, k: k, s: s, top: top, left: left), "k\(k) s\(s) p\(top)")
        }
    }

    /// Rows of 128 or more go one at a time, asking for the input ahead of the window
    /// (`poolPrefetchBytes`, past the last plane's end too): Xception's 147-wide pool (Keras 'same',
    /// padding only at the end) and a PyTorch-style padded one, 1 and 2 threads, against the loop.
    @Test(arguments: [(147, 147, 0, 74), (33, 130, 1, 17)])
    func wideRowsMatchScalarLoop(height: Int, width: Int, pad: Int, outHeight: Int) {
        let planes = 8, ow = (width + 2 * pad - 3) / 2 + 1 + (pad == 0 ? 1 : 0)
        let wide = Tensor.random(shape: [planes, height, width], .uniform(low: -1, high: 1), seed: 12).scalars
        let expected = scalarMaxPool(wide, planes: planes, height, width, outHeight, ow, k: 3, s: 2, top: pad, left: pad)
        for threads in [1, 2] {
            var y = [Float](repeating: .nan, count: planes * outHeight * ow)
            ActivationKernels.maxPool(wide, planes: planes, height: height, width: width, &y, outHeight: outHeight, outWidth: ow,
                                      kernel: (3, 3), stride: (2, 2), padTop: pad, padLeft: pad, threads: threads)
            #expect(y == expected, "\(height)×\(width) threads \(threads)")
        }
    }

    /// Plane means against a float64 loop: areas with and without a tail after the 8-lane vectors
    /// (37·41, 100, 64, 7, 1), planes split among 1–3 threads with the same bits. The data's mean
    /// is 0.25, so a dropped vector or tail, or a wrong divisor, moves it far outside the bound.
    @Test(arguments: [(40, 37 * 41), (30, 100), (9, 64), (5, 7), (3, 1)])
    func planeMeansMatchAFloat64Loop(planes: Int, area: Int) {
        let x = Tensor.random(shape: [planes, area], .uniform(low: -0.5, high: 1), seed: 8).scalars
        var one = [Float](repeating: .nan, count: planes)
        ActivationKernels.planeMeans(x, planes: planes, area: area, &one, threads: 1)
        for plane in 0..<planes {
            let expected = x[(plane * area)..<((plane + 1) * area)].reduce(0.0) { $0 + Double($1) } / Double(area)
            #expect(abs(Double(one[plane]) - expected) <= 1e-7 * max(abs(expected), 1e-3), "plane \(plane)")
        }
        for threads in [2, 3] {
            var many = [Float](repeating: .nan, count: planes)
            ActivationKernels.planeMeans(x, planes: planes, area: area, &many, threads: threads)
            #expect(many == one, "threads \(threads)")
        }
    }
}
