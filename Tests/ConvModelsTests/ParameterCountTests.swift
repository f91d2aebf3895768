import ConvModels
import Testing

/// Totals pinned to what the frameworks report (see tools/models/FINDINGS.md), and the paper models'
/// counts (derivations in their builders' doc comments).
@Suite struct ParameterCountTests {
    func counts(_ name: ModelName, _ options: ModelOptions? = nil) throws -> ParameterCounts {
        try ModelCatalog.build(name, options ?? .defaults(for: name)).parameterCounts
    }

    @Test func xceptionAsKerasCountsIt() throws {
        let p = try counts(.xception)
        #expect(p.keras == 22_910_480)  // count_params()
        #expect(p.trainable == 22_855_952)
        #expect(p.batchNormStatistics == 54_528)
        #expect(p.convolutionWeights == 20_752_424)
        #expect(p.linearWeights + p.linearBiases == 2_049_000)
        // Folded: conv weights + one bias per batch-normed channel (27,264) + the classifier; the
        // count Keras-inference-time-optimizer reports after folding Keras' Xception.
        #expect(p.deployed == 20_752_424 + 27_264 + 2_049_000)
        #expect(p.deployed == 22_828_688)

        var noTop = ModelOptions.defaults(for: .xception)
        noTop.includeTop = false
        #expect(try counts(.xception, noTop).keras == 20_861_480)
    }

    @Test func deeplabV3AsTorchvisionCountsIt() throws {
        let r50 = try counts(.deeplabv3Resnet50)
        #expect(r50.trainable == 39_638_869)
        #expect(r50.batchNormStatistics == 56_704)
        let r101 = try counts(.deeplabv3Resnet101)
        #expect(r101.trainable == 58_630_997)
        #expect(r101.batchNormStatistics == 108_928)

        var aux = ModelOptions.defaults(for: .deeplabv3Resnet50)
        aux.aux = true
        #expect(try counts(.deeplabv3Resnet50, aux).trainable == 42_004_074)
        #expect(try counts(.deeplabv3Resnet101, aux).trainable == 60_996_202)
    }

    /// Parameters do not depend on the input size; MACs do.
    @Test func countsDoNotDependOnInputSize() throws {
        for name in ModelName.allCases {
            let small = try counts(name, ModelOptions(height: 97, width: 131))
            #expect(small == (try counts(name)), "\(name)")
        }
    }

    @Test func convolutionMACsAtTheReferenceSizes() throws {
        #expect(try ModelCatalog.build(.deeplabv3Resnet50, .defaults(for: .deeplabv3Resnet50)).convolutionMACs
                == 163_579_428_864)
        #expect(try ModelCatalog.build(.xception, .defaults(for: .xception)).convolutionMACs == 8_355_355_496)
    }

    /// torchvision's ResNet-101 DeepLab v3 minus its extra 3×3 conv (589,824) and batch norm (512).
    @Test func deeplabV3Paper() throws {
        let p = try counts(.deeplabv3Paper)
        #expect(p.trainable == 58_040_661)
        #expect(p.trainable == 58_630_997 - 589_824 - 512)
        #expect(p.batchNormStatistics == 108_928 - 512)
    }

    /// Keras `count_params()` and the batch-norm-folded count as reported for the Keras port of
    /// this model (bonlime/keras-deeplab-v3-plus) by ZFTurbo's Keras-inference-time-optimizer.
    @Test func deeplabV3PlusXception65() throws {
        let p = try counts(.deeplabv3PlusXception65)
        #expect(p.trainable == 41_055_413)
        #expect(p.keras == 41_258_213)
        #expect(p.deployed == 40_954_013)
    }
}
