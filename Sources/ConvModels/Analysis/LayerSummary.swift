/// One row of a model's per-layer report: geometry, counts and receptive field of one node.
public struct LayerSummary: Sendable {
    public let name: String
    public let kind: String
    public let inputShapes: [[Int]]
    public let outputShape: [Int]
    /// Window geometry for convolutions and pools (nil for other operations).
    public let kernel: (height: Int, width: Int)?
    public let stride: (height: Int, width: Int)?
    public let padding: (top: Int, bottom: Int, left: Int, right: Int)?
    public let dilation: (height: Int, width: Int)?
    public let groups: Int?
    public let parameters: ParameterCounts
    public let multiplyAccumulates: Int
    public let receptiveField: ReceptiveField
}

extension ModelGraph {
    /// One summary per node, the input node excluded, in execution order.
    public var layerSummaries: [LayerSummary] {
        let fields = receptiveFields
        return nodes.enumerated().dropFirst().map { i, node in
            var kernel: (Int, Int)?, stride: (Int, Int)?, padding: (Int, Int, Int, Int)?, dilation: (Int, Int)?
            var groups: Int?
            switch node.op {
            case let .convolution(c):
                let d = c.descriptor
                kernel = (d.kernelHeight, d.kernelWidth)
                stride = (d.strideHeight, d.strideWidth)
                padding = (d.padTop, d.padBottom, d.padLeft, d.padRight)
                dilation = (d.dilationHeight, d.dilationWidth)
                groups = d.groups
            case let .maxPool(g), let .averagePool(g, _):
                kernel = (g.kernelHeight, g.kernelWidth)
                stride = (g.strideHeight, g.strideWidth)
                padding = (g.padTop, g.padBottom, g.padLeft, g.padRight)
                dilation = (1, 1)
            default:
                break
            }
            return LayerSummary(
                name: node.name, kind: node.op.kind, inputShapes: node.inputs.map { self[$0].outputShape },
                outputShape: node.outputShape, kernel: kernel, stride: stride, padding: padding, dilation: dilation,
                groups: groups, parameters: node.parameterCounts, multiplyAccumulates: node.multiplyAccumulates,
                receptiveField: fields[i])
        }
    }
}
