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
/// row kernel. Rows of 48 columns and more take the 8 × 48 tile of 16-lane vectors where the
/// kernels have 32 registers (DirectStripsWide.swift).
extension DirectConvolution {
    static let stripMaxTaps = 256

    public static func runsAsStrips(_ c: ConvDescriptor) -> Bool {
        let wideRows = wide && c.outWidth >= wideStrip
        return !c.transposed && !runsAsPointwise(c) && c.outWidth >= pointwiseTile
            && c.inChannelsPerGroup * c.kernelHeight * c.kernelWidth <= (wideRows ? wideStripMaxTaps : stripMaxTaps)
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
        if wide && p.ow >= wideStrip {
            stripRowsWide(p, rows: rows, buffer: buffer, offsets: offsets, weights: weights, bias: bias, relu: relu,
                          image: image)
            return
        }
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
                    tile24(OffsetRows(base: rowBase + ox, offsets: offsets), count: taps, plane: plane, w: w,
                           bias: bias + oc, valid: valid, relu: relu, addend: nil, out: image + oc * plane + oy * p.ow + ox)
                    if ox + pointwiseTile == p.ow { break }
                    ox = min(ox + pointwiseTile, p.ow - pointwiseTile)
                }
            }
        }
    }
}
