#!/usr/bin/env bash
# Installs the Debian packages ConvBench links against, only when one is missing; extra package
# names on the command line are installed the same way (scripts/peers-check.sh adds python3-venv).
set -euo pipefail
packages=(libopenblas-dev libfftw3-dev libgoogle-perftools-dev "$@")
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "convbench: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
