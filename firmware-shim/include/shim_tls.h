/*
 * The TLS both ports share (src/tls.c): the client configuration (server
 * always verified), the host name / IP-literal rules of a session, the
 * kubelet endpoint's server configuration and client identity, and the
 * steps of a session mapped to SHIM_E_* codes with the reason logged. The
 * connection state machines, sockets and BIO callbacks stay per port
 * (port/<name>/net.c). Needs Mbed TLS headers (2.28 or 3.6); no platform
 * code.
 */
#ifndef SHIM_TLS_H
#define SHIM_TLS_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "shim_config.h"

/** Writes Mbed TLS's text for error ret into out (its hex code when the
 *  build has no error strings, MBEDTLS_ERROR_C off). */
void shim_tls_strerror(int ret, char *out, size_t cap);

/** Mbed TLS's RNG callback (f_rng, its context unused) over port_random:
 *  the one generator every Mbed TLS call of the shim and the ports uses. */
int shim_tls_random(void *ctx, unsigned char *out, size_t len);

/** Initialises what the TLS build needs once before any handshake (the PSA
 *  crypto core of Mbed TLS 3.x); SHIM_OK, or SHIM_E_TLS logged. */
int32_t shim_tls_init(void);

/** Sets conf up as a client verifying the server against ca (always
 *  required), with shim_tls_random, session tickets and, with
 *  MBEDTLS_SSL_ALPN, the ALPN offer "h2", "http/1.1", or "http/1.1" alone
 *  when flags has SHIM_NET_HTTP1 (other bits are ignored); with crt and key
 *  (both or neither) it also presents that client certificate. Mbed TLS
 *  keeps the offer in the configuration: a port keeps one configuration
 *  per offer. 0 or an Mbed TLS error. */
int shim_tls_conf_client(mbedtls_ssl_config *conf, mbedtls_x509_crt *ca, mbedtls_x509_crt *crt,
                         mbedtls_pk_context *key, uint32_t flags);

/** Initialises ssl over conf for a connection to host:port (the caller frees it
 *  with mbedtls_ssl_free, also after a failure). A name is sent as SNI and
 *  checked against the certificate; an IP literal (ip_len 4 or 16, the
 *  address in network order, which must outlive ssl) is not sent and must be
 *  an iPAddress SAN of the leaf. SHIM_OK, or SHIM_E_NOMEM / SHIM_E_TLS with
 *  the reason logged. */
int32_t shim_tls_session_start(mbedtls_ssl_context *ssl, const mbedtls_ssl_config *conf,
                               const char *host, uint16_t port, const uint8_t *ip,
                               size_t ip_len);

/** Runs the handshake as far as it goes without blocking. SHIM_OK when done
 *  (logged with version and suite), SHIM_E_AGAIN with *want_write set while
 *  it waits for the socket, else SHIM_E_CERT (the verify reasons logged) or
 *  SHIM_E_TLS (Mbed TLS's error logged). */
int32_t shim_tls_handshake(mbedtls_ssl_context *ssl, const char *host, uint16_t port,
                           int *want_write);

/** Encrypts and sends up to len bytes: the count taken, SHIM_E_AGAIN, or
 *  SHIM_E_IO (logged). When the record is encrypted but only partly sent,
 *  the bytes count as taken and *flush_pending is set: shim_tls_flush sends
 *  the rest (Mbed TLS would otherwise want the same buffer again). */
int32_t shim_tls_write(mbedtls_ssl_context *ssl, const uint8_t *buf, size_t len,
                       const char *host, uint16_t port, int *flush_pending);

/** After the handshake: copies the protocol the server selected by ALPN
 *  (RFC 7301) into out (no NUL) and returns its length; 0 when it selected
 *  none or the build has no MBEDTLS_SSL_ALPN; SHIM_E_TOOLARGE when cap is
 *  too small. */
int32_t shim_tls_alpn_copy(const mbedtls_ssl_context *ssl, uint8_t *out, size_t cap);

/** Sends the rest of a partly sent record: SHIM_OK when done, SHIM_E_AGAIN
 *  while the socket is full, SHIM_E_IO on failure. */
int32_t shim_tls_flush(mbedtls_ssl_context *ssl);

/** Reads decrypted bytes: the count, SHIM_E_AGAIN, SHIM_E_CLOSED
 *  (close_notify or EOF), or SHIM_E_IO (reset) / SHIM_E_TLS, logged. */
int32_t shim_tls_read(mbedtls_ssl_context *ssl, uint8_t *buf, size_t cap, const char *host,
                      uint16_t port);

/** Checks config server.ca_hash ("sha256:<64 hex>" of the CA bundle's
 *  bytes, as `k3s-pico-node config write` and kubeadm's
 *  discovery-token-ca-cert-hash pin it) against ca[0..len) (`what` names
 *  where the bundle came from, for the log): SHIM_OK when unset or equal,
 *  else SHIM_E_CERT with the reason logged. */
int32_t shim_tls_ca_hash_check(const uint8_t *ca, size_t len, const char *what);

/* ---- server side: the kubelet endpoint (issue 5) ---- */

/** Whether a port may serve TLS on `port`: a TLS server in this build
 *  (MBEDTLS_SSL_SRV_C), a serving certificate and a client CA bundle
 *  (client_ca_from names where it comes from, for the log). SHIM_OK, or
 *  SHIM_E_UNSUPPORTED with the reason logged. */
int32_t shim_tls_serve_check(uint16_t port, int have_serving, int have_client_ca,
                             const char *client_ca_from);

/* shim_tls_peer_t.state */
#define SHIM_TLS_PEER_NONE 0     /* no certificate (yet), or one that did not verify */
#define SHIM_TLS_PEER_SEEN 1     /* the leaf's subject is kept, verdict pending */
#define SHIM_TLS_PEER_UNUSABLE 2 /* the leaf's subject cannot be carried (why) */
#define SHIM_TLS_PEER_VERIFIED 3 /* verified: text is the identity */

/** The client identity of an accepted TLS connection, kept while Mbed TLS
 *  verifies the client's chain (the certificate itself is not kept). */
typedef struct {
  uint8_t state;
  uint16_t len;
  const char *why;               /* SHIM_TLS_PEER_UNUSABLE: for the log */
  char text[SHIM_NET_PEER_MAX];  /* "<CN>\n<O1>\n<O2>..." */
} shim_tls_peer_t;

/** Sets conf up as a TLS server presenting crt/key that asks for a client
 *  certificate and verifies one when sent (MBEDTLS_SSL_VERIFY_OPTIONAL)
 *  against client_ca, dates by the device's clock. 0 or an Mbed TLS error;
 *  MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE when the build has no
 *  MBEDTLS_SSL_SRV_C. */
int shim_tls_conf_server(mbedtls_ssl_config *conf, mbedtls_x509_crt *client_ca,
                         mbedtls_x509_crt *crt, mbedtls_pk_context *key);

/** Initialises ssl over a server conf for a connection accepted from
 *  host:port (the peer's address, for the log) and empties peer, which
 *  must outlive ssl (the caller frees ssl with mbedtls_ssl_free, also after
 *  a failure). The handshake then runs with shim_tls_handshake. SHIM_OK,
 *  or SHIM_E_NOMEM / SHIM_E_TLS with the reason logged. */
int32_t shim_tls_session_accept(mbedtls_ssl_context *ssl, const mbedtls_ssl_config *conf,
                                shim_tls_peer_t *peer, const char *host, uint16_t port);

/** After a server handshake: keeps peer's identity only when the client's
 *  certificate verified (verify result 0); otherwise logs why at debug level
 *  (none sent, did not verify, subject unusable) and empties it. */
void shim_tls_peer_settle(mbedtls_ssl_context *ssl, shim_tls_peer_t *peer, const char *host,
                          uint16_t port);

/** Copies a settled identity into out: its length, 0 when there is none,
 *  SHIM_E_TOOLARGE when cap is too small. */
int32_t shim_tls_peer_copy(const shim_tls_peer_t *peer, uint8_t *out, size_t cap);

#endif /* SHIM_TLS_H */
