/*
 * Pico port: device memory saved in flash, outputs on real pins.
 *
 * Two slots of one 4 KiB erase sector each (FLASH_DEVMEM_OFFSET, flash_layout.h)
 * hold { u32 magic, u32 sequence, u32 length, u32 crc32 } + the image. A store
 * erases and programs the slot NOT holding the newest valid image, with a
 * sequence one higher; a power cut mid-write leaves that slot invalid (bad CRC
 * or erased) and the other slot, the previous image, loads. Flash is written
 * through flash_safe_execute (pico-sdk 2.x pico/flash.h), which pauses the
 * other core and interrupts while XIP is unavailable.
 *
 * Outputs: SHIM_OUTPUT_LED is the CYW43439's WL_GPIO0 (Pico W datasheet 2.1);
 * GPIOs are driven with the SIO (gpio_put) after gpio_init on first use.
 */
#include <string.h>

#include "flash_layout.h"
#include "flash_record.h"
#include "hardware/flash.h"
#include "hardware/gpio.h"
#include "pico/cyw43_arch.h"
#include "pico/flash.h"

#include "port.h"
#include "port_pico.h"

/* Header + image, rounded up to whole program pages. */
#define PORT_DEVMEM_WRITE_BYTES \
  (((FLASH_DEVMEM_HEADER_BYTES + SHIM_DEVMEM_BYTES) + FLASH_PAGE_BYTES - 1u) / FLASH_PAGE_BYTES * FLASH_PAGE_BYTES)
/* Timeout for flash_safe_execute to pause the other core. */
#define PORT_DEVMEM_FLASH_TIMEOUT_MS 100u

static uint8_t port_devmem_page[PORT_DEVMEM_WRITE_BYTES];
static uint32_t port_gpio_ready; /* bit n: GPIO n initialised as an output */

typedef struct {
  uint32_t offset;
} port_devmem_write_t;

/* The slot's image when valid (sequence in *seq), else NULL. */
static const uint8_t *port_devmem_slot(uint32_t slot, uint32_t *seq) {
  const uint8_t *p = (const uint8_t *)(FLASH_XIP_BASE + FLASH_DEVMEM_OFFSET + slot * FLASH_SECTOR_BYTES);
  if (port_flash_le32(p) != FLASH_DEVMEM_MAGIC || port_flash_le32(p + 8) != SHIM_DEVMEM_BYTES) {
    return NULL;
  }
  if (port_flash_crc32(0, p + FLASH_DEVMEM_HEADER_BYTES, SHIM_DEVMEM_BYTES) !=
      port_flash_le32(p + 12)) {
    return NULL;
  }
  *seq = port_flash_le32(p + 4);
  return p + FLASH_DEVMEM_HEADER_BYTES;
}

/* Index of the newest valid slot (-1: none); *seq its sequence. */
static int port_devmem_newest(uint32_t *seq) {
  uint32_t s0 = 0;
  uint32_t s1 = 0;
  const uint8_t *a = port_devmem_slot(0, &s0);
  const uint8_t *b = port_devmem_slot(1, &s1);
  if (a != NULL && (b == NULL || (int32_t)(s0 - s1) > 0)) {
    *seq = s0;
    return 0;
  }
  if (b != NULL) {
    *seq = s1;
    return 1;
  }
  return -1;
}

int32_t port_devmem_load(uint8_t *buf, size_t len) {
  uint32_t seq = 0;
  int slot;
  const uint8_t *img;
  if (buf == NULL || len != SHIM_DEVMEM_BYTES) {
    return SHIM_E_INVAL;
  }
  slot = port_devmem_newest(&seq);
  if (slot < 0) {
    return SHIM_E_NOTFOUND;
  }
  img = port_devmem_slot((uint32_t)slot, &seq);
  memcpy(buf, img, len);
  return (int32_t)len;
}

static void port_devmem_flash(void *param) {
  const port_devmem_write_t *w = (const port_devmem_write_t *)param;
  flash_range_erase(w->offset, FLASH_SECTOR_BYTES);
  flash_range_program(w->offset, port_devmem_page, PORT_DEVMEM_WRITE_BYTES);
}

int32_t port_devmem_store(const uint8_t *buf, size_t len) {
  uint32_t seq = 0;
  int newest;
  port_devmem_write_t w;
  if (buf == NULL || len != SHIM_DEVMEM_BYTES) {
    return SHIM_E_INVAL;
  }
  newest = port_devmem_newest(&seq);
  w.offset = FLASH_DEVMEM_OFFSET + (newest == 0 ? 1u : 0u) * FLASH_SECTOR_BYTES;
  memset(port_devmem_page, 0xFF, sizeof(port_devmem_page));
  port_flash_put32(port_devmem_page, FLASH_DEVMEM_MAGIC);
  port_flash_put32(port_devmem_page + 4, newest < 0 ? 1u : seq + 1u);
  port_flash_put32(port_devmem_page + 8, SHIM_DEVMEM_BYTES);
  port_flash_put32(port_devmem_page + 12, port_flash_crc32(0, buf, SHIM_DEVMEM_BYTES));
  memcpy(port_devmem_page + FLASH_DEVMEM_HEADER_BYTES, buf, SHIM_DEVMEM_BYTES);
  if (flash_safe_execute(port_devmem_flash, &w, PORT_DEVMEM_FLASH_TIMEOUT_MS) != PICO_OK) {
    return SHIM_E_IO;
  }
  /* Read back through XIP: the new slot must now be the newest valid one. */
  if (port_devmem_newest(&seq) != (w.offset == FLASH_DEVMEM_OFFSET ? 0 : 1)) {
    return SHIM_E_IO;
  }
  return SHIM_OK;
}

int32_t port_output_set(uint32_t output, int on) {
  if (output == SHIM_OUTPUT_LED) {
    cyw43_arch_gpio_put(CYW43_WL_GPIO_LED_PIN, on != 0);
    return SHIM_OK;
  }
  if (output >= 29u) {
    return SHIM_E_UNSUPPORTED;
  }
  if ((port_gpio_ready & (1u << output)) == 0) {
    gpio_init(output);
    gpio_set_dir(output, GPIO_OUT);
    port_gpio_ready |= 1u << output;
  }
  gpio_put(output, on != 0);
  return SHIM_OK;
}
