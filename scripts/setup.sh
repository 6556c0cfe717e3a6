#!/usr/bin/env bash
# Installs everything qfloat needs on a fresh Debian bookworm machine (root or sudo).
# Usage: scripts/setup.sh [--python]   (--python also installs the Python packages that the
# optional cross-check tests use: numpy, ml_dtypes, safetensors, torch (CPU), torchao)
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

DEBIAN_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libboost-dev catch2 libhwy-dev libbenchmark-dev libtomlplusplus-dev libcli11-dev
  nlohmann-json3-dev libzip-dev zipcmp zipmerge ziptool zlib1g-dev libeigen3-dev librandom123-dev
  librsvg2-bin libexpat1-dev clang libclang-rt-14-dev
)
missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ "${1:-}" = "--python" ]; then
  python3 -m pip install -q --disable-pip-version-check -r "$(dirname "$0")/requirements-test.txt"
fi
