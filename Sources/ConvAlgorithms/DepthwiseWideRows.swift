/// The 3×3 stride-1 depthwise kernel for wide rows (`DepthwiseSIMD.plane3x3Wide`).
extension DepthwiseSIMD {
    /// Output rows at least this wide take `plane3x3Wide` where the kernels have 32 vector
    /// registers. Narrower ones keep `plane3x3`'s 8-lane vectors (except `narrowRowsWiden`): a 19-wide row is three 8-lane
    /// vectors (24 lanes) but two 16-lane ones (32). At 37 (Xception's block 4) the wide kernel
    /// still gained 1–2%.
    static let wideRowWidth = 32

    /// Output planes of at least this many bytes (Xception's 147×147) have `plane3x3Wide` ask for
    /// the output rows two steps ahead in the state a store needs (PREFETCHW). Such a layer's
    /// output (5.5 and 11 MB) goes to memory the pass has not touched since the one before, and
    /// each store to a line not in the caches waited for it to be read. Alternated in one process,
    /// 2 threads, from cold caches: 64 and 128 planes at 147×147 0.898 and 0.895 of the time; in
    /// whole passes block 2's depthwise layers 0.437 and 0.878 ms instead of 0.479 and 0.945. At
    /// 74×74 the pass's outputs were still in L3 and the prefetches cost (0.197 against 0.164 ms).
    static let prefetchedOutputPlaneBytes = 64 << 10

    /// Whether `plane3x3Wide` prefetches the output rows ahead (`prefetchedOutputPlaneBytes`).
    static func prefetchesOutputRows(_ p: DirectConvolution.Plan) -> Bool {
        p.oh * p.ow * MemoryLayout<Float>.size >= prefetchedOutputPlaneBytes
    }

    /// Whether a dense 3×3 stride-1 plane goes through `plane3x3Wide`.
    static func widensRows(_ p: DirectConvolution.Plan) -> Bool {
        DirectConvolution.wide && (p.ow >= wideRowWidth || (narrowRowsWiden && p.ow >= 16))
    }

    /// Whether rows of 16 to 31 columns take `plane3x3Wide` too: on Intel cores, whose two 512-bit
    /// FMA units run a 16-lane FMA at the rate of an 8-lane one, so a 19-wide row's two 16-lane
    /// vectors cost less than three 8-lane ones. On the Emerald Rapids VM 728 planes of 19×19
    /// (Xception's middle flow) took 0.88 of the time warm, 0.96 from cold caches (alternated in
    /// one process, 2 threads); on the Zen 4 VM, where a 16-lane FMA costs two 8-lane ones, the
    /// 8-lane kernel stays (`wideRowWidth`).
    static let narrowRowsWiden = CPUVendor.current == .intel

    /// `plane3x3` with 16 columns per vector and four output rows per step, which share the loads
    /// of their input rows (18 loads for 36 FMAs). `plane3x3`'s two accumulators each wait on a
    /// chain of nine FMAs, and on Xception's 147-wide planes it ran at half the FMA rate
    /// (1.2 cycles per output in L2); here each step has four chains of twice the columns. Every
    /// output sums its nine taps in `plane3x3`'s order, from the bias: the same bits. The last
    /// vector of a row overlaps the one before it, as in `plane3x3`. With `prefetchingOutput`
    /// (`prefetchesOutputRows`) each step first asks for the output rows two steps on.
    @inline(never)
    static func plane3x3Wide(_ p: DirectConvolution.Plan, buffer: UnsafePointer<Float>, w: UnsafePointer<Float>,
                             bias: Float, y: UnsafeMutablePointer<Float>, prefetchingOutput: Bool = false) {
        typealias V = SIMD16<Float>
        let k0 = V(repeating: w[0]), k1 = V(repeating: w[1]), k2 = V(repeating: w[2])
        let k3 = V(repeating: w[3]), k4 = V(repeating: w[4]), k5 = V(repeating: w[5])
        let k6 = V(repeating: w[6]), k7 = V(repeating: w[7]), k8 = V(repeating: w[8])
        let start = V(repeating: bias)
        let wq = p.wq, ow = p.ow
        @inline(__always) func at(_ row: UnsafePointer<Float>, _ i: Int) -> V {
            UnsafeRawPointer(row + i).loadUnaligned(as: V.self)
        }
        @inline(__always) func put(_ v: V, _ out: UnsafeMutablePointer<Float>) {
            UnsafeMutableRawPointer(out).storeBytes(of: v, as: V.self)
        }
        var oy = 0
        while oy + 4 <= p.oh {
            let r0 = buffer + oy * wq, r1 = r0 + wq, r2 = r1 + wq, r3 = r2 + wq, r4 = r3 + wq, r5 = r4 + wq
            let out = y + oy * ow
            if prefetchingOutput && oy + 12 <= p.oh {
                // The rows two steps on (one contiguous run): a step computes in about the time a
                // line takes to arrive.
                DirectConvolution.prefetchForWrite(out + 8 * ow, rows: 1, plane: 0, width: 4 * ow)
            }
            SIMDTail.forEachOverlappingVector(count: ow, width: 16) { x in
                var a = start, b = start, c = start, d = start
                var v = at(r0, x); a.addProduct(v, k0)
                v = at(r0, x + 1); a.addProduct(v, k1)
                v = at(r0, x + 2); a.addProduct(v, k2)
                v = at(r1, x); a.addProduct(v, k3); b.addProduct(v, k0)
                v = at(r1, x + 1); a.addProduct(v, k4); b.addProduct(v, k1)
                v = at(r1, x + 2); a.addProduct(v, k5); b.addProduct(v, k2)
                v = at(r2, x); a.addProduct(v, k6); b.addProduct(v, k3); c.addProduct(v, k0)
                v = at(r2, x + 1); a.addProduct(v, k7); b.addProduct(v, k4); c.addProduct(v, k1)
                v = at(r2, x + 2); a.addProduct(v, k8); b.addProduct(v, k5); c.addProduct(v, k2)
                v = at(r3, x); b.addProduct(v, k6); c.addProduct(v, k3); d.addProduct(v, k0)
                v = at(r3, x + 1); b.addProduct(v, k7); c.addProduct(v, k4); d.addProduct(v, k1)
                v = at(r3, x + 2); b.addProduct(v, k8); c.addProduct(v, k5); d.addProduct(v, k2)
                v = at(r4, x); c.addProduct(v, k6); d.addProduct(v, k3)
                v = at(r4, x + 1); c.addProduct(v, k7); d.addProduct(v, k4)
                v = at(r4, x + 2); c.addProduct(v, k8); d.addProduct(v, k5)
                v = at(r5, x); d.addProduct(v, k6)
                v = at(r5, x + 1); d.addProduct(v, k7)
                v = at(r5, x + 2); d.addProduct(v, k8)
                put(a, out + x); put(b, out + ow + x); put(c, out + 2 * ow + x); put(d, out + 3 * ow + x)
            }
            oy += 4
        }
        while oy < p.oh {
            let r0 = buffer + oy * wq, r1 = r0 + wq, r2 = r1 + wq
            let out = y + oy * ow
            SIMDTail.forEachOverlappingVector(count: ow, width: 16) { x in
                var a = start
                a.addProduct(at(r0, x), k0); a.addProduct(at(r0, x + 1), k1); a.addProduct(at(r0, x + 2), k2)
                a.addProduct(at(r1, x), k3); a.addProduct(at(r1, x + 1), k4); a.addProduct(at(r1, x + 2), k5)
                a.addProduct(at(r2, x), k6); a.addProduct(at(r2, x + 1), k7); a.addProduct(at(r2, x + 2), k8)
                put(a, out + x)
            }
            oy += 1
        }
    }
}
