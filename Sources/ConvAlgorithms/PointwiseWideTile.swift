import CCompilerBuiltins

/// The 1×1 path's tile for 48-pixel strips (`DirectConvolution.wideStrip`): 8 output channels × 48
/// pixels in twenty-four 16-lane accumulators, for kernels compiled with AVX-512's 32 registers.
extension DirectConvolution {
    /// One or two consecutive blocks of 4 output channels (`pair`) × 48 pixels of the strip at
    /// `strip` (its row k, input channel k, the 48 floats at `strip + rowStride·k`: 48 in a packed
    /// panel, the input plane's size read in place): the first block's
    /// weights at `w`, the second's `count`·4 floats on; `validInLast` channels of the last block
    /// stored. Each element's sum is the one `tile24` forms: its input channels in order from zero by
    /// fused multiply-adds, then (sum + bias) + addend, then the ReLU. `prefetchAhead` > 0: each
    /// step also asks for the weights that many floats ahead of each block's.
    @inline(__always)
    static func wideTile(_ strip: UnsafePointer<Float>, count: Int, plane: Int, w: UnsafePointer<Float>,
                         bias: UnsafePointer<Float>, pair: Bool, validInLast: Int, relu: Bool,
                         addend: UnsafePointer<Float>?, out: UnsafeMutablePointer<Float>, rowStride: Int = wideStrip,
                         prefetchAhead: Int = 0) {
        // One specialization per store, its tests out of the rows: with the addend and ReLU tested
        // in each row's store, the compiler kept the row store out of line and spilled eighteen of
        // the twenty-four accumulators around its calls (74 stack accesses per tile), 5–10% of a
        // layer of 64 input channels.
        switch (addend, relu, pair) {
        case (nil, false, true): tile8x48(PlainStore.self, strip, count, plane, w, bias, validInLast, addend, out, rowStride, prefetchAhead)
        case (nil, true, true): tile8x48(ReLUStore.self, strip, count, plane, w, bias, validInLast, addend, out, rowStride, prefetchAhead)
        case (_, false, true): tile8x48(AddendStore.self, strip, count, plane, w, bias, validInLast, addend, out, rowStride, prefetchAhead)
        case (_, true, true): tile8x48(AddendReLUStore.self, strip, count, plane, w, bias, validInLast, addend, out, rowStride, prefetchAhead)
        case (nil, false, false): tile4x48(PlainStore.self, strip, count, plane, w, bias, validInLast, addend, out, rowStride, prefetchAhead)
        case (nil, true, false): tile4x48(ReLUStore.self, strip, count, plane, w, bias, validInLast, addend, out, rowStride, prefetchAhead)
        case (_, false, false): tile4x48(AddendStore.self, strip, count, plane, w, bias, validInLast, addend, out, rowStride, prefetchAhead)
        case (_, true, false): tile4x48(AddendReLUStore.self, strip, count, plane, w, bias, validInLast, addend, out, rowStride, prefetchAhead)
        }
    }

    /// Two blocks: twenty-four accumulators. Never inlined, like `tile24`.
    @inline(never)
    static func tile8x48<Store: WideStore>(_: Store.Type, _ strip: UnsafePointer<Float>, _ count: Int, _ plane: Int,
                                           _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>, _ validInLast: Int,
                                           _ addend: UnsafePointer<Float>?, _ out: UnsafeMutablePointer<Float>,
                                           _ rowStride: Int, _ prefetchAhead: Int) {
        var a = Block48.zero, c = Block48.zero
        var src = strip, wp = w, wq = w + count * channelBlock
        @inline(__always) func step() {
            let (v0, v1, v2) = strip48(src)
            a.accumulate(v0, v1, v2, wp)
            c.accumulate(v0, v1, v2, wq)
            src += rowStride
            wp += channelBlock
            wq += channelBlock
        }
        if prefetchAhead > 0 {
            for _ in 0..<count {
                convbench_prefetch(wp + prefetchAhead)
                convbench_prefetch(wq + prefetchAhead)
                step()
            }
        } else {
            for _ in 0..<count { step() }
        }
        a.store(Store.self, bias: bias, valid: channelBlock, plane: plane, addend: addend, out: out)
        c.store(Store.self, bias: bias + channelBlock, valid: validInLast, plane: plane,
                addend: addend.map { $0 + channelBlock * plane }, out: out + channelBlock * plane)
        if Store.relu { reLURows(out, rows: channelBlock + validInLast, plane: plane) }
    }

    /// One block: twelve accumulators.
    @inline(never)
    static func tile4x48<Store: WideStore>(_: Store.Type, _ strip: UnsafePointer<Float>, _ count: Int, _ plane: Int,
                                           _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>, _ valid: Int,
                                           _ addend: UnsafePointer<Float>?, _ out: UnsafeMutablePointer<Float>,
                                           _ rowStride: Int, _ prefetchAhead: Int) {
        var a = Block48.zero
        var src = strip, wp = w
        @inline(__always) func step() {
            let (v0, v1, v2) = strip48(src)
            a.accumulate(v0, v1, v2, wp)
            src += rowStride
            wp += channelBlock
        }
        if prefetchAhead > 0 {
            for _ in 0..<count {
                convbench_prefetch(wp + prefetchAhead)
                step()
            }
        } else {
            for _ in 0..<count { step() }
        }
        a.store(Store.self, bias: bias, valid: valid, plane: plane, addend: addend, out: out)
        if Store.relu { reLURows(out, rows: valid, plane: plane) }
    }

    /// max(y, 0) over the 48 floats of `rows` rows `plane` apart from `out`, NaN and −0 kept
    /// (`ActivationKernels.relu`), just after the tile stored them: a second pass over lines still
    /// in L1. With the ReLU in each row's store, the compiler kept the row store out of line and
    /// spilled the accumulators around its calls.
    @inline(never)
    static func reLURows(_ out: UnsafeMutablePointer<Float>, rows: Int, plane: Int) {
        for l in 0..<rows {
            for j in stride(from: 0, to: wideStrip, by: 16) {
                let p = UnsafeMutableRawPointer(out + l * plane + j)
                let v = p.loadUnaligned(as: SIMD16<Float>.self)
                p.storeBytes(of: v.replacing(with: 0, where: v .< 0), as: SIMD16<Float>.self)
            }
        }
    }

    @inline(__always)
    static func strip48(_ src: UnsafePointer<Float>) -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
        (UnsafeRawPointer(src).loadUnaligned(as: SIMD16<Float>.self),
         UnsafeRawPointer(src + 16).loadUnaligned(as: SIMD16<Float>.self),
         UnsafeRawPointer(src + 32).loadUnaligned(as: SIMD16<Float>.self))
    }

    typealias Block48 = FourRowBlock<SIMD16<Float>>
}

extension DirectConvolution.FourRowBlock where V == SIMD16<Float> {
    /// The first `valid` rows to `out`, `plane` apart, each as (sum + bias) + addend where `Store`
    /// adds one (`storeRow24`'s order, so the same bits); the tile applies the ReLU after.
    @inline(__always)
    func store<Store: WideStore>(_: Store.Type, bias: UnsafePointer<Float>, valid: Int, plane: Int,
                                 addend: UnsafePointer<Float>?, out: UnsafeMutablePointer<Float>) {
        @inline(__always) func row(_ v: (V, V, V), _ l: Int) {
            let b = V(repeating: bias[l])
            var r0 = v.0 + b, r1 = v.1 + b, r2 = v.2 + b
            if Store.addsAddend, let addend {
                let a = addend + l * plane
                r0 += UnsafeRawPointer(a).loadUnaligned(as: V.self)
                r1 += UnsafeRawPointer(a + 16).loadUnaligned(as: V.self)
                r2 += UnsafeRawPointer(a + 32).loadUnaligned(as: V.self)
            }
            let dst = out + l * plane
            UnsafeMutableRawPointer(dst).storeBytes(of: r0, as: V.self)
            UnsafeMutableRawPointer(dst + 16).storeBytes(of: r1, as: V.self)
            UnsafeMutableRawPointer(dst + 32).storeBytes(of: r2, as: V.self)
        }
        row(r0, 0)
        if valid > 1 { row(r1, 1) }
        if valid > 2 { row(r2, 2) }
        if valid > 3 { row(r3, 3) }
    }
}

extension DirectConvolution.FourRowBlock where V == SIMD16<Float> {
    /// `accumulate` for the first `Width.vectors` vectors of each row.
    @inline(__always)
    mutating func accumulate<Width: RowVectors>(_: Width.Type, _ v0: V, _ v1: V, _ v2: V, _ w: UnsafePointer<Float>) {
        var s = V(repeating: w[0])
        r0.0.addProduct(v0, s); if Width.vectors > 1 { r0.1.addProduct(v1, s) }; if Width.vectors > 2 { r0.2.addProduct(v2, s) }
        s = V(repeating: w[1])
        r1.0.addProduct(v0, s); if Width.vectors > 1 { r1.1.addProduct(v1, s) }; if Width.vectors > 2 { r1.2.addProduct(v2, s) }
        s = V(repeating: w[2])
        r2.0.addProduct(v0, s); if Width.vectors > 1 { r2.1.addProduct(v1, s) }; if Width.vectors > 2 { r2.2.addProduct(v2, s) }
        s = V(repeating: w[3])
        r3.0.addProduct(v0, s); if Width.vectors > 1 { r3.1.addProduct(v1, s) }; if Width.vectors > 2 { r3.2.addProduct(v2, s) }
    }
}

/// How many 16-lane vectors a tile's rows take (the plane's rest tiles, the wide strip tiles),
/// fixed per specialization.
protocol RowVectors {
    static var vectors: Int { get }
}
enum OneVector: RowVectors { static var vectors: Int { 1 } }
enum TwoVectors: RowVectors { static var vectors: Int { 2 } }
enum ThreeVectors: RowVectors { static var vectors: Int { 3 } }

/// What a wide tile's store does after adding the bias, fixed per specialization.
protocol WideStore {
    static var addsAddend: Bool { get }
    static var relu: Bool { get }
}
enum PlainStore: WideStore { static var addsAddend: Bool { false }; static var relu: Bool { false } }
enum ReLUStore: WideStore { static var addsAddend: Bool { false }; static var relu: Bool { true } }
enum AddendStore: WideStore { static var addsAddend: Bool { true }; static var relu: Bool { false } }
enum AddendReLUStore: WideStore { static var addsAddend: Bool { true }; static var relu: Bool { true } }
