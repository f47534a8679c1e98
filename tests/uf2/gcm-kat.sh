#!/usr/bin/env bash
# AES-GCM known-answer test (firmware-shim/port/pico/tests/gcm_kat.c), the
# guard for the gcm.c miscompile on cortex-m0plus (DESIGN.md "Device facts").
#  1. host: built and run. With PICO_SDK_PATH set, against the SDK's own
#     Mbed TLS sources (3.6.2) and the device's mbedtls_config.h, gcm.c with
#     the device's flags (-O2 -fno-strict-aliasing); without it, against the
#     system's libmbedcrypto (checks the test itself, not the device build).
#  2. cortex-m0plus: cross-compiled with arm-none-eabi-gcc; with
#     PICO_SDK_PATH also the SDK's gcm.c at -O3 plus the device's flags, as
#     the firmware builds it.
#  3. with PICO_SDK_PATH: that build run on an emulated Cortex-M0 (QEMU's
#     microbit, the RP2040's ARMv6-M instruction set: tests/m0/run.sh), and,
#     for the record (not counted), gcm.c at the SDK's plain -O3.
# Ends with "gcm-kat: N passed, N failed".
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PICO=$ROOT/firmware-shim/port/pico
KAT=$PICO/tests
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok - $1"; }
bad() { FAIL=$((FAIL + 1)); echo "not ok - $1"; }
# counted LOG RC WHERE: prints a KAT run's log (with WHERE in front when
# given) and counts its "gcm-kat: ok" / "gcm-kat: FAIL" lines; a run that
# failed without a FAIL line, or checked nothing, is one failure.
counted() {
  local n_ok n_bad
  sed "s/^/${3:+$3: }/" "$1"
  n_ok=$(grep -c '^gcm-kat: ok ' "$1")
  n_bad=$(grep -c '^gcm-kat: FAIL ' "$1")
  PASS=$((PASS + n_ok))
  FAIL=$((FAIL + n_bad))
  if [[ $2 -ne 0 && $n_bad -eq 0 ]]; then bad "KAT${3:+ on $3} exited $2"; fi
  if [[ $n_ok -eq 0 && $n_bad -eq 0 ]]; then bad "KAT${3:+ on $3} ran no check"; fi
}

# The device's gcm.c flags (firmware.cmake K3S_GCM_FLAGS).
GCM_FLAGS=(-fno-strict-aliasing -O2)
MBED=${PICO_SDK_PATH:+$PICO_SDK_PATH/lib/mbedtls}
if [[ -n $MBED && ! -f $MBED/library/gcm.c ]]; then
  echo "PICO_SDK_PATH has no lib/mbedtls sources: using the system library"
  MBED=
fi

# ---- 1. host ----
if [[ -n $MBED ]]; then
  CFG=(-DMBEDTLS_CONFIG_FILE="\"$PICO/mbedtls_config.h\"" -I"$MBED/include" -I"$MBED/library")
  objs=()
  build_ok=1
  for f in aes cipher cipher_wrap platform_util platform constant_time; do
    gcc -O3 -w "${CFG[@]}" -c "$MBED/library/$f.c" -o "$OUT/$f.o" || build_ok=0
    objs+=("$OUT/$f.o")
  done
  gcc -O3 -w "${CFG[@]}" "${GCM_FLAGS[@]}" -c "$MBED/library/gcm.c" -o "$OUT/gcm.o" || build_ok=0
  gcc -O2 -Wall -Wextra -Werror "${CFG[@]}" "$KAT/gcm_kat.c" "$KAT/gcm_kat_main.c" "$OUT/gcm.o" \
    "${objs[@]}" -o "$OUT/kat-host" || build_ok=0
  what="host, pico-sdk Mbed TLS sources + device mbedtls_config.h"
else
  build_ok=1
  gcc -O2 -Wall -Wextra -Werror "$KAT/gcm_kat.c" "$KAT/gcm_kat_main.c" -lmbedcrypto \
    -o "$OUT/kat-host" || build_ok=0
  what="host, system libmbedcrypto (no PICO_SDK_PATH)"
fi
if [[ $build_ok -eq 1 ]]; then
  ok "build KAT ($what)"
  "$OUT/kat-host" > "$OUT/kat.log" 2>&1
  counted "$OUT/kat.log" $?
else
  bad "build KAT ($what)"
fi

# ---- 2. cortex-m0plus, compile only ----
CC=${CROSS_CC:-arm-none-eabi-gcc}
M0=(-mcpu=cortex-m0plus -mthumb -ffunction-sections -fdata-sections)
if ! command -v "$CC" >/dev/null; then
  bad "$CC not found (apt-get install gcc-arm-none-eabi)"
elif [[ -n $MBED ]]; then
  if "$CC" "${M0[@]}" -O3 -w "${CFG[@]}" "${GCM_FLAGS[@]}" -c "$MBED/library/gcm.c" -o "$OUT/gcm-m0.o"; then
    ok "cross-compile Mbed TLS gcm.c for cortex-m0plus (-O3 ${GCM_FLAGS[*]})"
  else
    bad "cross-compile Mbed TLS gcm.c for cortex-m0plus"
  fi
  if "$CC" "${M0[@]}" -Os -Wall -Wextra -Werror "${CFG[@]}" -c "$KAT/gcm_kat.c" -o "$OUT/kat-m0.o"; then
    ok "cross-compile gcm_kat.c for cortex-m0plus"
  else
    bad "cross-compile gcm_kat.c for cortex-m0plus"
  fi
else
  # Only the Mbed TLS headers, copied: adding /usr/include would pull the
  # host's libc headers into the cross build.
  mkdir -p "$OUT/inc"
  cp -r /usr/include/mbedtls "$OUT/inc/" 2>/dev/null
  [[ -d /usr/include/psa ]] && cp -r /usr/include/psa "$OUT/inc/"
  if "$CC" "${M0[@]}" -Os -Wall -Wextra -Werror -I"$OUT/inc" -c "$KAT/gcm_kat.c" -o "$OUT/kat-m0.o"; then
    ok "cross-compile gcm_kat.c for cortex-m0plus (system Mbed TLS headers)"
  else
    bad "cross-compile gcm_kat.c for cortex-m0plus"
  fi
fi
# ---- 3. cortex-m0plus, run on an emulated Cortex-M0 ----
# run_m0 NAME GCM_OBJECT: the KAT with the SDK's Mbed TLS built as the
# firmware builds it (-O3, the device's mbedtls_config.h) and GCM_OBJECT;
# leaves the run's output in $OUT/NAME.log and its exit status in m0_rc.
run_m0() {
  local srcs=() f
  for f in aes cipher cipher_wrap platform_util platform constant_time; do srcs+=("$MBED/library/$f.c"); done
  bash "$ROOT/tests/m0/run.sh" "$OUT/$1.elf" -O3 -w "${CFG[@]}" "${srcs[@]}" "$KAT/gcm_kat.c" \
    "$KAT/gcm_kat_main.c" "$2" >"$OUT/$1.log" 2>&1
  m0_rc=$?
}
if [[ -z $MBED ]]; then
  echo "# SKIPPED (not counted): the KAT on an emulated Cortex-M0 needs the SDK's Mbed TLS sources (PICO_SDK_PATH)"
elif [[ -f $OUT/gcm-m0.o ]]; then
  run_m0 kat-m0 "$OUT/gcm-m0.o"
  counted "$OUT/kat-m0.log" "$m0_rc" "cortex-m0 (QEMU)"
  # The miscompile the device's flags avoid, for the record.
  if "$CC" "${M0[@]}" -O3 -w "${CFG[@]}" -c "$MBED/library/gcm.c" -o "$OUT/gcm-m0-o3.o"; then
    run_m0 kat-m0-o3 "$OUT/gcm-m0-o3.o"
    echo "# note (not counted): gcm.c at the SDK's plain -O3 on the emulated Cortex-M0: $(grep -E '^gcm-kat: [0-9]+ passed' "$OUT/kat-m0-o3.log" || echo "exit $m0_rc")"
  fi
fi
echo "gcm-kat: $PASS passed, $FAIL failed"
[[ $FAIL -eq 0 ]]
