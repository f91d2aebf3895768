import ConvCore
import ConvModels
import Testing

/// The graphs against the layer lists the frameworks themselves produced.
@Suite struct FixtureAgreementTests {
    static let fixtures: [ModelFixture] = ModelFixture.rebuilt.map { try! ModelFixture.load($0) }

    /// Every convolution, in order: name, shapes, kernel, stride, padding, dilation, groups, bias,
    /// parameters and MACs.
    @Test(arguments: fixtures)
    func convolutionsMatchLayerByLayer(_ fixture: ModelFixture) throws {
        let graph = try fixture.buildGraph()
        let expected = fixture.layers.filter { $0.kind == "conv" }
        let actual = graph.convolutions
        #expect(actual.count == expected.count && actual.count == fixture.conv_count)
        for (e, a) in zip(expected, actual) {
            let d = a.layer.descriptor
            let context = "\(fixture): \(e.name)"
            #expect(a.node.name == e.name, "\(context): got \(a.node.name)")
            #expect(d.inputShape == e.in_shape, "\(context)")
            #expect(d.outputShape == e.out_shape, "\(context)")
            #expect(a.node.outputShape == e.out_shape, "\(context)")
            #expect([d.inChannels, d.outChannels] == [e.in_channels, e.out_channels], "\(context)")
            #expect([d.kernelHeight, d.kernelWidth] == e.kernel, "\(context)")
            #expect([d.strideHeight, d.strideWidth] == e.stride, "\(context)")
            #expect([d.dilationHeight, d.dilationWidth] == e.dilation, "\(context)")
            #expect(d.groups == e.groups, "\(context)")
            #expect(d.hasBias == e.bias, "\(context)")
            if let pads = e.pads {
                #expect([d.padTop, d.padBottom, d.padLeft, d.padRight] == pads, "\(context)")
            } else {
                let p = try #require(e.padding)
                #expect([d.padTop, d.padBottom, d.padLeft, d.padRight] == [p[0], p[0], p[1], p[1]], "\(context)")
            }
            #expect(d.parameterCount == e.params, "\(context)")
            #expect(d.multiplyAccumulates == e.macs, "\(context)")
        }
    }

    /// Batch norms (folded into the convolutions here) in the same order, with the same names,
    /// channels, epsilon and counts.
    @Test(arguments: fixtures)
    func batchNormsMatch(_ fixture: ModelFixture) throws {
        let graph = try fixture.buildGraph()
        let expected = fixture.layers.filter { $0.kind == "bn" }
        let actual = graph.convolutions.compactMap(\.layer.batchNorm)
        #expect(actual.count == expected.count)
        for (e, a) in zip(expected, actual) {
            #expect(a.name == e.name)
            #expect(a.channels == e.num_features, "\(e.name)")
            #expect(abs(a.epsilon - e.eps!) < 1e-12, "\(e.name)")
            #expect(a.affineCount == e.params, "\(e.name)")
            if let b = e.buffers { #expect(a.statisticsCount == b, "\(e.name)") }
        }
    }

    /// Max pools (with Keras' uneven 'same' padding at even sizes) and the dense layer.
    @Test(arguments: fixtures)
    func poolsAndLinearLayersMatch(_ fixture: ModelFixture) throws {
        let graph = try fixture.buildGraph()
        for e in fixture.layers where e.kind == "maxpool" || e.kind == "linear" {
            let id = try #require(graph.id(named: e.name), "\(fixture): no node \(e.name)")
            let node = graph[id]
            #expect(node.outputShape == e.out_shape, "\(e.name)")
            switch node.op {
            case let .maxPool(g):
                #expect([g.kernelHeight, g.kernelWidth] == e.kernel && [g.strideHeight, g.strideWidth] == e.stride)
                let pads = e.pads ?? e.padding.map { [$0[0]!, $0[0]!, $0[1]!, $0[1]!] }
                #expect([g.padTop, g.padBottom, g.padLeft, g.padRight] == pads, "\(e.name)")
                #expect(g.ceilMode == (e.ceil_mode ?? false))
            case .fullyConnected:
                #expect(node.parameterCounts.trainable == e.params, "\(e.name)")
            default:
                Issue.record("\(e.name) is \(node.op.kind)")
            }
        }
    }

    /// Totals as the framework reported them: PyTorch `parameters()` and buffers, Keras
    /// `count_params()` and trainable weights, conv MACs.
    @Test(arguments: fixtures)
    func totalsMatch(_ fixture: ModelFixture) throws {
        let graph = try fixture.buildGraph()
        let p = graph.parameterCounts
        if fixture.isKeras {
            #expect(p.keras == fixture.parameters)
            #expect(p.trainable == fixture.trainable_parameters)
        } else {
            #expect(p.trainable == fixture.parameters)
            #expect(p.batchNormStatistics == fixture.buffers)
        }
        #expect(graph.convolutionMACs == fixture.conv_macs)
    }
}
