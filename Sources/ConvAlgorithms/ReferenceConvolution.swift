import ConvCore

/// The oracle: the textbook definition of convolution and transposed convolution, accumulated
/// in Float64. Every product of two float32 values is exact in Float64, and the sums of the
/// reduction lengths CNNs use lose at most a few Float64 ulps, so after rounding to float32 the
/// result is the correctly rounded exact value in all but astronomically rare cases.
/// Kept short and obvious on purpose; speed is not its job.
public struct ReferenceConvolution: ConvolutionAlgorithm {
    public init() {}

    public var name: String { "reference" }
    public var summary: String { "float64-accumulating textbook loops; every geometry; the oracle" }
    /// Only the final rounding to float32 (≤ ε/2 · |y|).
    public var errorModel: ErrorModel { ErrorModel(exactOnIntegers: true, perTerm: 0, constant: 1) }

    public func support(for conv: ConvDescriptor) -> Support { .supported }

    public func prepare(_ conv: ConvDescriptor, weights: Tensor, bias: Tensor?,
                        options: AlgorithmOptions) throws -> any PreparedConvolution {
        try checkPrepare(conv, weights: weights, bias: bias)
        return Prepared(descriptor: conv, weights: weights, bias: conv.hasBias ? bias : nil)
    }

    final class Prepared: PreparedConvolution {
        let descriptor: ConvDescriptor
        let weights: Tensor
        let bias: Tensor?
        var workspaceBytes: Int { 0 }

        init(descriptor: ConvDescriptor, weights: Tensor, bias: Tensor?) {
            self.descriptor = descriptor
            self.weights = weights
            self.bias = bias
        }

        func run(_ input: Tensor, into output: inout Tensor) throws {
            try checkRun(input, output)
            let r = ReferenceConvolution.compute(descriptor, input: input, weights: weights, bias: bias,
                                                 withMagnitudes: false)
            output.withUnsafeMutableBufferPointer { out in
                for i in out.indices { out[i] = Float(r.values[i]) }
            }
        }
    }

    /// Exact-as-possible output and, per element, Σ|x·w| + |b| (the scale of the engine's tolerance).
    public struct Result: Sendable {
        public var values: [Double]
        public var magnitudes: [Double]
    }

    /// Computes the convolution in Float64. `weights` is OIHW (forward) or IOHW (transposed).
    /// `threads` splits the work by output plane; each plane is summed by one thread in one fixed
    /// order, so the result does not depend on it.
    public static func compute(_ c: ConvDescriptor, input: Tensor, weights: Tensor, bias: Tensor?,
                               withMagnitudes: Bool = true, threads: Int = 1) -> Result {
        precondition(input.shape == c.inputShape && weights.shape == c.weightShape)
        var y = [Double](repeating: 0, count: c.outputCount)
        var m = [Double](repeating: 0, count: withMagnitudes ? c.outputCount : 0)
        let x = input.scalars.map(Double.init)
        let w = weights.scalars.map(Double.init)
        let b = c.hasBias ? bias?.scalars.map(Double.init) : nil
        y.withUnsafeMutableBufferPointer { yp in
            m.withUnsafeMutableBufferPointer { mp in
                // An empty array's buffer may still have a base address: never hand it out as a place to write.
                let shared = UncheckedSendable((yp.baseAddress!, withMagnitudes ? mp.baseAddress : nil))
                parallelFor(threads: threads, count: c.batch * c.outChannels) { planes in
                    for p in planes {
                        plane(c, n: p / c.outChannels, oc: p % c.outChannels, x: x, w: w, bias: b,
                              y: shared.value.0, m: shared.value.1)
                    }
                }
            }
        }
        return Result(values: y, magnitudes: m)
    }

    /// One output plane (image n, channel oc), accumulated over its group's input channels and taps.
    private static func plane(_ c: ConvDescriptor, n: Int, oc: Int, x: [Double], w: [Double], bias: [Double]?,
                              y: UnsafeMutablePointer<Double>, m: UnsafeMutablePointer<Double>?) {
        let (cinG, coutG) = (c.inChannelsPerGroup, c.outChannelsPerGroup)
        let (ih, iw, oh, ow) = (c.inHeight, c.inWidth, c.outHeight, c.outWidth)
        let (kh, kw) = (c.kernelHeight, c.kernelWidth)
        let g = oc / coutG, ocg = oc % coutG
        let yPlane = (n * c.outChannels + oc) * oh * ow
        for icg in 0..<cinG {
            let ic = g * cinG + icg
            let xPlane = (n * c.inChannels + ic) * ih * iw
            for ky in 0..<kh {
                for kx in 0..<kw {
                    // OIHW: [oc][icg][ky][kx]; IOHW: [ic][ocg][ky][kx]
                    let wv = c.transposed
                        ? w[((ic * coutG + ocg) * kh + ky) * kw + kx]
                        : w[((oc * cinG + icg) * kh + ky) * kw + kx]
                    if c.transposed {
                        // Scatter: input (iy, ix) reaches output (iy·s − p + ky·d, ix·s − p + kx·d).
                        for iy in 0..<ih {
                            let oy = iy * c.strideHeight - c.padTop + ky * c.dilationHeight
                            guard oy >= 0 && oy < oh else { continue }
                            for ix in 0..<iw {
                                let ox = ix * c.strideWidth - c.padLeft + kx * c.dilationWidth
                                guard ox >= 0 && ox < ow else { continue }
                                let p = x[xPlane + iy * iw + ix] * wv
                                y[yPlane + oy * ow + ox] += p
                                m?[yPlane + oy * ow + ox] += abs(p)
                            }
                        }
                    } else {
                        // Gather: output (oy, ox) reads input (oy·s − p + ky·d, ox·s − p + kx·d).
                        for oy in 0..<oh {
                            let iy = oy * c.strideHeight - c.padTop + ky * c.dilationHeight
                            guard iy >= 0 && iy < ih else { continue }
                            for ox in 0..<ow {
                                let ix = ox * c.strideWidth - c.padLeft + kx * c.dilationWidth
                                guard ix >= 0 && ix < iw else { continue }
                                let p = x[xPlane + iy * iw + ix] * wv
                                y[yPlane + oy * ow + ox] += p
                                m?[yPlane + oy * ow + ox] += abs(p)
                            }
                        }
                    }
                }
            }
        }
        if let bias {
            for i in 0..<(oh * ow) {
                y[yPlane + i] += bias[oc]
                m?[yPlane + i] += abs(bias[oc])
            }
        }
    }
}
