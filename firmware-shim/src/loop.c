/*
 * The event loop: next = poll(now, wall); wait on open handles up to next ms;
 * deliver event(handle, flags) for each ready handle; repeat until the stop
 * flag is set or the core traps. The core never blocks and never reads the
 * clock (DESIGN.md "How data flows"): all time comes from here.
 */
#include <string.h>

#include "port.h"
#include "runtime/runtime.h"
#include "shim.h"

static shim_loop_stats_t shim_loop_stats;

void shim_loop_get_stats(shim_loop_stats_t *out) {
  if (out != NULL) {
    *out = shim_loop_stats;
  }
}

static void shim_loop_trap(const char *where) {
  shim_log(SHIM_LOG_ERROR, "core trapped in %s: %s", where, shim_runtime_last_trap());
}

/* Delivers the ready flags; returns SHIM_OK or SHIM_LOOP_TRAPPED. */
static int32_t shim_loop_deliver(const uint32_t *ready) {
  int32_t h;
  for (h = 0; h < SHIM_MAX_CONNECTIONS; h++) {
    /* The core may have closed h while handling an earlier event. */
    if (ready[h] == 0 || !shim_natives_handle_open(h)) {
      continue;
    }
    shim_loop_stats.events++;
    if (shim_runtime_event(h, ready[h]) != SHIM_OK) {
      shim_loop_trap("event");
      return SHIM_LOOP_TRAPPED;
    }
  }
  return SHIM_OK;
}

int32_t shim_loop_run(const volatile sig_atomic_t *stop, uint32_t max_polls) {
  uint32_t interest[SHIM_MAX_CONNECTIONS];
  uint32_t ready[SHIM_MAX_CONNECTIONS];
  int32_t rc = SHIM_OK;

  memset(&shim_loop_stats, 0, sizeof(shim_loop_stats));
  while (stop == NULL || *stop == 0) {
    int32_t next = 0;
    uint32_t wait_ms;
    uint32_t h;

    if (max_polls != 0 && shim_loop_stats.polls >= max_polls) {
      break;
    }
    shim_loop_stats.polls++;
    if (shim_runtime_poll(port_now_ms(), port_wall_ms(), &next) != SHIM_OK) {
      shim_loop_trap("poll");
      rc = SHIM_LOOP_TRAPPED;
      goto cleanup;
    }
    wait_ms = next < 0 ? 0u : (uint32_t)next;
    if (wait_ms > SHIM_LOOP_MAX_WAIT_MS) {
      wait_ms = SHIM_LOOP_MAX_WAIT_MS;
    }
    for (h = 0; h < SHIM_MAX_CONNECTIONS; h++) {
      interest[h] = shim_natives_handle_open((int32_t)h) ? port_net_interest(h) : 0u;
      ready[h] = 0;
    }
    if (port_wait(interest, ready, SHIM_MAX_CONNECTIONS, wait_ms) > 0) {
      rc = shim_loop_deliver(ready);
      if (rc != SHIM_OK) {
        goto cleanup;
      }
    }
  }
cleanup:
  shim_natives_close_all();
  return rc;
}
