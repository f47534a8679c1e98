/*
 * Pico port: the record store's flash backend (store.h). Erase and program
 * run through flash_safe_execute (pico-sdk 2.x pico/flash.h), which disables
 * interrupts and pauses the other core (multicore lockout) while XIP is off,
 * as hardware/flash.h requires. One call per sector / page keeps each pause
 * short (sector erase: typ. 45 ms, max 400 ms, W25Q16JV datasheet 9.6).
 */
#include "flash_layout.h"
#include "hardware/flash.h"
#include "pico/flash.h"

#include "store.h"

/* How long flash_safe_execute may wait for the other core to pause. */
#define PORT_STORE_FLASH_TIMEOUT_MS 100u

typedef struct {
  uint32_t offset;
  const uint8_t *page; /* NULL: erase one sector */
} port_store_op_t;

static void port_store_flash_do(void *param) {
  const port_store_op_t *op = (const port_store_op_t *)param;
  if (op->page == NULL) {
    flash_range_erase(op->offset, FLASH_SECTOR_BYTES);
  } else {
    flash_range_program(op->offset, op->page, FLASH_PAGE_BYTES);
  }
}

/* Only the record store's area may be touched from here. */
static int port_store_flash_inside(uint32_t offset, uint32_t len) {
  return offset >= FLASH_STORE_OFFSET && len <= FLASH_STORE_BYTES &&
         offset - FLASH_STORE_OFFSET <= FLASH_STORE_BYTES - len;
}

const uint8_t *port_store_flash_map(uint32_t offset) {
  return (const uint8_t *)(uintptr_t)(FLASH_XIP_BASE + offset);
}

int port_store_flash_erase(uint32_t offset, uint32_t len) {
  port_store_op_t op;
  uint32_t done;
  if (!port_store_flash_inside(offset, len) || offset % FLASH_SECTOR_BYTES != 0 ||
      len % FLASH_SECTOR_BYTES != 0) {
    return -1;
  }
  for (done = 0; done < len; done += FLASH_SECTOR_BYTES) {
    op.offset = offset + done;
    op.page = NULL;
    if (flash_safe_execute(port_store_flash_do, &op, PORT_STORE_FLASH_TIMEOUT_MS) != PICO_OK) {
      return -1;
    }
  }
  return 0;
}

int port_store_flash_program(uint32_t offset, const uint8_t *page) {
  port_store_op_t op;
  if (!port_store_flash_inside(offset, FLASH_PAGE_BYTES) || offset % FLASH_PAGE_BYTES != 0 ||
      page == NULL) {
    return -1;
  }
  op.offset = offset;
  op.page = page;
  return flash_safe_execute(port_store_flash_do, &op, PORT_STORE_FLASH_TIMEOUT_MS) == PICO_OK ? 0
                                                                                              : -1;
}
