#!/usr/bin/env bash
# The device's flash region reader (firmware-shim/port/pico/flash_regions.c,
# built for the host) reads back what tools/uf2/uf2.mjs writes: a config
# file with TLS files and a Wi-Fi passphrase, core.wasm slot 0, then slot 1
# and damaged regions. No SDK needed. Ends with "regions: N passed, N failed".
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
cd "$OUT"
printf '\0asm\1\0\0\0' > core.wasm
printf '\0asm\1\0\0\0\0\0\0\0' > core_b.wasm
printf -- '-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n' > ca.pem
printf -- '-----BEGIN EC PRIVATE KEY-----\nREVG\n-----END EC PRIVATE KEY-----\n' > key.pem
cat > node.conf <<'CONF'
# simulator format, also the device's
node.name = pico-node-1
server.host = 10.0.0.1
tls.ca_file = ca.pem
tls.cert_file = ca.pem
tls.key_file = key.pem
wifi.ssid = lab
wifi.password = correct horse
CONF
node --input-type=module -e "
import { readFileSync, writeFileSync } from 'node:fs';
import { firmwareUf2, configUf2, configImageFromFile, uf2Decode, readLayout } from '$ROOT/tools/uf2/uf2.mjs';
const L = readLayout();
const flash = Buffer.alloc(L.TOTAL_BYTES, 0xff);
const files = [firmwareUf2(Buffer.alloc(1024, 0x5a), { core: readFileSync('core.wasm') }), configUf2(configImageFromFile('node.conf'))];
for (const f of files) for (const b of uf2Decode(f)) b.data.copy(flash, b.addr - L.XIP_BASE);
writeFileSync('flash.bin', flash);
" || { echo "regions: 0 passed, 1 failed"; exit 1; }
PICO=$ROOT/firmware-shim/port/pico
if ! gcc -O1 -std=c99 -Wall -Wextra -Werror -DPORT_PICO_FLASH_IMAGE=k3s_flash_image \
  -I"$PICO" -I"$ROOT/firmware-shim/include" -I"$ROOT/firmware-shim" \
  "$ROOT/tests/uf2/regions_test.c" "$PICO/flash_regions.c" "$ROOT/firmware-shim/src/config.c" \
  "$ROOT/firmware-shim/src/log.c" -o regions_test; then
  echo "regions: 0 passed, 1 failed"
  exit 1
fi
./regions_test flash.bin core.wasm ca.pem core_b.wasm
