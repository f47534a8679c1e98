/* POSIX port internals shared by platform.c and net.c (not a public API). */
#ifndef PORT_POSIX_TLS_H
#define PORT_POSIX_TLS_H

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>

extern mbedtls_entropy_context port_entropy;
extern mbedtls_ctr_drbg_context port_drbg;

/** Frees the TLS configuration and credentials (net.c). */
void port_posix_tls_free(void);

#endif /* PORT_POSIX_TLS_H */
