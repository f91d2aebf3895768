import ConvCore

/// Whether an algorithm can run a descriptor. "Unsupported" is not a failure: the harness reports
/// it as skipped, with the reason (NNPACK keeps "invalid problem" apart from "cannot run this").
public enum Support: Equatable, Sendable {
    case supported
    case unsupported(String)

    public var isSupported: Bool { self == .supported }
    public var reason: String? {
        if case let .unsupported(r) = self { return r }
        return nil
    }
}

/// Settings an algorithm is prepared with.
public struct AlgorithmOptions: Sendable, Hashable {
    /// Worker threads for `run` (and for OpenBLAS inside it, set to match rather than doubled).
    public var threads: Int
    /// The most memory a preparation may hold (packed weights, spectra, workspace); an algorithm
    /// that would need more refuses with the figure. Only the FFT algorithms come near it.
    public var memoryCapBytes: Int

    public static let defaultMemoryCapBytes = 2 << 30

    public init(threads: Int = 1, memoryCapBytes: Int = AlgorithmOptions.defaultMemoryCapBytes) {
        precondition(threads >= 1, "threads must be at least 1")
        self.threads = threads
        self.memoryCapBytes = memoryCapBytes
    }
}

/// How far an algorithm's float32 result may stray from the exact result, in the engine's model
///     |y − y_ref| ≤ atol + c_alg · ε · Σ|x·w|      (ε = float32 machine epsilon, 2⁻²³)
/// where Σ|x·w| is the sum of the magnitudes of the products (and bias) that form the element.
public struct ErrorModel: Sendable, Hashable {
    /// The algorithm performs no numeric transform (only reorders exact products and sums):
    /// on small-integer data whose partial sums stay below 2²⁴ it must equal the reference exactly.
    public var exactOnIntegers: Bool
    /// `c_alg` as a function of the reduction length K = (Cin/groups)·kH·kW + bias:
    /// `c = perTerm · K + constant`.
    public var perTerm: Double
    public var constant: Double
    /// Which inputs besides an element's own receptive field its rounding error comes from.
    public var mixing: Mixing

    /// Algorithms that transform whole tiles or planes (Winograd, FFT) mix every input of a tile
    /// with every kernel tap: in exact arithmetic the foreign products cancel, in float32 their
    /// rounding stays (a kernel tap that is zero is not zero after G g Gᵀ is rounded). So their
    /// error scales with Σ_c (Σ_tile |x_c|)·(Σ_taps |w_c|), not with Σ|x·w| of the element's own
    /// window; `MixedMagnitudes` computes that and the bound multiplies it.
    public enum Mixing: Sendable, Hashable {
        /// Each output element is computed from its own products only.
        case none
        /// Outputs in m×m tiles (with the convolution's dilation as the step between tile members).
        case outputTile(Int)
        /// Every output of a plane may mix with every other.
        case wholePlane
    }

    /// How much the algorithm can amplify the absolute error of products that underflow (the
    /// tolerance's atol is multiplied by it): 1 when products are summed as they are; ‖Aᵀ‖∞² for
    /// Winograd, whose output transform scales each product's rounding by its coefficients.
    public var underflowGrowth: Double

    public init(exactOnIntegers: Bool, perTerm: Double, constant: Double, mixing: Mixing = .none, underflowGrowth: Double = 1) {
        self.exactOnIntegers = exactOnIntegers
        self.perTerm = perTerm
        self.constant = constant
        self.mixing = mixing
        self.underflowGrowth = underflowGrowth
    }

    /// Float32 accumulation of K terms in any order: |error| ≤ γ_K Σ|x·w| with γ_K ≈ K·ε
    /// (Higham, Accuracy and Stability of Numerical Algorithms, §3.1), plus the final rounding.
    public static let float32Summation = ErrorModel(exactOnIntegers: true, perTerm: 1, constant: 1)

    public func constant(for conv: ConvDescriptor) -> Double {
        perTerm * Double(conv.reductionLength) + constant
    }
}

extension ConvDescriptor {
    /// Terms summed into one output element: (Cin/g)·kH·kW for forward, (Cout/g)·kH·kW for
    /// transposed (an upper bound: taps in padding or between strides add nothing), +1 for bias.
    public var reductionLength: Int {
        (transposed ? outChannelsPerGroup : inChannelsPerGroup) * kernelHeight * kernelWidth + (hasBias ? 1 : 0)
    }
}

/// One convolution algorithm. Prepare does everything that depends only on the descriptor and
/// the weights (packing, transforms, plans, workspace); `run` is what gets timed and allocates nothing.
public protocol ConvolutionAlgorithm: Sendable {
    /// Stable name used on the command line and in reports, e.g. "im2col-gemm".
    var name: String { get }
    /// One line: what it is and what it covers.
    var summary: String { get }
    /// Its declared error bound, used by the property engine and the bench runner's check.
    var errorModel: ErrorModel { get }
    func support(for conv: ConvDescriptor) -> Support
    func prepare(_ conv: ConvDescriptor, weights: Tensor, bias: Tensor?,
                 options: AlgorithmOptions) throws -> any PreparedConvolution
}

/// A convolution ready to run: weights packed, workspace allocated.
public protocol PreparedConvolution: AnyObject {
    var descriptor: ConvDescriptor { get }
    /// Bytes this preparation holds beyond input, weights and output (packed weights, columns,
    /// transforms): reported, never hidden.
    var workspaceBytes: Int { get }
    /// Computes `output` (shape `descriptor.outputShape`) from `input` (`descriptor.inputShape`).
    func run(_ input: Tensor, into output: inout Tensor) throws
    /// `run`, then y = max(y, 0) when `relu` (NaN and −0 kept, as `ActivationKernels.relu`).
    /// Algorithms that can apply it as they store each output element do, saving a pass over the
    /// output (on Xception's 147×147 maps, 11 MB read and written again); the others run a separate
    /// pass on `threads` threads.
    func run(_ input: Tensor, into output: inout Tensor, relu: Bool, threads: Int) throws
}

/// A prepared convolution that copies each input plane before computing from it, and can apply
/// max(x, 0) during that copy: a ReLU whose only reader is this convolution need not be written out
/// (Xception's `sepconvN_act` before each depthwise layer: a pass over the map read and written).
public protocol InputReLUFusing: PreparedConvolution {
    /// The convolution of max(input, 0) (NaN and −0 kept, as `ActivationKernels.relu`), then the
    /// output ReLU when `relu`, as `run(_:into:relu:threads:)`.
    func run(reluOf input: Tensor, into output: inout Tensor, relu: Bool, threads: Int) throws
}

/// A prepared convolution that may write its output over its input (the same memory), as a
/// model runner can arrange for a layer whose input is read by nothing after it.
public protocol InputOverwriting: PreparedConvolution {
    /// Whether this preparation reads every input element it needs before writing over it.
    var overwritesInputSafely: Bool { get }
}

/// A prepared convolution that can add another tensor of its output's shape as it stores each
/// element: a residual add whose other operand is ready before the convolution runs need not be a
/// pass of its own (Xception's middle flow, ResNet's bottlenecks; ONNX Runtime fuses it too).
public protocol AddendFusing: PreparedConvolution {
    /// Whether this preparation's geometry takes the path that adds as it stores.
    var fusesAddend: Bool { get }
    /// output = (convolution + bias) + addend, then max(·, 0) when `relu`. `addend` may be the
    /// output's own memory (each element is read before it is written, by the same thread), never
    /// the input's. Throws `ConvolutionError.unsupported` when `fusesAddend` is false.
    func run(_ input: Tensor, adding addend: Tensor, into output: inout Tensor, relu: Bool) throws
}

/// Errors from preparing or running an algorithm.
public enum ConvolutionError: Error, Equatable, Sendable, CustomStringConvertible {
    case unsupported(algorithm: String, reason: String)
    case shapeMismatch(what: String, expected: [Int], actual: [Int])
    case unknownAlgorithm(String, known: [String])
    case memoryCapExceeded(algorithm: String, neededBytes: Int, capBytes: Int)

    public var description: String {
        switch self {
        case let .unsupported(algorithm, reason): return "\(algorithm) does not support this case: \(reason)"
        case let .shapeMismatch(what, expected, actual): return "\(what) has shape \(actual), expected \(expected)"
        case let .unknownAlgorithm(name, known): return "unknown algorithm '\(name)' (known: \(known.joined(separator: ", ")))"
        case let .memoryCapExceeded(algorithm, needed, cap):
            return "\(algorithm) would hold \(needed >> 20) MiB, over the memory cap of \(cap >> 20) MiB"
        }
    }
}

extension ConvolutionAlgorithm {
    /// Shared argument checks for `prepare`: support, weight and bias shapes.
    public func checkPrepare(_ conv: ConvDescriptor, weights: Tensor, bias: Tensor?) throws {
        if case let .unsupported(reason) = support(for: conv) {
            throw ConvolutionError.unsupported(algorithm: name, reason: reason)
        }
        if weights.shape != conv.weightShape {
            throw ConvolutionError.shapeMismatch(what: "weight", expected: conv.weightShape, actual: weights.shape)
        }
        if let bias, bias.shape != conv.biasShape {
            throw ConvolutionError.shapeMismatch(what: "bias", expected: conv.biasShape, actual: bias.shape)
        }
        if conv.hasBias && bias == nil {
            throw ConvolutionError.shapeMismatch(what: "bias", expected: conv.biasShape, actual: [])
        }
    }
}

extension PreparedConvolution {
    public func run(_ input: Tensor, into output: inout Tensor, relu: Bool, threads: Int) throws {
        try run(input, into: &output)
        if relu { output.applyReLU(threads: threads) }
    }

    /// Shared argument checks for `run`.
    /// Allocation-free on success: the shapes are compared field by field.
    public func checkRun(_ input: Tensor, _ output: Tensor) throws {
        let d = descriptor
        if !input.hasShape(d.batch, d.inChannels, d.inHeight, d.inWidth) {
            throw ConvolutionError.shapeMismatch(what: "input", expected: d.inputShape, actual: input.shape)
        }
        if !output.hasShape(d.batch, d.outChannels, d.outHeight, d.outWidth) {
            throw ConvolutionError.shapeMismatch(what: "output", expected: d.outputShape, actual: output.shape)
        }
    }
}
