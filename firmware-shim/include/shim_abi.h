/*
 * The host ABI between the node agent (core.wasm, AssemblyScript) and the shim.
 *
 * This header and assembly/host/ are one contract: change them together, in
 * the same commit. Each imported function is documented once, beside its
 * declaration in assembly/host/imports.ts; this file holds the numbers both
 * sides share and the table the runtimes register (SHIM_ABI_IMPORTS).
 *
 * Conventions (DESIGN.md "The host ABI"):
 *  - Buffers cross as (ptr, len) in the module's linear memory. The host checks
 *    every pair against the memory size; a bad pair returns SHIM_E_BADPTR and
 *    never touches host memory.
 *  - Returns: >= 0 is a count or a handle, < 0 one of the codes below.
 *    "Would block" (SHIM_E_AGAIN) is never confused with "closed".
 *  - Handles are small integers; the host owns sockets and TLS sessions.
 *  - Private keys stay in the host: no import ever copies one into the module.
 */
#ifndef SHIM_ABI_H
#define SHIM_ABI_H

#include <stdint.h>

/* Version of this contract; the core reads it as config key "abi.version".
 * 2: net_listen, net_accept, net_peer, stats_read; slot 1 (serving).
 * 3: net_alpn; TLS clients offer ALPN "h2", "http/1.1"; later, without a
 *    bump (an added flag): SHIM_NET_HTTP1, which an older host refuses
 *    with SHIM_E_INVAL like any unknown flag. */
#define SHIM_ABI_VERSION 3

/* Module name of every import. */
#define SHIM_ABI_MODULE "host"

/* ---- error codes (assembly/util/errors.ts mirrors this list) ---- */
#define SHIM_OK 0
#define SHIM_E_AGAIN (-1)       /* would block: try again after an event or poll */
#define SHIM_E_CLOSED (-2)      /* the peer closed the connection cleanly */
#define SHIM_E_BADPTR (-3)      /* (ptr, len) outside the module's linear memory */
#define SHIM_E_INVAL (-4)       /* an argument is invalid (bad handle, port, flags) */
#define SHIM_E_NOMEM (-5)       /* no free handle, session or buffer */
#define SHIM_E_TOOLARGE (-6)    /* the value does not fit the buffer given */
#define SHIM_E_NOTFOUND (-7)    /* no such configuration key */
#define SHIM_E_CONNECT (-8)     /* name resolution or TCP connect failed / refused */
#define SHIM_E_TLS (-9)         /* TLS handshake or record layer failed */
#define SHIM_E_CERT (-10)       /* the server certificate failed verification */
#define SHIM_E_IO (-11)         /* any other I/O error (reset, send failure) */
#define SHIM_E_TIMEOUT (-12)    /* a host-side deadline passed (e.g. handshake) */
#define SHIM_E_UNSUPPORTED (-13) /* the port cannot do this */
#define SHIM_E_DENIED (-14)     /* the key or resource is not for the module */

/* ---- net_connect / net_listen flags ---- */
#define SHIM_NET_TLS 1u          /* connect: TLS, server verified against the configured CA;
                                    listen: TLS server with the serving certificate */
#define SHIM_NET_CLIENT_CERT 2u  /* connect only: present the node's client certificate */
#define SHIM_NET_HTTP1 4u        /* connect only, with SHIM_NET_TLS: the client offers only
                                    "http/1.1" by ALPN: for an HTTP/1.1 Upgrade (k3s' agent
                                    tunnel), which HTTP/2 forbids (RFC 9113 section 8.2.2) */

/* ---- identity slots and certificate sources (key_ensure, cert_info) ---- */
#define SHIM_KEY_SLOT_CLIENT 0   /* CN=system:node:<name>, O=system:nodes */
#define SHIM_KEY_SLOT_SERVING 1  /* the kubelet serving key; CN and O as slot 0, SANs */
#define SHIM_KEY_SLOTS 2
#define SHIM_CERT_SOURCE_STATIC 1 /* tls.cert_file/tls.key_file: operator-provisioned */
#define SHIM_CERT_SOURCE_NODE 2   /* issued for this node's own CSR, kept in its state */

/* ---- event() flags, host -> core ---- */
#define SHIM_EV_READABLE 1u
#define SHIM_EV_WRITABLE 2u
#define SHIM_EV_ERROR 4u

/* ---- log levels ---- */
#define SHIM_LOG_ERROR 0
#define SHIM_LOG_WARN 1
#define SHIM_LOG_INFO 2
#define SHIM_LOG_DEBUG 3

/*
 * The imports, as one X-macro table: X(name, wasm result, wasm params,
 * argument names, WAMR signature). Both runtime adapters generate their
 * import functions and registration from it (runtime/wasm2c, runtime/wamr):
 * each calls shim_native_<name>(arguments) (shim.h), so a new entry needs
 * only its native. The WAMR signature uses its native-API letters
 * (doc/export_native_api.md): i = i32, I = i64, * = pointer, ~ = length of the
 * preceding pointer, $ = NUL-terminated string. Pointers are passed to the
 * natives as module offsets and bounds-checked by shim code for both runtimes,
 * so the table uses "i" for them and the natives check (ptr, len) themselves.
 * A host may offer imports the core does not use (both runtimes allow it).
 */
#define SHIM_ABI_IMPORTS(X)                                                                  \
  X(log, void, (i32 level, i32 ptr, i32 len), (level, ptr, len), "(iii)")                    \
  X(config_get, i32, (i32 kptr, i32 klen, i32 optr, i32 ocap), (kptr, klen, optr, ocap),     \
    "(iiii)i")                                                                               \
  X(random_fill, i32, (i32 ptr, i32 len), (ptr, len), "(ii)i")                               \
  X(net_connect, i32, (i32 hptr, i32 hlen, i32 port, i32 flags), (hptr, hlen, port, flags),  \
    "(iiii)i")                                                                               \
  X(net_send, i32, (i32 h, i32 ptr, i32 len), (h, ptr, len), "(iii)i")                       \
  X(net_recv, i32, (i32 h, i32 ptr, i32 cap), (h, ptr, cap), "(iii)i")                       \
  X(net_close, i32, (i32 h), (h), "(i)i")                                                    \
  X(net_listen, i32, (i32 port, i32 flags), (port, flags), "(ii)i")                          \
  X(net_accept, i32, (i32 lh), (lh), "(i)i")                                                 \
  X(net_peer, i32, (i32 h, i32 optr, i32 ocap), (h, optr, ocap), "(iii)i")                   \
  X(net_alpn, i32, (i32 h, i32 optr, i32 ocap), (h, optr, ocap), "(iii)i")                   \
  X(devmem_read, i32, (i32 ptr, i32 cap), (ptr, cap), "(ii)i")                               \
  X(devmem_commit, i32, (i32 ptr, i32 len), (ptr, len), "(ii)i")                             \
  X(key_ensure, i32, (i32 slot), (slot), "(i)i")                                             \
  X(csr_create, i32,                                                                         \
    (i32 slot, i32 cnptr, i32 cnlen, i32 orgptr, i32 orglen, i32 optr, i32 ocap),            \
    (slot, cnptr, cnlen, orgptr, orglen, optr, ocap), "(iiiiiii)i")                          \
  X(cert_stage, i32, (i32 slot, i32 ptr, i32 len), (slot, ptr, len), "(iii)i")               \
  X(cert_install, i32, (i32 slot), (slot), "(i)i")                                           \
  X(cert_info, i32, (i32 slot, i32 optr, i32 ocap), (slot, optr, ocap), "(iii)i")            \
  X(stats_read, i32, (i32 optr, i32 ocap), (optr, ocap), "(ii)i")

/*
 * stats_read: host counters as little-endian i64 values in this order
 * (assembly/host/stats.ts mirrors the indices). A value the host does not
 * know is -1, except where a real value can be negative (RSSI, temperature):
 * there it is SHIM_STAT_UNKNOWN_SIGNED (INT64_MIN). Counters count from
 * process start / boot.
 */
#define SHIM_STAT_UPTIME_MS 0          /* monotonic ms since start */
#define SHIM_STAT_CPU_US 1             /* CPU busy time, microseconds */
#define SHIM_STAT_HEAP_USED 2          /* host heap bytes in use now */
#define SHIM_STAT_HEAP_PEAK 3          /* host heap high-water mark, bytes */
#define SHIM_STAT_HEAP_TOTAL 4         /* host heap bytes allocatable in all */
#define SHIM_STAT_RSS_BYTES 5          /* resident memory of the host, bytes */
#define SHIM_STAT_TLS_CLIENT_OK 6      /* client handshakes completed */
#define SHIM_STAT_TLS_CLIENT_FAILED 7  /* client handshakes failed or timed out */
#define SHIM_STAT_TLS_CLIENT_MS 8      /* ms spent in completed client handshakes */
#define SHIM_STAT_TLS_SERVER_OK 9      /* server handshakes completed */
#define SHIM_STAT_TLS_SERVER_FAILED 10 /* server handshakes failed or timed out */
#define SHIM_STAT_TLS_SERVER_MS 11     /* ms spent in completed server handshakes */
#define SHIM_STAT_BYTES_SENT 12        /* TCP payload bytes sent (TLS records included) */
#define SHIM_STAT_BYTES_RECEIVED 13    /* TCP payload bytes received */
#define SHIM_STAT_CONNS_ACCEPTED 14    /* connections accepted into a slot */
#define SHIM_STAT_CONNS_REFUSED 15     /* connections accepted and closed: no free slot */
#define SHIM_STAT_WIFI_RSSI_DBM 16     /* signal of the joined network, dBm */
#define SHIM_STAT_CHIP_TEMP_MC 17      /* chip temperature, milli-degrees Celsius */
#define SHIM_STAT_COUNT 18
#define SHIM_STAT_UNKNOWN (-1)
#define SHIM_STAT_UNKNOWN_SIGNED INT64_MIN

/*
 * The exports the host calls:
 *   init() -> i32                 once, after instantiation; < 0 is fatal
 *   poll(now_ms: i64, wall_ms: i64) -> i32
 *                                 now_ms is monotonic; wall_ms is Unix time in
 *                                 ms or 0 while unknown; returns the ms until
 *                                 the core wants the next poll (>= 0)
 *   event(handle: i32, flags: i32) readiness of a handle (SHIM_EV_*)
 */

#endif /* SHIM_ABI_H */
