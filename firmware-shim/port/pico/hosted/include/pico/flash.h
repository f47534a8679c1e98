/* Hosted board: pico/flash.h (pico-sdk 2.x). One core, nothing to pause:
 * the function runs at once. */
#ifndef HOSTED_PICO_FLASH_H
#define HOSTED_PICO_FLASH_H
#include <stdint.h>

#define PICO_OK 0
int flash_safe_execute(void (*func)(void *), void *param, uint32_t enter_exit_timeout_ms);
#endif
