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

/** Copies the device memory region (platform.devmem_bytes bytes, as last
 *  committed or restored at boot) into (ptr, cap). Returns its size, or
 *  E_TOOLARGE when cap is smaller (nothing copied). */
@external("host", "devmem_read")
export declare function devmem_read(ptr: usize, cap: i32): i32;

/** Replaces the whole device memory region with (ptr, len), len exactly the
 *  region size (else E_INVAL). The host saves it atomically first (flash /
 *  file), then makes it current and drives the outputs bound to addresses
 *  (config devmem.bind.<address>). Returns OK, or E_IO when saving failed:
 *  then the region is unchanged. */
@external("host", "devmem_commit")
export declare function devmem_commit(ptr: usize, len: i32): i32;

/** Loads the key of `slot` (KEY_SLOT_*) from the node's state or, on first
 *  boot, makes an ECDSA P-256 key from the platform's entropy and persists
 *  it. The key never crosses into the core. Returns 0 (loaded), 1 (made),
 *  E_IO (state unusable; a corrupt key is reported, never overwritten),
 *  E_UNSUPPORTED (no identity storage on this host). */
@external("host", "key_ensure")
export declare function key_ensure(slot: i32): i32;

/** Writes a PEM CSR for subject CN=(cnptr, cnlen), O=(orgptr, orglen),
 *  signed by the slot's key (SHA-256 with ECDSA), into (optr, ocap).
 *  Returns its length, E_TOOLARGE, or E_INVAL (no key yet, or a name with
 *  ',', '=' or '\'). */
@external("host", "csr_create")
export declare function csr_create(slot: i32, cnptr: usize, cnlen: i32, orgptr: usize, orglen: i32, optr: usize, ocap: i32): i32;

/** Appends (ptr, len) of an issued certificate (PEM, or base64 of PEM as in
 *  a CertificateSigningRequest's status.certificate) to the host's staging
 *  buffer for the slot; len 0 empties it. Returns the bytes staged or
 *  E_TOOLARGE. Lets the core pass a long value on piece by piece. */
@external("host", "cert_stage")
export declare function cert_stage(slot: i32, ptr: usize, len: i32): i32;

/** Installs the staged certificate for the slot: the host checks that it is
 *  for the slot's key, valid now, and (slot 0) CN=system:node:<node.name>,
 *  O=system:nodes; persists it atomically; new connections with
 *  NET_CLIENT_CERT present it, open ones keep theirs. On failure the host
 *  logs why and the previous certificate stays. Returns OK, E_CERT
 *  (rejected), E_INVAL (nothing staged / not a certificate), E_IO. */
@external("host", "cert_install")
export declare function cert_install(slot: i32): i32;

/** Writes the slot's client certificate validity into 16 bytes at optr:
 *  notBefore then notAfter, Unix ms, i64 little-endian. Returns
 *  CERT_SOURCE_STATIC (tls.cert_file: operator-provisioned; it wins when
 *  both exist and is never renewed by the core), CERT_SOURCE_NODE (issued
 *  for this node's CSR), or E_NOTFOUND (no client certificate). */
@external("host", "cert_info")
export declare function cert_info(slot: i32, optr: usize, ocap: i32): i32;

export const KEY_SLOT_CLIENT: i32 = 0;
export const KEY_SLOT_SERVING: i32 = 1;
export const CERT_SOURCE_STATIC: i32 = 1;
export const CERT_SOURCE_NODE: i32 = 2;

export const NET_TLS: i32 = 1;
export const NET_CLIENT_CERT: i32 = 2;

export const EV_READABLE: i32 = 1;
export const EV_WRITABLE: i32 = 2;
export const EV_ERROR: i32 = 4;

export const LOG_ERROR: i32 = 0;
export const LOG_WARN: i32 = 1;
export const LOG_INFO: i32 = 2;
export const LOG_DEBUG: i32 = 3;
