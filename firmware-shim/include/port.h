/*
 * The port interface: what the shared shim code (firmware-shim/src/) needs
 * from a platform. Implemented once per port under firmware-shim/port/<name>/
 * (posix: the simulator; pico: the device). Shared code never uses #ifdef for
 * platforms; it calls these.
 *
 * Connections are addressed by slot (0 .. SHIM_MAX_CONNECTIONS-1); the slot is
 * the handle the core sees. The shared natives own the open/closed table and
 * call the port only for slots they opened.
 * Results follow shim_abi.h: >= 0 success or a count, < 0 a SHIM_E_* code.
 */
#ifndef SHIM_PORT_H
#define SHIM_PORT_H

#include <stddef.h>
#include <stdint.h>

/** Writes one finished log line (stamp, level, message, '\n'). Never fails. */
void port_log_write(const char *line, size_t len);

/** Milliseconds since boot / process start, monotonic: the log stamp and the
 *  core's now_ms. */
uint64_t port_now_ms(void);

/** Unix time in milliseconds, or 0 while unknown (no NTP yet on the device). */
uint64_t port_wall_ms(void);

/** Fills buf with len random bytes from the platform's entropy. Returns len
 *  or SHIM_E_IO. */
int32_t port_random(uint8_t *buf, size_t len);

/** Answers a `platform.*` configuration key (assembly/host/config.ts): copies
 *  the value (no NUL) into out and returns its length; SHIM_E_NOTFOUND for an
 *  unknown key, SHIM_E_TOOLARGE when cap is too small. */
int32_t port_platform_get(const char *key, char *out, size_t cap);

/** Starts a non-blocking connection in `slot` to host:port (flags SHIM_NET_*).
 *  Returns SHIM_OK at once; progress and network errors come later through
 *  send/recv and port_wait. Argument or resource errors return < 0. */
int32_t port_net_connect(uint32_t slot, const char *host, uint16_t port, uint32_t flags);

/** Sends up to len bytes: count accepted (> 0), SHIM_E_AGAIN, or a sticky
 *  error (the connect/TLS error while setting up). */
int32_t port_net_send(uint32_t slot, const uint8_t *buf, size_t len);

/** Receives up to cap bytes: count (> 0), SHIM_E_AGAIN, SHIM_E_CLOSED when
 *  the peer closed cleanly, or a sticky error. */
int32_t port_net_recv(uint32_t slot, uint8_t *buf, size_t cap);

/** Closes the slot (TLS close_notify where possible) and frees it. */
int32_t port_net_close(uint32_t slot);

/** What the loop should wait for on this slot: SHIM_EV_READABLE while open,
 *  SHIM_EV_WRITABLE while a connect, handshake or send is pending,
 *  SHIM_EV_ERROR when a failure has not been reported yet; 0 when free. */
uint32_t port_net_interest(uint32_t slot);

/** Waits up to timeout_ms for any slot with a non-zero interest[i]; also
 *  advances connects and handshakes and enforces their deadline. Writes the
 *  SHIM_EV_* flags the core should see into ready[i] (0 = nothing) and
 *  returns how many slots are ready (0 on timeout or interruption). */
int32_t port_wait(const uint32_t *interest, uint32_t *ready, uint32_t count,
                  uint32_t timeout_ms);

#endif /* SHIM_PORT_H */
