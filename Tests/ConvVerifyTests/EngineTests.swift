import ConvAlgorithms
import ConvCore
import ConvVerify
import Testing

@Suite struct EngineTests {
    /// The property engine over every registered algorithm, as CI runs it on each landing.
    @Test func everyRegisteredAlgorithmPassesTwoThousandFiveHundredCases() {
        var o = VerifyEngine.Options()
        o.cases = 2500
        o.seed = 20261123
        let r = VerifyEngine(algorithms: AlgorithmRegistry.standard.algorithms, options: o).run()
        print(r.text)
        #expect(!r.failed)
        #expect(r.cases == 2500)
        for a in r.algorithms { #expect(a.passed > 0, "\(a.algorithm) passed no case") }
    }

    @Test func sameSeedSameCasesAndDifferentSeedDifferentCases() {
        func lines(_ seed: UInt64) -> [String] {
            var rng = SeededGenerator(seed: seed)
            let g = CaseGenerator()
            return (0..<200).map { _ in g.next(&rng).caseLine }
        }
        #expect(lines(3) == lines(3))
        #expect(lines(3) != lines(4))
    }

    @Test func generatorCoversTheGeometry() {
        var rng = SeededGenerator(seed: 11)
        let cases = (0..<3000).map { _ in CaseGenerator().next(&rng) }
        #expect(cases.contains { $0.transposed && $0.outputPaddingHeight > 0 })
        #expect(cases.contains { $0.isDepthwise && $0.depthMultiplier > 1 })
        #expect(cases.contains { $0.groups > 1 && !$0.isDepthwise })
        #expect(cases.contains { $0.dilationHeight >= 12 })
        #expect(cases.contains { $0.strideHeight == 4 || $0.strideWidth == 4 })
        #expect(cases.contains { $0.kernelHeight == 11 || $0.kernelWidth == 11 })
        #expect(cases.contains { $0.kernelHeight != $0.kernelWidth })
        #expect(cases.contains { $0.padTop > $0.kernelExtentHeight })
        #expect(cases.contains { $0.padBottom < 0 })
        #expect(cases.contains { $0.inHeight == 1 && $0.inWidth == 1 })
        #expect(cases.contains { $0.outHeight == 1 && $0.outWidth == 1 })
        #expect(cases.contains { !$0.transposed && $0.inHeight + $0.padTop + $0.padBottom == $0.kernelExtentHeight })
        #expect(cases.contains { $0.batch > 1 })
        #expect(cases.contains { $0.inChannels == 1 && $0.outChannels == 1 })
        #expect(cases.contains { $0.inChannelsPerGroup > 32 })
        #expect(cases.allSatisfy { $0.multiplyAccumulates <= CaseGenerator().maxMACs })
    }

    @Test func zeroInputIsMistrustedNotPassed() throws {
        var o = VerifyEngine.Options()
        o.fixedCase = try ConvCase(parsing: "mb1ic2ih5oc3kh3").descriptor
        o.data = .zeros
        let r = VerifyEngine(algorithms: [ReferenceConvolution()], options: o).run()
        #expect(r.mistrusted == 1)
        // The regenerated (normal) data is what counts as the pass.
        #expect(r.algorithms[0].passed == 1)
    }

    @Test func toleranceIsExactOnIntegersAndScaledOtherwise() throws {
        let conv = try ConvCase(parsing: "mb1ic4ih6oc2kh3").descriptor
        let exact = Tolerance(model: .float32Summation, conv: conv, exact: true)
        #expect(exact.bound(magnitude: 100) == 0)
        let loose = Tolerance(model: .float32Summation, conv: conv, exact: false)
        // K = 4·3·3 + 1 = 37: c = 38.
        #expect(loose.constant == 38)
        #expect(abs(loose.bound(magnitude: 1) - (38 * Tolerance.epsilon + 38 * Double(Float.leastNonzeroMagnitude))) < 1e-20)
    }
}
