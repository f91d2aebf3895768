@testable import ConvAlgorithms
import ConvCore
import Testing

/// direct's 1×1 path in 48-pixel strips (`wideStrip`, where the kernels have AVX-512's registers):
/// every output element is exactly the sum of the scalar recurrence — input channels in order from
/// zero by fused multiply-adds, then + bias, + addend, then the ReLU — with the plane's last pixels
/// in every case: none (1×48), a tail (7×7 = 48 + 1), rest tiles of 24, 25 and 27 pixels
/// (8×9 = 48 + 24, 19×19 = 7·48 + 25, 5×15 = 48 + 27) and of 32 + 5 (5×17 = 48 + 37), and panels
/// of several strips (3×100; 16×16, whose 1 KB planes are packed, the others read in place or
/// packed as asked: `StripInput`, `pointwiseReadsInPlace`);
/// 256 input channels in one group and 24 in each of two; output channels leaving a partial last
/// block (22) and an odd block count (26 = 7 blocks); 1–3 threads; each of the tile's four stores
/// (plain, ReLU, addend, addend and ReLU).
@Suite struct PointwiseWideStripTests {
    @Test(arguments: [(1, 48), (7, 7), (8, 9), (5, 15), (5, 17), (19, 19), (3, 100), (16, 16)])
    func exactSums(height: Int, width: Int) throws {
        for (groups, cinG, cout) in [(1, 256, 22), (2, 24, 26)] {
            for stripInput in [DirectConvolution.StripInput.inPlace, .packed] {
                try expectExactSums(height: height, width: width, groups: groups, cinG: cinG, cout: cout,
                                    stripInput: stripInput)
            }
        }
    }

    func expectExactSums(height: Int, width: Int, groups: Int, cinG: Int, cout: Int,
                         stripInput: DirectConvolution.StripInput) throws {
        let conv = try ConvDescriptor(groups: groups, inChannels: cinG * groups, outChannels: cout, inHeight: height,
                                      inWidth: width, kernelHeight: 1, kernelWidth: 1, hasBias: true)
        let p = DirectConvolution.Plan(conv, stripInput: stripInput)
        #expect(DirectConvolution.pointwiseStripWidth(p) == (DirectConvolution.wide ? 48 : 24))
        #expect(DirectConvolution.pointwiseReadsInPlace(p) == (DirectConvolution.wide && height != 16))
        #expect(DirectConvolution.pointwiseStripsReadInPlace(p)
                == (DirectConvolution.wide && height != 16 && stripInput == .inPlace))
        let x = Tensor.random(shape: conv.inputShape, .normal(mean: 0, std: 1), seed: UInt64(height * width))
        let w = Tensor.random(shape: conv.weightShape, .normal(mean: 0, std: 0.1), seed: 7)
        let b = Tensor.random(shape: conv.biasShape, .normal(mean: 0, std: 1), seed: 8)
        let addend = Tensor.random(shape: conv.outputShape, .normal(mean: 0, std: 1), seed: 9)
        let plain = expected(conv, x, w, b, addend: nil, relu: false)
        try expectPlainRuns(conv, x, w, b, give: plain, stripInput: stripInput)
        let prepared = try DirectConvolution(stripInput: stripInput)
            .prepare(conv, weights: w, bias: b, options: AlgorithmOptions(threads: 2))
        let fused = try #require(prepared as? any AddendFusing)
        for (adds, relu) in [(false, true), (true, false), (true, true)] {
            var y = Tensor(shape: conv.outputShape)
            y.fill(.nan)
            if adds {
                try fused.run(x, adding: addend, into: &y, relu: relu)
            } else {
                try prepared.run(x, into: &y, relu: relu, threads: 2)
            }
            let want = expected(conv, x, w, b, addend: adds ? addend : nil, relu: relu)
            let differing = zip(y.scalars, want).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "\(conv.caseLine), \(stripInput), addend \(adds), ReLU \(relu): \(differing) of \(want.count) differ")
        }
        #expect(plain.contains { $0 < 0 } && plain.contains { $0 > 0 })
    }

    /// Groups of more than 2 MB of input and at most 256 channels prefetch the next panel's input
    /// as they go (`pointwisePrefetchesPanels`: Xception's 147×147 and 74×74 layers, not its
    /// 37×37 and 19×19 ones, nor 1024 channels at 64×64); the sums stay exact, for one and two
    /// groups and 1–3 threads.
    @Test func prefetchingPanels() throws {
        func plan(_ cin: Int, _ side: Int, stride: Int = 1, groups: Int = 1) throws -> DirectConvolution.Plan {
            DirectConvolution.Plan(try ConvDescriptor(groups: groups, inChannels: cin, outChannels: 8 * groups, inHeight: side,
                                                      inWidth: side, kernelHeight: 1, kernelWidth: 1,
                                                      strideHeight: stride, strideWidth: stride))
        }
        #expect(try DirectConvolution.pointwisePrefetchesPanels(plan(64, 147)))
        #expect(try DirectConvolution.pointwisePrefetchesPanels(plan(128, 74)))
        #expect(try !DirectConvolution.pointwisePrefetchesPanels(plan(256, 37)))
        #expect(try !DirectConvolution.pointwisePrefetchesPanels(plan(728, 19)))
        #expect(try !DirectConvolution.pointwisePrefetchesPanels(plan(1024, 64)))
        #expect(try DirectConvolution.pointwisePrefetchesPanels(plan(256, 128)))
        #expect(try !DirectConvolution.pointwisePrefetchesPanels(plan(64, 147, stride: 2)))
        #expect(try !DirectConvolution.pointwisePrefetchesPanels(plan(64, 147, groups: 4)))
        try expectExactAt147(inPerGroup: 25, outPerGroup: 10, seed: 11) {
            DirectConvolution.pointwisePrefetchesPanels(DirectConvolution.Plan($0))
        }
    }

    /// Groups of more than 8 MB of output and at most 256 input channels prefetch each tile's
    /// output lines (`pointwisePrefetchesOutput`: Xception's 147×147 layers, not its 74×74 ones,
    /// nor 1024 input channels at 64×64); the sums stay exact, with a last block of one channel
    /// (its rows alone prefetched), for one and two groups and 1–3 threads.
    @Test func prefetchingOutput() throws {
        func plan(_ cin: Int, _ cout: Int, _ side: Int) throws -> DirectConvolution.Plan {
            DirectConvolution.Plan(try ConvDescriptor(inChannels: cin, outChannels: cout, inHeight: side, inWidth: side,
                                                      kernelHeight: 1, kernelWidth: 1))
        }
        #expect(try DirectConvolution.pointwisePrefetchesOutput(plan(64, 128, 147)))
        #expect(try DirectConvolution.pointwisePrefetchesOutput(plan(128, 128, 147)))
        #expect(try !DirectConvolution.pointwisePrefetchesOutput(plan(128, 256, 74)))
        #expect(try !DirectConvolution.pointwisePrefetchesOutput(plan(728, 728, 19)))
        #expect(try !DirectConvolution.pointwisePrefetchesOutput(plan(1024, 2048, 64)))
        #expect(try DirectConvolution.pointwisePrefetchesOutput(plan(64, 256, 128)))
        try expectExactAt147(inPerGroup: 9, outPerGroup: 101, seed: 21) {
            DirectConvolution.pointwisePrefetchesOutput(DirectConvolution.Plan($0))
        }
    }

    /// Xception's planes (147×147 … 10×10) are read in place, DeepLab's 64×64 and 128×128 ones
    /// (16 and 64 KB, every row in the same cache sets) packed, as are strided layers; inputs of
    /// at most 2 MB read in place are split among the workers by output channels; the sums
    /// at 147×147 read in place are exact, for one and two groups and 1–3 threads.
    @Test func readingInPlace() throws {
        func plan(_ side: Int, stride: Int = 1) throws -> DirectConvolution.Plan {
            DirectConvolution.Plan(try ConvDescriptor(inChannels: 64, outChannels: 64, inHeight: side, inWidth: side,
                                                      kernelHeight: 1, kernelWidth: 1, strideHeight: stride,
                                                      strideWidth: stride))
        }
        for side in [147, 74, 37, 19, 10] {
            #expect(try DirectConvolution.pointwiseReadsInPlace(plan(side)) == DirectConvolution.wide, "\(side)")
        }
        #expect(try !DirectConvolution.pointwiseReadsInPlace(plan(64)))
        #expect(try !DirectConvolution.pointwiseReadsInPlace(plan(128)))
        #expect(try !DirectConvolution.pointwiseReadsInPlace(plan(147, stride: 2)))
        // Strips read in place from inputs of at most 2 MB split the workers by output channels
        // (exactSums' 19×19 case runs that split with 2 and 3 workers); packed strips by pixels.
        func splitsByChannels(_ cin: Int, _ side: Int, _ stripInput: DirectConvolution.StripInput = .inPlace) throws -> Bool {
            DirectConvolution.pointwiseSplitsByChannels(DirectConvolution.Plan(
                try ConvDescriptor(inChannels: cin, outChannels: 728, inHeight: side, inWidth: side, kernelHeight: 1,
                                   kernelWidth: 1), stripInput: stripInput))
        }
        #expect(try splitsByChannels(728, 19) == DirectConvolution.wide)
        #expect(try splitsByChannels(256, 37) == DirectConvolution.wide)
        #expect(try splitsByChannels(256, 19) == DirectConvolution.wide)
        #expect(try !splitsByChannels(728, 19, .packed))
        #expect(try !splitsByChannels(728, 37))
        #expect(try !splitsByChannels(64, 147))
        #expect(try !splitsByChannels(256, 64))
        // The default follows the CPU's maker (/proc/cpuinfo's vendor_id): packed on Intel cores,
        // in place elsewhere.
        switch CPUInfo.field("vendor_id") {
        case "GenuineIntel": #expect(CPUVendor.current == .intel)
        case "AuthenticAMD": #expect(CPUVendor.current == .amd)
        default: #expect(CPUVendor.current == .unknown)
        }
        #expect(DirectConvolution.Plan(try ConvDescriptor(inChannels: 8, outChannels: 8, inHeight: 19, inWidth: 19,
                                                          kernelHeight: 1, kernelWidth: 1)).stripsInPlace
                == (CPUVendor.current != .intel))
        try expectExactAt147(inPerGroup: 13, outPerGroup: 10, seed: 31) {
            DirectConvolution.pointwiseReadsInPlace(DirectConvolution.Plan($0)) == DirectConvolution.wide
        }
    }

    /// A plane of less than one strip keeps 24-pixel strips; a stride, or output rows narrower than
    /// the input's (the end padding −1), gather 48-pixel strips into the panel where the kernels
    /// have 32 registers (Xception's strided shortcuts: 1.35–1.70× faster than 24-pixel strips of
    /// 256-bit vectors on the Emerald Rapids VM), never read in place; their sums are exact for
    /// one and two groups, 1–3 threads and both strip inputs, with the plane's last pixels as a
    /// 24-pixel strip and a tail (147×147 at stride 2: 74×74 = 114·48 + 4; 37×37 at stride 2:
    /// 19×19 = 7·48 + 24 + 1; 20×21, end padding −1: 20×20 = 8·48 + 16).
    @Test func gatheredStrips() throws {
        for (height, width, stride, endPad, cinG, coutG) in [(6, 7, 1, 0, 16, 8), (147, 147, 2, 0, 12, 10),
                                                            (37, 37, 2, 0, 40, 18), (20, 21, 1, -1, 24, 9)] {
            for groups in [1, 2] {
                let conv = try ConvDescriptor(groups: groups, inChannels: cinG * groups, outChannels: coutG * groups,
                                              inHeight: height, inWidth: width, kernelHeight: 1, kernelWidth: 1,
                                              strideHeight: stride, strideWidth: stride, padBottom: endPad,
                                              padRight: endPad, hasBias: true)
                #expect(DirectConvolution.runsAsPointwise(conv))
                let p = DirectConvolution.Plan(conv)
                let wide = DirectConvolution.wide && conv.outHeight * conv.outWidth >= 48
                #expect(DirectConvolution.pointwiseStripWidth(p) == (wide ? 48 : 24), "\(conv.caseLine)")
                #expect(!DirectConvolution.pointwiseReadsInPlace(p))
                let seed = UInt64(height * width + groups)
                let x = Tensor.random(shape: conv.inputShape, .normal(mean: 0, std: 1), seed: seed)
                let w = Tensor.random(shape: conv.weightShape, .normal(mean: 0, std: 0.1), seed: seed + 1)
                let b = Tensor.random(shape: conv.biasShape, .normal(mean: 0, std: 1), seed: seed + 2)
                let want = expected(conv, x, w, b, addend: nil, relu: false)
                for stripInput in [DirectConvolution.StripInput.inPlace, .packed] {
                    try expectPlainRuns(conv, x, w, b, give: want, stripInput: stripInput)
                }
            }
        }
    }

    /// A 1×1 layer at 147×147 with one and two groups of these sizes takes the path `takesPath`
    /// tells (asserted) and gives exact sums with 1–3 threads.
    func expectExactAt147(inPerGroup: Int, outPerGroup: Int, seed: UInt64,
                          takesPath: (ConvDescriptor) -> Bool) throws {
        for groups in [1, 2] {
            let conv = try ConvDescriptor(groups: groups, inChannels: inPerGroup * groups, outChannels: outPerGroup * groups,
                                          inHeight: 147, inWidth: 147, kernelHeight: 1, kernelWidth: 1, hasBias: true)
            #expect(takesPath(conv), "\(conv.caseLine)")
            let x = Tensor.random(shape: conv.inputShape, .normal(mean: 0, std: 1), seed: seed)
            let w = Tensor.random(shape: conv.weightShape, .normal(mean: 0, std: 0.1), seed: seed + 1)
            let b = Tensor.random(shape: conv.biasShape, .normal(mean: 0, std: 1), seed: seed + 2)
            try expectPlainRuns(conv, x, w, b, give: expected(conv, x, w, b, addend: nil, relu: false))
        }
    }

    /// direct's plain run (no addend, no ReLU) with 1–3 threads gives exactly `want`, bit for bit.
    func expectPlainRuns(_ conv: ConvDescriptor, _ x: Tensor, _ w: Tensor, _ b: Tensor, give want: [Float],
                         stripInput: DirectConvolution.StripInput = .automatic) throws {
        for threads in 1...3 {
            let prepared = try DirectConvolution(stripInput: stripInput)
                .prepare(conv, weights: w, bias: b, options: AlgorithmOptions(threads: threads))
            var y = Tensor(shape: conv.outputShape)
            y.fill(.nan)
            try prepared.run(x, into: &y)
            let differing = zip(y.scalars, want).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "\(conv.caseLine), \(stripInput), \(threads) threads: \(differing) of \(want.count) differ")
        }
    }

    /// y[oc][i] = ((Σ_icg in order, from zero, by fused multiply-adds) + bias) + addend, then the ReLU,
    /// where pixel i reads the input pixel under it at the layer's stride.
    func expected(_ c: ConvDescriptor, _ x: Tensor, _ w: Tensor, _ b: Tensor, addend: Tensor?, relu: Bool) -> [Float] {
        let xs = x.scalars, ws = w.scalars, bs = b.scalars, adds = addend?.scalars
        let plane = c.outHeight * c.outWidth, cinG = c.inChannels / c.groups, coutG = c.outChannels / c.groups
        let inPlane = c.inHeight * c.inWidth
        var out = [Float](repeating: 0, count: c.outChannels * plane)
        for oc in 0..<c.outChannels {
            let g = oc / coutG
            for i in 0..<plane {
                // The input pixel output pixel i reads: (oy·sh, ox·sw).
                let at = (i / c.outWidth) * c.strideHeight * c.inWidth + (i % c.outWidth) * c.strideWidth
                var sum: Float = 0
                for icg in 0..<cinG { sum = sum.addingProduct(xs[(g * cinG + icg) * inPlane + at], ws[oc * cinG + icg]) }
                var v = sum + bs[oc]
                if let adds { v += adds[oc * plane + i] }
                out[oc * plane + i] = relu && v < 0 ? 0 : v
            }
        }
        return out
    }
}
