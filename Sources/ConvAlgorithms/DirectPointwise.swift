import ConvCore

/// Direct 1×1 convolution (no padding before the image, any stride): each output pixel is a dot
/// product over the input channels of one input pixel, so the image needs no padded copy; at stride 1
/// the pixels of a plane are one long row, at larger strides each strip's pixels are gathered. The
/// register tile is 4 output channels × 24 pixels (twelve 8-lane accumulators, three input loads and
/// one weight broadcast: sixteen AVX2 registers). For each tile the 24-pixel
/// strip of every input channel is first packed side by side into the worker's scratch, where every
/// block of 4 output channels reads it from L1/L2: read in place, the strip's rows lie a plane apart
/// (16 KB for a 64×64 map, a power of two), all in the same cache sets, and the 2048-channel ASPP
/// projection ran at 0.14 of the equivalent SGEMM.
/// The general row kernel (4 × 16 over a padded copy, input chunks summed through the output)
/// reached 0.24–0.37 of the equivalent SGEMM on 1×1 layers.
///
/// Each element is summed over the input channels in order by one thread, and which code path a
/// pixel takes (full tile or tail) depends only on the geometry: results do not depend on the
/// thread count.
extension DirectConvolution {
    static let pointwiseTile = 24

    /// 1×1 with no padding before the image, any stride, the end padding zero or negative (input rows
    /// and columns the stride never reaches: 74 rows at stride 2 give 37): a strided layer gathers its
    /// strips' pixels (x[oy·sh][ox·sw]) while packing them, where the general path would lay out a
    /// padded polyphase copy of the whole image.
    public static func runsAsPointwise(_ c: ConvDescriptor) -> Bool {
        !c.transposed && c.kernelHeight == 1 && c.kernelWidth == 1
            && c.padTop == 0 && c.padLeft == 0 && c.padBottom <= 0 && c.padRight <= 0
    }

    /// Scratch floats per worker: one packed strip.
    static func pointwiseScratch(_ p: Plan) -> Int { p.cinG * pointwiseTile }

    /// Work items are (group, strip, part of the output channel blocks), the part varying fastest.
    /// With whole strips only, a 19×19 map (15 full strips) gave one worker 8 strips and the other 7:
    /// the layer took 8/7.5 of its balanced time. When the strips do not divide evenly among the
    /// threads, each strip is split into `threads` parts, so every thread gets the same number of
    /// part-strips; a thread packs a strip once for the consecutive parts it computes.
    static func pointwiseParts(fullTiles: Int, threads: Int) -> Int {
        threads > 1 && fullTiles % threads != 0 ? threads : 1
    }

    /// One image: y[oc][o] = bias[oc] + Σ_icg w[oc][icg]·x[g·cinG + icg][input pixel of o].
    static func pointwiseImage(_ p: Plan, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                               weights: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                               scratch: UnsafeMutablePointer<Float>, threads: Int) {
        let plane = p.oh * p.ow, inPlane = p.ih * p.iw
        // Output pixel i reads input pixel i: the strip is 24 consecutive floats of each plane.
        let contiguous = p.sh == 1 && p.sw == 1 && p.ow == p.iw
        let fullTiles = plane / pointwiseTile, tail = plane - fullTiles * pointwiseTile
        let parts = pointwiseParts(fullTiles: fullTiles, threads: threads)
        let tiled = p.groups * fullTiles * parts
        let shared = UncheckedSendable((x, y, weights, bias, scratch))
        parallelForWorkers(threads: threads, count: tiled + (tail > 0 ? p.groups : 0)) { worker, range in
            let (x, y, weights, bias, scratch) = shared.value
            let strip = scratch + worker * pointwiseScratch(p)
            withUnsafeTemporaryAllocation(of: Int.self, capacity: pointwiseTile) { offsets in
                // Where output pixels px..<px+count read in each input plane.
                func locate(_ px: Int, _ count: Int) {
                    for j in 0..<count { offsets[j] = ((px + j) / p.ow) * p.sh * p.iw + ((px + j) % p.ow) * p.sw }
                }
                var packed = -1
                for item in range {
                    if item >= tiled {
                        // The plane's last pixels, fewer than a strip.
                        let g = item - tiled, px = fullTiles * pointwiseTile
                        locate(px, tail)
                        for block in 0..<p.channelBlocks {
                            let w = weights + (g * p.channelBlocks + block) * p.cinG * channelBlock
                            let oc = g * p.coutG + block * channelBlock
                            pointwiseTail(x + g * p.cinG * inPlane, offsets: UnsafePointer(offsets.baseAddress!), inPlane: inPlane,
                                          cinG: p.cinG, w: w, bias: bias + oc, valid: min(channelBlock, p.coutG - block * channelBlock),
                                          out: y + oc * plane + px, outPlane: plane, count: tail)
                        }
                        continue
                    }
                    let part = item % parts, tile = item / parts, g = tile / fullTiles
                    let px = (tile % fullTiles) * pointwiseTile
                    if tile != packed {
                        let xg = x + g * p.cinG * inPlane
                        if contiguous {
                            for icg in 0..<p.cinG {
                                let src = xg + icg * inPlane + px, dst = strip + icg * pointwiseTile
                                for k in stride(from: 0, to: pointwiseTile, by: 8) {
                                    UnsafeMutableRawPointer(dst + k).storeBytes(of: UnsafeRawPointer(src + k).loadUnaligned(as: SIMD8<Float>.self),
                                                                                as: SIMD8<Float>.self)
                                }
                            }
                        } else {
                            locate(px, pointwiseTile)
                            for icg in 0..<p.cinG {
                                let src = xg + icg * inPlane, dst = strip + icg * pointwiseTile
                                for j in 0..<pointwiseTile { dst[j] = src[offsets[j]] }
                            }
                        }
                        packed = tile
                    }
                    for block in (p.channelBlocks * part / parts)..<(p.channelBlocks * (part + 1) / parts) {
                        let w = weights + (g * p.channelBlocks + block) * p.cinG * channelBlock
                        let oc = g * p.coutG + block * channelBlock
                        pointwiseTile24(strip, plane: plane, cinG: p.cinG, w: w, bias: bias + oc,
                                        valid: min(channelBlock, p.coutG - block * channelBlock), out: y + oc * plane + px)
                    }
                }
            }
        }
    }

    /// `x`: the packed strip, 24 floats per input channel; `plane`: the output's row stride.
    @inline(__always)
    static func pointwiseTile24(_ x: UnsafePointer<Float>, plane: Int, cinG: Int, w: UnsafePointer<Float>,
                                bias: UnsafePointer<Float>, valid: Int, out: UnsafeMutablePointer<Float>) {
        typealias V = SIMD8<Float>
        var a0 = (V(), V(), V()), a1 = (V(), V(), V()), a2 = (V(), V(), V()), a3 = (V(), V(), V())
        var src = x, wp = w
        for _ in 0..<cinG {
            let v0 = UnsafeRawPointer(src).loadUnaligned(as: V.self)
            let v1 = UnsafeRawPointer(src + 8).loadUnaligned(as: V.self)
            let v2 = UnsafeRawPointer(src + 16).loadUnaligned(as: V.self)
            var b = V(repeating: wp[0])
            a0.0.addProduct(v0, b); a0.1.addProduct(v1, b); a0.2.addProduct(v2, b)
            b = V(repeating: wp[1])
            a1.0.addProduct(v0, b); a1.1.addProduct(v1, b); a1.2.addProduct(v2, b)
            b = V(repeating: wp[2])
            a2.0.addProduct(v0, b); a2.1.addProduct(v1, b); a2.2.addProduct(v2, b)
            b = V(repeating: wp[3])
            a3.0.addProduct(v0, b); a3.1.addProduct(v1, b); a3.2.addProduct(v2, b)
            src += pointwiseTile
            wp += channelBlock
        }
        @inline(__always) func store(_ a: (V, V, V), _ l: Int) {
            let b = V(repeating: bias[l]), dst = out + l * plane
            UnsafeMutableRawPointer(dst).storeBytes(of: a.0 + b, as: V.self)
            UnsafeMutableRawPointer(dst + 8).storeBytes(of: a.1 + b, as: V.self)
            UnsafeMutableRawPointer(dst + 16).storeBytes(of: a.2 + b, as: V.self)
        }
        store(a0, 0)
        if valid > 1 { store(a1, 1) }
        if valid > 2 { store(a2, 2) }
        if valid > 3 { store(a3, 3) }
    }

    /// The last, shorter tile of a plane, one pixel at a time with the same fused multiply-adds in
    /// the same order; pixel i reads `x[c·inPlane + offsets[i]]`.
    static func pointwiseTail(_ x: UnsafePointer<Float>, offsets: UnsafePointer<Int>, inPlane: Int, cinG: Int,
                              w: UnsafePointer<Float>, bias: UnsafePointer<Float>, valid: Int,
                              out: UnsafeMutablePointer<Float>, outPlane: Int, count: Int) {
        for i in 0..<count {
            var s = SIMD4<Float>()
            var src = x + offsets[i], wp = w
            for _ in 0..<cinG {
                s.addProduct(SIMD4(repeating: src.pointee), UnsafeRawPointer(wp).loadUnaligned(as: SIMD4<Float>.self))
                src += inPlane
                wp += channelBlock
            }
            for l in 0..<valid { out[l * outPlane + i] = s[l] + bias[l] }
        }
    }
}
