/*
 * Pico port: the flash record store (format and guarantees in store.h).
 * Plain C over the three port_store_flash_* functions, so the host tests
 * (tests/uf2/store.sh) build the same file against a RAM-backed flash.
 */
#include <string.h>

#include "flash_layout.h"
#include "flash_record.h"
#include "shim_abi.h"
#include "store.h"

/* Sectors per copy of each kind (flash_layout.h FLASH_STORE_*). */
static const uint8_t port_store_sectors[PORT_STORE_KINDS] = {1, 1, 3, 3, 1};

/* One program page: the header page is assembled here, and value pages that
 * end short are padded with 0xFF (erased) here. */
static uint8_t port_store_page[FLASH_PAGE_BYTES];

static uint32_t port_store_slot_bytes(uint32_t kind) {
  return (uint32_t)port_store_sectors[kind] * FLASH_SECTOR_BYTES;
}

/* Flash offset of copy `copy` of kind. */
static uint32_t port_store_slot(uint32_t kind, uint32_t copy) {
  uint32_t off = FLASH_STORE_OFFSET;
  uint32_t k;
  for (k = 0; k < kind; k++) {
    off += port_store_slot_bytes(k) * FLASH_STORE_COPIES;
  }
  return off + copy * port_store_slot_bytes(kind);
}

uint32_t port_store_capacity(uint32_t kind) {
  if (kind >= PORT_STORE_KINDS) {
    return 0;
  }
  return port_store_slot_bytes(kind) - PORT_STORE_HEADER_BYTES;
}

/* Non-zero when the copy at off is a complete, undamaged copy of kind. */
static int port_store_valid(uint32_t kind, uint32_t off, uint32_t *seq, uint32_t *len) {
  const uint8_t *p = port_store_flash_map(off);
  uint32_t n;
  uint32_t crc;
  if (port_flash_le32(p) != PORT_STORE_MAGIC || port_flash_le32(p + 4) != kind) {
    return 0;
  }
  n = port_flash_le32(p + 12);
  if (n > port_store_capacity(kind)) {
    return 0;
  }
  crc = port_flash_crc32(0, p, 16);
  crc = port_flash_crc32(crc, p + PORT_STORE_HEADER_BYTES, n);
  if (crc != port_flash_le32(p + 16)) {
    return 0;
  }
  *seq = port_flash_le32(p + 8);
  *len = n;
  return 1;
}

/* The newest valid copy of kind (-1: none), its sequence and length. */
static int port_store_newest(uint32_t kind, uint32_t *seq, uint32_t *len) {
  int best = -1;
  uint32_t best_seq = 0;
  uint32_t best_len = 0;
  uint32_t c;
  for (c = 0; c < FLASH_STORE_COPIES; c++) {
    uint32_t s;
    uint32_t n;
    if (!port_store_valid(kind, port_store_slot(kind, c), &s, &n)) {
      continue;
    }
    /* Modulo 2^32: a sequence that wrapped is still newer. */
    if (best < 0 || (int32_t)(s - best_seq) > 0) {
      best = (int)c;
      best_seq = s;
      best_len = n;
    }
  }
  *seq = best_seq;
  *len = best_len;
  return best;
}

int32_t port_store_read(uint32_t kind, const uint8_t **data, uint32_t *len) {
  uint32_t seq;
  int c;
  if (kind >= PORT_STORE_KINDS || data == NULL || len == NULL) {
    return SHIM_E_INVAL;
  }
  c = port_store_newest(kind, &seq, len);
  if (c < 0) {
    return SHIM_E_NOTFOUND;
  }
  *data = port_store_flash_map(port_store_slot(kind, (uint32_t)c)) + PORT_STORE_HEADER_BYTES;
  return SHIM_OK;
}

uint32_t port_store_sequence(uint32_t kind) {
  uint32_t seq = 0;
  uint32_t len;
  if (kind >= PORT_STORE_KINDS || port_store_newest(kind, &seq, &len) < 0) {
    return 0;
  }
  return seq;
}

/* Programs the value bytes after those that share page 0 with the header,
 * one page at a time, into the copy at off. */
static int port_store_program_tail(uint32_t off, const uint8_t *data, uint32_t len) {
  uint32_t first = FLASH_PAGE_BYTES - PORT_STORE_HEADER_BYTES; /* value bytes in page 0 */
  uint32_t pos;
  for (pos = first; pos < len; pos += FLASH_PAGE_BYTES) {
    uint32_t n = len - pos < FLASH_PAGE_BYTES ? len - pos : FLASH_PAGE_BYTES;
    memset(port_store_page, 0xFF, sizeof(port_store_page));
    memcpy(port_store_page, data + pos, n);
    if (port_store_flash_program(off + PORT_STORE_HEADER_BYTES + pos, port_store_page) != 0) {
      return -1;
    }
  }
  return 0;
}

int32_t port_store_write(uint32_t kind, const uint8_t *data, uint32_t len) {
  uint32_t seq = 0;
  uint32_t old_len;
  uint32_t target;
  uint32_t off;
  uint32_t got_seq;
  uint32_t got_len;
  uint32_t crc;
  uint32_t head;
  int newest;

  if (kind >= PORT_STORE_KINDS || (data == NULL && len > 0)) {
    return SHIM_E_INVAL;
  }
  if (len > port_store_capacity(kind)) {
    return SHIM_E_TOOLARGE;
  }
  newest = port_store_newest(kind, &seq, &old_len);
  /* The slot after the newest: never the newest itself, and successive
   * writes walk over all copies. */
  target = newest < 0 ? 0u : ((uint32_t)newest + 1u) % FLASH_STORE_COPIES;
  seq = newest < 0 ? 1u : seq + 1u;
  off = port_store_slot(kind, target);
  if (port_store_flash_erase(off, port_store_slot_bytes(kind)) != 0) {
    return SHIM_E_IO;
  }
  /* Value pages first, the header page last: until the header is there the
   * copy is not valid. */
  if (port_store_program_tail(off, data, len) != 0) {
    return SHIM_E_IO;
  }
  memset(port_store_page, 0xFF, sizeof(port_store_page));
  port_flash_put32(port_store_page, PORT_STORE_MAGIC);
  port_flash_put32(port_store_page + 4, kind);
  port_flash_put32(port_store_page + 8, seq);
  port_flash_put32(port_store_page + 12, len);
  crc = port_flash_crc32(0, port_store_page, 16);
  crc = port_flash_crc32(crc, data, len);
  port_flash_put32(port_store_page + 16, crc);
  head = FLASH_PAGE_BYTES - PORT_STORE_HEADER_BYTES;
  if (len > 0) {
    memcpy(port_store_page + PORT_STORE_HEADER_BYTES, data, len < head ? len : head);
  }
  if (port_store_flash_program(off, port_store_page) != 0) {
    return SHIM_E_IO;
  }
  /* Read back: the new copy must now be the record, byte for byte. */
  if (port_store_newest(kind, &got_seq, &got_len) != (int)target || got_seq != seq ||
      got_len != len ||
      (len > 0 && memcmp(port_store_flash_map(off) + PORT_STORE_HEADER_BYTES, data, len) != 0)) {
    return SHIM_E_IO;
  }
  return SHIM_OK;
}
