import ConvCore
import Foundation

/// A named list of layers to time.
public struct Suite: Sendable {
    public struct Layer: Sendable {
        public var name: String
        public var conv: ConvDescriptor
        public var occurrences: Int
    }

    public var name: String
    public var layers: [Layer]

    public init(name: String, layers: [Layer]) {
        self.name = name
        self.layers = layers
    }

    /// Hard single layers from real networks: the microbenchmark set of the fast-algorithm issues.
    public static let layerLines: [String] = [
        #"mb1ic64ih56oc64oh56kh3ph1n"resnet50:res2a_branch2b (3x3 64->64 @56)""#,
        #"mb1ic256ih14oc256oh14kh3ph1n"resnet50:res4a_branch2b (3x3 256->256 @14)""#,
        #"mb1ic256ih56oc64oh56kh1n"resnet50:res2b_branch2a (1x1 256->64 @56)""#,
        #"mb1ic3ih224oc64oh112kh7sh2ph3n"resnet50:conv1 (7x7 s2 stem)""#,
        #"g728mb1ic728ih19oc728oh19kh3ph1n"xception:block5_sepconv1 depthwise (3x3 728 @19)""#,
        #"mb1ic728ih19oc728oh19kh1n"xception:block5_sepconv1 pointwise (728->728 @19)""#,
        #"mb1ic256ih64oc256oh64kh3ph2dh1n"deeplabv3:layer3 dilated (3x3 d2 256 @64)""#,
        #"mb1ic512ih64oc512oh64kh3ph4dh3n"deeplabv3:layer4 dilated (3x3 d4 512 @64)""#,
        #"mb1ic2048ih64oc256oh64kh3ph12dh11n"deeplabv3:aspp rate 12 (3x3 d12 2048->256 @64)""#,
        #"mb1ic3ih227oc96oh55kh11sh4n"alexnet:conv1 (11x11 s4)""#,
        #"mb1ic32ih56oc32oh56kh5ph2n"5x5 32->32 @56""#,
        #"deconv:mb1ic64ih32oc32oh64kh4sh2ph1n"transposed 4x4 s2 upsample 64->32 @32""#,
    ]

    public static func layers() throws -> Suite {
        try Suite(name: "layers", layers: layerLines.map { line in
            let c = try ConvCase(parsing: line)
            return Layer(name: c.name ?? c.line, conv: c.descriptor, occurrences: 1)
        })
    }

    /// Every case line of a file (benchdnn batch files as they are: `#` comments, blank lines,
    /// names with repeat hints like `*4`). Identical shapes are timed once and counted.
    public static func shapes(file path: String, mode: CaseMode) throws -> Suite {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw SuiteError("cannot read shapes file \(path)")
        }
        var layers: [Layer] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            do {
                let c = try ConvCase(parsing: line, mode: mode)
                if let i = layers.firstIndex(where: { $0.conv == c.descriptor }) {
                    layers[i].occurrences += 1
                } else {
                    layers.append(Layer(name: c.name ?? c.line, conv: c.descriptor, occurrences: 1))
                }
            } catch {
                throw SuiteError("\(path):\(number + 1): \(error)")
            }
        }
        if layers.isEmpty { throw SuiteError("\(path) holds no case lines") }
        return Suite(name: (path as NSString).lastPathComponent, layers: layers)
    }
}

public struct SuiteError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
