/// DeepLab v3 as the paper describes its best PASCAL VOC model (Chen et al. 2017, "Rethinking
/// Atrous Convolution for Semantic Image Segmentation", §3.3 and §4): ResNet-101 at output stride
/// 16 (stage 4's stride replaced by dilation 2), multi-grid (1, 2, 4) in stage 4 so its three
/// units use rates 2, 4, 8; ASPP with a 1×1 and three 3×3 branches at rates 6/12/18 plus image
/// pooling, 256 channels each with batch norm; concatenation, a 1×1 projection with batch norm,
/// and the final 1×1 to 21 classes (with bias), upsampled bilinearly to the input.
///
/// Differences from torchvision's head: no extra 3×3 conv + batch norm before the classifier (the
/// paper goes straight from the projection to the logits) and no dropout. The backbone keeps
/// torchvision's layout and names (stride on the first unit's 3×3); the paper's TF-slim ResNet puts
/// each stage's stride on its last unit instead, which moves some MACs but no parameters.
/// Parameters (PyTorch convention): 58,040,661 = torchvision deeplabv3_resnet101's 58,630,997 minus
/// that 3×3 conv (589,824) and its batch norm (512); the tests pin both numbers.
enum DeepLabV3Paper {
    static func build(height: Int, width: Int, batch: Int, classes: Int = 21, seed: UInt64) throws(ModelError) -> ModelGraph {
        var b = GraphBuilder(model: "deeplabv3-paper", inputShape: [batch, 3, height, width], seed: seed,
                             batchNormEpsilon: 1e-5)
        let backbone = try ResNetBackbone.build(&b, .init(
            blocks: [3, 4, 23, 3], replaceStrideWithDilation: [false, false, true], multiGrid: [1, 2, 4]))
        var x = try DeepLabV3.aspp(&b, backbone.layer4, rates: [6, 12, 18], dropout: false)
        b.block = "classifier (head)"
        x = try b.conv("classifier.1", x, outChannels: classes, kernel: 1, padding: .valid, bias: true)
        x = b.resizeBilinear("classifier.interpolate", x, height: height, width: width)
        return b.finish(outputs: [x])
    }
}
