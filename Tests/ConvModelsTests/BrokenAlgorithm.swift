import ConvAlgorithms
import ConvCore

/// A deliberately wrong algorithm, to show the forward-pass comparison can fail: im2col-gemm run
/// with the padding shifted down one row (top + 1, bottom − 1), the off-by-one a hand-written
/// kernel makes when it mixes up front and end padding. Output shapes are unchanged, so only the
/// tolerance can catch it.
struct ShiftedPaddingConvolution: ConvolutionAlgorithm {
    var name: String { "broken-shifted-padding" }
    var summary: String { "im2col-gemm with the padding shifted one row (a deliberate bug)" }
    var errorModel: ErrorModel { .float32Summation }

    func support(for c: ConvDescriptor) -> Support {
        c.padBottom >= 1 && !c.transposed ? .supported : .unsupported("needs bottom padding to shift")
    }

    func prepare(_ conv: ConvDescriptor, weights: Tensor, bias: Tensor?,
                 options: AlgorithmOptions) throws -> any PreparedConvolution {
        let shifted = try ConvDescriptor(
            batch: conv.batch, groups: conv.groups, inChannels: conv.inChannels, outChannels: conv.outChannels,
            inHeight: conv.inHeight, inWidth: conv.inWidth, kernelHeight: conv.kernelHeight, kernelWidth: conv.kernelWidth,
            strideHeight: conv.strideHeight, strideWidth: conv.strideWidth,
            padTop: conv.padTop + 1, padBottom: conv.padBottom - 1, padLeft: conv.padLeft, padRight: conv.padRight,
            dilationHeight: conv.dilationHeight, dilationWidth: conv.dilationWidth, hasBias: conv.hasBias)
        return Wrapped(descriptor: conv, inner: try Im2colGEMM().prepare(shifted, weights: weights, bias: bias, options: options))
    }

    final class Wrapped: PreparedConvolution {
        let descriptor: ConvDescriptor
        let inner: any PreparedConvolution
        init(descriptor: ConvDescriptor, inner: any PreparedConvolution) {
            self.descriptor = descriptor
            self.inner = inner
        }
        var workspaceBytes: Int { inner.workspaceBytes }
        func run(_ input: Tensor, into output: inout Tensor) throws { try inner.run(input, into: &output) }
    }
}

/// depthwise-simd without its `InputOverwriting` (and `InputReLUFusing`) conformance: a runner
/// gives its layers their own output memory, and computes the ReLUs before them as passes of their own.
struct CopyingDepthwise: ConvolutionAlgorithm {
    var name: String { "depthwise-simd-copying" }
    var summary: String { "depthwise-simd, never writing over its input" }
    var errorModel: ErrorModel { DepthwiseSIMD().errorModel }

    func support(for c: ConvDescriptor) -> Support { DepthwiseSIMD().support(for: c) }

    func prepare(_ conv: ConvDescriptor, weights: Tensor, bias: Tensor?,
                 options: AlgorithmOptions) throws -> any PreparedConvolution {
        ShiftedPaddingConvolution.Wrapped(descriptor: conv,
                                          inner: try DepthwiseSIMD().prepare(conv, weights: weights, bias: bias, options: options))
    }
}
