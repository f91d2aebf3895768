import CBLAS
import CFFTW
import ConvCore

/// Tiled FFT convolution (fft-tiled, overlap-save): the stride-1 output is cut into T×T tiles, each
/// computed from an N×N input patch with N = T + (k − 1)·d and N one of 8, 16, 32 (NNPACK's
/// ft8x8/ft16x16 idea). Memory stays bounded by the tile, not the image, and — unlike fft-full —
/// every frequency's product is a real matrix product: Yᵀ_f (tiles × Cout/g) = Xᵀ_f (tiles ×
/// Cin/g) · Wᵀ_f, with all tiles of a block as rows.
///
/// Per image, group and block of tiles: (1) gather each channel's patches, r2c them (one batched
/// plan per channel), transpose to X[f][c][tile]; (2) one complex GEMM per frequency (cgemm3m),
/// split over our workers; (3) per output channel, transpose back, c2r every tile, keep its T×T
/// valid part (subsampled by the stride), scale and add the bias. N is picked per layer by a cost
/// model over 8, 16 and 32 (see `Geometry.choose`); `tile` fixes it for measurements.
public struct FFTTiledConvolution: ConvolutionAlgorithm {
    /// Forces the transform size (8, 16 or 32); nil picks it per layer.
    public let tile: Int?

    public init(tile: Int? = nil) {
        precondition(tile == nil || [8, 16, 32].contains(tile!), "fft-tiled transform size must be 8, 16 or 32")
        self.tile = tile
    }

    public var name: String { tile.map { "fft-tiled-\($0)" } ?? "fft-tiled" }
    public var summary: String { "overlap-save FFT tiles of 8, 16 or 32 (FFTW) + one complex GEMM per frequency over all tiles; any kernel whose dilated extent fits a 32 tile; forward" }
    public var errorModel: ErrorModel {
        ErrorModel(exactOnIntegers: false, perTerm: 1, constant: 16, mixing: .wholePlane, underflowGrowth: 16)
    }

    /// The transform size the cost model picks for `conv` (nil when no tile fits).
    public static func transformSize(for conv: ConvDescriptor) -> Int? {
        Geometry.choose(conv, forced: nil)?.n
    }

    public func support(for c: ConvDescriptor) -> Support {
        if c.transposed { return .unsupported("transposed convolution (direct and im2col-gemm cover it)") }
        if Geometry.choose(c, forced: tile) == nil {
            return .unsupported("dilated kernel extent \((c.kernelHeight - 1) * c.dilationHeight + 1)x\((c.kernelWidth - 1) * c.dilationWidth + 1) leaves no output in a \(tile ?? 32)-point tile, or its spectra exceed the \(AlgorithmOptions.defaultMemoryCapBytes >> 20) MiB cap")
        }
        return .supported
    }

    public func prepare(_ conv: ConvDescriptor, weights: Tensor, bias: Tensor?,
                        options: AlgorithmOptions) throws -> any PreparedConvolution {
        try checkPrepare(conv, weights: weights, bias: bias)
        // The cap and thread count of this preparation, checked before anything is allocated.
        guard let g = Geometry.choose(conv, forced: tile, capBytes: options.memoryCapBytes, workers: options.threads) else {
            if let smallest = Geometry.choose(conv, forced: tile, capBytes: .max, workers: options.threads) {
                throw ConvolutionError.memoryCapExceeded(algorithm: name, neededBytes: smallest.bytes(conv, workers: options.threads),
                                                         capBytes: options.memoryCapBytes)
            }
            throw ConvolutionError.unsupported(algorithm: name, reason: support(for: conv).reason ?? "")
        }
        return try Prepared(conv, g, weights: weights, bias: conv.hasBias ? bias : nil, threads: options.threads)
    }

    struct Geometry {
        /// Transform size, valid stride-1 outputs per tile and axis, tiles per axis.
        let n: Int, th: Int, tw: Int, tilesH: Int, tilesW: Int
        var tiles: Int { tilesH * tilesW }
        var frequencies: Int { n * (n / 2 + 1) }

        /// Bytes a preparation holds: spectra, X and Y of one block, one worker's patches.
        func bytes(_ c: ConvDescriptor, workers: Int) -> Int {
            let f = frequencies, block = blockTiles
            let spectra = 2 * c.groups * f * c.inChannelsPerGroup * c.outChannelsPerGroup
            let buffers = 2 * f * (c.inChannelsPerGroup + c.outChannelsPerGroup) * block
            return (spectra + buffers + workers * block * (n * n + 2 * f)) * MemoryLayout<Float>.stride
        }

        /// Blocks of at most 256 tiles keep X and Y for wide layers in the tens of MiB.
        var blockTiles: Int {
            let blocks = (tiles + 255) / 256
            return (tiles + blocks - 1) / blocks
        }

        /// The N of 8, 16, 32 (within the memory cap) with the lowest estimated cost, in flops:
        /// transforms ≈ 40·N²·log₂N per channel and tile (FFTW at these sizes runs near a tenth of
        /// the GEMM's rate), products 6 per complex multiply-add (cgemm3m), and reading the spectra
        /// once per block at 6 flops a byte (about the machine's SGEMM rate over its memory
        /// bandwidth) — without that term one 16-point tile on a 14×14 map looked cheaper than nine
        /// 8-point ones and ran 1.4× slower (a matrix-vector product per frequency).
        static func choose(_ c: ConvDescriptor, forced: Int?, capBytes: Int = AlgorithmOptions.defaultMemoryCapBytes,
                           workers: Int = 1) -> Geometry? {
            let spanH = (c.kernelHeight - 1) * c.dilationHeight, spanW = (c.kernelWidth - 1) * c.dilationWidth
            let rows = (c.outHeight - 1) * c.strideHeight + 1, cols = (c.outWidth - 1) * c.strideWidth + 1
            var best: (Double, Geometry)?
            for n in forced.map({ [$0] }) ?? [8, 16, 32] where n > spanH && n > spanW {
                let th = min(n - spanH, rows), tw = min(n - spanW, cols)
                let g = Geometry(n: n, th: th, tw: tw, tilesH: (rows + th - 1) / th, tilesW: (cols + tw - 1) / tw)
                if g.bytes(c, workers: workers) > capBytes { continue }
                let log = Double(n.trailingZeroBitCount)
                let transforms = Double(g.tiles * (c.inChannels + c.outChannels) * n * n) * 40 * log
                let products = Double(g.tiles * g.frequencies * c.inChannelsPerGroup * c.outChannels) * 6
                let blocks = Double((g.tiles + 255) / 256)
                let spectra = blocks * Double(g.frequencies * c.inChannelsPerGroup * c.outChannels * 8) * 6
                let cost = transforms + products + spectra
                if best == nil || cost < best!.0 { best = (cost, g) }
            }
            return best?.1
        }
    }

    final class Prepared: PreparedConvolution, WorkspaceExposing, PhaseClocked {
        let descriptor: ConvDescriptor
        let g: Geometry
        let threads: Int
        let blockTiles: Int
        /// conj(W) per group and frequency as column-major Cout/g × Cin/g.
        let spectra: Workspace
        let bias: [Float]
        /// X (F × Cin/g × block), Y (F × Cout/g × block), per worker patches and spectra.
        let buffers: Workspace, scratch: Workspace
        let workerFloats: Int
        let forwardPlan: OpaquePointer, inversePlan: OpaquePointer
        var clock = PhaseClock(["forward transforms", "spectral products", "inverse transforms"])

        init(_ c: ConvDescriptor, _ g: Geometry, weights: Tensor, bias: Tensor?, threads: Int) throws {
            descriptor = c
            self.g = g
            self.threads = threads
            self.bias = bias?.scalars ?? [Float](repeating: 0, count: c.outChannels)
            let cg = c.inChannelsPerGroup, kg = c.outChannelsPerGroup, f = g.frequencies
            blockTiles = g.blockTiles
            let planner = FFTPlanner.shared
            forwardPlan = try planner.plan(.init(forward: true, height: g.n, width: g.n, count: blockTiles, realDistance: g.n * g.n,
                                                 complexStride: 1, complexDistance: f, rigor: .estimate))
            inversePlan = try planner.plan(.init(forward: false, height: g.n, width: g.n, count: blockTiles, realDistance: g.n * g.n,
                                                 complexStride: 1, complexDistance: f, rigor: .estimate))
            buffers = Workspace(count: 2 * f * (cg + kg) * blockTiles)
            workerFloats = blockTiles * (g.n * g.n + 2 * f)
            scratch = Workspace(count: workerFloats * max(1, threads))
            spectra = Workspace(count: 2 * c.groups * f * cg * kg)
            try transformKernels(weights)
        }

        private func transformKernels(_ weights: Tensor) throws {
            let c = descriptor, g = g, n = g.n, f = g.frequencies
            let cg = c.inChannelsPerGroup, kg = c.outChannelsPerGroup
            let plan = try FFTPlanner.shared.plan(.init(forward: true, height: n, width: n, count: 1, realDistance: n * n,
                                                        complexStride: 1, complexDistance: f, rigor: .estimate))
            let real = Workspace(count: n * n), spectrum = Workspace(count: 2 * f)
            weights.withUnsafeBufferPointer { w in
                for oc in 0..<c.outChannels {
                    let group = oc / kg, k = oc % kg
                    for ci in 0..<cg {
                        real.pointer.update(repeating: 0, count: n * n)
                        let src = w.baseAddress! + (oc * cg + ci) * c.kernelHeight * c.kernelWidth
                        for kh in 0..<c.kernelHeight {
                            for kw in 0..<c.kernelWidth {
                                real.pointer[kh * c.dilationHeight * n + kw * c.dilationWidth] = src[kh * c.kernelWidth + kw]
                            }
                        }
                        spectrum.pointer.withMemoryRebound(to: fftwf_complex.self, capacity: f) {
                            fftwf_execute_dft_r2c(plan, real.pointer, $0)
                        }
                        for fi in 0..<f {
                            let index = ((group * f + fi) * cg + ci) * kg + k
                            spectra.pointer[2 * index] = spectrum.pointer[2 * fi]
                            spectra.pointer[2 * index + 1] = -spectrum.pointer[2 * fi + 1]   // conj: correlation
                        }
                    }
                }
            }
        }

        var workspaceBytes: Int { spectra.bytes + buffers.bytes + scratch.bytes }
        var workspaces: [Workspace] { [buffers, scratch] }

        func run(_ input: Tensor, into output: inout Tensor) throws {
            try checkRun(input, output)
            let c = descriptor, g = g
            SGEMM.setThreads(1)
            let cg = c.inChannelsPerGroup, kg = c.outChannelsPerGroup
            let x = buffers.pointer, y = x + 2 * g.frequencies * cg * blockTiles
            clock.start()
            input.withUnsafeBufferPointer { xb in
                output.withUnsafeMutableBufferPointer { yb in
                    for n in 0..<c.batch {
                        for group in 0..<c.groups {
                            let image = xb.baseAddress! + (n * c.inChannels + group * cg) * c.inHeight * c.inWidth
                            let out = yb.baseAddress! + (n * c.outChannels + group * kg) * c.outHeight * c.outWidth
                            var first = 0
                            while first < g.tiles {
                                let count = min(blockTiles, g.tiles - first)
                                forward(image, tiles: first..<(first + count), into: x)
                                clock.lap(0)
                                multiply(x, into: y, group: group, tiles: count)
                                clock.lap(1)
                                inverse(y, tiles: first..<(first + count), into: out, firstChannel: group * kg)
                                clock.lap(2)
                                first += count
                            }
                        }
                    }
                }
            }
        }

        /// X[f][c][t] for the block's tiles of every input channel of the group.
        private func forward(_ image: UnsafePointer<Float>, tiles range: Range<Int>, into x: UnsafeMutablePointer<Float>) {
            let c = descriptor, g = g, n = g.n, f = g.frequencies, cg = c.inChannelsPerGroup
            let count = range.count
            let shared = UncheckedSendable((image, x, scratch.pointer))
            parallelForWorkers(threads: threads, count: cg) { worker, channels in
                let (image, x, s) = shared.value
                let patches = s + worker * self.workerFloats, spectrum = patches + self.blockTiles * n * n
                for ch in channels {
                    let plane = image + ch * c.inHeight * c.inWidth
                    for (j, tile) in range.enumerated() {
                        let r0 = (tile / g.tilesW) * g.th - c.padTop, c0 = (tile % g.tilesW) * g.tw - c.padLeft
                        let patch = patches + j * n * n
                        for r in 0..<n {
                            let row = patch + r * n, ir = r0 + r
                            if ir < 0 || ir >= c.inHeight {
                                row.update(repeating: 0, count: n)
                                continue
                            }
                            let src = plane + ir * c.inWidth
                            for q in 0..<n {
                                let ic = c0 + q
                                row[q] = ic >= 0 && ic < c.inWidth ? src[ic] : 0
                            }
                        }
                    }
                    // Patches past the block's count (the last block) are transformed too: zero them.
                    if count < self.blockTiles {
                        (patches + count * n * n).update(repeating: 0, count: (self.blockTiles - count) * n * n)
                    }
                    spectrum.withMemoryRebound(to: fftwf_complex.self, capacity: self.blockTiles * f) {
                        fftwf_execute_dft_r2c(self.forwardPlan, patches, $0)
                    }
                    for fi in 0..<f {
                        let dst = x + 2 * ((fi * cg + ch) * self.blockTiles)
                        for j in 0..<count {
                            dst[2 * j] = spectrum[2 * (j * f + fi)]
                            dst[2 * j + 1] = spectrum[2 * (j * f + fi) + 1]
                        }
                    }
                }
            }
        }

        /// Yᵀ_f (tiles × Cout/g) = Xᵀ_f (tiles × Cin/g) · Wᵀ_f for every frequency f.
        private func multiply(_ x: UnsafeMutablePointer<Float>, into y: UnsafeMutablePointer<Float>, group: Int, tiles: Int) {
            let c = descriptor, g = g, f = g.frequencies
            let cg = c.inChannelsPerGroup, kg = c.outChannelsPerGroup, ld = blockTiles
            let shared = UncheckedSendable((x, y, spectra.pointer + 2 * group * f * cg * kg))
            parallelFor(threads: threads, count: f) { frequencies in
                let (x, y, w) = shared.value
                var one: (Float, Float) = (1, 0), zero: (Float, Float) = (0, 0)
                for fi in frequencies {
                    let gemm = tiles >= 8 ? cblas_cgemm3m : cblas_cgemm
                    gemm(CblasColMajor, CblasNoTrans, CblasTrans, Int32(tiles), Int32(kg), Int32(cg),
                         &one, x + 2 * fi * cg * ld, Int32(ld), w + 2 * fi * cg * kg, Int32(kg),
                         &zero, y + 2 * fi * kg * ld, Int32(ld))
                }
            }
        }

        /// Per output channel: Y[f][k][t] back to per-tile spectra, c2r, keep the valid part.
        private func inverse(_ y: UnsafeMutablePointer<Float>, tiles range: Range<Int>, into out: UnsafeMutablePointer<Float>,
                             firstChannel: Int) {
            let c = descriptor, g = g, n = g.n, f = g.frequencies, kg = c.outChannelsPerGroup
            let count = range.count, scale = 1 / Float(n * n)
            let shared = UncheckedSendable((y, out, scratch.pointer))
            parallelForWorkers(threads: threads, count: kg) { worker, channels in
                let (y, out, s) = shared.value
                let patches = s + worker * self.workerFloats, spectrum = patches + self.blockTiles * n * n
                for k in channels {
                    for fi in 0..<f {
                        let src = y + 2 * ((fi * kg + k) * self.blockTiles)
                        for j in 0..<self.blockTiles {
                            spectrum[2 * (j * f + fi)] = j < count ? src[2 * j] : 0
                            spectrum[2 * (j * f + fi) + 1] = j < count ? src[2 * j + 1] : 0
                        }
                    }
                    spectrum.withMemoryRebound(to: fftwf_complex.self, capacity: self.blockTiles * f) {
                        fftwf_execute_dft_c2r(self.inversePlan, $0, patches)
                    }
                    let plane = out + k * c.outHeight * c.outWidth, b = self.bias[firstChannel + k]
                    for (j, tile) in range.enumerated() {
                        let patch = patches + j * n * n
                        let r0 = (tile / g.tilesW) * g.th, c0 = (tile % g.tilesW) * g.tw
                        // Stride-1 positions r0 ..< r0 + th of this tile that are kept outputs.
                        var r = (r0 + c.strideHeight - 1) / c.strideHeight * c.strideHeight
                        while r < r0 + g.th && r / c.strideHeight < c.outHeight {
                            let dst = plane + (r / c.strideHeight) * c.outWidth, row = patch + (r - r0) * n
                            var q = (c0 + c.strideWidth - 1) / c.strideWidth * c.strideWidth
                            while q < c0 + g.tw && q / c.strideWidth < c.outWidth {
                                dst[q / c.strideWidth] = row[q - c0] * scale + b
                                q += c.strideWidth
                            }
                            r += c.strideHeight
                        }
                    }
                }
            }
        }
    }
}
