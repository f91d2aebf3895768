/// The models ConvBench can build, by the names the command line uses.
public enum ModelName: String, CaseIterable, Sendable {
    case xception
    case deeplabv3Resnet50 = "deeplabv3-resnet50"
    case deeplabv3Resnet101 = "deeplabv3-resnet101"
    case deeplabv3Paper = "deeplabv3-paper"
    case deeplabv3PlusXception65 = "deeplabv3plus-xception65"

    /// Parses a command-line name, or throws `ModelError.unknownModel` listing the known ones.
    public init(parsing text: String) throws(ModelError) {
        guard let name = ModelName(rawValue: text) else {
            throw .unknownModel(text, known: ModelName.allCases.map(\.rawValue))
        }
        self = name
    }

    /// The size the reference implementation is usually run at: 299 for Keras Xception, 512 for
    /// the torchvision fixtures, 513 (the papers' crop) for the DeepLab paper models.
    public var defaultInputSize: Int {
        switch self {
        case .xception: return 299
        case .deeplabv3Resnet50, .deeplabv3Resnet101: return 512
        case .deeplabv3Paper, .deeplabv3PlusXception65: return 513
        }
    }

    /// Whether `aux` (torchvision's auxiliary FCN head) applies.
    public var hasAuxHead: Bool { self == .deeplabv3Resnet50 || self == .deeplabv3Resnet101 }
    /// Whether `includeTop` (the classifier) applies.
    public var hasTop: Bool { self == .xception }
}

/// How to build a model.
public struct ModelOptions: Sendable, Hashable {
    public var height: Int
    public var width: Int
    public var batch: Int
    /// torchvision DeepLab v3 only: add the auxiliary FCN head on stage 3 (a second output).
    public var aux: Bool
    /// Xception only: the global pool, 1000-class dense layer and softmax.
    public var includeTop: Bool
    /// Seed for every generated parameter.
    public var seed: UInt64

    public init(height: Int, width: Int, batch: Int = 1, aux: Bool = false, includeTop: Bool = true, seed: UInt64 = 1) {
        self.height = height; self.width = width; self.batch = batch
        self.aux = aux; self.includeTop = includeTop; self.seed = seed
    }

    /// The model's default input size, no aux head, top included.
    public static func defaults(for model: ModelName) -> ModelOptions {
        ModelOptions(height: model.defaultInputSize, width: model.defaultInputSize)
    }
}

public enum ModelCatalog {
    /// Builds `model` as configured. Throws `ModelError` for options the model does not have and
    /// for input sizes its layers cannot take.
    public static func build(_ model: ModelName, _ options: ModelOptions) throws(ModelError) -> ModelGraph {
        let o = options
        if o.height < 1 || o.width < 1 || o.batch < 1 {
            throw .invalidInputSize("input must be at least 1x1 with batch at least 1, got \(o.height)x\(o.width), batch \(o.batch)")
        }
        if o.aux && !model.hasAuxHead {
            throw .optionNotAvailable(model: model.rawValue, option: "aux head",
                                      reason: "only deeplabv3-resnet50 and deeplabv3-resnet101 (torchvision) have one")
        }
        if !o.includeTop && !model.hasTop {
            throw .optionNotAvailable(model: model.rawValue, option: "top to remove",
                                      reason: "only xception has a classification top")
        }
        switch model {
        case .xception:
            return try Xception.build(height: o.height, width: o.width, batch: o.batch, includeTop: o.includeTop, seed: o.seed)
        case .deeplabv3Resnet50:
            return try DeepLabV3.build(depth: 50, height: o.height, width: o.width, batch: o.batch, aux: o.aux, seed: o.seed)
        case .deeplabv3Resnet101:
            return try DeepLabV3.build(depth: 101, height: o.height, width: o.width, batch: o.batch, aux: o.aux, seed: o.seed)
        case .deeplabv3Paper:
            return try DeepLabV3Paper.build(height: o.height, width: o.width, batch: o.batch, seed: o.seed)
        case .deeplabv3PlusXception65:
            return try DeepLabV3PlusXception65.build(height: o.height, width: o.width, batch: o.batch, seed: o.seed)
        }
    }
}
