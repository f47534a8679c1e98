/*
 * net_probe: drives one connection through the real natives and the POSIX
 * port (sockets, Mbed TLS), as the core would, and prints the outcome:
 *   result=OK            "ping\n" sent and an answer received
 *   result=E_CERT ...    the first error code met (shim_abi.h names)
 * Usage: shim-net-probe --config FILE --host H --port N --flags F [--alpn CAP]
 * --alpn CAP calls net_alpn with a CAP-byte buffer right after net_connect
 * (a TLS handshake cannot have finished then) and again on each event until
 * it answers, before the exchange, and prints
 *   alpn first=<first answer> result=<length or code> proto=<protocol>
 * The port is built with a 2 s handshake deadline (tests/shim/CMakeLists.txt).
 * Exits 0 when it printed a result, 2 on usage/setup errors; the run is
 * bounded by that deadline plus PROBE_IO_MS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port.h"
#include "port_posix.h"
#include "runtime/runtime.h"
#include "shim.h"

/* Time allowed for the exchange after the handshake. */
#define PROBE_IO_MS 3000u

/* Where net_alpn writes in linear memory. */
#define PROBE_ALPN_OUT 2048u

static const char *probe_code_name(int32_t code) {
  switch (code) {
    case SHIM_OK: return "OK";
    case SHIM_E_AGAIN: return "E_AGAIN";
    case SHIM_E_CLOSED: return "E_CLOSED";
    case SHIM_E_BADPTR: return "E_BADPTR";
    case SHIM_E_INVAL: return "E_INVAL";
    case SHIM_E_NOMEM: return "E_NOMEM";
    case SHIM_E_TOOLARGE: return "E_TOOLARGE";
    case SHIM_E_NOTFOUND: return "E_NOTFOUND";
    case SHIM_E_CONNECT: return "E_CONNECT";
    case SHIM_E_TLS: return "E_TLS";
    case SHIM_E_CERT: return "E_CERT";
    case SHIM_E_IO: return "E_IO";
    case SHIM_E_TIMEOUT: return "E_TIMEOUT";
    case SHIM_E_UNSUPPORTED: return "E_UNSUPPORTED";
    case SHIM_E_DENIED: return "E_DENIED";
    default: return "E_UNKNOWN";
  }
}

/* A count as a number, a code by name. */
static void probe_print_rc(const char *key, int32_t rc) {
  if (rc >= 0) {
    printf("%s=%ld", key, (long)rc);
  } else {
    printf("%s=%s", key, probe_code_name(rc));
  }
}

/* Prints net_alpn's answer once it is not E_AGAIN; returns 1 when the
 * connection failed (the probe then ends with that code). */
static int probe_alpn_done(int32_t first, int32_t rc, const uint8_t *mem) {
  printf("alpn ");
  probe_print_rc("first", first);
  probe_print_rc(" result", rc);
  printf(" proto=%.*s\n", rc > 0 ? (int)rc : 0, (const char *)mem + PROBE_ALPN_OUT);
  return rc < 0 && rc != SHIM_E_TOOLARGE;
}

static int32_t probe_run(const char *host, int32_t port, int32_t flags, int32_t alpn_cap) {
  uint32_t interest[SHIM_MAX_CONNECTIONS];
  uint32_t ready[SHIM_MAX_CONNECTIONS];
  uint32_t size = 0;
  uint8_t *mem = shim_runtime_memory(&size);
  size_t hlen = strlen(host);
  uint64_t deadline = port_now_ms() + SHIM_TLS_HANDSHAKE_TIMEOUT_MS + PROBE_IO_MS;
  int sent = 0;
  int32_t alpn_first = SHIM_E_AGAIN;
  int32_t alpn = SHIM_E_AGAIN;
  int act_now = 0; /* the slot may already be open: send without an event */
  int32_t h;
  int32_t rc;
  uint32_t i;

  memcpy(mem, host, hlen);
  memcpy(mem + 512, "ping\n", 5);
  h = shim_native_net_connect(0, (uint32_t)hlen, port, flags);
  if (h < 0) {
    return h;
  }
  if (alpn_cap >= 0) {
    alpn_first = alpn = shim_native_net_alpn(h, PROBE_ALPN_OUT, (uint32_t)alpn_cap);
    if (alpn != SHIM_E_AGAIN) {
      alpn_cap = -1; /* answered: on to the exchange */
      act_now = 1;
      if (probe_alpn_done(alpn_first, alpn, mem)) {
        rc = alpn;
        goto done;
      }
    }
  }
  while (port_now_ms() < deadline) {
    for (i = 0; i < SHIM_MAX_CONNECTIONS; i++) {
      interest[i] = shim_natives_handle_open((int32_t)i) ? port_net_interest(i) : 0u;
    }
    if (!act_now && (port_wait(interest, ready, SHIM_MAX_CONNECTIONS, 200) <= 0 || ready[h] == 0)) {
      continue;
    }
    act_now = 0;
    if (alpn_cap >= 0) {
      alpn = shim_native_net_alpn(h, PROBE_ALPN_OUT, (uint32_t)alpn_cap);
      if (alpn == SHIM_E_AGAIN) {
        continue;
      }
      alpn_cap = -1;
      if (probe_alpn_done(alpn_first, alpn, mem)) {
        rc = alpn;
        goto done;
      }
    }
    if (!sent) {
      rc = shim_native_net_send(h, 512, 5);
      if (rc == 5) {
        sent = 1;
      } else if (rc != SHIM_E_AGAIN) {
        goto done;
      }
    }
    rc = shim_native_net_recv(h, 1024, 256);
    if (rc > 0) {
      printf("answer=%.*s\n", (int)(rc > 64 ? 64 : rc), (const char *)mem + 1024);
      rc = SHIM_OK;
      goto done;
    }
    if (rc != SHIM_E_AGAIN) {
      goto done;
    }
  }
  rc = SHIM_E_AGAIN; /* nothing decided in time: the test fails */
done:
  shim_native_net_close(h);
  return rc;
}

int main(int argc, char **argv) {
  shim_config_error_t err;
  const char *config = NULL;
  const char *host = NULL;
  port_posix_stats_t stats;
  int32_t port = 0;
  int32_t flags = 0;
  int32_t alpn_cap = -1;
  int32_t rc;
  int i;

  for (i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--config") == 0) {
      config = argv[i + 1];
    } else if (strcmp(argv[i], "--host") == 0) {
      host = argv[i + 1];
    } else if (strcmp(argv[i], "--port") == 0) {
      port = atoi(argv[i + 1]);
    } else if (strcmp(argv[i], "--flags") == 0) {
      flags = atoi(argv[i + 1]);
    } else if (strcmp(argv[i], "--alpn") == 0) {
      alpn_cap = atoi(argv[i + 1]);
    }
  }
  if (config == NULL || host == NULL || port == 0) {
    fprintf(stderr, "usage: shim-net-probe --config FILE --host H --port N --flags F [--alpn CAP]\n");
    return 2;
  }
  shim_log_set_level(SHIM_LOG_DEBUG);
  if (port_posix_init() != SHIM_OK || shim_runtime_load(NULL) != SHIM_OK) {
    return 2;
  }
  if (port_posix_config_load(config, &err) != SHIM_OK) {
    fprintf(stderr, "config: %s\n", err.message);
    return 2;
  }
  port_posix_heap_install();
  port_posix_heap_reset_peak();
  if (port_posix_tls_load() != SHIM_OK) {
    return 2;
  }
  rc = probe_run(host, port, flags, alpn_cap);
  port_posix_get_stats(&stats);
  printf("result=%s tls_heap_peak=%llu\n", probe_code_name(rc),
         (unsigned long long)stats.tls_heap_peak);
  port_posix_shutdown();
  shim_runtime_unload();
  return 0;
}
