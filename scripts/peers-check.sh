#!/usr/bin/env bash
# Whole-network differential test against ONNX Runtime: exports Xception and DeepLab v3-ResNet-50
# at small inputs and lets Benchmarks/peers/peers.py rebuild them with onnx.helper and check every
# checkpoint (it installs onnxruntime, onnx and numpy from PyPI into .venv-peers the first time).
# CI runs it; `convbench run --suite deeplab --peers` does the same at full size and times it.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c "import ensurepip" 2>/dev/null || ./scripts/ensure-deps.sh python3-venv
./scripts/ensure-deps.sh
swift build -c release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.build/release/convbench export --model xception --input 99x99 --algorithm winograd-f4x4-3x3 --out "$work/xception"
.build/release/convbench export --model deeplabv3-resnet50 --input 97x97 --algorithm winograd-f4x4-3x3 --out "$work/deeplab"
python3 Benchmarks/peers/peers.py --export "$work/xception" --repetitions 1
python3 Benchmarks/peers/peers.py --export "$work/deeplab" --repetitions 1
