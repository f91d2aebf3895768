import ConvAlgorithms
import ConvCore
import ConvVerify
import Testing

/// The Winograd variants through the property engine: the true ones pass every generated case they
/// support (dense and dilated, every data kind), and a transform with one coefficient off by 1% is
/// caught — the engine's tolerance is tight enough to see a wrong transform.
@Suite struct WinogradVerifyTests {
    static let variants: [WinogradConvolution] = [.f2x2, .f4x4, .f6x6]

    @Test(arguments: variants)
    func passesTheEngine(_ w: WinogradConvolution) {
        let r = runEngine(w, cases: 150, seed: 11, shrinkLimit: 1)
        #expect(!r.failed, "\(r.text)")
        #expect(r.algorithms[0].passed >= 100, "\(w.name): only \(r.algorithms[0].passed) cases passed")
    }

    /// A nonzero entry of each matrix, changed by 1%.
    @Test(arguments: variants, [WinogradTransform.Matrix.input, .kernel, .output])
    func onePercentOffInOneCoefficientIsCaught(_ w: WinogradConvolution, _ matrix: WinogradTransform.Matrix) {
        let t = w.transform
        let entries: [Double] = switch matrix {
        case .input: t.inputTransform
        case .kernel: t.kernelTransform
        case .output: t.outputTransform
        }
        // The last nonzero entry: it touches the ∞ point or the highest power, the least obvious ones.
        let index = entries.lastIndex { $0 != 0 }!
        let broken = WinogradConvolution(t.perturbing(matrix, index: index, by: 1.01), errorModel: w.errorModel)
        let r = runEngine(broken, cases: 100, seed: 5, shrinkLimit: 1)
        #expect(r.failed, "\(w.name) with \(matrix)[\(index)] × 1.01 passed \(r.algorithms[0].passed) cases")
        if let f = r.algorithms[0].failures.first {
            #expect(f.minimal.multiplyAccumulates <= f.original.multiplyAccumulates)
        }
    }
}

extension WinogradConvolution: CustomTestStringConvertible {
    public var testDescription: String { name }
}
