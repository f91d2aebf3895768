import ConvAlgorithms
import ConvCore
import ConvModels
import Foundation
import Testing

/// A model at a reduced input with its weights, an input and the `.reference` policy's outputs,
/// computed once and shared by the tests.
struct ForwardCase: Sendable, CustomStringConvertible {
    let graph: ModelGraph
    let weights: ModelWeights
    let input: Tensor
    let reference: [Tensor]
    /// One layer the deliberately broken algorithm can run (it has bottom padding).
    let victim: String

    var description: String { graph.name }

    init(_ name: ModelName, size: Int, aux: Bool = false, outputs: [String]? = nil, victim: String) throws {
        var g = try ModelCatalog.build(name, ModelOptions(height: size, width: size, aux: aux, seed: 11))
        if let outputs { g = try g.returning(outputs) }
        graph = g
        weights = ModelWeights(g)
        input = Tensor.random(shape: g.inputShape, .uniform(low: -1, high: 1), seed: 5)
        reference = try ModelRunner(graph: g, policy: .reference, weights: weights).run(input)
        self.victim = victim
    }

    static let deeplab = try! ForwardCase(.deeplabv3Resnet50, size: 65, aux: true, victim: "backbone.layer4.1.conv2")
    /// Xception's softmax saturates with random weights, so the features and logits are compared too.
    static let xception = try! ForwardCase(
        .xception, size: 71, outputs: ["block14_sepconv2/pointwise", "predictions", "predictions/softmax"],
        victim: "block7_sepconv2/depthwise")
    static let deeplabPlus = try! ForwardCase(.deeplabv3PlusXception65, size: 65,
                                              victim: "xception_65/middle_flow/block1/unit_9/xception_module/separable_conv1_depthwise")

    /// The tolerance on max |y − y_ref| / max |y_ref|, per output, for a correct float32 policy:
    ///     4 · ε · Σ_conv √K        (ε = 2⁻²³, K = (Cin/g)·kH·kW + bias)
    /// Each convolution's float32 rounding error relative to its output scale is about √K·ε
    /// (probabilistic bound: rounding errors behave like independent zero-mean terms; Higham and
    /// Mary 2019, "A New Approach to Probabilistic Rounding Error Analysis"), its worst case K·ε.
    /// To first order, errors pass through later layers with unit gain (He initialization keeps the
    /// scale) and add up, so the sum over every convolution bounds the end-to-end relative error;
    /// 4 is a safety factor. This gives 1.0e-3 for DeepLab v3 ResNet-50 with aux head and 5e-4 for
    /// Xception, while correct algorithms land near 1e-6 (measured: 2e-6 for direct, 1e-6 for
    /// im2col-gemm). A real bug in a single layer lands far above: the shifted-padding algorithm
    /// in one layer gives relative errors of 0.1–1.
    var tolerance: Double {
        4 * Double(Float.ulpOfOne) * graph.convolutions.map { Double($0.layer.deployedDescriptor.reductionLength).squareRoot() }
            .reduce(0, +)
    }

    /// max |y − y_ref| / max |y_ref| for each output.
    func relativeErrors(_ outputs: [Tensor]) -> [Double] {
        zip(outputs, reference).map { y, r in
            let scale = r.scalars.map { Double(abs($0)) }.max()!
            let diff = zip(y.scalars, r.scalars).map { Double(abs($0 - $1)) }.max()!
            return diff / scale
        }
    }

    func run(_ policy: AlgorithmPolicy, registry: AlgorithmRegistry = .standard) throws -> [Double] {
        relativeErrors(try ModelRunner(graph: graph, policy: policy, registry: registry, weights: weights).run(input))
    }

    /// pointwise-gemm on 1×1, depthwise-simd on depthwise, the rest alternating direct and im2col-gemm.
    var mixedTable: [String: String] {
        var table: [String: String] = [:]
        for (i, c) in graph.convolutions.enumerated() {
            let d = c.layer.deployedDescriptor
            table[c.node.name] = d.isPointwise && PointwiseGEMM().support(for: d).isSupported ? "pointwise-gemm"
                : d.isDepthwise ? "depthwise-simd" : (i % 2 == 0 ? "direct" : "im2col-gemm")
        }
        return table
    }
}

@Suite struct ForwardPassTests {
    enum Policy: String, CaseIterable, Sendable { case direct, im2colGEMM = "im2col-gemm", mixedTable = "mixed-table" }

    static let cases: [@Sendable () -> ForwardCase] = [{ .deeplab }, { .xception }, { .deeplabPlus }]

    /// Every fast policy agrees with the reference policy within the composed tolerance.
    @Test(arguments: [0, 1, 2], Policy.allCases)
    func fastPolicyMatchesReference(_ model: Int, _ policy: Policy) throws {
        let c = Self.cases[model]()
        let p: AlgorithmPolicy = switch policy {
        case .direct: .algorithm("direct")
        case .im2colGEMM: .algorithm("im2col-gemm")
        case .mixedTable: .table(c.mixedTable)
        }
        let errors = try c.run(p)
        print("\(c) \(policy.rawValue): relative errors \(errors) (tolerance \(c.tolerance))")
        #expect(c.reference.allSatisfy { t in t.scalars.allSatisfy(\.isFinite) })
        for e in errors { #expect(e <= c.tolerance, "\(c) \(policy.rawValue)") }
    }

    /// The comparison can fail: one layer run by a deliberately broken algorithm exceeds it.
    @Test(arguments: [0, 1, 2])
    func brokenLayerExceedsTolerance(_ model: Int) throws {
        let c = Self.cases[model]()
        let registry = AlgorithmRegistry(AlgorithmRegistry.standard.algorithms + [ShiftedPaddingConvolution()])
        let errors = try c.run(.table([c.victim: "broken-shifted-padding"]), registry: registry)
        print("\(c) with \(c.victim) broken: relative errors \(errors) (tolerance \(c.tolerance))")
        // Every output downstream of the victim is wrong (Xception's saturated softmax may hide it).
        #expect(errors.max()! > 10 * c.tolerance)
    }

    /// Plain passes skip the ReLUs whose one reader is a depthwise-simd layer (it applies them as
    /// it copies each input plane) and the residual adds that direct's 1×1 path computes as it stores
    /// the convolution just before them, with the ReLU after such an add when it is the add's only
    /// reader: the same bits as the pass that computes every node.
    /// Xception's blocks 3–13 start with such a ReLU on the residual stream (read again by the
    /// block's add) and its middle flow ends each block with such an add; DeepLab v3+'s Xception-65
    /// also has ReLUs written over their operand (in place); ResNet's bottlenecks add either the
    /// identity after conv3 or conv3's output inside the strided shortcut convolution. direct runs
    /// the other layers: OpenBLAS's rounding can change with the thread count that concurrently
    /// running tests set, direct's does not.
    @Test(arguments: [0, 1, 2])
    func fusedNodesGiveTheObservedBits(_ model: Int) throws {
        let c = Self.cases[model]()
        var table: [String: String] = [:]
        for conv in c.graph.convolutions {
            table[conv.node.name] = conv.layer.deployedDescriptor.isDepthwise ? "depthwise-simd" : "direct"
        }
        let runner = try ModelRunner(graph: c.graph, policy: .table(table), options: AlgorithmOptions(threads: 2),
                                     weights: c.weights)
        switch model {
        case 0:
            #expect(runner.fusedReLUs.isEmpty)
            #expect(runner.fusedAdds.count == 16, "\(runner.fusedAdds)")
            #expect(runner.fusedReLUsAfterAdds.count == 16, "\(runner.fusedReLUsAfterAdds)")
            #expect(runner.fusedReLUsAfterAdds.contains("backbone.layer4.2.relu"))
        case 1:
            #expect(runner.fusedReLUs.count == 11)
            #expect(runner.fusedReLUs.contains("block3_sepconv1_act") && runner.fusedReLUs.contains("block13_sepconv1_act"))
            // The middle flow's last 1×1 layers and the four strided shortcuts (each just after its
            // block's pool) add as they store.
            #expect(runner.fusedAdds == ["add"] + (1...11).map { "add_\($0)" }, "\(runner.fusedAdds)")
            // Each middle-flow sum is also the next block's residual: its ReLU is not the only reader.
            #expect(runner.fusedReLUsAfterAdds.isEmpty)
        default:
            let relus = c.graph.nodes.indices.filter { runner.graph.nodes[$0].op.kind == "relu" }
            #expect(runner.fusedReLUs.contains { name in relus.contains { c.graph.nodes[$0].name == name && runner.plan.inPlace[$0] } })
        }
        let fused = try runner.run(c.input)
        let observed = try runner.run(c.input) { _, _, _ in }
        for (f, o) in zip(fused, observed) {
            let differing = zip(f.scalars, o.scalars).filter { $0 != $1 }.count
            #expect(differing == 0, "\(differing) of \(f.count) elements differ")
        }
        // im2col-gemm reads its input as it is and stores through OpenBLAS: nothing fuses.
        let plain = try ModelRunner(graph: c.graph, policy: .algorithm("im2col-gemm"), weights: c.weights)
        #expect(plain.fusedReLUs.isEmpty && plain.fusedAdds.isEmpty && plain.fusedReLUsAfterAdds.isEmpty)
    }

    /// depthwise-simd layers whose input dies there write over it (Xception's second and third
    /// depthwise layers of each block, block 2's at 147×147 among them), with the same bits as
    /// the same algorithm given output memory of its own.
    @Test func overwritingDepthwiseGivesTheSameBits() throws {
        let c = Self.cases[1]()
        let registry = AlgorithmRegistry(AlgorithmRegistry.standard.algorithms + [CopyingDepthwise()])
        func runner(_ depthwise: String) throws -> ModelRunner {
            var table: [String: String] = [:]
            for conv in c.graph.convolutions {
                table[conv.node.name] = conv.layer.deployedDescriptor.isDepthwise ? depthwise : "direct"
            }
            return try ModelRunner(graph: c.graph, policy: .table(table), registry: registry,
                                   options: AlgorithmOptions(threads: 2), weights: c.weights)
        }
        let overwriting = try runner("depthwise-simd"), copying = try runner("depthwise-simd-copying")
        let dw2 = c.graph.id(named: "block2_sepconv2/depthwise")!.index
        #expect(overwriting.plan.inPlace[dw2] && !copying.plan.inPlace[dw2])
        for (a, b) in zip(try overwriting.run(c.input), try copying.run(c.input)) {
            let differing = zip(a.scalars, b.scalars).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "\(differing) of \(a.count) elements differ")
        }
    }

    @Test func toleranceIsComposedFromTheModel() {
        let t = ForwardCase.deeplab.tolerance
        #expect(t > 5e-4 && t < 2e-3)
    }
}
