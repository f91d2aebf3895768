import ConvModels
import Testing

@Suite struct BufferPlanTests {
    static let graphs: [ModelGraph] = [
        try! ModelCatalog.build(.deeplabv3Resnet50, ModelOptions(height: 65, width: 65, aux: true)),
        try! ModelCatalog.build(.xception, ModelOptions(height: 71, width: 71)),
        try! ModelCatalog.build(.deeplabv3PlusXception65, ModelOptions(height: 65, width: 65)),
    ]

    /// Every depthwise convolution of a graph, as the runner's `overwritableInputs` for
    /// depthwise-simd.
    static func depthwise(_ graph: ModelGraph) -> Set<Int> {
        Set(graph.convolutions.filter { $0.layer.deployedDescriptor.isDepthwise }.map(\.id.index))
    }

    /// No two values that are live at the same time share a slot (except a node that writes over
    /// the operand it reads last), and every value fits its slot; also with the depthwise layers
    /// allowed to write over their input.
    @Test(arguments: graphs.indices, [false, true])
    func liveValuesNeverShareASlot(_ index: Int, overwriting: Bool) {
        let graph = Self.graphs[index]
        let plan = BufferPlan(graph, overwritableInputs: overwriting ? Self.depthwise(graph) : [])
        if overwriting && !Self.depthwise(graph).isEmpty {  // ResNet-50 has none
            #expect(plan.inPlace.filter { $0 }.count > BufferPlan(graph).inPlace.filter { $0 }.count)
        }
        let n = graph.nodes.count
        for v in 1..<n {
            let slot = plan.slots[v]!
            #expect(graph.nodes[v].outputCount <= plan.slotCapacities[slot], "\(graph.nodes[v].name)")
            for u in 1..<v where plan.slots[u] == slot {
                // u is written first; v may reuse its slot only once u is dead (freed after its
                // last reader ran), or by writing over u in place as u's last reader.
                let handedOver = plan.inPlace[v] && graph.nodes[v].inputs[0].index == u
                #expect(plan.lastUse[u] < v || handedOver,
                        "\(graph.name): \(graph.nodes[u].name) is still needed when \(graph.nodes[v].name) overwrites it")
            }
        }
    }

    /// Reuse happens: the arena is a fraction of all activations, and no smaller than the live peak.
    @Test(arguments: graphs.indices)
    func arenaIsSmallAndAboveTheLivePeak(_ index: Int) {
        let graph = Self.graphs[index]
        let plan = BufferPlan(graph)
        let everything = graph.nodes.dropFirst().map(\.outputCount).reduce(0, +) * 4
        print("\(graph.name): arena \(plan.arenaBytes) B in \(plan.slotCapacities.count) slots, live peak \(plan.livePeakBytes) B, all activations \(everything) B")
        #expect(plan.arenaBytes >= plan.livePeakBytes)
        #expect(plan.arenaBytes * 4 < everything)
        #expect(Double(plan.arenaBytes) < 2.5 * Double(plan.livePeakBytes))
    }

    /// A new value takes the free slot freed last: in Xception's middle flow each block's first ReLU
    /// (whose depthwise layer cannot write over its input, the residual operand) goes where the
    /// previous block's input was, which that block's add has just read for the last time; the
    /// smallest free slot would be the one the add's 1×1 operand was computed from.
    @Test func newValuesTakeTheSlotFreedLast() {
        let xception = Self.graphs[1]
        let plan = BufferPlan(xception, overwritableInputs: Self.depthwise(xception))
        for block in 6...13 {
            let act = xception.id(named: "block\(block)_sepconv1_act")!.index
            let add = xception.nodes[act].inputs[0].index
            #expect(xception.nodes[add].name.hasPrefix("add"))
            let residual = xception.nodes[add].inputs[1].index
            #expect(plan.slots[act] == plan.slots[residual], "block\(block)")
        }
    }

    /// ResNet's post-addition ReLU and add run in place; a ReLU whose operand is read again does not.
    @Test func inPlaceDecisions() throws {
        let graph = Self.graphs[0]
        let plan = BufferPlan(graph)
        #expect(plan.inPlace[graph.id(named: "backbone.layer1.0.relu")!.index])
        #expect(plan.inPlace[graph.id(named: "backbone.layer1.1.add")!.index])
        let xception = Self.graphs[1]
        // block3_sepconv1_act reads add, which the shortcut conv2d_1 reads later.
        #expect(!BufferPlan(xception).inPlace[xception.id(named: "block3_sepconv1_act")!.index])
        // Overwritable depthwise layers write over an input that dies there (a 1×1 layer's output),
        // not over block1_conv2's, which the shortcut conv2d reads later, nor unless allowed.
        let overwriting = BufferPlan(xception, overwritableInputs: Self.depthwise(xception))
        for name in ["block2_sepconv2/depthwise", "block5_sepconv2/depthwise", "block14_sepconv2/depthwise"] {
            let i = xception.id(named: name)!.index
            #expect(overwriting.inPlace[i], "\(name)")
            #expect(overwriting.slots[i] == overwriting.slots[xception.nodes[i].inputs[0].index], "\(name)")
            #expect(!BufferPlan(xception).inPlace[i], "\(name)")
        }
        #expect(!overwriting.inPlace[xception.id(named: "block2_sepconv1/depthwise")!.index])
    }
}
