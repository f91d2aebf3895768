import ConvAlgorithms
import ConvCore

/// The engine's tolerance model, stated once:
///
///     |y − y_ref| ≤ atol + c_alg · ε · Σ|x·w|        ε = 2⁻²³ (float32 epsilon)
///
/// y_ref is the float64 reference, Σ|x·w| the sum of magnitudes of the products (and bias) that
/// form the element, c_alg the algorithm's declared constant (`ErrorModel`). atol covers products that
/// underflow: each float32 product below the normal range loses at most half a denormal ulp, so
/// atol = (K + 1) · 2⁻¹⁴⁹ for a reduction of K terms. On small-integer data an algorithm without a
/// numeric transform must match exactly: a tolerance would hide indexing bugs there.
public struct Tolerance: Sendable {
    public let constant: Double
    public let atol: Double
    public let exact: Bool
    let model: ErrorModel
    let conv: ConvDescriptor

    public static let epsilon = Double(Float.ulpOfOne)

    public init(model: ErrorModel, conv: ConvDescriptor, exact: Bool) {
        self.model = model
        self.conv = conv
        constant = model.constant(for: conv)
        atol = Double(conv.reductionLength + 1) * Double(Float.leastNonzeroMagnitude) * model.underflowGrowth
        self.exact = exact
    }

    public func bound(magnitude: Double) -> Double {
        exact ? 0 : atol + constant * Tolerance.epsilon * magnitude
    }

    /// The first element that breaks the bound, and the worst error as a fraction of its bound.
    public struct Comparison: Sendable {
        public var worstRatio: Double
        public var firstFailure: Failure?
        public var passed: Bool { firstFailure == nil }
    }

    public struct Failure: Sendable, Equatable {
        public var index: Int
        public var expected: Double
        public var actual: Float
        public var bound: Double
    }

    /// The magnitude each element's bound multiplies: Σ|x·w| of its own window, or for algorithms
    /// that mix tiles or planes the product of sums over the tile (`MixedMagnitudes`).
    public func magnitudes(_ reference: ReferenceConvolution.Result, input: Tensor, weights: Tensor, bias: Tensor?) -> [Double] {
        if model.mixing == .none { return reference.magnitudes }
        return MixedMagnitudes.compute(model.mixing, conv: conv, input: input, weights: weights, bias: bias).map(Double.init)
    }

    /// Compares with the reference; `magnitudes` defaults to the reference's own Σ|x·w|.
    public func compare(_ actual: UnsafeBufferPointer<Float>, reference: ReferenceConvolution.Result,
                        magnitudes: [Double]? = nil) -> Comparison {
        var worst = 0.0
        var failure: Failure?
        let magnitudes = magnitudes ?? reference.magnitudes
        for i in 0..<actual.count {
            let a = actual[i]
            let e = reference.values[i]
            let b = bound(magnitude: magnitudes[i])
            let err: Double
            if exact {
                err = (a.isNaN || Double(a) != Double(Float(e))) ? .infinity : 0
            } else {
                err = a.isNaN ? .infinity : abs(Double(a) - e)
            }
            let ratio = b > 0 ? err / b : (err == 0 ? 0 : .infinity)
            if ratio > worst { worst = ratio }
            if err > b && failure == nil {
                failure = Failure(index: i, expected: e, actual: a, bound: b)
            }
        }
        return Comparison(worstRatio: worst, firstFailure: failure)
    }
}
