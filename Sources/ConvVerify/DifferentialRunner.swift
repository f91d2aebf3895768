import ConvAlgorithms
import ConvCore

/// What happened when one algorithm ran one case.
public enum Verdict: Sendable {
    case passed(worstRatio: Double)
    case failed(Tolerance.Failure, worstRatio: Double)
    case unsupported(String)
    case threw(String)

    public var isFailure: Bool {
        switch self {
        case .failed, .threw: return true
        default: return false
        }
    }
}

/// One case with its data and its float64 reference, computed once and shared by every algorithm.
public struct PreparedCase: Sendable {
    public let conv: ConvDescriptor
    public let data: DataKind
    public let dataSeed: UInt64
    public let input: Tensor
    public let weights: Tensor
    public let bias: Tensor?
    public let reference: ReferenceConvolution.Result

    public init(_ conv: ConvDescriptor, data: DataKind, dataSeed: UInt64) {
        self.conv = conv
        self.data = data
        self.dataSeed = dataSeed
        (input, weights, bias) = data.tensors(for: conv, seed: dataSeed)
        reference = ReferenceConvolution.compute(conv, input: input, weights: weights, bias: bias)
    }

    /// Fraction of output elements that at least one nonzero input·weight product reaches. Below
    /// `DifferentialRunner.minimumInformative`, a kernel that ignores its input could pass: the case is
    /// mistrusted (oneDNN benchdnn's MISTRUSTED), not counted as a pass.
    public var informativeFraction: Double {
        guard conv.outputCount > 0 else { return 0 }
        let plane = conv.outHeight * conv.outWidth
        var informative = 0
        for i in 0..<conv.outputCount {
            let b = bias.map { abs(Double($0[(i / plane) % conv.outChannels])) } ?? 0
            if reference.magnitudes[i] > b { informative += 1 }
        }
        return Double(informative) / Double(conv.outputCount)
    }

    public var isMistrusted: Bool {
        data == .zeros || informativeFraction < DifferentialRunner.minimumInformative
    }
}

/// Runs an algorithm on a prepared case and judges it against the reference. Before each run the
/// output is filled with NaN and exposed workspaces with a byte pattern, so an element never written
/// or a scratch value never initialized shows up as a failure.
public struct DifferentialRunner: Sendable {
    public static let minimumInformative = 0.1
    public var threads: Int

    public init(threads: Int = 1) { self.threads = threads }

    public func check(_ algorithm: any ConvolutionAlgorithm, on c: PreparedCase) -> Verdict {
        if case let .unsupported(reason) = algorithm.support(for: c.conv) { return .unsupported(reason) }
        do {
            let prepared = try algorithm.prepare(c.conv, weights: c.weights, bias: c.bias,
                                                 options: AlgorithmOptions(threads: threads))
            (prepared as? WorkspaceExposing)?.workspaces.forEach { $0.poison() }
            var y = Tensor(shape: c.conv.outputShape)
            y.fill(.nan)
            try prepared.run(c.input, into: &y)
            let tolerance = Tolerance(model: algorithm.errorModel, conv: c.conv,
                                      exact: c.data.demandsExactness && algorithm.errorModel.exactOnIntegers)
            let magnitudes = tolerance.magnitudes(c.reference, input: c.input, weights: c.weights, bias: c.bias)
            let comparison = y.withUnsafeBufferPointer { tolerance.compare($0, reference: c.reference, magnitudes: magnitudes) }
            if let f = comparison.firstFailure { return .failed(f, worstRatio: comparison.worstRatio) }
            return .passed(worstRatio: comparison.worstRatio)
        } catch {
            return .threw("\(error)")
        }
    }
}
