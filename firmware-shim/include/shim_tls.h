/*
 * The client side of TLS both ports share (src/tls.c): the configuration
 * (server always verified), the host name / IP-literal rules of a session,
 * and the steps of a session mapped to SHIM_E_* codes with the reason
 * logged. The connection state machines, sockets and BIO callbacks stay per
 * port (port/<name>/net.c). Needs Mbed TLS headers (2.28 or 3.6); no
 * platform code.
 */
#ifndef SHIM_TLS_H
#define SHIM_TLS_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

/** Writes Mbed TLS's text for error ret into out (its hex code when the
 *  build has no error strings, MBEDTLS_ERROR_C off). */
void shim_tls_strerror(int ret, char *out, size_t cap);

/** Mbed TLS's RNG callback (f_rng, its context unused) over port_random:
 *  the one generator every Mbed TLS call of the shim and the ports uses. */
int shim_tls_random(void *ctx, unsigned char *out, size_t len);

/** Sets conf up as a client verifying the server against ca (always
 *  required), with shim_tls_random and session tickets; with crt and key
 *  (both or neither) it also presents that client certificate. 0 or an
 *  Mbed TLS error. */
int shim_tls_conf_client(mbedtls_ssl_config *conf, mbedtls_x509_crt *ca, mbedtls_x509_crt *crt,
                         mbedtls_pk_context *key);

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

/** Sends the rest of a partly sent record: SHIM_OK when done, SHIM_E_AGAIN
 *  while the socket is full, SHIM_E_IO on failure. */
int32_t shim_tls_flush(mbedtls_ssl_context *ssl);

/** Reads decrypted bytes: the count, SHIM_E_AGAIN, SHIM_E_CLOSED
 *  (close_notify or EOF), or SHIM_E_IO (reset) / SHIM_E_TLS, logged. */
int32_t shim_tls_read(mbedtls_ssl_context *ssl, uint8_t *buf, size_t cap, const char *host,
                      uint16_t port);

#endif /* SHIM_TLS_H */
