/// F(6×6, 3×3)'s input and output transforms (points 0, ±1, ±½, ±2 and ∞, `WinogradTransform.f6x6_3x3`)
/// applied to eight rows of vectors at once, with the sums their symmetric points share.
///
/// `SparseRows.combine` forms one output row per call from the matrix's nonzero terms: 44 loads and
/// fused multiply-adds per column of Bᵀ's eight rows, 42 for Aᵀ's six, each term's coefficient and
/// row offset read from memory, in 8-lane vectors. On the Emerald Rapids VM the output transform of
/// Xception's 32→64 layer at 145×145 cost about 120 cycles per tile and channel, half the layer.
/// Here the eight input rows are loaded once per column, and each pair of points ±p contributes
/// through one sum and one difference: the rows of Bᵀ for p and −p are E ± O (E the even powers,
/// O the odd), and Aᵀ's columns for p and −p enter row i as pⁱ·(m_p ± m_{−p}) by the parity of i.
/// 26 operations per column for Bᵀ, 20 for Aᵀ, 16 lanes at a time.
///
/// The sums are the same products as the matrices', grouped differently: each result rounds
/// differently from `combine`'s, within the same error bound (the coefficients are small dyadic
/// numbers, each multiplication by them exact up to one rounding of the sum).
enum WinogradF6x6Rows {
    /// dst[i·dstStride + ·] = Σ_l Bᵀ[i][l] · src[l·stride + ·], i, l < 8, over `vectors` groups of
    /// eight lanes.
    @inline(__always)
    static func input(_ src: UnsafePointer<Float>, stride: Int, into dst: UnsafeMutablePointer<Float>, dstStride: Int,
                      vectors: Int) {
        var vi = 0
        while vi + 2 <= vectors {
            inputColumn(SIMD16<Float>.self, src + 8 * vi, stride, dst + 8 * vi, dstStride)
            vi += 2
        }
        if vi < vectors { inputColumn(SIMD8<Float>.self, src + 8 * vi, stride, dst + 8 * vi, dstStride) }
    }

    /// dst[i·dstStride + ·] = bias + Σ_l Aᵀ[i][l] · src[l·stride + ·], i < 6, l < 8.
    @inline(__always)
    static func output(_ src: UnsafePointer<Float>, stride: Int, into dst: UnsafeMutablePointer<Float>, dstStride: Int,
                       vectors: Int, bias: Float = 0) {
        var vi = 0
        while vi + 2 <= vectors {
            outputColumn(SIMD16<Float>.self, src + 8 * vi, stride, dst + 8 * vi, dstStride, bias)
            vi += 2
        }
        if vi < vectors { outputColumn(SIMD8<Float>.self, src + 8 * vi, stride, dst + 8 * vi, dstStride, bias) }
    }

    /// Bᵀ's rows by ascending power: 0: −1, 0, 21/4, 0, −21/4, 0, 1 · 7 (∞): the same one place on;
    /// ±1: E = d2 − 17/4·d4 + d6, O = d1 − 17/4·d3 + d5; ±½: E = 4d2 − 5d4 + d6,
    /// O = 2d1 − 5/2·d3 + ½d5; ±2: E = ¼d2 − 5/4·d4 + d6, O = ½d1 − 5/2·d3 + 2d5.
    @inline(__always)
    static func inputColumn<V: SIMD>(_: V.Type, _ src: UnsafePointer<Float>, _ stride: Int,
                                     _ dst: UnsafeMutablePointer<Float>, _ dstStride: Int) where V.Scalar == Float {
        @inline(__always) func load(_ l: Int) -> V { UnsafeRawPointer(src + l * stride).loadUnaligned(as: V.self) }
        @inline(__always) func put(_ i: Int, _ v: V) { UnsafeMutableRawPointer(dst + i * dstStride).storeBytes(of: v, as: V.self) }
        @inline(__always) func k(_ c: Float) -> V { V(repeating: c) }
        let d0 = load(0), d1 = load(1), d2 = load(2), d3 = load(3)
        let d4 = load(4), d5 = load(5), d6 = load(6), d7 = load(7)
        put(0, (d6 - d0).addingProduct(d2 - d4, k(5.25)))
        put(7, (d7 - d1).addingProduct(d3 - d5, k(5.25)))
        let e1 = (d2 + d6).addingProduct(d4, k(-4.25)), o1 = (d1 + d5).addingProduct(d3, k(-4.25))
        put(1, e1 + o1)
        put(2, e1 - o1)
        let e3 = d6.addingProduct(d2, k(4)).addingProduct(d4, k(-5))
        let o3 = (d1 * k(2)).addingProduct(d3, k(-2.5)).addingProduct(d5, k(0.5))
        put(3, e3 + o3)
        put(4, e3 - o3)
        let e5 = d6.addingProduct(d2, k(0.25)).addingProduct(d4, k(-1.25))
        let o5 = (d1 * k(0.5)).addingProduct(d3, k(-2.5)).addingProduct(d5, k(2))
        put(5, e5 + o5)
        put(6, e5 - o5)
    }

    /// Aᵀ[i] = 0ⁱ, 1, (−1)ⁱ, ½ⁱ, (−½)ⁱ, 2ⁱ, (−2)ⁱ, [i = 5].
    @inline(__always)
    static func outputColumn<V: SIMD>(_: V.Type, _ src: UnsafePointer<Float>, _ stride: Int,
                                      _ dst: UnsafeMutablePointer<Float>, _ dstStride: Int, _ bias: Float) where V.Scalar == Float {
        @inline(__always) func load(_ l: Int) -> V { UnsafeRawPointer(src + l * stride).loadUnaligned(as: V.self) }
        @inline(__always) func put(_ i: Int, _ v: V) { UnsafeMutableRawPointer(dst + i * dstStride).storeBytes(of: v, as: V.self) }
        @inline(__always) func k(_ c: Float) -> V { V(repeating: c) }
        let m0 = load(0), m1 = load(1), m2 = load(2), m3 = load(3)
        let m4 = load(4), m5 = load(5), m6 = load(6), m7 = load(7)
        let b = k(bias)
        let a = m1 + m2, s = m1 - m2, c = m3 + m4, d = m3 - m4, e = m5 + m6, f = m5 - m6
        put(0, b + m0 + a + c + e)
        put(1, (b + s).addingProduct(d, k(0.5)).addingProduct(f, k(2)))
        put(2, (b + a).addingProduct(c, k(0.25)).addingProduct(e, k(4)))
        put(3, (b + s).addingProduct(d, k(0.125)).addingProduct(f, k(8)))
        put(4, (b + a).addingProduct(c, k(0.0625)).addingProduct(e, k(16)))
        put(5, (b + s + m7).addingProduct(d, k(0.03125)).addingProduct(f, k(32)))
    }
}
