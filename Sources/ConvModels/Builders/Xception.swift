/// Xception as Keras builds it (`keras.applications.Xception`; Chollet 2017, "Xception: Deep
/// Learning with Depthwise Separable Convolutions"): entry flow (two plain convolutions, three
/// residual blocks of separable convolutions with strided 1×1 shortcuts), middle flow (eight
/// identical 728-channel blocks), exit flow, and the 1000-class top (global average pool, dense,
/// softmax). Names are Keras' own (`block5_sepconv1`, `conv2d_1`, `add_4`), and so is the order of the
/// convolutions (each block's pool precedes its shortcut here, which Keras lists after it), with each
/// `SeparableConv2D` as `NAME/depthwise` + `NAME/pointwise` and its batch norm folded into the
/// pointwise node. Padding is Keras': 'valid' stem, 'same' elsewhere (so a 3×3/2 pool on an even
/// size pads 0 top/left and 1 bottom/right). Keras refuses inputs below 71×71, and so do we.
enum Xception {
    static let minimumInput = 71

    static func build(height: Int, width: Int, batch: Int, includeTop: Bool, classes: Int = 1000,
                      seed: UInt64) throws(ModelError) -> ModelGraph {
        let name = "xception"
        if height < minimumInput || width < minimumInput {
            throw .inputTooSmall(model: name, minimum: minimumInput, height: height, width: width)
        }
        var b = GraphBuilder(model: name, inputShape: [batch, 3, height, width], seed: seed, batchNormEpsilon: 1e-3)
        var x = b.input

        // Entry flow stem.
        b.block = "block1"
        x = try b.conv("block1_conv1", x, outChannels: 32, kernel: 3, stride: 2, padding: .valid,
                       batchNorm: "block1_conv1_bn", relu: true)
        x = try b.conv("block1_conv2", x, outChannels: 64, kernel: 3, padding: .valid,
                       batchNorm: "block1_conv2_bn", relu: true)

        // Keras numbers its unnamed layers in creation order: conv2d, conv2d_1, … and add, add_1, ….
        var shortcutIndex = 0, addIndex = 0
        func numbered(_ base: String, _ i: Int) -> String { i == 0 ? base : "\(base)_\(i)" }

        /// Two separable convolutions, a 3×3/2 max pool and a strided 1×1 shortcut (blocks 2–4, 13).
        func downsamplingBlock(_ block: Int, _ x: NodeID, _ c1: Int, _ c2: Int, preActivation: Bool) throws(ModelError) -> NodeID {
            b.block = "block\(block)"
            var y = x
            if preActivation { y = b.relu("block\(block)_sepconv1_act", y) }
            y = try b.separable(depthwise: "block\(block)_sepconv1/depthwise", pointwise: "block\(block)_sepconv1/pointwise",
                                y, outChannels: c1, padding: .same, pointwiseBatchNorm: "block\(block)_sepconv1_bn",
                                pointwiseReLU: true)  // the block's sepconv2_act, fused
            y = try b.separable(depthwise: "block\(block)_sepconv2/depthwise", pointwise: "block\(block)_sepconv2/pointwise",
                                y, outChannels: c2, padding: .same, pointwiseBatchNorm: "block\(block)_sepconv2_bn")
            // Keras lists the shortcut after the block's separable convolutions (the convolutions keep
            // its order); it reads the block input. The pool comes first: it reads the output of the
            // convolution just before it while that is still in the cache, and the shortcut, now just
            // before the add, adds the pool's output as it stores (`ModelRunner`'s fused adds).
            y = try b.maxPool("block\(block)_pool", y, kernel: 3, stride: 2, padding: .same)
            let shortcut = try b.conv(numbered("conv2d", shortcutIndex), x, outChannels: c2, kernel: 1, stride: 2,
                                      padding: .same, batchNorm: numbered("batch_normalization", shortcutIndex))
            shortcutIndex += 1
            defer { addIndex += 1 }
            return b.add(numbered("add", addIndex), y, shortcut)
        }

        x = try downsamplingBlock(2, x, 128, 128, preActivation: false)
        x = try downsamplingBlock(3, x, 256, 256, preActivation: true)
        x = try downsamplingBlock(4, x, 728, 728, preActivation: true)

        // Middle flow: eight residual blocks of three ReLU–separable–BN units.
        for block in 5...12 {
            b.block = "block\(block)"
            var y = b.relu("block\(block)_sepconv1_act", x)
            for unit in 1...3 {
                y = try b.separable(depthwise: "block\(block)_sepconv\(unit)/depthwise",
                                    pointwise: "block\(block)_sepconv\(unit)/pointwise", y, outChannels: 728,
                                    padding: .same, pointwiseBatchNorm: "block\(block)_sepconv\(unit)_bn",
                                    pointwiseReLU: unit < 3)  // the next unit's _act
            }
            x = b.add(numbered("add", addIndex), y, x)
            addIndex += 1
        }

        // Exit flow.
        x = try downsamplingBlock(13, x, 728, 1024, preActivation: true)
        b.block = "block14"
        x = try b.separable(depthwise: "block14_sepconv1/depthwise", pointwise: "block14_sepconv1/pointwise", x,
                            outChannels: 1536, padding: .same, pointwiseBatchNorm: "block14_sepconv1_bn", pointwiseReLU: true)
        x = try b.separable(depthwise: "block14_sepconv2/depthwise", pointwise: "block14_sepconv2/pointwise", x,
                            outChannels: 2048, padding: .same, pointwiseBatchNorm: "block14_sepconv2_bn", pointwiseReLU: true)
        if includeTop {
            b.block = "top"
            x = b.globalAveragePool("avg_pool", x)
            x = b.linear("predictions", x, outFeatures: classes)
            x = b.softmax("predictions/softmax", x)
        }
        return b.finish(outputs: [x])
    }
}
