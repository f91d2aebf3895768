import ConvModels
import Foundation

/// A layer list dumped from the real framework by `tools/models/dump_models.py` (torchvision 0.29,
/// Keras 3): every conv, batch-norm, pool, linear and ReLU call in execution order.
struct ModelFixture: Decodable, Sendable, CustomStringConvertible {
    struct Layer: Decodable, Sendable {
        let name: String
        let kind: String
        let in_shape: [Int]?
        let out_shape: [Int]?
        let in_channels: Int?
        let out_channels: Int?
        let kernel: [Int]?
        let stride: [Int]?
        /// Symmetric padding; null entries where Keras pads unevenly.
        let padding: [Int?]?
        /// Keras only: [top, bottom, left, right].
        let pads: [Int]?
        let dilation: [Int]?
        let groups: Int?
        let bias: Bool?
        let params: Int?
        let macs: Int?
        let num_features: Int?
        let eps: Double?
        let buffers: Int?
        let ceil_mode: Bool?
        let in_features: Int?
        let out_features: Int?
    }

    let model: String
    let input: [Int]
    let parameters: Int
    let trainable_parameters: Int?
    let buffers: Int
    let conv_macs: Int
    let conv_count: Int
    let layers: [Layer]
    /// File stem, set after decoding.
    var file = ""

    enum CodingKeys: String, CodingKey {
        case model, input, parameters, trainable_parameters, buffers, conv_macs, conv_count, layers
    }

    var description: String { file }
    var isKeras: Bool { file.hasPrefix("xception_keras") }

    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("models")

    static func load(_ stem: String) throws -> ModelFixture {
        let data = try Data(contentsOf: directory.appendingPathComponent(stem + ".json"))
        var f = try JSONDecoder().decode(ModelFixture.self, from: data)
        f.file = stem
        return f
    }

    /// The fixtures ConvModels rebuilds (the timm one has other names; FINDINGS.md compares it).
    static let rebuilt = [
        "deeplabv3_resnet50_512", "deeplabv3_resnet50_aux", "deeplabv3_resnet101_512", "deeplabv3_resnet101_aux",
        "xception_keras_299",
    ]

    /// The ConvModels graph that should match this fixture.
    func buildGraph() throws -> ModelGraph {
        let (h, w) = (input[2], input[3])
        switch file {
        case "xception_keras_299":
            return try ModelCatalog.build(.xception, ModelOptions(height: h, width: w))
        case let f where f.hasPrefix("deeplabv3_resnet"):
            let name: ModelName = f.contains("resnet50") ? .deeplabv3Resnet50 : .deeplabv3Resnet101
            return try ModelCatalog.build(name, ModelOptions(height: h, width: w, aux: f.hasSuffix("_aux")))
        default:
            fatalError("no graph for fixture \(file)")
        }
    }
}
