#!/usr/bin/env bash
# Configures (once) and builds FedHub with CMake and Ninja into ${FEDHUB_BUILD_DIR:-build}.
# Extra arguments are Ninja targets (default: everything).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${FEDHUB_BUILD_DIR:-build}"
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  launcher=()
  if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="${FEDHUB_BUILD_TYPE:-RelWithDebInfo}" \
    "${launcher[@]}" >/dev/null
fi
ninja -C "$BUILD_DIR" "$@"
