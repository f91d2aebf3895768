import ConvAlgorithms
import ConvCore
import ConvModels
import ConvVerify
import Foundation

/// Measured error of algorithms against the float64 reference on real layer shapes, N(0,1) data:
/// where the error constants of transform algorithms (Winograd, FFT) come from.
public struct AccuracyStudy: Sendable {
    public struct Row: Codable, Sendable {
        public var layer: String
        public var caseLine: String
        public var algorithm: String
        /// Reduction length K = (Cin/g)·kH·kW (+1 with bias).
        public var reductionLength: Int
        public var maxAbsoluteError: Double
        /// max |y − y_ref| / (ε · Σ|x·w|), Σ over the element's own window.
        public var maxRelativeToWindow: Double
        /// max |y − y_ref| / (ε · M), M the mixed magnitude of the algorithm's tile (`MixedMagnitudes`);
        /// equals the window ratio for algorithms that do not mix.
        public var maxRelativeToMixed: Double
        /// The constant the algorithm declares at this K, and the worst error as a fraction of its bound.
        public var declaredConstant: Double
        public var worstFractionOfBound: Double
    }

    /// The 3×3 stride-1 shapes of DeepLab v3-ResNet-50 at 512×512 (torchvision; output stride 8,
    /// so layers 3–4 are dilated 2 and 4, ASPP 12, 24, 36) and of ResNet-50 at 224×224.
    public static func threeByThreeShapes() throws -> [Suite.Layer] {
        let deeplab = try ModelSuite(.deeplabv3Resnet50, .defaults(for: .deeplabv3Resnet50), suiteName: "deeplab")
        var layers = deeplab.suite.layers.filter {
            $0.conv.kernelHeight == 3 && $0.conv.kernelWidth == 3 && $0.conv.strideHeight == 1 && $0.conv.strideWidth == 1
        }.map { Suite.Layer(name: "deeplabv3-resnet50:" + $0.name, conv: $0.conv, occurrences: $0.occurrences) }
        for (name, line) in [("resnet50:res2 3x3 64 @56", "mb1ic64ih56oc64kh3ph1"), ("resnet50:res3 3x3 128 @28", "mb1ic128ih28oc128kh3ph1"),
                             ("resnet50:res4 3x3 256 @14", "mb1ic256ih14oc256kh3ph1"), ("resnet50:res5 3x3 512 @7", "mb1ic512ih7oc512kh3ph1")] {
            layers.append(Suite.Layer(name: name, conv: try ConvCase(parsing: line).descriptor, occurrences: 1))
        }
        return layers
    }

    public static func measure(_ layers: [Suite.Layer], algorithms: [any ConvolutionAlgorithm], threads: Int,
                               seed: UInt64 = 1, progress: ((String) -> Void)? = nil) throws -> [Row] {
        var rows: [Row] = []
        for layer in layers {
            let conv = layer.conv
            let (x, w, b) = DataKind.normal.tensors(for: conv, seed: seed)
            progress?("reference: \(layer.name)")
            let reference = ReferenceConvolution.compute(conv, input: x, weights: w, bias: b, threads: threads)
            for algorithm in algorithms where algorithm.support(for: conv).isSupported {
                progress?("\(algorithm.name): \(layer.name)")
                let prepared = try algorithm.prepare(conv, weights: w, bias: b, options: AlgorithmOptions(threads: threads))
                var y = Tensor(shape: conv.outputShape)
                try prepared.run(x, into: &y)
                let tolerance = Tolerance(model: algorithm.errorModel, conv: conv, exact: false)
                let mixed = tolerance.magnitudes(reference, input: x, weights: w, bias: b)
                var row = Row(layer: layer.name, caseLine: conv.caseLine, algorithm: algorithm.name,
                              reductionLength: conv.reductionLength, maxAbsoluteError: 0, maxRelativeToWindow: 0,
                              maxRelativeToMixed: 0, declaredConstant: tolerance.constant, worstFractionOfBound: 0)
                y.withUnsafeBufferPointer { yp in
                    for i in 0..<yp.count {
                        let e = abs(Double(yp[i]) - reference.values[i])
                        row.maxAbsoluteError = max(row.maxAbsoluteError, e)
                        row.maxRelativeToWindow = max(row.maxRelativeToWindow, e / (Tolerance.epsilon * reference.magnitudes[i]))
                        row.maxRelativeToMixed = max(row.maxRelativeToMixed, e / (Tolerance.epsilon * mixed[i]))
                        row.worstFractionOfBound = max(row.worstFractionOfBound, e / tolerance.bound(magnitude: mixed[i]))
                    }
                }
                rows.append(row)
            }
        }
        return rows
    }

    public static func markdown(_ rows: [Row]) -> String {
        var s = "| layer | algorithm | K | max abs error | max err / (ε Σ\\|x·w\\|) | max err / (ε M) | c declared | worst / bound |\n"
        s += "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n"
        for r in rows {
            s += "| \(r.layer) | \(r.algorithm) | \(r.reductionLength) | \(String(format: "%.2e", r.maxAbsoluteError)) | "
            s += "\(String(format: "%.3g", r.maxRelativeToWindow)) | \(String(format: "%.3g", r.maxRelativeToMixed)) | "
            s += "\(String(format: "%.4g", r.declaredConstant)) | \(String(format: "%.3f", r.worstFractionOfBound)) |\n"
        }
        return s
    }
}
