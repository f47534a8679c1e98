// The host ABI, core side: every function the core imports from the shim.
//
// This file and firmware-shim/include/shim_abi.h are one contract: change them
// together, in the same commit. Conventions (DESIGN.md "The host ABI"):
// buffers cross as (ptr, len) in linear memory and the host bounds-checks every
// pair; results >= 0 are counts or handles, < 0 codes from util/errors.ts;
// E_AGAIN ("would block") is never "closed". Private keys never cross.

/** Writes one log line (no trailing newline) at `level` (LOG_* below). The host
 *  adds the uptime stamp and level letter; the line goes to USB serial on the
 *  device and stderr in the simulator, in the same format. */
@external("host", "log")
export declare function log(level: i32, ptr: usize, len: i32): void;

/** Copies the value of configuration key (kptr, klen) into (optr, ocap).
 *  Returns the value's length, E_NOTFOUND for an unset key, E_TOOLARGE when
 *  the value is longer than `ocap` (nothing is copied), E_DENIED for keys the
 *  core may not read (private keys). Keys are listed in host/config.ts. */
@external("host", "config_get")
export declare function config_get(kptr: usize, klen: i32, optr: usize, ocap: i32): i32;

/** Fills (ptr, len) with random bytes from the platform's entropy source
 *  (RP2040 ROSC / the OS). Returns len or an error code. For jitter and nonces,
 *  not for keys: keys are made by the host. */
@external("host", "random_fill")
export declare function random_fill(ptr: usize, len: i32): i32;

/** Starts a non-blocking connection to host name (hptr, hlen) at `port`.
 *  flags: NET_TLS verifies the server against the configured CA bundle and the
 *  name (SNI + hostname check, never optional); NET_CLIENT_CERT presents the
 *  node's certificate. Returns a handle at once; connect and handshake progress
 *  in the host; net_send/net_recv return E_AGAIN until the session is up, then
 *  bytes, or the connect/TLS error (E_CONNECT, E_TLS, E_CERT, E_TIMEOUT). */
@external("host", "net_connect")
export declare function net_connect(hptr: usize, hlen: i32, port: i32, flags: i32): i32;

/** Sends up to `len` bytes; returns the count accepted (> 0), E_AGAIN, or an
 *  error (the handle is then dead: close it). */
@external("host", "net_send")
export declare function net_send(h: i32, ptr: usize, len: i32): i32;

/** Receives up to `cap` bytes; returns the count (> 0), E_AGAIN when nothing is
 *  buffered, E_CLOSED when the peer closed cleanly, or an error. */
@external("host", "net_recv")
export declare function net_recv(h: i32, ptr: usize, cap: i32): i32;

/** Closes the handle (TLS close_notify where possible) and frees it. Returns 0
 *  or E_INVAL for a handle that is not open. */
@external("host", "net_close")
export declare function net_close(h: i32): i32;

export const NET_TLS: i32 = 1;
export const NET_CLIENT_CERT: i32 = 2;

export const EV_READABLE: i32 = 1;
export const EV_WRITABLE: i32 = 2;
export const EV_ERROR: i32 = 4;

export const LOG_ERROR: i32 = 0;
export const LOG_WARN: i32 = 1;
export const LOG_INFO: i32 = 2;
export const LOG_DEBUG: i32 = 3;
