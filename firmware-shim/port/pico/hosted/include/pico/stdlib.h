/* Hosted board: pico/stdlib.h as far as the port uses it. */
#ifndef HOSTED_PICO_STDLIB_H
#define HOSTED_PICO_STDLIB_H
#include <stdbool.h>

#include "hardware/gpio.h"
#include "pico/time.h"

bool stdio_init_all(void);
static inline void tight_loop_contents(void) {
}
#endif
