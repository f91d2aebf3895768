/// `DirectStrips` where the kernels have AVX-512's 32 registers (`wide`): 8 output channels (a pair
/// of blocks) × 48 columns of an output row in three 16-lane vectors per tap, the row's last
/// columns as one tile of 16, 32 or 48 columns ending at the row's end (recomputing a few columns:
/// the same values written again).
///
/// The 4 × 24 tile of 8-lane vectors does half the work per FMA on a core with two 512-bit FMA
/// units; on the Emerald Rapids VM Xception's stem (3→32, 3×3, stride 2, 299×299) took 0.365 ms
/// with it against ONNX Runtime's 0.29–0.33, and its second layer (32→64, 3×3, 288 taps) was
/// beyond the strips' limit and ran on the row kernel at 65 GFLOP/s.
extension DirectConvolution {
    /// Taps per strip layer where the wide tile applies: Xception's 32→64 3×3 layer (288).
    static let wideStripMaxTaps = 512

    /// Output rows `rows` (items g·oh + oy) of one image from the padded polyphase buffer.
    static func stripRowsWide(_ p: Plan, rows: Range<Int>, buffer: UnsafePointer<Float>, offsets: UnsafePointer<Int>,
                              weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, relu: Bool,
                              image: UnsafeMutablePointer<Float>) {
        let rowFloats = p.phases * p.wq, plane = p.oh * p.ow, taps = p.cinG * p.kh * p.kw
        let full = p.ow / wideStrip, rest = p.ow - full * wideStrip
        for item in rows {
            let g = item / p.oh, oy = item % p.oh
            let rowBase = buffer + g * p.cinG * p.hp * rowFloats + oy * p.sh * rowFloats
            for block in stride(from: 0, to: p.channelBlocks, by: 2) {
                let pair = block + 1 < p.channelBlocks
                let oc = g * p.coutG + block * channelBlock
                let w = weights + (g * p.channelBlocks + block) * taps * channelBlock
                let rowsStored = (pair ? channelBlock : 0) + min(channelBlock, p.coutG - (pair ? block + 1 : block) * channelBlock)
                let out = image + oc * plane + oy * p.ow
                @inline(__always) func tile<Width: RowVectors>(_: Width.Type, at ox: Int) {
                    if relu {
                        tapTile8(Width.self, ReLUStore.self, OffsetRows(base: rowBase + ox, offsets: offsets), taps, w,
                                 pair ? w + taps * channelBlock : w, bias + oc, rowsStored, out + ox, plane)
                    } else {
                        tapTile8(Width.self, PlainStore.self, OffsetRows(base: rowBase + ox, offsets: offsets), taps, w,
                                 pair ? w + taps * channelBlock : w, bias + oc, rowsStored, out + ox, plane)
                    }
                }
                for t in 0..<full { tile(ThreeVectors.self, at: t * wideStrip) }
                if rest > 32 {
                    tile(ThreeVectors.self, at: p.ow - 48)
                } else if rest > 16 {
                    tile(TwoVectors.self, at: p.ow - 32)
                } else if rest > 0 {
                    tile(OneVector.self, at: p.ow - 16)
                }
            }
        }
    }

    /// 8 output channels × 16·`Width.vectors` columns: rows 0–3 with the weights at `w`, rows 4–7
    /// with those at `second` (the same block again when there is no pair: computed, not stored);
    /// the first `rows` rows stored as sum + bias, then the ReLU with `Store`. Each element sums its
    /// taps in order from zero, as `tile24` does.
    @inline(never)
    static func tapTile8<Width: RowVectors, Store: WideStore>(
        _: Width.Type, _: Store.Type, _ source: OffsetRows, _ count: Int, _ w: UnsafePointer<Float>,
        _ second: UnsafePointer<Float>, _ bias: UnsafePointer<Float>, _ rows: Int, _ out: UnsafeMutablePointer<Float>,
        _ plane: Int
    ) {
        typealias V = SIMD16<Float>
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        var a = Block48.zero, b = Block48.zero
        var wp = w, wq = second
        for k in 0..<count {
            let src = source.row(k)
            let v0 = load(src)
            let v1 = Width.vectors > 1 ? load(src + 16) : V()
            let v2 = Width.vectors > 2 ? load(src + 32) : V()
            a.accumulate(Width.self, v0, v1, v2, wp)
            b.accumulate(Width.self, v0, v1, v2, wq)
            wp += channelBlock
            wq += channelBlock
        }
        a.storeTap(Width.self, Store.self, bias: bias, rows: min(rows, channelBlock), out: out, plane: plane)
        if rows > channelBlock {
            b.storeTap(Width.self, Store.self, bias: bias + channelBlock, rows: rows - channelBlock,
                       out: out + channelBlock * plane, plane: plane)
        }
    }
}

extension DirectConvolution.FourRowBlock where V == SIMD16<Float> {
    /// Rows 0..<rows, `plane` apart, as sum + bias, then the ReLU with `Store`.
    @inline(__always)
    func storeTap<Width: RowVectors, Store: WideStore>(_: Width.Type, _: Store.Type, bias: UnsafePointer<Float>,
                                                       rows: Int, out: UnsafeMutablePointer<Float>, plane: Int) {
        @inline(__always) func put(_ v: V, _ dst: UnsafeMutablePointer<Float>, _ b: V) {
            var r = v + b
            if Store.relu { r = r.replacing(with: 0, where: r .< 0) }
            UnsafeMutableRawPointer(dst).storeBytes(of: r, as: V.self)
        }
        @inline(__always) func row(_ v: (V, V, V), _ l: Int) {
            let b = V(repeating: bias[l]), dst = out + l * plane
            put(v.0, dst, b)
            if Width.vectors > 1 { put(v.1, dst + 16, b) }
            if Width.vectors > 2 { put(v.2, dst + 32, b) }
        }
        row(r0, 0)
        if rows > 1 { row(r1, 1) }
        if rows > 2 { row(r2, 2) }
        if rows > 3 { row(r3, 3) }
    }
}
