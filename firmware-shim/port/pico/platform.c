/*
 * Pico W port: clock, wall time (SNTP), log output (USB serial), entropy
 * (pico_rand -> Mbed TLS entropy -> CTR_DRBG), platform.* facts, LED and
 * watchdog.
 */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "hardware/watchdog.h"
#include "lwip/apps/sntp.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/platform.h"
#include "mbedtls/platform_time.h"
#include "mbedtls/sha256.h"
#include "pico/cyw43_arch.h"
#include "pico/time.h"
#include "pico/unique_id.h"
#include "pico/version.h"

#include "port.h"
#include "port_pico.h"

/* Wall clock: Unix time in us at boot (time_us_64() == 0), from SNTP; 0 while
 * unknown. */
static uint64_t port_epoch_at_boot_us;

static mbedtls_entropy_context port_entropy;
static mbedtls_ctr_drbg_context port_drbg;
static int port_drbg_ready;

/* Personalisation string for CTR_DRBG (NIST SP 800-90A section 8.7.1). */
static const char port_drbg_personal[] = "k3s-pico-node";

static port_pico_led_t port_led_state = PORT_PICO_LED_CONNECTING;
static int port_watchdog_on;

/* Default NTP server when time.ntp_server is unset. */
#define PORT_PICO_NTP_DEFAULT "pool.ntp.org"

/* ---- time ---- */

uint64_t port_now_ms(void) {
  return time_us_64() / 1000u;
}

uint64_t port_wall_ms(void) {
  if (port_epoch_at_boot_us == 0) {
    return 0;
  }
  return (port_epoch_at_boot_us + time_us_64()) / 1000u;
}

void port_pico_sntp_set(unsigned long sec, unsigned long us) {
  uint64_t unix_us = (uint64_t)sec * 1000000u + us;
  int first = port_epoch_at_boot_us == 0;
  port_epoch_at_boot_us = unix_us - time_us_64();
  if (first) {
    shim_log(SHIM_LOG_INFO, "time: %lu (SNTP)", sec);
  }
}

void port_pico_sntp_start(void) {
  const char *server = shim_config_lookup("time.ntp_server");
  static int started;
  if (started) {
    return;
  }
  started = 1;
  sntp_setoperatingmode(SNTP_OPMODE_POLL);
  /* The config store keeps the value for the program's life. */
  sntp_setservername(0, server != NULL ? server : PORT_PICO_NTP_DEFAULT);
  sntp_init();
}

/* Mbed TLS time source: certificate validity needs a real date
 * (MBEDTLS_HAVE_TIME_DATE); 0 (1970) until SNTP answered, so no handshake
 * starts before that (net.c waits). */
static mbedtls_time_t port_mbedtls_time(mbedtls_time_t *t) {
  mbedtls_time_t now = (mbedtls_time_t)(port_wall_ms() / 1000u);
  if (t != NULL) {
    *t = now;
  }
  return now;
}

/* MBEDTLS_PLATFORM_MS_TIME_ALT: a monotonic millisecond clock. */
mbedtls_ms_time_t mbedtls_ms_time(void) {
  return (mbedtls_ms_time_t)port_now_ms();
}

/* ---- log ---- */

void port_log_write(const char *line, size_t len) {
  fwrite(line, 1, len, stdout);
  fflush(stdout);
}

/* ---- entropy ---- */

int32_t port_pico_platform_init(void) {
  int ret;
  mbedtls_platform_set_time(port_mbedtls_time);
  if (port_drbg_ready) {
    return SHIM_OK;
  }
  /* MBEDTLS_ENTROPY_HARDWARE_ALT: the entropy context polls
   * mbedtls_hardware_poll (pico-sdk pico_mbedtls.c: get_rand_64, which mixes
   * the ring oscillator, timers and bus counters, pico_rand). */
  mbedtls_entropy_init(&port_entropy);
  mbedtls_ctr_drbg_init(&port_drbg);
  ret = mbedtls_ctr_drbg_seed(&port_drbg, mbedtls_entropy_func, &port_entropy,
                              (const unsigned char *)port_drbg_personal,
                              sizeof(port_drbg_personal) - 1);
  if (ret != 0) {
    shim_log(SHIM_LOG_ERROR, "random: seeding CTR_DRBG failed (-0x%04x)", (unsigned)-ret);
    return SHIM_E_IO;
  }
  port_drbg_ready = 1;
  return SHIM_OK;
}

int32_t port_random(uint8_t *buf, size_t len) {
  size_t done = 0;
  if (buf == NULL || !port_drbg_ready) {
    return SHIM_E_IO;
  }
  while (done < len) {
    size_t n = len - done;
    if (n > MBEDTLS_CTR_DRBG_MAX_REQUEST) {
      n = MBEDTLS_CTR_DRBG_MAX_REQUEST;
    }
    if (mbedtls_ctr_drbg_random(&port_drbg, buf + done, n) != 0) {
      return SHIM_E_IO;
    }
    done += n;
  }
  return (int32_t)len;
}

/* ---- platform.* ---- */

static int32_t port_copy_value(const char *s, char *out, size_t cap) {
  size_t n = strlen(s);
  if (n > cap) {
    return SHIM_E_TOOLARGE;
  }
  memcpy(out, s, n);
  return (int32_t)n;
}

/* 32 hex digits from SHA-256 of the RP2040 flash chip's unique ID: stable
 * per board, like /etc/machine-id (128 bits). */
static int32_t port_machine_id(char *out, size_t cap) {
  static const char hex[] = "0123456789abcdef";
  static const char tag[] = "k3s-pico-node/";
  pico_unique_board_id_t board;
  unsigned char digest[32];
  char id[33];
  size_t i;

  pico_get_unique_board_id(&board);
  mbedtls_sha256_context sha;
  mbedtls_sha256_init(&sha);
  mbedtls_sha256_starts(&sha, 0);
  mbedtls_sha256_update(&sha, (const unsigned char *)tag, sizeof(tag) - 1);
  mbedtls_sha256_update(&sha, board.id, sizeof(board.id));
  mbedtls_sha256_finish(&sha, digest);
  mbedtls_sha256_free(&sha);
  for (i = 0; i < 16; i++) {
    id[2 * i] = hex[digest[i] >> 4];
    id[2 * i + 1] = hex[digest[i] & 15];
  }
  id[32] = '\0';
  return port_copy_value(id, out, cap);
}

int32_t port_platform_get(const char *key, char *out, size_t cap) {
  char num[24];
  if (key == NULL || out == NULL) {
    return SHIM_E_INVAL;
  }
  if (strcmp(key, "platform.os_image") == 0) {
    return port_copy_value("k3s-pico-node firmware (Raspberry Pi Pico W)", out, cap);
  }
  if (strcmp(key, "platform.kernel_version") == 0) {
    return port_copy_value("pico-sdk " PICO_SDK_VERSION_STRING, out, cap);
  }
  if (strcmp(key, "platform.machine_id") == 0) {
    return port_machine_id(out, cap);
  }
  if (strcmp(key, "platform.kubelet_server") == 0) {
    /* A TLS server needs the client CA it verifies clients with (net.c):
     * without one the node has no use for a serving certificate. */
    return port_copy_value(SHIM_KUBELET_MAX_CONNS > 0 && port_pico_kubelet_ready() ? "1" : "0", out,
                           cap);
  }
  if (strcmp(key, "platform.wifi_rssi") == 0) {
    /* dBm of the joined access point; "0" while not joined. */
    snprintf(num, sizeof(num), "%ld", (long)port_pico_wifi_rssi());
    return port_copy_value(num, out, cap);
  }
  return SHIM_E_NOTFOUND;
}

/* ---- LED (on the CYW43's GPIO 0 on the Pico W) ---- */

void port_pico_led_set(port_pico_led_t state) {
  port_led_state = state;
  port_pico_led_tick();
}

void port_pico_led_tick(void) {
  uint64_t ms = port_now_ms();
  int on;
  static int last = -1;
  switch (port_led_state) {
    case PORT_PICO_LED_JOINED:
      on = 1;
      break;
    case PORT_PICO_LED_ERROR:
      on = (int)((ms / 62u) & 1u); /* ~8 Hz */
      break;
    default:
      on = (int)((ms / 250u) & 1u); /* 2 Hz */
      break;
  }
  if (on != last) {
    cyw43_arch_gpio_put(CYW43_WL_GPIO_LED_PIN, on != 0);
    last = on;
  }
}

/* ---- watchdog ---- */

void port_pico_watchdog_start(void) {
  if (watchdog_caused_reboot()) {
    shim_log(SHIM_LOG_WARN, "boot: the watchdog reset the previous run");
  }
  watchdog_enable(PORT_PICO_WATCHDOG_MS, true); /* paused while a debugger halts the core */
  port_watchdog_on = 1;
}

void port_pico_watchdog_feed(void) {
  if (port_watchdog_on) {
    watchdog_update();
  }
}

/* ---- heap ---- */

/* The C heap runs from the linker's `end` up to __StackLimit (pico-sdk
 * pico_clib_interface/newlib_interface.c _sbrk). */
extern char end;
extern char __StackLimit;

void port_pico_heap(uint32_t *in_use, uint32_t *arena) {
  struct mallinfo mi = mallinfo();
  if (in_use != NULL) {
    *in_use = (uint32_t)mi.uordblks;
  }
  if (arena != NULL) {
    *arena = (uint32_t)mi.arena;
  }
}

/* ---- host counters (stats_read) ---- */

int32_t port_stats_read(int64_t *out, uint32_t count) {
  uint32_t in_use = 0;
  uint32_t arena = 0;
  int32_t rssi;
  if (out == NULL) {
    return SHIM_E_INVAL;
  }
  port_pico_heap(&in_use, &arena);
  /* newlib never gives memory back to sbrk: the arena is the heap's
   * high-water mark. CPU time and bytes come from net.c; the chip
   * temperature (ADC channel 4) is not read yet (-1). */
  if (count > SHIM_STAT_HEAP_USED) {
    out[SHIM_STAT_HEAP_USED] = in_use;
  }
  if (count > SHIM_STAT_HEAP_PEAK) {
    out[SHIM_STAT_HEAP_PEAK] = arena;
  }
  if (count > SHIM_STAT_HEAP_TOTAL) {
    out[SHIM_STAT_HEAP_TOTAL] = (int64_t)(&__StackLimit - &end);
  }
  port_pico_net_stats(out, count);
  rssi = port_pico_wifi_rssi();
  if (count > SHIM_STAT_WIFI_RSSI_DBM && rssi != 0) {
    out[SHIM_STAT_WIFI_RSSI_DBM] = rssi; /* 0: not joined, stays unknown */
  }
  return SHIM_OK;
}
