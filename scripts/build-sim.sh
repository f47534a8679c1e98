#!/usr/bin/env bash
# Builds the simulator: build/core.wasm first (scripts/build-wasm.sh), then
# build/sim/pico-node-sim (the core through wasm2c). When WAMR_ROOT names a
# wasm-micro-runtime source tree, also build/sim-wamr/pico-node-sim, which
# runs build/core.wasm under WAMR's interpreter as the device does; with
# Mbed TLS sources (below) and gcc -m32 it is built 32-bit with the device's
# Mbed TLS and exec env stack, the closest the simulator gets to the device. When
# MBEDTLS_SOURCE_DIR names an Mbed TLS 3.x source tree (or PICO_SDK_PATH a
# pico-sdk, whose lib/mbedtls is used), also build/sim-devtls/pico-node-sim:
# Mbed TLS built from that source with the device's mbedtls_config.h, and
# the whole simulator 32-bit (gcc -m32, Debian gcc-multilib) where that
# builds, so its heap figures have the device's pointer size. With
# PICO_SDK_PATH, WAMR_ROOT and gcc -m32, also build/sim-pico/k3s_pico_hosted:
# the firmware's own code on the hosted board (port/pico/hosted/README.md),
# its heap the size build/pico's firmware leaves (when that was built).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash scripts/build-wasm.sh
if [ ! -f build/core.wasm ]; then
  echo "build-sim: build/core.wasm is missing (scripts/build-wasm.sh did not produce it)" >&2
  exit 1
fi
# sim DIR WHAT CMAKE-ARGS...: configures and builds DIR/pico-node-sim.
sim() {
  local dir=$1 what=$2
  shift 2
  cmake -S . -B "$dir" -DSHIM_BUILD_TESTS=OFF "$@" >/dev/null
  cmake --build "$dir" -j2
  echo "build-sim: $dir/pico-node-sim ($what)"
}
sim build/sim wasm2c "$@"
MBEDTLS_SRC=${MBEDTLS_SOURCE_DIR:-${PICO_SDK_PATH:+$PICO_SDK_PATH/lib/mbedtls}}
m32=0
if echo 'int main(void){return 0;}' | gcc -m32 -x c - -o /dev/null 2>/dev/null; then
  m32=1
fi
if [ -n "${WAMR_ROOT:-}" ]; then
  if [ -n "$MBEDTLS_SRC" ] && [ $m32 -eq 1 ]; then
    # The device's stack size, from its one definition (device.cmake).
    stack=$(sed -nE 's/.*SHIM_WAMR_STACK_BYTES=([0-9]+u?).*/\1/p' firmware-shim/port/pico/device.cmake)
    sim build/sim-wamr "WAMR, loads build/core.wasm; 32-bit, device Mbed TLS, ${stack} stack" \
      -DWAMR_ROOT="$WAMR_ROOT" -DWAMR_BUILD_TARGET=X86_32 -DMBEDTLS_SOURCE_DIR="$MBEDTLS_SRC" \
      "-DCMAKE_C_FLAGS=-m32 -DSHIM_WAMR_STACK_BYTES=$stack" -DCMAKE_ASM_FLAGS=-m32 \
      -DCMAKE_EXE_LINKER_FLAGS=-m32 "$@"
  else
    sim build/sim-wamr "WAMR, loads build/core.wasm" -DWAMR_ROOT="$WAMR_ROOT" "$@"
  fi
fi
if [ -n "$MBEDTLS_SRC" ]; then
  bits=()
  if [ $m32 -eq 1 ]; then
    bits=(-DCMAKE_C_FLAGS=-m32 -DCMAKE_EXE_LINKER_FLAGS=-m32)
  fi
  sim build/sim-devtls "Mbed TLS from $MBEDTLS_SRC, device config${bits:+, 32-bit}" \
    -DMBEDTLS_SOURCE_DIR="$MBEDTLS_SRC" "${bits[@]}" "$@"
fi
if [ -n "${PICO_SDK_PATH:-}" ] && [ -n "${WAMR_ROOT:-}" ] && [ $m32 -eq 1 ]; then
  heap=()
  elf=build/pico/k3s_pico_node.elf
  if [ -f "$elf" ] && command -v arm-none-eabi-nm >/dev/null; then
    # The C heap: from the end of .bss to __HeapLimit (as bench/firmware-size.mjs).
    read -r end limit < <(arm-none-eabi-nm "$elf" | awk '$3 == "end" { e = $1 } $3 == "__HeapLimit" { h = $1 } END { print e, h }')
    heap=("-DHOSTED_HEAP_BYTES=$((16#$limit - 16#$end))")
  fi
  cmake -S firmware-shim/port/pico/hosted -B build/sim-pico -DPICO_SDK_PATH="$PICO_SDK_PATH" \
    -DWAMR_ROOT="$WAMR_ROOT" -DCMAKE_C_FLAGS=-m32 -DCMAKE_EXE_LINKER_FLAGS=-m32 "${heap[@]}" >/dev/null
  cmake --build build/sim-pico -j2
  echo "build-sim: build/sim-pico/k3s_pico_hosted (the firmware's code on the hosted board;" \
    "heap $(sed -n 's/^HOSTED_HEAP_BYTES:STRING=//p' build/sim-pico/CMakeCache.txt) bytes)"
fi
