import ConvCore

/// The algorithms ConvBench knows, by name. The reference comes first: it is the oracle.
public struct AlgorithmRegistry: Sendable {
    public let algorithms: [any ConvolutionAlgorithm]

    public init(_ algorithms: [any ConvolutionAlgorithm]) {
        self.algorithms = algorithms
    }

    /// Every algorithm shipped with ConvBench.
    public static let standard = AlgorithmRegistry([
        ReferenceConvolution(),
        DirectConvolution(),
        Im2colGEMM(),
        PointwiseGEMM(),
        DepthwiseSIMD(),
        WinogradConvolution.f2x2,
        WinogradConvolution.f4x4,
        WinogradConvolution.f6x6,
        FFTConvolution(),
        FFTTiledConvolution(),
    ])

    /// Every algorithm a command accepts by name: the standard ones, plus fixed-parameter variants
    /// that exist to be measured against the standard choice (fft-tiled with its transform size
    /// forced to 8, 16 or 32). Default runs use `standard` only.
    public static let named = AlgorithmRegistry(standard.algorithms + [8, 16, 32].map { FFTTiledConvolution(tile: $0) })

    public var names: [String] { algorithms.map(\.name) }

    public func algorithm(named name: String) throws -> any ConvolutionAlgorithm {
        guard let a = algorithms.first(where: { $0.name == name }) else {
            throw ConvolutionError.unknownAlgorithm(name, known: names)
        }
        return a
    }

    /// The registered algorithms that support `conv`, reference included.
    public func supporting(_ conv: ConvDescriptor) -> [any ConvolutionAlgorithm] {
        algorithms.filter { $0.support(for: conv).isSupported }
    }
}
