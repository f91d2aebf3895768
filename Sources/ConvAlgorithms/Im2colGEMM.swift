import ConvCore

/// im2col + GEMM (Chellapilla et al. 2006, "High Performance Convolutional Neural Networks for
/// Document Processing"): unfold the receptive fields into a column matrix and do one SGEMM per
/// group per image per band. Transposed convolution is the adjoint: GEMM with the transposed weights,
/// then col2im (fold). Every geometry is supported.
///
/// Bands: a band holds whole rows, sized so its column matrix fits in `cacheBytes` (2 MiB, about
/// L2 + a share of L3, so the GEMM reads it back from cache) unless that leaves fewer than
/// `minColumns` (512) GEMM columns, which would starve SGEMM; never more than `maxColumnBytes`.
/// Workspace bound: at most `maxColumnBytes` (16 MiB), or one row's worth (forward K·Wout floats,
/// transposed (Cout/g)·kH·kW·Win floats) when a single row is larger; tap regions (below) at most
/// `maxRegionColumnBytes` (32 MiB) or one row.
///
/// Forward layers whose kernel taps read only padding for at least 15% of the multiply-accumulates
/// (dilated kernels on small maps) run region by region over the taps that land inside the image
/// (`TapRegions`); the workspace then also holds each region's weights and one band's GEMM output.
///
/// Grouped forward layers with at least two groups per thread run their groups in parallel, each
/// worker unfolding into its own column buffer and calling a one-thread SGEMM: a depthwise layer's
/// per-group GEMM (1 × 9 × 361 for Xception's 728 channels) is far too small for OpenBLAS's
/// threads, and handing the cores back and forth between its pool and ours 728 times per run cost
/// 8–25 ms against 0.8 ms on one thread.
public struct Im2colGEMM: ConvolutionAlgorithm {
    public var maxColumnBytes: Int
    public var cacheBytes: Int
    public var minColumns: Int
    /// Column budget of one tap region (`TapRegions`): a region whose unfold fits is one GEMM.
    public var maxRegionColumnBytes: Int

    public init(maxColumnBytes: Int = 16 << 20, cacheBytes: Int = 2 << 20, minColumns: Int = 512,
                maxRegionColumnBytes: Int = 32 << 20) {
        self.maxColumnBytes = maxColumnBytes
        self.cacheBytes = cacheBytes
        self.minColumns = minColumns
        self.maxRegionColumnBytes = maxRegionColumnBytes
    }

    /// Rows per band for rows of `rowWidth` columns with `k` floats per column.
    func bandRows(total: Int, rowWidth: Int, k: Int) -> Int {
        let columnBytes = k * MemoryLayout<Float>.stride
        let columns = min(max(cacheBytes / columnBytes, minColumns), maxColumnBytes / columnBytes)
        return max(1, min(total, columns / max(1, rowWidth)))
    }

    /// Rows per band of a tap region: all of them when the region's unfold fits in
    /// `maxRegionColumnBytes`, else the fewest equal bands that fit. Regions are small (ASPP's on a
    /// 64×64 map: 256–784 pixels) and their K large (2048 channels × up to 9 taps), so cache-sized
    /// bands cut them into GEMMs of 32–227 columns, with a short last band; whole regions (19–26 MB
    /// of columns at rates 24 and 36) took rate 24 from 146 to 131 ms.
    func regionBandRows(total: Int, rowWidth: Int, k: Int) -> Int {
        let rowBytes = max(1, k * rowWidth * MemoryLayout<Float>.stride)
        let fitting = max(1, min(total, maxRegionColumnBytes / rowBytes))
        let bands = (total + fitting - 1) / fitting
        return (total + bands - 1) / bands
    }

    public var name: String { "im2col-gemm" }
    public var summary: String { "unfold + OpenBLAS SGEMM per group and band; transposed as GEMM + col2im; every geometry" }
    public var errorModel: ErrorModel { .float32Summation }

    public func support(for conv: ConvDescriptor) -> Support { .supported }

    public func prepare(_ conv: ConvDescriptor, weights: Tensor, bias: Tensor?,
                        options: AlgorithmOptions) throws -> any PreparedConvolution {
        try checkPrepare(conv, weights: weights, bias: bias)
        return Prepared(conv, weights: weights, bias: conv.hasBias ? bias : nil, threads: options.threads, plan: self)
    }

    final class Prepared: PreparedConvolution, WorkspaceExposing {
        let descriptor: ConvDescriptor
        let weights: Tensor
        let bias: Tensor?
        let threads: Int
        let bandRows: Int
        let columns: Workspace
        let regions: TapRegions?
        let regionOutput: Workspace
        /// Workers that each run whole groups (1: groups in turn, each GEMM on `threads`).
        let groupWorkers: Int

        init(_ c: ConvDescriptor, weights: Tensor, bias: Tensor?, threads: Int, plan: Im2colGEMM) {
            descriptor = c
            self.weights = weights
            self.bias = bias
            self.threads = threads
            if c.transposed {
                let rowsPerPixel = c.outChannelsPerGroup * c.kernelHeight * c.kernelWidth
                bandRows = plan.bandRows(total: c.inHeight, rowWidth: c.inWidth, k: rowsPerPixel)
                regions = nil
                columns = Workspace(count: rowsPerPixel * bandRows * c.inWidth)
                groupWorkers = 1
            } else {
                let k = c.inChannelsPerGroup * c.kernelHeight * c.kernelWidth
                bandRows = plan.bandRows(total: c.outHeight, rowWidth: c.outWidth, k: k)
                regions = TapRegions(c, weights: weights, plan: plan)
                groupWorkers = regions == nil && threads > 1 && c.groups >= 2 * threads ? threads : 1
                columns = Workspace(count: regions?.columnFloats ?? k * bandRows * c.outWidth * groupWorkers)
            }
            regionOutput = Workspace(count: regions?.outputFloats ?? 0)
        }

        var workspaceBytes: Int {
            columns.bytes + regionOutput.bytes + (regions?.regions.map { $0.weights.count * 4 }.reduce(0, +) ?? 0)
        }
        var workspaces: [Workspace] { [columns, regionOutput] }

        /// Images × groups in turn, each GEMM on `threads` (OpenBLAS's pool), or with `groupWorkers`
        /// whole groups per worker, each on its own column buffer with a one-thread GEMM.
        func run(_ input: Tensor, into output: inout Tensor) throws {
            try checkRun(input, output)
            let gemmThreads = groupWorkers > 1 ? 1 : threads
            SGEMM.setThreads(gemmThreads)
            let c = descriptor
            let columnFloats = columns.count / groupWorkers
            let outPlane = c.outHeight * c.outWidth
            input.withUnsafeBufferPointer { x in
                weights.withUnsafeBufferPointer { w in
                    output.withUnsafeMutableBufferPointer { y in
                        let biasPointer = bias?.withUnsafeBufferPointer { $0.baseAddress }
                        for n in 0..<c.batch {
                            OutputInit.fill(y.baseAddress! + n * c.outChannels * outPlane, channels: c.outChannels,
                                            plane: outPlane, bias: biasPointer)
                        }
                        let shared = UncheckedSendable((x.baseAddress!, w.baseAddress!, y.baseAddress!, columns.pointer))
                        parallelForWorkers(threads: groupWorkers, count: c.batch * c.groups) { worker, items in
                            let (x, w, y, col) = shared.value
                            for item in items {
                                let n = item / c.groups, g = item % c.groups
                                let yImage = y + n * c.outChannels * outPlane
                                if c.transposed {
                                    transposedGroup(x, w, yImage, col, n, g)
                                } else {
                                    forwardGroup(x, w, yImage, col + worker * columnFloats, n, g, threads: gemmThreads)
                                }
                            }
                        }
                    }
                }
            }
        }

        private func forwardGroup(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ yImage: UnsafeMutablePointer<Float>,
                                  _ col: UnsafeMutablePointer<Float>, _ n: Int, _ g: Int, threads: Int) {
            let c = descriptor
            let (cinG, coutG) = (c.inChannelsPerGroup, c.outChannelsPerGroup)
            let k = cinG * c.kernelHeight * c.kernelWidth
            let image = x + (n * c.inChannels + g * cinG) * c.inHeight * c.inWidth
            let outPlane = c.outHeight * c.outWidth
            if let regions {
                regions.run(c, image: image, group: g, yGroup: yImage + g * coutG * outPlane, col: col,
                            scratch: regionOutput.pointer, threads: threads)
                return
            }
            var oy = 0
            while oy < c.outHeight {
                let rows = oy..<min(c.outHeight, oy + bandRows)
                Im2col.unfold(c, image: image, rows: rows, col: col, threads: threads)
                // Y_g[coutG, band] += W_g[coutG, K] · col[K, band]   (NCHW rows, ldc = Hout·Wout)
                SGEMM.multiply(m: coutG, n: rows.count * c.outWidth, k: k,
                               a: w + g * coutG * k, lda: k, b: col, ldb: rows.count * c.outWidth,
                               c: yImage + g * coutG * outPlane + oy * c.outWidth, ldc: outPlane, beta: 1,
                               releasingCores: threads > 1)
                oy = rows.upperBound
            }
        }

        private func transposedGroup(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ yImage: UnsafeMutablePointer<Float>,
                                     _ col: UnsafeMutablePointer<Float>, _ n: Int, _ g: Int) {
            let c = descriptor
            let (cinG, coutG) = (c.inChannelsPerGroup, c.outChannelsPerGroup)
            let m = coutG * c.kernelHeight * c.kernelWidth
            let image = x + (n * c.inChannels + g * cinG) * c.inHeight * c.inWidth
            let inPlane = c.inHeight * c.inWidth
            var iy = 0
            while iy < c.inHeight {
                let rows = iy..<min(c.inHeight, iy + bandRows)
                let pixels = rows.count * c.inWidth
                // col[(ocg,ky,kx), band] = W_g[cinG, M]ᵀ · X_g[cinG, band]   (IOHW weights)
                SGEMM.multiply(m: m, n: pixels, k: cinG, a: w + g * cinG * m, lda: m, transposeA: true,
                               b: image + iy * c.inWidth, ldb: inPlane, c: col, ldc: pixels, beta: 0)
                Im2col.fold(c, col: col, rows: rows, output: yImage + g * coutG * c.outHeight * c.outWidth,
                            threads: threads)
                iy = rows.upperBound
            }
        }
    }
}
