/// Everything `convbench params` prints about a model: one summary per layer and the totals.
public struct ModelReport: Sendable {
    public let model: String
    public let inputShape: [Int]
    public let layers: [LayerSummary]
    public let parameters: ParameterCounts
    public let convolutionCount: Int
    public let convolutionMACs: Int
    /// Convolutions and fully connected layers.
    public let multiplyAccumulates: Int
    /// Activation memory `ModelRunner` allocates for this graph (`BufferPlan.arenaBytes`), and the
    /// least any plan with the same in-place decisions needs (`BufferPlan.livePeakBytes`).
    public let activationArenaBytes: Int
    public let activationLivePeakBytes: Int

    public init(_ graph: ModelGraph) {
        model = graph.name
        inputShape = graph.inputShape
        layers = graph.layerSummaries
        parameters = graph.parameterCounts
        convolutionCount = graph.convolutions.count
        convolutionMACs = graph.convolutionMACs
        multiplyAccumulates = graph.multiplyAccumulates
        let plan = BufferPlan(graph)
        activationArenaBytes = plan.arenaBytes
        activationLivePeakBytes = plan.livePeakBytes
    }

    /// The counting conventions, one line each, as the report states them.
    public static let conventions: [(key: String, text: String)] = [
        ("framework", "PyTorch parameters() = Keras trainable weights: conv and dense weights and biases, batch-norm gamma and beta"),
        ("keras", "Keras count_params(): framework + batch-norm moving mean and variance (PyTorch keeps those as buffers)"),
        ("deployed", "batch norm folded into the convolutions: conv weights, one bias per output channel of every conv with a bias or batch norm, dense layers"),
    ]
}
