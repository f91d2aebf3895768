import ConvModels
import Testing

@Suite struct BufferPlanTests {
    static let graphs: [ModelGraph] = [
        try! ModelCatalog.build(.deeplabv3Resnet50, ModelOptions(height: 65, width: 65, aux: true)),
        try! ModelCatalog.build(.xception, ModelOptions(height: 71, width: 71)),
        try! ModelCatalog.build(.deeplabv3PlusXception65, ModelOptions(height: 65, width: 65)),
    ]

    /// No two values that are live at the same time share a slot (except a node that writes over
    /// the operand it reads last), and every value fits its slot.
    @Test(arguments: graphs.indices)
    func liveValuesNeverShareASlot(_ index: Int) {
        let graph = Self.graphs[index]
        let plan = BufferPlan(graph)
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

    /// ResNet's post-addition ReLU and add run in place; a ReLU whose operand is read again does not.
    @Test func inPlaceDecisions() throws {
        let graph = Self.graphs[0]
        let plan = BufferPlan(graph)
        #expect(plan.inPlace[graph.id(named: "backbone.layer1.0.relu")!.index])
        #expect(plan.inPlace[graph.id(named: "backbone.layer1.1.add")!.index])
        let xception = Self.graphs[1]
        // block3_sepconv1_act reads add, which the shortcut conv2d_1 reads later.
        #expect(!BufferPlan(xception).inPlace[xception.id(named: "block3_sepconv1_act")!.index])
    }
}
