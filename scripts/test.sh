#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test (CI runs exactly this).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/ensure-deps.sh
swift build --build-tests
swift test --skip-build "$@"
