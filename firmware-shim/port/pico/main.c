/*
 * k3s_pico_node: the firmware's entry point (Raspberry Pi Pico W).
 *
 * Boot: USB serial at 115200 (the baud rate only matters to UART bridges;
 * CDC ignores it), banner, config region -> config store, watchdog, entropy,
 * TLS material, Wi-Fi join, core.wasm from its flash slot under WAMR once
 * the node has an address, init(), then the shared event loop forever. A fatal error blinks
 * the LED fast and restarts the board after PORT_PICO_FATAL_RESTART_MS.
 */
#include <stdio.h>
#include <stdlib.h>

#include "hardware/watchdog.h"
#include "pico/cyw43_arch.h"
#include "pico/stdlib.h"

#include "flash_layout.h"
#include "port.h"
#include "port_pico.h"
#include "runtime/runtime.h"
#include "runtime/wamr/runtime_wamr.h"
#include "shim.h"

/* How long a fatal error is shown (LED, serial) before the board restarts
 * to try again: long enough to read the log on a terminal. */
#define PORT_PICO_FATAL_RESTART_MS 30000u

/* The banner's server port when server.port is unset (k3s' API server,
 * docs.k3s.io "Networking: inbound rules"). */
#define PORT_PICO_DEFAULT_API_PORT "6443"

/* Linker symbols of the SDK's memmap_default.ld. */
extern char __flash_binary_start;
extern char __flash_binary_end;

static void pico_banner(void) {
  const char *name = shim_config_lookup("node.name");
  const char *host = shim_config_lookup("server.host");
  const char *port = shim_config_lookup("server.port");
  printf("========================================\n"
         "  Raspberry Pi Pico WH - K3s Node\n"
         "========================================\n"
         "Node Name: %s\n"
         "K3s Server: %s:%s\n",
         name != NULL ? name : "(not configured)", host != NULL ? host : "(not configured)",
         port != NULL ? port : PORT_PICO_DEFAULT_API_PORT);
  fflush(stdout);
}

static void pico_set_log_level(void) {
  const char *v = shim_config_lookup("log.level");
  if (v != NULL && v[0] >= '0' && v[0] <= '3' && v[1] == '\0') {
    shim_log_set_level(v[0] - '0');
  } else if (v != NULL) {
    shim_log(SHIM_LOG_WARN, "config: log.level must be 0-3, got \"%s\"", v);
  }
}

static void pico_memory_report(void) {
  uint32_t pool_used = 0;
  uint32_t pool_total = 0;
  uint32_t heap_used = 0;
  uint32_t heap_arena = 0;
  shim_wamr_pool_usage(&pool_used, &pool_total);
  port_pico_heap(&heap_used, &heap_arena);
  shim_log(SHIM_LOG_INFO, "mem: WAMR pool peak %lu of %lu bytes, C heap %lu bytes in use",
           (unsigned long)pool_used, (unsigned long)pool_total, (unsigned long)heap_used);
}

/* The core reads node.ip once, in init (the Node's InternalIP, the serving
 * certificate's address), and the device learns it from DHCP: the core
 * starts once Wi-Fi is joined with an address (wifi.c restarts the board if
 * a later lease brings another one). */
static void pico_wait_network(void) {
  uint32_t none = 0;
  uint32_t ready = 0;
  uint64_t started = port_now_ms();
  uint64_t next_note = started + 10000u;
  while (!port_pico_wifi_up()) {
    (void)port_wait(&none, &ready, 0, 100u); /* Wi-Fi, lwIP, LED, watchdog */
    if (port_now_ms() >= next_note) {
      shim_log(SHIM_LOG_INFO, "boot: waiting for the network (%lu s)",
               (unsigned long)((port_now_ms() - started) / 1000u));
      next_note += 10000u;
    }
  }
}

/* Shows the error and restarts; never returns. cyw43_ready: the LED (on the
 * Wi-Fi chip) can be driven. */
static void pico_fatal(int cyw43_ready) {
  uint64_t until = port_now_ms() + PORT_PICO_FATAL_RESTART_MS;
  shim_log(SHIM_LOG_ERROR, "boot: fatal error, restarting in %u s",
           (unsigned)(PORT_PICO_FATAL_RESTART_MS / 1000u));
  if (!cyw43_ready) {
    cyw43_ready = cyw43_arch_init() == 0;
  }
  port_pico_led_set(PORT_PICO_LED_ERROR);
  while (port_now_ms() < until) {
    port_pico_watchdog_feed();
    if (cyw43_ready) {
      cyw43_arch_poll();
      port_pico_led_tick();
    }
    sleep_ms(20);
  }
  watchdog_reboot(0, 0, 0);
  for (;;) {
    tight_loop_contents();
  }
}

int main(void) {
  shim_config_error_t cerr;
  const uint8_t *module;
  const char *why = "";
  uint32_t module_len = 0;
  uint32_t fw_bytes = (uint32_t)(&__flash_binary_end - &__flash_binary_start);
  int32_t init_result = 0;
  int32_t rc;

  stdio_init_all();
  rc = port_pico_config_load(&cerr);
  pico_banner();
  shim_log(SHIM_LOG_INFO, "boot: firmware %lu bytes (slot %lu)", (unsigned long)fw_bytes,
           (unsigned long)FLASH_FIRMWARE_BYTES);
  if (rc != SHIM_OK) {
    shim_log(SHIM_LOG_ERROR, "config: %s", cerr.message);
    pico_fatal(0);
  }
  pico_set_log_level();
  port_pico_watchdog_start();
  if (port_pico_platform_init() != SHIM_OK || port_pico_tls_load() != SHIM_OK ||
      port_pico_identity_load() != SHIM_OK) {
    pico_fatal(0);
  }
  if (port_pico_wifi_init() != SHIM_OK) {
    pico_fatal(0);
  }
  /* The saved device memory drives its outputs before the core runs (after
   * the CYW43 init: the on-board LED is its WL_GPIO0). */
  if (shim_devmem_boot() != SHIM_OK) {
    pico_fatal(0);
  }
  pico_wait_network();
  module = port_pico_core_module(&module_len, &why);
  if (module == NULL) {
    shim_log(SHIM_LOG_ERROR, "core: %s (write one with tools/uf2/uf2.mjs core)", why);
    pico_fatal(1);
  }
  if (shim_wamr_load_bytes(module, module_len) != SHIM_OK) {
    shim_log(SHIM_LOG_ERROR, "runtime: cannot load the core: %s", shim_runtime_last_trap());
    pico_fatal(1);
  }
  shim_log(SHIM_LOG_INFO, "core: %lu bytes, runtime %s", (unsigned long)module_len,
           shim_runtime_name());
  if (shim_runtime_init(&init_result) != SHIM_OK) {
    shim_log(SHIM_LOG_ERROR, "core trapped in init: %s", shim_runtime_last_trap());
    pico_fatal(1);
  }
  if (init_result < 0) {
    shim_log(SHIM_LOG_ERROR, "core init failed: %ld", (long)init_result);
    pico_fatal(1);
  }
  pico_memory_report();
  /* Runs until the core traps; the device has no stop request. */
  (void)shim_loop_run(NULL, 0);
  pico_memory_report();
  pico_fatal(1);
  return 0;
}
