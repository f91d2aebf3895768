#!/usr/bin/env python3
"""Dump ground-truth layer lists of real CNN models for ConvBench's model tests.

How to run (from the repository root):

    tools/models/dump_models.sh            # all models
    tools/models/dump_models.sh --only xception_timm_legacy_299

The wrapper uses the fixture venv ./.venv-fixtures (see dump_models.sh for how
to create it). No pretrained weights are ever loaded (weights=None,
weights_backbone=None, pretrained=False): only the architecture matters.

Output: one JSON file per model in Tests/ConvModelsTests/Fixtures/models/:

    {"model": str, "source": "torchvision X.Y / timm X.Y / keras X.Y ...",
     "constructor": str, "input": [N, C, H, W],
     "parameters": sum(p.numel() for p in model.parameters()),
     "buffers": numel of all buffers except BatchNorm's num_batches_tracked,
     "conv_macs": sum of "macs" over the conv entries of "layers",
     "conv_count", "linear_macs", "notes",
     "layers": [ one object per module *call*, in forward execution order ]}

Layer objects (all shapes NCHW; in_shape is the first tensor input):
  every kind:   name (qualified name from named_modules()), kind, in_shape, out_shape
  conv:         in_channels, out_channels, kernel [kh,kw], stride [sh,sw],
                padding [ph,pw] (symmetric, PyTorch semantics), dilation [dh,dw],
                groups, bias (bool), params (weight+bias numel),
                macs = N*outC*outH*outW*(inC/groups)*kh*kw
  linear:       in_features, out_features, bias, params, macs = rows*in*out
  bn:           num_features, eps, params (affine weight+bias), buffers (running stats)
  maxpool/avgpool: kernel, stride, padding, dilation (maxpool), ceil_mode
  adaptive_avgpool: output_size
  relu, dropout: only the common keys
Only modules are hooked: functional ops (F.interpolate in DeepLabV3's ASPP
pooling branch and final upsampling, F.relu, additions) do not appear.

The Keras fixture (xception_keras_299.json, only if `keras` is importable; it
runs on Keras 3's torch backend so no tensorflow is needed) uses the same
schema with Keras names; a SeparableConv2D is written as two conv entries,
NAME/depthwise (groups=inC) and NAME/pointwise (1x1), and Keras 'same' padding
is given both as the symmetric "padding" used by PyTorch when the total pad is
even and as explicit "pads" [top, bottom, left, right] (Keras puts the odd pixel
bottom/right). Keras "parameters" is model.count_params() (includes BN
moving mean/variance); "trainable_parameters" is also given.
"""

import argparse
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")  # Keras 3 on torch: no tensorflow needed

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT_DIR = os.path.join(ROOT, "Tests", "ConvModelsTests", "Fixtures", "models")


def _pair(v):
    if isinstance(v, (tuple, list)):
        return [int(v[0]), int(v[1])] if len(v) == 2 else [int(v[0]), int(v[0])]
    return [int(v), int(v)]


def _shape(t):
    import torch

    if isinstance(t, torch.Tensor):
        return [int(s) for s in t.shape]
    if isinstance(t, (tuple, list)) and t:
        return _shape(t[0])
    if isinstance(t, dict) and t:
        return _shape(next(iter(t.values())))
    return None


def _prod(xs):
    p = 1
    for x in xs:
        p *= int(x)
    return p


def describe_torch(name, mod, inp, out):
    """Return the layer dict for one module call, or None for an unhooked kind."""
    import torch.nn as nn

    in_shape = _shape(inp)
    out_shape = _shape(out)
    d = {"name": name, "kind": None, "in_shape": in_shape, "out_shape": out_shape}
    if isinstance(mod, nn.Conv2d):
        kh, kw = _pair(mod.kernel_size)
        if isinstance(mod.padding, str):
            raise ValueError(f"{name}: string padding {mod.padding!r} not supported")
        cin_g = mod.in_channels // mod.groups
        params = mod.weight.numel() + (mod.bias.numel() if mod.bias is not None else 0)
        d.update(kind="conv", in_channels=mod.in_channels, out_channels=mod.out_channels,
                 kernel=[kh, kw], stride=_pair(mod.stride), padding=_pair(mod.padding),
                 dilation=_pair(mod.dilation), groups=mod.groups,
                 bias=mod.bias is not None, params=int(params),
                 macs=_prod(out_shape) * cin_g * kh * kw)
        if mod.padding_mode != "zeros":
            d["padding_mode"] = mod.padding_mode
    elif isinstance(mod, nn.Linear):
        params = mod.weight.numel() + (mod.bias.numel() if mod.bias is not None else 0)
        rows = _prod(in_shape[:-1])
        d.update(kind="linear", in_features=mod.in_features, out_features=mod.out_features,
                 bias=mod.bias is not None, params=int(params),
                 macs=rows * mod.in_features * mod.out_features)
    elif isinstance(mod, nn.BatchNorm2d):
        params = sum(p.numel() for p in mod.parameters(recurse=False))
        bufs = sum(b.numel() for n, b in mod.named_buffers(recurse=False)
                   if n != "num_batches_tracked")
        d.update(kind="bn", num_features=mod.num_features, eps=mod.eps,
                 params=int(params), buffers=int(bufs))
    elif isinstance(mod, nn.MaxPool2d):
        d.update(kind="maxpool", kernel=_pair(mod.kernel_size),
                 stride=_pair(mod.stride if mod.stride is not None else mod.kernel_size),
                 padding=_pair(mod.padding), dilation=_pair(mod.dilation),
                 ceil_mode=bool(mod.ceil_mode))
    elif isinstance(mod, nn.AvgPool2d):
        d.update(kind="avgpool", kernel=_pair(mod.kernel_size),
                 stride=_pair(mod.stride if mod.stride is not None else mod.kernel_size),
                 padding=_pair(mod.padding), ceil_mode=bool(mod.ceil_mode))
    elif isinstance(mod, nn.AdaptiveAvgPool2d):
        d.update(kind="adaptive_avgpool", output_size=_pair(mod.output_size))
    elif isinstance(mod, nn.AdaptiveMaxPool2d):
        d.update(kind="adaptive_maxpool", output_size=_pair(mod.output_size))
    elif isinstance(mod, nn.ReLU):
        d["kind"] = "relu"
    elif isinstance(mod, nn.Dropout):
        d["kind"] = "dropout"
    else:
        return None
    return d


def trace_torch(model, input_shape):
    import torch

    model.eval()
    layers = []
    handles = []
    for name, mod in model.named_modules():
        def hook(m, inp, out, _name=name):
            d = describe_torch(_name, m, inp, out)
            if d is not None:
                layers.append(d)
        handles.append(mod.register_forward_hook(hook))
    with torch.no_grad():
        model(torch.zeros(*input_shape))
    for h in handles:
        h.remove()
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for n, b in model.named_buffers()
                  if not n.endswith("num_batches_tracked"))
    return layers, int(params), int(buffers)


def totals(layers):
    convs = [l for l in layers if l["kind"] == "conv"]
    return {
        "conv_macs": sum(l["macs"] for l in convs),
        "conv_count": len(convs),
        "linear_macs": sum(l["macs"] for l in layers if l["kind"] == "linear"),
    }


def write_fixture(filename, header, layers):
    """Top-level keys one per line, then one layer object per line."""
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, filename)
    lines = ["{"]
    for k, v in header.items():
        lines.append(f"  {json.dumps(k)}: {json.dumps(v)},")
    lines.append('  "layers": [')
    lines.append(",\n".join("    " + json.dumps(l, separators=(", ", ": ")) for l in layers))
    lines.append("  ]")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    json.loads(text)  # sanity check
    with open(path, "w") as f:
        f.write(text)
    return path, len(text)


# ---------------------------------------------------------------- models

def torchvision_models():
    import torch
    import torchvision
    from torchvision.models import segmentation as seg

    src = f"torchvision {torchvision.__version__} / torch {torch.__version__}"
    for depth in (50, 101):
        ctor = getattr(seg, f"deeplabv3_resnet{depth}")
        for aux, suffix in ((False, "512"), (True, "aux")):
            def build(ctor=ctor, aux=aux):
                return ctor(weights=None, weights_backbone=None, num_classes=21, aux_loss=aux)
            yield {
                "file": f"deeplabv3_resnet{depth}_{suffix}.json",
                "model": f"deeplabv3_resnet{depth}",
                "source": src,
                "constructor": (f"torchvision.models.segmentation.deeplabv3_resnet{depth}"
                                f"(weights=None, weights_backbone=None, num_classes=21, "
                                f"aux_loss={aux})"),
                "input": [1, 3, 512, 512],
                "build": build,
                "notes": ("eval mode; the aux FCNHead runs in eval too when aux_loss=True. "
                          "Backbone replace_stride_with_dilation=[False, True, True] "
                          "(output stride 8). Not hooked (functional): ASPP pooling-branch "
                          "F.interpolate and the final F.interpolate to the input size."),
            }


def timm_models():
    import timm
    import torch

    names = timm.list_models("*xception*")
    name = "legacy_xception" if "legacy_xception" in names else "xception"
    yield {
        "file": "xception_timm_legacy_299.json",
        "model": name,
        "source": f"timm {timm.__version__} / torch {torch.__version__}",
        "constructor": f"timm.create_model('{name}', pretrained=False, num_classes=1000)",
        "input": [1, 3, 299, 299],
        "build": lambda: timm.create_model(name, pretrained=False, num_classes=1000),
        "notes": ("timm's port of Keras' Xception (weights were converted from Keras). "
                  "SeparableConv2d = depthwise 3x3 (NAME.conv1, groups=inC) + pointwise "
                  "1x1 (NAME.pointwise), no bias, no BN in between. MaxPool2d(3, 2, 1) "
                  "uses symmetric padding 1, whereas Keras 'same' pads 0/1 when the input "
                  "size is even (74 -> 37)."),
    }


# ---------------------------------------------------------------- Keras

def _same_pads(size, k, s, d=1):
    keff = (k - 1) * d + 1
    out = -(-size // s)
    total = max((out - 1) * s + keff - size, 0)
    return total // 2, total - total // 2, out


def trace_keras_xception():
    import keras

    keras.utils.clear_session()
    model = keras.applications.Xception(weights=None, include_top=True, classes=1000,
                                        input_shape=(299, 299, 3))

    def nchw(shape):
        shape = list(shape)
        if shape[0] is None:
            shape[0] = 1
        if len(shape) == 4:
            return [shape[0], shape[3], shape[1], shape[2]]
        return shape

    def conv_entry(name, in_shape, out_shape, cin, cout, k, s, d, groups, bias, padding, pads):
        cin_g = cin // groups
        params = cout * cin_g * k[0] * k[1] + (cout if bias else 0)
        e = {"name": name, "kind": "conv", "in_shape": in_shape, "out_shape": out_shape,
             "in_channels": cin, "out_channels": cout, "kernel": list(k), "stride": list(s),
             "padding": padding, "pads": pads, "dilation": list(d), "groups": groups,
             "bias": bias, "params": params,
             "macs": _prod(out_shape) * cin_g * k[0] * k[1]}
        return e

    def pad_info(mode, in_hw, k, s, d):
        if mode == "valid":
            return [0, 0], [0, 0, 0, 0]
        t, b, _ = _same_pads(in_hw[0], k[0], s[0], d[0])
        l, r, _ = _same_pads(in_hw[1], k[1], s[1], d[1])
        sym = [t if t == b else None, l if l == r else None]
        return sym, [t, b, l, r]

    layers = []
    L = keras.layers
    for layer in model.layers:
        if isinstance(layer, L.InputLayer):
            continue
        ins = layer.input
        in_shape = nchw((ins[0] if isinstance(ins, list) else ins).shape)
        out_shape = nchw(layer.output.shape)
        cfg = layer.get_config()
        name = layer.name
        if isinstance(layer, L.SeparableConv2D):
            k, s, d = tuple(cfg["kernel_size"]), tuple(cfg["strides"]), tuple(cfg["dilation_rate"])
            cin = in_shape[1]
            mid = cin * cfg["depth_multiplier"]
            pad, pads = pad_info(cfg["padding"], in_shape[2:], k, s, d)
            mid_shape = [out_shape[0], mid, out_shape[2], out_shape[3]]
            layers.append(conv_entry(name + "/depthwise", in_shape, mid_shape, cin, mid, k, s, d,
                                     cin, False, pad, pads))
            layers.append(conv_entry(name + "/pointwise", mid_shape, out_shape, mid,
                                     cfg["filters"], (1, 1), (1, 1), (1, 1), 1,
                                     cfg["use_bias"], [0, 0], [0, 0, 0, 0]))
        elif isinstance(layer, L.Conv2D):
            k, s, d = tuple(cfg["kernel_size"]), tuple(cfg["strides"]), tuple(cfg["dilation_rate"])
            pad, pads = pad_info(cfg["padding"], in_shape[2:], k, s, d)
            layers.append(conv_entry(name, in_shape, out_shape, in_shape[1], cfg["filters"],
                                     k, s, d, cfg.get("groups", 1), cfg["use_bias"], pad, pads))
        elif isinstance(layer, L.BatchNormalization):
            c = in_shape[1]
            layers.append({"name": name, "kind": "bn", "in_shape": in_shape,
                           "out_shape": out_shape, "num_features": c, "eps": cfg["epsilon"],
                           "params": 2 * c, "buffers": 2 * c})
        elif isinstance(layer, L.MaxPooling2D):
            k, s = tuple(cfg["pool_size"]), tuple(cfg["strides"])
            pad, pads = pad_info(cfg["padding"], in_shape[2:], k, s, (1, 1))
            layers.append({"name": name, "kind": "maxpool", "in_shape": in_shape,
                           "out_shape": out_shape, "kernel": list(k), "stride": list(s),
                           "padding": pad, "pads": pads})
        elif isinstance(layer, L.GlobalAveragePooling2D):
            layers.append({"name": name, "kind": "adaptive_avgpool", "in_shape": in_shape,
                           "out_shape": [out_shape[0], out_shape[1], 1, 1],
                           "output_size": [1, 1]})
        elif isinstance(layer, L.Dense):
            cin = in_shape[-1]
            bias = cfg["use_bias"]
            layers.append({"name": name, "kind": "linear", "in_shape": in_shape,
                           "out_shape": out_shape, "in_features": cin,
                           "out_features": cfg["units"], "bias": bias,
                           "params": cin * cfg["units"] + (cfg["units"] if bias else 0),
                           "macs": _prod(in_shape[:-1]) * cin * cfg["units"],
                           "activation": cfg["activation"]})
        elif isinstance(layer, L.Activation) and cfg["activation"] == "relu":
            layers.append({"name": name, "kind": "relu", "in_shape": in_shape,
                           "out_shape": out_shape})
        elif isinstance(layer, L.Add):
            layers.append({"name": name, "kind": "add", "in_shape": in_shape,
                           "out_shape": out_shape})
        else:
            raise ValueError(f"unhandled Keras layer {name} ({type(layer).__name__})")

    trainable = sum(_prod(w.shape) for w in model.trainable_weights)
    nontrainable = sum(_prod(w.shape) for w in model.non_trainable_weights)
    header = {
        "model": "keras.applications.Xception",
        "source": f"keras {keras.__version__} (backend {keras.backend.backend()})",
        "constructor": ("keras.applications.Xception(weights=None, include_top=True, "
                        "classes=1000, input_shape=(299, 299, 3))"),
        "input": [1, 3, 299, 299],
        "parameters": int(model.count_params()),
        "trainable_parameters": int(trainable),
        "non_trainable_parameters": int(nontrainable),
        "buffers": 0,
    }
    header.update(totals(layers))
    header["notes"] = ("Keras layer order (model.layers, topological); the conv sequence "
                       "matches timm legacy_xception's 1:1 (residual 1x1 conv after the "
                       "block's sepconvs, unnamed: conv2d, conv2d_1, ...). Shapes converted "
                       "to NCHW. "
                       "SeparableConv2D split into /depthwise and /pointwise conv entries. "
                       "'padding' is the symmetric pad when top==bottom (null otherwise); "
                       "'pads' = [top, bottom, left, right] of Keras 'same'. BN 'params' = "
                       "gamma+beta, 'buffers' = moving mean+variance (Keras counts both in "
                       "count_params()).")
    return header, layers


# ---------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", action="append", default=[],
                    help="file stem to (re)generate, e.g. deeplabv3_resnet50_512 (repeatable)")
    ap.add_argument("--no-keras", action="store_true", help="skip the Keras Xception fixture")
    args = ap.parse_args(argv)

    import torch

    torch.manual_seed(0)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

    def wanted(stem):
        return not args.only or stem in args.only

    specs = list(torchvision_models()) + list(timm_models())
    for spec in specs:
        stem = spec["file"][:-5]
        if not wanted(stem):
            continue
        model = spec["build"]()
        layers, params, buffers = trace_torch(model, spec["input"])
        header = {k: spec[k] for k in ("model", "source", "constructor", "input")}
        header["parameters"] = params
        header["buffers"] = buffers
        header.update(totals(layers))
        header["notes"] = spec["notes"]
        path, size = write_fixture(spec["file"], header, layers)
        print(f"{os.path.relpath(path, ROOT)}: params={params:,} buffers={buffers:,} "
              f"conv_macs={header['conv_macs']:,} convs={header['conv_count']} "
              f"layers={len(layers)} size={size:,}B")
        del model

    if not args.no_keras and wanted("xception_keras_299"):
        try:
            import keras  # noqa: F401
        except ImportError:
            print("keras not installed: skipping xception_keras_299.json", file=sys.stderr)
        else:
            header, layers = trace_keras_xception()
            path, size = write_fixture("xception_keras_299.json", header, layers)
            print(f"{os.path.relpath(path, ROOT)}: params={header['parameters']:,} "
                  f"trainable={header['trainable_parameters']:,} "
                  f"conv_macs={header['conv_macs']:,} convs={header['conv_count']} "
                  f"layers={len(layers)} size={size:,}B")


if __name__ == "__main__":
    main()
