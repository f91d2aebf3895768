/// Partial vector loads and stores for the last, shorter chunk of a row, as a few fixed-width
/// moves (8, 4, then single lanes). Lane-by-lane indexing with a run-time index goes through a
/// generic path, and a byte copy becomes a libc call per row; these stay in registers.
enum SIMDTail {
    /// Calls `body(x)` for x = 0, w, 2w, … (w = `width`, 8 unless given) and, when `count` is not
    /// a multiple of w, last for count − w (overlapping the vector before): every column of a row
    /// of `count` ≥ w is covered by whole w-lane vectors, with no partial store. For results that
    /// are the same when computed twice (a recomputed output, a max).
    @inline(__always)
    static func forEachOverlappingVector(count: Int, width: Int = 8, _ body: (Int) -> Void) {
        let last = count - width
        var x = 0
        while true {
            body(x)
            if x == last { break }
            x = min(x + width, last)
        }
    }

    @inline(__always)
    static func store(_ v: SIMD16<Float>, count: Int, to dst: UnsafeMutablePointer<Float>) {
        if count >= 8 {
            UnsafeMutableRawPointer(dst).storeBytes(of: v.lowHalf, as: SIMD8<Float>.self)
            store(v.highHalf, count: count - 8, to: dst + 8)
        } else {
            store(v.lowHalf, count: count, to: dst)
        }
    }

    @inline(__always)
    static func store(_ v: SIMD8<Float>, count: Int, to dst: UnsafeMutablePointer<Float>) {
        if count >= 8 {
            UnsafeMutableRawPointer(dst).storeBytes(of: v, as: SIMD8<Float>.self)
            return
        }
        var rest = v.lowHalf, p = dst, n = count
        if n >= 4 {
            UnsafeMutableRawPointer(p).storeBytes(of: v.lowHalf, as: SIMD4<Float>.self)
            rest = v.highHalf; p += 4; n -= 4
        }
        if n == 4 { UnsafeMutableRawPointer(p).storeBytes(of: rest, as: SIMD4<Float>.self); return }
        if n > 0 { p[0] = rest.x }
        if n > 1 { p[1] = rest.y }
        if n > 2 { p[2] = rest.z }
    }

    @inline(__always)
    static func load(count: Int, from src: UnsafePointer<Float>) -> SIMD16<Float> {
        var lanes = SIMD16<Float>()
        var i = 0
        if count >= 8 {
            lanes.lowHalf = UnsafeRawPointer(src).loadUnaligned(as: SIMD8<Float>.self)
            i = 8
        }
        var tail = SIMD8<Float>()
        var j = 0
        while i + j < count { tail[j] = src[i + j]; j += 1 }
        if i == 0 { lanes.lowHalf = tail } else { lanes.highHalf = tail }
        return lanes
    }
}
