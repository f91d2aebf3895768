import ConvCore

/// Depthwise convolution (groups = input channels, depth multiplier ≥ 1), as in MobileNet and
/// Xception's separable convolutions (Chollet 2017; Howard et al. 2017). Each output plane reads
/// one input plane, so the work is memory bound. Each input plane is first copied into a small
/// padded, polyphase scratch plane (the layout `DirectConvolution` uses), which stays in L1/L2:
/// then every output column, border included, is computed 16 lanes at a time with no bounds
/// checks, and kernel rows that fall wholly in padding are skipped; small "same" 3×3 planes are
/// instead staged as one flat row (`planeFlat3x3`). The planes of one input channel
/// (its depth multiplier) share the copy. Parallel over input planes: results do not depend on the
/// thread count.
public struct DepthwiseSIMD: ConvolutionAlgorithm {
    /// Whether small planes take `planeFlat3x3` (`flatPlanes` unless a test says).
    let flatPlanes: Bool

    public init() { flatPlanes = DepthwiseSIMD.flatPlanes }

    /// Tests run the flat kernel on every kind of CPU.
    init(flatPlanes: Bool) { self.flatPlanes = flatPlanes }

    public var name: String { "depthwise-simd" }
    public var summary: String { "groups = input channels (depth multiplier >= 1); any kernel, stride, dilation, padding; SIMD over width" }
    public var errorModel: ErrorModel { .float32Summation }

    public func support(for c: ConvDescriptor) -> Support {
        if c.transposed { return .unsupported("transposed convolution (direct and im2col-gemm cover it)") }
        if !c.isDepthwise { return .unsupported("not depthwise (groups != input channels)") }
        return .supported
    }

    public func prepare(_ conv: ConvDescriptor, weights: Tensor, bias: Tensor?,
                        options: AlgorithmOptions) throws -> any PreparedConvolution {
        try checkPrepare(conv, weights: weights, bias: bias)
        return try Prepared(conv, weights: weights, bias: conv.hasBias ? bias : nil, threads: options.threads,
                            flatPlanes: flatPlanes)
    }

    final class Prepared: InputReLUFusing, InputOverwriting, WorkspaceExposing {
        let descriptor: ConvDescriptor
        let weights: Tensor
        let bias: [Float]
        let threads: Int
        /// The geometry of one plane as a one-channel convolution.
        let plan: DirectConvolution.Plan
        let scratch: Workspace
        /// Scratch floats per worker: a padded plane, or a flat one (`runsFlat`).
        let perWorker: Int
        /// The column masks of `planeFlat3x3`, where the planes take it.
        let flat: DepthwiseSIMD.FlatColumns?

        init(_ c: ConvDescriptor, weights: Tensor, bias: Tensor?, threads: Int, flatPlanes: Bool) throws {
            descriptor = c
            self.weights = weights
            self.bias = bias?.scalars ?? [Float](repeating: 0, count: c.outChannels)
            self.threads = threads
            let single = try ConvDescriptor(
                inChannels: 1, outChannels: 1, inHeight: c.inHeight, inWidth: c.inWidth,
                kernelHeight: c.kernelHeight, kernelWidth: c.kernelWidth,
                strideHeight: c.strideHeight, strideWidth: c.strideWidth,
                padTop: c.padTop, padBottom: c.padBottom, padLeft: c.padLeft, padRight: c.padRight,
                dilationHeight: c.dilationHeight, dilationWidth: c.dilationWidth, memoryCapBytes: .max)
            plan = DirectConvolution.Plan(single)
            flat = flatPlanes && DepthwiseSIMD.runsFlat(plan) ? DepthwiseSIMD.FlatColumns(width: plan.iw, pixels: plan.ih * plan.iw) : nil
            perWorker = flat == nil ? plan.bufferCount : DepthwiseSIMD.flatBufferCount(plan)
            scratch = Workspace(count: perWorker * max(1, min(threads, c.batch * c.inChannels)))
        }

        var workspaceBytes: Int { scratch.bytes }
        var workspaces: [Workspace] { [scratch] }

        func run(_ input: Tensor, into output: inout Tensor) throws {
            try compute(input, into: &output, reluInput: false)
        }

        /// Each plane is copied into the worker's scratch before its output plane is written, and
        /// with one output per input plane, output plane c lies exactly over input plane c.
        var overwritesInputSafely: Bool {
            descriptor.depthMultiplier == 1 && descriptor.outputShape == descriptor.inputShape
        }

        func run(reluOf input: Tensor, into output: inout Tensor, relu: Bool, threads: Int) throws {
            try compute(input, into: &output, reluInput: true)
            if relu { output.applyReLU(threads: threads) }
        }

        /// With `reluInput`, each plane's copy holds max(x, 0); its padding, zero, is unchanged by it.
        private func compute(_ input: Tensor, into output: inout Tensor, reluInput: Bool) throws {
            try checkRun(input, output)
            let c = descriptor, p = plan
            let m = c.depthMultiplier
            let dense3x3 = p.kh == 3 && p.kw == 3 && p.sh == 1 && p.sw == 1 && p.dh == 1 && p.dw == 1
            input.withUnsafeBufferPointer { x in
                weights.withUnsafeBufferPointer { w in
                    output.withUnsafeMutableBufferPointer { y in
                        bias.withUnsafeBufferPointer { b in
                            let shared = UncheckedSendable((x.baseAddress!, w.baseAddress!, y.baseAddress!,
                                                            b.baseAddress!, scratch.pointer))
                            let items = c.batch * c.inChannels
                            // Each worker's planes a few at a time; a helper that has not started is not waited for.
                            let chunk = max(1, items / (4 * max(1, threads)))
                            let prefetchingOutput = DepthwiseSIMD.prefetchesOutputRows(p)
                            let flat = self.flat, perWorker = self.perWorker
                            let run: (Int, ClaimedChunks) -> Void = { worker, chunks in
                                let (x, w, y, b, s) = shared.value
                                let plane = s + worker * perWorker
                                if let flat {
                                    // The margins stay zero: each plane overwrites only its pixels.
                                    plane.update(repeating: 0, count: perWorker)
                                    let staged = plane + DepthwiseSIMD.flatMargin(p)
                                    for range in chunks { for item in range {
                                        let source = x + item * p.ih * p.iw
                                        if reluInput {
                                            ActivationKernels.relu(source, staged, count: p.ih * p.iw, threads: 1)
                                        } else {
                                            staged.update(from: source, count: p.ih * p.iw)
                                        }
                                        let n = item / c.inChannels, ic = item % c.inChannels
                                        for j in 0..<m {
                                            let oc = ic * m + j
                                            DepthwiseSIMD.planeFlat3x3(width: p.iw, columns: flat, staged: staged, w: w + oc * 9,
                                                                       bias: b[oc], y: y + (n * c.outChannels + oc) * p.oh * p.ow)
                                        }
                                    } }
                                    return
                                }
                                let rowsOnly = p.phases == 1 && p.colStep == 1 && p.rowStep == 1
                                // Every plane has the same geometry, so its padding stays zero once written.
                                if rowsOnly { plane.update(repeating: 0, count: p.bufferCount) }
                                for range in chunks { for item in range {
                                    if rowsOnly {
                                        DepthwiseSIMD.copyRows(p, image: x + item * p.ih * p.iw, buffer: plane, relu: reluInput)
                                    } else {
                                        DirectConvolution.layOut(p, image: x + item * p.ih * p.iw, channels: 0..<1, buffer: plane)
                                        if reluInput {
                                            ActivationKernels.relu(plane, plane, count: p.bufferCount, threads: 1)
                                        }
                                    }
                                    let n = item / c.inChannels, ic = item % c.inChannels
                                    for j in 0..<m {
                                        let oc = ic * m + j
                                        let out = y + (n * c.outChannels + oc) * p.oh * p.ow
                                        if dense3x3 {
                                            if DepthwiseSIMD.widensRows(p) {
                                                DepthwiseSIMD.plane3x3Wide(p, buffer: plane, w: w + oc * 9, bias: b[oc], y: out,
                                                                           prefetchingOutput: prefetchingOutput)
                                            } else {
                                                DepthwiseSIMD.plane3x3(p, buffer: plane, w: w + oc * 9, bias: b[oc], y: out)
                                            }
                                        } else {
                                            DepthwiseSIMD.plane(p, buffer: plane, w: w + oc * p.kh * p.kw, bias: b[oc], y: out)
                                        }
                                    }
                                } }
                            }
                            parallelForStealing(threads: threads, count: items, chunk: chunk, run)
                        }
                    }
                }
            }
        }
    }

    /// The data rows of one plane into a padded plane whose padding is already zero (stride 1 in
    /// width, so one phase). `layOut` writes padding and data with three library calls per row,
    /// which for Xception's 19-wide rows cost more than the convolution (0.44 ms for 728 planes
    /// against 0.2 now); here a row is SIMD8 copies, the last one overlapping.
    @inline(__always)
    static func copyRows(_ p: DirectConvolution.Plan, image: UnsafePointer<Float>, buffer: UnsafeMutablePointer<Float>,
                         relu: Bool) {
        let lo = max(0, -p.colOffset), hi = min(p.iw, p.wq - p.colOffset)
        let n = hi - lo
        guard n > 0 else { return }
        typealias V = SIMD8<Float>
        @inline(__always) func move(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>) {
            let v = UnsafeRawPointer(src).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(dst).storeBytes(of: relu ? v.replacing(with: 0, where: v .< 0) : v, as: V.self)
        }
        for iy in 0..<p.ih {
            let r = p.rowOffset + iy
            guard r >= 0 && r < p.hp else { continue }
            let src = image + iy * p.iw + lo, dst = buffer + r * p.wq + p.colOffset + lo
            if n < 8 {
                for i in 0..<n { dst[i] = relu && src[i] < 0 ? 0 : src[i] }
                continue
            }
            var i = 0
            while i + 8 <= n {
                move(src + i, dst + i)
                i += 8
            }
            if i < n { move(src + n - 8, dst + n - 8) }
        }
    }

    /// 3×3, stride 1, no dilation (every depthwise layer of Xception and MobileNet): the nine
    /// weights stay in registers as broadcasts, eight columns per vector, and two output rows per
    /// step, which share the loads of their two middle input rows (12 loads for 18 FMAs instead of
    /// 18). 16 ymm registers hold the nine weights, two accumulators and the loads on AVX2. A row
    /// whose width is not a multiple of 8 ends with a vector that overlaps the one before it: it
    /// recomputes a few outputs, and saves the partial store's branches (Xception's 19- and
    /// 10-wide maps are a third tail). Rows of pure padding are zero in the buffer and computed
    /// like the others: cheaper than testing for them. Rows of 32 and more take `plane3x3Wide`
    /// where AVX-512's registers hold it (`widensRows`).
    @inline(never)
    static func plane3x3(_ p: DirectConvolution.Plan, buffer: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: Float,
                         y: UnsafeMutablePointer<Float>) {
        typealias V = SIMD8<Float>
        let k = (V(repeating: w[0]), V(repeating: w[1]), V(repeating: w[2]),
                 V(repeating: w[3]), V(repeating: w[4]), V(repeating: w[5]),
                 V(repeating: w[6]), V(repeating: w[7]), V(repeating: w[8]))
        let start = V(repeating: bias)
        let wq = p.wq, ow = p.ow
        @inline(__always) func at(_ row: UnsafePointer<Float>, _ i: Int) -> V {
            UnsafeRawPointer(row + i).loadUnaligned(as: V.self)
        }
        @inline(__always) func put(_ v: V, _ out: UnsafeMutablePointer<Float>, _ x: Int) {
            UnsafeMutableRawPointer(out + x).storeBytes(of: v, as: V.self)
        }
        /// Output rows oy and oy + 1 at columns x..<x+8, from padded rows oy..<oy+4 (r points at oy).
        @inline(__always) func pair(_ r: UnsafePointer<Float>, _ x: Int) -> (V, V) {
            var a = start, b = start
            var v = at(r, x); a.addProduct(v, k.0)
            v = at(r, x + 1); a.addProduct(v, k.1)
            v = at(r, x + 2); a.addProduct(v, k.2)
            let r1 = r + wq
            v = at(r1, x); a.addProduct(v, k.3); b.addProduct(v, k.0)
            v = at(r1, x + 1); a.addProduct(v, k.4); b.addProduct(v, k.1)
            v = at(r1, x + 2); a.addProduct(v, k.5); b.addProduct(v, k.2)
            let r2 = r1 + wq
            v = at(r2, x); a.addProduct(v, k.6); b.addProduct(v, k.3)
            v = at(r2, x + 1); a.addProduct(v, k.7); b.addProduct(v, k.4)
            v = at(r2, x + 2); a.addProduct(v, k.8); b.addProduct(v, k.5)
            let r3 = r2 + wq
            v = at(r3, x); b.addProduct(v, k.6)
            v = at(r3, x + 1); b.addProduct(v, k.7)
            v = at(r3, x + 2); b.addProduct(v, k.8)
            return (a, b)
        }
        @inline(__always) func single(_ r: UnsafePointer<Float>, _ x: Int) -> V {
            var a = start
            a.addProduct(at(r, x), k.0); a.addProduct(at(r, x + 1), k.1); a.addProduct(at(r, x + 2), k.2)
            let r1 = r + wq
            a.addProduct(at(r1, x), k.3); a.addProduct(at(r1, x + 1), k.4); a.addProduct(at(r1, x + 2), k.5)
            let r2 = r1 + wq
            a.addProduct(at(r2, x), k.6); a.addProduct(at(r2, x + 1), k.7); a.addProduct(at(r2, x + 2), k.8)
            return a
        }
        if ow < 8 {
            // Narrower than one vector: the buffer row is still 16 wide, so whole-vector loads stay inside.
            for oy in 0..<p.oh { SIMDTail.store(single(buffer + oy * wq, 0), count: ow, to: y + oy * ow) }
            return
        }
        var oy = 0
        while oy + 2 <= p.oh {
            let r = buffer + oy * wq, out0 = y + oy * ow, out1 = out0 + ow
            SIMDTail.forEachOverlappingVector(count: ow) { x in
                let (a, b) = pair(r, x)
                put(a, out0, x); put(b, out1, x)
            }
            oy += 2
        }
        if oy < p.oh {
            let r = buffer + oy * wq, out = y + oy * ow
            SIMDTail.forEachOverlappingVector(count: ow) { x in put(single(r, x), out, x) }
        }
    }

    /// One output plane from one padded polyphase input plane.
    @inline(never)
    static func plane(_ p: DirectConvolution.Plan, buffer: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: Float,
                      y: UnsafeMutablePointer<Float>) {
        let rowFloats = p.phases * p.wq
        for oy in 0..<p.oh {
            let out = y + oy * p.ow
            var ox = 0
            while ox < p.ow {
                let count = min(16, p.ow - ox)
                if count <= 8 {
                    // A short tail: half-width vectors waste less.
                    var acc = SIMD8<Float>(repeating: bias)
                    for ky in 0..<p.kh {
                        let r = oy * p.sh + ky * p.dh
                        if !p.rowHasData[r] { continue }
                        let row = buffer + r * rowFloats + ox
                        for kx in 0..<p.kw {
                            let v = UnsafeRawPointer(row + p.tapOffsets[kx]).loadUnaligned(as: SIMD8<Float>.self)
                            acc.addProduct(v, SIMD8(repeating: w[ky * p.kw + kx]))
                        }
                    }
                    SIMDTail.store(acc, count: count, to: out + ox)
                    break
                }
                var acc = SIMD16<Float>(repeating: bias)
                for ky in 0..<p.kh {
                    let r = oy * p.sh + ky * p.dh
                    if !p.rowHasData[r] { continue }
                    let row = buffer + r * rowFloats + ox
                    for kx in 0..<p.kw {
                        let v = UnsafeRawPointer(row + p.tapOffsets[kx]).loadUnaligned(as: SIMD16<Float>.self)
                        acc.addProduct(v, SIMD16(repeating: w[ky * p.kw + kx]))
                    }
                }
                if count == 16 {
                    UnsafeMutableRawPointer(out + ox).storeBytes(of: acc, as: SIMD16<Float>.self)
                } else {
                    SIMDTail.store(acc, count: count, to: out + ox)
                }
                ox += 16
            }
        }
    }
}
