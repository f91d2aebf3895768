/// A matrix-vector product for one image's fully connected layer. It lives here, not with the
/// model operations, because only this target is built with the kernel flags: without
/// `-march=native`, `addProduct` on SIMD16 became a call per lane.
public enum MatrixVector {
    /// y[o] = bias[o] + W[o, :]·x, four rows at a time (four accumulators share each load of x).
    /// Each row's sum has the same order whatever the thread count.
    public static func run(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                           _ y: UnsafeMutablePointer<Float>, rows: Int, columns k: Int, threads: Int) {
        typealias V = SIMD16<Float>
        let shared = UncheckedSendable((x, w, bias, y))
        let quads = (rows + 3) / 4
        parallelFor(threads: rows * k < 1 << 16 ? 1 : threads, count: quads) { range in
            let (x, w, bias, y) = shared.value
            @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
            for q in range {
                let first = q * 4, count = min(4, rows - first)
                // Rows past the end repeat the last one; their sums are not stored.
                @inline(__always) func row(_ j: Int) -> UnsafePointer<Float> { w + min(first + j, rows - 1) * k }
                let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3))
                var a0 = V(), a1 = V(), a2 = V(), a3 = V()
                var i = 0
                while i + 16 <= k {
                    let v = load(x + i)
                    a0.addProduct(load(r0 + i), v); a1.addProduct(load(r1 + i), v)
                    a2.addProduct(load(r2 + i), v); a3.addProduct(load(r3 + i), v)
                    i += 16
                }
                var sums = (a0.sum(), a1.sum(), a2.sum(), a3.sum())
                while i < k {
                    sums.0 += r0[i] * x[i]; sums.1 += r1[i] * x[i]; sums.2 += r2[i] * x[i]; sums.3 += r3[i] * x[i]
                    i += 1
                }
                @inline(__always) func put(_ j: Int, _ v: Float) { if j < count { y[first + j] = (bias?[first + j] ?? 0) + v } }
                put(0, sums.0); put(1, sums.1); put(2, sums.2); put(3, sums.3)
            }
        }
    }
}
