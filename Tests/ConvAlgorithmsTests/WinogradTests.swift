import ConvAlgorithms
import ConvCore
import Testing

@Suite struct WinogradTransformTests {
    static let variants: [WinogradTransform] = [.f2x2_3x3, .f4x4_3x3, .f6x6_3x3]

    @Test(arguments: variants)
    func derivedMatricesComputeTheCorrelation(_ t: WinogradTransform) {
        var rng = SeededGenerator(seed: 3)
        for _ in 0..<50 {
            let d = (0..<t.alpha).map { _ in rng.nextUnit() * 2 - 1 }
            let g = (0..<t.r).map { _ in rng.nextUnit() * 2 - 1 }
            let y = t.correlate1D(input: d, kernel: g)
            for i in 0..<t.m {
                let exact = (0..<t.r).reduce(0.0) { $0 + g[$1] * d[i + $1] }
                #expect(abs(y[i] - exact) < 1e-12, "F(\(t.m),3) output \(i): \(y[i]) vs \(exact)")
            }
        }
    }

    @Test func lavinsF2MatricesUpToRowSigns() {
        // Lavin & Gray's F(2,3): Bᵀ rows [1,0,−1,0], [0,1,1,0], [0,−1,1,0], [0,1,0,−1].
        let t = WinogradTransform.f2x2_3x3
        let lavin: [[Double]] = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
        for (j, row) in lavin.enumerated() {
            let ours = Array(t.inputTransform[(j * 4)..<(j * 4 + 4)])
            #expect(ours == row || ours == row.map { -$0 }, "row \(j): \(ours)")
        }
        #expect(t.outputTransform == [1, 1, 1, 0, 0, 1, -1, 1])
    }

    @Test func aPerturbedCoefficientBreaksTheIdentity() {
        let t = WinogradTransform.f4x4_3x3.perturbing(.input, index: 7, by: 1.01)
        let d = (0..<6).map { Double($0) - 2.5 }, g = [0.5, -1.0, 2.0]
        let y = t.correlate1D(input: d, kernel: g)
        let exact = (0..<4).map { i in (0..<3).reduce(0.0) { $0 + g[$1] * d[i + $1] } }
        #expect(zip(y, exact).contains { abs($0 - $1) > 1e-6 })
    }
}

extension WinogradTransform: CustomTestStringConvertible {
    public var testDescription: String { "F(\(m)x\(m),\(r)x\(r))" }
}

@Suite struct WinogradSupportTests {
    @Test func supportIsThreeByThreeStrideOneForward() throws {
        let w = WinogradConvolution.f4x4
        #expect(w.support(for: try ConvCase(parsing: "mb1ic8ih13oc8kh3ph1").descriptor).isSupported)
        #expect(w.support(for: try ConvCase(parsing: "mb1ic8ih64oc8kh3ph12dh11").descriptor).isSupported)
        #expect(!w.support(for: try ConvCase(parsing: "mb1ic8ih13oc8kh3sh2ph1").descriptor).isSupported)
        #expect(!w.support(for: try ConvCase(parsing: "mb1ic8ih13oc8kh5ph2").descriptor).isSupported)
        #expect(!w.support(for: try ConvCase(parsing: "deconv:mb1ic8ih13oc8kh3ph1").descriptor).isSupported)
    }
}
