/*
 * The shared shim (firmware-shim/src/): host functions, configuration store,
 * log and event loop. Portable C99; platform code lives behind port.h and the
 * WASM runtime behind runtime/runtime.h.
 */
#ifndef SHIM_H
#define SHIM_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "shim_abi.h"
#include "shim_config.h"

/* ---- log (src/log.c) ---- */

/** Lines above this level (SHIM_LOG_*) are dropped. Default SHIM_LOG_INFO. */
void shim_log_set_level(int32_t level);
int32_t shim_log_level(void);

/** Formats one line `[%6u.%03u] L msg` (uptime s.ms, level letter E/W/I/D)
 *  and hands it to port_log_write. Never pass key material. */
void shim_log(int32_t level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/** Logs bytes from the core: control characters become '?', one line. */
void shim_log_bytes(int32_t level, const uint8_t *msg, size_t len);

/* ---- configuration store (src/config.c) ---- */

typedef struct {
  uint32_t line;                        /* 1-based line of the error, 0 if none */
  char message[SHIM_CONFIG_ERROR_MAX];  /* why, e.g. "line 3: missing '='" */
} shim_config_error_t;

/** Parses `key = value` text (# comments, blank lines, whitespace trimmed)
 *  into the store, replacing what it held. Returns SHIM_OK, or < 0 with
 *  err filled: SHIM_E_INVAL (bad line), SHIM_E_TOOLARGE (key, value or entry
 *  count over its limit). The store is empty after an error. */
int32_t shim_config_parse(const char *text, size_t len, shim_config_error_t *err);

/** The value of key, or NULL when unset. */
const char *shim_config_lookup(const char *key);

/** Sets one entry directly (tests, ports adding derived keys). */
int32_t shim_config_set(const char *key, const char *value);

/** Empties the store. */
void shim_config_reset(void);

/** Non-zero for keys the core may not read (private key material). */
int shim_config_key_denied(const char *key);

/* ---- host functions (src/natives.c), one per SHIM_ABI_IMPORTS entry ---- */

void shim_native_log(int32_t level, uint32_t ptr, uint32_t len);
int32_t shim_native_config_get(uint32_t kptr, uint32_t klen, uint32_t optr, uint32_t ocap);
int32_t shim_native_random_fill(uint32_t ptr, uint32_t len);
int32_t shim_native_net_connect(uint32_t hptr, uint32_t hlen, int32_t port, int32_t flags);
int32_t shim_native_net_send(int32_t h, uint32_t ptr, uint32_t len);
int32_t shim_native_net_recv(int32_t h, uint32_t ptr, uint32_t cap);
int32_t shim_native_net_close(int32_t h);

/** Non-zero when handle h is open (opened by the core, not yet closed). */
int shim_natives_handle_open(int32_t h);

/** Closes every open handle (TLS close_notify): shutdown path. */
void shim_natives_close_all(void);

/* ---- event loop (src/loop.c) ---- */

/** Loop result when the core trapped. */
#define SHIM_LOOP_TRAPPED (-200)

/** Runs poll / wait / event until *stop becomes non-zero (returns SHIM_OK
 *  after closing all handles) or the core traps (SHIM_LOOP_TRAPPED, logged).
 *  max_polls > 0 stops after that many poll calls (tests, benchmarks). */
int32_t shim_loop_run(const volatile sig_atomic_t *stop, uint32_t max_polls);

/** Counters of the last loop run. */
typedef struct {
  uint32_t polls;
  uint32_t events;
} shim_loop_stats_t;
void shim_loop_get_stats(shim_loop_stats_t *out);

#endif /* SHIM_H */
