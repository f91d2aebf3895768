import ConvCore

/// Unfolding (im2col) and folding (col2im) between NCHW images and column matrices.
/// Shapes in comments: K = (Cin/g)·kH·kW rows for forward, P = pixels of one band.
enum Im2col {
    /// Forward unfold of one group of one image for output rows `rows`:
    /// col[K, rows.count·Wout], row r = (icg, ky, kx), column (oy, ox); zeros where the tap is in padding.
    static func unfold(_ c: ConvDescriptor, image: UnsafePointer<Float>, rows: Range<Int>,
                       col: UnsafeMutablePointer<Float>, threads: Int) {
        let (ih, iw, ow) = (c.inHeight, c.inWidth, c.outWidth)
        let (kh, kw) = (c.kernelHeight, c.kernelWidth)
        let (sh, sw, dh, dw) = (c.strideHeight, c.strideWidth, c.dilationHeight, c.dilationWidth)
        let (pt, pl) = (c.padTop, c.padLeft)
        let k = c.inChannelsPerGroup * kh * kw
        let n = rows.count * ow
        let colShared = UncheckedSendable(col), imageShared = UncheckedSendable(image)
        parallelFor(threads: threads, count: k) { range in
            for r in range {
                let kx = r % kw, ky = (r / kw) % kh, icg = r / (kw * kh)
                let plane = imageShared.value + icg * ih * iw
                // Columns ox whose tap lands inside the image: 0 ≤ ox·sw − pl + kx·dw < iw.
                let offset = kx * dw - pl
                let lo = min(ow, offset >= 0 ? 0 : (-offset + sw - 1) / sw)
                let hi = max(lo, min(ow, iw - offset <= 0 ? 0 : (iw - offset - 1) / sw + 1))
                var dst = colShared.value + r * n
                for oy in rows {
                    let iy = oy * sh - pt + ky * dh
                    if iy < 0 || iy >= ih {
                        dst.update(repeating: 0, count: ow)
                    } else {
                        let src = plane + iy * iw + offset
                        if lo > 0 { dst.update(repeating: 0, count: lo) }
                        if sw == 1 {
                            (dst + lo).update(from: src + lo, count: hi - lo)
                        } else {
                            for ox in lo..<hi { dst[ox] = src[ox * sw] }
                        }
                        if hi < ow { (dst + hi).update(repeating: 0, count: ow - hi) }
                    }
                    dst += ow
                }
            }
        }
    }

    /// Transposed fold of one group of one image: adds col[(ocg, ky, kx), (iy, ix) in `rows`] into
    /// output plane (oy, ox) = (iy·sh − pt + ky·dh, ix·sw − pl + kx·dw). Each output channel is folded by
    /// one thread in a fixed order, so the result does not depend on the thread count.
    static func fold(_ c: ConvDescriptor, col: UnsafePointer<Float>, rows: Range<Int>,
                     output: UnsafeMutablePointer<Float>, threads: Int) {
        let (iw, oh, ow) = (c.inWidth, c.outHeight, c.outWidth)
        let (kh, kw) = (c.kernelHeight, c.kernelWidth)
        let (sh, sw, dh, dw) = (c.strideHeight, c.strideWidth, c.dilationHeight, c.dilationWidth)
        let (pt, pl) = (c.padTop, c.padLeft)
        let n = rows.count * iw
        let colShared = UncheckedSendable(col), outShared = UncheckedSendable(output)
        parallelFor(threads: threads, count: c.outChannelsPerGroup) { range in
            for ocg in range {
                let plane = outShared.value + ocg * oh * ow
                for ky in 0..<kh {
                    for kx in 0..<kw {
                        var src = colShared.value + ((ocg * kh + ky) * kw + kx) * n
                        let offset = kx * dw - pl
                        let lo = min(iw, offset >= 0 ? 0 : (-offset + sw - 1) / sw)
                        let hi = max(lo, min(iw, ow - offset <= 0 ? 0 : (ow - offset - 1) / sw + 1))
                        for iy in rows {
                            let oy = iy * sh - pt + ky * dh
                            if oy >= 0 && oy < oh {
                                let dst = plane + oy * ow + offset
                                for ix in lo..<hi { dst[ix * sw] += src[ix] }
                            }
                            src += iw
                        }
                    }
                }
            }
        }
    }
}
