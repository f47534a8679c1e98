/*
 * Pico port: a small record store in the flash storage region
 * (flash_layout.h FLASH_STORE_*), for what the node must keep across power
 * cuts: its private keys, the certificate chains the cluster issued, later
 * the k3s node password. Not a public API (port.h is).
 *
 * Each record kind owns an area of FLASH_STORE_COPIES copies ("slots") of a
 * fixed number of erase sectors. A copy is a 20-byte header and the value:
 *   u32 magic     PORT_STORE_MAGIC
 *   u32 kind      port_store_kind_t
 *   u32 sequence  grows by one per write (compared modulo 2^32)
 *   u32 length    value bytes that follow
 *   u32 crc32     CRC-32 (as flash_layout.h) of the 16 header bytes above
 *                 and the value
 * All little-endian. The newest copy whose header and CRC check out is the
 * record. A write goes to the slot after the newest one (round robin, so
 * erases spread over all copies) and never touches the newest copy: the
 * value's pages are programmed first, the page holding the header last, so a
 * power cut at any point leaves the new copy invalid (erased header or a CRC
 * mismatch) and the previous one is still the record.
 *
 * The flash itself is reached through three functions the build supplies
 * (store_flash.c on the device; a RAM array in tests/uf2/store_test.c).
 */
#ifndef PORT_PICO_STORE_H
#define PORT_PICO_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
  PORT_STORE_KEY_CLIENT = 0,  /* slot 0 private key, DER (SEC1) */
  PORT_STORE_KEY_SERVING,     /* slot 1 private key: the kubelet serving certificate's */
  PORT_STORE_CERT_CLIENT,     /* slot 0 certificate chain, PEM + NUL */
  PORT_STORE_CERT_SERVING,    /* slot 1 certificate chain, PEM + NUL */
  PORT_STORE_NODE_PASSWORD,   /* k3s node password (reserved) */
  PORT_STORE_KINDS
} port_store_kind_t;

#define PORT_STORE_MAGIC 0x4345524Bu /* "KREC" */
#define PORT_STORE_HEADER_BYTES 20u

/** The newest valid copy of kind: *data points into memory-mapped flash (valid
 *  until the next write of that kind), *len its length. Returns SHIM_OK,
 *  SHIM_E_NOTFOUND (no valid copy) or SHIM_E_INVAL (kind). */
int32_t port_store_read(uint32_t kind, const uint8_t **data, uint32_t *len);

/** Writes a new copy of kind as described above and reads it back. Returns
 *  SHIM_OK, SHIM_E_TOOLARGE (over port_store_capacity), SHIM_E_INVAL or
 *  SHIM_E_IO (flash operation or read-back failed; the previous copy stays). */
int32_t port_store_write(uint32_t kind, const uint8_t *data, uint32_t len);

/** Largest value kind can hold (its slot size minus the header); 0 for an
 *  unknown kind. */
uint32_t port_store_capacity(uint32_t kind);

/** Sequence number of kind's newest valid copy, 0 when none (tests, logs). */
uint32_t port_store_sequence(uint32_t kind);

/* ---- supplied by the flash backend ---- */

/** Read pointer to flash offset (from the start of flash). */
const uint8_t *port_store_flash_map(uint32_t offset);

/** Erases len bytes (whole sectors) at offset. Returns 0 or < 0. */
int port_store_flash_erase(uint32_t offset, uint32_t len);

/** Programs one FLASH_PAGE_BYTES page at offset from page. Returns 0 or < 0. */
int port_store_flash_program(uint32_t offset, const uint8_t *page);

#endif /* PORT_PICO_STORE_H */
