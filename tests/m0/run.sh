#!/usr/bin/env bash
# Builds a test program for the RP2040's CPU (arm-none-eabi-gcc
# -mcpu=cortex-m0plus, newlib-nano with semihosting) and runs it on QEMU's
# "microbit" machine, a Cortex-M0: the same ARMv6-M instruction set, and
# unaligned word and halfword accesses fault as on the M0+. The program's
# output and exit status are its own.
#   tests/m0/run.sh OUT.elf [gcc arguments: sources, -I, -D, -O ...]
# Exit 125 when a tool is missing (qemu-system-arm or arm-none-eabi-gcc:
# Debian packages qemu-system-arm, gcc-arm-none-eabi), 124 on timeout.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CC=${CROSS_CC:-arm-none-eabi-gcc}
out=$1
shift
for tool in "$CC" qemu-system-arm; do
  command -v "$tool" >/dev/null || { echo "m0: $tool not found" >&2; exit 125; }
done
"$CC" -mcpu=cortex-m0plus -mthumb -ffunction-sections -fdata-sections -Wl,--gc-sections \
  --specs=nano.specs --specs=rdimon.specs -nostartfiles -T "$HERE/m0.ld" \
  "$HERE/start.c" "$@" -o "$out" || exit 2
timeout "${M0_TIMEOUT:-60}" qemu-system-arm -M microbit -nographic -monitor none -serial none \
  -semihosting-config enable=on,target=native -kernel "$out"
