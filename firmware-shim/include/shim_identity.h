/*
 * The node identity checks both ports share (src/identity.c): what a CSR
 * subject may contain and whether a certificate the cluster issued is this
 * node's. Only key and certificate storage is per port (port/<name>/identity.c).
 * Needs Mbed TLS headers (2.28 or 3.6); no platform code.
 */
#ifndef SHIM_IDENTITY_H
#define SHIM_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

/** Non-zero when s can go into a "CN=..,O=.." subject text as it is. */
int shim_identity_dn_safe(const char *s);

/** An X.509 time (UTC) as Unix milliseconds. */
int64_t shim_identity_time_ms(const mbedtls_x509_time *t);

/** Parses a chain (PEM, its NUL counted in len) into crt (initialised here;
 *  the caller frees it) and checks that the leaf's public key is key's.
 *  Returns SHIM_OK, SHIM_E_INVAL (not a certificate) or SHIM_E_CERT (another
 *  key), with the reason logged. */
int32_t shim_identity_parse(mbedtls_x509_crt *crt, const unsigned char *pem, size_t len,
                            mbedtls_pk_context *key);

/** Checks a freshly issued client certificate: subject exactly
 *  CN=system:node:<node.name>, O=system:nodes, and valid now (port_wall_ms).
 *  Returns SHIM_OK or SHIM_E_CERT with the reason logged. */
int32_t shim_identity_check_issued(const mbedtls_x509_crt *crt);

/** Logs that crt was installed, with its expiry. */
void shim_identity_log_installed(const mbedtls_x509_crt *crt);

#endif /* SHIM_IDENTITY_H */
