import ConvCore
import Foundation

/// Cases made by PyTorch (`tools/fixtures/make_torch_fixtures.py`): float32 inputs, float64 outputs
/// of `torch.nn.functional.conv2d` / `conv_transpose2d`.
struct TorchFixture: Sendable, CustomStringConvertible {
    struct Entry: Decodable, Sendable {
        let name: String
        let transposed: Bool
        let bias: Bool
        let n, ic, ih, iw, oc, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw, g, oph, opw, oh, ow: Int
    }

    let entry: Entry
    let descriptor: ConvDescriptor
    let input: Tensor
    let weight: Tensor
    let bias: Tensor?
    let output: NPYArray

    var description: String { entry.name }

    static let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("torch")

    static func loadAll() throws -> [TorchFixture] {
        let data = try Data(contentsOf: root.appendingPathComponent("manifest.json"))
        return try JSONDecoder().decode([Entry].self, from: data).map(load)
    }

    static func load(_ e: Entry) throws -> TorchFixture {
        let d = try ConvDescriptor(
            batch: e.n, groups: e.g, inChannels: e.ic, outChannels: e.oc, inHeight: e.ih, inWidth: e.iw,
            kernelHeight: e.kh, kernelWidth: e.kw, strideHeight: e.sh, strideWidth: e.sw,
            padTop: e.pt, padBottom: e.pb, padLeft: e.pl, padRight: e.pr,
            dilationHeight: e.dh, dilationWidth: e.dw, transposed: e.transposed,
            outputPaddingHeight: e.oph, outputPaddingWidth: e.opw, hasBias: e.bias)
        let dir = root.appendingPathComponent(e.name)
        func read(_ f: String) throws -> NPYArray { try NPY.read(path: dir.appendingPathComponent(f).path) }
        return TorchFixture(
            entry: e, descriptor: d, input: try read("input.npy").tensor, weight: try read("weight.npy").tensor,
            bias: e.bias ? try read("bias.npy").tensor : nil, output: try read("output.npy"))
    }
}
