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
int32_t shim_native_net_listen(int32_t port, int32_t flags);
int32_t shim_native_net_accept(int32_t lh);
int32_t shim_native_net_peer(int32_t h, uint32_t optr, uint32_t ocap);
int32_t shim_native_net_alpn(int32_t h, uint32_t optr, uint32_t ocap);
/** Writes up to ocap / 8 of the SHIM_STAT_* values (i64 little-endian) at
 *  optr; returns how many. */
int32_t shim_native_stats_read(uint32_t optr, uint32_t ocap);
int32_t shim_native_key_ensure(int32_t slot);
int32_t shim_native_csr_create(int32_t slot, uint32_t cnptr, uint32_t cnlen, uint32_t orgptr,
                               uint32_t orglen, uint32_t optr, uint32_t ocap);
int32_t shim_native_cert_stage(int32_t slot, uint32_t ptr, uint32_t len);
int32_t shim_native_cert_install(int32_t slot);
/** Writes not_before, not_after (Unix ms, i64 little-endian) into 16 bytes at
 *  optr; returns SHIM_CERT_SOURCE_* or SHIM_E_NOTFOUND. */
int32_t shim_native_cert_info(int32_t slot, uint32_t optr, uint32_t ocap);

int32_t shim_native_devmem_read(uint32_t ptr, uint32_t cap);
int32_t shim_native_devmem_commit(uint32_t ptr, uint32_t len);

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

/* ---- device memory (src/devmem.c) ---- */

/** Boot: reads the devmem.bind.* keys (SHIM_E_INVAL / SHIM_E_TOOLARGE on a
 *  bad one, logged), loads the saved image (zeros when none) and drives every
 *  bound output from it. Call after the config is loaded, before the core
 *  and the network. */
int32_t shim_devmem_boot(void);

/** Copies the current image (SHIM_DEVMEM_BYTES) into out; returns the size,
 *  SHIM_E_TOOLARGE when cap is smaller. */
int32_t shim_devmem_read(uint8_t *out, uint32_t cap);

/** Persists image (exactly SHIM_DEVMEM_BYTES, else SHIM_E_INVAL), then makes
 *  it current and drives outputs whose state changed. On a store error the
 *  current image is unchanged. */
int32_t shim_devmem_commit(const uint8_t *image, uint32_t len);

/** The current image (SHIM_DEVMEM_BYTES bytes; tests). */
const uint8_t *shim_devmem_current(void);

#endif /* SHIM_H */
