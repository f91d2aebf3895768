@testable import ConvAlgorithms
import ConvCore
import Testing

/// Winograd's gather and scatter (WinogradConvolution.swift, SubgridPlane, Rows8x8): each input
/// channel is staged by sub-grid, eight tiles' rows are loaded as vectors and transposed; with no
/// column dilation eight tiles' output rows are transposed back and stored as vectors. The cases
/// reach every branch of that: a row of 9 tiles whose last is 5 wide, an image smaller than one
/// tile, dilation (2, 3) with uneven padding in two groups and a batch of 2, rate 12 where every
/// tile reads padding, rows-only dilation (3, 1) (vector stores on a dilated layer); each with its
/// natural blocks and with blocks of 13 tiles (blocks that end inside a row of tiles and inside a
/// group of eight, so a block stages only some rows). Same bits at 1–4 threads, agreement with the
/// reference, and the fused ReLU equal to max(y, 0).
@Suite struct WinogradTileTests {
    static let cases: [ConvDescriptor] = [
        try! ConvDescriptor(inChannels: 16, outChannels: 8, inHeight: 20, inWidth: 53, kernelHeight: 3, kernelWidth: 3,
                            padTop: 1, padBottom: 1, padLeft: 1, padRight: 1, hasBias: true),
        try! ConvDescriptor(inChannels: 5, outChannels: 7, inHeight: 5, inWidth: 7, kernelHeight: 3, kernelWidth: 3, hasBias: true),
        try! ConvDescriptor(batch: 2, groups: 2, inChannels: 8, outChannels: 6, inHeight: 23, inWidth: 31, kernelHeight: 3,
                            kernelWidth: 3, padTop: 1, padBottom: 3, padLeft: 2, padRight: 0, dilationHeight: 2, dilationWidth: 3,
                            hasBias: true),
        try! ConvDescriptor(inChannels: 24, outChannels: 8, inHeight: 20, inWidth: 20, kernelHeight: 3, kernelWidth: 3,
                            padTop: 12, padBottom: 12, padLeft: 12, padRight: 12, dilationHeight: 12, dilationWidth: 12, hasBias: true),
        try! ConvDescriptor(inChannels: 6, outChannels: 5, inHeight: 26, inWidth: 40, kernelHeight: 3, kernelWidth: 3,
                            padTop: 3, padBottom: 3, padLeft: 1, padRight: 1, dilationHeight: 3, dilationWidth: 1, hasBias: true),
    ]
    static let variants: [WinogradConvolution] = [.f2x2, .f4x4, .f6x6]

    @Test(arguments: variants, [nil, 13])
    func sameBitsAtEveryThreadCountAndAgreesWithTheReference(_ w: WinogradConvolution, blockTiles: Int?) throws {
        let algorithm = WinogradConvolution(w.transform, errorModel: w.errorModel, blockTileLimit: blockTiles)
        for (i, conv) in Self.cases.enumerated() {
            try expectSameBitsAtEveryThreadCount(algorithm, on: conv, seed: 300 + UInt64(i))
            try expectReLUAsItStores(algorithm, on: conv, seed: 400 + UInt64(i))
        }
    }

    /// The first case has more tiles than a group of eight per row under every variant, and the
    /// limit of 13 tiles makes several blocks: the vector paths and the block ends are reached.
    @Test func theCasesReachGroupsAndSeveralBlocks() {
        for w in Self.variants {
            let tiles = WinogradTiles(Self.cases[0], m: w.transform.m)
            #expect(tiles.count > 13 && tiles.count % 13 != 0 && tiles.count % 8 != 0, "\(w.name): \(tiles.count) tiles")
        }
    }

    /// Blocks of about 8 MiB of V and M, but up to twice U where U is larger: 160 channels at
    /// 66×66 under F(6,3) (121 tiles of 80 KB, U 6.25 MB) run as one block, where 8 MiB would
    /// make two; Xception's block1_conv2 (625 tiles of 24 KB, U 0.5 MB) keeps two.
    @Test func blocksGrowWithTheKernels() throws {
        func blockTiles(_ conv: ConvDescriptor) throws -> Int {
            let w = Tensor(shape: conv.weightShape)
            let p = try WinogradConvolution.f6x6.prepare(conv, weights: w, bias: nil, options: AlgorithmOptions(threads: 1))
            return try #require(p as? WinogradConvolution.Prepared).blockTiles
        }
        let wide = try ConvDescriptor(inChannels: 160, outChannels: 160, inHeight: 66, inWidth: 66, kernelHeight: 3, kernelWidth: 3)
        #expect(try blockTiles(wide) == 121)
        let stem = try ConvDescriptor(inChannels: 32, outChannels: 64, inHeight: 149, inWidth: 149, kernelHeight: 3, kernelWidth: 3)
        #expect(try blockTiles(stem) == 313)
    }

    /// Every position of the region lands on its own place; the image's values arrive and the
    /// padding keeps its zeros; a dilated tile's taps, dh rows and dw columns apart, are neighbours.
    @Test func subgridPlaneHoldsTheImageWithTapsAsNeighbours() {
        let (ih, iw) = (9, 11)
        let plane = SubgridPlane(rows: -2..<13, columns: -3..<17, step: (2, 3))
        let image = (0..<(ih * iw)).map { Float($0 + 1) }
        var staged = [Float](repeating: 0, count: plane.count)
        image.withUnsafeBufferPointer { x in
            staged.withUnsafeMutableBufferPointer { p in
                plane.stage(x.baseAddress!, imageWidth: iw, rows: 0..<ih, into: p.baseAddress!)
            }
        }
        var seen = Set<Int>()
        for r in -2..<13 {
            for c in -3..<17 {
                let o = plane.offset(row: r, column: c)
                seen.insert(o)
                let inside = (0..<ih).contains(r) && (0..<iw).contains(c)
                #expect(staged[o] == (inside ? image[r * iw + c] : 0), "(\(r), \(c))")
                if r + 2 < 13 { #expect(plane.offset(row: r + 2, column: c) == o + plane.width) }
                if c + 3 < 17 { #expect(plane.offset(row: r, column: c + 3) == o + 1) }
            }
        }
        #expect(seen.count == 15 * 20)
        #expect(seen.max()! < plane.count - 8)
    }

    /// The register transpose against the definition.
    @Test func rowsTransposeInRegisters() {
        let values = (0..<64).map { Float($0) }
        var block = values.withUnsafeBufferPointer { Rows8x8(loading: $0.baseAddress!, stride: 8, count: 8) }
        block.transpose()
        var seen = 0
        block.forEachRow { i, row in
            #expect(i == seen)
            #expect(row == SIMD8((0..<8).map { values[$0 * 8 + i] }), "row \(i)")
            seen += 1
        }
        #expect(seen == 8)
    }
}

/// `WinogradF6x6Rows` groups F(6×6, 3×3)'s transforms by its symmetric points: each output row must
/// be the matrix's row times the eight input rows (float64 from the derived Bᵀ and Aᵀ), within a
/// few roundings, on every lane: 16-lane groups, the 8-lane remainder, the bias.
@Suite struct WinogradF6x6RowsTests {
    static func check(output: Bool, vectors: Int, seed: UInt64) {
        let t = WinogradTransform.f6x6_3x3
        let matrix = output ? t.outputTransform : t.inputTransform
        let rowsOut = output ? t.m : t.alpha, width = 8 * vectors
        let stride = width + 8, dstStride = width + 16, bias: Float = output ? 0.375 : 0
        var rng = SeededGenerator(seed: seed)
        let src = (0..<(8 * stride)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        var dst = [Float](repeating: .nan, count: rowsOut * dstStride)
        src.withUnsafeBufferPointer { s in
            dst.withUnsafeMutableBufferPointer { d in
                if output {
                    WinogradF6x6Rows.output(s.baseAddress!, stride: stride, into: d.baseAddress!, dstStride: dstStride,
                                            vectors: vectors, bias: bias)
                } else {
                    WinogradF6x6Rows.input(s.baseAddress!, stride: stride, into: d.baseAddress!, dstStride: dstStride,
                                           vectors: vectors)
                }
            }
        }
        for i in 0..<rowsOut {
            for lane in 0..<width {
                var exact = Double(bias), magnitude = abs(Double(bias))
                for l in 0..<8 {
                    let term = matrix[i * 8 + l] * Double(src[l * stride + lane])
                    exact += term
                    magnitude += abs(term)
                }
                let got = Double(dst[i * dstStride + lane])
                #expect(abs(got - exact) <= 8 * Double(Float.ulpOfOne) * magnitude,
                        "\(output ? "Aᵀ" : "Bᵀ") row \(i) lane \(lane) of \(width): \(got) vs \(exact)")
            }
            // Lanes past the vectors are not written.
            #expect(dst[(i * dstStride + width)..<((i + 1) * dstStride)].allSatisfy { $0.isNaN })
        }
    }

    @Test(arguments: [1, 2, 3, 6])
    func inputRowsAreBTransposeTimesTheRows(vectors: Int) {
        Self.check(output: false, vectors: vectors, seed: 70 + UInt64(vectors))
    }

    @Test(arguments: [1, 2, 3, 6])
    func outputRowsAreATransposeTimesTheRowsPlusBias(vectors: Int) {
        Self.check(output: true, vectors: vectors, seed: 80 + UInt64(vectors))
    }
}
