import CCompilerBuiltins
import ConvCore

/// The element-wise and pooling passes between a network's convolutions. They move whole
/// activation tensors (11 MB in Xception's block 2) and so are memory bound: SIMD16 loads and
/// stores, no branches on the data, and every worker thread on its own contiguous range. A scalar
/// `if x < 0 { x = 0 }` on random-sign data mispredicts half its branches and took 4 ms on a
/// 1.4 M-element ReLU here; these passes take a fraction of a millisecond.
public enum ActivationKernels {
    /// Elements per parallel chunk below which one thread does it all (waking workers costs more).
    static let serialLimit = 1 << 15

    @inline(__always)
    static func chunks(_ count: Int, threads: Int, _ body: (Range<Int>) -> Void) {
        if count <= serialLimit || threads <= 1 { body(0..<count); return }
        let workers = min(threads, count / serialLimit)
        // Chunk edges on 16-element boundaries, so only the last chunk has a scalar tail.
        parallelFor(threads: workers, count: workers) { w in
            let lo = (count * w.lowerBound / workers) & ~15
            let hi = w.upperBound == workers ? count : (count * w.upperBound / workers) & ~15
            if lo < hi { body(lo..<hi) }
        }
    }

    /// y = max(x, 0), NaN kept (PyTorch's relu). `x` and `y` may be the same memory.
    public static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, threads: Int) {
        let xs = UncheckedSendable(x), ys = UncheckedSendable(y)
        chunks(count, threads: threads) { r in
            let x = xs.value, y = ys.value
            var i = r.lowerBound
            while i + 16 <= r.upperBound {
                let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(y + i).storeBytes(of: v.replacing(with: 0, where: v .< 0), as: SIMD16<Float>.self)
                i += 16
            }
            while i < r.upperBound { y[i] = x[i] < 0 ? 0 : x[i]; i += 1 }
        }
    }

    /// y = a + b. Operands may alias `y`.
    public static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                           count: Int, threads: Int) {
        let p = UncheckedSendable((a, b, y))
        chunks(count, threads: threads) { r in
            let (a, b, y) = p.value
            var i = r.lowerBound
            while i + 16 <= r.upperBound {
                let u = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self)
                let v = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(y + i).storeBytes(of: u + v, as: SIMD16<Float>.self)
                i += 16
            }
            while i < r.upperBound { y[i] = a[i] + b[i]; i += 1 }
        }
    }

    /// y[i] = mean of plane i (`area` floats), summed in float64: eight lanes of a running double
    /// sum per plane (converted from float exactly), added up at the end. Planes are split among
    /// the threads. The scalar chain took 9 ms on DeepLab v3's image pooling (2048 planes of
    /// 64×64), one add latency per element.
    public static func planeMeans(_ x: UnsafePointer<Float>, planes: Int, area: Int, _ y: UnsafeMutablePointer<Float>,
                                  threads: Int) {
        let p = UncheckedSendable((x, y))
        parallelFor(threads: planes * area <= serialLimit ? 1 : threads, count: planes) { range in
            let (x, y) = p.value
            for plane in range {
                let src = x + plane * area
                var lanes = SIMD8<Double>(), i = 0
                while i + 8 <= area {
                    lanes += SIMD8<Double>(UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self))
                    i += 8
                }
                var sum = lanes.sum()
                while i < area { sum += Double(src[i]); i += 1 }
                y[plane] = Float(sum / Double(area))
            }
        }
    }

    /// One axis of a bilinear resize: for output index i, the lower and upper input index and the
    /// weights of each (`lowerWeight[i]` = 1 − `upperWeight[i]`, computed by the caller).
    public struct BilinearAxis: Sendable {
        public var lower: [Int], upper: [Int], lowerWeight: [Float], upperWeight: [Float]
        public init(lower: [Int], upper: [Int], lowerWeight: [Float], upperWeight: [Float]) {
            self.lower = lower; self.upper = upper; self.lowerWeight = lowerWeight; self.upperWeight = upperWeight
        }
    }

    /// Bilinear resize of NCHW planes, y = h0·(w0·x[r0][c0] + w1·x[r0][c1]) + h1·(w0·x[r1][c0] + w1·x[r1][c1])
    /// in float32 in that order (PyTorch's): each input row's horizontal blend is computed once per
    /// run of output rows that read it, the vertical blend with SIMD; output rows are split among the
    /// threads. One thread element by element took 7.7 ms on DeepLab v3's 64→512 upsampling of 21 planes.
    public static func resizeBilinear(_ x: UnsafePointer<Float>, planes: Int, inHeight ih: Int, inWidth iw: Int,
                                      _ y: UnsafeMutablePointer<Float>, outHeight oh: Int, outWidth ow: Int,
                                      rows: BilinearAxis, columns: BilinearAxis, threads: Int) {
        let p = UncheckedSendable((x, y))
        parallelFor(threads: planes * oh * ow <= serialLimit ? 1 : threads, count: planes * oh) { range in
            let (x, y) = p.value
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * ow) { buffer in
                // Two horizontally blended input rows and which (plane · ih + row) each holds.
                var upper = buffer.baseAddress!, lower = buffer.baseAddress! + ow
                var upperKey = -1, lowerKey = -1
                columns.lower.withUnsafeBufferPointer { c0 in
                columns.upper.withUnsafeBufferPointer { c1 in
                columns.lowerWeight.withUnsafeBufferPointer { w0 in
                columns.upperWeight.withUnsafeBufferPointer { w1 in
                    func blend(_ key: Int, into out: UnsafeMutablePointer<Float>) {
                        let src = x + key * iw
                        for ox in 0..<ow { out[ox] = w0[ox] * src[c0[ox]] + w1[ox] * src[c1[ox]] }
                    }
                    for item in range {
                        let plane = item / oh, oy = item % oh
                        let k0 = plane * ih + rows.lower[oy], k1 = plane * ih + rows.upper[oy]
                        // Moving down one input row, the old lower row is the new upper one.
                        if upperKey != k0 && lowerKey == k0 {
                            swap(&upper, &lower)
                            swap(&upperKey, &lowerKey)
                        }
                        if upperKey != k0 { blend(k0, into: upper); upperKey = k0 }
                        if lowerKey != k1 { blend(k1, into: lower); lowerKey = k1 }
                        let h0 = rows.lowerWeight[oy], h1 = rows.upperWeight[oy]
                        let out = y + item * ow
                        var ox = 0
                        while ox + 16 <= ow {
                            let a = UnsafeRawPointer(upper + ox).loadUnaligned(as: SIMD16<Float>.self)
                            let b = UnsafeRawPointer(lower + ox).loadUnaligned(as: SIMD16<Float>.self)
                            UnsafeMutableRawPointer(out + ox).storeBytes(of: SIMD16(repeating: h0) * a + SIMD16(repeating: h1) * b,
                                                                         as: SIMD16<Float>.self)
                            ox += 16
                        }
                        while ox < ow { out[ox] = h0 * upper[ox] + h1 * lower[ox]; ox += 1 }
                    }
                }}}}
            }
        }
    }

    /// How far ahead (bytes; about seven rows of 147) `maxPool` asks for the input of rows of 128
    /// or more. A worker reads its planes front to back, one stream; alone it reached a third of
    /// what a plain sum over the same 11 MB from memory did (Xception's 147-wide pool, 2 threads: 0.75–0.93
    /// ms against 0.30–0.49), its loads waiting behind the stores and reloads of each row's
    /// vertical maxima. Alternated in one process: from cold caches 0.80–0.85 of the time, warm
    /// 0.90–0.98 (DeepLab's stem pool, 64 planes of 256×256: 0.86 cold, 0.78 warm); in whole
    /// Xception passes block 2's pool took 0.557 ms instead of 0.753. 2 KB ahead gained less (cold
    /// 0.85), 6 KB too (0.84). Narrower rows (4-row groups) lost 5–14% with it and go without.
    static let poolPrefetchBytes = 4096

    /// Output rows whose vertical maxima `maxPool` computes before their windows.
    static let rowGroup = 4

    /// Max pooling of `planes` NCHW planes: the window's rows are first reduced to one row with
    /// SIMD (a vertical max over at most kH rows, clipped to the input), then that row to the max
    /// of every kW consecutive columns (SIMD again, shifted loads), and each output picks its
    /// window's entry; only windows cut by the left or right edge are done one by one. Padding
    /// never wins (it is −∞); a window wholly in padding gives −∞, as PyTorch's does. Comparisons
    /// are `replacing(with:where:)`: `pointwiseMax` compiles to a lane-by-lane loop through the
    /// stack here (4.5 ms instead of 0.5 for Xception's first pool), and data-dependent branches
    /// mispredict.
    public static func maxPool(_ x: UnsafePointer<Float>, planes: Int, height ih: Int, width iw: Int,
                               _ y: UnsafeMutablePointer<Float>, outHeight oh: Int, outWidth ow: Int,
                               kernel: (Int, Int), stride: (Int, Int), padTop: Int, padLeft: Int, threads: Int) {
        let p = UncheckedSendable((x, y))
        let (kh, kw) = kernel, (sh, sw) = stride
        let work = planes * ih * iw
        // Stride 2 across (every pool of Xception and ResNet) keeps only every other window, and
        // the gather below took half the pool's time: these rows go to a buffer with −∞ borders,
        // so each output vector is the even lanes of the max of kW shifted loads, edges included.
        let halving = sw == 2 && kw <= 16
        let extCount = max(padLeft + iw, 2 * ow + 18) + 16
        // Each worker's planes a few at a time; a helper that has not started is not waited for.
        let workers = work <= serialLimit ? 1 : threads
        parallelForStealing(threads: workers, count: planes, chunk: max(1, planes / (4 * max(1, workers)))) { _, chunks in
            let (x, y) = p.value
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * max(iw, 1) + rowGroup * extCount) { buffer in
                let windows = buffer.baseAddress!, ext = windows + max(iw, 1)
                let row = ext + rowGroup * extCount
                if halving { ext.update(repeating: -.infinity, count: rowGroup * extCount) }
                let full = iw - kw + 1  // windows that lie wholly inside the row
                for range in chunks { for plane in range {
                    let xp = x + plane * ih * iw, yp = y + plane * oh * ow
                    if halving {
                        // The vertical maxima of a few output rows first, then their windows: read
                        // right after it was stored, a row's unaligned loads, which span two of its
                        // stores, waited for those stores to reach the cache. Xception's pools of
                        // 19-, 37- and 74-wide maps took 1.40, 1.28 and 1.125 times as long; rows of
                        // 147 gain nothing (0.965), so wide rows go one at a time.
                        let wideRows = iw >= 128
                        var oy = 0
                        while oy < oh {
                            let group = min(wideRows ? 1 : rowGroup, oh - oy)
                            if wideRows {
                                // The input this row's window moves past, `poolPrefetchBytes` ahead.
                                let from = UnsafeRawPointer(xp + max(0, oy * sh - padTop) * iw) + poolPrefetchBytes
                                var o = 0
                                while o < sh * iw * MemoryLayout<Float>.size {
                                    convbench_prefetch(from + o)
                                    o += 64
                                }
                            }
                            for g in 0..<group {
                                let y0 = (oy + g) * sh - padTop
                                let ys = max(y0, 0), ye = min(y0 + kh, ih)
                                if ys < ye { verticalMax(xp + ys * iw, rows: ye - ys, width: iw, into: ext + g * extCount + padLeft) }
                            }
                            for g in 0..<group {
                                let y0 = (oy + g) * sh - padTop
                                let out = yp + (oy + g) * ow
                                if max(y0, 0) < min(y0 + kh, ih) {
                                    halvedWindows(ext + g * extCount, kw: kw, out, count: ow)
                                } else {
                                    out.update(repeating: -.infinity, count: ow)
                                }
                            }
                            oy += group
                        }
                        continue
                    }
                    for oy in 0..<oh {
                        let y0 = oy * sh - padTop
                        let ys = max(y0, 0), ye = min(y0 + kh, ih)
                        let out = yp + oy * ow
                        if ys >= ye {
                            out.update(repeating: -.infinity, count: ow)
                            continue
                        }
                        verticalMax(xp + ys * iw, rows: ye - ys, width: iw, into: row)
                        var c = 0
                        while c + 16 + kw - 1 <= iw {
                            var m = UnsafeRawPointer(row + c).loadUnaligned(as: SIMD16<Float>.self)
                            for j in 1..<max(kw, 1) {
                                let v = UnsafeRawPointer(row + c + j).loadUnaligned(as: SIMD16<Float>.self)
                                m = m.replacing(with: v, where: v .> m)
                            }
                            UnsafeMutableRawPointer(windows + c).storeBytes(of: m, as: SIMD16<Float>.self)
                            c += 16
                        }
                        while c < full {
                            var m = row[c]
                            for j in 1..<max(kw, 1) { m = row[c + j] > m ? row[c + j] : m }
                            windows[c] = m
                            c += 1
                        }
                        for ox in 0..<ow {
                            let x0 = ox * sw - padLeft
                            if x0 >= 0 && x0 < full {
                                out[ox] = windows[x0]
                            } else {
                                var m = -Float.infinity
                                var c = max(x0, 0)
                                while c < min(x0 + kw, iw) { m = row[c] > m ? row[c] : m; c += 1 }
                                out[ox] = m
                            }
                        }
                    }
                } }
            }
        }
    }

    /// row[c] = max over `rows` input rows (a plane apart by `width`) of column c. Rows of 16 or
    /// more end with a vector overlapping the one before (max is idempotent, so recomputing a few
    /// columns is harmless): Xception's 37- and 19-wide rows spent more time in the scalar tail and
    /// the row copy than in the vectors.
    @inline(__always)
    static func verticalMax(_ src: UnsafePointer<Float>, rows: Int, width iw: Int, into row: UnsafeMutablePointer<Float>) {
        typealias V = SIMD16<Float>
        @inline(__always) func column(_ c: Int) {
            var m = UnsafeRawPointer(src + c).loadUnaligned(as: V.self)
            for r in 1..<rows {
                let v = UnsafeRawPointer(src + r * iw + c).loadUnaligned(as: V.self)
                m = m.replacing(with: v, where: v .> m)
            }
            UnsafeMutableRawPointer(row + c).storeBytes(of: m, as: V.self)
        }
        guard iw >= 16 else {
            for c in 0..<iw {
                var m = src[c]
                for r in 1..<rows { m = src[r * iw + c] > m ? src[r * iw + c] : m }
                row[c] = m
            }
            return
        }
        var c = 0
        while c + 16 <= iw {
            column(c)
            c += 16
        }
        if c < iw { column(iw - 16) }
    }

    /// out[i] = max(ext[2i ..< 2i + kw]) for i < count, sixteen at a time (eight in rows of fewer
    /// than 16); a row whose count is not a multiple of the width ends with a vector overlapping the
    /// one before. Sixteen take two-source permutes of 32 floats (vpermt2ps) where eight took one
    /// half of a 16-lane max: Xception's pools of 147- and 74-wide maps 0.95 of the time on the
    /// Emerald Rapids VM (alternated in one process, 2 threads), 37-wide 0.99. `ext` holds −∞ wherever the
    /// window leaves the input, and at least max(2·count + 2, 18) + 16 floats.
    @inline(__always)
    static func halvedWindows(_ ext: UnsafePointer<Float>, kw: Int, _ out: UnsafeMutablePointer<Float>, count: Int) {
        typealias V = SIMD16<Float>
        @inline(__always) func eight(_ i: Int) -> SIMD8<Float> {
            let b = ext + 2 * i
            var m = UnsafeRawPointer(b).loadUnaligned(as: V.self)
            for j in 1..<kw {
                let v = UnsafeRawPointer(b + j).loadUnaligned(as: V.self)
                m = m.replacing(with: v, where: v .> m)
            }
            return m.evenHalf
        }
        /// out[i ..< i + 16]: window tap j is the even lanes of the 32 floats from 2i + j for even
        /// j, the odd lanes of those from 2i + j − 1 for odd j (one two-source permute each).
        @inline(__always) func sixteen(_ i: Int) -> V {
            let b = ext + 2 * i
            var m = V()
            var j = 0
            while j < kw {
                let pair = SIMD32(lowHalf: UnsafeRawPointer(b + j).loadUnaligned(as: V.self),
                                  highHalf: UnsafeRawPointer(b + j + 16).loadUnaligned(as: V.self))
                let even = pair.evenHalf
                m = j == 0 ? even : m.replacing(with: even, where: even .> m)
                if j + 1 < kw {
                    let odd = pair.oddHalf
                    m = m.replacing(with: odd, where: odd .> m)
                }
                j += 2
            }
            return m
        }
        if count < 8 {
            SIMDTail.store(eight(0), count: count, to: out)
            return
        }
        if count >= 16 {
            SIMDTail.forEachOverlappingVector(count: count, width: 16) { i in
                UnsafeMutableRawPointer(out + i).storeBytes(of: sixteen(i), as: V.self)
            }
            return
        }
        SIMDTail.forEachOverlappingVector(count: count) { i in
            UnsafeMutableRawPointer(out + i).storeBytes(of: eight(i), as: SIMD8<Float>.self)
        }
    }
}

extension Tensor {
    /// y = max(y, 0) over the whole tensor, in place (`ActivationKernels.relu`): the pass an
    /// algorithm runs after the convolution when it cannot apply the ReLU as it stores.
    mutating func applyReLU(threads: Int) {
        withUnsafeMutableBufferPointer {
            ActivationKernels.relu($0.baseAddress!, $0.baseAddress!, count: $0.count, threads: threads)
        }
    }
}
