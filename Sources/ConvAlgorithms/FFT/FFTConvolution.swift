import CBLAS
import CFFTW
import ConvCore
import Dispatch

/// Convolution by whole-image FFTs on FFTW (fft-full): correlation is a product in the frequency
/// domain, Y(f) = Σ_c X_c(f) · conj(W_kc(f)), so its cost does not grow with the kernel's area.
///
/// Sizes: the padded input is transformed at N_h × N_w, N = d · M with M the smallest 2·3·5·7-smooth
/// size such that the input fits and every read past it wraps onto zero padding (see `period`). A kernel dilated by d is nonzero only on multiples of d, so
/// on an N = d·M grid its spectrum repeats with period M: W(u, v) = Ŵ(u mod M_h, v mod M_w), Ŵ the
/// M-point spectrum of the undilated kernel. Only Ŵ is stored (d² times less; ASPP rate 12 would
/// otherwise need 15 GB of spectra), and the frequencies sharing a residue class (a, b) share one
/// kernel matrix, so the spectral product is one complex GEMM per class — Cout/g × Cin/g times
/// Cin/g × (frequencies in the class) — instead of a matrix-vector product per frequency.
///
/// `run`, per image: (1) zero-padded copy and real-to-complex transforms of every input channel,
/// written channel-interleaved (X[f][c]); (2) the complex GEMMs, single-threaded OpenBLAS calls
/// split over our workers (`cgemm3m`); (3) complex-to-real transforms of every output channel, then crop,
/// stride by subsampling, scale by 1/(N_h·N_w) and add the bias. Transforms run in parallel over
/// channel chunks with FFTW's new-array execute; plans come from `FFTPlanner` (made in prepare).
public struct FFTConvolution: ConvolutionAlgorithm {
    /// Deliberate defects for the tests that show the engine sees a wrong FFT: the 1/(N_h·N_w)
    /// normalization multiplied by (1 + scaleError), the DC term of every kernel spectrum by
    /// (1 + dcError). Both 0 in real use.
    public let scaleError: Float
    public let dcError: Float

    public init(scaleError: Float = 0, dcError: Float = 0) {
        self.scaleError = scaleError
        self.dcError = dcError
    }

    public var name: String { scaleError == 0 && dcError == 0 ? "fft-full" : "mutant-fft-full" }
    public var summary: String { "whole-image FFT (FFTW r2c/c2r) + complex GEMM per frequency class; any kernel, stride, dilation, padding, groups; forward" }
    /// See the README's FFT accuracy section: measured, then a margin.
    public var errorModel: ErrorModel {
        ErrorModel(exactOnIntegers: false, perTerm: 1, constant: 16, mixing: .wholePlane, underflowGrowth: 16)
    }

    public func support(for c: ConvDescriptor) -> Support {
        if c.transposed { return .unsupported("transposed convolution (direct and im2col-gemm cover it)") }
        let g = Geometry(c, workers: 1)
        if g.totalBytes > AlgorithmOptions.defaultMemoryCapBytes {
            return .unsupported("kernel spectra and buffers would need \(g.totalBytes >> 20) MiB, over the \(AlgorithmOptions.defaultMemoryCapBytes >> 20) MiB cap")
        }
        return .supported
    }

    public func prepare(_ conv: ConvDescriptor, weights: Tensor, bias: Tensor?,
                        options: AlgorithmOptions) throws -> any PreparedConvolution {
        try checkPrepare(conv, weights: weights, bias: bias)
        let g = Geometry(conv, workers: options.threads)
        if g.totalBytes > options.memoryCapBytes {
            throw ConvolutionError.memoryCapExceeded(algorithm: name, neededBytes: g.totalBytes, capBytes: options.memoryCapBytes)
        }
        return try Prepared(conv, geometry: g, weights: weights, bias: conv.hasBias ? bias : nil, threads: options.threads,
                            scaleError: scaleError, dcError: dcError)
    }

    /// Channels transformed together by one worker: their planes and contiguous spectra stay in
    /// cache while they are transposed into the channel-interleaved X[f][c].
    static let channelChunk = 16

    /// Transform sizes and memory of one convolution.
    struct Geometry {
        let mh: Int, mw: Int, nh: Int, nw: Int
        /// Complex columns of the half spectrum, and its size.
        var vw: Int { nw / 2 + 1 }
        var frequencies: Int { nh * vw }
        var plane: Int { nh * nw }
        let spectraCount: Int
        /// The most frequencies one residue class holds (its complex GEMM's columns).
        let classColumns: Int
        let sharedFloats: Int, workerFloats: Int
        let workers: Int

        init(_ c: ConvDescriptor, workers: Int) {
            mh = Self.period(outputs: (c.outHeight - 1) * c.strideHeight + 1, span: (c.kernelHeight - 1) * c.dilationHeight,
                             front: c.padTop, extent: c.inHeight, dilation: c.dilationHeight, taps: c.kernelHeight)
            mw = Self.period(outputs: (c.outWidth - 1) * c.strideWidth + 1, span: (c.kernelWidth - 1) * c.dilationWidth,
                             front: c.padLeft, extent: c.inWidth, dilation: c.dilationWidth, taps: c.kernelWidth)
            nh = mh * c.dilationHeight
            nw = mw * c.dilationWidth
            self.workers = workers
            spectraCount = c.groups * mh * mw * c.inChannelsPerGroup * c.outChannelsPerGroup
            let plane = nh * nw, freq = nh * (nw / 2 + 1)
            classColumns = c.dilationHeight * ((nw / 2) / mw + 1)
            // X (F × Cin complex), Y (F × Cout complex), the output planes.
            sharedFloats = 2 * freq * (c.inChannels + c.outChannels) + c.outChannels * plane
            let chunk = min(FFTConvolution.channelChunk, c.inChannels)
            workerFloats = max(chunk * (plane + 2 * freq),
                               2 * classColumns * (c.inChannelsPerGroup + c.outChannelsPerGroup))
        }

        /// M along one axis. The transform length N = d·M must hold the stride-1 output positions
        /// that are kept (`outputs`), the input where it is placed (front padding + extent), and
        /// every read past the input must wrap onto padding: reads go up to outputs − 1 + span,
        /// so N ≥ outputs + span − front. Wrapping onto the front padding is harmless, which keeps
        /// N near the input size when the padding is large (ASPP rate 36 on 64 rows: N = 108,
        /// not the 136 rows its taps span).
        static func period(outputs: Int, span: Int, front: Int, extent: Int, dilation d: Int, taps: Int) -> Int {
            let n = max(outputs, front + extent, outputs + span - front, 1)
            return FFTPlanner.goodSize(atLeast: max((n + d - 1) / d, taps))
        }

        var totalBytes: Int { (2 * spectraCount + sharedFloats + workers * workerFloats) * MemoryLayout<Float>.stride }
    }

    final class Prepared: PreparedConvolution, WorkspaceExposing, PhaseClocked {
        let descriptor: ConvDescriptor
        let g: Geometry
        let threads: Int
        /// conj(Ŵ) as [group][a][b][Cin/g][Cout/g] complex (interleaved floats): column-major
        /// Cout/g × Cin/g matrices, one per residue class.
        let spectra: Workspace
        let bias: [Float]
        let scale: Float
        /// X (F × Cin complex), Y (F × Cout complex), output planes.
        let buffers: Workspace
        /// Per worker: planes and spectra of a channel chunk, or a class's packed columns.
        let scratch: Workspace
        /// Forward plans for a full chunk and for the remainder; inverse plans per worker chunk.
        let forwardFull: OpaquePointer, forwardRest: OpaquePointer?
        let outputChunks: [Range<Int>]
        let inversePlans: [OpaquePointer]
        var clock = PhaseClock(["forward transforms", "spectral products", "inverse transforms"])

        init(_ c: ConvDescriptor, geometry g: Geometry, weights: Tensor, bias: Tensor?, threads: Int,
             scaleError: Float, dcError: Float) throws {
            descriptor = c
            self.g = g
            self.threads = threads
            scale = (1 + scaleError) / Float(g.nh * g.nw)
            self.bias = bias?.scalars ?? [Float](repeating: 0, count: c.outChannels)
            let planner = FFTPlanner.shared
            let chunk = min(FFTConvolution.channelChunk, c.inChannels)
            forwardFull = try planner.plan(.init(forward: true, height: g.nh, width: g.nw, count: chunk, realDistance: g.plane,
                                                 complexStride: 1, complexDistance: g.frequencies, rigor: .estimate))
            let rest = c.inChannels % chunk
            forwardRest = rest == 0 ? nil : try planner.plan(.init(forward: true, height: g.nh, width: g.nw, count: rest,
                                                                   realDistance: g.plane, complexStride: 1,
                                                                   complexDistance: g.frequencies, rigor: .estimate))
            let w = max(1, min(threads, c.outChannels))
            outputChunks = (0..<w).map { (c.outChannels * $0 / w)..<(c.outChannels * ($0 + 1) / w) }
            inversePlans = try outputChunks.map {
                try planner.plan(.init(forward: false, height: g.nh, width: g.nw, count: $0.count, realDistance: g.plane,
                                       complexStride: c.outChannels, complexDistance: 1, rigor: .estimate))
            }
            buffers = Workspace(count: g.sharedFloats)
            scratch = Workspace(count: g.workerFloats * g.workers)
            spectra = Workspace(count: 2 * g.spectraCount)
            try Self.transformKernels(c, g, weights: weights, into: spectra.pointer)
            if dcError != 0 {
                // Class (0, 0) of every group holds the DC terms.
                for group in 0..<c.groups {
                    let dc = spectra.pointer + 2 * (group * g.mh * g.mw) * c.inChannelsPerGroup * c.outChannelsPerGroup
                    for e in 0..<(2 * c.inChannelsPerGroup * c.outChannelsPerGroup) { dc[e] *= 1 + dcError }
                }
            }
        }

        /// Ŵ for every (k, c), in chunks through one batched r2c plan, unfolded to the full M_h × M_w
        /// spectrum by Hermitian symmetry and stored conjugated.
        private static func transformKernels(_ c: ConvDescriptor, _ g: Geometry, weights: Tensor,
                                             into out: UnsafeMutablePointer<Float>) throws {
            let cg = c.inChannelsPerGroup, kg = c.outChannelsPerGroup
            let kernels = c.groups * kg * cg
            let plane = g.mh * g.mw, half = g.mh * (g.mw / 2 + 1)
            // Chunks of at most 64 MiB of planes and half spectra.
            let chunk = max(1, min(kernels, (64 << 20) / ((plane + 2 * half) * MemoryLayout<Float>.stride)))
            let plan = try FFTPlanner.shared.plan(.init(forward: true, height: g.mh, width: g.mw, count: chunk,
                                                        realDistance: plane, complexStride: 1, complexDistance: half, rigor: .estimate))
            let real = Workspace(count: chunk * plane)
            let spectrum = Workspace(count: 2 * chunk * half)
            let taps = c.kernelHeight * c.kernelWidth
            weights.withUnsafeBufferPointer { w in
                var first = 0
                while first < kernels {
                    let count = min(chunk, kernels - first)
                    real.pointer.update(repeating: 0, count: chunk * plane)
                    for j in 0..<count {
                        let src = w.baseAddress! + (first + j) * taps
                        for kh in 0..<c.kernelHeight {
                            for kw in 0..<c.kernelWidth {
                                real.pointer[j * plane + kh * g.mw + kw] = src[kh * c.kernelWidth + kw]
                            }
                        }
                    }
                    spectrum.pointer.withMemoryRebound(to: fftwf_complex.self, capacity: chunk * half) { s in
                        fftwf_execute_dft_r2c(plan, real.pointer, s)
                    }
                    for j in 0..<count {
                        let kernel = first + j                       // = (group·kg + k)·cg + ci
                        let group = kernel / (kg * cg), k = (kernel / cg) % kg, ci = kernel % cg
                        let h = spectrum.pointer + 2 * j * half
                        for a in 0..<g.mh {
                            for b in 0..<g.mw {
                                var re: Float, im: Float
                                if b <= g.mw / 2 {
                                    re = h[2 * (a * (g.mw / 2 + 1) + b)]; im = h[2 * (a * (g.mw / 2 + 1) + b) + 1]
                                } else {
                                    let a2 = (g.mh - a) % g.mh, b2 = g.mw - b
                                    re = h[2 * (a2 * (g.mw / 2 + 1) + b2)]; im = -h[2 * (a2 * (g.mw / 2 + 1) + b2) + 1]
                                }
                                // conj(Ŵ): correlation, not convolution.
                                let index = (((group * g.mh + a) * g.mw + b) * cg + ci) * kg + k
                                out[2 * index] = re
                                out[2 * index + 1] = -im
                            }
                        }
                    }
                    first += count
                }
            }
        }

        var workspaceBytes: Int { spectra.bytes + buffers.bytes + scratch.bytes }
        var workspaces: [Workspace] { [buffers, scratch] }

        func run(_ input: Tensor, into output: inout Tensor) throws {
            try checkRun(input, output)
            let c = descriptor, g = g
            SGEMM.setThreads(1)
            let x = buffers.pointer
            let y = x + 2 * g.frequencies * c.inChannels
            let planes = y + 2 * g.frequencies * c.outChannels
            clock.start()
            input.withUnsafeBufferPointer { xb in
                output.withUnsafeMutableBufferPointer { yb in
                    for n in 0..<c.batch {
                        forward(xb.baseAddress! + n * c.inChannels * c.inHeight * c.inWidth, into: x)
                        clock.lap(0)
                        multiply(x, into: y)
                        clock.lap(1)
                        inverse(y, planes: planes, into: yb.baseAddress! + n * c.outChannels * c.outHeight * c.outWidth)
                        clock.lap(2)
                    }
                }
            }
        }

        /// X[f][c]: chunks of channels are padded, transformed into contiguous spectra, then
        /// transposed into the channel-interleaved layout the products read (FFTW writing the
        /// interleaved layout directly, at a stride of Cin complex numbers, spent 274 ms on ASPP
        /// rate 12's 2048 channels at 96×96; this spends 75 ms at 84×84).
        private func forward(_ image: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>) {
            let c = descriptor, g = g, plane = g.plane, freq = g.frequencies
            let chunk = min(FFTConvolution.channelChunk, c.inChannels)
            let chunks = (c.inChannels + chunk - 1) / chunk
            // `period` makes N hold front padding + input, so every input row and column fits.
            let rows = c.inHeight, cols = c.inWidth
            let shared = UncheckedSendable((image, x, scratch.pointer))
            parallelForWorkers(threads: threads, count: chunks) { worker, range in
                let (image, x, s) = shared.value
                let planes = s + worker * g.workerFloats, spectrum = planes + chunk * plane
                for index in range {
                    let first = index * chunk, count = min(chunk, c.inChannels - first)
                    for j in 0..<count {
                        let dst = planes + j * plane
                        dst.update(repeating: 0, count: plane)
                        for r in 0..<rows {
                            (dst + (c.padTop + r) * g.nw + c.padLeft)
                                .update(from: image + ((first + j) * c.inHeight + r) * c.inWidth, count: cols)
                        }
                    }
                    spectrum.withMemoryRebound(to: fftwf_complex.self, capacity: count * freq) { out in
                        fftwf_execute_dft_r2c(count == chunk ? self.forwardFull : self.forwardRest!, planes, out)
                    }
                    // Transpose the chunk: X[f][first + j] = spectrum[j][f].
                    for f in 0..<freq {
                        let dst = x + 2 * (f * c.inChannels + first)
                        for j in 0..<count {
                            dst[2 * j] = spectrum[2 * (j * freq + f)]
                            dst[2 * j + 1] = spectrum[2 * (j * freq + f) + 1]
                        }
                    }
                }
            }
        }

        /// Y[f][k] = Σ_c conj(Ŵ)[class(f)][c][k] · X[f][c]: per (group, residue class) the class's
        /// frequency columns are packed side by side, multiplied by one complex GEMM, and unpacked.
        private func multiply(_ x: UnsafeMutablePointer<Float>, into y: UnsafeMutablePointer<Float>) {
            let c = descriptor, g = g
            let cg = c.inChannelsPerGroup, kg = c.outChannelsPerGroup, dh = c.dilationHeight
            let items = c.groups * g.mh * g.mw
            let shared = UncheckedSendable((x, y, spectra.pointer, scratch.pointer))
            parallelForWorkers(threads: threads, count: items) { worker, range in
                let (x, y, w, s) = shared.value
                let packedX = s + worker * g.workerFloats, packedY = packedX + 2 * g.classColumns * cg
                var one: (Float, Float) = (1, 0), zero: (Float, Float) = (0, 0)
                for item in range {
                    let b = item % g.mw, a = (item / g.mw) % g.mh, group = item / (g.mw * g.mh)
                    if b > g.nw / 2 { continue }
                    let perRow = (g.nw / 2 - b) / g.mw + 1
                    var columns = 0
                    for i in 0..<dh {
                        for j in 0..<perRow {
                            let f = (a + i * g.mh) * g.vw + b + j * g.mw
                            (packedX + 2 * columns * cg).update(from: x + 2 * (f * c.inChannels + group * cg), count: 2 * cg)
                            columns += 1
                        }
                    }
                    let kernel = w + 2 * ((group * g.mh + a) * g.mw + b) * cg * kg
                    // cgemm3m (three real products per complex one) halves the time of wide class
                    // products; on one or a few columns plain cgemm is faster (measured: 6.5 vs
                    // 10.9 ms for the 3×3 64-channel layer).
                    let gemm = columns >= 8 ? cblas_cgemm3m : cblas_cgemm
                    gemm(CblasColMajor, CblasNoTrans, CblasNoTrans, Int32(kg), Int32(columns), Int32(cg),
                         &one, kernel, Int32(kg), packedX, Int32(cg), &zero, packedY, Int32(kg))
                    columns = 0
                    for i in 0..<dh {
                        for j in 0..<perRow {
                            let f = (a + i * g.mh) * g.vw + b + j * g.mw
                            (y + 2 * (f * c.outChannels + group * kg)).update(from: packedY + 2 * columns * kg, count: 2 * kg)
                            columns += 1
                        }
                    }
                }
            }
        }

        private func inverse(_ y: UnsafeMutablePointer<Float>, planes: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>) {
            let c = descriptor, g = g, plane = g.nh * g.nw
            let scale = scale
            let shared = UncheckedSendable((y, planes, out))
            parallelFor(threads: outputChunks.count, count: outputChunks.count) { workers in
                let (y, planes, out) = shared.value
                for w in workers {
                    let range = self.outputChunks[w]
                    (y + 2 * range.lowerBound).withMemoryRebound(to: fftwf_complex.self, capacity: 1) { spectrum in
                        fftwf_execute_dft_c2r(self.inversePlans[w], spectrum, planes + range.lowerBound * plane)
                    }
                    for k in range {
                        let src = planes + k * plane, b = self.bias[k]
                        let dst = out + k * c.outHeight * c.outWidth
                        for oh in 0..<c.outHeight {
                            let row = src + oh * c.strideHeight * g.nw
                            for ow in 0..<c.outWidth {
                                dst[oh * c.outWidth + ow] = row[ow * c.strideWidth] * scale + b
                            }
                        }
                    }
                }
            }
        }
    }
}
