import ConvCore

/// Depthwise convolution (groups = input channels, depth multiplier ≥ 1), as in MobileNet and
/// Xception's separable convolutions (Chollet 2017; Howard et al. 2017). Each output plane reads
/// one input plane, so the work is memory bound. Each input plane is first copied into a small
/// padded, polyphase scratch plane (the layout `DirectConvolution` uses), which stays in L1/L2:
/// then every output column, border included, is computed 16 lanes at a time with no bounds
/// checks, and kernel rows that fall wholly in padding are skipped. The planes of one input channel
/// (its depth multiplier) share the copy. Parallel over input planes: results do not depend on the
/// thread count.
public struct DepthwiseSIMD: ConvolutionAlgorithm {
    public init() {}

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
        return try Prepared(conv, weights: weights, bias: conv.hasBias ? bias : nil, threads: options.threads)
    }

    final class Prepared: PreparedConvolution, WorkspaceExposing {
        let descriptor: ConvDescriptor
        let weights: Tensor
        let bias: [Float]
        let threads: Int
        /// The geometry of one plane as a one-channel convolution.
        let plan: DirectConvolution.Plan
        let scratch: Workspace

        init(_ c: ConvDescriptor, weights: Tensor, bias: Tensor?, threads: Int) throws {
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
            scratch = Workspace(count: plan.bufferCount * max(1, min(threads, c.batch * c.inChannels)))
        }

        var workspaceBytes: Int { scratch.bytes }
        var workspaces: [Workspace] { [scratch] }

        func run(_ input: Tensor, into output: inout Tensor) throws {
            try checkRun(input, output)
            let c = descriptor, p = plan
            let m = c.depthMultiplier
            input.withUnsafeBufferPointer { x in
                weights.withUnsafeBufferPointer { w in
                    output.withUnsafeMutableBufferPointer { y in
                        bias.withUnsafeBufferPointer { b in
                            let shared = UncheckedSendable((x.baseAddress!, w.baseAddress!, y.baseAddress!,
                                                            b.baseAddress!, scratch.pointer))
                            parallelForWorkers(threads: threads, count: c.batch * c.inChannels) { worker, range in
                                let (x, w, y, b, s) = shared.value
                                let plane = s + worker * p.bufferCount
                                for item in range {
                                    DirectConvolution.layOut(p, image: x + item * p.ih * p.iw, channels: 0..<1, buffer: plane)
                                    let n = item / c.inChannels, ic = item % c.inChannels
                                    for j in 0..<m {
                                        let oc = ic * m + j
                                        DepthwiseSIMD.plane(p, buffer: plane, w: w + oc * p.kh * p.kw, bias: b[oc],
                                                            y: y + (n * c.outChannels + oc) * p.oh * p.ow)
                                    }
                                }
                            }
                        }
                    }
                }
            }
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
