/// The ResNet backbone as torchvision builds it (`torchvision.models.resnet`, v1.5: the stride sits
/// on each stage's first 3×3 convolution), with torchvision's names (`backbone.layer3.0.conv2`).
/// He et al. 2016, "Deep Residual Learning for Image Recognition".
enum ResNetBackbone {
    struct Configuration {
        /// Bottleneck blocks per stage: [3, 4, 6, 3] for ResNet-50, [3, 4, 23, 3] for ResNet-101.
        var blocks: [Int]
        /// torchvision's `replace_stride_with_dilation` for stages 2–4: a replaced stride multiplies
        /// the dilation of the following convolutions instead of shrinking the map.
        var replaceStrideWithDilation: [Bool]
        /// DeepLab v3's multi-grid for the last stage (Chen et al. 2017, §3.2): unit i's 3×3
        /// dilation is the stage's rate times `multiGrid[i]`. Nil is torchvision's rule: the first
        /// unit keeps the previous rate, the others use the stage's rate.
        var multiGrid: [Int]? = nil
    }

    /// Builds stem and four stages under `backbone.`; returns the outputs of stages 3 and 4.
    static func build(_ b: inout GraphBuilder, _ config: Configuration) throws(ModelError) -> (layer3: NodeID, layer4: NodeID) {
        precondition(config.blocks.count == 4 && config.replaceStrideWithDilation.count == 3)
        b.block = "backbone.stem"
        var x = try b.conv("backbone.conv1", b.input, outChannels: 64, kernel: 7, stride: 2, padding: .symmetric(3),
                           batchNorm: "backbone.bn1", relu: true)  // backbone.relu
        x = try b.maxPool("backbone.maxpool", x, kernel: 3, stride: 2, padding: .symmetric(1))

        var dilation = 1
        var layer3 = x
        for stage in 0..<4 {
            b.block = "backbone.layer\(stage + 1)"
            let planes = 64 << stage
            var stride = stage == 0 ? 1 : 2
            let previousDilation = dilation
            if stage > 0 && config.replaceStrideWithDilation[stage - 1] {
                dilation *= stride
                stride = 1
            }
            for unit in 0..<config.blocks[stage] {
                let rate: Int
                if stage == 3, let grid = config.multiGrid {
                    rate = dilation * grid[unit % grid.count]
                } else {
                    rate = unit == 0 ? previousDilation : dilation
                }
                x = try bottleneck(&b, "backbone.layer\(stage + 1).\(unit)", x, planes: planes,
                                   stride: unit == 0 ? stride : 1, dilation: rate)
            }
            if stage == 2 { layer3 = x }
        }
        b.block = nil
        return (layer3, x)
    }

    /// 1×1 → 3×3 (stride, dilation) → 1×1 ×4, each with batch norm; ReLU after the first two and
    /// after the residual addition. The shortcut is a strided 1×1 + batch norm when the shape changes.
    static func bottleneck(_ b: inout GraphBuilder, _ prefix: String, _ x: NodeID, planes: Int,
                           stride: Int, dilation: Int) throws(ModelError) -> NodeID {
        let outChannels = planes * 4
        var y = try b.conv("\(prefix).conv1", x, outChannels: planes, kernel: 1, padding: .valid,
                           batchNorm: "\(prefix).bn1", relu: true)
        y = try b.conv("\(prefix).conv2", y, outChannels: planes, kernel: 3, stride: stride, dilation: dilation,
                       padding: .symmetric(dilation), batchNorm: "\(prefix).bn2", relu: true)
        y = try b.conv("\(prefix).conv3", y, outChannels: outChannels, kernel: 1, padding: .valid,
                       batchNorm: "\(prefix).bn3")
        var shortcut = x
        if stride != 1 || b.channels(x) != outChannels {
            shortcut = try b.conv("\(prefix).downsample.0", x, outChannels: outChannels, kernel: 1, stride: stride,
                                  padding: .valid, batchNorm: "\(prefix).downsample.1")
        }
        let sum = b.add("\(prefix).add", y, shortcut)
        return b.relu("\(prefix).relu", sum)
    }
}
