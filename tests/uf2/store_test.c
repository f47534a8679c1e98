/*
 * Host test of the device's flash record store (firmware-shim/port/pico/
 * store.c) over a RAM flash with NOR rules: erase sets a sector to 0xFF,
 * programming can only clear bits. A "power cut" after N flash operations
 * applies half of the cut operation and fails every later one.
 * Prints "ok - ..." / "not ok - ..." and "store: N passed, N failed".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flash_layout.h"
#include "shim_abi.h"
#include "store.h"

static uint8_t flash[FLASH_TOTAL_BYTES];
static long ops_left = -1; /* -1: no power cut planned */
static int out_of_bounds;
static unsigned erases[FLASH_TOTAL_BYTES / FLASH_SECTOR_BYTES];
static int passed;
static int failed;

static void check(int cond, const char *what) {
  printf("%s - %s\n", cond ? "ok" : "not ok", what);
  if (cond) {
    passed++;
  } else {
    failed++;
  }
}

/* Counts one operation; returns 0 to do it, 1 to do half of it (the cut),
 * -1 to refuse it (power is gone). */
static int power(void) {
  if (ops_left < 0) {
    return 0;
  }
  if (ops_left == 0) {
    ops_left = -2;
    return 1;
  }
  if (ops_left == -2) {
    return -1;
  }
  ops_left--;
  return 0;
}

static int inside(uint32_t off, uint32_t len) {
  if (off < FLASH_STORE_OFFSET || off + len > FLASH_STORE_OFFSET + FLASH_STORE_BYTES) {
    out_of_bounds = 1;
    return 0;
  }
  return 1;
}

const uint8_t *port_store_flash_map(uint32_t offset) {
  return flash + offset;
}

int port_store_flash_erase(uint32_t offset, uint32_t len) {
  uint32_t done;
  if (!inside(offset, len) || offset % FLASH_SECTOR_BYTES || len % FLASH_SECTOR_BYTES) {
    return -1;
  }
  for (done = 0; done < len; done += FLASH_SECTOR_BYTES) {
    int p = power();
    if (p < 0) {
      return -1;
    }
    /* A cut erase leaves the first half erased and the rest as it was. */
    memset(flash + offset + done, 0xFF, p ? FLASH_SECTOR_BYTES / 2 : FLASH_SECTOR_BYTES);
    erases[(offset + done) / FLASH_SECTOR_BYTES]++;
    if (p) {
      return -1;
    }
  }
  return 0;
}

int port_store_flash_program(uint32_t offset, const uint8_t *page) {
  uint32_t i;
  uint32_t n = FLASH_PAGE_BYTES;
  int p;
  if (!inside(offset, FLASH_PAGE_BYTES) || offset % FLASH_PAGE_BYTES) {
    return -1;
  }
  p = power();
  if (p < 0) {
    return -1;
  }
  if (p) {
    n = FLASH_PAGE_BYTES / 2;
  }
  for (i = 0; i < n; i++) {
    flash[offset + i] &= page[i]; /* NOR: bits only go 1 -> 0 */
  }
  return p ? -1 : 0;
}

static uint8_t value_a[5000];
static uint8_t value_b[5000];
static uint8_t value_c[5000];

static int reads(uint32_t kind, const uint8_t *want, uint32_t want_len) {
  const uint8_t *got;
  uint32_t len;
  if (port_store_read(kind, &got, &len) != SHIM_OK) {
    return 0;
  }
  return len == want_len && memcmp(got, want, len) == 0;
}

/* Offset of the newest copy of kind (via its data pointer). */
static uint32_t newest_offset(uint32_t kind) {
  const uint8_t *got;
  uint32_t len;
  if (port_store_read(kind, &got, &len) != SHIM_OK) {
    return 0;
  }
  return (uint32_t)(got - flash) - PORT_STORE_HEADER_BYTES;
}

int main(void) {
  const uint8_t *got;
  uint32_t len;
  uint32_t i;
  long cut;
  int torn_ok = 1;
  int torn_new = 0;
  unsigned lo = ~0u;
  unsigned hi = 0;

  memset(flash, 0xFF, sizeof(flash));
  for (i = 0; i < sizeof(value_a); i++) {
    value_a[i] = (uint8_t)(i * 7u + 1u);
    value_b[i] = (uint8_t)(i * 13u + 5u);
    value_c[i] = (uint8_t)(i ^ 0x5Au);
  }

  check(FLASH_STORE_OFFSET >= FLASH_DEVMEM_OFFSET + FLASH_DEVMEM_BYTES &&
            FLASH_STORE_OFFSET + FLASH_STORE_BYTES <= FLASH_STORAGE_OFFSET + FLASH_STORAGE_BYTES,
        "the store lies in the storage region after the device memory");
  check(port_store_read(PORT_STORE_CERT_CLIENT, &got, &len) == SHIM_E_NOTFOUND,
        "erased flash: no record");
  check(port_store_capacity(PORT_STORE_CERT_CLIENT) >= 8192u + 1u,
        "a client chain slot holds SHIM_CERT_STAGE_MAX (8 KiB default) + NUL");
  check(port_store_capacity(PORT_STORE_KINDS) == 0, "unknown kind: no capacity");

  check(port_store_write(PORT_STORE_CERT_CLIENT, value_a, sizeof(value_a)) == SHIM_OK &&
            reads(PORT_STORE_CERT_CLIENT, value_a, sizeof(value_a)) &&
            port_store_sequence(PORT_STORE_CERT_CLIENT) == 1,
        "write then read a 5000-byte record (sequence 1)");
  check(port_store_write(PORT_STORE_CERT_CLIENT, value_b, sizeof(value_b)) == SHIM_OK &&
            reads(PORT_STORE_CERT_CLIENT, value_b, sizeof(value_b)) &&
            port_store_sequence(PORT_STORE_CERT_CLIENT) == 2,
        "a second write replaces it (sequence 2)");
  check(port_store_write(PORT_STORE_KEY_CLIENT, value_c, 121) == SHIM_OK &&
            reads(PORT_STORE_KEY_CLIENT, value_c, 121) &&
            reads(PORT_STORE_CERT_CLIENT, value_b, sizeof(value_b)),
        "kinds are independent");
  check(port_store_write(PORT_STORE_KEY_CLIENT, value_c,
                         port_store_capacity(PORT_STORE_KEY_CLIENT) + 1) == SHIM_E_TOOLARGE &&
            reads(PORT_STORE_KEY_CLIENT, value_c, 121),
        "over capacity: SHIM_E_TOOLARGE, record unchanged");
  check(port_store_write(PORT_STORE_NODE_PASSWORD, NULL, 0) == SHIM_OK &&
            port_store_read(PORT_STORE_NODE_PASSWORD, &got, &len) == SHIM_OK && len == 0,
        "an empty record is a record");

  /* Power cut at every flash operation of a write: the record is the old
   * value, or the new one once the header page went in whole. */
  for (cut = 0; cut < 40; cut++) {
    uint8_t *snapshot = malloc(sizeof(flash));
    int new_now;
    memcpy(snapshot, flash, sizeof(flash));
    ops_left = cut;
    (void)port_store_write(PORT_STORE_CERT_CLIENT, value_c, sizeof(value_c));
    ops_left = -1;
    new_now = reads(PORT_STORE_CERT_CLIENT, value_c, sizeof(value_c));
    if (!new_now && !reads(PORT_STORE_CERT_CLIENT, value_b, sizeof(value_b))) {
      torn_ok = 0;
      printf("# cut after %ld operations: neither the old nor the new record\n", cut);
    }
    torn_new |= new_now;
    memcpy(flash, snapshot, sizeof(flash));
    free(snapshot);
  }
  check(torn_ok, "power cut at each of 40 flash operations: old record, never a mix");
  check(torn_new, "...and with enough operations the write completes");

  /* A damaged newest copy: the previous copy is the record. */
  check(port_store_write(PORT_STORE_CERT_CLIENT, value_c, sizeof(value_c)) == SHIM_OK,
        "write a third value");
  {
    uint32_t off = newest_offset(PORT_STORE_CERT_CLIENT);
    flash[off + PORT_STORE_HEADER_BYTES + 3000] ^= 0x01;
    check(reads(PORT_STORE_CERT_CLIENT, value_b, sizeof(value_b)),
          "one flipped value bit (CRC mismatch): the previous copy is read");
    flash[off + PORT_STORE_HEADER_BYTES + 3000] ^= 0x01;
    flash[off + 12] ^= 0x80; /* length */
    check(reads(PORT_STORE_CERT_CLIENT, value_b, sizeof(value_b)),
          "a damaged header: the previous copy is read");
    flash[off + 12] ^= 0x80;
    check(reads(PORT_STORE_CERT_CLIENT, value_c, sizeof(value_c)), "repaired: newest again");
  }

  /* Wear: 400 writes of the key spread evenly over its copies' sectors. */
  memset(erases, 0, sizeof(erases));
  for (i = 0; i < 400; i++) {
    value_a[0] = (uint8_t)i;
    if (port_store_write(PORT_STORE_KEY_CLIENT, value_a, 200) != SHIM_OK) {
      break;
    }
  }
  for (i = 0; i < FLASH_STORE_COPIES; i++) {
    unsigned e = erases[(FLASH_STORE_OFFSET / FLASH_SECTOR_BYTES) + i];
    lo = e < lo ? e : lo;
    hi = e > hi ? e : hi;
  }
  check(lo == 100 && hi == 100 && reads(PORT_STORE_KEY_CLIENT, value_a, 200),
        "400 writes: each of the 4 key copies erased exactly 100 times");
  check(reads(PORT_STORE_CERT_CLIENT, value_c, sizeof(value_c)),
        "writes of one kind never touch another");

  check(port_store_sequence(PORT_STORE_KEY_CLIENT) == 401, "the sequence counts every write (401 key writes)");
  check(!out_of_bounds, "no flash operation outside the store's area");
  printf("store: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
