import ConvCore
import Dispatch

/// Winograd minimal filtering F(m×m, 3×3) for 3×3 stride-1 convolutions, dense or dilated
/// (Lavin & Gray 2016; dilation as d² interleaved dense problems, see `WinogradTiles`).
///
/// `prepare` transforms every kernel once (G g Gᵀ in float64, rounded to float32) into α² matrices
/// U_ξ (Cout/g × Cin/g). `run` takes the output tiles in blocks; per block:
/// 1. input transform: each input channel's rows are staged by sub-grid (`SubgridPlane`), so every
///    tile is an α×α block of neighbours; eight tiles' rows load as vectors and a transpose turns
///    them into vectors across the tiles; their α² values (Bᵀ d B) are written as α² matrices
///    V_ξ (Cin/g × tiles), parallel over channels (F(6×6)'s transforms with the sums its symmetric
///    points share, `WinogradF6x6Rows`; the others' from their matrices' nonzero terms);
/// 2. multiply: α² SGEMMs M_ξ = U_ξ · V_ξ on OpenBLAS, single-threaded each, split over the workers;
/// 3. output transform: Aᵀ M A plus bias, parallel over channels; with no column dilation a
///    transpose turns eight tiles' values back into one vector per tile row, with it runs of
///    neighbouring sub-grids' tiles store each output position as one vector.
/// Blocks hold about 8 MiB of V and M (at least 96 tiles), so for all but the widest layers a
/// block's matrices stay in the last-level cache; where U is larger, up to twice U.
public struct WinogradConvolution: ConvolutionAlgorithm {
    public let transform: WinogradTransform
    /// Error constant c = perTerm·K + constant, from the measured accuracy table (README).
    let measuredError: ErrorModel
    /// At most this many tiles per block (tests: several blocks on a small layer).
    let blockTileLimit: Int?

    public init(_ transform: WinogradTransform, errorModel: ErrorModel) {
        self.init(transform, errorModel: errorModel, blockTileLimit: nil)
    }

    init(_ transform: WinogradTransform, errorModel: ErrorModel, blockTileLimit: Int?) {
        self.transform = transform
        self.measuredError = errorModel
        self.blockTileLimit = blockTileLimit
    }

    /// The three variants. Error constants: see the README's Winograd accuracy section; each is
    /// the measured worst error / (ε·Σ|x·w|) on the DeepLab v3 and ResNet-50 3×3 shapes, as a
    /// function of K, with a safety factor of 4.
    public static let f2x2 = WinogradConvolution(.f2x2_3x3, errorModel: errorModel(.f2x2_3x3, perTerm: 1, constant: 2))
    public static let f4x4 = WinogradConvolution(.f4x4_3x3, errorModel: errorModel(.f4x4_3x3, perTerm: 1, constant: 16))
    public static let f6x6 = WinogradConvolution(.f6x6_3x3, errorModel: errorModel(.f6x6_3x3, perTerm: 1, constant: 128))

    /// Tile mixing over m×m outputs; underflowed products amplified by at most ‖Aᵀ‖∞² (two passes
    /// of the output transform).
    static func errorModel(_ t: WinogradTransform, perTerm: Double, constant: Double) -> ErrorModel {
        let rowSums = (0..<t.m).map { i in (0..<t.alpha).reduce(0.0) { $0 + abs(t.outputTransform[i * t.alpha + $1]) } }
        let norm = rowSums.max() ?? 1
        return ErrorModel(exactOnIntegers: false, perTerm: perTerm, constant: constant,
                          mixing: .outputTile(t.m), underflowGrowth: norm * norm)
    }

    public var name: String { "winograd-f\(transform.m)x\(transform.m)-3x3" }
    public var summary: String {
        "Winograd F(\(transform.m)x\(transform.m),3x3): 3x3 stride 1, any padding, dilation via sub-grids, groups; points \(transform.points.map { Self.format($0) }.joined(separator: ", ")), inf"
    }
    public var errorModel: ErrorModel { measuredError }

    static func format(_ p: Double) -> String {
        p == p.rounded() ? String(Int(p)) : String(p)
    }

    public func support(for c: ConvDescriptor) -> Support {
        if c.kernelHeight != 3 || c.kernelWidth != 3 { return .unsupported("Winograd F(m,3x3) needs a 3x3 kernel") }
        if c.strideHeight != 1 || c.strideWidth != 1 { return .unsupported("Winograd needs stride 1 (a strided 3x3 wastes the tile)") }
        if c.transposed { return .unsupported("transposed convolution (direct and im2col-gemm cover it)") }
        return .supported
    }

    public func prepare(_ conv: ConvDescriptor, weights: Tensor, bias: Tensor?,
                        options: AlgorithmOptions) throws -> any PreparedConvolution {
        try checkPrepare(conv, weights: weights, bias: bias)
        return Prepared(conv, transform: transform, weights: weights, bias: conv.hasBias ? bias : nil, threads: options.threads,
                        blockTileLimit: blockTileLimit)
    }

    final class Prepared: PreparedConvolution, WorkspaceExposing, PhaseClocked {
        let descriptor: ConvDescriptor
        let threads: Int
        let m: Int, alpha: Int, xi: Int
        let tiles: WinogradTiles
        /// Tiles per block, and the leading dimension of V and M (a multiple of 8).
        let blockTiles: Int, ld: Int
        /// U: groups × α² × (Cout/g) × (Cin/g).
        let kernels: Workspace
        let bias: [Float]
        /// V (α² × Cin/g × ld) then M (α² × Cout/g × ld).
        let matrices: Workspace
        /// Per worker: α² × ld gather buffer and α² × ld (or α·m × ld) intermediate.
        let scratch: Workspace
        let scratchPerWorker: Int
        /// Per worker: the input plane of one channel laid out by sub-grid (`tiles.inputPlane`).
        /// Not exposed for poisoning: its padding positions are zeroed here once and never written.
        let stage: Workspace
        let stagePerWorker: Int
        let bt: SparseRows, at: SparseRows
        /// F(6×6, 3×3)'s own transforms apply (`WinogradF6x6Rows`).
        let f6x6: Bool
        var clock = PhaseClock(["input transform", "multiply", "output transform"])

        init(_ c: ConvDescriptor, transform t: WinogradTransform, weights: Tensor, bias: Tensor?, threads: Int, blockTileLimit: Int?) {
            descriptor = c
            self.threads = threads
            m = t.m; alpha = t.alpha; xi = alpha * alpha
            tiles = WinogradTiles(c, m: m)
            let cg = c.inChannelsPerGroup, kg = c.outChannelsPerGroup
            let perTile = xi * (cg + kg) * MemoryLayout<Float>.stride
            let kernelBytes = xi * kg * cg * MemoryLayout<Float>.stride
            // About 8 MiB of V and M per block, but at least 96 tiles: a single-threaded SGEMM needs
            // that many columns to run near its peak (wide layers such as ASPP's 2048 channels
            // overflow the cache at any useful block size). Every block reads all of U again (each
            // product packs its U_ξ), so where U is larger a block's V and M may grow to twice U:
            // DeepLab's dilated layers (U 16–128 MB, 144 tiles) ran 1.19–1.20× faster as one block
            // than as two. Blocks are then evened out so the last one is not a sliver.
            let blockBytes = max(8 << 20, 2 * kernelBytes)
            let target = min(max(blockBytes / perTile, 96), max(tiles.count, 1), blockTileLimit ?? .max)
            let blocks = (max(tiles.count, 1) + target - 1) / target
            blockTiles = (max(tiles.count, 1) + blocks - 1) / blocks
            ld = (blockTiles + 7) / 8 * 8
            bt = SparseRows(t.inputTransform, rows: alpha, columns: alpha)
            at = SparseRows(t.outputTransform, rows: m, columns: alpha)
            f6x6 = t == .f6x6_3x3

            let kernels = Workspace(count: c.groups * xi * kg * cg)
            let xi = xi
            weights.withUnsafeBufferPointer { w in
                for g in 0..<c.groups {
                    for k in 0..<kg {
                        for ci in 0..<cg {
                            let u = t.transformKernel(w.baseAddress! + ((g * kg + k) * cg + ci) * 9)
                            for e in 0..<xi {
                                kernels.pointer[((g * xi + e) * kg + k) * cg + ci] = Float(u[e])
                            }
                        }
                    }
                }
            }
            self.kernels = kernels
            self.bias = bias?.scalars ?? [Float](repeating: 0, count: c.outChannels)
            matrices = Workspace(count: xi * (cg + kg) * ld)
            scratchPerWorker = 2 * xi * ld
            scratch = Workspace(count: scratchPerWorker * max(1, threads))
            stagePerWorker = (tiles.inputPlane.count + 15) / 16 * 16
            stage = Workspace(count: stagePerWorker * max(1, threads))
        }

        var workspaceBytes: Int { kernels.bytes + matrices.bytes + scratch.bytes + stage.bytes }
        var workspaces: [Workspace] { [matrices, scratch] }

        func run(_ input: Tensor, into output: inout Tensor) throws {
            try run(input, into: &output, relu: false, threads: threads)
        }

        /// The ReLU is applied as the output transform scatters each tile.
        func run(_ input: Tensor, into output: inout Tensor, relu: Bool, threads _: Int) throws {
            try checkRun(input, output)
            let c = descriptor
            // The α² products run on our own workers, one single-threaded SGEMM each: OpenBLAS's
            // pool threads spin (sched_yield) after each call and would steal both cores from the
            // transforms that follow. They run inside our region, so they keep our helpers awake:
            // putting them to sleep after every product (a depthwise layer has 728 groups × three
            // regions) made each next region wait for a wake-up, 4× the layer's time.
            SGEMM.setThreads(1)
            let cg = c.inChannelsPerGroup, kg = c.outChannelsPerGroup
            let inPlane = c.inHeight * c.inWidth, outPlane = c.outHeight * c.outWidth
            input.withUnsafeBufferPointer { xb in
                output.withUnsafeMutableBufferPointer { yb in
                    let x = xb.baseAddress!, y = yb.baseAddress!
                    let v = matrices.pointer, mm = matrices.pointer + xi * cg * ld
                    clock.start()
                    for n in 0..<c.batch {
                        for g in 0..<c.groups {
                            let xg = x + (n * c.inChannels + g * cg) * inPlane
                            let yg = y + (n * c.outChannels + g * kg) * outPlane
                            var first = 0
                            while first < tiles.count {
                                let count = min(blockTiles, tiles.count - first)
                                inputTransform(xg, tiles: first..<(first + count), into: v)
                                clock.lap(0)
                                let u = UncheckedSendable(kernels.pointer + g * xi * kg * cg)
                                let vm = UncheckedSendable((v, mm))
                                let ld = ld
                                parallelFor(threads: threads, count: xi) { products in
                                    let (v, mm) = vm.value
                                    for e in products {
                                        SGEMM.multiply(m: kg, n: count, k: cg, a: u.value + e * kg * cg, lda: cg,
                                                       b: v + e * cg * ld, ldb: ld, c: mm + e * kg * ld, ldc: ld, beta: 0,
                                                       releasingCores: false)
                                    }
                                }
                                clock.lap(1)
                                outputTransform(mm, tiles: first..<(first + count), into: yg, firstChannel: g * kg, relu: relu)
                                clock.lap(2)
                                first += count
                            }
                        }
                    }
                }
            }
        }

        /// V[ξ][c][tile] for every input channel of one group and the tiles of one block.
        private func inputTransform(_ x: UnsafePointer<Float>, tiles range: Range<Int>, into v: UnsafeMutablePointer<Float>) {
            let c = descriptor, cg = c.inChannelsPerGroup
            // The input rows this block's tiles read.
            var low = Int.max, high = Int.min
            for tile in range {
                low = min(low, Int(tiles.inRow[tile]))
                high = max(high, Int(tiles.inRow[tile]) + c.dilationHeight * (alpha - 1))
            }
            let rows = max(low, 0)..<max(min(high + 1, c.inHeight), max(low, 0))
            let shared = UncheckedSendable((x, v, scratch.pointer, stage.pointer))
            parallelForWorkers(threads: threads, count: cg) { worker, channels in
                let (x, v, s, st) = shared.value
                let gather = s + worker * scratchPerWorker, half = gather + xi * ld
                let plane = st + worker * self.stagePerWorker
                for ch in channels {
                    self.tiles.inputPlane.stage(x + ch * c.inHeight * c.inWidth, imageWidth: c.inWidth, rows: rows, into: plane)
                    self.gatherTiles(plane, tiles: range, into: gather)
                    let vectors = (range.count + 7) / 8
                    if self.f6x6 {
                        for l in 0..<alpha {
                            WinogradF6x6Rows.input(gather + l * ld, stride: alpha * ld, into: half + l * ld,
                                                   dstStride: alpha * ld, vectors: vectors)
                        }
                        for i in 0..<alpha {
                            WinogradF6x6Rows.input(half + i * alpha * ld, stride: ld, into: v + (i * alpha * cg + ch) * ld,
                                                   dstStride: cg * ld, vectors: vectors)
                        }
                        continue
                    }
                    // Rows: half[i][l][·] = Σ_t Bᵀ[i][t] · gather[t][l][·]
                    for i in 0..<alpha {
                        for l in 0..<alpha {
                            bt.combine(row: i, source: gather + l * ld, stride: alpha * ld,
                                       into: half + (i * alpha + l) * ld, vectors: vectors)
                        }
                    }
                    // Columns: V[i·α + k][ch][·] = Σ_l Bᵀ[k][l] · half[i][l][·]
                    for i in 0..<alpha {
                        for k in 0..<alpha {
                            bt.combine(row: k, source: half + i * alpha * ld, stride: ld,
                                       into: v + ((i * alpha + k) * cg + ch) * ld, vectors: vectors)
                        }
                    }
                }
            }
        }

        /// gather[t][l][tile] = the staged plane at the tile's offset + t·width + l: eight tiles at a
        /// time, each tile row one vector load, turned by a transpose into vectors across the tiles.
        private func gatherTiles(_ plane: UnsafePointer<Float>, tiles range: Range<Int>, into gather: UnsafeMutablePointer<Float>) {
            let a = alpha, ld = ld, width = tiles.inputPlane.width
            let offset = tiles.stagedIn + range.lowerBound
            let n = range.count
            var j = 0
            while j + 8 <= n {
                let o = offset + j
                var p = plane
                for t in 0..<a {
                    var block = Rows8x8(loading: p, Int(o[0]), Int(o[1]), Int(o[2]), Int(o[3]),
                                        Int(o[4]), Int(o[5]), Int(o[6]), Int(o[7]))
                    block.transpose()
                    block.store(to: gather + t * a * ld + j, stride: ld, count: a)
                    p += width
                }
                j += 8
            }
            for jj in j..<n {
                let src = plane + Int(offset[jj])
                for t in 0..<a {
                    for l in 0..<a { gather[(t * a + l) * ld + jj] = src[t * width + l] }
                }
            }
            // Lanes past the block's last tile: zeroed so the input transform works on finite values;
            // the SGEMM reads only `count` columns, and the output lanes past it are never scattered.
            let padded = (n + 7) / 8 * 8
            if padded > n {
                for e in 0..<(a * a) { (gather + e * ld + n).update(repeating: 0, count: padded - n) }
            }
        }

        /// Output channels of one group for the tiles of one block: Y = Aᵀ M A + bias.
        private func outputTransform(_ mm: UnsafePointer<Float>, tiles range: Range<Int>,
                                     into y: UnsafeMutablePointer<Float>, firstChannel: Int, relu: Bool) {
            let c = descriptor, kg = c.outChannelsPerGroup
            let shared = UncheckedSendable((mm, y, scratch.pointer))
            let outPlane = c.outHeight * c.outWidth
            parallelForWorkers(threads: threads, count: kg) { worker, channels in
                let (mm, y, s) = shared.value
                let half = s + worker * scratchPerWorker, rows = half + alpha * m * ld
                let vectors = (range.count + 7) / 8
                for k in channels {
                    if self.f6x6 {
                        for i in 0..<alpha {
                            WinogradF6x6Rows.output(mm + (i * alpha * kg + k) * ld, stride: kg * ld, into: half + i * m * ld,
                                                    dstStride: ld, vectors: vectors)
                        }
                        let b = self.bias[firstChannel + k]
                        for j in 0..<m {
                            WinogradF6x6Rows.output(half + j * ld, stride: m * ld, into: rows + j * ld, dstStride: m * ld,
                                                    vectors: vectors, bias: b)
                        }
                    } else {
                        // half[i][j][·] = Σ_l M[i·α + l][k][·] · Aᵀ[j][l]
                        for i in 0..<alpha {
                            for j in 0..<m {
                                at.combine(row: j, source: mm + (i * alpha * kg + k) * ld, stride: kg * ld,
                                           into: half + (i * m + j) * ld, vectors: vectors)
                            }
                        }
                        // rows[oi][j][·] = bias + Σ_i Aᵀ[oi][i] · half[i][j][·]
                        let b = self.bias[firstChannel + k]
                        for oi in 0..<m {
                            for j in 0..<m {
                                at.combine(row: oi, source: half + j * ld, stride: m * ld,
                                           into: rows + (oi * m + j) * ld, vectors: vectors, bias: b)
                            }
                        }
                    }
                    if c.dilationWidth == 1 {
                        self.scatterVectors(rows, tiles: range, into: y + k * outPlane, relu: relu)
                    } else {
                        self.scatterRuns(rows, tiles: range, into: y + k * outPlane, relu: relu)
                    }
                }
            }
        }

        /// For layers with no column dilation, eight tiles at a time: the m values of one output row
        /// of each tile come out of a transpose as one vector per tile, stored as a whole. Where the
        /// next tile continues the row (`continues`) all eight lanes are stored, the last 8 − m
        /// over its first columns, which it overwrites after; else the row's m (or fewer) values.
        /// The tiles' places are read once per eight tiles rather than once per row: with them
        /// read per row and partial stores of six lanes, the scatter took 60% of the output
        /// transform of Xception's 32→64 layer at 145×145, its loop mostly integer bookkeeping.
        private func scatterVectors(_ rows: UnsafePointer<Float>, tiles range: Range<Int>, into y: UnsafeMutablePointer<Float>,
                                    relu: Bool) {
            let c = descriptor, ow = c.outWidth, dh = c.dilationHeight
            let m = m, ld = ld
            let t = tiles
            let n = range.count
            /// Whether the tile's last 8 − m lanes may be stored past its row: the next tile
            /// continues the row, covers them, and is stored later (in this call, or for a later
            /// block: either way by the same channel's scatter, after this one).
            @inline(__always) func continues(_ tile: Int) -> Bool {
                let next = tile + 1
                return next < t.count && t.outRow[next] == t.outRow[tile] && Int(t.cols[tile]) == m
                    && Int(t.outCol[next]) == Int(t.outCol[tile]) + m && Int(t.cols[next]) + m >= 8
            }
            var j = 0
            withUnsafeTemporaryAllocation(of: Int.self, capacity: 24) { buffer in
                // Per tile of the eight: where its first output row starts, how many of its rows
                // are inside the output, and how many lanes each row stores.
                let start = buffer.baseAddress!, height = start + 8, lanes = start + 16
                while j + 8 <= n {
                    for q in 0..<8 {
                        let tile = range.lowerBound + j + q
                        start[q] = Int(t.outRow[tile]) * ow + Int(t.outCol[tile])
                        height[q] = Int(t.rows[tile])
                        lanes[q] = continues(tile) ? 8 : Int(t.cols[tile])
                    }
                    for oi in 0..<m {
                        var block = Rows8x8(loading: rows + oi * m * ld + j, stride: ld, count: m)
                        if relu { block.zeroNegatives() }
                        block.transpose()
                        let row = y + oi * dh * ow
                        block.forEachRow { q, v in
                            guard oi < height[q] else { return }
                            if lanes[q] == 8 {
                                UnsafeMutableRawPointer(row + start[q]).storeBytes(of: v, as: SIMD8<Float>.self)
                            } else {
                                SIMDTail.store(v, count: lanes[q], to: row + start[q])
                            }
                        }
                    }
                    j += 8
                }
            }
            if j < n {
                // Runs of one tile here: dense tiles' first columns are m apart.
                scatterRuns(rows + j, tiles: (range.lowerBound + j)..<range.upperBound, into: y, relu: relu)
            }
        }

        /// With column dilation: a dilated tile's outputs are not neighbours, but the tiles of
        /// neighbouring sub-grids at the same place are (`WinogradTiles` lists them side by side),
        /// so each output position of a run of up to eight such tiles is one vector of `rows`,
        /// stored as is. A run's tiles are as tall as each other; their widths fall from sub-grid
        /// to sub-grid, so the tiles that have column oj are a prefix of the run. Without dilation
        /// (the last tiles of a block, fewer than eight) every run is one tile.
        private func scatterRuns(_ rows: UnsafePointer<Float>, tiles range: Range<Int>, into y: UnsafeMutablePointer<Float>,
                                 relu: Bool) {
            let c = descriptor, ow = c.outWidth, dh = c.dilationHeight, dw = c.dilationWidth
            let m = m, ld = ld
            let t = tiles
            let n = range.count
            var j = 0
            while j < n {
                let first = range.lowerBound + j
                var length = 1
                while length < 8 && j + length < n && t.outRow[first + length] == t.outRow[first]
                        && t.outCol[first + length] == t.outCol[first] + Int32(length) { length += 1 }
                let base = y + Int(t.outRow[first]) * ow + Int(t.outCol[first])
                for oj in 0..<m {
                    var count = length
                    while count > 0 && Int(t.cols[first + count - 1]) <= oj { count -= 1 }
                    if count == 0 { break }
                    for oi in 0..<Int(t.rows[first]) {
                        var v = UnsafeRawPointer(rows + (oi * m + oj) * ld + j).loadUnaligned(as: SIMD8<Float>.self)
                        if relu { v = v.replacing(with: 0, where: v .< 0) }
                        SIMDTail.store(v, count: count, to: base + oi * dh * ow + oj * dw)
                    }
                }
                j += length
            }
        }
    }
}
