#!/usr/bin/env bash
# The firmware tooling checks that need no pico-sdk and no board (CI):
#  - node --test tests/uf2/        the UF2 writer, parsed back block by block
#  - tests/uf2/regions.sh          the device's flash region reader (host build)
#                                  on images the UF2 writer produced
#  - tests/uf2/store.sh            the device's flash record store (host build,
#                                  RAM flash: power cuts, CRC damage, wear)
#  - tests/uf2/gcm-kat.sh          AES-GCM known answers: host run + M0+ compile
#  - without PICO_SDK_PATH, npm run build and the CMake configure stop with a
#    message and a non-zero status
# Ends with "uf2: N passed, N failed".
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
PASS=0
FAIL=0
LOG=$(mktemp)
TMP=$(mktemp -d)
trap 'rm -rf "$LOG" "$TMP"' EXIT

add_counts() { # add_counts PASS FAIL WHAT
  PASS=$((PASS + $1))
  FAIL=$((FAIL + $2))
  if [[ $1 -eq 0 && $2 -eq 0 ]]; then FAIL=$((FAIL + 1)); echo "not ok - $3 reported nothing"; fi
}

node --test tests/uf2/ 2>&1 | tee "$LOG"
add_counts "$(grep -E '^# pass' "$LOG" | awk '{print $3}')" "$(grep -E '^# fail' "$LOG" | awk '{print $3}')" "node --test"

for s in regions store gcm-kat; do
  bash "tests/uf2/$s.sh" 2>&1 | tee "$LOG"
  read -r p f < <(sed -nE "s/^$s: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/p" "$LOG" | tail -1)
  add_counts "${p:-0}" "${f:-0}" "$s.sh"
done

env -u PICO_SDK_PATH -u WAMR_ROOT -u PICO_FETCH bash scripts/build-firmware.sh > "$LOG" 2>&1
rc=$?
if [[ $rc -eq 2 ]] && grep -q "PICO_SDK_PATH is not set" "$LOG"; then
  PASS=$((PASS + 1)); echo "ok - npm run build without PICO_SDK_PATH: message, exit 2"
else
  FAIL=$((FAIL + 1)); echo "not ok - npm run build without PICO_SDK_PATH (exit $rc)"; cat "$LOG"
fi
env -u PICO_SDK_PATH -u WAMR_ROOT cmake -S . -B "$TMP/b" -DPICO_BOARD=pico_w > "$LOG" 2>&1
rc=$?
if [[ $rc -ne 0 ]] && grep -q "PICO_SDK_PATH is not set" "$LOG"; then
  PASS=$((PASS + 1)); echo "ok - CMake with PICO_BOARD and no SDK: stops with a message"
else
  FAIL=$((FAIL + 1)); echo "not ok - CMake with PICO_BOARD and no SDK (exit $rc)"; cat "$LOG"
fi
echo "uf2: $PASS passed, $FAIL failed"
[[ $FAIL -eq 0 ]]
