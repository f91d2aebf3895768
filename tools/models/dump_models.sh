#!/bin/sh
# Regenerate Tests/ConvModelsTests/Fixtures/models/*.json (see dump_models.py).
# Uses the fixture venv ./.venv-fixtures at the repo root. To recreate it:
#   python3 -m venv .venv-fixtures
#   .venv-fixtures/bin/pip install torch numpy          # CUDA wheel, ~5 GB; CPU is used
#   .venv-fixtures/bin/pip install --no-deps torchvision && .venv-fixtures/bin/pip install pillow
#   .venv-fixtures/bin/pip install timm keras           # keras 3 runs on the torch backend
# (torchvision must match torch: torch 2.15.0 + torchvision 0.29.2 were used.)
set -eu
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PY="$ROOT/.venv-fixtures/bin/python"
if ! "$PY" -c "import torch, torchvision, timm" 2>/dev/null; then
    echo "missing venv or packages: see the comment at the top of $0" >&2
    exit 1
fi
exec "$PY" "$ROOT/tools/models/dump_models.py" "$@"
