import ConvAlgorithms
import ConvCore
import ConvVerify
import Foundation
import Testing

/// fft-full through the property engine, the defects it must see, and the planner's promises.
@Suite struct FFTVerifyTests {
    @Test func passesTheEngine() {
        let r = runEngine(FFTConvolution(), cases: 200, seed: 21, shrinkLimit: 1)
        #expect(!r.failed, "\(r.text)")
        #expect(r.algorithms[0].passed >= 150)
    }

    /// The bound is an L2 one (Parseval), tight enough that a normalization off by 0.1% or a DC
    /// term of the kernel spectra off by 1% fails within 100 cases.
    @Test(arguments: [(Float(1e-3), Float(0)), (Float(0), Float(1e-2))])
    func wrongNormalizationOrSpectrumIsCaught(_ defect: (Float, Float)) {
        let r = runEngine(FFTConvolution(scaleError: defect.0, dcError: defect.1), cases: 100, seed: 5, shrinkLimit: 1)
        #expect(r.failed, "scale error \(defect.0), DC error \(defect.1) passed \(r.algorithms[0].passed) cases")
    }

    @Test func dilatedKernelsUseTheShortPeriod() throws {
        // ASPP rate 12 on 64×64: spectra of 2048×256 kernels at the 7×7 period, not the 84×84 grid.
        let conv = try ConvCase(parsing: "mb1ic2048ih64oc256kh3ph12dh11").descriptor
        #expect(FFTConvolution().support(for: conv).isSupported)
        let tooBig = try ConvCase(parsing: "mb1ic2048ih128oc2048kh3ph1").descriptor
        #expect(FFTConvolution().support(for: tooBig).reason?.contains("cap") == true)
    }

    @Test func aMemoryCapIsHonouredWithTheFigure() throws {
        let conv = try ConvCase(parsing: "mb1ic16ih32oc16kh5ph2bias0").descriptor
        let w = Tensor(shape: conv.weightShape)
        #expect {
            _ = try FFTConvolution().prepare(conv, weights: w, bias: nil, options: AlgorithmOptions(threads: 1, memoryCapBytes: 1 << 20))
        } throws: { error in
            "\(error)".contains("over the memory cap of 1 MiB")
        }
    }

    @Test func goodSizesHaveOnlySmallFactors() {
        #expect(FFTPlanner.goodSize(atLeast: 11) == 12)
        #expect(FFTPlanner.goodSize(atLeast: 97) == 98)
        #expect(FFTPlanner.goodSize(atLeast: 64) == 64)
        #expect(FFTPlanner.goodSize(atLeast: 1) == 1)
    }

    @Test func wisdomRoundTripsAndBadFilesAreRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("convbench-wisdom-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let conv = try ConvCase(parsing: "mb1ic2ih20oc2kh7ph3bias0").descriptor
        _ = try FFTConvolution().prepare(conv, weights: Tensor(shape: conv.weightShape), bias: nil, options: AlgorithmOptions())
        let file = dir.appendingPathComponent("wisdom.txt").path
        try FFTPlanner.shared.exportWisdom(to: file)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.contains("fftw"))
        try FFTPlanner.shared.importWisdom(from: file)
        let garbage = dir.appendingPathComponent("garbage.txt").path
        try "not wisdom".write(toFile: garbage, atomically: true, encoding: .utf8)
        #expect(throws: FFTError.self) { try FFTPlanner.shared.importWisdom(from: garbage) }
        #expect(throws: FFTError.self) { try FFTPlanner.shared.importWisdom(from: dir.appendingPathComponent("missing").path) }
    }
}

/// fft-tiled: every transform size through the engine, and what it refuses.
@Suite struct FFTTiledVerifyTests {
    @Test(arguments: [nil, 8, 16, 32] as [Int?])
    func passesTheEngine(_ tile: Int?) {
        let r = runEngine(FFTTiledConvolution(tile: tile), cases: 150, seed: 23, shrinkLimit: 1)
        #expect(!r.failed, "\(r.text)")
        #expect(r.algorithms[0].passed >= 100)
    }

    @Test func refusesKernelsWiderThanTheTileAndSpectraOverTheCap() throws {
        let aspp = try ConvCase(parsing: "mb1ic2048ih64oc256kh3ph12dh11").descriptor
        #expect(FFTTiledConvolution().support(for: aspp).reason?.contains("25x25") == true)
        let wide = try ConvCase(parsing: "mb1ic8ih64oc8kh11ph5").descriptor
        #expect(!FFTTiledConvolution(tile: 8).support(for: wide).isSupported)
        #expect(FFTTiledConvolution(tile: 16).support(for: wide).isSupported)
    }

    @Test func underATightCapASmallerTileIsPickedBeforeAnythingIsAllocated() throws {
        let conv = try ConvCase(parsing: "mb1ic256ih64oc256kh3ph1bias0").descriptor
        #expect(FFTTiledConvolution.transformSize(for: conv) == 16)    // 75 MiB of spectra
        let cap = 50 << 20
        let p = try FFTTiledConvolution().prepare(conv, weights: Tensor(shape: conv.weightShape), bias: nil,
                                                  options: AlgorithmOptions(threads: 2, memoryCapBytes: cap))
        #expect(p.workspaceBytes <= cap)
        #expect {
            _ = try FFTTiledConvolution().prepare(conv, weights: Tensor(shape: conv.weightShape), bias: nil,
                                                  options: AlgorithmOptions(threads: 2, memoryCapBytes: 1 << 20))
        } throws: { "\($0)".contains("over the memory cap of 1 MiB") }
    }

    @Test func theCostModelPicksSmallTilesForSmallMapsAndLargeForLargeKernels() throws {
        // Measured (README): 256 channels at 14×14 ran fastest with 8-point tiles, 11×11 kernels with 32.
        let small = try ConvCase(parsing: "mb1ic256ih14oc256kh3ph1").descriptor
        let large = try ConvCase(parsing: "mb1ic64ih56oc64kh11ph5").descriptor
        #expect(FFTTiledConvolution.transformSize(for: small) == 8)
        #expect(FFTTiledConvolution.transformSize(for: large) == 32)
    }
}
