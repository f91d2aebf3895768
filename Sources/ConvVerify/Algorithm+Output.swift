import ConvAlgorithms
import ConvCore

/// Runs an algorithm once on a prepared case (nil if it cannot).
public struct AlgorithmOutput: ConvolutionAlgorithmLike {
    public let algorithm: any ConvolutionAlgorithm
    public init(_ algorithm: any ConvolutionAlgorithm) { self.algorithm = algorithm }

    public func output(_ conv: ConvDescriptor, _ c: PreparedCase, threads: Int) -> Tensor? {
        guard let p = try? algorithm.prepare(conv, weights: c.weights, bias: c.bias, options: AlgorithmOptions(threads: threads))
        else { return nil }
        var y = Tensor(shape: conv.outputShape)
        y.fill(.nan)
        return (try? p.run(c.input, into: &y)) != nil ? y : nil
    }
}
