#!/usr/bin/env bash
# The test command: installs what is missing, builds everything, runs every test.
#   scripts/test.sh              all tests
#   scripts/test.sh -L unit      any ctest arguments narrow the run
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
BUILD_DIR="${FEDHUB_BUILD_DIR:-build}"
cd "$BUILD_DIR"
ctest --output-on-failure -j "$(nproc)" --timeout 600 "$@"
