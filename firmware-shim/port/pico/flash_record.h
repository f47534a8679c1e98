/*
 * The encoding every flash record uses (flash_layout.h regions, the devmem
 * slots, store.h records): u32 fields little-endian as the RP2040 stores them,
 * checked with CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as zlib),
 * bitwise: no table in RAM or flash; records are checked at boot and on
 * writes only. Header-only so the host tests (tests/uf2) build each reader
 * on its own.
 */
#ifndef PORT_PICO_FLASH_RECORD_H
#define PORT_PICO_FLASH_RECORD_H

#include <stdint.h>

static inline uint32_t port_flash_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void port_flash_put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

/** CRC-32 of p[0..len) continued from crc (start with 0, as zlib's crc32). */
static inline uint32_t port_flash_crc32(uint32_t crc, const uint8_t *p, uint32_t len) {
  uint32_t i;
  int b;
  crc = ~crc;
  for (i = 0; i < len; i++) {
    crc ^= p[i];
    for (b = 0; b < 8; b++) {
      crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
  }
  return ~crc;
}

#endif /* PORT_PICO_FLASH_RECORD_H */
