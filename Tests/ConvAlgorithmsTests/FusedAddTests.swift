import ConvAlgorithms
import ConvCore
import Testing

/// direct's 1×1 path adds a tensor as it stores (`AddendFusing`): the same bits as running the
/// convolution and then `ActivationKernels.add`, with the addend in its own memory or in the output's
/// (the residual add running in place), with and without the ReLU after it, at 1–3 threads. Cases:
/// full tiles and a 1-pixel tail, a plane shorter than one tile, a strided gather, groups, batch 2,
/// and a small plane under many output channels (split by output-channel blocks at 2–3 threads).
/// Other geometries refuse.
@Suite struct FusedAddTests {
    static let cases: [ConvDescriptor] = [
        try! ConvDescriptor(inChannels: 24, outChannels: 38, inHeight: 19, inWidth: 19, kernelHeight: 1, kernelWidth: 1, hasBias: true),
        try! ConvDescriptor(inChannels: 9, outChannels: 70, inHeight: 4, inWidth: 5, kernelHeight: 1, kernelWidth: 1, hasBias: true),
        try! ConvDescriptor(inChannels: 16, outChannels: 20, inHeight: 15, inWidth: 15, kernelHeight: 1, kernelWidth: 1,
                            strideHeight: 2, strideWidth: 2, hasBias: true),
        try! ConvDescriptor(batch: 2, groups: 2, inChannels: 12, outChannels: 10, inHeight: 7, inWidth: 9, kernelHeight: 1,
                            kernelWidth: 1, hasBias: true),
        try! ConvDescriptor(inChannels: 33, outChannels: 62, inHeight: 7, inWidth: 7, kernelHeight: 1, kernelWidth: 1, hasBias: true),
    ]

    @Test(arguments: [false, true])
    func addsAsItStores(relu: Bool) throws {
        for (i, conv) in Self.cases.enumerated() {
            let seed = UInt64(300 + 4 * i)
            let x = Tensor.random(shape: conv.inputShape, .normal(mean: 0, std: 1), seed: seed)
            let w = Tensor.random(shape: conv.weightShape, .normal(mean: 0, std: 1), seed: seed + 1)
            let b = Tensor.random(shape: conv.biasShape, .normal(mean: 0, std: 1), seed: seed + 2)
            let r = Tensor.random(shape: conv.outputShape, .normal(mean: 0, std: 2), seed: seed + 3)
            for threads in [1, 2, 3] {
                let prepared = try #require(try DirectConvolution().prepare(conv, weights: w, bias: b,
                                                                            options: AlgorithmOptions(threads: threads)) as? any AddendFusing)
                #expect(prepared.fusesAddend)
                var plain = Tensor(shape: conv.outputShape)
                try prepared.run(x, into: &plain)
                var sum = Tensor(shape: conv.outputShape)
                plain.withUnsafeBufferPointer { p in
                    r.withUnsafeBufferPointer { q in
                        sum.withUnsafeMutableBufferPointer {
                            ActivationKernels.add(p.baseAddress!, q.baseAddress!, $0.baseAddress!, count: $0.count, threads: 1)
                        }
                    }
                }
                let expected = relu ? sum.scalars.map { $0 < 0 ? 0 : $0 } : sum.scalars
                var fused = Tensor(shape: conv.outputShape, values: [Float](repeating: .nan, count: plain.count))
                try prepared.run(x, adding: r, into: &fused, relu: relu)
                #expect(fused.scalars == expected, "\(conv.caseLine), \(threads) threads")
                // In place: the addend is the output's own memory.
                let memory = Workspace(count: r.count)
                r.withUnsafeBufferPointer { memory.pointer.update(from: $0.baseAddress!, count: r.count) }
                var output = Tensor(viewing: memory.pointer, shape: conv.outputShape, owner: memory)
                let addend = Tensor(viewing: memory.pointer, shape: conv.outputShape, owner: memory)
                try prepared.run(x, adding: addend, into: &output, relu: relu)
                #expect(output.baseAddress == UnsafePointer(memory.pointer))
                #expect(output.scalars == expected, "\(conv.caseLine), \(threads) threads, in place")
            }
        }
    }

    @Test func otherGeometriesRefuse() throws {
        let conv = try ConvDescriptor(inChannels: 4, outChannels: 4, inHeight: 6, inWidth: 6, kernelHeight: 3, kernelWidth: 3)
        let prepared = try #require(try DirectConvolution().prepare(
            conv, weights: Tensor.random(shape: conv.weightShape, .normal(mean: 0, std: 1), seed: 1), bias: nil,
            options: AlgorithmOptions()) as? any AddendFusing)
        #expect(!prepared.fusesAddend)
        var y = Tensor(shape: conv.outputShape)
        #expect(throws: ConvolutionError.self) {
            try prepared.run(Tensor(shape: conv.inputShape), adding: Tensor(shape: conv.outputShape), into: &y, relu: false)
        }
    }
}
