import ConvCore

/// Kernel taps that read only padding, skipped. A dilated kernel on a small map reads padding for
/// most of its taps (DeepLab v3's ASPP at rate 36 on a 64×64 map: output rows 0–27 see kernel rows
/// 1–2, rows 28–35 only the centre row, rows 36–63 rows 0–1; the same across columns), and those
/// products are zeros that im2col-gemm still unfolds and multiplies. Split the output into regions
/// where the set of taps that land inside the image is the same for every pixel (intervals of rows
/// × intervals of columns; at most 2·k + 1 intervals per dimension), and each region is a GEMM over
/// its own taps only: K_R = (Cin/g)·|rows of taps|·|columns of taps|. The ASPP rate-36 layer does
/// 39% of the multiply-accumulates, rate 24 56%, rate 12 77%.
struct TapRegions {
    struct Interval {
        var range: Range<Int>
        /// The kernel rows (or columns) whose taps land inside the image for every output in `range`.
        var taps: [Int]
    }

    struct Region {
        var rows: Interval, columns: Interval
        /// [coutG × K_R] per group: the weights of the region's taps, (icg, ky, kx) order.
        var weights: [Float]
        var k: Int
        var bandRows: Int
    }

    let regions: [Region]
    /// Multiply-accumulates kept, as a fraction of the full kernel's.
    let keptFraction: Double
    let columnFloats: Int, outputFloats: Int

    /// Output positions 0..<count, grouped into intervals of equal valid-tap sets.
    static func intervals(count: Int, input: Int, taps: Int, stride: Int, dilation: Int, padBegin: Int) -> [Interval] {
        var result: [Interval] = []
        for o in 0..<count {
            let valid = (0..<taps).filter { t in
                let i = o * stride - padBegin + t * dilation
                return i >= 0 && i < input
            }
            if let last = result.last, last.taps == valid, last.range.upperBound == o {
                result[result.count - 1].range = last.range.lowerBound..<(o + 1)
            } else {
                result.append(Interval(range: o..<(o + 1), taps: valid))
            }
        }
        return result
    }

    /// nil when pruning would skip less than `minimumSkipped` of the multiply-accumulates (the
    /// plain unfold is then as good, with fewer and larger GEMMs).
    init?(_ c: ConvDescriptor, weights: Tensor, plan: Im2colGEMM, minimumSkipped: Double = 0.15) {
        guard !c.transposed else { return nil }
        let rows = Self.intervals(count: c.outHeight, input: c.inHeight, taps: c.kernelHeight, stride: c.strideHeight,
                                  dilation: c.dilationHeight, padBegin: c.padTop)
        let columns = Self.intervals(count: c.outWidth, input: c.inWidth, taps: c.kernelWidth, stride: c.strideWidth,
                                     dilation: c.dilationWidth, padBegin: c.padLeft)
        var kept = 0
        for r in rows { for q in columns { kept += r.range.count * q.range.count * r.taps.count * q.taps.count } }
        let full = c.outHeight * c.outWidth * c.kernelHeight * c.kernelWidth
        keptFraction = Double(kept) / Double(max(full, 1))
        guard keptFraction <= 1 - minimumSkipped else { return nil }
        let (cinG, coutG, kh, kw) = (c.inChannelsPerGroup, c.outChannelsPerGroup, c.kernelHeight, c.kernelWidth)
        let w = weights.scalars
        var regions: [Region] = []
        var columnFloats = 0, outputFloats = 0
        for r in rows {
            for q in columns where !r.taps.isEmpty && !q.taps.isEmpty {
                let k = cinG * r.taps.count * q.taps.count
                var packed = [Float](repeating: 0, count: c.groups * coutG * k)
                for g in 0..<c.groups {
                    for ocg in 0..<coutG {
                        var j = 0
                        for icg in 0..<cinG {
                            for ky in r.taps {
                                for kx in q.taps {
                                    packed[(g * coutG + ocg) * k + j] = w[(((g * coutG + ocg) * cinG + icg) * kh + ky) * kw + kx]
                                    j += 1
                                }
                            }
                        }
                    }
                }
                let band = plan.regionBandRows(total: r.range.count, rowWidth: q.range.count, k: k)
                columnFloats = max(columnFloats, k * band * q.range.count)
                outputFloats = max(outputFloats, coutG * band * q.range.count)
                regions.append(Region(rows: r, columns: q, weights: packed, k: k, bandRows: band))
            }
        }
        self.regions = regions
        self.columnFloats = columnFloats
        self.outputFloats = outputFloats
    }

    /// Adds one group's convolution into `yGroup` (coutG planes, already holding the bias):
    /// per region and band, unfold the region's taps (no padding to test: every tap is inside),
    /// multiply into `scratch`, add into the output rectangle.
    func run(_ c: ConvDescriptor, image: UnsafePointer<Float>, group g: Int, yGroup: UnsafeMutablePointer<Float>,
             col: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, threads: Int) {
        let (ih, iw, ow, oh) = (c.inHeight, c.inWidth, c.outWidth, c.outHeight)
        let (sh, sw, dh, dw, pt, pl) = (c.strideHeight, c.strideWidth, c.dilationHeight, c.dilationWidth, c.padTop, c.padLeft)
        let coutG = c.outChannelsPerGroup
        let shared = UncheckedSendable((image, col, scratch, yGroup))
        for region in regions {
            let (x0, width) = (region.columns.range.lowerBound, region.columns.range.count)
            let ky = region.rows.taps, kx = region.columns.taps
            var oy = region.rows.range.lowerBound
            while oy < region.rows.range.upperBound {
                let band = oy..<min(region.rows.range.upperBound, oy + region.bandRows)
                let n = band.count * width
                parallelFor(threads: threads, count: region.k) { range in
                    let (image, col, _, _) = shared.value
                    for row in range {
                        let b = kx[row % kx.count], a = ky[(row / kx.count) % ky.count], icg = row / (kx.count * ky.count)
                        let plane = image + icg * ih * iw
                        var dst = col + row * n
                        for y in band {
                            let src = plane + (y * sh - pt + a * dh) * iw + (x0 * sw - pl + b * dw)
                            if sw == 1 {
                                dst.update(from: src, count: width)
                            } else {
                                for i in 0..<width { dst[i] = src[i * sw] }
                            }
                            dst += width
                        }
                    }
                }
                region.weights.withUnsafeBufferPointer { w in
                    SGEMM.multiply(m: coutG, n: n, k: region.k, a: w.baseAddress! + g * coutG * region.k, lda: region.k,
                                   b: col, ldb: n, c: scratch, ldc: n, beta: 0)
                }
                parallelFor(threads: threads, count: coutG) { range in
                    let (_, _, scratch, y) = shared.value
                    for ocg in range {
                        var src = scratch + ocg * n
                        for yy in band {
                            let dst = y + (ocg * oh + yy) * ow + x0
                            for i in 0..<width { dst[i] += src[i] }
                            src += width
                        }
                    }
                }
                oy = band.upperBound
            }
        }
    }
}
