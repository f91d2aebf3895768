/// Eight 8-lane rows, transposed in registers: Winograd's gather and scatter move whole vectors
/// between a tile's rows (lanes along the row) and its place in V and M (lanes across 8 tiles).
struct Rows8x8 {
    var r0, r1, r2, r3, r4, r5, r6, r7: SIMD8<Float>

    /// Row i from `p + offsets[i]`.
    @inline(__always)
    init(loading p: UnsafePointer<Float>, _ o0: Int, _ o1: Int, _ o2: Int, _ o3: Int,
         _ o4: Int, _ o5: Int, _ o6: Int, _ o7: Int) {
        @inline(__always) func load(_ o: Int) -> SIMD8<Float> { UnsafeRawPointer(p + o).loadUnaligned(as: SIMD8<Float>.self) }
        r0 = load(o0); r1 = load(o1); r2 = load(o2); r3 = load(o3)
        r4 = load(o4); r5 = load(o5); r6 = load(o6); r7 = load(o7)
    }

    /// Row i from `p + i·stride`; rows at or past `count` are zero.
    @inline(__always)
    init(loading p: UnsafePointer<Float>, stride: Int, count: Int) {
        @inline(__always) func load(_ i: Int) -> SIMD8<Float> {
            i < count ? UnsafeRawPointer(p + i * stride).loadUnaligned(as: SIMD8<Float>.self) : SIMD8()
        }
        r0 = load(0); r1 = load(1); r2 = load(2); r3 = load(3)
        r4 = load(4); r5 = load(5); r6 = load(6); r7 = load(7)
    }

    /// Three perfect unshuffles: each moves the lowest bit of an element's 6-bit address
    /// (row·8 + lane) to the top, so three of them swap the row and lane bits.
    @inline(__always)
    mutating func transpose() {
        @inline(__always) func unzip(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> (SIMD8<Float>, SIMD8<Float>) {
            let ab = SIMD16(lowHalf: a, highHalf: b)
            return (ab.evenHalf, ab.oddHalf)
        }
        for _ in 0..<3 {
            let (a0, a4) = unzip(r0, r1), (a1, a5) = unzip(r2, r3)
            let (a2, a6) = unzip(r4, r5), (a3, a7) = unzip(r6, r7)
            (r0, r1, r2, r3, r4, r5, r6, r7) = (a0, a1, a2, a3, a4, a5, a6, a7)
        }
    }

    /// max(x, 0) that keeps NaN, as the scalar ReLU `x < 0 ? 0 : x` does.
    @inline(__always)
    mutating func zeroNegatives() {
        @inline(__always) func relu(_ v: SIMD8<Float>) -> SIMD8<Float> { v.replacing(with: 0, where: v .< 0) }
        r0 = relu(r0); r1 = relu(r1); r2 = relu(r2); r3 = relu(r3)
        r4 = relu(r4); r5 = relu(r5); r6 = relu(r6); r7 = relu(r7)
    }

    /// body(i, row i) for i = 0…7, unrolled.
    @inline(__always)
    func forEachRow(_ body: (Int, SIMD8<Float>) -> Void) {
        body(0, r0); body(1, r1); body(2, r2); body(3, r3); body(4, r4); body(5, r5); body(6, r6); body(7, r7)
    }

    /// Rows 0..<count to `p + i·stride`.
    @inline(__always)
    func store(to p: UnsafeMutablePointer<Float>, stride: Int, count: Int) {
        @inline(__always) func put(_ i: Int, _ v: SIMD8<Float>) {
            if i < count { UnsafeMutableRawPointer(p + i * stride).storeBytes(of: v, as: SIMD8<Float>.self) }
        }
        put(0, r0); put(1, r1); put(2, r2); put(3, r3); put(4, r4); put(5, r5); put(6, r6); put(7, r7)
    }
}
