#!/usr/bin/env bash
# Compiles every portable shim source (src/, the wasm2c runtime adapter
# without the runtime's own sources, the config parser) for the RP2040's
# Cortex-M0+ with arm-none-eabi-gcc and warnings as errors. The adapter needs
# a wasm2c header: one is generated from fixtures/minimal.wat. The WAMR
# adapter's image splitter always; with WAMR_ROOT set, the adapter too. Sources over Mbed TLS (src/identity.c,
# src/tls.c) build with the device's mbedtls_config.h against Mbed TLS 3.x
# headers (MBEDTLS_SOURCE_DIR or PICO_SDK_PATH) or, without them, Debian's
# 2.28 headers (libmbedtls-dev, which the simulator links): the code serves
# both.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SHIM=$ROOT/firmware-shim
CC=${CROSS_CC:-arm-none-eabi-gcc}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

command -v "$CC" >/dev/null || { echo "$CC not found (apt-get install gcc-arm-none-eabi)"; exit 1; }
WABT_PREFIX=$(dirname "$(dirname "$(command -v wasm2c)")")
RT_INC=$(dirname "$(find "$WABT_PREFIX/include" "$WABT_PREFIX/share/wabt" -name wasm-rt.h 2>/dev/null | head -n1)")
RT_IMPL=$(dirname "$(find "$WABT_PREFIX/share/wabt" "$WABT_PREFIX/include" -name wasm-rt-impl.h 2>/dev/null | head -n1)")

wat2wasm "$ROOT/tests/shim/fixtures/badptr.wat" -o "$OUT/core.wasm"
wasm2c "$OUT/core.wasm" -n core -o "$OUT/core.c"
cmake -DCORE_H="$OUT/core.h" -DOUT="$OUT/core_imports.h" -P "$SHIM/cmake/wasm2c_imports.cmake"

FLAGS=(-mcpu=cortex-m0plus -mthumb -Os -std=c99 -Wall -Wextra -Werror -Wvla -Wshadow
  -ffunction-sections -fdata-sections -I"$SHIM/include" -I"$SHIM")
# Shared code over Mbed TLS (src/identity.c, src/tls.c) builds with the
# device's Mbed TLS configuration, as the firmware does; -idirafter keeps
# newlib's headers first when only Debian's /usr/include/mbedtls is at hand.
MBEDTLS_SRC=${MBEDTLS_SOURCE_DIR:-${PICO_SDK_PATH:+$PICO_SDK_PATH/lib/mbedtls}}
if [ -n "$MBEDTLS_SRC" ]; then
  TLS_FLAGS=(-I"$MBEDTLS_SRC/include")
else
  TLS_FLAGS=(-idirafter /usr/include)
fi
# SHIM_TLS_VERIFY_TEXT=0 as in device.cmake (the simulator builds the other side).
TLS_FLAGS+=(-DMBEDTLS_CONFIG_FILE="\"$SHIM/port/pico/mbedtls_config.h\"" -DSHIM_TLS_VERIFY_TEXT=0)
srcs=("$SHIM"/src/*.c)
for src in "${srcs[@]}"; do
  if grep -q '^#include <mbedtls/' "$src"; then
    "$CC" "${FLAGS[@]}" "${TLS_FLAGS[@]}" -c "$src" -o "$OUT/$(basename "$src").o"
  else
    "$CC" "${FLAGS[@]}" -c "$src" -o "$OUT/$(basename "$src").o"
  fi
  echo "ok $src"
done
# Copy the two runtime headers: adding their directory (/usr/include on
# Debian) would pull the host's libc headers into the cross build.
cp "$RT_INC/wasm-rt.h" "$RT_IMPL/wasm-rt-impl.h" "$OUT/"
"$CC" "${FLAGS[@]}" -I"$OUT" -DSHIM_WASM2C_VERSION='"check"' \
  -c "$SHIM/runtime/wasm2c/runtime_wasm2c.c" -o "$OUT/runtime_wasm2c.o"
echo "ok runtime/wasm2c/runtime_wasm2c.c"
"$CC" "${FLAGS[@]}" -c "$SHIM/runtime/wamr/wasm_image.c" -o "$OUT/wasm_image.o"
echo "ok runtime/wamr/wasm_image.c"
if [ -n "${WAMR_ROOT:-}" ]; then
  "$CC" "${FLAGS[@]}" -I"$WAMR_ROOT/core/iwasm/include" -c "$SHIM/runtime/wamr/runtime_wamr.c" \
    -o "$OUT/runtime_wamr.o"
  echo "ok runtime/wamr/runtime_wamr.c"
fi
arm-none-eabi-size "$OUT"/*.o
