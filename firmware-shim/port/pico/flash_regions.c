/*
 * Reading the flash regions of flash_layout.h through the XIP window: the
 * config region (header, `key = value` text, TLS TLVs) and the core.wasm
 * slots. Everything is checked (magic, version, lengths against the region,
 * CRC-32) before use: an erased or half-written region is "missing", never
 * parsed. Writers: tools/uf2/uf2.mjs (same formats).
 */
#include <string.h>

#include "flash_layout.h"
#include "flash_record.h"
#include "port_pico.h"

/* Where flash is read from: the XIP window on the device; tests/uf2/regions.sh
 * builds this file for the host with PORT_PICO_FLASH_IMAGE naming a byte
 * array that holds a flash image written by tools/uf2/uf2.mjs. */
#if defined(PORT_PICO_FLASH_IMAGE)
extern const uint8_t PORT_PICO_FLASH_IMAGE[FLASH_TOTAL_BYTES];
#define PORT_PICO_FLASH_BASE ((uintptr_t)PORT_PICO_FLASH_IMAGE)
#else
#include "hardware/regs/addressmap.h"
_Static_assert(FLASH_XIP_BASE == XIP_BASE, "flash_layout.h FLASH_XIP_BASE is the RP2040's XIP_BASE");
#if defined(PICO_FLASH_SIZE_BYTES)
_Static_assert(FLASH_TOTAL_BYTES == PICO_FLASH_SIZE_BYTES, "flash_layout.h matches the board");
#endif
#define PORT_PICO_FLASH_BASE ((uintptr_t)FLASH_XIP_BASE)
#endif

/* Where the TLVs of the loaded config region start, and their length. */
static const uint8_t *port_cfg_tlv;
static uint32_t port_cfg_tlv_len;

static const uint8_t *port_flash(uint32_t offset) {
  return (const uint8_t *)(PORT_PICO_FLASH_BASE + offset);
}

static void port_cfg_error(shim_config_error_t *err, const char *why) {
  err->line = 0;
  strncpy(err->message, why, sizeof(err->message) - 1);
  err->message[sizeof(err->message) - 1] = '\0';
}

int32_t port_pico_config_load(shim_config_error_t *err) {
  const uint8_t *h = port_flash(FLASH_CONFIG_OFFSET);
  uint32_t text_len;
  uint32_t tlv_len;

  port_cfg_tlv = NULL;
  port_cfg_tlv_len = 0;
  shim_config_reset(); /* a rejected region leaves no stale keys behind */
  if (port_flash_le32(h) != FLASH_CONFIG_MAGIC) {
    port_cfg_error(err, "config region is empty (write one with tools/uf2/uf2.mjs config)");
    return SHIM_E_NOTFOUND;
  }
  if (port_flash_le32(h + 4) != FLASH_CONFIG_VERSION) {
    port_cfg_error(err, "config region has an unknown version");
    return SHIM_E_INVAL;
  }
  text_len = port_flash_le32(h + 8);
  tlv_len = port_flash_le32(h + 12);
  if (text_len > FLASH_CONFIG_BYTES - FLASH_CONFIG_HEADER_BYTES ||
      tlv_len > FLASH_CONFIG_BYTES - FLASH_CONFIG_HEADER_BYTES - text_len) {
    port_cfg_error(err, "config region lengths exceed the region");
    return SHIM_E_INVAL;
  }
  if (text_len > SHIM_CONFIG_TEXT_MAX) {
    port_cfg_error(err, "config text larger than SHIM_CONFIG_TEXT_MAX");
    return SHIM_E_TOOLARGE;
  }
  if (port_flash_crc32(0, h + FLASH_CONFIG_HEADER_BYTES, text_len + tlv_len) !=
      port_flash_le32(h + 16)) {
    port_cfg_error(err, "config region CRC-32 mismatch (damaged or half written)");
    return SHIM_E_INVAL;
  }
  port_cfg_tlv = h + FLASH_CONFIG_HEADER_BYTES + text_len;
  port_cfg_tlv_len = tlv_len;
  /* The same parser and format as the simulator's config file. */
  return shim_config_parse((const char *)(h + FLASH_CONFIG_HEADER_BYTES), text_len, err);
}

const uint8_t *port_pico_config_tlv(uint32_t type, size_t *len) {
  uint32_t off = 0;
  while (port_cfg_tlv != NULL && port_cfg_tlv_len - off >= 8u) {
    const uint8_t *r = port_cfg_tlv + off;
    uint32_t t = (uint32_t)r[0] | ((uint32_t)r[1] << 8);
    uint32_t n = port_flash_le32(r + 4);
    if (n > port_cfg_tlv_len - off - 8u) {
      return NULL; /* truncated record: stop, never read past the region */
    }
    if (t == type) {
      if (len != NULL) {
        *len = n;
      }
      return r + 8;
    }
    off += 8u + ((n + 3u) & ~3u);
    if (off > port_cfg_tlv_len) {
      return NULL;
    }
  }
  return NULL;
}

/* Checks one core slot; returns the module or NULL. */
static const uint8_t *port_core_slot(uint32_t offset, uint32_t bytes, uint32_t *len,
                                     uint32_t *seq) {
  const uint8_t *h = port_flash(offset);
  uint32_t n;
  if (port_flash_le32(h) != FLASH_CORE_MAGIC) {
    return NULL;
  }
  n = port_flash_le32(h + 4);
  if (n > bytes - FLASH_CORE_HEADER_BYTES) {
    return NULL;
  }
  if (port_flash_crc32(0, h + FLASH_CORE_HEADER_BYTES, n) != port_flash_le32(h + 8)) {
    return NULL;
  }
  *len = n;
  *seq = port_flash_le32(h + 12);
  return h + FLASH_CORE_HEADER_BYTES;
}

const uint8_t *port_pico_core_module(uint32_t *len, const char **why) {
  uint32_t len_a = 0;
  uint32_t len_b = 0;
  uint32_t seq_a = 0;
  uint32_t seq_b = 0;
  const uint8_t *a = port_core_slot(FLASH_CORE_OFFSET, FLASH_CORE_BYTES, &len_a, &seq_a);
  const uint8_t *b = port_core_slot(FLASH_CORE_B_OFFSET, FLASH_CORE_B_BYTES, &len_b, &seq_b);

  if (a == NULL && b == NULL) {
    *why = "no valid core.wasm slot (magic, length or CRC-32)";
    return NULL;
  }
  /* The newer valid slot wins (sequence numbers compared modulo 2^32). */
  if (b != NULL && (a == NULL || (int32_t)(seq_b - seq_a) > 0)) {
    *len = len_b;
    return b;
  }
  *len = len_a;
  return a;
}
