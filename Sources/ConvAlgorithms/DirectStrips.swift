import ConvCore

/// Direct convolution of layers with few taps in all (input channels per group × kernel taps at
/// most `stripMaxTaps`, like a network's first layer: 3 channels × 3×3): 4 output channels × 24
/// output columns per register tile, every tap of every input channel in one pass from zero.
///
/// The row kernel (4 × 16, one SIMD16 per output channel) ran Xception's stem (3→32, 3×3,
/// stride 2, 299×299) at 35 GFLOP/s on one core: with 27 taps in all, its loops over channel,
/// kernel row and column cost more than their four fused multiply-adds. Here the taps are one
/// list of offsets into the padded polyphase buffer, so the loop body is three loads, four
/// broadcasts and twelve multiply-adds, as in the 1×1 tile. A row's last columns are the last 24
/// of the row (recomputed, the same values written again), so rows narrower than a tile use the
/// row kernel.
extension DirectConvolution {
    static let stripMaxTaps = 256

    public static func runsAsStrips(_ c: ConvDescriptor) -> Bool {
        !c.transposed && !runsAsPointwise(c) && c.outWidth >= pointwiseTile
            && c.inChannelsPerGroup * c.kernelHeight * c.kernelWidth <= stripMaxTaps
            && c.outChannelsPerGroup >= channelBlock
    }

    /// Offsets of every tap (input channel of the group, kernel row, kernel column, in the packed
    /// weights' order) from the padded buffer's float under the first tap of an output column.
    static func stripOffsets(_ p: Plan) -> [Int] {
        let rowFloats = p.phases * p.wq
        var offsets: [Int] = []
        offsets.reserveCapacity(p.cinG * p.kh * p.kw)
        for icg in 0..<p.cinG {
            for ky in 0..<p.kh {
                for kx in 0..<p.kw {
                    offsets.append((icg * p.hp + ky * p.dh) * rowFloats + p.tapOffsets[kx])
                }
            }
        }
        return offsets
    }

    /// Output rows `rows` (items g·oh + oy) of one image from the padded polyphase buffer.
    static func stripRows(_ p: Plan, rows: Range<Int>, buffer: UnsafePointer<Float>, offsets: UnsafePointer<Int>,
                          weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, relu: Bool,
                          image: UnsafeMutablePointer<Float>) {
        let rowFloats = p.phases * p.wq, plane = p.oh * p.ow, taps = p.cinG * p.kh * p.kw
        for item in rows {
            let g = item / p.oh, oy = item % p.oh
            let rowBase = buffer + g * p.cinG * p.hp * rowFloats + oy * p.sh * rowFloats
            for block in 0..<p.channelBlocks {
                let oc = g * p.coutG + block * channelBlock
                let w = weights + (g * p.channelBlocks + block) * taps * channelBlock
                let valid = min(channelBlock, p.coutG - block * channelBlock)
                var ox = 0
                while true {
                    stripTile24(rowBase + ox, offsets: offsets, taps: taps, w: w, bias: bias + oc, valid: valid,
                                relu: relu, out: image + oc * plane + oy * p.ow + ox, plane: plane)
                    if ox + pointwiseTile == p.ow { break }
                    ox = min(ox + pointwiseTile, p.ow - pointwiseTile)
                }
            }
        }
    }

    /// 4 output channels × 24 columns: y = (Σ_taps w·x) + bias, then the ReLU.
    @inline(never)
    static func stripTile24(_ x: UnsafePointer<Float>, offsets: UnsafePointer<Int>, taps: Int, w: UnsafePointer<Float>,
                            bias: UnsafePointer<Float>, valid: Int, relu: Bool, out: UnsafeMutablePointer<Float>, plane: Int) {
        typealias V = SIMD8<Float>
        var a0 = (V(), V(), V()), a1 = (V(), V(), V()), a2 = (V(), V(), V()), a3 = (V(), V(), V())
        var wp = w
        for t in 0..<taps {
            let src = x + offsets[t]
            let v0 = UnsafeRawPointer(src).loadUnaligned(as: V.self)
            let v1 = UnsafeRawPointer(src + 8).loadUnaligned(as: V.self)
            let v2 = UnsafeRawPointer(src + 16).loadUnaligned(as: V.self)
            var b = V(repeating: wp[0])
            a0.0.addProduct(v0, b); a0.1.addProduct(v1, b); a0.2.addProduct(v2, b)
            b = V(repeating: wp[1])
            a1.0.addProduct(v0, b); a1.1.addProduct(v1, b); a1.2.addProduct(v2, b)
            b = V(repeating: wp[2])
            a2.0.addProduct(v0, b); a2.1.addProduct(v1, b); a2.2.addProduct(v2, b)
            b = V(repeating: wp[3])
            a3.0.addProduct(v0, b); a3.1.addProduct(v1, b); a3.2.addProduct(v2, b)
            wp += channelBlock
        }
        storeRow24(a0.0, a0.1, a0.2, bias: bias[0], to: out, addend: nil, relu: relu)
        if valid > 1 { storeRow24(a1.0, a1.1, a1.2, bias: bias[1], to: out + plane, addend: nil, relu: relu) }
        if valid > 2 { storeRow24(a2.0, a2.1, a2.2, bias: bias[2], to: out + 2 * plane, addend: nil, relu: relu) }
        if valid > 3 { storeRow24(a3.0, a3.1, a3.2, bias: bias[3], to: out + 3 * plane, addend: nil, relu: relu) }
    }
}
