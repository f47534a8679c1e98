/*
 * Host check of the device's flash region reader (firmware-shim/port/pico/
 * flash_regions.c) against images written by tools/uf2/uf2.mjs: the same
 * bytes the board would see through XIP. Driven by tests/uf2/regions.sh.
 *   regions_test FLASH.bin CORE.wasm CA.pem CORE_B.wasm
 * FLASH.bin: 2 MiB image with the config region and core slot 0 (sequence 1);
 * the test then adds slot 1 (sequence 2, CORE_B.wasm) and damages regions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flash_layout.h"
#include "flash_record.h"
#include "port_pico.h"

uint8_t k3s_flash_image[FLASH_TOTAL_BYTES];
static int passed;
static int failed;

void port_log_write(const char *line, size_t len) {
  fwrite(line, 1, len, stderr);
}

uint64_t port_now_ms(void) {
  return 0;
}

static void check(int ok, const char *what) {
  printf("%s - %s\n", ok ? "ok" : "not ok", what);
  if (ok) {
    passed++;
  } else {
    failed++;
  }
}

static long load(const char *path, uint8_t *buf, size_t cap) {
  FILE *f = fopen(path, "rb");
  size_t n;
  if (f == NULL) {
    return -1;
  }
  n = fread(buf, 1, cap, f);
  fclose(f);
  return (long)n;
}

static uint8_t file_a[65536], file_b[65536], ca[65536];

int main(int argc, char **argv) {
  shim_config_error_t err;
  const uint8_t *p;
  const char *why = "";
  uint32_t len = 0;
  size_t n = 0;
  long core_len, core_b_len, ca_len;
  uint32_t crc;

  if (argc != 5 || load(argv[1], k3s_flash_image, sizeof(k3s_flash_image)) != FLASH_TOTAL_BYTES) {
    fprintf(stderr, "usage: regions_test FLASH.bin CORE.wasm CA.pem CORE_B.wasm\n");
    return 2;
  }
  core_len = load(argv[2], file_a, sizeof(file_a));
  ca_len = load(argv[3], ca, sizeof(ca));
  core_b_len = load(argv[4], file_b, sizeof(file_b));

  check(port_pico_config_load(&err) == SHIM_OK, "config region parses");
  check(shim_config_lookup("node.name") != NULL &&
            strcmp(shim_config_lookup("node.name"), "pico-node-1") == 0,
        "node.name from the region's text");
  check(shim_config_lookup("tls.ca_file") == NULL, "tls.ca_file line moved out of the text");
  check(shim_config_lookup("wifi.password") == NULL, "wifi.password not readable as a key");
  p = port_pico_config_tlv(FLASH_TLV_CA_PEM, &n);
  check(p != NULL && (long)n == ca_len + 1 && memcmp(p, ca, (size_t)ca_len) == 0 && p[n - 1] == 0,
        "CA bundle TLV: the file's bytes plus NUL");
  p = port_pico_config_tlv(FLASH_TLV_KEY_PEM, &n);
  check(p != NULL && p[n - 1] == 0 && strstr((const char *)p, "PRIVATE KEY") != NULL,
        "key TLV present and NUL-terminated");
  p = port_pico_config_tlv(FLASH_TLV_WIFI_PSK, &n);
  check(p != NULL && strcmp((const char *)p, "correct horse") == 0, "Wi-Fi passphrase TLV");
  check(port_pico_config_tlv(99, &n) == NULL, "unknown TLV type: not found");

  p = port_pico_core_module(&len, &why);
  check(p != NULL && (long)len == core_len && memcmp(p, file_a, len) == 0,
        "core slot 0: module bytes and length");

  /* Slot 1 with a newer sequence wins; copy the slot-0 header layout. */
  {
    uint8_t *h = k3s_flash_image + FLASH_CORE_B_OFFSET;
    uint32_t v[4];
    crc = port_flash_crc32(0, file_b, (uint32_t)core_b_len);
    v[0] = FLASH_CORE_MAGIC;
    v[1] = (uint32_t)core_b_len;
    v[2] = crc;
    v[3] = 2;
    memcpy(h, v, sizeof(v)); /* the host is little-endian like the RP2040 */
    memcpy(h + FLASH_CORE_HEADER_BYTES, file_b, (size_t)core_b_len);
    p = port_pico_core_module(&len, &why);
    check(p == h + FLASH_CORE_HEADER_BYTES && (long)len == core_b_len,
          "core slot 1 with a newer sequence wins");
    h[FLASH_CORE_HEADER_BYTES + 3] ^= 0x40; /* damage slot 1 */
    p = port_pico_core_module(&len, &why);
    check(p == k3s_flash_image + FLASH_CORE_OFFSET + FLASH_CORE_HEADER_BYTES,
          "damaged slot 1 (CRC): falls back to slot 0");
  }
  memset(k3s_flash_image + FLASH_CORE_OFFSET, 0xFF, FLASH_CORE_BYTES);
  memset(k3s_flash_image + FLASH_CORE_B_OFFSET, 0xFF, FLASH_CORE_B_BYTES);
  check(port_pico_core_module(&len, &why) == NULL, "erased core slots: no module");

  k3s_flash_image[FLASH_CONFIG_OFFSET + FLASH_CONFIG_HEADER_BYTES + 2] ^= 1;
  check(port_pico_config_load(&err) == SHIM_E_INVAL && strstr(err.message, "CRC") != NULL,
        "damaged config text: rejected by CRC-32");
  check(shim_config_lookup("node.name") == NULL, "store empty after a rejected region");
  memset(k3s_flash_image + FLASH_CONFIG_OFFSET, 0xFF, FLASH_CONFIG_BYTES);
  check(port_pico_config_load(&err) == SHIM_E_NOTFOUND, "erased config region: not found");
  printf("regions: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
