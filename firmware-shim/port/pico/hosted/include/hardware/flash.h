/* Hosted board: hardware/flash.h over the flash image file (board.c). Same
 * rules as the chip: sector-aligned erase to 0xFF, page-aligned program
 * that can only clear bits. */
#ifndef HOSTED_HARDWARE_FLASH_H
#define HOSTED_HARDWARE_FLASH_H
#include <stddef.h>
#include <stdint.h>

#define FLASH_PAGE_SIZE (1u << 8)
#define FLASH_SECTOR_SIZE (1u << 12)
void flash_range_erase(uint32_t flash_offs, size_t count);
void flash_range_program(uint32_t flash_offs, const uint8_t *data, size_t count);
#endif
