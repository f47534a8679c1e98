#!/usr/bin/env bash
# Builds the simulator: build/core.wasm first (scripts/build-wasm.sh, when it
# exists), then build/sim/pico-node-sim through CMake.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
if [ -f scripts/build-wasm.sh ]; then
  bash scripts/build-wasm.sh
fi
if [ ! -f build/core.wasm ]; then
  echo "build-sim: build/core.wasm is missing (scripts/build-wasm.sh did not produce it)" >&2
  exit 1
fi
cmake -S . -B build/sim "$@"
cmake --build build/sim -j2
echo "build-sim: build/sim/pico-node-sim"
