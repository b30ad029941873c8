#!/usr/bin/env bash
# Idempotent set-up: installs the system libraries ISACKit links against (OpenBLAS, LAPACKE,
# FFTW3) and the optional oneDNN (libdnnl-dev: Learning's convolutions load it at run time and fall back to
# im2col + sgemm without it) when missing, then builds the release binary .build/release/isac.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in libopenblas-dev liblapacke-dev libfftw3-dev pkg-config libdnnl-dev; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "setup: installing ${need[*]}" >&2
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
    echo "setup: swift 6.x is required on PATH (https://www.swift.org/install/)" >&2
    exit 1
fi

if [ "${ISAC_SKIP_RELEASE_BUILD:-0}" != "1" ]; then
    echo "setup: building release (swift build -c release)" >&2
    swift build -c release --product isac
fi
echo "setup: done" >&2
