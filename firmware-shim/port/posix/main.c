/*
 * pico-node-sim: the simulator, the shim's POSIX host.
 *
 *   pico-node-sim --config FILE [--wasm PATH] [--log-level N] [--stats]
 *                 [--max-polls N]
 *
 * Exit status: 0 stopped by SIGINT/SIGTERM (or --max-polls reached);
 * 1 the core failed (init < 0, trap, load error); 2 usage, configuration or
 * TLS material error.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port_posix.h"
#include "runtime/runtime.h"
#include "shim.h"

#define SIM_EXIT_OK 0
#define SIM_EXIT_CORE 1
#define SIM_EXIT_SETUP 2

static volatile sig_atomic_t sim_stop;

static void sim_on_signal(int sig) {
  (void)sig;
  sim_stop = 1;
}

typedef struct {
  const char *config;
  const char *wasm;
  int log_level; /* -1: from config or default */
  int stats;
  unsigned long max_polls;
} sim_args_t;

static void sim_usage(void) {
  fprintf(stderr,
          "usage: pico-node-sim --config FILE [--wasm PATH] [--log-level 0-3] [--stats]"
          " [--max-polls N]\n");
}

/* Parses a decimal in [0, max]; returns -1 when invalid. */
static long sim_parse_num(const char *s, long max) {
  char *end = NULL;
  long v;
  if (s == NULL || *s == '\0') {
    return -1;
  }
  v = strtol(s, &end, 10);
  return (*end != '\0' || v < 0 || v > max) ? -1 : v;
}

static int sim_parse_args(int argc, char **argv, sim_args_t *a) {
  int i;
  long v;
  memset(a, 0, sizeof(*a));
  a->log_level = -1;
  for (i = 1; i < argc; i++) {
    const char *arg = argv[i];
    const char *val = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(arg, "--stats") == 0) {
      a->stats = 1;
      continue;
    }
    if (val == NULL) {
      return -1;
    }
    if (strcmp(arg, "--config") == 0) {
      a->config = val;
    } else if (strcmp(arg, "--wasm") == 0) {
      a->wasm = val;
    } else if (strcmp(arg, "--log-level") == 0) {
      v = sim_parse_num(val, SHIM_LOG_DEBUG);
      if (v < 0) {
        return -1;
      }
      a->log_level = (int)v;
    } else if (strcmp(arg, "--max-polls") == 0) {
      v = sim_parse_num(val, 1000000000L);
      if (v < 0) {
        return -1;
      }
      a->max_polls = (unsigned long)v;
    } else {
      return -1;
    }
    i++;
  }
  return a->config == NULL ? -1 : 0;
}

static void sim_print_stats(void) {
  port_posix_stats_t s;
  shim_loop_stats_t l;
  port_posix_get_stats(&s);
  shim_loop_get_stats(&l);
  shim_log(SHIM_LOG_DEBUG, "stats: peak TLS heap %llu bytes, %lu handshakes",
           (unsigned long long)s.tls_heap_peak, (unsigned long)s.handshakes_ok);
  printf("{\"tls_heap_peak_bytes\":%llu,\"tls_heap_counted\":%s,\"handshakes_ok\":%lu,"
         "\"handshakes_failed\":%lu,\"server_handshakes_ok\":%lu,"
         "\"server_handshakes_failed\":%lu,\"connects\":%lu,\"accepted\":%lu,"
         "\"refused\":%lu,\"bytes_sent\":%llu,\"bytes_received\":%llu,\"polls\":%lu,"
         "\"events\":%lu}\n",
         (unsigned long long)s.tls_heap_peak, s.tls_heap_counting ? "true" : "false",
         (unsigned long)s.handshakes_ok, (unsigned long)s.handshakes_failed,
         (unsigned long)s.server_handshakes_ok, (unsigned long)s.server_handshakes_failed,
         (unsigned long)s.connects, (unsigned long)s.accepted, (unsigned long)s.refused,
         (unsigned long long)s.bytes_sent, (unsigned long long)s.bytes_received,
         (unsigned long)l.polls, (unsigned long)l.events);
  fflush(stdout);
}

static int sim_set_log_level(const sim_args_t *a) {
  const char *cfg = shim_config_lookup("log.level");
  long v;
  if (a->log_level >= 0) {
    shim_log_set_level(a->log_level);
    return 0;
  }
  if (cfg == NULL) {
    return 0;
  }
  v = sim_parse_num(cfg, SHIM_LOG_DEBUG);
  if (v < 0) {
    shim_log(SHIM_LOG_ERROR, "config: log.level must be 0-3, got \"%s\"", cfg);
    return -1;
  }
  shim_log_set_level((int32_t)v);
  return 0;
}

int main(int argc, char **argv) {
  shim_config_error_t cerr;
  struct sigaction sa;
  sim_args_t args;
  int32_t init_result = 0;
  int32_t rc;
  int status = SIM_EXIT_SETUP;

  if (sim_parse_args(argc, argv, &args) != 0) {
    sim_usage();
    return SIM_EXIT_SETUP;
  }
  if (port_posix_init() != SHIM_OK) {
    goto cleanup;
  }
  if (args.log_level >= 0) {
    shim_log_set_level(args.log_level);
  }
  rc = port_posix_config_load(args.config, &cerr);
  if (rc != SHIM_OK) {
    shim_log(SHIM_LOG_ERROR, "config %s: %s", args.config, cerr.message);
    goto cleanup;
  }
  if (sim_set_log_level(&args) != 0) {
    goto cleanup;
  }
  /* Device memory first: the saved image drives the outputs before the core
   * or the network exist (a reboot restores the last applied ConfigMaps). */
  if (shim_devmem_boot() != SHIM_OK) {
    goto cleanup;
  }
  status = SIM_EXIT_CORE;
  if (shim_runtime_load(args.wasm) != SHIM_OK) {
    shim_log(SHIM_LOG_ERROR, "runtime: cannot load the core: %s", shim_runtime_last_trap());
    goto cleanup;
  }
  /* Count Mbed TLS heap from here on: TLS material and sessions only. */
  (void)port_posix_heap_install();
  port_posix_heap_reset_peak();
  status = SIM_EXIT_SETUP;
  if (port_posix_tls_load() != SHIM_OK || port_posix_ca_hash_check() != SHIM_OK ||
      port_posix_identity_load() != SHIM_OK) {
    goto cleanup;
  }
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = sim_on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  status = SIM_EXIT_CORE;
  shim_log(SHIM_LOG_INFO, "sim: runtime %s, config %s", shim_runtime_name(), args.config);
  if (shim_runtime_init(&init_result) != SHIM_OK) {
    shim_log(SHIM_LOG_ERROR, "core trapped in init: %s", shim_runtime_last_trap());
    goto cleanup;
  }
  if (init_result < 0) {
    shim_log(SHIM_LOG_ERROR, "core init failed: %ld", (long)init_result);
    goto cleanup;
  }
  rc = shim_loop_run(&sim_stop, (uint32_t)args.max_polls);
  if (rc != SHIM_OK) {
    goto cleanup;
  }
  shim_log(SHIM_LOG_INFO, "sim: stopped");
  status = SIM_EXIT_OK;
cleanup:
  shim_natives_close_all();
  if (args.stats) {
    sim_print_stats();
  }
  port_posix_shutdown();
  shim_runtime_unload();
  return status;
}
