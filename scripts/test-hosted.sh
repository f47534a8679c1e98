#!/usr/bin/env bash
# The end-to-end suite (tests/e2e) with the hosted board as the node: the
# firmware's own code on Linux (firmware-shim/port/pico/hosted/README.md).
# Not part of `npm test`: it needs root and the SDK and WAMR sources.
#   PICO_SDK_PATH=... WAMR_ROOT=... bash scripts/test-hosted.sh [tests/e2e/FILE...]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
if [ ! -x build/sim-pico/k3s_pico_hosted ]; then
  echo "test-hosted: build/sim-pico/k3s_pico_hosted missing: PICO_SDK_PATH=... WAMR_ROOT=... bash scripts/build-sim.sh" >&2
  exit 2
fi
# The cluster serves the API at the boards' gateway too (tests/cluster/relay.go).
PICO_CLUSTER_EXTRA_ADDRESS=$(node scripts/pico-hosted.mjs --network)
export PICO_CLUSTER_EXTRA_ADDRESS
export PICO_SIM=$ROOT/scripts/pico-hosted.mjs
if [ $# -eq 0 ]; then
  set -- tests/e2e/
fi
exec node --test --test-concurrency=1 "$@"
