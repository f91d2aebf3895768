import ConvCore

/// Dilated convolutions with many input channels (DeepLab's atrous layers: ASPP's 3×3 at rates
/// 12–36 over 2048 channels, the backbone's rate-2 and rate-4 layers) as a sum of shifted 1×1
/// products, skipping every tap that falls wholly in padding for a 16-pixel strip of the output.
/// At rate 36 on a 64×64 map, a corner tap reads the image for 28 of 64 rows and columns: 61% of
/// the 3×3 layer's products read only padding (the degeneration the DeepLab v3 paper describes),
/// and the row kernel over a padded copy computed them all (and laid out a 151 MB padded copy).
///
/// Output pixels are taken 16 at a time in row-major order (a strip may end one row and start the
/// next). A worker takes a range of strips, a panel of `tapPanel` at a time: for each tap, each
/// chunk of `tapChunk` input channels is packed for the strips that tap reaches (zeros where a
/// pixel's tap lies in padding), and every block of 8 output channels multiplies it into the
/// panel's accumulators with its weights for that tap and chunk (8 × 16 register tile, eight
/// 16-lane accumulators). Each element sums its taps in order, each
/// tap's channels in order, then adds the bias: the same order at every thread count.
extension DirectConvolution {
    static let tapTile = 16
    static let tapBlock = 8
    static let tapChunk = 128
    static let tapPanel = 24

    public static func runsAsShiftedTaps(_ c: ConvDescriptor) -> Bool {
        !c.transposed && c.groups == 1 && c.strideHeight == 1 && c.strideWidth == 1
            && (c.dilationHeight > 1 || c.dilationWidth > 1) && c.kernelHeight * c.kernelWidth > 1
            && c.inChannels >= 256
    }

    static func tapBlocks(_ p: Plan) -> Int { (p.coutG + tapBlock - 1) / tapBlock }

    /// Scratch floats per worker: the panel's accumulators and one packed chunk per strip.
    static func tapScratch(_ p: Plan) -> Int { tapPanel * tapBlocks(p) * tapBlock * tapTile + tapPanel * tapChunk * tapTile }

    /// Weights as [block of 8][ky·kw + kx][input channel][8], zero past the last output channel.
    static func packTapWeights(_ p: Plan, _ w: [Float], into packed: UnsafeMutablePointer<Float>) {
        let taps = p.kh * p.kw
        for b in 0..<tapBlocks(p) {
            for t in 0..<taps {
                for ic in 0..<p.cinG {
                    for l in 0..<tapBlock {
                        let oc = b * tapBlock + l
                        packed[((b * taps + t) * p.cinG + ic) * tapBlock + l] = oc < p.coutG ? w[(oc * p.cinG + ic) * taps + t] : 0
                    }
                }
            }
        }
    }

    /// One image.
    static func tapsImage(_ p: Plan, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, weights: UnsafePointer<Float>,
                          bias: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>, relu: Bool, threads: Int) {
        let plane = p.oh * p.ow
        let strips = (plane + tapTile - 1) / tapTile
        let shared = UncheckedSendable((x, y, weights, bias, scratch))
        parallelForWorkers(threads: threads, count: strips) { worker, range in
            let (x, y, weights, bias, scratch) = shared.value
            let work = scratch + worker * tapScratch(p)
            var first = range.lowerBound
            while first < range.upperBound {
                let panel = first..<min(range.upperBound, first + tapPanel)
                tapsPanel(p, strips: panel, x: x, y: y, weights: weights, bias: bias, scratch: work, relu: relu)
                first = panel.upperBound
            }
        }
    }

    static func tapsPanel(_ p: Plan, strips: Range<Int>, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                          weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                          relu: Bool) {
        let plane = p.oh * p.ow, inPlane = p.ih * p.iw, taps = p.kh * p.kw, blocks = tapBlocks(p)
        let accFloats = blocks * tapBlock * tapTile
        let acc = scratch, packs = scratch + tapPanel * accFloats
        acc.update(repeating: 0, count: strips.count * accFloats)
        withUnsafeTemporaryAllocation(of: Int.self, capacity: tapPanel) { activeBuffer in
            let active = activeBuffer.baseAddress!
            for t in 0..<taps {
                let dy = (t / p.kw) * p.dh - p.rowOffset, dx = (t % p.kw) * p.dw - p.colOffset
                // The panel's strips in which this tap reads the image for at least one pixel.
                var count = 0
                for s in strips where tapReaches(p, strip: s, dy: dy, dx: dx) {
                    active[count] = s - strips.lowerBound
                    count += 1
                }
                if count == 0 { continue }
                var c0 = 0
                while c0 < p.cinG {
                    let chunk = min(tapChunk, p.cinG - c0)
                    for j in 0..<count {
                        packTapStrip(p, x: x + c0 * inPlane, channels: chunk, strip: strips.lowerBound + active[j],
                                     dy: dy, dx: dx, into: packs + j * tapChunk * tapTile)
                    }
                    for b in 0..<blocks {
                        let w = weights + ((b * taps + t) * p.cinG + c0) * tapBlock
                        for j in 0..<count {
                            tapTile8x16(packs + j * tapChunk * tapTile, count: chunk, w: w,
                                        acc: acc + active[j] * accFloats + b * tapBlock * tapTile)
                        }
                    }
                    c0 += chunk
                }
            }
        }
        // (sum + bias), then the ReLU, for the pixels of the plane.
        for s in strips {
            let px = s * tapTile, valid = min(tapTile, plane - px)
            let stripAcc = acc + (s - strips.lowerBound) * accFloats
            for oc in 0..<p.coutG {
                let a = stripAcc + oc * tapTile, dst = y + oc * plane + px
                let b = bias[oc]
                for i in 0..<valid {
                    let v = a[i] + b
                    dst[i] = relu && v < 0 ? 0 : v
                }
            }
        }
    }

    /// Whether the tap at input offset (dy, dx) from each output pixel lands in the image for some
    /// pixel of the strip.
    static func tapReaches(_ p: Plan, strip s: Int, dy: Int, dx: Int) -> Bool {
        let first = s * tapTile, last = min(first + tapTile, p.oh * p.ow) - 1
        for oy in (first / p.ow)...(last / p.ow) {
            let iy = oy + dy
            guard iy >= 0 && iy < p.ih else { continue }
            let lo = oy == first / p.ow ? first % p.ow : 0, hi = oy == last / p.ow ? last % p.ow : p.ow - 1
            // Columns lo...hi shifted by dx overlap 0..<iw.
            if lo + dx < p.iw && hi + dx >= 0 { return true }
        }
        return false
    }

    /// `channels` input channels (from `x`) of one strip under one tap: [channel][16], zero where the
    /// pixel's tap lies in padding or past the plane's last pixel.
    static func packTapStrip(_ p: Plan, x: UnsafePointer<Float>, channels: Int, strip s: Int, dy: Int, dx: Int,
                             into dst: UnsafeMutablePointer<Float>) {
        let plane = p.oh * p.ow, inPlane = p.ih * p.iw
        let first = s * tapTile
        let oy = first / p.ow, ox = first % p.ow, iy = oy + dy, ix = ox + dx
        // The whole strip in one output row, its taps in one input row: sixteen consecutive floats.
        if ox + tapTile <= p.ow && iy >= 0 && iy < p.ih && ix >= 0 && ix + tapTile <= p.iw {
            let src = x + iy * p.iw + ix
            for c in 0..<channels {
                let from = src + c * inPlane, to = dst + c * tapTile
                UnsafeMutableRawPointer(to).storeBytes(of: UnsafeRawPointer(from).loadUnaligned(as: SIMD8<Float>.self),
                                                       as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(to + 8).storeBytes(of: UnsafeRawPointer(from + 8).loadUnaligned(as: SIMD8<Float>.self),
                                                           as: SIMD8<Float>.self)
            }
            return
        }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: tapTile) { offsetBuffer in
            let offsets = offsetBuffer.baseAddress!
            for i in 0..<tapTile {
                let o = first + i
                let iy = o / p.ow + dy, ix = o % p.ow + dx
                offsets[i] = o < plane && iy >= 0 && iy < p.ih && ix >= 0 && ix < p.iw ? iy * p.iw + ix : -1
            }
            for c in 0..<channels {
                let from = x + c * inPlane, to = dst + c * tapTile
                for i in 0..<tapTile { to[i] = offsets[i] >= 0 ? from[offsets[i]] : 0 }
            }
        }
    }

    /// acc[l][0..<16] += Σ_k w[k][l] · x[k][0..<16] for the 8 output channels l of a block: eight
    /// 16-lane accumulators, one load and eight broadcasts per input channel. Written with 8-lane
    /// vectors (sixteen accumulators, two loads) it reached 98 GFLOP/s on one core with its data in
    /// L1, 107 this way: a broadcast per two fused multiply-adds held it back.
    @inline(never)
    static func tapTile8x16(_ x: UnsafePointer<Float>, count: Int, w: UnsafePointer<Float>, acc: UnsafeMutablePointer<Float>) {
        typealias V = SIMD16<Float>
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        var a0 = load(acc), a1 = load(acc + 16), a2 = load(acc + 32), a3 = load(acc + 48)
        var a4 = load(acc + 64), a5 = load(acc + 80), a6 = load(acc + 96), a7 = load(acc + 112)
        var src = x, wp = w
        for _ in 0..<count {
            let v = load(src)
            a0.addProduct(v, V(repeating: wp[0])); a1.addProduct(v, V(repeating: wp[1]))
            a2.addProduct(v, V(repeating: wp[2])); a3.addProduct(v, V(repeating: wp[3]))
            a4.addProduct(v, V(repeating: wp[4])); a5.addProduct(v, V(repeating: wp[5]))
            a6.addProduct(v, V(repeating: wp[6])); a7.addProduct(v, V(repeating: wp[7]))
            src += tapTile
            wp += tapBlock
        }
        @inline(__always) func store(_ a: V, _ l: Int) { UnsafeMutableRawPointer(acc + l * tapTile).storeBytes(of: a, as: V.self) }
        store(a0, 0); store(a1, 1); store(a2, 2); store(a3, 3); store(a4, 4); store(a5, 5); store(a6, 6); store(a7, 7)
    }
}
