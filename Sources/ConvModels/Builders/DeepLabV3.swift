/// DeepLab v3 as torchvision builds it (`torchvision.models.segmentation.deeplabv3_resnet50/101`):
/// a ResNet backbone with `replace_stride_with_dilation=[False, True, True]` (output stride 8),
/// `DeepLabHead` = ASPP (1×1, three 3×3 at rates 12/24/36, image pooling; 1×1 projection and
/// dropout) + 3×3 conv + 1×1 classifier with bias, bilinear upsampling to the input size, and the
/// optional auxiliary `FCNHead` on stage 3. Chen et al. 2017, "Rethinking Atrous Convolution for
/// Semantic Image Segmentation".
enum DeepLabV3 {
    static func build(depth: Int, height: Int, width: Int, batch: Int, aux: Bool, classes: Int = 21,
                      seed: UInt64) throws(ModelError) -> ModelGraph {
        precondition(depth == 50 || depth == 101)
        var b = GraphBuilder(model: "deeplabv3-resnet\(depth)", inputShape: [batch, 3, height, width],
                             seed: seed, batchNormEpsilon: 1e-5)
        let backbone = try ResNetBackbone.build(&b, .init(
            blocks: depth == 50 ? [3, 4, 6, 3] : [3, 4, 23, 3], replaceStrideWithDilation: [false, true, true]))

        var x = try aspp(&b, backbone.layer4, rates: [12, 24, 36], dropout: true)
        b.block = "classifier (head)"
        x = try b.conv("classifier.1", x, outChannels: 256, kernel: 3, padding: .symmetric(1),
                       batchNorm: "classifier.2", relu: true)  // classifier.3
        x = try b.conv("classifier.4", x, outChannels: classes, kernel: 1, padding: .valid, bias: true)
        var outputs = [b.resizeBilinear("classifier.interpolate", x, height: height, width: width)]

        if aux {
            b.block = "aux_classifier"
            var y = try b.conv("aux_classifier.0", backbone.layer3, outChannels: 256, kernel: 3, padding: .symmetric(1),
                               batchNorm: "aux_classifier.1", relu: true)  // aux_classifier.2
            y = b.dropout("aux_classifier.3", y)
            y = try b.conv("aux_classifier.4", y, outChannels: classes, kernel: 1, padding: .valid, bias: true)
            outputs.append(b.resizeBilinear("aux_classifier.interpolate", y, height: height, width: width))
        }
        return b.finish(outputs: outputs)
    }

    /// torchvision's `ASPP` under `classifier.0`: five 256-channel branches (1×1; 3×3 at each
    /// rate with padding = rate; global average pool → 1×1 → bilinear back), each with batch norm
    /// and ReLU, concatenated, projected by 1×1 + batch norm + ReLU (+ dropout 0.5 in torchvision).
    static func aspp(_ b: inout GraphBuilder, _ x: NodeID, rates: [Int], dropout: Bool,
                     prefix: String = "classifier.0") throws(ModelError) -> NodeID {
        let s = b.shape(x)
        b.block = "\(prefix) (ASPP)"
        defer { b.block = nil }
        var branches = [try b.conv("\(prefix).convs.0.0", x, outChannels: 256, kernel: 1, padding: .valid,
                                   batchNorm: "\(prefix).convs.0.1", relu: true)]
        for (i, rate) in rates.enumerated() {
            branches.append(try b.conv("\(prefix).convs.\(i + 1).0", x, outChannels: 256, kernel: 3, dilation: rate,
                                       padding: .symmetric(rate), batchNorm: "\(prefix).convs.\(i + 1).1", relu: true))
        }
        let p = rates.count + 1
        var pooled = b.globalAveragePool("\(prefix).convs.\(p).0", x)
        pooled = try b.conv("\(prefix).convs.\(p).1", pooled, outChannels: 256, kernel: 1, padding: .valid,
                            batchNorm: "\(prefix).convs.\(p).2", relu: true)
        branches.append(b.resizeBilinear("\(prefix).convs.\(p).interpolate", pooled, height: s[2], width: s[3]))
        var y = b.concat("\(prefix).cat", branches)
        y = try b.conv("\(prefix).project.0", y, outChannels: 256, kernel: 1, padding: .valid,
                       batchNorm: "\(prefix).project.1", relu: true)
        if dropout { y = b.dropout("\(prefix).project.3", y) }
        return y
    }
}
