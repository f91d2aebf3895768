#!/usr/bin/env bash
# The main job: installs what is missing, builds in release mode, and runs
# `convbench run --suite deeplab` (every convolution of DeepLab v3-ResNet-50 at 512×512 under
# every algorithm, the fastest picked per layer, end-to-end forward passes), writing
# report.json, layers.csv and report.html to Reports/runs/<date>-deeplab/ (Markdown summary on stdout).
# Arguments, if any, replace the default `run --suite deeplab` and go to `convbench` as they are.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/ensure-deps.sh
swift build -c release --product convbench
bin=.build/release/convbench
if [ "$#" -gt 0 ]; then exec "$bin" "$@"; fi
exec "$bin" run --suite deeplab
