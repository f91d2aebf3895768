#!/usr/bin/env python3
"""Peers for convbench: rebuild an exported network in ONNX Runtime (and optionally PyTorch),
check their outputs against convbench's at every checkpoint, and time them.

    python3 Benchmarks/peers/peers.py --export DIR [--runtime onnxruntime] [--runtime torch]
                                      [--threads N] [--repetitions R] [--json]
    python3 Benchmarks/peers/peers.py --export DIR --runtime onnxruntime --threads N --serve
    python3 Benchmarks/peers/peers.py --export DIR --repetitions R --profile FILE.csv

DIR comes from `convbench export` (or from `convbench run --peers`, which starts this script
with --serve and interleaves its own forward passes with the peer's, so the ratio comes from one
run). --profile (ONNX Runtime only) times the repetitions with ONNX Runtime's own profiler on and
writes each node's median kernel time (ms) to a CSV, `node,op,median_ms`, the nodes as ONNX Runtime
names them after its fusions (e.g. `block5_sepconv1/pointwise_nchwc`); set beside convbench's
per-node times (`convbench run`'s per-block forward time) it shows where the two differ. The script makes its own virtual environment (.venv-peers beside the repository's
Package.swift, or $CONVBENCH_PEERS_VENV) and installs onnxruntime, onnx and numpy from PyPI into
it; torch and torchvision only when --runtime torch is asked for.

--serve protocol (one JSON object per line on stdout; everything else goes to stderr):
    after setup:   {"runtime": ..., "version": ..., "setupSeconds": ..., "agrees": bool,
                    "agreement": [{"node", "relativeDifference", "tolerance", "ok"}], "error": ...}
    "time K"   ->  {"seconds": [K wall times of one forward pass each]}
    "quit"     ->  exit 0
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BASE_PACKAGES = ["numpy", "onnx", "onnxruntime"]
TORCH_PACKAGES = ["torch", "torchvision"]


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- environment

def ensure_environment(runtimes):
    """Re-executes this script inside its virtual environment, creating and filling it first."""
    venv = os.environ.get("CONVBENCH_PEERS_VENV", os.path.join(REPO, ".venv-peers"))
    python = os.path.join(venv, "bin", "python")
    inside = os.path.realpath(sys.prefix) == os.path.realpath(venv)
    if not inside:
        if not os.path.exists(python):
            log(f"peers: creating virtual environment {venv}")
            result = subprocess.run([sys.executable, "-m", "venv", venv], stdout=sys.stderr)
            if result.returncode != 0:
                sys.exit("peers: cannot create a virtual environment (on Debian: apt-get install python3-venv)")
        os.execv(python, [python, os.path.abspath(__file__)] + sys.argv[1:])
    wanted = list(BASE_PACKAGES) + (TORCH_PACKAGES if "torch" in runtimes else [])
    missing = [p for p in wanted if not importable(p)]
    if missing:
        log(f"peers: installing {' '.join(missing)} from PyPI into {venv}")
        result = subprocess.run([python, "-m", "pip", "install", "--quiet", *missing], stdout=sys.stderr)
        if result.returncode != 0:
            sys.exit(f"peers: pip could not install {' '.join(missing)}")


def importable(package):
    import importlib.util
    return importlib.util.find_spec(package) is not None


# --------------------------------------------------------------------------- export

class Export:
    def __init__(self, folder):
        import numpy as np
        self.np = np
        self.folder = folder
        path = os.path.join(folder, "graph.json")
        try:
            with open(path) as f:
                self.graph = json.load(f)
        except (OSError, ValueError) as e:
            sys.exit(f"peers: cannot read {path}: {e}")
        if self.graph.get("format") != "convbench-model-export" or self.graph.get("version") != 1:
            sys.exit(f"peers: {path} is not a convbench export of version 1")
        self.nodes = self.graph["nodes"]
        self.input = self.array(self.graph["input"]["file"])

    def array(self, name):
        return self.np.load(os.path.join(self.folder, name))

    def checkpoint(self, c):
        return self.array(c["file"])


def agreement(export, outputs):
    """outputs: checkpoint node -> array (or missing). Returns (all ok, rows)."""
    np = export.np
    rows = []
    for c in export.graph["checkpoints"]:
        y = outputs.get(c["node"])
        if y is None:
            continue
        expected = export.checkpoint(c)
        if y.shape != expected.shape:
            rows.append({"node": c["node"], "relativeDifference": None, "tolerance": c["tolerance"], "ok": False,
                         "error": f"shape {list(y.shape)} != {list(expected.shape)}"})
            continue
        scale = float(np.max(np.abs(expected)))
        diff = float(np.max(np.abs(y.astype(np.float64) - expected.astype(np.float64))))
        rel = diff / scale if scale > 0 else diff
        rows.append({"node": c["node"], "relativeDifference": rel, "tolerance": c["tolerance"],
                     "ok": bool(rel <= c["tolerance"])})
    return bool(rows) and all(r["ok"] for r in rows), rows


# --------------------------------------------------------------------------- ONNX Runtime

def build_onnx(export, extra_outputs):
    """The network as an ONNX model built node by node with onnx.helper (deployed weights)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []
    shapes = {}

    def init(name, array):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    for n in export.nodes:
        name, op, ins = n["name"], n["op"], n["inputs"]
        shapes[name] = n["shape"]
        if op == "input":
            continue
        if op == "conv":
            operands = [ins[0], init(name + ":W", export.array(n["weight"]))]
            if n.get("bias"):
                operands.append(init(name + ":B", export.array(n["bias"])))
            out = name + ":conv" if n["relu"] else name
            nodes.append(helper.make_node("Conv", operands, [out], kernel_shape=n["kernel"], strides=n["stride"],
                                          dilations=n["dilation"], pads=n["pads"], group=n["groups"]))
            if n["relu"]:
                nodes.append(helper.make_node("Relu", [out], [name]))
        elif op in ("maxpool", "avgpool"):
            attrs = dict(kernel_shape=n["kernel"], strides=n["stride"], pads=n["pads"], ceil_mode=int(n["ceilMode"]))
            if op == "avgpool":
                attrs["count_include_pad"] = int(n["countIncludePad"])
            nodes.append(helper.make_node("MaxPool" if op == "maxpool" else "AveragePool", ins[:1], [name], **attrs))
        elif op == "globalavgpool":
            nodes.append(helper.make_node("GlobalAveragePool", ins, [name]))
        elif op == "add":
            nodes.append(helper.make_node("Add", ins, [name]))
        elif op == "concat":
            nodes.append(helper.make_node("Concat", ins, [name], axis=1))
        elif op == "resize":
            sizes = init(name + ":sizes", np.array(n["shape"], dtype=np.int64))
            mode = "align_corners" if n["alignCorners"] else "pytorch_half_pixel"
            nodes.append(helper.make_node("Resize", [ins[0], "", "", sizes], [name], mode="linear",
                                          coordinate_transformation_mode=mode))
        elif op == "dropout":
            nodes.append(helper.make_node("Identity", ins, [name]))
        elif op == "fc":
            flat = name + ":flat"
            nodes.append(helper.make_node("Flatten", ins, [flat], axis=1))
            operands = [flat, init(name + ":W", export.array(n["weight"]))]
            if n.get("bias"):
                operands.append(init(name + ":B", export.array(n["bias"])))
            nodes.append(helper.make_node("Gemm", operands, [name], transB=1))
        elif op == "softmax":
            nodes.append(helper.make_node("Softmax", ins, [name], axis=1))
        elif op == "relu":
            nodes.append(helper.make_node("Relu", ins, [name]))
        else:
            raise ValueError(f"unknown op {op} at {name}")

    first = export.graph["input"]
    outputs = list(export.graph["outputs"]) + [o for o in extra_outputs if o not in export.graph["outputs"]]
    graph = helper.make_graph(
        nodes, export.graph["model"],
        [helper.make_tensor_value_info(first["node"], TensorProto.FLOAT, first["shape"])],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, shapes[o]) for o in outputs], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="convbench-peers")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=False)
    return model


class OnnxRuntimePeer:
    name = "onnxruntime"

    def __init__(self, export, threads):
        import onnxruntime as ort
        self.version = ort.__version__
        self.export = export

        def session(model, profile=False):
            options = ort.SessionOptions()
            if profile:
                options.enable_profiling = True
                options.profile_file_prefix = os.path.join(tempfile.gettempdir(), "convbench-peer-profile")
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])

        checkpoints = [c["node"] for c in export.graph["checkpoints"]]
        # Checking asks for every checkpoint; timing asks only for the outputs, so nothing stops
        # ONNX Runtime's fusions and layout changes.
        self.checking = session(build_onnx(export, checkpoints))
        self.timed = session(build_onnx(export, []))
        self.feed = {export.graph["input"]["node"]: export.input}
        self.profiling_session = lambda: session(build_onnx(export, []), profile=True)

    def outputs(self):
        names = [o.name for o in self.checking.get_outputs()]
        return dict(zip(names, self.checking.run(names, self.feed)))

    def forward(self):
        self.timed.run(None, self.feed)

    def profile(self, repetitions):
        """[(node, op, median ms)] over `repetitions` passes (after two untimed ones), in the order
        ONNX Runtime first ran them."""
        profiled = self.profiling_session()
        for _ in range(2):
            profiled.run(None, self.feed)
        for _ in range(repetitions):
            profiled.run(None, self.feed)
        path = profiled.end_profiling()
        with open(path) as f:
            events = json.load(f)
        os.remove(path)
        times, ops, order = {}, {}, []
        for e in events:
            if e.get("cat") != "Node" or not e.get("name", "").endswith("_kernel_time"):
                continue
            node = e["name"][: -len("_kernel_time")]
            if node not in times:
                times[node] = []
                order.append(node)
            times[node].append(e["dur"] / 1000)
            ops[node] = e.get("args", {}).get("op_name", "")
        def median(values):
            return sorted(values)[len(values) // 2]
        # The two warm-up passes are the first samples of every node.
        return [(n, ops[n], median(times[n][2:] or times[n])) for n in order]


# --------------------------------------------------------------------------- PyTorch

def keras_xception(torch, classes):
    """Keras' applications.Xception written as a PyTorch module (Chollet 2017), with Keras' layer
    names as attribute paths (`block2_sepconv1.depthwise`, `conv2d_1`, `batch_normalization_1`),
    'same' padding as TensorFlow computes it, and the block outputs kept in `taps` by the names
    convbench's export uses for its checkpoints (`add`, `add_1`, …)."""
    nn, F = torch.nn, torch.nn.functional

    class Separable(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.depthwise = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
            self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)

        def forward(self, x):
            return self.pointwise(self.depthwise(x))

    def same_max_pool(x):
        # TensorFlow 'SAME': the odd padding pixel goes at the end; padding never wins.
        pads = []
        for size in (x.shape[3], x.shape[2]):
            total = max((-(-size // 2) - 1) * 2 + 3 - size, 0)
            pads += [total // 2, total - total // 2]
        return F.max_pool2d(F.pad(x, pads, value=float("-inf")), 3, 2)

    class Xception(nn.Module):
        def __init__(self):
            super().__init__()
            bn = lambda c: nn.BatchNorm2d(c, eps=1e-3)
            self.block1_conv1, self.block1_conv1_bn = nn.Conv2d(3, 32, 3, stride=2, bias=False), bn(32)
            self.block1_conv2, self.block1_conv2_bn = nn.Conv2d(32, 64, 3, bias=False), bn(64)
            self.down = [(2, 64, 128, 128, ""), (3, 128, 256, 256, "_1"), (4, 256, 728, 728, "_2"), (13, 728, 728, 1024, "_3")]
            for b, cin, c1, c2, k in self.down:
                setattr(self, f"block{b}_sepconv1", Separable(cin, c1)); setattr(self, f"block{b}_sepconv1_bn", bn(c1))
                setattr(self, f"block{b}_sepconv2", Separable(c1, c2)); setattr(self, f"block{b}_sepconv2_bn", bn(c2))
                setattr(self, f"conv2d{k}", nn.Conv2d(cin, c2, 1, stride=2, bias=False))
                setattr(self, f"batch_normalization{k}", bn(c2))
            for b in range(5, 13):
                for u in (1, 2, 3):
                    setattr(self, f"block{b}_sepconv{u}", Separable(728, 728)); setattr(self, f"block{b}_sepconv{u}_bn", bn(728))
            self.block14_sepconv1, self.block14_sepconv1_bn = Separable(1024, 1536), bn(1536)
            self.block14_sepconv2, self.block14_sepconv2_bn = Separable(1536, 2048), bn(2048)
            self.predictions = nn.Linear(2048, classes)
            self.taps = {}

        def unit(self, name, x):
            return getattr(self, name + "_bn")(getattr(self, name)(x))

        def forward(self, x):
            taps, m = self.taps, self
            x = F.relu(m.block1_conv1_bn(m.block1_conv1(x)))
            x = taps["block1_conv2"] = F.relu(m.block1_conv2_bn(m.block1_conv2(x)))
            adds = 0
            for b, _, _, _, k in self.down:
                if b == 13:
                    for block in range(5, 13):
                        y = x
                        for u in (1, 2, 3):
                            y = m.unit(f"block{block}_sepconv{u}", F.relu(y))
                        x = taps[f"add_{adds}"] = y + x
                        adds += 1
                y = x if b == 2 else F.relu(x)
                y = m.unit(f"block{b}_sepconv2", F.relu(m.unit(f"block{b}_sepconv1", y)))
                shortcut = getattr(m, f"batch_normalization{k}")(getattr(m, f"conv2d{k}")(x))
                x = taps["add" if adds == 0 else f"add_{adds}"] = same_max_pool(y) + shortcut
                adds += 1
            x = F.relu(m.unit("block14_sepconv1", x))
            x = taps["block14_sepconv2/pointwise"] = F.relu(m.unit("block14_sepconv2", x))
            x = taps["predictions"] = m.predictions(x.mean(dim=(2, 3)))
            return F.softmax(x, dim=1)

    return Xception()


class TorchPeer:
    """torchvision's own deeplabv3_resnet50, or Keras' Xception written in PyTorch (above), with
    the export's framework weights (batch norm unfolded) loaded by name."""
    name = "torch"

    def __init__(self, export, threads):
        import torch
        import torchvision
        torch.set_num_threads(threads)
        self.torch = torch
        self.version = f"torch {torch.__version__}, torchvision {torchvision.__version__}"
        self.export = export
        model = export.graph["model"]
        if model == "deeplabv3-resnet50":
            classes = next(n for n in export.nodes if n["name"] == "classifier.4")["outChannels"]
            net = torchvision.models.segmentation.deeplabv3_resnet50(weights=None, weights_backbone=None,
                                                                     num_classes=classes, aux_loss=False)
        elif model == "xception":
            net = keras_xception(torch, next(n for n in export.nodes if n["op"] == "fc")["shape"][1])
        else:
            raise NotImplementedError(f"no PyTorch definition for {model} here (deeplabv3-resnet50, xception)")
        state = {}
        for n in export.nodes:
            key = n["name"].replace("/", ".")
            if n["op"] == "fc":
                state[key + ".weight"] = torch.from_numpy(export.array(n["weight"]))
                state[key + ".bias"] = torch.from_numpy(export.array(n["bias"]))
            if n["op"] != "conv":
                continue
            fw = n["framework"]
            state[key + ".weight"] = torch.from_numpy(export.array(fw["weight"]))
            if fw.get("bias"):
                state[key + ".bias"] = torch.from_numpy(export.array(fw["bias"]))
            bn = fw.get("batchNorm")
            if bn:
                for field, file in (("weight", bn["gamma"]), ("bias", bn["beta"]), ("running_mean", bn["mean"]),
                                    ("running_var", bn["variance"])):
                    state[bn["name"] + "." + field] = torch.from_numpy(export.array(file))
        expected = {k for k in net.state_dict() if not k.endswith("num_batches_tracked")}
        if set(state) != expected:
            raise ValueError(f"weights do not match torchvision's modules: missing {sorted(expected - set(state))[:3]}, "
                             f"unexpected {sorted(set(state) - expected)[:3]}")
        net.load_state_dict(state, strict=False)
        self.net = net.eval()
        self.x = torch.from_numpy(export.input)
        self.modules = dict(net.named_modules())

    def outputs(self):
        seen = {}
        hooks = []
        for c in self.export.graph["checkpoints"]:
            module = self.modules.get(c["node"])
            if module is not None:
                # The last call wins: torchvision reuses one ReLU module three times per bottleneck.
                hooks.append(module.register_forward_hook(
                    lambda _m, _i, out, key=c["node"]: seen.__setitem__(key, out.detach().numpy().copy())))
        with self.torch.no_grad():
            result = self.net(self.x)
        for h in hooks:
            h.remove()
        if isinstance(result, dict):
            result = result["out"]
        for name, value in getattr(self.net, "taps", {}).items():
            seen[name] = value.detach().numpy().copy()
        seen[self.export.graph["outputs"][0]] = result.numpy()
        return seen

    def forward(self):
        with self.torch.no_grad():
            self.net(self.x)


PEERS = {"onnxruntime": OnnxRuntimePeer, "torch": TorchPeer}


# --------------------------------------------------------------------------- main

def set_up(export, runtime, threads):
    start = time.perf_counter()
    report = {"runtime": runtime}
    try:
        peer = PEERS[runtime](export, threads)
        report["version"] = peer.version
        peer.forward()  # warm-up
        report["agrees"], report["agreement"] = agreement(export, peer.outputs())
    except Exception as e:  # a peer that cannot run is reported, not fatal
        peer = None
        report.update(agrees=False, agreement=[], error=f"{type(e).__name__}: {e}")
    report["setupSeconds"] = time.perf_counter() - start
    return peer, report


def serve(peer, report):
    print(json.dumps(report), flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            return
        if words[0] == "time" and len(words) == 2 and words[1].isdigit() and peer is not None:
            seconds = []
            for _ in range(int(words[1])):
                start = time.perf_counter()
                peer.forward()
                seconds.append(time.perf_counter() - start)
            print(json.dumps({"seconds": seconds}), flush=True)
        else:
            print(json.dumps({"error": f"cannot do '{line.strip()}'"}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--export", required=True, help="folder written by `convbench export`")
    parser.add_argument("--runtime", action="append", choices=sorted(PEERS), help="repeatable (default onnxruntime)")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--serve", action="store_true", help="answer timing requests on stdin (one runtime)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--profile", metavar="CSV", help="ONNX Runtime's per-node median times over the repetitions, to CSV")
    args = parser.parse_args()
    runtimes = args.runtime or ["onnxruntime"]
    if args.threads < 1 or args.repetitions < 1:
        sys.exit("peers: --threads and --repetitions must be at least 1")
    if args.serve and len(runtimes) != 1:
        sys.exit("peers: --serve takes exactly one --runtime")
    if args.profile and runtimes != ["onnxruntime"]:
        sys.exit("peers: --profile is for --runtime onnxruntime alone")
    ensure_environment(runtimes)
    export = Export(args.export)
    if args.serve:
        serve(*set_up(export, runtimes[0], args.threads))
        return
    results = []
    for runtime in runtimes:
        peer, report = set_up(export, runtime, args.threads)
        if peer is not None:
            seconds = []
            for _ in range(args.repetitions):
                start = time.perf_counter()
                peer.forward()
                seconds.append(time.perf_counter() - start)
            report["seconds"] = seconds
            report["medianSeconds"] = sorted(seconds)[len(seconds) // 2]
            if args.profile:
                rows = peer.profile(args.repetitions)
                partial = args.profile + ".partial"
                try:
                    with open(partial, "w") as f:
                        f.write("node,op,median_ms\n")
                        for node, op, ms in rows:
                            f.write(f'"{node}",{op},{ms:.4f}\n')
                    os.replace(partial, args.profile)
                except OSError as e:
                    sys.exit(f"peers: cannot write the profile {args.profile}: {e.strerror}")
                log(f"per-node times of {len(rows)} nodes written to {args.profile} "
                    f"(sum of medians {sum(r[2] for r in rows):.1f} ms)")
        results.append(report)
    if args.json:
        print(json.dumps(results, indent=1))
    else:
        for r in results:
            worst = max((a["relativeDifference"] if a["relativeDifference"] is not None else float("inf")
                         for a in r["agreement"]), default=float("nan"))
            print(f"{r['runtime']} {r.get('version', '')}: "
                  + (f"error: {r['error']}" if "error" in r else
                     f"median {r['medianSeconds'] * 1e3:.1f} ms over {len(r['seconds'])}, "
                     f"{'agrees' if r['agrees'] else 'DISAGREES'} at {len(r['agreement'])} checkpoints "
                     f"(worst relative difference {worst:.2e})"))
    sys.exit(0 if all(r["agrees"] for r in results) else 1)


if __name__ == "__main__":
    main()
