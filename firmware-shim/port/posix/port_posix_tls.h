/* POSIX port internals shared by platform.c and net.c (not a public API). */
#ifndef PORT_POSIX_TLS_H
#define PORT_POSIX_TLS_H

#include <stdint.h>

#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

/** The static client certificate (tls.cert_file), or NULL (net.c). */
const mbedtls_x509_crt *port_posix_static_cert(void);

/** Sets conf up like the client-certificate configuration (server verified
 *  against tls.ca_file) presenting crt/key, with the ALPN offer of flags
 *  (SHIM_NET_HTTP1: "http/1.1" only; shim_tls_conf_client) (net.c). 0 or an
 *  Mbed TLS error. */
int port_posix_client_conf(mbedtls_ssl_config *conf, mbedtls_x509_crt *crt,
                           mbedtls_pk_context *key, uint32_t flags);

/** Sets conf up as the kubelet endpoint's TLS server presenting crt/key,
 *  verifying client certificates against tls.client_ca_file (net.c). 0 or
 *  an Mbed TLS error. */
int port_posix_server_conf(mbedtls_ssl_config *conf, mbedtls_x509_crt *crt,
                           mbedtls_pk_context *key);

/** Ends the TLS sessions set up over conf before it is freed (net.c): they
 *  fail with SHIM_E_IO, which the core sees as EV_ERROR. */
void port_posix_conf_retire(const mbedtls_ssl_config *conf);

/** The configuration presenting the node-made client certificate with the
 *  ALPN offer of flags (SHIM_NET_HTTP1 or not), or NULL while there is none
 *  (identity.c). */
mbedtls_ssl_config *port_posix_identity_conf(uint32_t flags);

/** The server configuration with the current serving certificate, or NULL
 *  while none is installed (identity.c). */
mbedtls_ssl_config *port_posix_serving_conf(void);

/** Frees the TLS configuration and credentials (net.c). */
void port_posix_tls_free(void);

#endif /* PORT_POSIX_TLS_H */
