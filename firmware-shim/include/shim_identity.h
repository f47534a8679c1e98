/*
 * The node identity checks both ports share (src/identity.c): what a CSR
 * subject may contain, the serving CSR's subjectAltNames, and whether a
 * certificate the cluster issued is this node's. Only key and certificate
 * storage is per port (port/<name>/identity.c). Needs Mbed TLS headers
 * (2.28 or 3.6); no platform code.
 */
#ifndef SHIM_IDENTITY_H
#define SHIM_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>

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

/** Logs that crt was installed for slot (SHIM_KEY_SLOT_*), with its expiry. */
void shim_identity_log_installed(uint32_t slot, const mbedtls_x509_crt *crt);

/** Parses an IPv4 dotted quad or an IPv6 address (RFC 4291 section 2.2
 *  text forms, no zone) into out in network order. Returns 4, 16, or 0 when
 *  s is neither. */
int shim_identity_parse_ip(const char *s, uint8_t out[16]);

/** The value of one hex digit (either case), or -1. */
int shim_identity_hex(char c);

/** Non-zero when crt lists the address (ip_len 4 or 16) as an iPAddress
 *  subjectAltName (RFC 5280 section 4.2.1.6). */
int shim_identity_crt_has_ip(const mbedtls_x509_crt *crt, const uint8_t *ip, size_t ip_len);

/** Adds the serving certificate's subjectAltName extension to csr, made from
 *  the config: dNSName <node.name> and iPAddress <node.ip>, each only when
 *  set, and no others (what the kubelet-serving signer and an approver
 *  comparing with the Node's addresses expect, K8S-NOTES.md). Returns
 *  SHIM_OK (also when neither is set: no extension), SHIM_E_INVAL with the
 *  reason logged (node.ip not an address, node.name not a DNS name). */
int32_t shim_identity_csr_add_sans(mbedtls_x509write_csr *csr);

/** Checks a serving certificate's leaf against the config: when node.ip is
 *  set, it must be one of its iPAddress SANs (clients that dial the node by
 *  IP check it). Returns SHIM_OK or SHIM_E_CERT with the reason logged. */
int32_t shim_identity_check_serving(const mbedtls_x509_crt *crt);

#endif /* SHIM_IDENTITY_H */
