/*
 * Mbed TLS 3.6 configuration of the Pico W node (pico-sdk 2.2.0 ships Mbed TLS
 * 3.6.2). Written for what a k3s / kube-apiserver (Go crypto/tls) peer needs,
 * DESIGN.md "Device facts":
 *  - TLS 1.2 client, server always verified (the port sets VERIFY_REQUIRED),
 *    extended master secret (RFC 7627), SNI, session tickets (RFC 5077) so a
 *    watch that the API server closes every 30-60 min resumes cheaply, ALPN
 *    (RFC 7301) so the API server can agree to HTTP/2;
 *  - ECDHE-ECDSA (k3s' P-256 CAs) and ECDHE-RSA (RSA-certified servers such as
 *    kubeadm's) with AES-GCM only (Go's TLS 1.2 preference);
 *  - certificate dates checked: MBEDTLS_HAVE_TIME_DATE with the time from the
 *    port (SNTP), MBEDTLS_PLATFORM_TIME_ALT + mbedtls_platform_set_time;
 *  - entropy from the chip: MBEDTLS_ENTROPY_HARDWARE_ALT, whose
 *    mbedtls_hardware_poll is pico-sdk's pico_mbedtls.c (pico_rand get_rand_64);
 *  - 16 KiB input records (Go ignores max_fragment_length), 4 KiB output.
 * TLS 1.3 is left out: in 3.6 it needs the PSA crypto core
 * (MBEDTLS_USE_PSA_CRYPTO) on top of this, which does not fit the flash budget
 * next to TLS 1.2. Option meanings: Mbed TLS include/mbedtls/mbedtls_config.h.
 * Compiled in by absolute path (MBEDTLS_CONFIG_FILE), because a bare
 * "mbedtls_config.h" would resolve to Mbed TLS's own default file.
 * The simulator uses this same file when it builds Mbed TLS from source
 * (cmake -DMBEDTLS_SOURCE_DIR=..., firmware-shim/cmake/mbedtls_source.cmake);
 * each port supplies the hooks named below (time, ms clock, entropy), so
 * nothing here is Pico-only.
 */
#ifndef K3S_PICO_MBEDTLS_CONFIG_H
#define K3S_PICO_MBEDTLS_CONFIG_H

/* ---- platform ---- */
#define MBEDTLS_PLATFORM_C
/* mbedtls_calloc/free through pointers (default: the C library's calloc/free):
 * the simulator, built with this file, counts the TLS heap peak through
 * mbedtls_platform_set_calloc_free (port/posix/heap.c); the device keeps the
 * defaults. */
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE
#define MBEDTLS_PLATFORM_TIME_ALT     /* mbedtls_platform_set_time(port clock) */
#define MBEDTLS_PLATFORM_MS_TIME_ALT  /* mbedtls_ms_time() in port/pico/platform.c */
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_ENTROPY_HARDWARE_ALT
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_DEPRECATED_REMOVED

/* ---- symmetric: AES-GCM, tables in flash (saves ~8 KiB RAM) ---- */
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_AES_FEWER_TABLES
#define MBEDTLS_GCM_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_MD_C
#define MBEDTLS_SHA224_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA384_C
#define MBEDTLS_SHA512_C
#define MBEDTLS_SHA256_SMALLER
#define MBEDTLS_SHA512_SMALLER

/* ---- public key ---- */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECDSA_DETERMINISTIC   /* RFC 6979: no RNG dependence in signatures */
#define MBEDTLS_HMAC_DRBG_C           /* required by ECDSA_DETERMINISTIC */
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C            /* the node's CSR (k3s join) */
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PEM_WRITE_C
/* RSA up to 4096-bit server/CA keys (bytes). */
#define MBEDTLS_MPI_MAX_SIZE 512
/* Smaller windows: less RAM per operation, a little slower. */
#define MBEDTLS_MPI_WINDOW_SIZE 2
#define MBEDTLS_ECP_WINDOW_SIZE 4
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 1

/* ---- X.509 ---- */
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CREATE_C
#define MBEDTLS_X509_CSR_WRITE_C
#define MBEDTLS_X509_MAX_INTERMEDIATE_CA 4

/* ---- TLS ---- */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
/* The kubelet endpoint's TLS server (src/tls.c). The device port does not
 * serve yet, so its linker drops this code (no flash cost); the simulator
 * built with this file (build/sim-devtls) serves the endpoint with it. */
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_SESSION_TICKETS
#define MBEDTLS_SSL_ALPN /* HTTP/2 to the API server: the client offers h2 (RFC 7301) */
/* MBEDTLS_SSL_KEEP_PEER_CERTIFICATE off: the chain is verified during the
 * handshake and then dropped (saves RAM per session and per saved ticket). */
#define MBEDTLS_SSL_CIPHERSUITES                      \
  MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,    \
      MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, \
      MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,   \
      MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
/* Input: a full 16 KiB record (RFC 5246 section 6.2.1), Go ignores
 * max_fragment_length; a 4 KiB buffer fails on the first full record. */
#define MBEDTLS_SSL_IN_CONTENT_LEN 16384
/* Output: longer writes (the core's requests reach 3.5 KiB) are split into
 * records of this size; a handshake message is not, so the largest one the
 * node sends must fit: its Certificate message (a P-256 leaf from the
 * cluster's signer, ~0.7 KB, or leaf + CA, ~1.3 KB). 2 KiB instead of 4
 * saves 2 KiB of heap per TLS session (checked by the end-to-end suite on
 * build/sim-devtls). */
#define MBEDTLS_SSL_OUT_CONTENT_LEN 2048

#endif /* K3S_PICO_MBEDTLS_CONFIG_H */
