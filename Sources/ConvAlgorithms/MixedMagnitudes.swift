import ConvCore

/// The magnitude a tile- or plane-mixing algorithm's error scales with (see `ErrorModel.Mixing`).
///
/// Tiles (Winograd):  M[n,k,p] = Σ_{c in k's group} (Σ_{q in box(p)} |x[n,c,q]|) · (Σ_taps |w[k,c,·]|) + |b[k]|
/// box(p) being every input position a tile holding output p can read (the inputs of the outputs
/// within m − 1 steps of the dilation from p).
///
/// Whole planes (FFT):  M[n,k,·] = Σ_c ‖x[n,c]‖₂ · ‖w[k,c]‖₂ + |b[k]|
/// FFT rounding is bounded in the L2 norm (Parseval: each frequency carries about ‖x‖₂, the
/// transforms err by O(ε log N) of that, and the inverse spreads it over the plane), so the plane
/// enters by its L2 norm, not its sum — the sum would grow with the plane's area and hide real
/// bugs on large images.
///
/// Either is at least Σ|x·w| of the element's own window (a sum of products is at most the product
/// of sums, and at most the product of L2 norms by Cauchy–Schwarz). Computed as box sums or
/// norms in float64, then one SGEMM per group, rounded up for the SGEMM's own error.
public enum MixedMagnitudes {
    public static func compute(_ mixing: ErrorModel.Mixing, conv c: ConvDescriptor, input: Tensor,
                               weights: Tensor, bias: Tensor?) -> [Float] {
        let cg = c.inChannelsPerGroup, kg = c.outChannelsPerGroup
        let taps = c.kernelHeight * c.kernelWidth
        let oh = c.outHeight, ow = c.outWidth, p = oh * ow
        // Σ_taps |w| per (output channel, input channel of its group): kg × cg per group.
        // Mixing algorithms (Winograd, FFT) are forward only; transposed weights are IOHW.
        precondition(!c.transposed, "mixed magnitudes are defined for forward convolution")
        let planeNorms = mixing == .wholePlane
        let wsum: [Float] = weights.withUnsafeBufferPointer { w in
            (0..<(c.outChannels * cg)).map { i in
                planeNorms ? Float((0..<taps).reduce(0.0) { $0 + Double(w[i * taps + $1]) * Double(w[i * taps + $1]) }.squareRoot())
                    : (0..<taps).reduce(Float(0)) { $0 + abs(w[i * taps + $1]) }
            }
        }
        var boxes = [Float](repeating: 0, count: c.inChannels * p)
        var out = [Float](repeating: 0, count: c.batch * c.outChannels * p)
        input.withUnsafeBufferPointer { x in
            for n in 0..<c.batch {
                for ch in 0..<c.inChannels {
                    let plane = x.baseAddress! + (n * c.inChannels + ch) * c.inHeight * c.inWidth
                    boxSums(mixing, c, plane, into: &boxes, at: ch * p)
                }
                boxes.withUnsafeBufferPointer { bx in
                    wsum.withUnsafeBufferPointer { ws in
                        out.withUnsafeMutableBufferPointer { o in
                            for g in 0..<c.groups {
                                SGEMM.multiply(m: kg, n: p, k: cg, a: ws.baseAddress! + g * kg * cg, lda: cg,
                                               b: bx.baseAddress! + g * cg * p, ldb: p,
                                               c: o.baseAddress! + (n * c.outChannels + g * kg) * p, ldc: p, beta: 0)
                            }
                        }
                    }
                }
            }
        }
        let inflate = 1 + Float(cg + 1) * Float.ulpOfOne
        let b = bias?.scalars
        for n in 0..<c.batch {
            for k in 0..<c.outChannels {
                let magnitudeOfBias = c.hasBias ? abs(b?[k] ?? 0) : 0
                for i in 0..<p {
                    let j = (n * c.outChannels + k) * p + i
                    out[j] = (out[j] + magnitudeOfBias) * inflate
                }
            }
        }
        return out
    }

    /// Σ |x| over box(p) for every output position p of one input plane (the plane's L2 norm
    /// for whole-plane mixing).
    private static func boxSums(_ mixing: ErrorModel.Mixing, _ c: ConvDescriptor, _ x: UnsafePointer<Float>,
                                into boxes: inout [Float], at offset: Int) {
        let ih = c.inHeight, iw = c.inWidth, oh = c.outHeight, ow = c.outWidth
        guard case let .outputTile(m) = mixing else {
            var squares = 0.0
            for i in 0..<(ih * iw) { squares += Double(x[i]) * Double(x[i]) }
            for i in 0..<(oh * ow) { boxes[offset + i] = Float(squares.squareRoot()) }
            return
        }
        // Rows read around output row y: y·sh − pt + j·dh for j in −(m−1) … kh−1+m−1; columns alike.
        var rowSums = [Double](repeating: 0, count: oh * iw)
        for y in 0..<oh {
            for j in -(m - 1)...(c.kernelHeight - 1 + m - 1) {
                let r = y * c.strideHeight - c.padTop + j * c.dilationHeight
                if r < 0 || r >= ih { continue }
                for col in 0..<iw { rowSums[y * iw + col] += Double(abs(x[r * iw + col])) }
            }
        }
        for y in 0..<oh {
            for xo in 0..<ow {
                var s = 0.0
                for j in -(m - 1)...(c.kernelWidth - 1 + m - 1) {
                    let col = xo * c.strideWidth - c.padLeft + j * c.dilationWidth
                    if col >= 0 && col < iw { s += rowSums[y * iw + col] }
                }
                boxes[offset + y * ow + xo] = Float(s)
            }
        }
    }
}
