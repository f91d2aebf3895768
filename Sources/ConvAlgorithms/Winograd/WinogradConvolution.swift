import ConvCore
import Dispatch

/// Winograd minimal filtering F(m×m, 3×3) for 3×3 stride-1 convolutions, dense or dilated
/// (Lavin & Gray 2016; dilation as d² interleaved dense problems, see `WinogradTiles`).
///
/// `prepare` transforms every kernel once (G g Gᵀ in float64, rounded to float32) into α² matrices
/// U_ξ (Cout/g × Cin/g). `run` takes the output tiles in blocks; per block:
/// 1. input transform: each input channel's tiles become α² values (Bᵀ d B), written as α²
///    matrices V_ξ (Cin/g × tiles), eight tiles per vector, parallel over channels;
/// 2. multiply: α² SGEMMs M_ξ = U_ξ · V_ξ on OpenBLAS, single-threaded each, split over the workers;
/// 3. output transform: Aᵀ M A plus bias, scattered into the output, parallel over channels.
/// Blocks hold about 8 MiB of V and M (at least 96 tiles), so for all but the widest layers a
/// block's matrices stay in the last-level cache.
public struct WinogradConvolution: ConvolutionAlgorithm {
    public let transform: WinogradTransform
    /// Error constant c = perTerm·K + constant, from the measured accuracy table (README).
    let measuredError: ErrorModel

    public init(_ transform: WinogradTransform, errorModel: ErrorModel) {
        self.transform = transform
        self.measuredError = errorModel
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
        return Prepared(conv, transform: transform, weights: weights, bias: conv.hasBias ? bias : nil, threads: options.threads)
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
        let bt: SparseRows, at: SparseRows
        var clock = PhaseClock(["input transform", "multiply", "output transform"])

        init(_ c: ConvDescriptor, transform t: WinogradTransform, weights: Tensor, bias: Tensor?, threads: Int) {
            descriptor = c
            self.threads = threads
            m = t.m; alpha = t.alpha; xi = alpha * alpha
            tiles = WinogradTiles(c, m: m)
            let cg = c.inChannelsPerGroup, kg = c.outChannelsPerGroup
            let perTile = xi * (cg + kg) * MemoryLayout<Float>.stride
            // About 8 MiB of V and M per block, but at least 96 tiles: a single-threaded SGEMM needs
            // that many columns to run near its peak (wide layers such as ASPP's 2048 channels
            // overflow the cache at any useful block size). Blocks are then evened out so the
            // last one is not a sliver.
            let target = min(max(8 << 20 / perTile, 96), max(tiles.count, 1))
            let blocks = (max(tiles.count, 1) + target - 1) / target
            blockTiles = (max(tiles.count, 1) + blocks - 1) / blocks
            ld = (blockTiles + 7) / 8 * 8
            bt = SparseRows(t.inputTransform, rows: alpha, columns: alpha)
            at = SparseRows(t.outputTransform, rows: m, columns: alpha)

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
        }

        var workspaceBytes: Int { kernels.bytes + matrices.bytes + scratch.bytes }
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
            let shared = UncheckedSendable((x, v, scratch.pointer))
            parallelForWorkers(threads: threads, count: cg) { worker, channels in
                let (x, v, s) = shared.value
                let gather = s + worker * scratchPerWorker, half = gather + xi * ld
                for ch in channels {
                    self.gatherTiles(x + ch * c.inHeight * c.inWidth, tiles: range, into: gather)
                    let vectors = (range.count + 7) / 8
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

        /// gather[t][l][tile] = x[inRow + t·dh][inCol + l·dw] (zero outside the image).
        private func gatherTiles(_ x: UnsafePointer<Float>, tiles range: Range<Int>, into gather: UnsafeMutablePointer<Float>) {
            let c = descriptor
            let ih = c.inHeight, iw = c.inWidth, dh = c.dilationHeight, dw = c.dilationWidth
            let a = alpha, ld = ld
            let t = tiles
            for (j, tile) in range.enumerated() {
                let r0 = Int(t.inRow[tile]), c0 = Int(t.inCol[tile])
                let out = gather + j
                if t.interior[tile] {
                    for r in 0..<a {
                        let row = x + (r0 + r * dh) * iw + c0
                        for l in 0..<a { out[(r * a + l) * ld] = row[l * dw] }
                    }
                } else {
                    for r in 0..<a {
                        let ir = r0 + r * dh
                        if ir < 0 || ir >= ih {
                            for l in 0..<a { out[(r * a + l) * ld] = 0 }
                            continue
                        }
                        let row = x + ir * iw
                        for l in 0..<a {
                            let col = c0 + l * dw
                            out[(r * a + l) * ld] = col >= 0 && col < iw ? row[col] : 0
                        }
                    }
                }
            }
            // Lanes past the block's last tile: zeroed so the input transform works on finite values;
            // the SGEMM reads only `count` columns, and the output lanes past it are never scattered.
            let padded = (range.count + 7) / 8 * 8
            if padded > range.count {
                for e in 0..<(a * a) {
                    (gather + e * ld + range.count).update(repeating: 0, count: padded - range.count)
                }
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
                    self.scatter(rows, tiles: range, into: y + k * outPlane, relu: relu)
                }
            }
        }

        private func scatter(_ rows: UnsafePointer<Float>, tiles range: Range<Int>, into y: UnsafeMutablePointer<Float>,
                             relu: Bool) {
            let c = descriptor, ow = c.outWidth, dh = c.dilationHeight, dw = c.dilationWidth
            let m = m, ld = ld
            let t = tiles
            for (j, tile) in range.enumerated() {
                let r0 = Int(t.outRow[tile]), c0 = Int(t.outCol[tile])
                let src = rows + j
                for oi in 0..<Int(t.rows[tile]) {
                    let dst = y + (r0 + oi * dh) * ow + c0
                    for oj in 0..<Int(t.cols[tile]) {
                        let v = src[(oi * m + oj) * ld]
                        dst[oj * dw] = relu && v < 0 ? 0 : v
                    }
                }
            }
        }
    }
}
