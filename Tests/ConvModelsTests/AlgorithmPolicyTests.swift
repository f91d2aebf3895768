import ConvAlgorithms
import ConvCore
import ConvModels
import Testing

@Suite struct AlgorithmPolicyTests {
    static let graph = try! ModelCatalog.build(.xception, ModelOptions(height: 71, width: 71))
    static let weights = ModelWeights(graph)

    func assignments(_ policy: AlgorithmPolicy) throws -> [String: String] {
        let runner = try ModelRunner(graph: Self.graph, policy: policy, weights: Self.weights)
        return Dictionary(uniqueKeysWithValues: runner.assignments.map { ($0.layer, $0.algorithm) })
    }

    /// An algorithm runs where it can, the stated fallback elsewhere.
    @Test func algorithmFallsBackWhereUnsupported() throws {
        let a = try assignments(.algorithm("depthwise-simd"))
        #expect(a["block5_sepconv1/depthwise"] == "depthwise-simd")
        #expect(a["block5_sepconv1/pointwise"] == AlgorithmPolicy.fallback)
        #expect(a["block1_conv1"] == "im2col-gemm")
        #expect(try assignments(.reference).values.allSatisfy { $0 == "reference" })
    }

    @Test func tableOverridesPerLayer() throws {
        let a = try assignments(.table(["block1_conv1": "direct", "conv2d": "pointwise-gemm"]))
        #expect(a["block1_conv1"] == "direct" && a["conv2d"] == "pointwise-gemm")
        #expect(a["block2_sepconv1/depthwise"] == "im2col-gemm")
    }

    @Test func badTablesAreRefused() {
        #expect(throws: ModelError.self) { try assignments(.table(["no_such_layer": "direct"])) }
        #expect(throws: ModelError.self) { try assignments(.table(["block1_conv1": "depthwise-simd"])) }
        #expect(throws: ConvolutionError.self) { try assignments(.table(["block1_conv1": "nope"])) }
        #expect(throws: ConvolutionError.self) { try assignments(.algorithm("nope")) }
    }

    @Test func runnerChecksTheInputShape() throws {
        let runner = try ModelRunner(graph: Self.graph, policy: .algorithm("im2col-gemm"), weights: Self.weights)
        #expect(throws: ConvolutionError.self) { try runner.run(Tensor(shape: [1, 3, 72, 71])) }
        #expect(runner.workspaceBytes > 0)
    }
}
