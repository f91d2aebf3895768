/// DeepLab v3+ with the aligned Xception-65 backbone, as the paper's code builds it (Chen et al.
/// 2018, "Encoder-Decoder with Atrous Separable Convolution for Semantic Image Segmentation";
/// tensorflow/models `research/deeplab`: `core/xception.py`, `model.py`), at output stride 16,
/// for 21 classes. Names are the TensorFlow variable scopes.
///
/// Backbone (`xception_65`): entry flow conv1_1 3×3/2 (32) and conv1_2 3×3 (64); entry blocks of
/// 128, 256 and 728 channels, each three separable convolutions (the third strided, replacing
/// Xception's max pool) plus a strided 1×1 shortcut; 16 middle blocks of three 728-channel
/// separable convolutions with identity shortcuts; exit block 1 (728, 1024, 1024; shortcut) run at
/// stride 1 because output stride 16 is reached, then exit block 2 (1536, 1536, 2048; no shortcut)
/// at rate 2. Separable convolutions are split as in the code: depthwise 3×3 + batch norm, then
/// pointwise 1×1 + batch norm; in all blocks but the last the ReLU comes before each separable
/// convolution, in exit block 2 after each batch norm (`activation_fn_in_separable_conv`).
/// Strided layers use the code's fixed padding (total k_eff − 1, independent of the input size);
/// stride-1 layers use 'SAME'. Backbone batch norm ε = 1e-3; head ε = 1e-5.
///
/// Head: ASPP (image pooling: global average + 1×1; a 1×1; separable 3×3 at rates 6, 12, 18 with
/// batch norm and ReLU after both parts; 256 channels each), concatenated, 1×1 projection;
/// decoder: low-level features (`entry_flow/block2/unit_1/xception_module/separable_conv2_pointwise`,
/// stride 4, after its batch norm) projected to 48 channels, ASPP output resized to that size
/// (align corners, as TensorFlow's `resize_bilinear(align_corners=True)`), concatenated (304),
/// two separable 3×3 convolutions of 256, the 1×1 logits with bias, and a resize to the input.
///
/// Parameters: 41,055,413 trainable (PyTorch `parameters()` convention: weights, the logits' bias,
/// batch-norm γ and β), 41,258,213 with the batch-norm moving statistics (Keras `count_params()`),
/// 40,954,013 deployed (batch norm folded). Checked three ways: an independent per-layer sum
/// (`tools/models/count_deeplabv3plus_xception65.py`); the Keras port of this model
/// (bonlime/keras-deeplab-v3-plus, Xception backbone) whose `count_params()` is 41,258,213; and
/// ZFTurbo's Keras-inference-time-optimizer, which folds batch norm and reports 40,954,013 for
/// that port (and 22,910,480 → 22,828,688 for Keras Xception, our deployed count there too).
enum DeepLabV3PlusXception65 {
    static func build(height: Int, width: Int, batch: Int, classes: Int = 21, seed: UInt64) throws(ModelError) -> ModelGraph {
        var b = GraphBuilder(model: "deeplabv3plus-xception65", inputShape: [batch, 3, height, width], seed: seed,
                             batchNormEpsilon: 1e-3)
        let root = "xception_65"
        b.block = "entry_flow/stem"
        var x = try b.conv("\(root)/entry_flow/conv1_1", b.input, outChannels: 32, kernel: 3, stride: 2,
                           padding: .fixed(extent: 3), batchNorm: "\(root)/entry_flow/conv1_1/BatchNorm", relu: true)
        x = try b.conv("\(root)/entry_flow/conv1_2", x, outChannels: 64, kernel: 3, padding: .same,
                       batchNorm: "\(root)/entry_flow/conv1_2/BatchNorm", relu: true)

        var lowLevel: NodeID?
        x = try module(&b, "\(root)/entry_flow/block1/unit_1", x, depths: [128, 128, 128], stride: 2, rate: 1,
                       shortcut: .conv, reluInside: false)
        x = try module(&b, "\(root)/entry_flow/block2/unit_1", x, depths: [256, 256, 256], stride: 2, rate: 1,
                       shortcut: .conv, reluInside: false, tap: &lowLevel)
        x = try module(&b, "\(root)/entry_flow/block3/unit_1", x, depths: [728, 728, 728], stride: 2, rate: 1,
                       shortcut: .conv, reluInside: false)
        for unit in 1...16 {
            x = try module(&b, "\(root)/middle_flow/block1/unit_\(unit)", x, depths: [728, 728, 728], stride: 1,
                           rate: 1, shortcut: .identity, reluInside: false)
        }
        // Output stride 16 is reached: exit block 1 runs at stride 1, and the rate doubles after it.
        x = try module(&b, "\(root)/exit_flow/block1/unit_1", x, depths: [728, 1024, 1024], stride: 1, rate: 1,
                       shortcut: .conv, reluInside: false)
        x = try module(&b, "\(root)/exit_flow/block2/unit_1", x, depths: [1536, 1536, 2048], stride: 1, rate: 2,
                       shortcut: .none, reluInside: true)

        b.batchNormEpsilon = 1e-5
        b.block = "aspp"
        let features = b.shape(x)
        var branches: [NodeID] = []
        var pooled = b.globalAveragePool("image_pooling/global_pool", x)
        pooled = try b.conv("image_pooling", pooled, outChannels: 256, kernel: 1, padding: .valid,
                            batchNorm: "image_pooling/BatchNorm", relu: true)
        branches.append(b.resizeBilinear("image_pooling/resize", pooled, height: features[2], width: features[3],
                                         alignCorners: true))
        branches.append(try b.conv("aspp0", x, outChannels: 256, kernel: 1, padding: .valid,
                                   batchNorm: "aspp0/BatchNorm", relu: true))
        for (i, rate) in [6, 12, 18].enumerated() {
            branches.append(try splitSeparable(&b, "aspp\(i + 1)", x, outChannels: 256, rate: rate))
        }
        x = b.concat("concat", branches)
        x = try b.conv("concat_projection", x, outChannels: 256, kernel: 1, padding: .valid,
                       batchNorm: "concat_projection/BatchNorm", relu: true)
        x = b.dropout("concat_projection_dropout", x)

        // Decoder at the low-level features' size (stride 4).
        b.block = "decoder"
        let low = b.shape(lowLevel!)
        let projected = try b.conv("decoder/feature_projection0", lowLevel!, outChannels: 48, kernel: 1, padding: .valid,
                                   batchNorm: "decoder/feature_projection0/BatchNorm", relu: true)
        x = b.resizeBilinear("decoder/resize", x, height: low[2], width: low[3], alignCorners: true)
        x = b.concat("decoder/concat", [x, projected])
        x = try splitSeparable(&b, "decoder/decoder_conv0", x, outChannels: 256, rate: 1)
        x = try splitSeparable(&b, "decoder/decoder_conv1", x, outChannels: 256, rate: 1)
        b.block = "logits"
        x = try b.conv("logits/semantic", x, outChannels: classes, kernel: 1, padding: .valid, bias: true)
        x = b.resizeBilinear("logits/resize", x, height: height, width: width, alignCorners: true)
        return b.finish(outputs: [x])
    }

    enum Shortcut { case conv, identity, none }

    /// `xception_module`: three separable convolutions (the last one strided), plus the shortcut.
    static func module(_ b: inout GraphBuilder, _ scope: String, _ x: NodeID, depths: [Int], stride: Int, rate: Int,
                       shortcut: Shortcut, reluInside: Bool) throws(ModelError) -> NodeID {
        var unused: NodeID?
        return try module(&b, scope, x, depths: depths, stride: stride, rate: rate, shortcut: shortcut,
                          reluInside: reluInside, tap: &unused)
    }

    /// As above; `tap` receives the second separable convolution's output (the decoder's low-level features).
    static func module(_ b: inout GraphBuilder, _ scope: String, _ x: NodeID, depths: [Int], stride: Int, rate: Int,
                       shortcut: Shortcut, reluInside: Bool, tap: inout NodeID?) throws(ModelError) -> NodeID {
        let m = "\(scope)/xception_module"
        b.block = scope.split(separator: "/").dropFirst().joined(separator: "/")
        var y = x
        for i in 0..<3 {
            let s = i == 2 ? stride : 1
            if !reluInside { y = b.relu(i == 0 ? "\(m)/Relu" : "\(m)/Relu_\(i)", y) }
            let conv = "\(m)/separable_conv\(i + 1)"
            y = try b.separable(depthwise: "\(conv)_depthwise", pointwise: "\(conv)_pointwise", y,
                                outChannels: depths[i], stride: s, dilation: rate,
                                padding: s == 1 ? .same : .fixed(extent: 2 * rate + 1),
                                depthwiseBatchNorm: "\(conv)_depthwise/BatchNorm", depthwiseReLU: reluInside,
                                pointwiseBatchNorm: "\(conv)_pointwise/BatchNorm", pointwiseReLU: reluInside)
            if i == 1 { tap = y }
        }
        switch shortcut {
        case .conv:
            // slim.conv2d default padding 'SAME': none for a 1×1 kernel.
            let s = try b.conv("\(m)/shortcut", x, outChannels: depths[2], kernel: 1, stride: stride, padding: .same,
                               batchNorm: "\(m)/shortcut/BatchNorm")
            return b.add("\(m)/add", y, s)
        case .identity:
            return b.add("\(m)/add", y, x)
        case .none:
            return y
        }
    }

    /// `model.py`'s `_split_separable_conv2d`: depthwise 3×3 at `rate` + batch norm + ReLU, then
    /// pointwise 1×1 + batch norm + ReLU ('SAME' padding).
    static func splitSeparable(_ b: inout GraphBuilder, _ scope: String, _ x: NodeID, outChannels: Int,
                               rate: Int) throws(ModelError) -> NodeID {
        try b.separable(depthwise: "\(scope)_depthwise", pointwise: "\(scope)_pointwise", x, outChannels: outChannels,
                        dilation: rate, padding: .same,
                        depthwiseBatchNorm: "\(scope)_depthwise/BatchNorm", depthwiseReLU: true,
                        pointwiseBatchNorm: "\(scope)_pointwise/BatchNorm", pointwiseReLU: true)
    }
}
