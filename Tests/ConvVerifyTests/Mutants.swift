import ConvAlgorithms
import ConvCore
import Foundation

/// A plain convolution (forward and transposed, every geometry) into which one classic bug can be
/// injected. Without a bug it is correct; the mutation tests prove the engine catches each bug.
struct MutantConvolution: ConvolutionAlgorithm {
    enum Bug: String, CaseIterable, Sendable {
        case none
        /// Left padding read as one less than it is.
        case padOffByOneLeft
        /// Dilation treated as 1.
        case dilationIgnored
        /// Width stride treated as 1: stride applied to the height axis only.
        case strideHeightOnly
        /// Group g reads the input channels of group g + 1.
        case groupsMixedUp
        /// Transposed output padding rows and columns never computed (left zero).
        case outputPaddingDropped
        /// Bias not added.
        case biasDropped
        /// The last output element is never written.
        case lastElementSkipped
        /// With two or more threads, the first row of the second worker's chunk is overwritten
        /// with the row above it (what an overlapping chunk boundary does).
        case raceCorruptsRow
    }

    let bug: Bug
    var name: String { "mutant-\(bug.rawValue)" }
    var summary: String { "test-only plain loops with an injected bug" }
    var errorModel: ErrorModel { .float32Summation }
    func support(for conv: ConvDescriptor) -> Support { .supported }

    func prepare(_ conv: ConvDescriptor, weights: Tensor, bias: Tensor?, options: AlgorithmOptions) throws -> any PreparedConvolution {
        try checkPrepare(conv, weights: weights, bias: bias)
        return Prepared(descriptor: conv, weights: weights.scalars, bias: conv.hasBias ? bias?.scalars : nil,
                        bug: bug, threads: options.threads)
    }

    final class Prepared: PreparedConvolution {
        let descriptor: ConvDescriptor
        let weights: [Float]
        let bias: [Float]?
        let bug: Bug
        let threads: Int
        var workspaceBytes: Int { 0 }

        init(descriptor: ConvDescriptor, weights: [Float], bias: [Float]?, bug: Bug, threads: Int) {
            self.descriptor = descriptor; self.weights = weights; self.bias = bias; self.bug = bug; self.threads = threads
        }

        func run(_ input: Tensor, into output: inout Tensor) throws {
            try checkRun(input, output)
            let c = descriptor
            let x = input.scalars
            var y = [Float](repeating: 0, count: c.outputCount)
            let (cinG, coutG) = (c.inChannelsPerGroup, c.outChannelsPerGroup)
            let dh = bug == .dilationIgnored ? 1 : c.dilationHeight
            let dw = bug == .dilationIgnored ? 1 : c.dilationWidth
            let sw = bug == .strideHeightOnly ? 1 : c.strideWidth
            let pl = bug == .padOffByOneLeft ? max(0, c.padLeft - 1) : c.padLeft
            let ohLimit = bug == .outputPaddingDropped ? c.outHeight - c.outputPaddingHeight : c.outHeight
            let owLimit = bug == .outputPaddingDropped ? c.outWidth - c.outputPaddingWidth : c.outWidth
            for n in 0..<c.batch {
                for g in 0..<c.groups {
                    let gIn = bug == .groupsMixedUp ? (g + 1) % c.groups : g
                    for ocg in 0..<coutG {
                        let oc = g * coutG + ocg
                        for icg in 0..<cinG {
                            let ic = gIn * cinG + icg
                            let wIndexBase = c.transposed ? (g * cinG + icg) * coutG + ocg : oc * cinG + icg
                            for ky in 0..<c.kernelHeight {
                                for kx in 0..<c.kernelWidth {
                                    let w = weights[(wIndexBase * c.kernelHeight + ky) * c.kernelWidth + kx]
                                    for a in 0..<(c.transposed ? c.inHeight : c.outHeight) {
                                        for b in 0..<(c.transposed ? c.inWidth : c.outWidth) {
                                            let (iy, ix, oy, ox): (Int, Int, Int, Int)
                                            if c.transposed {
                                                (iy, ix) = (a, b)
                                                (oy, ox) = (a * c.strideHeight - c.padTop + ky * dh, b * sw - pl + kx * dw)
                                            } else {
                                                (oy, ox) = (a, b)
                                                (iy, ix) = (a * c.strideHeight - c.padTop + ky * dh, b * sw - pl + kx * dw)
                                            }
                                            guard iy >= 0, iy < c.inHeight, ix >= 0, ix < c.inWidth,
                                                  oy >= 0, oy < ohLimit, ox >= 0, ox < owLimit else { continue }
                                            y[((n * c.outChannels + oc) * c.outHeight + oy) * c.outWidth + ox] +=
                                                x[((n * c.inChannels + ic) * c.inHeight + iy) * c.inWidth + ix] * w
                                        }
                                    }
                                }
                            }
                        }
                        if let bias, bug != .biasDropped {
                            let base = (n * c.outChannels + oc) * c.outHeight * c.outWidth
                            for i in 0..<(c.outHeight * c.outWidth) { y[base + i] += bias[oc] }
                        }
                    }
                }
            }
            if bug == .raceCorruptsRow && threads > 1 {
                // Rows of all planes split in two chunks; the second chunk's first row is clobbered.
                let rows = c.batch * c.outChannels * c.outHeight
                let boundary = rows / 2
                if boundary > 0 && boundary % c.outHeight != 0 {
                    for i in 0..<c.outWidth { y[boundary * c.outWidth + i] = y[(boundary - 1) * c.outWidth + i] }
                }
            }
            let skip = bug == .lastElementSkipped ? 1 : 0
            output.withUnsafeMutableBufferPointer { out in for i in 0..<(out.count - skip) { out[i] = y[i] } }
        }
    }
}

/// Accumulates into scratch memory that `prepare` zeroed but `run` never clears: right on a fresh
/// preparation, wrong as soon as the scratch holds anything else (the engine poisons it).
struct StaleWorkspaceMutant: ConvolutionAlgorithm {
    var name: String { "mutant-stale-workspace" }
    var summary: String { "test-only: reads scratch it never wrote" }
    var errorModel: ErrorModel { .float32Summation }
    func support(for conv: ConvDescriptor) -> Support { .supported }

    func prepare(_ conv: ConvDescriptor, weights: Tensor, bias: Tensor?, options: AlgorithmOptions) throws -> any PreparedConvolution {
        try checkPrepare(conv, weights: weights, bias: bias)
        return Prepared(c: conv, w: weights, b: conv.hasBias ? bias : nil)
    }

    final class Prepared: PreparedConvolution, WorkspaceExposing {
        let descriptor: ConvDescriptor
        let w: Tensor, b: Tensor?
        let scratch: Workspace
        var workspaceBytes: Int { scratch.bytes }
        var workspaces: [Workspace] { [scratch] }
        init(c: ConvDescriptor, w: Tensor, b: Tensor?) {
            descriptor = c; self.w = w; self.b = b
            scratch = Workspace(count: c.outputCount)
        }

        func run(_ input: Tensor, into output: inout Tensor) throws {
            try checkRun(input, output)
            let r = ReferenceConvolution.compute(descriptor, input: input, weights: w, bias: b, withMagnitudes: false)
            let s = scratch.pointer
            output.withUnsafeMutableBufferPointer { out in
                for i in out.indices { s[i] += Float(r.values[i]); out[i] = s[i] ; s[i] = 0 }
            }
        }
    }
}

/// Winograd F(2, 3) along the width (1D minimal filtering, Lavin & Gray 2016) for kernels 1×3,
/// stride 1, dilation 1, forward; one coefficient of the kernel transform G can be perturbed.
/// Error model as a real Winograd variant declares it: transform growth, and tile mixing (an
/// element whose own window sums to 0 still carries its tile neighbours' rounding).
struct WinogradLikeMutant: ConvolutionAlgorithm {
    /// Multiplies G[1][0] (nominally ½) by this factor.
    let perturbation: Float
    var name: String { perturbation == 1 ? "winograd-like-f2" : "mutant-winograd-coefficient" }
    var summary: String { "test-only 1D Winograd F(2,3) over width" }
    var errorModel: ErrorModel { ErrorModel(exactOnIntegers: false, perTerm: 4, constant: 16, mixing: .outputTile(2)) }

    func support(for c: ConvDescriptor) -> Support {
        c.transposed || c.kernelWidth != 3 || c.kernelHeight != 1 || c.strideWidth != 1 || c.dilationWidth != 1
            ? .unsupported("1x3 kernels, stride 1, dense, forward only") : .supported
    }

    func prepare(_ conv: ConvDescriptor, weights: Tensor, bias: Tensor?, options: AlgorithmOptions) throws -> any PreparedConvolution {
        try checkPrepare(conv, weights: weights, bias: bias)
        return Prepared(c: conv, w: weights.scalars, b: conv.hasBias ? bias?.scalars : nil, g10: 0.5 * perturbation)
    }

    final class Prepared: PreparedConvolution {
        let descriptor: ConvDescriptor
        let w: [Float], b: [Float]?, g10: Float
        var workspaceBytes: Int { 0 }
        init(c: ConvDescriptor, w: [Float], b: [Float]?, g10: Float) { descriptor = c; self.w = w; self.b = b; self.g10 = g10 }

        func run(_ input: Tensor, into output: inout Tensor) throws {
            try checkRun(input, output)
            let c = descriptor, x = input.scalars
            var y = [Float](repeating: 0, count: c.outputCount)
            func xAt(_ n: Int, _ ic: Int, _ iy: Int, _ ix: Int) -> Float {
                iy < 0 || iy >= c.inHeight || ix < 0 || ix >= c.inWidth ? 0 : x[((n * c.inChannels + ic) * c.inHeight + iy) * c.inWidth + ix]
            }
            for n in 0..<c.batch {
                for oc in 0..<c.outChannels {
                    let g = oc / c.outChannelsPerGroup
                    for icg in 0..<c.inChannelsPerGroup {
                        let ic = g * c.inChannelsPerGroup + icg
                        let k = (0..<3).map { w[(oc * c.inChannelsPerGroup + icg) * 3 + $0] }
                        // U = G·k with G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]]
                        let u = [k[0], g10 * k[0] + 0.5 * k[1] + 0.5 * k[2], 0.5 * k[0] - 0.5 * k[1] + 0.5 * k[2], k[2]]
                        for oy in 0..<c.outHeight {
                            let iy = oy * c.strideHeight - c.padTop
                            var ox = 0
                            while ox < c.outWidth {
                                let ix = ox - c.padLeft
                                let d = (0..<4).map { xAt(n, ic, iy, ix + $0) }
                                // V = Bᵀ·d, M = U ⊙ V, Y = Aᵀ·M
                                let v = [d[0] - d[2], d[1] + d[2], d[2] - d[1], d[1] - d[3]]
                                let m = (0..<4).map { u[$0] * v[$0] }
                                let base = ((n * c.outChannels + oc) * c.outHeight + oy) * c.outWidth
                                y[base + ox] += m[0] + m[1] + m[2]
                                if ox + 1 < c.outWidth { y[base + ox + 1] += m[1] - m[2] - m[3] }
                                ox += 2
                            }
                        }
                    }
                    if let b {
                        let base = (n * c.outChannels + oc) * c.outHeight * c.outWidth
                        for i in 0..<(c.outHeight * c.outWidth) { y[base + i] += b[oc] }
                    }
                }
            }
            output.withUnsafeMutableBufferPointer { out in for i in out.indices { out[i] = y[i] } }
        }
    }
}

/// An "FFT-like" algorithm whose inverse transform normalization is off by a factor: it computes
/// the exact convolution and then scales by N/(N − 1) where N is the transform length an FFT
/// convolution of this size would use, as a forgotten or doubled 1/N does.
struct FFTNormalizationMutant: ConvolutionAlgorithm {
    var name: String { "mutant-fft-normalization" }
    var summary: String { "test-only: reference result scaled by N/(N-1)" }
    var errorModel: ErrorModel { ErrorModel(exactOnIntegers: false, perTerm: 2, constant: 64) }
    func support(for conv: ConvDescriptor) -> Support { conv.transposed ? .unsupported("forward only") : .supported }

    func prepare(_ conv: ConvDescriptor, weights: Tensor, bias: Tensor?, options: AlgorithmOptions) throws -> any PreparedConvolution {
        try checkPrepare(conv, weights: weights, bias: bias)
        return Prepared(c: conv, w: weights, b: conv.hasBias ? bias : nil)
    }

    final class Prepared: PreparedConvolution {
        let descriptor: ConvDescriptor
        let w: Tensor, b: Tensor?
        var workspaceBytes: Int { 0 }
        init(c: ConvDescriptor, w: Tensor, b: Tensor?) { descriptor = c; self.w = w; self.b = b }

        func run(_ input: Tensor, into output: inout Tensor) throws {
            try checkRun(input, output)
            let c = descriptor
            let r = ReferenceConvolution.compute(c, input: input, weights: w, bias: b, withMagnitudes: false)
            let n = Double((c.inHeight + c.padTop + max(0, c.padBottom)) * (c.inWidth + c.padLeft + max(0, c.padRight)))
            let scale = n / max(1, n - 1)
            output.withUnsafeMutableBufferPointer { out in for i in out.indices { out[i] = Float(r.values[i] * scale) } }
        }
    }
}
