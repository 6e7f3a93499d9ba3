#!/usr/bin/env bash
# Installs every Debian package FedHub needs to build, test and run. Idempotent: packages
# already present are skipped, and apt is touched only when something is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates openssl
  libgrpc++-dev libgrpc-dev protobuf-compiler-grpc protobuf-compiler libprotobuf-dev
  librocksdb-dev libssl-dev prometheus-cpp-dev libyaml-cpp-dev libabsl-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev libjemalloc-dev
  python3 python3-grpcio python3-protobuf
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# buf (proto lint) comes from the npm registry. Best effort: without it the proto lint test
# is skipped, never failed.
if ! command -v buf >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  npm install -g --silent @bufbuild/buf@1.75.0 >/dev/null 2>&1 ||
    echo "install-deps: could not install buf from npm; the proto lint test will be skipped" >&2
fi
