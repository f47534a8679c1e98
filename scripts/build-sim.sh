#!/usr/bin/env bash
# Builds the simulator: build/core.wasm first (scripts/build-wasm.sh), then
# build/sim/pico-node-sim (the core through wasm2c). When WAMR_ROOT names a
# wasm-micro-runtime source tree, also build/sim-wamr/pico-node-sim, which
# runs build/core.wasm under WAMR's interpreter as the device does.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash scripts/build-wasm.sh
if [ ! -f build/core.wasm ]; then
  echo "build-sim: build/core.wasm is missing (scripts/build-wasm.sh did not produce it)" >&2
  exit 1
fi
cmake -S . -B build/sim -DSHIM_BUILD_TESTS=OFF "$@" >/dev/null
cmake --build build/sim -j2
echo "build-sim: build/sim/pico-node-sim (wasm2c)"
if [ -n "${WAMR_ROOT:-}" ]; then
  cmake -S . -B build/sim-wamr -DSHIM_BUILD_TESTS=OFF -DWAMR_ROOT="$WAMR_ROOT" "$@" >/dev/null
  cmake --build build/sim-wamr -j2
  echo "build-sim: build/sim-wamr/pico-node-sim (WAMR, loads build/core.wasm)"
fi
