/* POSIX port internals shared by platform.c and net.c (not a public API). */
#ifndef PORT_POSIX_TLS_H
#define PORT_POSIX_TLS_H

#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

/** The static client certificate (tls.cert_file), or NULL (net.c). */
const mbedtls_x509_crt *port_posix_static_cert(void);

/** Sets conf up like the client-certificate configuration (server verified
 *  against tls.ca_file) presenting crt/key (net.c). 0 or an Mbed TLS error. */
int port_posix_client_conf(mbedtls_ssl_config *conf, mbedtls_x509_crt *crt,
                           mbedtls_pk_context *key);

/** The configuration presenting the node-made client certificate, or NULL
 *  while there is none (identity.c). */
mbedtls_ssl_config *port_posix_identity_conf(void);

/** Frees the TLS configuration and credentials (net.c). */
void port_posix_tls_free(void);

#endif /* PORT_POSIX_TLS_H */
