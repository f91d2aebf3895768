import ConvAlgorithms
import ConvCore
import ConvVerify
import Testing

/// The engine's strength: each deliberately broken algorithm must be caught within 1,000 generated
/// cases and shrunk to a case no larger than the bug needs. The correct variants must pass.
@Suite struct MutationTests {
    static func engine(_ algorithm: any ConvolutionAlgorithm, cases: Int = 1000, seed: UInt64 = 7) -> VerifyReport {
        runEngine(algorithm, cases: cases, seed: seed)
    }

    @Test func unbrokenPlainLoopsPass() {
        let r = Self.engine(MutantConvolution(bug: .none), cases: 600)
        #expect(!r.failed, "\(r.text)")
        #expect(r.algorithms[0].passed > 400)
    }

    @Test func unperturbedWinogradLikePasses() throws {
        let r = Self.engine(WinogradLikeMutant(perturbation: 1), cases: 1000)
        #expect(!r.failed, "\(r.text)")
        #expect(r.algorithms[0].passed >= 2, "too few 1x3 cases reached the Winograd-like mutant")
        // And on fixed 1×3 cases with every data kind.
        for line in ["mb1ic3ih4iw9oc2kh1kw3pw1", "mb2ic2ih3iw8oc3kh1kw3pw0", "g2mb1ic4ih2iw7oc2kh1kw3pw2"] {
            var o = VerifyEngine.Options()
            o.fixedCase = try ConvCase(parsing: line).descriptor
            let fixed = VerifyEngine(algorithms: [WinogradLikeMutant(perturbation: 1)], options: o).run()
            #expect(!fixed.failed, "\(line): \(fixed.text)")
            #expect(fixed.algorithms[0].passed >= 5)
        }
    }

    /// For each bug: the property that the minimal case must show, and a size it must not exceed.
    struct Expectation: Sendable, CustomStringConvertible {
        let algorithm: @Sendable () -> any ConvolutionAlgorithm
        let label: String
        let minimal: @Sendable (ConvDescriptor) -> Bool
        let maxMACs: Int
        var description: String { label }
    }

    static let expectations: [Expectation] = [
        Expectation(algorithm: { MutantConvolution(bug: .padOffByOneLeft) }, label: "padding off by one (left)",
                    minimal: { $0.padLeft == 1 && $0.inChannels == 1 && $0.outChannels == 1 }, maxMACs: 16),
        Expectation(algorithm: { MutantConvolution(bug: .dilationIgnored) }, label: "dilation ignored",
                    minimal: { ($0.dilationHeight == 2 || $0.dilationWidth == 2) && $0.inChannels == 1 }, maxMACs: 16),
        Expectation(algorithm: { MutantConvolution(bug: .strideHeightOnly) }, label: "stride applied to one axis only",
                    minimal: { $0.strideWidth == 2 && $0.strideHeight == 1 && $0.inChannels == 1 }, maxMACs: 16),
        Expectation(algorithm: { MutantConvolution(bug: .groupsMixedUp) }, label: "groups mixed up",
                    minimal: { $0.groups == 2 && $0.inChannels == 2 && $0.outChannels <= 2 }, maxMACs: 16),
        Expectation(algorithm: { MutantConvolution(bug: .outputPaddingDropped) }, label: "transposed output padding dropped",
                    minimal: { $0.transposed && $0.outputPaddingHeight + $0.outputPaddingWidth == 1 }, maxMACs: 16),
        Expectation(algorithm: { MutantConvolution(bug: .biasDropped) }, label: "bias dropped",
                    minimal: { $0.hasBias && $0.outputCount == 1 }, maxMACs: 1),
        Expectation(algorithm: { MutantConvolution(bug: .raceCorruptsRow) }, label: "race corrupts one row on 2 threads",
                    minimal: { $0.outHeight >= 2 }, maxMACs: 64),
        Expectation(algorithm: { MutantConvolution(bug: .lastElementSkipped) }, label: "last element never written (NaN pre-fill)",
                    minimal: { $0.outputCount == 1 }, maxMACs: 1),
        Expectation(algorithm: { StaleWorkspaceMutant() }, label: "stale workspace read (poisoned scratch)",
                    minimal: { $0.outputCount == 1 }, maxMACs: 1),
        Expectation(algorithm: { WinogradLikeMutant(perturbation: 1.01) }, label: "Winograd coefficient perturbed by 1%",
                    minimal: { $0.kernelWidth == 3 && $0.inChannels <= 2 && $0.outChannels == 1 }, maxMACs: 12),
        Expectation(algorithm: { FFTNormalizationMutant() }, label: "FFT normalization off by a factor",
                    minimal: { $0.inChannels == 1 && $0.outChannels == 1 }, maxMACs: 4),
    ]

    @Test(arguments: expectations)
    func brokenAlgorithmIsCaughtAndShrunk(_ e: Expectation) throws {
        let r = Self.engine(e.algorithm())
        let s = r.algorithms[0]
        let first = try #require(s.firstFailureCase, "\(e.label) was not caught in 1000 cases")
        #expect(first <= 1000)
        let f = try #require(s.failures.first)
        let m = f.minimal
        print("mutation \(e.label): caught at case \(first); shrunk in \(f.shrinkSteps) steps to \(m.caseLine) (\(f.data.rawValue)), \(m.multiplyAccumulates) MACs")
        #expect(e.minimal(m), "\(e.label): minimal case \(m.caseLine)")
        #expect(m.multiplyAccumulates <= e.maxMACs, "\(e.label): minimal case \(m.caseLine) has \(m.multiplyAccumulates) MACs")
        if case .failed = f.verdict {} else { Issue.record("\(e.label): minimal case does not fail on re-run: \(f.verdict)") }
    }
}
