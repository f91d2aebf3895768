import ConvAlgorithms
import ConvCore

/// Which convolution algorithm runs each convolution layer of a model.
public enum AlgorithmPolicy: Sendable, Hashable {
    /// The float64 reference everywhere: the oracle for a whole forward pass.
    case reference
    /// This algorithm wherever it supports the layer; `AlgorithmPolicy.fallback` elsewhere.
    case algorithm(String)
    /// Per layer name; layers not listed run `AlgorithmPolicy.fallback`. Every name must be a
    /// convolution of the graph and its algorithm must support that layer, or the runner refuses.
    case table([String: String])

    /// Runs every geometry, and is fast enough to be the default.
    public static let fallback = "im2col-gemm"

    /// The algorithm for one layer (`conv` is the deployed, folded descriptor).
    func choose(layer: String, conv: ConvDescriptor, registry: AlgorithmRegistry) throws -> any ConvolutionAlgorithm {
        switch self {
        case .reference:
            return try registry.algorithm(named: "reference")
        case let .algorithm(name):
            let a = try registry.algorithm(named: name)
            return a.support(for: conv).isSupported ? a : try registry.algorithm(named: Self.fallback)
        case let .table(table):
            guard let name = table[layer] else { return try registry.algorithm(named: Self.fallback) }
            let a = try registry.algorithm(named: name)
            if case let .unsupported(reason) = a.support(for: conv) {
                throw ModelError.badAlgorithmTable("\(name) cannot run layer \(layer): \(reason)")
            }
            return a
        }
    }
}
