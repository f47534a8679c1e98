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

/** Answers a `platform.*` configuration key (assembly/host/config.ts) that
 *  differs per port (os_image, kernel_version, machine_id, ...; the shared
 *  ones are answered by src/natives.c): copies the value (no NUL) into out
 *  and returns its length; SHIM_E_NOTFOUND for an unknown key,
 *  SHIM_E_TOOLARGE when cap is too small. */
int32_t port_platform_get(const char *key, char *out, size_t cap);

/** Starts a non-blocking connection in `slot` to host:port (flags SHIM_NET_*).
 *  Returns SHIM_OK at once; progress and network errors come later through
 *  send/recv and port_wait. Argument or resource errors return < 0. */
int32_t port_net_connect(uint32_t slot, const char *host, uint16_t port, uint32_t flags);

/** Sends up to len bytes: count accepted (> 0), SHIM_E_AGAIN, or a sticky
 *  error (the connect/TLS error while setting up). len 0 sends nothing and
 *  answers 0 once everything accepted before has left this layer (a TLS
 *  record partly sent is flushed), SHIM_E_AGAIN while some still waits: a
 *  caller about to close asks first, or the peer gets a cut record. */
int32_t port_net_send(uint32_t slot, const uint8_t *buf, size_t len);

/** Receives up to cap bytes: count (> 0), SHIM_E_AGAIN, SHIM_E_CLOSED when
 *  the peer closed cleanly, or a sticky error. */
int32_t port_net_recv(uint32_t slot, uint8_t *buf, size_t cap);

/** Closes the slot (TLS close_notify where possible) and frees it. */
int32_t port_net_close(uint32_t slot);

/** Opens a non-blocking listening TCP socket in `slot` on `port` (flags 0:
 *  plain TCP; SHIM_NET_TLS: accepted connections are TLS servers presenting
 *  the slot-1 serving certificate and asking for a client certificate, which
 *  is verified against the client CA bundle when one is sent). The bind
 *  address is config kubelet.address, else node.ip, else any. Returns
 *  SHIM_OK; SHIM_E_UNSUPPORTED (no serving certificate / client CA, or no
 *  server support in this port), SHIM_E_CONNECT (bind or listen failed:
 *  e.g. the port is in use), SHIM_E_INVAL; the reason is logged. */
int32_t port_net_listen(uint32_t slot, uint16_t port, uint32_t flags);

/** Accepts one pending connection of `listener` into `slot`; the TLS server
 *  handshake then runs like a client's (port_wait, send/recv) within
 *  SHIM_SERVER_HANDSHAKE_TIMEOUT_MS. Returns SHIM_OK, SHIM_E_AGAIN when
 *  none is pending, SHIM_E_INVAL (not a listener). slot < 0: no slot is
 *  free: a pending connection is accepted and closed at once (so the
 *  listener stops being readable) and counted as refused; returns
 *  SHIM_E_NOMEM, or SHIM_E_AGAIN when none was pending. */
int32_t port_net_accept(uint32_t listener, int32_t slot);

/** The verified client identity of an accepted TLS connection, as
 *  "<CN>\n<O1>\n<O2>..." (no NUL) in out: its length; 0 when the client
 *  sent no certificate or one that did not verify (the reason was logged at
 *  debug level when the handshake finished); SHIM_E_AGAIN while the
 *  handshake runs; SHIM_E_TOOLARGE when cap is too small; SHIM_E_INVAL for a
 *  slot that is not an accepted connection; or the connection's sticky
 *  error. */
int32_t port_net_peer(uint32_t slot, uint8_t *out, size_t cap);

/** The application protocol the server selected by ALPN (RFC 7301) on a
 *  connection's TLS session, copied into out (no NUL): its length; 0 when
 *  the server selected none, for plain TCP, or for an accepted connection
 *  (the server side offers no ALPN). Drives the connect and handshake like
 *  port_net_recv: SHIM_E_AGAIN while they run, the sticky error once they
 *  failed; SHIM_E_TOOLARGE when cap is too small; SHIM_E_INVAL for a free
 *  slot or a listener. */
int32_t port_net_alpn(uint32_t slot, uint8_t *out, size_t cap);

/** What the loop should wait for on this slot: SHIM_EV_READABLE while open
 *  (a listener: while it listens), SHIM_EV_WRITABLE while a connect,
 *  handshake or send is pending, SHIM_EV_ERROR when a failure has not been
 *  reported yet; 0 when free. */
uint32_t port_net_interest(uint32_t slot);

/** Waits up to timeout_ms for any slot with a non-zero interest[i]; also
 *  advances connects and handshakes and enforces their deadline. Writes the
 *  SHIM_EV_* flags the core should see into ready[i] (0 = nothing) and
 *  returns how many slots are ready (0 on timeout or interruption). */
int32_t port_wait(const uint32_t *interest, uint32_t *ready, uint32_t count,
                  uint32_t timeout_ms);

/** Host counters for stats_read: out[SHIM_STAT_*] for the first count
 *  indices. On entry each holds its "unknown" value (SHIM_STAT_UNKNOWN, or
 *  SHIM_STAT_UNKNOWN_SIGNED for RSSI and temperature) and SHIM_STAT_UPTIME_MS
 *  is filled; the port overwrites what it knows. Returns SHIM_OK. */
int32_t port_stats_read(int64_t *out, uint32_t count);

/* ---- node identity (issues 5, 6): keys made and kept by the host ----
 * Slot 0 is the client identity (CN=system:node:<name>, O=system:nodes);
 * slot 1 the kubelet serving identity (the same subject, plus the
 * subjectAltNames DNS:<node.name> and IP:<node.ip> in its CSR; a port
 * without a kubelet server may answer SHIM_E_UNSUPPORTED for its
 * certificate). Keys are ECDSA P-256 from
 * the platform's entropy, persisted in the node's state (simulator: files
 * with mode 0600 in state.dir; device: the flash storage region) and never
 * copied out, logged or sent. */

/** Loads the slot's key from the node state or, when there is none, makes
 *  and persists a new one. Returns 0 (loaded), 1 (generated), SHIM_E_INVAL
 *  (slot), SHIM_E_IO (state unreadable/unwritable, or a corrupt key file,
 *  which is never overwritten), SHIM_E_UNSUPPORTED (no identity storage). */
int32_t port_key_ensure(uint32_t slot);

/** Writes a PEM PKCS#10 CSR (subject CN=cn, O=org; SHA-256 with ECDSA)
 *  signed with the slot's key into out; slot 1 adds the subjectAltNames of
 *  shim_identity_csr_add_sans (DNS:<node.name>, IP:<node.ip>). Returns its
 *  length, SHIM_E_TOOLARGE when cap is too small, SHIM_E_INVAL (no key:
 *  call port_key_ensure first; or cn/org with DN-special characters). */
int32_t port_csr_create(uint32_t slot, const char *cn, const char *org, uint8_t *out, size_t cap);

/** Appends bytes of a certificate (PEM, or base64 of PEM as in a
 *  CertificateSigningRequest's status.certificate) to the slot's staging
 *  buffer; len 0 empties it. Returns the bytes staged or SHIM_E_TOOLARGE. */
int32_t port_cert_stage(uint32_t slot, const uint8_t *buf, size_t len);

/** Installs the staged certificate chain for the slot after checking that
 *  the leaf's public key is the slot's key, that it is valid now (wall
 *  clock), its subject (CN=system:node:<node.name>, O=system:nodes) and,
 *  for slot 1, that its SANs hold node.ip when that is set. Persists it
 *  atomically and uses it for new connections (slot 1: new handshakes on
 *  an open listener); open ones keep theirs until the install after next.
 *  On any failure the reason is logged and the previous certificate stays.
 *  Returns SHIM_OK, SHIM_E_CERT (rejected), SHIM_E_INVAL (nothing staged /
 *  not a certificate), SHIM_E_IO. */
int32_t port_cert_install(uint32_t slot);

/** The slot's certificate validity: not_before and not_after in Unix ms.
 *  Returns SHIM_CERT_SOURCE_STATIC (slot 0 only: tls.cert_file,
 *  operator-provisioned, it wins when both exist), SHIM_CERT_SOURCE_NODE
 *  (made by this node's CSR and kept in its state), or SHIM_E_NOTFOUND. */
int32_t port_cert_info(uint32_t slot, int64_t *not_before_ms, int64_t *not_after_ms);

/* ---- device memory (src/devmem.c) ---- */

/** Output id of the on-board LED for port_output_set (GPIOs use their number). */
#define SHIM_OUTPUT_LED 0x100u

/** Loads the saved device memory image into buf (len = SHIM_DEVMEM_BYTES):
 *  returns len, SHIM_E_NOTFOUND when none was saved, or SHIM_E_IO for a
 *  damaged one (bad length or checksum). */
int32_t port_devmem_load(uint8_t *buf, size_t len);

/** Saves the image atomically: after a power cut the previous or the new
 *  image loads, never a mix. Returns SHIM_OK or SHIM_E_IO. */
int32_t port_devmem_store(const uint8_t *buf, size_t len);

/** Drives output (SHIM_OUTPUT_LED or a GPIO number) on or off. The simulator
 *  logs what the pin would do. Returns SHIM_OK or SHIM_E_UNSUPPORTED. */
int32_t port_output_set(uint32_t output, int on);

#endif /* SHIM_PORT_H */
