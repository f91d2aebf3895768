/// Why a model cannot be built or run as asked. Messages name the model, the layer and the rule.
public enum ModelError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownModel(String, known: [String])
    /// A layer's geometry fails for this input size (the input is too small, typically).
    case layerGeometry(model: String, layer: String, reason: String)
    case inputTooSmall(model: String, minimum: Int, height: Int, width: Int)
    /// An option the model does not have (`--aux` on Xception, `--no-top` on DeepLab).
    case optionNotAvailable(model: String, option: String, reason: String)
    case invalidInputSize(String)
    case unknownLayer(model: String, layer: String)
    /// A per-layer algorithm table names a layer the graph does not have, or an algorithm that
    /// cannot run that layer.
    case badAlgorithmTable(String)

    public var description: String {
        switch self {
        case let .unknownModel(name, known):
            return "unknown model '\(name)' (known: \(known.joined(separator: ", ")))"
        case let .layerGeometry(model, layer, reason):
            return "\(model): layer \(layer): \(reason)"
        case let .inputTooSmall(model, minimum, h, w):
            return "\(model) needs an input of at least \(minimum)x\(minimum), got \(h)x\(w)"
        case let .optionNotAvailable(model, option, reason):
            return "\(model) has no \(option): \(reason)"
        case let .unknownLayer(model, layer):
            return "\(model) has no layer named \(layer)"
        case let .invalidInputSize(text):
            return text
        case let .badAlgorithmTable(text):
            return text
        }
    }
}
