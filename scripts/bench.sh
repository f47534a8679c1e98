#!/usr/bin/env bash
# Runs the benchmarks; each prints one JSON object per figure per line:
# {"metric": "...", "value": N, "unit": "..."}. Figures are reported, never
# asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >&2
bash scripts/build-sim.sh >&2
node bench/core-heap.mjs
node bench/node.mjs
node bench/configmap.mjs
node bench/heartbeat-instructions.mjs
node bench/wamr-pool.mjs
node bench/kubelet.mjs
node bench/firmware-size.mjs
# TLS heap and handshake time with the device's Mbed TLS (build/sim-devtls,
# built above when MBEDTLS_SOURCE_DIR or PICO_SDK_PATH is set; skips loudly).
node bench/tls.mjs
# The firmware's code at work on the hosted board (build/sim-pico, built above
# with PICO_SDK_PATH, WAMR_ROOT and gcc -m32; needs root; skips loudly).
node bench/hosted.mjs
