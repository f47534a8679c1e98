#!/usr/bin/env bash
# The device's flash record store (firmware-shim/port/pico/store.c), built for
# the host over a RAM flash with NOR rules: power cuts at every operation,
# CRC damage, wear rotation. No SDK needed. Ends with "store: N passed, N failed".
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
PICO=$ROOT/firmware-shim/port/pico
if ! gcc -O1 -std=c99 -Wall -Wextra -Werror -I"$PICO" -I"$ROOT/firmware-shim/include" \
  "$ROOT/tests/uf2/store_test.c" "$PICO/store.c" -o "$OUT/store_test"; then
  echo "store: 0 passed, 1 failed"
  exit 1
fi
"$OUT/store_test"
