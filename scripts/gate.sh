#!/usr/bin/env bash
# The regression gate CI runs: a quick `convbench run --suite layers` with this build, compared
# with the stored baseline (Reports/baselines/layers-quick.json, measured on a machine of the
# same kind) after normalizing both by their in-run SGEMM calibration.
#
# The threshold is wide on purpose: these 2-core VMs share their hosts, and two back-to-back quick
# runs on one machine have differed by 1.9x on a layer for minutes at a time. At 150% the gate
# still fails a kernel that lost its vectorization, a debug build, or a thread-count mix-up, and
# --confirm re-measures before failing. Tighter gates belong on quiet machines:
#   convbench gate --baseline B.json --current C.json --max-regression 10% --confirm
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/ensure-deps.sh
swift build -c release --product convbench
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
.build/release/convbench run --suite layers --quick --out "$out" > "$out/summary.md"
exec .build/release/convbench gate --baseline Reports/baselines/layers-quick.json \
    --current "$out/report.json" --max-regression "${CONVBENCH_GATE_MAX_REGRESSION:-150%}" --confirm
