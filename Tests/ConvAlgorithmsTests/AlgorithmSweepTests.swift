import ConvAlgorithms
import ConvCore
import ConvVerify
import Testing

/// Every registered algorithm against the float64 reference on a seeded sweep over geometry and data.
/// Small-integer and all-zero data demand exact equality from algorithms without a numeric transform.
@Suite struct AlgorithmSweepTests {
    static let names = AlgorithmRegistry.standard.names

    @Test(arguments: names)
    func agreesWithReferenceOnSeededSweep(_ name: String) throws {
        let algorithm = try AlgorithmRegistry.standard.algorithm(named: name)
        let seed: UInt64 = 0xC0_FFEE
        var rng = SeededGenerator(seed: seed)
        let generator = CaseGenerator()
        var supported = 0
        for i in 0..<400 {
            let conv = generator.next(&rng)
            let data = DataKind.allCases[i % DataKind.allCases.count]
            let c = PreparedCase(conv, data: data, dataSeed: seed &+ UInt64(i))
            for threads in [1, 2] {
                let verdict = DifferentialRunner(threads: threads).check(algorithm, on: c)
                switch verdict {
                case .passed: supported += 1
                case .unsupported: break
                case let .failed(f, ratio):
                    Issue.record("""
                        \(name) failed on \(conv.caseLine) data \(data) seed \(seed) case \(i) threads \(threads): \
                        element \(f.index) expected \(f.expected) got \(f.actual) bound \(f.bound) (worst \(ratio)×)
                        """)
                case let .threw(message):
                    Issue.record("\(name) threw on \(conv.caseLine) seed \(seed) case \(i): \(message)")
                }
            }
        }
        print("sweep \(name): \(supported) supported runs of 800")
        #expect(supported > 0, "\(name) supported no case of the sweep")
    }
}

/// `algorithm` against the float64 reference on `conv` with normal and small-integer data (exact
/// there), on 1 and 2 threads; records every disagreement.
func expectAgreement(_ algorithm: any ConvolutionAlgorithm, on conv: ConvDescriptor, seed: UInt64) {
    for (k, data) in [DataKind.normal, .smallIntegers].enumerated() {
        let c = PreparedCase(conv, data: data, dataSeed: seed &+ UInt64(k))
        for threads in [1, 2] {
            let verdict = DifferentialRunner(threads: threads).check(algorithm, on: c)
            if case .passed = verdict { continue }
            Issue.record("\(algorithm.name) on \(conv.caseLine) \(data) threads \(threads): \(verdict)")
        }
    }
}

/// `algorithm` gives the same bits on `conv` at 2–4 threads as at 1 (counted, not compared as
/// arrays: a failing == on a large array makes the test library diff it for minutes), and agrees
/// with the reference.
func expectSameBitsAtEveryThreadCount(_ algorithm: any ConvolutionAlgorithm, on conv: ConvDescriptor, seed: UInt64) throws {
    let c = PreparedCase(conv, data: .normal, dataSeed: seed)
    let one = try #require(AlgorithmOutput(algorithm).output(conv, c, threads: 1))
    for threads in [2, 3, 4] {
        let many = try #require(AlgorithmOutput(algorithm).output(conv, c, threads: threads))
        let differing = zip(many.scalars, one.scalars).filter { $0.bitPattern != $1.bitPattern }.count
        #expect(differing == 0, "\(conv.caseLine), threads \(threads): \(differing) of \(one.count) differ")
    }
    expectAgreement(algorithm, on: conv, seed: seed &+ 4)
}

/// The ReLU `algorithm` applies as it stores: the same bits as max(y, 0) after its plain run, whose
/// output has negative elements (else the check would hold for any output).
func expectReLUAsItStores(_ algorithm: any ConvolutionAlgorithm, on conv: ConvDescriptor, seed: UInt64) throws {
    let c = PreparedCase(conv, data: .normal, dataSeed: seed)
    let plain = try #require(AlgorithmOutput(algorithm).output(conv, c, threads: 2))
    let p = try algorithm.prepare(conv, weights: c.weights, bias: c.bias, options: AlgorithmOptions(threads: 2))
    var y = Tensor(shape: conv.outputShape)
    y.fill(.nan)
    try p.run(c.input, into: &y, relu: true, threads: 2)
    #expect(zip(y.scalars, plain.scalars).filter { $0.bitPattern != ($1 < 0 ? 0 : $1).bitPattern }.isEmpty)
    #expect(plain.scalars.contains { $0 < 0 })
}

/// depthwise-simd's 3×3 stride-1 kernel (registers hold the weights, eight columns per vector,
/// two output rows per step, a last vector overlapping the one before, rows copied into a plane
/// whose padding is written once per run): every width around the vector edges, heights down to
/// 1 and odd output heights (a last row alone), padding 0/1/2 and asymmetric, multiplier 2,
/// batch 2, exact on small integers.
@Suite struct Depthwise3x3Tests {
    @Test(arguments: [1, 2, 7, 8, 9, 15, 16, 17, 19, 24, 33])
    func denseThreeByThreeAtEveryWidth(width: Int) throws {
        var seed: UInt64 = 77
        for (h, pads, multiplier, batch) in [(1, (1, 1, 1, 1), 1, 1), (5, (0, 0, 0, 0), 1, 2), (6, (1, 1, 1, 1), 2, 1),
                                             (9, (2, 0, 1, 2), 1, 1), (3, (0, 2, 2, 0), 2, 2)] {
            let (top, bottom, left, right) = pads
            guard h + top + bottom >= 3 && width + left + right >= 3 else { continue }
            let conv = try ConvDescriptor(batch: batch, groups: 6, inChannels: 6, outChannels: 6 * multiplier,
                                          inHeight: h, inWidth: width, kernelHeight: 3, kernelWidth: 3,
                                          padTop: top, padBottom: bottom, padLeft: left, padRight: right, hasBias: true)
            seed += 2
            expectAgreement(DepthwiseSIMD(), on: conv, seed: seed)
        }
    }
}

/// direct's 1×1 path (no padded copy, 4 channels × 24 pixels per tile, a per-pixel tail, work
/// items of a panel of strips × a part of the output channels, strided layers gathering their
/// pixels): plane sizes around the tile edge, output channels not a
/// multiple of 4, groups, batch, bias, strides 1–3; exact on small integers; the same bits at
/// every thread count; and padded 1×1 layers still take the general path.
@Suite struct DirectPointwiseTests {
    @Test(arguments: [1, 5, 23, 24, 25, 48, 49, 77])
    func pointwiseAtEveryPlaneSize(pixels: Int) throws {
        var seed: UInt64 = 91
        // 600 input channels per group: a 57 KB strip, more than L1 holds.
        for (groups, cin, cout, batch) in [(1, 3, 5, 1), (1, 17, 8, 2), (2, 6, 10, 1), (3, 9, 3, 2), (2, 600, 6, 1)] {
            for (pads, stride) in [(0, 1), (1, 1), (0, 2), (0, 3)] {
                let conv = try ConvDescriptor(batch: batch, groups: groups, inChannels: cin, outChannels: cout,
                                              inHeight: 1, inWidth: pixels, kernelHeight: 1, kernelWidth: 1,
                                              strideHeight: stride, strideWidth: stride,
                                              padTop: pads, padBottom: pads, padLeft: pads, padRight: pads, hasBias: true)
                seed += 2
                expectAgreement(DirectConvolution(), on: conv, seed: seed)
            }
        }
        // A square plane too, so rows of the plane run together in one tile.
        expectAgreement(DirectConvolution(), on: try ConvDescriptor(inChannels: 8, outChannels: 6, inHeight: 7, inWidth: 7,
                                                                    kernelHeight: 1, kernelWidth: 1), seed: 5)
    }

    /// 19×19 has 15 full strips and a 1-pixel tail: per group a panel of 8 strips and one of 7,
    /// each split into 4 parts of the 7 channel blocks (pairs, the last part's pair a single block);
    /// 24×24 (24 strips) makes three full panels per group.
    /// Strided: 37×37 at stride 2 is a 19×19 output (Xception's shortcut), 29×31 at strides 3×2
    /// gathers rows and columns differently; 38×38 at stride 2 (the end padding −1: the last row and
    /// column unread) and 20×21 at stride 1 with the end padding −1 (an output narrower than its
    /// input, so not one contiguous strip) take the same path; 10×48 at strides 1×2 has strips
    /// that cross rows with their pixels still two floats apart (one 16-float load).
    @Test(arguments: [(19, 19, 1, 1, 0), (24, 24, 1, 1, 0), (37, 37, 2, 2, 0), (29, 31, 3, 2, 0), (38, 38, 2, 2, -1), (10, 48, 1, 2, 0),
                      (20, 21, 1, 1, -1)])
    func sameBitsAtEveryThreadCount(height: Int, width: Int, strideHeight: Int, strideWidth: Int, endPad: Int) throws {
        let conv = try ConvDescriptor(groups: 2, inChannels: 80, outChannels: 54, inHeight: height, inWidth: width,
                                      kernelHeight: 1, kernelWidth: 1, strideHeight: strideHeight, strideWidth: strideWidth,
                                      padBottom: endPad, padRight: endPad, hasBias: true)
        try expectPointwiseSameBits(conv, seed: 19)
    }

    /// The tail (pixels after the last full strip) is split among the workers by output-channel
    /// blocks, eight blocks per pass with two- and one-block passes after: 70 output channels are 18
    /// blocks, the last holding 2 channels, so 1–4 threads cut them into slices of 18, 9, 6 and 4–5
    /// (every pass width, the partial block in the last slice). Tails of 1 (19×19), 4 (10×10), 20
    /// (4×5: no full strip, the tail alone) and 1 at stride 2 (37×37 → 19×19).
    @Test(arguments: [(19, 19, 1), (10, 10, 1), (4, 5, 1), (37, 37, 2)])
    func tailSplitsAmongWorkers(height: Int, width: Int, stride: Int) throws {
        let conv = try ConvDescriptor(inChannels: 33, outChannels: 70, inHeight: height, inWidth: width,
                                      kernelHeight: 1, kernelWidth: 1, strideHeight: stride, strideWidth: stride, hasBias: true)
        try expectPointwiseSameBits(conv, seed: 29)
    }

    /// `conv` takes direct's 1×1 path, gives the same bits at 2–4 threads as at 1, and agrees with
    /// the reference.
    /// The same bits at every thread count and under both strip inputs (`StripInput`), and
    /// agreement with the reference.
    func expectPointwiseSameBits(_ conv: ConvDescriptor, seed: UInt64) throws {
        #expect(DirectConvolution.runsAsPointwise(conv))
        try expectSameBitsAtEveryThreadCount(DirectConvolution(stripInput: .inPlace), on: conv, seed: seed)
        try expectSameBitsAtEveryThreadCount(DirectConvolution(stripInput: .packed), on: conv, seed: seed)
        let c = PreparedCase(conv, data: .normal, dataSeed: seed)
        let inPlace = try #require(AlgorithmOutput(DirectConvolution(stripInput: .inPlace)).output(conv, c, threads: 2))
        let packed = try #require(AlgorithmOutput(DirectConvolution(stripInput: .packed)).output(conv, c, threads: 2))
        #expect(zip(inPlace.scalars, packed.scalars).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(conv.caseLine)")
    }
}

/// im2col-gemm's grouped layers with two or more groups per thread run whole groups per worker,
/// each unfolding into its own column buffer and calling a one-thread SGEMM: depthwise and grouped
/// layers, group counts that do not divide among the workers, batch 2 (items span images),
/// strides, dilation, several bands per group (a small cache budget), and a dilated layer whose
/// taps fall in padding (region by region, not in the group-parallel path).
@Suite struct Im2colGroupsTests {
    @Test(arguments: [(4, 4, 1), (7, 7, 2), (6, 12, 1), (9, 3, 2)])
    func groupsInParallelAgreeWithReference(groups: Int, multiplier: Int, stride: Int) throws {
        var seed: UInt64 = 301
        for (batch, dilation, bands) in [(1, 1, false), (2, 1, true), (2, 2, false)] {
            let cin = groups * max(1, multiplier / 4), cout = groups * multiplier
            let conv = try ConvDescriptor(batch: batch, groups: groups, inChannels: cin, outChannels: cout,
                                          inHeight: 13, inWidth: 11, kernelHeight: 3, kernelWidth: 3,
                                          strideHeight: stride, strideWidth: stride, padTop: dilation, padBottom: dilation,
                                          padLeft: dilation, padRight: dilation,
                                          dilationHeight: dilation, dilationWidth: dilation, hasBias: true)
            seed += 2
            let algorithm = bands ? Im2colGEMM(cacheBytes: 256, minColumns: 8) : Im2colGEMM()
            expectAgreement(algorithm, on: conv, seed: seed)
        }
        let atrous = try ConvDescriptor(groups: groups, inChannels: groups, outChannels: groups * multiplier,
                                        inHeight: 6, inWidth: 6, kernelHeight: 3, kernelWidth: 3,
                                        padTop: 4, padBottom: 4, padLeft: 4, padRight: 4,
                                        dilationHeight: 4, dilationWidth: 4)
        expectAgreement(Im2colGEMM(), on: atrous, seed: seed + 1)
    }

    /// Groups big enough that both workers unfold at the same time: a shared column buffer would
    /// corrupt one of them (repeated: a race shows only when the workers overlap).
    @Test func concurrentGroupsUseTheirOwnColumns() throws {
        let conv = try ConvDescriptor(groups: 8, inChannels: 32, outChannels: 32, inHeight: 48, inWidth: 48,
                                      kernelHeight: 3, kernelWidth: 3, padTop: 1, padBottom: 1, padLeft: 1, padRight: 1)
        for seed: UInt64 in 17..<23 { expectAgreement(Im2colGEMM(), on: conv, seed: seed) }
    }
}
