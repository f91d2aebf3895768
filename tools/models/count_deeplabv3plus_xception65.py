#!/usr/bin/env python3
"""Parameter count of DeepLab v3+ with Xception-65 (21 classes), summed layer by layer from the
paper's code (tensorflow/models research/deeplab: core/xception.py xception_65, model.py ASPP with
separable convolutions, decoder with a 48-channel projection), written independently of the Swift
builder to check it. No dependencies: python3 tools/models/count_deeplabv3plus_xception65.py

Every conv and separable part has batch norm (gamma, beta trainable; moving mean and variance not)
except the logits, a 1x1 conv with bias. Separable = depthwise 3x3 + BN, then pointwise 1x1 + BN.
"""

trainable = 0  # PyTorch parameters() / Keras trainable weights
statistics = 0  # BN moving mean + variance (Keras counts them in count_params())
bn_channels = 0


def batch_norm(c):
    global trainable, statistics, bn_channels
    trainable += 2 * c
    statistics += 2 * c
    bn_channels += c


def conv(cin, cout, k, bias=False, bn=True):
    global trainable
    trainable += cin * cout * k * k + (cout if bias else 0)
    if bn:
        batch_norm(cout)


def separable(cin, cout):
    global trainable
    trainable += cin * 3 * 3  # depthwise, depth multiplier 1
    batch_norm(cin)
    conv(cin, cout, 1)


def xception_module(cin, depths, skip):
    c = cin
    for d in depths:
        separable(c, d)
        c = d
    if skip == "conv":
        conv(cin, depths[-1], 1)  # shortcut
    return c


# xception_65
conv(3, 32, 3)   # entry_flow/conv1_1
conv(32, 64, 3)  # entry_flow/conv1_2
c = xception_module(64, [128] * 3, "conv")
c = xception_module(c, [256] * 3, "conv")
c = xception_module(c, [728] * 3, "conv")
for _ in range(16):
    c = xception_module(c, [728] * 3, "sum")
c = xception_module(c, [728, 1024, 1024], "conv")
c = xception_module(c, [1536, 1536, 2048], "none")
backbone = trainable

# ASPP (256 channels), decoder, logits
conv(2048, 256, 1)  # image_pooling
conv(2048, 256, 1)  # aspp0
for _ in range(3):  # aspp1..3, rates 6/12/18
    separable(2048, 256)
conv(5 * 256, 256, 1)  # concat_projection
conv(256, 48, 1)  # decoder/feature_projection0
separable(256 + 48, 256)  # decoder/decoder_conv0
separable(256, 256)  # decoder/decoder_conv1
conv(256, 21, 1, bias=True, bn=False)  # logits/semantic

weights_and_bias = trainable - 2 * bn_channels
print(f"backbone trainable     {backbone:,}")
print(f"trainable (PyTorch)    {trainable:,}")
print(f"count_params (Keras)   {trainable + statistics:,}")
print(f"deployed (BN folded)   {weights_and_bias + bn_channels:,}")
