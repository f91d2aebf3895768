/// Bilinear resize of NCHW planes.
///
/// `alignCorners` false follows PyTorch's `upsample_bilinear2d` (`F.interpolate(mode="bilinear",
/// align_corners=False)` given a size): scale = in/out, source = scale·(dst + 0.5) − 0.5 clamped at
/// 0; the two taps are ⌊source⌋ and the next index (the same one at the last row); weights
/// 1 − λ and λ with λ = source − ⌊source⌋. `alignCorners` true maps corner to corner:
/// scale = (in − 1)/(out − 1) (0 when out = 1), source = scale·dst, as PyTorch with
/// `align_corners=True` and TensorFlow's `resize_bilinear(align_corners=True)`.
/// Arithmetic in float32, in PyTorch's order.
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

    static func run(alignCorners: Bool, _ x: UnsafeBufferPointer<Float>, inShape s: [Int],
                    _ y: UnsafeMutableBufferPointer<Float>, outShape o: [Int]) {
        let (ih, iw, oh, ow) = (s[2], s[3], o[2], o[3])
        let rows = taps(input: ih, output: oh, alignCorners: alignCorners)
        let cols = taps(input: iw, output: ow, alignCorners: alignCorners)
        for plane in 0..<(s[0] * s[1]) {
            let xp = x.baseAddress! + plane * ih * iw, yp = y.baseAddress! + plane * oh * ow
            for (oy, (r0, r1, h1)) in rows.enumerated() {
                let h0 = 1 - h1
                for (ox, (c0, c1, w1)) in cols.enumerated() {
                    let w0 = 1 - w1
                    yp[oy * ow + ox] = h0 * (w0 * xp[r0 * iw + c0] + w1 * xp[r0 * iw + c1])
                        + h1 * (w0 * xp[r1 * iw + c0] + w1 * xp[r1 * iw + c1])
                }
            }
        }
    }
}
