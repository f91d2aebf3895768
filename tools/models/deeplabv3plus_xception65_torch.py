#!/usr/bin/env python3
"""DeepLab v3+ with aligned Xception-65 (Chen et al. 2018) as a PyTorch module, written from the
paper and the layer list of tensorflow/models research/deeplab (core/xception.py xception_65,
model.py), independently of ConvBench's Swift builder, to cross-check it: parameter counts
(PyTorch parameters(), Keras-style count with BN moving statistics, BN folded) and the shapes of a
forward pass at 513x513, output stride 16.

Run with the fixture venv (torch only, nothing downloaded):
    .venv-fixtures/bin/python tools/models/deeplabv3plus_xception65_torch.py
"""
import torch
from torch import nn
import torch.nn.functional as F


def bn(c):
    return nn.BatchNorm2d(c, eps=1e-3)


class Separable(nn.Module):
    """Depthwise 3x3 (+BN, ReLU) then pointwise 1x1 (+BN), as xception.py's separable_conv2d with
    use_explicit_padding and activation inside."""

    def __init__(self, cin, cout, stride=1, rate=1):
        super().__init__()
        self.depthwise = nn.Conv2d(cin, cin, 3, stride, padding=rate, dilation=rate, groups=cin, bias=False)
        self.bn1 = bn(cin)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn2 = bn(cout)

    def forward(self, x):
        x = F.relu(self.bn1(self.depthwise(x)))
        return F.relu(self.bn2(self.pointwise(x)))


class Unit(nn.Module):
    """An Xception module: three separable convs, a 1x1 strided shortcut ('conv'), identity
    ('sum') or none."""

    def __init__(self, cin, depths, skip, stride=1, rate=1):
        super().__init__()
        convs, c = [], cin
        for i, d in enumerate(depths):
            convs.append(Separable(c, d, stride if i == 2 else 1, rate))
            c = d
        self.convs = nn.Sequential(*convs)
        self.skip = skip
        if skip == "conv":
            self.shortcut = nn.Sequential(nn.Conv2d(cin, depths[-1], 1, stride, bias=False), bn(depths[-1]))

    def forward(self, x):
        y = self.convs(x)
        if self.skip == "conv":
            return y + self.shortcut(x)
        if self.skip == "sum":
            return y + x
        return y


class DeepLabV3PlusXception65(nn.Module):
    def __init__(self, classes=21):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 32, 3, 2, 1, bias=False), bn(32), nn.ReLU(),
                                  nn.Conv2d(32, 64, 3, 1, 1, bias=False), bn(64), nn.ReLU())
        self.block1 = Unit(64, [128] * 3, "conv", stride=2)
        self.block2 = Unit(128, [256] * 3, "conv", stride=2)  # low-level features (stride 4)
        self.block3 = Unit(256, [728] * 3, "conv", stride=2)
        self.middle = nn.Sequential(*[Unit(728, [728] * 3, "sum") for _ in range(16)])
        self.exit1 = Unit(728, [728, 1024, 1024], "conv", stride=1)  # output stride 16: no stride
        self.exit2 = Unit(1024, [1536, 1536, 2048], "none", rate=2)
        self.pool_proj = nn.Sequential(nn.Conv2d(2048, 256, 1, bias=False), bn(256))
        self.aspp0 = nn.Sequential(nn.Conv2d(2048, 256, 1, bias=False), bn(256))
        self.aspp = nn.ModuleList([Separable(2048, 256, rate=r) for r in (6, 12, 18)])
        self.project = nn.Sequential(nn.Conv2d(5 * 256, 256, 1, bias=False), bn(256))
        self.low_proj = nn.Sequential(nn.Conv2d(256, 48, 1, bias=False), bn(48))
        self.decoder = nn.Sequential(Separable(304, 256), Separable(256, 256))
        self.logits = nn.Conv2d(256, classes, 1, bias=True)

    def forward(self, x):
        size = x.shape[-2:]
        x = self.stem(x)
        x = self.block1(x)
        low = self.block2(x)
        x = self.exit2(self.exit1(self.middle(self.block3(low))))
        pooled = F.relu(self.pool_proj(F.adaptive_avg_pool2d(x, 1)))
        branches = [F.interpolate(pooled, size=x.shape[-2:], mode="bilinear", align_corners=True),
                    F.relu(self.aspp0(x))] + [a(x) for a in self.aspp]
        x = F.relu(self.project(torch.cat(branches, 1)))
        x = F.interpolate(x, size=low.shape[-2:], mode="bilinear", align_corners=True)
        x = torch.cat([x, F.relu(self.low_proj(low))], 1)
        x = self.logits(self.decoder(x))
        return F.interpolate(x, size=size, mode="bilinear", align_corners=True), low.shape, x.shape


if __name__ == "__main__":
    torch.manual_seed(0)
    model = DeepLabV3PlusXception65().eval()
    trainable = sum(p.numel() for p in model.parameters())
    bn_channels = sum(m.num_features for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    print(f"trainable (PyTorch parameters())  {trainable:,}")
    print(f"count_params (Keras, + BN stats)   {trainable + 2 * bn_channels:,}")
    print(f"deployed (BN folded into convs)    {trainable - bn_channels:,}")
    with torch.no_grad():
        y, low, logits = model(torch.randn(1, 3, 513, 513))
    print(f"forward 1x3x513x513 -> {tuple(y.shape)}; low-level features {tuple(low)}, logits before upsampling {tuple(logits)}")
