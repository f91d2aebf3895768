import ConvAlgorithms
import ConvVerify

/// The engine on one algorithm, as the verification tests run it.
func runEngine(_ algorithm: any ConvolutionAlgorithm, cases: Int, seed: UInt64, shrinkLimit: Int = 3) -> VerifyReport {
    var o = VerifyEngine.Options()
    o.cases = cases
    o.seed = seed
    o.shrinkLimit = shrinkLimit
    return VerifyEngine(algorithms: [algorithm], options: o).run()
}
