import ConvCore

/// Direct convolution: the defining sum computed in place, register-blocked for SIMD.
///
/// Each run first lays the image out in a padded, polyphase buffer (workspace): padding becomes
/// real zeros, so the hot loop has no bounds checks, and for stride s each padded row is stored as
/// s phases (columns q ≡ p mod s together), so the taps of consecutive output columns are
/// consecutive floats for every stride. Transposed convolution is the same computation on a
/// zero-inserted buffer with the kernel flipped (the adjoint of a strided convolution is a stride-1
/// convolution of the upsampled input; Dumoulin & Visin 2016, "A guide to convolution arithmetic").
///
/// 1×1 layers without leading padding skip the copy and use their own tile (DirectPointwise.swift).
/// The microkernel computes 4 output channels × 16 output columns of one output row
/// (4 × SIMD16 accumulators) with fused multiply-adds, skipping kernel rows that fall wholly in
/// padding. Work items (image, group, channel block, row) are split statically over threads and
/// each element is summed in one fixed order, so results do not depend on the thread count.
public struct DirectConvolution: ConvolutionAlgorithm {
    /// Where the 1×1 path's 48-pixel strips read input planes that allow both
    /// (`pointwiseReadsInPlace`): in place, or packed into aligned panels first
    /// (`pointwiseStripsReadInPlace`). `automatic` is the one measured faster on this CPU's kind.
    public enum StripInput: Sendable { case automatic, inPlace, packed }

    public let stripInput: StripInput

    public init(stripInput: StripInput = .automatic) { self.stripInput = stripInput }

    public var name: String { "direct" }
    public var summary: String { "register-blocked direct loops (4 channels x 16 columns) on a padded polyphase copy; every geometry incl. transposed" }
    public var errorModel: ErrorModel { .float32Summation }

    public func support(for conv: ConvDescriptor) -> Support { .supported }

    public func prepare(_ conv: ConvDescriptor, weights: Tensor, bias: Tensor?,
                        options: AlgorithmOptions) throws -> any PreparedConvolution {
        try checkPrepare(conv, weights: weights, bias: bias)
        return Prepared(conv, weights: weights, bias: conv.hasBias ? bias : nil, threads: options.threads,
                        stripInput: stripInput)
    }

    static let channelBlock = 4
    static let lanes = 16
    /// Input channels per pass over an output row (their padded rows stay in L2).
    static let inputChunk = 32

    /// The equivalent stride-s forward problem on the padded buffer.
    struct Plan {
        let cinG: Int, coutG: Int, groups: Int, batch: Int, inChannels: Int, outChannels: Int
        let kh: Int, kw: Int, dh: Int, dw: Int
        let sh: Int, sw: Int
        let oh: Int, ow: Int
        /// Padded rows, phases (= sw), floats per phase row.
        let hp: Int, phases: Int, wq: Int
        /// Where input row iy / column ix lands in the padded buffer: offset + index · step.
        let rowOffset: Int, rowStep: Int, colOffset: Int, colStep: Int
        let ih: Int, iw: Int
        /// Per padded row: does any input row land there? (Rows of pure padding are skipped.)
        let rowHasData: [Bool]
        /// Per kernel column kx: where its tap starts within a padded row, phase·wq + ⌊kx·dw / sw⌋
        /// (computed once: an integer division in the hot loop costs more than the FMAs).
        let tapOffsets: [Int]
        /// Whether the 1×1 path's 48-pixel strips may read the input in place (`StripInput`).
        let stripsInPlace: Bool

        init(_ c: ConvDescriptor, stripInput: StripInput = .automatic) {
            switch stripInput {
            case .automatic: stripsInPlace = DirectConvolution.stripsReadInPlaceByDefault
            case .inPlace: stripsInPlace = true
            case .packed: stripsInPlace = false
            }
            cinG = c.inChannelsPerGroup; coutG = c.outChannelsPerGroup; groups = c.groups
            batch = c.batch; inChannels = c.inChannels; outChannels = c.outChannels
            kh = c.kernelHeight; kw = c.kernelWidth; dh = c.dilationHeight; dw = c.dilationWidth
            oh = c.outHeight; ow = c.outWidth; ih = c.inHeight; iw = c.inWidth
            let extentH = c.kernelExtentHeight, extentW = c.kernelExtentWidth
            if c.transposed {
                sh = 1; sw = 1
                rowOffset = extentH - 1 - c.padTop; rowStep = c.strideHeight
                colOffset = extentW - 1 - c.padLeft; colStep = c.strideWidth
            } else {
                sh = c.strideHeight; sw = c.strideWidth
                rowOffset = c.padTop; rowStep = 1
                colOffset = c.padLeft; colStep = 1
            }
            hp = (oh - 1) * sh + extentH
            phases = sw
            // Columns read: j = ox + ⌊kx·dw / sw⌋ for ox < ow rounded up to a whole vector.
            let maxShift = ((kw - 1) * dw) / sw
            wq = ((ow + DirectConvolution.lanes - 1) / DirectConvolution.lanes) * DirectConvolution.lanes + maxShift
            var rows = [Bool](repeating: false, count: hp)
            for iy in 0..<ih {
                let r = rowOffset + iy * rowStep
                if r >= 0 && r < hp { rows[r] = true }
            }
            rowHasData = rows
            let (kw, dw, sw, wq) = (kw, dw, sw, wq)
            tapOffsets = (0..<kw).map { kx in ((kx * dw) % sw) * wq + (kx * dw) / sw }
        }

        var bufferCount: Int { inChannels * hp * phases * wq }
        var channelBlocks: Int { (coutG + DirectConvolution.channelBlock - 1) / DirectConvolution.channelBlock }
    }

    final class Prepared: AddendFusing, WorkspaceExposing {
        let descriptor: ConvDescriptor
        let plan: Plan
        let threads: Int
        /// [g][block][icg][ky][kx][4]: the four output channels' weights for one tap side by side.
        let packed: Workspace
        let biasValues: [Float]
        let buffer: Workspace
        /// Set when the layer runs as strips (DirectStrips.swift): each tap's offset in the buffer.
        let stripOffsets: [Int]?
        /// Whether the layer runs as shifted 1×1 products (DirectTaps.swift).
        let runsAsTaps: Bool

        init(_ c: ConvDescriptor, weights: Tensor, bias: Tensor?, threads: Int, stripInput: StripInput) {
            descriptor = c
            plan = Plan(c, stripInput: stripInput)
            self.threads = threads
            let p = plan, w = weights.scalars
            runsAsTaps = DirectConvolution.runsAsShiftedTaps(c)
            if runsAsTaps {
                packed = Workspace(count: DirectConvolution.tapBlocks(p) * p.kh * p.kw * p.cinG * DirectConvolution.tapBlock)
                DirectConvolution.packTapWeights(p, w, into: packed.pointer)
            } else {
                packed = Workspace(count: p.groups * p.channelBlocks * p.cinG * p.kh * p.kw * DirectConvolution.channelBlock)
                DirectConvolution.packBlockWeights(c, p, w, into: packed.pointer)
            }
            biasValues = bias?.scalars ?? [Float](repeating: 0, count: c.outChannels)
            stripOffsets = DirectConvolution.runsAsStrips(c) ? DirectConvolution.stripOffsets(p) : nil
            // 1×1 layers without leading padding read the image as it is (DirectPointwise.swift).
            buffer = Workspace(count: DirectConvolution.runsAsPointwise(c)
                               ? DirectConvolution.pointwiseScratch(p) * max(1, threads)
                               : runsAsTaps ? DirectConvolution.tapScratch(p) * max(1, threads) : p.bufferCount)
        }

        var workspaceBytes: Int { buffer.bytes + packed.bytes }
        /// Only the image buffer is scratch; the packed weights are prepared state.
        var workspaces: [Workspace] { [buffer] }

        func run(_ input: Tensor, into output: inout Tensor) throws {
            try run(input, into: &output, relu: false, threads: threads)
        }

        /// The 1×1 path applies the ReLU as it stores each tile; the general path, whose partial sums
        /// wait in the output, in a pass after it.
        func run(_ input: Tensor, into output: inout Tensor, relu: Bool, threads _: Int) throws {
            try compute(input, addend: nil, into: &output, relu: relu)
        }

        var fusesAddend: Bool { DirectConvolution.runsAsPointwise(descriptor) }

        func run(_ input: Tensor, adding addend: Tensor, into output: inout Tensor, relu: Bool) throws {
            guard fusesAddend else {
                throw ConvolutionError.unsupported(algorithm: "direct", reason: "adds as it stores only on its 1×1 path")
            }
            if !addend.hasShape(descriptor.batch, descriptor.outChannels, descriptor.outHeight, descriptor.outWidth) {
                throw ConvolutionError.shapeMismatch(what: "addend", expected: descriptor.outputShape, actual: addend.shape)
            }
            try addend.withUnsafeBufferPointer { try compute(input, addend: $0.baseAddress!, into: &output, relu: relu) }
        }

        private func compute(_ input: Tensor, addend: UnsafePointer<Float>?, into output: inout Tensor, relu: Bool) throws {
            try checkRun(input, output)
            let p = plan
            let items = p.groups * p.oh
            input.withUnsafeBufferPointer { x in
                output.withUnsafeMutableBufferPointer { y in
                    biasValues.withUnsafeBufferPointer { b in
                        let shared = UncheckedSendable((x.baseAddress!, y.baseAddress!, b.baseAddress!,
                                                        buffer.pointer, UnsafePointer(packed.pointer)))
                        if DirectConvolution.runsAsPointwise(descriptor) {
                            let (x, y, b, scratch, w) = shared.value
                            for n in 0..<p.batch {
                                let image = n * p.outChannels * p.oh * p.ow
                                DirectConvolution.pointwiseImage(p, x: x + n * p.inChannels * p.ih * p.iw, y: y + image,
                                                                 weights: w, bias: b, scratch: scratch, relu: relu,
                                                                 addend: addend.map { $0 + image }, threads: threads)
                            }
                            return
                        }
                        if runsAsTaps {
                            let (x, y, b, scratch, w) = shared.value
                            for n in 0..<p.batch {
                                DirectConvolution.tapsImage(p, x: x + n * p.inChannels * p.ih * p.iw,
                                                            y: y + n * p.outChannels * p.oh * p.ow, weights: w, bias: b,
                                                            scratch: scratch, relu: relu, threads: threads)
                            }
                            return
                        }
                        for n in 0..<p.batch {
                            parallelFor(threads: threads, count: p.inChannels) { channels in
                                let (x, _, _, buf, _) = shared.value
                                DirectConvolution.layOut(p, image: x + n * p.inChannels * p.ih * p.iw,
                                                         channels: channels, buffer: buf)
                            }
                            if let stripOffsets {
                                parallelFor(threads: threads, count: items) { range in
                                    let (_, y, b, buf, w) = shared.value
                                    stripOffsets.withUnsafeBufferPointer { offsets in
                                        DirectConvolution.stripRows(p, rows: range, buffer: buf, offsets: offsets.baseAddress!,
                                                                    weights: w, bias: b, relu: relu,
                                                                    image: y + n * p.outChannels * p.oh * p.ow)
                                    }
                                }
                                continue
                            }
                            // Each thread owns whole output rows (all channels of a group): the
                            // summation order of every element is fixed, whatever the thread count.
                            parallelFor(threads: threads, count: items) { range in
                                let (_, y, b, buf, w) = shared.value
                                let image = y + n * p.outChannels * p.oh * p.ow
                                // Input channels in chunks whose rows stay in L2 while every output
                                // channel block of the row consumes them; partial sums wait in the output.
                                var c0 = 0
                                while c0 < p.cinG {
                                    let chunk = c0..<min(p.cinG, c0 + DirectConvolution.inputChunk)
                                    for item in range {
                                        let oy = item % p.oh, g = item / p.oh
                                        for block in 0..<p.channelBlocks {
                                            DirectConvolution.outputRow(
                                                p, buffer: buf, group: g, block: block, oy: oy, inputs: chunk,
                                                weights: w, bias: b, image: image)
                                        }
                                    }
                                    c0 = chunk.upperBound
                                }
                            }
                        }
                    }
                }
            }
            // The 1×1, strip and shifted-tap paths applied the ReLU as they stored; the 1×1 path had
            // been given a second, redundant pass here (its branch returns from a closure, not from
            // this function): a pass over every 1×1 output with a ReLU, 11 MB read and written on
            // Xception's 147×147 maps.
            let reluStored = DirectConvolution.runsAsPointwise(descriptor) || stripOffsets != nil || runsAsTaps
            if relu && !reluStored { output.applyReLU(threads: threads) }
        }
    }

    /// Weights as [g][block of 4][icg][ky][kx][4] (transposed layers: IOHW flipped), zero past a
    /// group's last output channel.
    static func packBlockWeights(_ c: ConvDescriptor, _ p: Plan, _ w: [Float], into packed: UnsafeMutablePointer<Float>) {
        let cb = channelBlock
        for g in 0..<p.groups {
            for b in 0..<p.channelBlocks {
                for icg in 0..<p.cinG {
                    for ky in 0..<p.kh {
                        for kx in 0..<p.kw {
                            for l in 0..<cb {
                                let ocg = b * cb + l
                                var v: Float = 0
                                if ocg < p.coutG {
                                    if c.transposed {
                                        // IOHW, flipped: W'[oc][ic][ky][kx] = W[ic][oc][kh−1−ky][kw−1−kx]
                                        let ic = g * p.cinG + icg
                                        v = w[((ic * p.coutG + ocg) * p.kh + (p.kh - 1 - ky)) * p.kw + (p.kw - 1 - kx)]
                                    } else {
                                        let oc = g * p.coutG + ocg
                                        v = w[((oc * p.cinG + icg) * p.kh + ky) * p.kw + kx]
                                    }
                                }
                                packed[((((g * p.channelBlocks + b) * p.cinG + icg) * p.kh + ky) * p.kw + kx) * cb + l] = v
                            }
                        }
                    }
                }
            }
        }
    }

    /// Writes channels `channels` of one image into the padded polyphase buffer
    /// buf[c][r][phase][j] = x[c][iy][ix] where r = rowOffset + iy·rowStep and the padded column
    /// q = colOffset + ix·colStep = j·phases + phase; everything else is zero.
    static func layOut(_ p: Plan, image: UnsafePointer<Float>, channels: Range<Int>, buffer: UnsafeMutablePointer<Float>) {
        let rowFloats = p.phases * p.wq
        let limit = p.phases * p.wq
        let simple = p.phases == 1 && p.colStep == 1
        // Columns [lo, hi) of each input row that land inside the padded row.
        let lo = max(0, -p.colOffset), hi = min(p.iw, limit - p.colOffset)
        for ch in channels {
            let base = buffer + ch * p.hp * rowFloats
            let plane = image + ch * p.ih * p.iw
            if simple {
                // Write every float exactly once: padding rows, then per data row its left padding,
                // the copied pixels and its right padding with the vector slack.
                var next = 0    // first padded row not yet written
                for iy in 0..<p.ih {
                    let r = p.rowOffset + iy * p.rowStep
                    guard r >= 0 && r < p.hp else { continue }
                    if r > next { (base + next * rowFloats).update(repeating: 0, count: (r - next) * rowFloats) }
                    let dst = base + r * rowFloats
                    if lo < hi {
                        let start = p.colOffset + lo, end = p.colOffset + hi
                        dst.update(repeating: 0, count: start)
                        (dst + start).update(from: plane + iy * p.iw + lo, count: hi - lo)
                        (dst + end).update(repeating: 0, count: rowFloats - end)
                    } else {
                        dst.update(repeating: 0, count: rowFloats)
                    }
                    next = r + 1
                }
                if next < p.hp { (base + next * rowFloats).update(repeating: 0, count: (p.hp - next) * rowFloats) }
                continue
            }
            base.update(repeating: 0, count: p.hp * rowFloats)
            // The first column that lands in the row, and where: then phase and j advance by the
            // column step without a division per pixel (which took half of a 3-channel stem's time).
            var first = 0
            while first < p.iw && p.colOffset + first * p.colStep < 0 { first += 1 }
            guard first < p.iw else { continue }
            let q0 = p.colOffset + first * p.colStep
            let phase0 = q0 % p.phases, j0 = q0 / p.phases
            let jStep = p.colStep / p.phases, phaseStep = p.colStep % p.phases
            for iy in 0..<p.ih {
                let r = p.rowOffset + iy * p.rowStep
                guard r >= 0 && r < p.hp else { continue }
                let dst = base + r * rowFloats
                let src = plane + iy * p.iw
                var phase = phase0, j = j0, ix = first
                if p.phases == 2 && p.colStep == 1 {
                    // Stride 2: sixteen columns at a time, even lanes to one phase, odd to the other.
                    let other = 1 - phase0, otherJ = j0 + phase0
                    var m = 0
                    while first + 2 * m + 16 <= p.iw && j0 + m + 8 + phase0 <= p.wq {
                        let v = UnsafeRawPointer(src + first + 2 * m).loadUnaligned(as: SIMD16<Float>.self)
                        UnsafeMutableRawPointer(dst + phase0 * p.wq + j0 + m).storeBytes(of: v.evenHalf, as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(dst + other * p.wq + otherJ + m).storeBytes(of: v.oddHalf, as: SIMD8<Float>.self)
                        m += 8
                    }
                    ix = first + 2 * m
                    j = j0 + m
                }
                while ix < p.iw {
                    defer { ix += 1 }
                    guard j < p.wq else { break }
                    dst[phase * p.wq + j] = src[ix]
                    phase += phaseStep
                    j += jStep
                    if phase >= p.phases { phase -= p.phases; j += 1 }
                }
            }
        }
    }

    /// One output row of up to four output channels of one group, over input channels `inputs`.
    /// The first chunk starts from zero, later chunks add to the partial sums already in the output,
    /// and the last one adds the bias.
    @inline(never)
    static func outputRow(_ p: Plan, buffer: UnsafePointer<Float>, group g: Int, block: Int, oy: Int,
                          inputs: Range<Int>, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                          image: UnsafeMutablePointer<Float>) {
        let cb = channelBlock
        let ocBase = g * p.coutG + block * cb
        let valid = min(cb, p.coutG - block * cb)
        let rowFloats = p.phases * p.wq
        let wBlock = weights + (g * p.channelBlocks + block) * p.cinG * p.kh * p.kw * cb
        let inBase = buffer + g * p.cinG * p.hp * rowFloats
        let planeSize = p.oh * p.ow
        let first = inputs.lowerBound == 0, last = inputs.upperBound == p.cinG
        var ox = 0
        while ox < p.ow {
            let count = min(lanes, p.ow - ox)
            func start(_ l: Int) -> SIMD16<Float> {
                if first || l >= valid { return SIMD16() }
                let src = image + (ocBase + l) * planeSize + oy * p.ow + ox
                if count == lanes { return UnsafeRawPointer(src).loadUnaligned(as: SIMD16<Float>.self) }
                return SIMDTail.load(count: count, from: src)
            }
            var a0 = start(0), a1 = start(1), a2 = start(2), a3 = start(3)
            for icg in inputs {
                let chan = inBase + icg * p.hp * rowFloats
                let wChan = wBlock + icg * p.kh * p.kw * cb
                for ky in 0..<p.kh {
                    let r = oy * p.sh + ky * p.dh
                    if !p.rowHasData[r] { continue }
                    let row = chan + r * rowFloats + ox
                    let wRow = wChan + ky * p.kw * cb
                    for kx in 0..<p.kw {
                        let v = UnsafeRawPointer(row + p.tapOffsets[kx]).loadUnaligned(as: SIMD16<Float>.self)
                        let wp = wRow + kx * cb
                        a0.addProduct(v, SIMD16(repeating: wp[0]))
                        a1.addProduct(v, SIMD16(repeating: wp[1]))
                        a2.addProduct(v, SIMD16(repeating: wp[2]))
                        a3.addProduct(v, SIMD16(repeating: wp[3]))
                    }
                }
            }
            func store(_ sum: SIMD16<Float>, _ l: Int) {
                let oc = ocBase + l
                let acc = last ? sum + SIMD16(repeating: bias[oc]) : sum
                let dst = image + oc * planeSize + oy * p.ow + ox
                if count == lanes {
                    UnsafeMutableRawPointer(dst).storeBytes(of: acc, as: SIMD16<Float>.self)
                } else {
                    SIMDTail.store(acc, count: count, to: dst)
                }
            }
            store(a0, 0)
            if valid > 1 { store(a1, 1) }
            if valid > 2 { store(a2, 2) }
            if valid > 3 { store(a3, 3) }
            ox += lanes
        }
    }
}
