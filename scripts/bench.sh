#!/usr/bin/env bash
# The main job: installs what is missing, builds in release mode, runs the benchmark suite.
# Extra arguments are passed to `convbench`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/ensure-deps.sh
swift build -c release --product convbench
bin=.build/release/convbench
if [ "$#" -gt 0 ]; then exec "$bin" "$@"; fi
# Until the bench runner lands (issue 8), the main job describes a DeepLab v3 ASPP layer.
exec "$bin" describe "mb1ic2048ih64oc256oh64kh3ph12dh11n\"deeplabv3:aspp_rate12\""
