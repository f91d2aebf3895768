import ConvAlgorithms

/// Bilinear resize of NCHW planes.
///
/// `alignCorners` false follows PyTorch's `upsample_bilinear2d` (`F.interpolate(mode="bilinear",
/// align_corners=False)` given a size): scale = in/out, source = scale·(dst + 0.5) − 0.5 clamped at
/// 0; the two taps are ⌊source⌋ and the next index (the same one at the last row); weights
/// 1 − λ and λ with λ = source − ⌊source⌋. `alignCorners` true maps corner to corner:
/// scale = (in − 1)/(out − 1) (0 when out = 1), source = scale·dst, as PyTorch with
/// `align_corners=True` and TensorFlow's `resize_bilinear(align_corners=True)`.
/// Arithmetic in float32, in PyTorch's order (`ActivationKernels.resizeBilinear`).
enum ResizeBilinear {
    /// Lower tap, upper tap and weight of the upper tap for every output index on one axis.
    static func taps(input: Int, output: Int, alignCorners: Bool) -> [(Int, Int, Float)] {
        let scale: Float = alignCorners
            ? (output > 1 ? Float(input - 1) / Float(output - 1) : 0)
            : Float(input) / Float(output)
        return (0..<output).map { dst in
            var src = alignCorners ? scale * Float(dst) : scale * (Float(dst) + 0.5) - 0.5
            if src < 0 { src = 0 }
            let i0 = Swift.min(Int(src), input - 1)
            let i1 = i0 + (i0 < input - 1 ? 1 : 0)
            return (i0, i1, src - Float(i0))
        }
    }

    static func axis(input: Int, output: Int, alignCorners: Bool) -> ActivationKernels.BilinearAxis {
        let t = taps(input: input, output: output, alignCorners: alignCorners)
        return ActivationKernels.BilinearAxis(lower: t.map(\.0), upper: t.map(\.1), lowerWeight: t.map { 1 - $0.2 },
                                              upperWeight: t.map(\.2))
    }

    static func run(alignCorners: Bool, _ x: UnsafeBufferPointer<Float>, inShape s: [Int],
                    _ y: UnsafeMutableBufferPointer<Float>, outShape o: [Int], threads: Int) {
        ActivationKernels.resizeBilinear(x.baseAddress!, planes: s[0] * s[1], inHeight: s[2], inWidth: s[3],
                                         y.baseAddress!, outHeight: o[2], outWidth: o[3],
                                         rows: axis(input: s[2], output: o[2], alignCorners: alignCorners),
                                         columns: axis(input: s[3], output: o[3], alignCorners: alignCorners),
                                         threads: threads)
    }
}
