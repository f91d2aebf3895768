import ConvAlgorithms
import ConvCore
import Testing

/// `run(_:into:relu:threads:)` must equal `run` followed by a separate ReLU, bit for bit, for every
/// algorithm: direct's 1×1 path and Winograd apply it as they store, the others through the
/// protocol's separate pass. The cases reach each store site: full 1×1 tiles and tails (a 1-pixel
/// tail, a plane shorter than one tile, a strided gather), the general direct path, Winograd's
/// partial edge tiles, a depthwise layer, grouped and transposed layers.
@Suite struct FusedReLUTests {
    static let cases: [ConvDescriptor] = {
        func conv(_ build: () throws -> ConvDescriptor) -> ConvDescriptor { try! build() }
        return [
            conv { try ConvDescriptor(inChannels: 24, outChannels: 38, inHeight: 19, inWidth: 19, kernelHeight: 1, kernelWidth: 1, hasBias: true) },
            conv { try ConvDescriptor(inChannels: 9, outChannels: 70, inHeight: 4, inWidth: 5, kernelHeight: 1, kernelWidth: 1, hasBias: true) },
            conv { try ConvDescriptor(inChannels: 16, outChannels: 20, inHeight: 15, inWidth: 15, kernelHeight: 1, kernelWidth: 1,
                                      strideHeight: 2, strideWidth: 2, hasBias: true) },
            conv { try ConvDescriptor(inChannels: 8, outChannels: 12, inHeight: 13, inWidth: 11, kernelHeight: 3, kernelWidth: 3,
                                      padTop: 1, padBottom: 1, padLeft: 1, padRight: 1, hasBias: true) },
            conv { try ConvDescriptor(inChannels: 6, outChannels: 10, inHeight: 14, inWidth: 17, kernelHeight: 3, kernelWidth: 3, hasBias: true) },
            conv { try ConvDescriptor(groups: 12, inChannels: 12, outChannels: 12, inHeight: 19, inWidth: 19, kernelHeight: 3, kernelWidth: 3,
                                      padTop: 1, padBottom: 1, padLeft: 1, padRight: 1, hasBias: true) },
            conv { try ConvDescriptor(groups: 2, inChannels: 8, outChannels: 6, inHeight: 9, inWidth: 9, kernelHeight: 3, kernelWidth: 3,
                                      strideHeight: 2, strideWidth: 2, padTop: 1, padBottom: 1, padLeft: 1, padRight: 1, hasBias: true) },
            conv { try ConvDescriptor(inChannels: 6, outChannels: 4, inHeight: 8, inWidth: 8, kernelHeight: 4, kernelWidth: 4,
                                      strideHeight: 2, strideWidth: 2, padTop: 1, padBottom: 1, padLeft: 1, padRight: 1,
                                      transposed: true, hasBias: true) },
        ]
    }()

    /// Algorithms that do not call OpenBLAS: bit-for-bit equal runs.
    static let deterministic: Set<String> = ["reference", "direct", "depthwise-simd"]

    @Test(arguments: AlgorithmRegistry.standard.names)
    func fusedReLUEqualsTheSeparatePass(_ name: String) throws {
        let algorithm = try AlgorithmRegistry.standard.algorithm(named: name)
        var covered = 0
        for (i, conv) in Self.cases.enumerated() where algorithm.support(for: conv).isSupported {
            let seed = UInt64(100 + 3 * i)
            let x = Tensor.random(shape: conv.inputShape, .normal(mean: 0, std: 1), seed: seed)
            let w = Tensor.random(shape: conv.weightShape, .normal(mean: 0, std: 1), seed: seed + 1)
            let b = Tensor.random(shape: conv.biasShape, .normal(mean: 0, std: 1), seed: seed + 2)
            for threads in [1, 2, 3] {
                let prepared = try algorithm.prepare(conv, weights: w, bias: b, options: AlgorithmOptions(threads: threads))
                var plain = Tensor(shape: conv.outputShape)
                try prepared.run(x, into: &plain)
                #expect(plain.scalars.contains { $0 < 0 } && plain.scalars.contains { $0 > 0 }, "\(conv.caseLine)")
                var fused = Tensor(shape: conv.outputShape, values: [Float](repeating: .nan, count: plain.count))
                try prepared.run(x, into: &fused, relu: true, threads: threads)
                var unfused = Tensor(shape: conv.outputShape)
                try prepared.run(x, into: &unfused, relu: false, threads: threads)
                let expected = plain.scalars.map { $0 < 0 ? 0 : $0 }
                if Self.deterministic.contains(name) {
                    #expect(fused.scalars == expected, "\(name) on \(conv.caseLine), \(threads) threads")
                    #expect(unfused.scalars == plain.scalars, "\(name) on \(conv.caseLine), \(threads) threads, relu off")
                } else {
                    // Two runs through OpenBLAS may round differently (its thread count is process-wide
                    // and other tests change it): equal within rounding, no negative, zero where the
                    // output is clearly negative.
                    let scale = plain.scalars.map { abs($0) }.max()!, slack = 1e-5 * scale
                    #expect(zip(fused.scalars, expected).allSatisfy { abs($0 - $1) <= slack } && !fused.scalars.contains { $0 < 0 }
                            && zip(fused.scalars, plain.scalars).allSatisfy { $1 < -slack ? $0 == 0 : true },
                            "\(name) on \(conv.caseLine), \(threads) threads")
                    #expect(zip(unfused.scalars, plain.scalars).allSatisfy { abs($0 - $1) <= slack },
                            "\(name) on \(conv.caseLine), \(threads) threads, relu off")
                }
            }
            covered += 1
        }
        #expect(covered > 0, "\(name) supports none of the cases")
    }
}
