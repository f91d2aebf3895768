import ConvAlgorithms
import ConvCore
import ConvVerify

/// "No fast wrong answers": every timed output is judged before its time counts. Where the float64
/// reference is affordable it is the judge, under the engine's tolerance. Above that size, the judge
/// is a second algorithm (im2col-gemm, or direct when im2col-gemm is the one judged), with the bound
/// summed from both algorithms' constants; Σ|x·w| then comes from convolving |x| with |w| in float32.
public final class OutputChecker {
    public static let referenceMACLimit = 200_000_000

    let conv: ConvDescriptor
    let reference: ReferenceConvolution.Result?
    let input: Tensor, weights: Tensor, bias: Tensor?
    let threads: Int
    private var baselines: [String: [Float]] = [:]
    private var magnitudes: [Double]?

    public init(conv: ConvDescriptor, input: Tensor, weights: Tensor, bias: Tensor?, threads: Int,
                referenceMACLimit: Int = OutputChecker.referenceMACLimit) {
        self.conv = conv
        self.input = input; self.weights = weights; self.bias = bias
        self.threads = threads
        reference = conv.multiplyAccumulates <= referenceMACLimit
            ? ReferenceConvolution.compute(conv, input: input, weights: weights, bias: bias, threads: threads) : nil
    }

    public struct Judgement: Codable, Sendable {
        public var valid: Bool
        /// Worst |error| as a fraction of its bound (≤ 1 passes).
        public var worstRatio: Double
        public var against: String
        public var firstFailure: String?
    }

    public func judge(_ algorithm: any ConvolutionAlgorithm, output: Tensor) throws -> Judgement {
        if let reference {
            let t = Tolerance(model: algorithm.errorModel, conv: conv, exact: false)
            let m = t.magnitudes(reference, input: input, weights: weights, bias: bias)
            let c = output.withUnsafeBufferPointer { t.compare($0, reference: reference, magnitudes: m) }
            return Judgement(valid: c.passed, worstRatio: c.worstRatio, against: "reference",
                             firstFailure: c.firstFailure.map(describe))
        }
        let judgeName = algorithm.name == "im2col-gemm" ? "direct" : "im2col-gemm"
        let judgeAlgorithm = try AlgorithmRegistry.standard.algorithm(named: judgeName)
        let other = try baseline(judgeAlgorithm)
        let mags = algorithm.errorModel.mixing == .none ? try magnitude()
            : MixedMagnitudes.compute(algorithm.errorModel.mixing, conv: conv, input: input, weights: weights, bias: bias).map(Double.init)
        let constant = algorithm.errorModel.constant(for: conv) + judgeAlgorithm.errorModel.constant(for: conv)
        let atol = Double(conv.reductionLength + 1) * Double(Float.leastNonzeroMagnitude) * 2
        var worst = 0.0
        var failure: String?
        output.withUnsafeBufferPointer { y in
            for i in 0..<y.count {
                let bound = atol + constant * Tolerance.epsilon * mags[i]
                let err = y[i].isNaN || other[i].isNaN ? Double.infinity : abs(Double(y[i]) - Double(other[i]))
                let ratio = err / bound
                if ratio > worst { worst = ratio }
                if err > bound && failure == nil {
                    failure = "element \(i): \(judgeName) gives \(other[i]), got \(y[i]), bound \(bound)"
                }
            }
        }
        return Judgement(valid: failure == nil, worstRatio: worst, against: judgeName, firstFailure: failure)
    }

    private func describe(_ f: Tolerance.Failure) -> String {
        "element \(f.index): expected \(f.expected), got \(f.actual), bound \(f.bound)"
    }

    private func baseline(_ algorithm: any ConvolutionAlgorithm) throws -> [Float] {
        if let b = baselines[algorithm.name] { return b }
        let p = try algorithm.prepare(conv, weights: weights, bias: bias, options: AlgorithmOptions(threads: threads))
        var y = Tensor(shape: conv.outputShape)
        try p.run(input, into: &y)
        baselines[algorithm.name] = y.scalars
        return y.scalars
    }

    /// Σ|x·w| + |b| per output element, by convolving absolute values (float32 is ample for a bound).
    private func magnitude() throws -> [Double] {
        if let magnitudes { return magnitudes }
        func absolute(_ t: Tensor) -> Tensor { Tensor(shape: t.shape, values: t.scalars.map { abs($0) }) }
        let p = try Im2colGEMM().prepare(conv, weights: absolute(weights), bias: bias.map(absolute),
                                         options: AlgorithmOptions(threads: threads))
        var y = Tensor(shape: conv.outputShape)
        try p.run(absolute(input), into: &y)
        // Inflate by the float32 error of computing the magnitude itself.
        let m = y.scalars.map { Double($0) * (1 + Double(conv.reductionLength) * Tolerance.epsilon) }
        magnitudes = m
        return m
    }
}
