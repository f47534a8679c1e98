/* Hosted board: the pico-sdk time functions the port uses (pico/time.h). */
#ifndef HOSTED_PICO_TIME_H
#define HOSTED_PICO_TIME_H
#include <stdint.h>

typedef uint64_t absolute_time_t;

/** Microseconds since the board started (the RP2040's 64-bit timer). */
uint64_t time_us_64(void);
static inline absolute_time_t from_us_since_boot(uint64_t us) {
  return us;
}
void sleep_ms(uint32_t ms);
#endif
