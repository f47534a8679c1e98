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
 *  node's certificate; NET_HTTP1 makes the TLS client offer only "http/1.1"
 *  by ALPN instead of "h2" then "http/1.1" (see net_alpn), so the server
 *  cannot agree to HTTP/2: for a connection that sends an HTTP/1.1 Upgrade
 *  (k3s' agent tunnel), which HTTP/2 forbids (RFC 9113 section 8.2.2).
 *  NET_CLIENT_CERT and NET_HTTP1 need NET_TLS. Returns a handle at once;
 *  connect and handshake progress in the host; net_send/net_recv return
 *  E_AGAIN until the session is up, then bytes, or the connect/TLS error
 *  (E_CONNECT, E_TLS, E_CERT, E_TIMEOUT). E_INVAL for bad flags (also
 *  NET_HTTP1 on a host older than that flag), E_UNSUPPORTED for NET_HTTP1
 *  on a host without it (the device, which serves no kubelet endpoint and
 *  so opens no tunnel). */
@external("host", "net_connect")
export declare function net_connect(hptr: usize, hlen: i32, port: i32, flags: i32): i32;

/** Sends up to `len` bytes; returns the count accepted (> 0), E_AGAIN, or an
 *  error (the handle is then dead: close it). `len` 0 sends nothing: 0 once
 *  all accepted before has left the host (a TLS record partly sent is
 *  flushed), E_AGAIN while some waits there; ask before a close. */
@external("host", "net_send")
export declare function net_send(h: i32, ptr: usize, len: i32): i32;

/** Receives up to `cap` bytes; returns the count (> 0), E_AGAIN when nothing is
 *  buffered, E_CLOSED when the peer closed cleanly, or an error. */
@external("host", "net_recv")
export declare function net_recv(h: i32, ptr: usize, cap: i32): i32;

/** Closes the handle (TLS close_notify where possible) and frees it: a
 *  connection, an accepted connection or a listener. Returns 0 or E_INVAL for
 *  a handle that is not open. */
@external("host", "net_close")
export declare function net_close(h: i32): i32;

/** Opens a non-blocking listening TCP socket on `port` (the kubelet endpoint)
 *  and returns its handle, which takes one connection slot. The host binds
 *  config kubelet.address, else node.ip, else any address (simulator).
 *  flags NET_TLS: accepted connections are TLS servers presenting the slot-1
 *  serving certificate (installed with cert_install(KEY_SLOT_SERVING)) and
 *  asking for a client certificate, verified when sent against the client CA
 *  bundle (simulator: config tls.client_ca_file); a later install is used for
 *  new handshakes on the open listener. flags 0: plain TCP (tests). The
 *  handle reports EV_READABLE while a connection is pending: call net_accept.
 *  Returns E_UNSUPPORTED (no serving certificate or client CA, or a host
 *  without a server, such as the device for now), E_CONNECT (bind/listen
 *  failed, e.g. the port is in use), E_NOMEM (no free slot), E_INVAL (bad
 *  port or flags); the host logs why. */
@external("host", "net_listen")
export declare function net_listen(port: i32, flags: i32): i32;

/** Accepts one pending connection of listener `lh` into a free slot and
 *  returns its handle. With NET_TLS the host then runs the server handshake
 *  (at most the host's server handshake deadline, 10 s by default, so a slow
 *  client cannot hold the slot): the handle reports EV_READABLE|EV_WRITABLE
 *  once it is up, or EV_ERROR (and net_send/net_recv return the error, e.g.
 *  E_TIMEOUT) when it failed. A plain connection is open at once. Returns
 *  E_AGAIN when nothing is pending; E_NOMEM when all kubelet slots are busy
 *  (the host accepts and closes that connection, counted as refused in
 *  stats_read, so the listener does not stay readable); E_INVAL when `lh` is
 *  not a listener. */
@external("host", "net_accept")
export declare function net_accept(lh: i32): i32;

/** The verified client identity of accepted TLS connection `h`: writes
 *  "<CN>\n<O1>\n<O2>..." (subject CommonName, then each Organization, UTF-8,
 *  no trailing newline; Kubernetes' user name and groups) into (optr, ocap)
 *  and returns its length. Returns 0 when there is none: no client
 *  certificate (anonymous: a bearer token may follow), one that did not
 *  verify against the client CA (chain, dates, clientAuth usage), or a
 *  subject without exactly one CN (the host logs why at debug level); also
 *  0 on a plain connection. E_AGAIN while the handshake runs, E_TOOLARGE when
 *  ocap is too small, E_INVAL for a handle that is not an accepted
 *  connection, or the connection's error once it failed. */
@external("host", "net_peer")
export declare function net_peer(h: i32, optr: usize, ocap: i32): i32;

/** The application protocol the server selected by ALPN (RFC 7301) on
 *  connection `h`: a NET_TLS client offers "h2" then "http/1.1", a
 *  NET_TLS | NET_HTTP1 one only "http/1.1" (never "h2" then; a server that
 *  accepts nothing else may also fail the handshake, E_TLS, RFC 7301
 *  section 3.2). The host copies the server's choice (ASCII, no NUL) into
 *  (optr, ocap) and returns its length, or 0 when it chose none (a server
 *  without ALPN: speak HTTP/1.1) or the connection is plain TCP (an
 *  accepted connection also answers 0: the kubelet endpoint offers no
 *  ALPN). Drives the connect and handshake like net_send/net_recv: E_AGAIN
 *  while they run, the connection's error once they failed (E_CONNECT,
 *  E_TLS, E_CERT, E_TIMEOUT...); E_TOOLARGE when ocap is too small (8 bytes
 *  always suffice), E_INVAL for a handle that is not open or is a listener.
 *  ABI version 3. */
@external("host", "net_alpn")
export declare function net_alpn(h: i32, optr: usize, ocap: i32): i32;

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
 *  signed by the slot's key (SHA-256 with ECDSA), into (optr, ocap). Slot 0
 *  (client) has no extensions. Slot 1 (serving) adds a subjectAltName
 *  extension with exactly DNS:<node.name> and IP:<node.ip> from the config,
 *  each only when set, and no others: what the kubelet-serving signer
 *  requires (at least one DNS/IP SAN) and what an approver comparing them
 *  with the Node's addresses accepts. Returns its length, E_TOOLARGE, or
 *  E_INVAL (no key yet, a name with ',', '=' or '\', or for slot 1 a
 *  node.ip that is not an IPv4/IPv6 address or a node.name that is not a
 *  DNS name). */
@external("host", "csr_create")
export declare function csr_create(slot: i32, cnptr: usize, cnlen: i32, orgptr: usize, orglen: i32, optr: usize, ocap: i32): i32;

/** Appends (ptr, len) of an issued certificate (PEM, or base64 of PEM as in
 *  a CertificateSigningRequest's status.certificate) to the host's staging
 *  buffer for the slot; len 0 empties it. Returns the bytes staged or
 *  E_TOOLARGE. Lets the core pass a long value on piece by piece. */
@external("host", "cert_stage")
export declare function cert_stage(slot: i32, ptr: usize, len: i32): i32;

/** Installs the staged certificate for the slot: the host checks that it is
 *  for the slot's key, valid now, CN=system:node:<node.name>,
 *  O=system:nodes, and (slot 1) that its SANs list node.ip when that is
 *  set; persists it atomically; new connections with NET_CLIENT_CERT (slot
 *  0) or new handshakes on a NET_TLS listener (slot 1) use it, open ones
 *  keep theirs until the install after next (then the host ends them with
 *  an error). On failure the host logs why and the previous certificate
 *  stays. Returns OK, E_CERT (rejected), E_INVAL (nothing staged / not a
 *  certificate), E_IO, E_UNSUPPORTED (slot 1 on a host without a kubelet
 *  server). */
@external("host", "cert_install")
export declare function cert_install(slot: i32): i32;

/** Writes the slot's certificate validity into 16 bytes at optr:
 *  notBefore then notAfter, Unix ms, i64 little-endian. Returns
 *  CERT_SOURCE_STATIC (slot 0 only: tls.cert_file, operator-provisioned; it
 *  wins when both exist and is never renewed by the core),
 *  CERT_SOURCE_NODE (issued for this node's CSR), or E_NOTFOUND (none; for
 *  slot 1 also when a stored serving certificate no longer lists node.ip). */
@external("host", "cert_info")
export declare function cert_info(slot: i32, optr: usize, ocap: i32): i32;

/** Writes the host's counters as little-endian i64 values into (optr, ocap),
 *  in the order of the STAT_* indices in host/stats.ts (the same as
 *  SHIM_STAT_* in shim_abi.h), as many as fit (ocap / 8, at most STAT_COUNT),
 *  and returns how many it wrote. A value the host does not know is -1
 *  (STAT_UNKNOWN), except RSSI and temperature, which can be negative:
 *  there it is i64.MIN_VALUE (STAT_UNKNOWN_SIGNED). */
@external("host", "stats_read")
export declare function stats_read(optr: usize, ocap: i32): i32;

export const KEY_SLOT_CLIENT: i32 = 0;
export const KEY_SLOT_SERVING: i32 = 1;
export const CERT_SOURCE_STATIC: i32 = 1;
export const CERT_SOURCE_NODE: i32 = 2;

/** net_connect: TLS, server verified; net_listen: TLS server (serving certificate). */
export const NET_TLS: i32 = 1;
/** net_connect only: present the node's client certificate. */
export const NET_CLIENT_CERT: i32 = 2;
/** net_connect only, with NET_TLS: offer only "http/1.1" by ALPN (see net_connect). */
export const NET_HTTP1: i32 = 4;

export const EV_READABLE: i32 = 1;
export const EV_WRITABLE: i32 = 2;
export const EV_ERROR: i32 = 4;

export const LOG_ERROR: i32 = 0;
export const LOG_WARN: i32 = 1;
export const LOG_INFO: i32 = 2;
export const LOG_DEBUG: i32 = 3;

