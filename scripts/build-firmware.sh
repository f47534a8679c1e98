#!/usr/bin/env bash
# npm run build: the Pico W firmware as one UF2 file.
#  1. build/core.wasm (scripts/build-wasm.sh);
#  2. the firmware for PICO_BOARD=pico_w with pico-sdk 2.x from PICO_SDK_PATH
#     and WAMR from WAMR_ROOT (CMake, build/pico, MinSizeRel);
#  3. build/pico/k3s_pico_node.uf2 = firmware + core.wasm slot, written by
#     tools/uf2/uf2.mjs (flash_layout.h), and build/pico/core.uf2 = the
#     core.wasm slot alone (replaces the agent without reflashing firmware);
#  4. the size report (bench/firmware-size.mjs).
# Without PICO_SDK_PATH: a message and exit status 2, unless PICO_FETCH=ON,
# which lets CMake download the versions pinned in
# firmware-shim/port/pico/versions.cmake (needs internet; not exercised by
# the project's tests).
# Extra arguments go to the CMake configure step.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=build/pico
FIRMWARE_BUDGET=716800 # DESIGN.md "Budgets": firmware payload <= 700 KB

fetch=()
if [[ -z ${PICO_SDK_PATH:-} || -z ${WAMR_ROOT:-} ]]; then
  if [[ ${PICO_FETCH:-OFF} == ON ]]; then
    fetch=(-DPICO_FETCH=ON)
  else
    [[ -z ${PICO_SDK_PATH:-} ]] && echo "build-firmware: PICO_SDK_PATH is not set (a pico-sdk 2.x tree with submodules lwip, mbedtls, cyw43-driver)." >&2
    [[ -z ${WAMR_ROOT:-} ]] && echo "build-firmware: WAMR_ROOT is not set (a wasm-micro-runtime source tree)." >&2
    echo "build-firmware: set them, or run with PICO_FETCH=ON to download the pinned versions (firmware-shim/port/pico/versions.cmake)." >&2
    exit 2
  fi
fi

core=build/core.wasm
if [[ -f scripts/build-wasm.sh ]]; then
  if ! bash scripts/build-wasm.sh; then
    echo "build-firmware: WARNING: scripts/build-wasm.sh failed" >&2
    if [[ -f $core ]]; then
      echo "build-firmware: WARNING: using the existing $core ($(date -r "$core" '+%F %T')), possibly stale" >&2
    fi
  fi
fi
if [[ ! -f $core ]]; then
  echo "build-firmware: WARNING: $core is missing: the UF2 gets the firmware only and the board" >&2
  echo "build-firmware: WARNING: will report 'no valid core.wasm slot' until a core.uf2 is copied." >&2
  core=
fi

cmake -S . -B "$OUT" -DPICO_BOARD=pico_w -DCMAKE_BUILD_TYPE=MinSizeRel "${fetch[@]}" "$@"
cmake --build "$OUT" -j"$(nproc 2>/dev/null || echo 2)" --target k3s_pico_node k3s_gcm_kat

bin=$OUT/k3s_pico_node.bin
size=$(stat -c %s "$bin")
echo "build-firmware: firmware payload $size bytes (budget $FIRMWARE_BUDGET)"
[[ $size -le $FIRMWARE_BUDGET ]] || echo "build-firmware: WARNING: the firmware exceeds its budget"
if [[ -n $core ]]; then
  node tools/uf2/uf2.mjs firmware --bin "$bin" --core "$core" -o "$OUT/k3s_pico_node.uf2"
  node tools/uf2/uf2.mjs core --core "$core" -o "$OUT/core.uf2"
else
  node tools/uf2/uf2.mjs firmware --bin "$bin" -o "$OUT/k3s_pico_node.uf2"
fi
node tools/uf2/uf2.mjs firmware --bin "$OUT/k3s_gcm_kat.bin" -o "$OUT/k3s_gcm_kat.uf2"
node tools/uf2/uf2.mjs info "$OUT/k3s_pico_node.uf2"
node bench/firmware-size.mjs "$OUT/k3s_pico_node.elf"
echo "build-firmware: $OUT/k3s_pico_node.uf2 (copy it to the RPI-RP2 drive; the config goes"
echo "build-firmware: separately: node tools/uf2/uf2.mjs config --config node.conf -o config.uf2)"
