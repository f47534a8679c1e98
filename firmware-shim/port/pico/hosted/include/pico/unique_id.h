/* Hosted board: the flash chip's 64-bit unique ID (pico/unique_id.h), from
 * PICO_HOSTED_BOARD_ID (16 hex digits). */
#ifndef HOSTED_PICO_UNIQUE_ID_H
#define HOSTED_PICO_UNIQUE_ID_H
#include <stdint.h>

typedef struct {
  uint8_t id[8];
} pico_unique_board_id_t;
void pico_get_unique_board_id(pico_unique_board_id_t *id_out);
#endif
