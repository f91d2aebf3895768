import ConvAlgorithms
import ConvCore
import Testing

@Suite struct ReferenceHandCaseTests {
    func run(_ d: ConvDescriptor, _ x: [Float], _ w: [Float], _ b: [Float]? = nil) throws -> [Float] {
        let algo = ReferenceConvolution()
        let p = try algo.prepare(d, weights: Tensor(shape: d.weightShape, values: w),
                                 bias: b.map { Tensor(shape: d.biasShape, values: $0) }, options: AlgorithmOptions())
        var y = Tensor(shape: d.outputShape)
        try p.run(Tensor(shape: d.inputShape, values: x), into: &y)
        return y.scalars
    }

    @Test func twoByTwoKernelByHand() throws {
        let d = try ConvDescriptor(inChannels: 1, outChannels: 1, inHeight: 3, inWidth: 3, kernelHeight: 2, kernelWidth: 2)
        // x = 1…9 row-major; w = [[1, 0], [0, −1]]: y = x[i][j] − x[i+1][j+1] = −4 everywhere.
        #expect(try run(d, (1...9).map(Float.init), [1, 0, 0, -1]) == [-4, -4, -4, -4])
    }

    @Test func sevenBySevenOnesGivesNinesAndBias() throws {
        let d = try ConvDescriptor(inChannels: 1, outChannels: 1, inHeight: 7, inWidth: 7, kernelHeight: 3, kernelWidth: 3,
                                   hasBias: true)
        let y = try run(d, Array(repeating: 1, count: 49), Array(repeating: 1, count: 9), [0.5])
        #expect(y == Array(repeating: 9.5, count: 25))
    }

    @Test func stridedFiveByFiveByHand() throws {
        let d = try ConvDescriptor(inChannels: 1, outChannels: 1, inHeight: 5, inWidth: 5, kernelHeight: 3, kernelWidth: 3,
                                   strideHeight: 2, strideWidth: 2)
        // A ones kernel sums a 3×3 window: 9 × its centre for x[i][j] = 5i + j.
        #expect(try run(d, (0..<25).map(Float.init), Array(repeating: 1, count: 9)) == [54, 72, 144, 162])
    }

    @Test func transposedTwoByTwoScattersBackToFiveByFive() throws {
        let d = try ConvDescriptor(inChannels: 1, outChannels: 1, inHeight: 2, inWidth: 2, kernelHeight: 3, kernelWidth: 3,
                                   strideHeight: 2, strideWidth: 2, transposed: true)
        let y = try run(d, [1, 2, 3, 4], Array(repeating: 1, count: 9))
        #expect(y == [1, 1, 3, 2, 2,
                      1, 1, 3, 2, 2,
                      4, 4, 10, 6, 6,
                      3, 3, 7, 4, 4,
                      3, 3, 7, 4, 4])
    }

    @Test func paddingReadsZerosAndDilationSkips() throws {
        // 1×3 input [1 2 3], kernel 1×2 with dilation 2 and padding 1 both sides: taps at ix−1 and ix+1.
        let d = try ConvDescriptor(inChannels: 1, outChannels: 1, inHeight: 1, inWidth: 3, kernelHeight: 1, kernelWidth: 2,
                                   padLeft: 1, padRight: 1, dilationWidth: 2)
        // Output width (3 + 2 − 3) + 1 = 3: [0·1 + 2·10, 1·1 + 3·10, 2·1 + 0·10].
        #expect(try run(d, [1, 2, 3], [1, 10]) == [20, 31, 2])
    }

    @Test func groupsKeepChannelsApart() throws {
        // Two groups, 1×1 kernels: output channel g reads only input channel g.
        let d = try ConvDescriptor(groups: 2, inChannels: 2, outChannels: 2, inHeight: 1, inWidth: 2, kernelHeight: 1, kernelWidth: 1)
        #expect(try run(d, [1, 2, 10, 20], [3, 5]) == [3, 6, 50, 100])
    }
}

@Suite struct ReferenceTorchFixtureTests {
    static let fixtures: [TorchFixture] = (try? TorchFixture.loadAll()) ?? []

    @Test func fixturesArePresent() {
        #expect(Self.fixtures.count == 20)
    }

    @Test(arguments: fixtures)
    func matchesPyTorch(_ f: TorchFixture) throws {
        #expect(f.descriptor.outputShape == f.output.shape, "output shape of \(f)")
        let r = ReferenceConvolution.compute(f.descriptor, input: f.input, weights: f.weight, bias: f.bias)
        let expected = f.output.doubles
        for i in expected.indices {
            // float64 against float64: only summation order differs.
            #expect(abs(r.values[i] - expected[i]) <= 1e-12 * max(1, r.magnitudes[i]), "\(f) element \(i)")
        }
        // Through the protocol, the float32 output is the float64 result rounded.
        let p = try ReferenceConvolution().prepare(f.descriptor, weights: f.weight, bias: f.bias, options: AlgorithmOptions())
        var y = Tensor(shape: f.descriptor.outputShape)
        try p.run(f.input, into: &y)
        let ys = y.scalars
        for i in expected.indices {
            #expect(abs(Double(ys[i]) - expected[i]) <= Double(Float.ulpOfOne) * max(abs(expected[i]), 1e-30), "\(f) element \(i)")
        }
    }
}

@Suite struct RegistryTests {
    @Test func referenceIsRegisteredFirstAndLookupFailsClearly() throws {
        let registry = AlgorithmRegistry.standard
        #expect(registry.algorithms.first?.name == "reference")
        #expect(try registry.algorithm(named: "reference").name == "reference")
        #expect(Set(registry.names).count == registry.names.count, "names are unique")
        #expect(throws: ConvolutionError.self) { try registry.algorithm(named: "no-such-algorithm") }
    }

    @Test func prepareChecksShapes() throws {
        let d = try ConvDescriptor(inChannels: 2, outChannels: 3, inHeight: 4, inWidth: 4, kernelHeight: 3, kernelWidth: 3,
                                   hasBias: true)
        let algo = ReferenceConvolution()
        #expect(throws: ConvolutionError.shapeMismatch(what: "weight", expected: [3, 2, 3, 3], actual: [3, 3, 3, 2])) {
            try algo.prepare(d, weights: Tensor(shape: [3, 3, 3, 2]), bias: Tensor(shape: [3]), options: AlgorithmOptions())
        }
        #expect(throws: ConvolutionError.shapeMismatch(what: "bias", expected: [3], actual: [])) {
            try algo.prepare(d, weights: Tensor(shape: d.weightShape), bias: nil, options: AlgorithmOptions())
        }
        let p = try algo.prepare(d, weights: Tensor(shape: d.weightShape), bias: Tensor(shape: [3]), options: AlgorithmOptions())
        var y = Tensor(shape: d.outputShape)
        #expect(throws: ConvolutionError.shapeMismatch(what: "input", expected: [1, 2, 4, 4], actual: [1, 2, 4, 5])) {
            try p.run(Tensor(shape: [1, 2, 4, 5]), into: &y)
        }
    }
}
