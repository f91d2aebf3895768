import ConvAlgorithms
import ConvCore
import ConvModels
import Foundation
import Testing

/// The cheap operations, each on a tiny graph through `ModelRunner`, against values worked out by
/// hand from the frameworks' definitions.
@Suite struct OperationTests {
    /// Builds a one-operation graph on an input of `shape` holding `values`, runs it, returns the output.
    func run(_ shape: [Int], _ values: [Float], _ build: (inout GraphBuilder, NodeID) throws -> NodeID) throws -> Tensor {
        var b = GraphBuilder(model: "test", inputShape: shape, seed: 1, batchNormEpsilon: 1e-5)
        let y = try build(&b, b.input)
        let runner = try ModelRunner(graph: b.finish(outputs: [y]), policy: .reference)
        return try runner.run(Tensor(shape: shape, values: values))[0]
    }

    func ramp(_ n: Int) -> [Float] { (0..<n).map(Float.init) }

    /// PyTorch: F.interpolate(torch.tensor([[[[1., 2.], [3., 4.]]]]), size=(4, 4), mode="bilinear",
    /// align_corners=False).
    @Test func bilinearUpsampleHalfPixel() throws {
        let y = try run([1, 1, 2, 2], [1, 2, 3, 4]) { b, x in b.resizeBilinear("r", x, height: 4, width: 4) }
        #expect(y.shape == [1, 1, 4, 4])
        #expect(y.scalars == [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4])
    }

    /// Corners map to corners: 2 → 3 puts the middle sample halfway.
    @Test func bilinearAlignCorners() throws {
        let y = try run([1, 1, 2, 2], [1, 2, 3, 4]) { b, x in b.resizeBilinear("r", x, height: 3, width: 3, alignCorners: true) }
        #expect(y.scalars == [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4])
    }

    /// Non-integer scales: width 3 → 5 (scale 0.6: sources −0.2→0, 0.4, 1.0, 1.6, 2.2→last) and
    /// height 4 → 2 (scale 2: sources 0.5 and 2.5, the means of row pairs).
    @Test func bilinearNonIntegerScales() throws {
        let y = try run([1, 1, 4, 3], ramp(12)) { b, x in b.resizeBilinear("r", x, height: 2, width: 5) }
        // Rows of the input are 3 apart, so the row means are rows 0.5 and 2.5: 1.5 and 7.5 at column 0.
        let expected: [Float] = [1.5, 1.9, 2.5, 3.1, 3.5, 7.5, 7.9, 8.5, 9.1, 9.5]
        for (a, e) in zip(y.scalars, expected) { #expect(abs(a - e) < 1e-5) }
    }

    /// Keras 'same' 3×3/2 on an even size pads 0 top/left and 1 bottom/right; PyTorch's padding=1
    /// pads both sides: different windows, same output size (tools/models/FINDINGS.md).
    @Test func maxPoolKerasSameVersusSymmetric() throws {
        let keras = try run([1, 1, 4, 4], ramp(16)) { b, x in try b.maxPool("p", x, kernel: 3, stride: 2, padding: .same) }
        #expect(keras.scalars == [10, 11, 14, 15])
        let torch = try run([1, 1, 4, 4], ramp(16)) { b, x in try b.maxPool("p", x, kernel: 3, stride: 2, padding: .symmetric(1)) }
        #expect(torch.scalars == [5, 7, 13, 15])
    }

    /// ceil_mode keeps a last, partial window: 5 → 3 with 2×2/2 (floor mode gives 2).
    @Test func maxPoolCeilMode() throws {
        let y = try run([1, 1, 5, 5], ramp(25)) { b, x in try b.maxPool("p", x, kernel: 2, stride: 2, padding: .valid, ceilMode: true) }
        #expect(y.shape == [1, 1, 3, 3])
        #expect(y.scalars == [6, 8, 9, 16, 18, 19, 21, 23, 24])
        #expect(PoolGeometry.outputExtent(input: 5, kernel: 2, stride: 2, padBegin: 0, padEnd: 0, ceilMode: false) == 2)
        // PyTorch drops a last window that would start in the end padding: input 3, padding 1,
        // kernel 2, stride 2 rounds up to 3 windows, the third starting at padded index 4.
        #expect(PoolGeometry.outputExtent(input: 3, kernel: 2, stride: 2, padBegin: 1, padEnd: 1, ceilMode: true) == 2)
        #expect(PoolGeometry.outputExtent(input: 5, kernel: 3, stride: 2, padBegin: 1, padEnd: 1, ceilMode: true) == 3)
    }

    /// count_include_pad: a corner of a 3×3 ones image with a 3×3 window and padding 1 averages
    /// 4 ones over 9 (PyTorch's default) or over 4 (Keras).
    @Test func averagePoolPaddingCount() throws {
        let ones = [Float](repeating: 1, count: 9)
        let torch = try run([1, 1, 3, 3], ones) { b, x in try b.averagePool("p", x, kernel: 3, stride: 1, padding: .symmetric(1)) }
        #expect(abs(torch.scalars[0] - 4.0 / 9) < 1e-6 && abs(torch.scalars[1] - 6.0 / 9) < 1e-6 && torch.scalars[4] == 1)
        let keras = try run([1, 1, 3, 3], ones) { b, x in
            try b.averagePool("p", x, kernel: 3, stride: 1, padding: .symmetric(1), countsPadding: false)
        }
        #expect(keras.scalars.allSatisfy { abs($0 - 1) < 1e-6 })
    }

    @Test func globalPoolConcatAddRelu() throws {
        let g = try run([1, 2, 2, 2], [1, 2, 3, 4, -5, -6, -7, -8]) { b, x in b.globalAveragePool("g", x) }
        #expect(g.shape == [1, 2, 1, 1] && g.scalars == [2.5, -6.5])
        let c = try run([1, 2, 1, 2], [1, 2, 3, 4]) { b, x in
            let r = b.relu("r", x)
            return b.concat("c", [x, r, b.add("a", x, x)])
        }
        #expect(c.shape == [1, 6, 1, 2] && c.scalars == [1, 2, 3, 4, 1, 2, 3, 4, 2, 4, 6, 8])
        let r = try run([1, 1, 1, 4], [-1, 0, 2, -3]) { b, x in b.relu("r", b.dropout("d", x)) }
        #expect(r.scalars == [0, 0, 2, 0])
    }

    /// One image (row dot products, 16 lanes then a scalar tail, rows in fours) and a batch (SGEMM):
    /// widths around the vector edge and row counts that are not a multiple of four.
    @Test(arguments: [(2, 3, 4), (1, 3, 4), (1, 37, 9), (1, 64, 6), (1, 600, 203), (3, 40, 7)])
    func fullyConnectedAndSoftmax(batch: Int, inFeatures: Int, outFeatures: Int) throws {
        var b = GraphBuilder(model: "test", inputShape: [batch, inFeatures, 1, 1], seed: 4, batchNormEpsilon: 1e-5)
        let fc = b.linear("fc", b.input, outFeatures: outFeatures)
        let sm = b.softmax("sm", fc)
        let graph = b.finish(outputs: [fc, sm])
        let x = Tensor.random(shape: [batch, inFeatures, 1, 1], .normal(mean: 0, std: 1), seed: 8).scalars
        let out = try ModelRunner(graph: graph, policy: .reference, options: AlgorithmOptions(threads: 2))
            .run(Tensor(shape: [batch, inFeatures, 1, 1], values: x))
        guard case let .fullyConnected(layer) = graph[graph.id(named: "fc")!].op else { Issue.record("not fc"); return }
        let (w, bias) = (layer.weights().scalars, layer.bias()!.scalars)
        for n in 0..<batch {
            var logits: [Double] = []
            for o in 0..<outFeatures {
                let terms = (0..<inFeatures).map { Double(w[o * inFeatures + $0]) * Double(x[n * inFeatures + $0]) }
                let v = terms.reduce(Double(bias[o]), +)
                logits.append(v)
                let bound = 4 * Double(inFeatures + 1) * 0x1p-23 * terms.map(abs).reduce(abs(Double(bias[o])), +)
                #expect(abs(Double(out[0].scalars[n * outFeatures + o]) - v) <= bound, "n \(n) o \(o)")
            }
            let e = logits.map { Foundation.exp($0 - logits.max()!) }
            for o in 0..<outFeatures {
                #expect(abs(Double(out[1].scalars[n * outFeatures + o]) - e[o] / e.reduce(0, +)) < 1e-5)
            }
        }
    }

    /// The folded convolution equals convolution, then batch norm, then ReLU, computed separately
    /// in float64 from the framework's (unfolded) parameters.
    @Test func batchNormFoldingMatchesConvThenNorm() throws {
        var b = GraphBuilder(model: "test", inputShape: [1, 3, 7, 6], seed: 9, batchNormEpsilon: 1e-3)
        let y = try b.conv("c", b.input, outChannels: 5, kernel: 3, stride: 2, padding: .symmetric(1), bias: true,
                           batchNorm: "c_bn", relu: true)
        let graph = b.finish(outputs: [y])
        guard case let .convolution(layer) = graph[y].op else { Issue.record("not a conv"); return }
        let x = Tensor.random(shape: [1, 3, 7, 6], .normal(mean: 0, std: 1), seed: 2)
        let out = try ModelRunner(graph: graph, policy: .reference).run(x)[0]

        let raw = ReferenceConvolution.compute(layer.descriptor, input: x, weights: layer.weights(), bias: layer.bias())
        let bn = layer.batchNorm!.parameters()
        let area = layer.descriptor.outHeight * layer.descriptor.outWidth
        for (i, v) in raw.values.enumerated() {
            let c = i / area
            let normed = Double(bn.gamma[c]) * (v - Double(bn.mean[c])) / (Double(bn.variance[c]) + 1e-3).squareRoot()
                + Double(bn.beta[c])
            let expected = max(normed, 0)
            #expect(abs(Double(out.scalars[i]) - expected) <= 1e-5 * max(1, abs(expected)), "element \(i)")
        }
        #expect(out.scalars.contains(0) && out.scalars.contains { $0 > 0 })
    }

    /// Parameters are a function of (model seed, layer name): the same layer in two graphs gets the
    /// same weights, another seed gets others.
    @Test func weightsAreSeededByLayerName() throws {
        let top = try ModelCatalog.build(.xception, ModelOptions(height: 71, width: 71, includeTop: true, seed: 3))
        let noTop = try ModelCatalog.build(.xception, ModelOptions(height: 99, width: 99, includeTop: false, seed: 3))
        let other = try ModelCatalog.build(.xception, ModelOptions(height: 71, width: 71, seed: 4))
        let name = "block4_sepconv1/pointwise"
        func folded(_ g: ModelGraph) -> Tensor {
            guard case let .convolution(c) = g[g.id(named: name)!].op else { fatalError() }
            return c.foldedParameters().weights
        }
        #expect(folded(top) == folded(noTop))
        #expect(folded(top) != folded(other))
        // He-normal: variance 2 / fan-in (fan-in 256 here), before folding.
        guard case let .convolution(c) = top[top.id(named: name)!].op else { return }
        let w = c.weights().scalars.map(Double.init)
        let variance = w.map { $0 * $0 }.reduce(0, +) / Double(w.count)
        #expect(abs(variance / (2.0 / 256) - 1) < 0.02)
    }
}
