import ConvAlgorithms
import ConvCore
import ConvVerify
import Testing

@Suite struct NonFinitePolicyTests {
    @Test(arguments: AlgorithmRegistry.standard.names)
    func exactAlgorithmsPropagateNaNAndInfinityExactly(_ name: String) throws {
        let algorithm = try AlgorithmRegistry.standard.algorithm(named: name)
        let r = NonFinitePolicy.check(algorithm, cases: 40, seed: 99)
        #expect(r.cases > 0)
        #expect(!r.violated, "\(name): lost \(r.lost), invented \(r.invented); \(r.example ?? "")")
    }

    @Test func aSmearingAlgorithmIsReportedNotFailed() {
        // The FFT-normalization mutant computes through the reference and rescales: exact NaN
        // placement but wrong finite values, so the check must count inventions.
        let r = NonFinitePolicy.check(FFTNormalizationMutant(), cases: 10, seed: 1)
        #expect(r.invented > 0)
        #expect(!r.binding && !r.violated)
    }
}
