/// The 1×1 path's tile for 48-pixel strips (`DirectConvolution.wideStrip`): 8 output channels × 48
/// pixels in twenty-four 16-lane accumulators, for kernels compiled with AVX-512's 32 registers.
extension DirectConvolution {
    /// One or two consecutive blocks of 4 output channels (`blocks`) × 48 pixels: the first block's
    /// weights at `w`, the second's `count`·4 floats on; `validInLast` channels of the last block
    /// stored. The strip's row k (its input channel k) is the 48 floats at `strip + 48·k`. Each
    /// element's sum is the one `tile24` forms: its input channels in order from zero by fused
    /// multiply-adds, then (sum + bias) + addend, then the ReLU. Never inlined, like `tile24`.
    @inline(never)
    static func tile8x48(_ strip: UnsafePointer<Float>, count: Int, plane: Int, w: UnsafePointer<Float>,
                         bias: UnsafePointer<Float>, blocks: Int, validInLast: Int, relu: Bool,
                         addend: UnsafePointer<Float>?, out: UnsafeMutablePointer<Float>) {
        var a = Block48.zero
        var src = strip, wp = w
        if blocks == 2 {
            var c = Block48.zero
            var wq = w + count * channelBlock
            for _ in 0..<count {
                let (v0, v1, v2) = strip48(src)
                a.accumulate(v0, v1, v2, wp)
                c.accumulate(v0, v1, v2, wq)
                src += wideStrip
                wp += channelBlock
                wq += channelBlock
            }
            a.store(bias: bias, valid: channelBlock, plane: plane, relu: relu, addend: addend, out: out)
            c.store(bias: bias + channelBlock, valid: validInLast, plane: plane, relu: relu,
                    addend: addend.map { $0 + channelBlock * plane }, out: out + channelBlock * plane)
        } else {
            for _ in 0..<count {
                let (v0, v1, v2) = strip48(src)
                a.accumulate(v0, v1, v2, wp)
                src += wideStrip
                wp += channelBlock
            }
            a.store(bias: bias, valid: validInLast, plane: plane, relu: relu, addend: addend, out: out)
        }
    }

    @inline(__always)
    static func strip48(_ src: UnsafePointer<Float>) -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
        (UnsafeRawPointer(src).loadUnaligned(as: SIMD16<Float>.self),
         UnsafeRawPointer(src + 16).loadUnaligned(as: SIMD16<Float>.self),
         UnsafeRawPointer(src + 32).loadUnaligned(as: SIMD16<Float>.self))
    }

    /// The accumulators of one block of 4 output channels × 48 pixels.
    struct Block48 {
        typealias V = SIMD16<Float>
        var r0: (V, V, V), r1: (V, V, V), r2: (V, V, V), r3: (V, V, V)

        static var zero: Block48 { Block48(r0: (V(), V(), V()), r1: (V(), V(), V()), r2: (V(), V(), V()), r3: (V(), V(), V())) }

        /// Row l += w[l] · (v0, v1, v2): one input channel's weights for the block's 4 channels.
        @inline(__always)
        mutating func accumulate(_ v0: V, _ v1: V, _ v2: V, _ w: UnsafePointer<Float>) {
            var b = V(repeating: w[0])
            r0.0.addProduct(v0, b); r0.1.addProduct(v1, b); r0.2.addProduct(v2, b)
            b = V(repeating: w[1])
            r1.0.addProduct(v0, b); r1.1.addProduct(v1, b); r1.2.addProduct(v2, b)
            b = V(repeating: w[2])
            r2.0.addProduct(v0, b); r2.1.addProduct(v1, b); r2.2.addProduct(v2, b)
            b = V(repeating: w[3])
            r3.0.addProduct(v0, b); r3.1.addProduct(v1, b); r3.2.addProduct(v2, b)
        }

        /// The first `valid` rows to `out`, `plane` apart.
        @inline(__always)
        func store(bias: UnsafePointer<Float>, valid: Int, plane: Int, relu: Bool, addend: UnsafePointer<Float>?,
                   out: UnsafeMutablePointer<Float>) {
            storeRow48(r0, bias: bias[0], to: out, addend: addend, relu: relu)
            if valid > 1 { storeRow48(r1, bias: bias[1], to: out + plane, addend: addend.map { $0 + plane }, relu: relu) }
            if valid > 2 { storeRow48(r2, bias: bias[2], to: out + 2 * plane, addend: addend.map { $0 + 2 * plane }, relu: relu) }
            if valid > 3 { storeRow48(r3, bias: bias[3], to: out + 3 * plane, addend: addend.map { $0 + 3 * plane }, relu: relu) }
        }
    }

    /// One output channel's 48 pixels as (sum + bias) + addend, then the ReLU (`storeRow24`'s order).
    @inline(__always)
    static func storeRow48(_ v: (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>), bias: Float,
                           to dst: UnsafeMutablePointer<Float>, addend: UnsafePointer<Float>?, relu: Bool) {
        typealias V = SIMD16<Float>
        let b = V(repeating: bias)
        var r0 = v.0 + b, r1 = v.1 + b, r2 = v.2 + b
        if let addend {
            r0 += UnsafeRawPointer(addend).loadUnaligned(as: V.self)
            r1 += UnsafeRawPointer(addend + 16).loadUnaligned(as: V.self)
            r2 += UnsafeRawPointer(addend + 32).loadUnaligned(as: V.self)
        }
        if relu {
            r0 = r0.replacing(with: 0, where: r0 .< 0)
            r1 = r1.replacing(with: 0, where: r1 .< 0)
            r2 = r2.replacing(with: 0, where: r2 .< 0)
        }
        UnsafeMutableRawPointer(dst).storeBytes(of: r0, as: V.self)
        UnsafeMutableRawPointer(dst + 16).storeBytes(of: r1, as: V.self)
        UnsafeMutableRawPointer(dst + 32).storeBytes(of: r2, as: V.self)
    }
}
