import ConvAlgorithms
import ConvCore

/// The policy for non-finite inputs, checked apart from the tolerance runs:
/// - where the float64 reference is NaN, the output must be NaN (NaN in → NaN out);
/// - where the reference is ±∞, the output must be the same infinity;
/// - where the reference is finite, the output must be finite and within the tolerance
///   (nothing invented).
/// Algorithms without a numeric transform (`ErrorModel.exactOnIntegers`) must follow it exactly.
/// Transform algorithms (Winograd, FFT) mix every input of a tile or image into every output of
/// it, so one NaN legitimately spreads; for them the check reports how far, without failing.
public enum NonFinitePolicy {
    public struct Result: Sendable {
        public var algorithm: String
        public var cases = 0
        /// Reference NaN or ∞ where the output was something else.
        public var lost = 0
        /// Reference finite where the output was non-finite or out of tolerance.
        public var invented = 0
        /// Whether the algorithm must follow the policy exactly.
        public var binding: Bool
        /// The first violation, as a case line and element.
        public var example: String?

        public var violated: Bool { binding && (lost > 0 || invented > 0) }
    }

    /// Runs `cases` generated cases with one NaN and one +∞ planted in the input.
    public static func check(_ algorithm: any ConvolutionAlgorithm, cases: Int, seed: UInt64, threads: Int = 2) -> Result {
        var result = Result(algorithm: algorithm.name, binding: algorithm.errorModel.exactOnIntegers)
        var rng = SeededGenerator(seed: seed)
        let generator = CaseGenerator(maxMACs: 100_000)
        var tried = 0
        while result.cases < cases && tried < cases * 20 {
            tried += 1
            let conv = generator.next(&rng)
            guard algorithm.support(for: conv).isSupported else { continue }
            var (x, w, b) = DataKind.normal.tensors(for: conv, seed: rng.next())
            let n = x.count
            x[Int(rng.next() % UInt64(n))] = .nan
            x[Int(rng.next() % UInt64(n))] = .infinity
            let reference = ReferenceConvolution.compute(conv, input: x, weights: w, bias: b)
            guard let p = try? algorithm.prepare(conv, weights: w, bias: b, options: AlgorithmOptions(threads: threads)) else { continue }
            var y = Tensor(shape: conv.outputShape)
            y.fill(-7)    // a finite sentinel: here NaN pre-fill would hide a lost NaN
            guard (try? p.run(x, into: &y)) != nil else { continue }
            result.cases += 1
            let tolerance = Tolerance(model: algorithm.errorModel, conv: conv, exact: false)
            let magnitudes = tolerance.magnitudes(reference, input: x, weights: w, bias: b)
            for i in 0..<y.count {
                let e = reference.values[i], a = y[i]
                var bad: String?
                if e.isNaN {
                    if !a.isNaN { result.lost += 1; bad = "expected NaN, got \(a)" }
                } else if e.isInfinite {
                    if Double(a) != e { result.lost += 1; bad = "expected \(e), got \(a)" }
                } else if !a.isFinite || abs(Double(a) - e) > tolerance.bound(magnitude: magnitudes[i]) {
                    result.invented += 1
                    bad = "expected \(e), got \(a)"
                }
                if let bad, result.example == nil {
                    result.example = "\(conv.caseLine) element \(i): \(bad)"
                }
            }
        }
        return result
    }
}
