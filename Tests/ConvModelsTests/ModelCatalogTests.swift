import ConvModels
import Testing

@Suite struct ModelCatalogTests {
    @Test func namesParse() throws {
        for name in ModelName.allCases { #expect(try ModelName(parsing: name.rawValue) == name) }
        #expect(throws: ModelError.unknownModel("resnet", known: ModelName.allCases.map(\.rawValue))) {
            try ModelName(parsing: "resnet")
        }
    }

    @Test func optionsAModelDoesNotHaveAreRefused() {
        #expect(throws: ModelError.self) { try ModelCatalog.build(.xception, ModelOptions(height: 299, width: 299, aux: true)) }
        #expect(throws: ModelError.self) {
            try ModelCatalog.build(.deeplabv3Paper, ModelOptions(height: 513, width: 513, includeTop: false))
        }
        #expect(throws: ModelError.inputTooSmall(model: "xception", minimum: 71, height: 70, width: 299)) {
            try ModelCatalog.build(.xception, ModelOptions(height: 70, width: 299))
        }
    }

    /// The output sizes the papers' code produces: DeepLab v3+ at 513 has low-level features at
    /// 129 and ASPP at 33 (output stride 16); the paper's DeepLab v3 also runs ASPP at 33.
    @Test func outputStrides() throws {
        let plus = try ModelCatalog.build(.deeplabv3PlusXception65, .defaults(for: .deeplabv3PlusXception65))
        #expect(plus[plus.id(named: "aspp0")!].outputShape == [1, 256, 33, 33])
        #expect(plus[plus.id(named: "decoder/feature_projection0")!].outputShape == [1, 48, 129, 129])
        #expect(plus[plus.outputs[0]].outputShape == [1, 21, 513, 513])
        let paper = try ModelCatalog.build(.deeplabv3Paper, .defaults(for: .deeplabv3Paper))
        #expect(paper[paper.id(named: "classifier.0.convs.1.0")!].outputShape == [1, 256, 33, 33])
        // Multi-grid (1, 2, 4) at rate 2.
        let rates = (0..<3).map { unit -> Int in
            guard case let .convolution(c) = paper[paper.id(named: "backbone.layer4.\(unit).conv2")!].op else { return 0 }
            return c.descriptor.dilationHeight
        }
        #expect(rates == [2, 4, 8])
    }

    /// Distill-style receptive fields: the ResNet stem by hand (7×7/2 → 7, pool 3×3/2 → 7 + 2·2 = 11,
    /// then a 3×3 at jump 4 → 19), dilation, and global paths.
    @Test func receptiveFields() throws {
        let g = try ModelCatalog.build(.deeplabv3Resnet50, ModelOptions(height: 65, width: 65))
        let rf = g.receptiveFields
        func at(_ name: String) -> ReceptiveField { rf[g.id(named: name)!.index] }
        #expect(at("backbone.conv1").pixels == (7, 7) as (Int, Int))
        #expect(at("backbone.maxpool").pixels.height == 11)
        #expect(at("backbone.layer1.0.conv2").pixels.height == 19)
        #expect(at("backbone.layer1.0.conv2").jumpHeight == 4)
        // layer4.1.conv2: dilation 4 at jump 8 adds (9 − 1)·8 = 64 to its input's field.
        let before = at("backbone.layer4.1.conv1").height
        #expect(at("backbone.layer4.1.conv2").height == before + 64)
        #expect(!at("classifier.0.convs.3.0").global)
        #expect(at("classifier.0.cat").global && at("classifier.0.cat").height >= at("classifier.0.convs.3.0").height)
        #expect(at("classifier.0.convs.3.0").description.hasSuffix("x\(at("classifier.0.convs.3.0").pixels.width)"))
    }
}

/// Reports group time, parameters and FLOPs by `Node.block`: each model's blocks are its real
/// parts, in execution order, and every node has one.
@Suite struct ModelBlockTests {
    func blocks(_ model: ModelName, _ size: Int) throws -> [String] {
        let g = try ModelCatalog.build(model, ModelOptions(height: size, width: size))
        var order: [String] = []
        for n in g.nodes.dropFirst() where order.last != n.block {
            #expect(!order.contains(n.block), "\(model): block \(n.block) comes back at \(n.name)")
            order.append(n.block)
        }
        return order
    }

    @Test func xceptionBlocksAreKerasBlocks() throws {
        // The shortcut `conv2d_1` and `add_1` belong to block 3, not to blocks of their own.
        #expect(try blocks(.xception, 71) == (1...14).map { "block\($0)" } + ["top"])
        let g = try ModelCatalog.build(.xception, ModelOptions(height: 71, width: 71))
        #expect(g[g.id(named: "conv2d_1")!].block == "block3" && g[g.id(named: "add_1")!].block == "block3")
    }

    @Test func deeplabBlocksAreStagesAndHeads() throws {
        #expect(try blocks(.deeplabv3Resnet50, 65) == ["backbone.stem", "backbone.layer1", "backbone.layer2", "backbone.layer3",
                                                       "backbone.layer4", "classifier.0 (ASPP)", "classifier (head)"])
        let plus = try blocks(.deeplabv3PlusXception65, 65)
        #expect(plus.first == "entry_flow/stem" && plus.suffix(3) == ["aspp", "decoder", "logits"])
        #expect(plus.contains("middle_flow/block1/unit_16") && plus.count == 1 + 3 + 16 + 2 + 3)
    }
}
