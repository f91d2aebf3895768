/// The receptive field of a layer's output in input pixels, per axis, computed as Araujo, Norris
/// and Sim do ("Computing Receptive Fields of Convolutional Neural Networks", Distill 2019):
/// through a layer with dilated kernel extent k and stride s,
///     r_out = r_in + (k − 1)·j_in,    j_out = j_in·s
/// where j is the distance in input pixels between adjacent elements (the product of strides).
/// Where paths meet (add, concat) the field is the largest of them. A bilinear resize reads two
/// adjacent elements (r grows by j_in) and scales j by in/out. The value is theoretical: it may
/// exceed the image (padding is not subtracted). Global operations (global pooling, fully connected
/// layers) make every input pixel reach every output; `global` records that a path went through one,
/// while `height`/`width` keep the largest local field.
public struct ReceptiveField: Sendable, Hashable, CustomStringConvertible {
    public var height: Double
    public var width: Double
    public var jumpHeight: Double
    public var jumpWidth: Double
    public var global: Bool

    /// One input pixel.
    public static let pixel = ReceptiveField(height: 1, width: 1, jumpHeight: 1, jumpWidth: 1, global: false)

    /// Rounded up to whole pixels.
    public var pixels: (height: Int, width: Int) { (Int(height.rounded(.up)), Int(width.rounded(.up))) }

    /// "211x211", or "211x211+global" when a global operation feeds in.
    public var description: String {
        let p = pixels
        return "\(p.height)x\(p.width)" + (global ? "+global" : "")
    }

    func through(extentHeight: Int, extentWidth: Int, strideHeight: Int, strideWidth: Int) -> ReceptiveField {
        ReceptiveField(height: height + Double(extentHeight - 1) * jumpHeight,
                       width: width + Double(extentWidth - 1) * jumpWidth,
                       jumpHeight: jumpHeight * Double(strideHeight), jumpWidth: jumpWidth * Double(strideWidth),
                       global: global)
    }

    static func merge(_ fields: [ReceptiveField]) -> ReceptiveField {
        ReceptiveField(height: fields.map(\.height).max()!, width: fields.map(\.width).max()!,
                       jumpHeight: fields.map(\.jumpHeight).max()!, jumpWidth: fields.map(\.jumpWidth).max()!,
                       global: fields.contains { $0.global })
    }
}

extension ModelGraph {
    /// The receptive field of every node's output, indexed like `nodes`.
    public var receptiveFields: [ReceptiveField] {
        var fields: [ReceptiveField] = []
        fields.reserveCapacity(nodes.count)
        for node in nodes {
            let inputs = node.inputs.map { fields[$0.index] }
            let f: ReceptiveField
            switch node.op {
            case .input:
                f = .pixel
            case let .convolution(c):
                let d = c.descriptor
                f = inputs[0].through(extentHeight: d.kernelExtentHeight, extentWidth: d.kernelExtentWidth,
                                      strideHeight: d.strideHeight, strideWidth: d.strideWidth)
            case let .maxPool(g), let .averagePool(g, _):
                f = inputs[0].through(extentHeight: g.kernelHeight, extentWidth: g.kernelWidth,
                                      strideHeight: g.strideHeight, strideWidth: g.strideWidth)
            case .globalAveragePool, .fullyConnected:
                var g = inputs[0]
                g.global = true
                f = g
            case .add, .concat:
                f = ReceptiveField.merge(inputs)
            case .resizeBilinear:
                let inShape = self[node.inputs[0]].outputShape
                var g = inputs[0]
                g.height += g.jumpHeight
                g.width += g.jumpWidth
                g.jumpHeight *= Double(inShape[2]) / Double(node.outputShape[2])
                g.jumpWidth *= Double(inShape[3]) / Double(node.outputShape[3])
                f = g
            case .dropout, .softmax, .relu:
                f = inputs[0]
            }
            fields.append(f)
        }
        return fields
    }
}
