/// The plane's last pixels after the 48-pixel strips, where the input is read in place
/// (`pointwiseReadsInPlace`): up to 32 pixels per tile in one or two 16-lane vectors, 8 output
/// channels (a pair of blocks), the last vector's unused lanes computed and not stored.
///
/// Before, 25 leftover pixels (Xception's 19×19 and 37×37 planes: 7 and 28 strips, then 25) went
/// through a 24-pixel tile of 8-lane vectors and a one-pixel tail: on a core with two 512-bit FMA
/// units the 8-lane tile costs as much per input channel as the 48-pixel one, and one 728→728 layer
/// at 19×19 took 2.82 ms on one core where a 336-pixel plane (7 strips, no rest) took 2.22.
///
/// Every row but the last is read as whole vectors, past the strip's last pixel into the next
/// input channel's plane (the same tensor); the last row's last vector is loaded lane by lane up
/// to the plane's end, so nothing past the input is read. Each element's sum is the one the other
/// tiles form (input channels in order from zero by fused multiply-adds, then (sum + bias) +
/// addend, then the ReLU), so which tile computes a pixel changes no bits.
extension DirectConvolution {
    /// Pixels per rest tile: two 16-lane vectors.
    static let restTileWidth = 32

    /// Whether the plane's last pixels take the rest tiles: input read in place and more than 16
    /// of them (fewer are a tail of four-pixel groups that the tiles would not beat).
    static func pointwiseRestTiles(_ p: Plan, rest: Int) -> Bool {
        pointwiseReadsInPlace(p) && rest > 16
    }

    /// Output-channel blocks `blocks` of group `g` for the `count` pixels from `px` on, read in
    /// place from the group's input `xg`, in tiles of up to `restTileWidth` pixels.
    static func restTiles(_ p: Plan, xg: UnsafePointer<Float>, px: Int, count: Int, blocks: Range<Int>, group g: Int,
                          weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, relu: Bool,
                          addend: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>) {
        let plane = p.oh * p.ow, inPlane = p.ih * p.iw
        var at = px
        while at < px + count {
            let lanes = min(restTileWidth, px + count - at)
            for block in stride(from: blocks.lowerBound, to: blocks.upperBound, by: 2) {
                let pair = block + 1 < blocks.upperBound
                let oc = g * p.coutG + block * channelBlock
                let w = weights + (g * p.channelBlocks + block) * p.cinG * channelBlock
                let rows = (pair ? channelBlock : 0) + min(channelBlock, p.coutG - (pair ? block + 1 : block) * channelBlock)
                restTile(xg + at, count: p.cinG, rowStride: inPlane, lanes: lanes, w: w,
                         second: pair ? w + p.cinG * channelBlock : w, bias: bias + oc, rows: rows, relu: relu,
                         addend: addend.map { $0 + oc * plane + at }, out: y + oc * plane + at, plane: plane)
            }
            at += lanes
        }
    }

    /// 8 output channels × `lanes` (1–32) pixels: rows 0–3 with the block's weights at `w`, rows 4–7
    /// with those at `second` (the same block again when there is no pair: computed, not stored);
    /// the first `rows` rows stored.
    @inline(__always)
    static func restTile(_ strip: UnsafePointer<Float>, count: Int, rowStride: Int, lanes: Int, w: UnsafePointer<Float>,
                         second: UnsafePointer<Float>, bias: UnsafePointer<Float>, rows: Int, relu: Bool,
                         addend: UnsafePointer<Float>?, out: UnsafeMutablePointer<Float>, plane: Int) {
        switch (addend, relu, lanes > 16) {
        case (nil, false, true): restTile8(TwoVectors.self, PlainStore.self, strip, count, rowStride, lanes, w, second, bias, rows, addend, out, plane)
        case (nil, true, true): restTile8(TwoVectors.self, ReLUStore.self, strip, count, rowStride, lanes, w, second, bias, rows, addend, out, plane)
        case (_, false, true): restTile8(TwoVectors.self, AddendStore.self, strip, count, rowStride, lanes, w, second, bias, rows, addend, out, plane)
        case (_, true, true): restTile8(TwoVectors.self, AddendReLUStore.self, strip, count, rowStride, lanes, w, second, bias, rows, addend, out, plane)
        case (nil, false, false): restTile8(OneVector.self, PlainStore.self, strip, count, rowStride, lanes, w, second, bias, rows, addend, out, plane)
        case (nil, true, false): restTile8(OneVector.self, ReLUStore.self, strip, count, rowStride, lanes, w, second, bias, rows, addend, out, plane)
        case (_, false, false): restTile8(OneVector.self, AddendStore.self, strip, count, rowStride, lanes, w, second, bias, rows, addend, out, plane)
        case (_, true, false): restTile8(OneVector.self, AddendReLUStore.self, strip, count, rowStride, lanes, w, second, bias, rows, addend, out, plane)
        }
    }

    @inline(never)
    static func restTile8<Width: RowVectors, Store: WideStore>(
        _: Width.Type, _: Store.Type, _ strip: UnsafePointer<Float>, _ count: Int, _ rowStride: Int, _ lanes: Int,
        _ w: UnsafePointer<Float>, _ second: UnsafePointer<Float>, _ bias: UnsafePointer<Float>, _ rows: Int,
        _ addend: UnsafePointer<Float>?, _ out: UnsafeMutablePointer<Float>, _ plane: Int
    ) {
        typealias V = SIMD16<Float>
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        var a = Block48.zero, b = Block48.zero
        var src = strip, wp = w, wq = second
        @inline(__always) func step(_ v0: V, _ v1: V) {
            a.accumulate(Width.self, v0, v1, V(), wp)
            b.accumulate(Width.self, v0, v1, V(), wq)
            wp += channelBlock
            wq += channelBlock
        }
        for _ in 0..<(count - 1) {
            step(load(src), Width.vectors > 1 ? load(src + 16) : V())
            src += rowStride
        }
        if Width.vectors > 1 {
            step(load(src), SIMDTail.load(count: lanes - 16, from: src + 16))
        } else {
            step(SIMDTail.load(count: lanes, from: src), V())
        }
        a.storeLanes(Width.self, Store.self, bias: bias, rows: min(rows, channelBlock), lanes: lanes, addend: addend,
                     out: out, plane: plane)
        if rows > channelBlock {
            b.storeLanes(Width.self, Store.self, bias: bias + channelBlock, rows: rows - channelBlock, lanes: lanes,
                         addend: addend.map { $0 + channelBlock * plane }, out: out + channelBlock * plane, plane: plane)
        }
    }
}

extension DirectConvolution.FourRowBlock where V == SIMD16<Float> {
    /// A rest tile's rows 0..<rows as (sum + bias) + addend, then the ReLU, their first `lanes`
    /// floats (of one or two vectors).
    @inline(__always)
    func storeLanes<Width: RowVectors, Store: WideStore>(_: Width.Type, _: Store.Type, bias: UnsafePointer<Float>,
                                                        rows: Int, lanes: Int, addend: UnsafePointer<Float>?,
                                                        out: UnsafeMutablePointer<Float>, plane: Int) {
        @inline(__always) func finish(_ v: V, _ l: Int, _ offset: Int, _ valid: Int) {
            var r = v + V(repeating: bias[l])
            if Store.addsAddend, let addend {
                let a = addend + l * plane + offset
                r += valid == 16 ? UnsafeRawPointer(a).loadUnaligned(as: V.self) : SIMDTail.load(count: valid, from: a)
            }
            if Store.relu { r = r.replacing(with: 0, where: r .< 0) }
            let dst = out + l * plane + offset
            if valid == 16 {
                UnsafeMutableRawPointer(dst).storeBytes(of: r, as: V.self)
            } else {
                SIMDTail.store(r, count: valid, to: dst)
            }
        }
        @inline(__always) func row(_ v: (V, V, V), _ l: Int) {
            if Width.vectors > 1 {
                finish(v.0, l, 0, 16)
                finish(v.1, l, 16, lanes - 16)
            } else {
                finish(v.0, l, 0, lanes)
            }
        }
        row(r0, 0)
        if rows > 1 { row(r1, 1) }
        if rows > 2 { row(r2, 2) }
        if rows > 3 { row(r3, 3) }
    }
}
