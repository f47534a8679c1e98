/*
 * Entry point of the AES-GCM known-answer test: a firmware of its own on the
 * Pico W (k3s_gcm_kat: result over USB serial every few seconds, the LED of a
 * plain Pico is not used because the Pico W's LED needs the Wi-Fi chip), and
 * a host program (tests/uf2/gcm-kat.sh). Ends with "gcm-kat: N passed, N failed".
 */
#include <stdio.h>

#include "gcm_kat.h"

#if defined(LIB_PICO_STDLIB)
#include "pico/stdlib.h"
#endif

static int k3s_gcm_kat_once(void) {
  int failed = k3s_gcm_kat_run();
  int total = k3s_gcm_kat_count();
  printf("gcm-kat: %d passed, %d failed\n", total - failed, failed);
  return failed;
}

int main(void) {
#if defined(LIB_PICO_STDLIB)
  stdio_init_all();
  for (;;) {
    (void)k3s_gcm_kat_once();
    sleep_ms(5000);
  }
#else
  return k3s_gcm_kat_once() == 0 ? 0 : 1;
#endif
}
