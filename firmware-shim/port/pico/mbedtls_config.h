/*
 * Mbed TLS 3.6 configuration of the Pico W node (pico-sdk 2.2.0 ships Mbed TLS
 * 3.6.2). Written for what a k3s / kube-apiserver (Go crypto/tls) peer needs,
 * DESIGN.md "Device facts":
 *  - TLS 1.3 (RFC 8446) and TLS 1.2 client, server always verified (the port
 *    sets VERIFY_REQUIRED); the version is the server's choice, Go picks 1.3;
 *  - TLS 1.2: extended master secret (RFC 7627), SNI, session tickets
 *    (RFC 5077) so a reconnect resumes cheaply, ALPN (RFC 7301) so the API
 *    server can agree to HTTP/2 (ALPN and SNI are sent in TLS 1.3 too);
 *  - ECDHE-ECDSA (k3s' P-256 CAs) and ECDHE-RSA (RSA-certified servers such as
 *    kubeadm's) with AES-GCM only (Go's TLS 1.2 preference); in TLS 1.3 the
 *    AES-GCM suites, ECDHE on P-256/P-384, ECDSA or RSA-PSS signatures;
 *  - certificate dates checked: MBEDTLS_HAVE_TIME_DATE with the time from the
 *    port (SNTP), MBEDTLS_PLATFORM_TIME_ALT + mbedtls_platform_set_time;
 *  - entropy from the chip: MBEDTLS_ENTROPY_HARDWARE_ALT, whose
 *    mbedtls_hardware_poll is pico-sdk's pico_mbedtls.c (pico_rand get_rand_64),
 *    seeds the port's CTR_DRBG (port_random), which also feeds PSA;
 *  - 16 KiB input records (Go ignores max_fragment_length), 2 KiB output.
 * What TLS 1.3 costs (measured; the API server of the tests, Go's TLS,
 * negotiates it): flash +31.6 KB, of which PSA crypto ~26 KB (.uf2 payload
 * 558,848 -> 590,336 B of the 700 KB budget), static RAM +1.7 KB (PSA key
 * slots, larger session structures), heap peak of the one API session
 * +3.4 KB (bench/tls.mjs: 27,432 -> 30,808 B), as the peer's chain stays
 * in the session (MBEDTLS_SSL_KEEP_PEER_CERTIFICATE) and Mbed TLS keeps its
 * TLS 1.3 handshake state until the connection ends. No TLS 1.3 resumption
 * (below): a reconnect is a full handshake, and the device keeps no saved
 * session for a TLS 1.3 server (port/pico/net.c; a saved TLS 1.2 one held
 * 608 B).
 * Option meanings: Mbed TLS include/mbedtls/mbedtls_config.h.
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
/* RSA-PSS, the only RSA signatures of a TLS 1.3 handshake (RFC 8446 section
 * 4.2.3): without both, an RSA-certified server fails it. */
#define MBEDTLS_PKCS1_V21
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT
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
/* The kubelet endpoint's TLS server (src/tls.c), TLS 1.2 only. The device
 * port does not serve yet, but mbedtls_ssl_handshake_step still links the
 * server's handshakes (linker map: ssl_tls12_server.c 4.1 KB,
 * ssl_tls13_server.c 3.6 KB); the simulator built with this file
 * (build/sim-devtls) serves the endpoint with it. */
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_PROTO_TLS1_3
/* Full (EC)DHE handshakes only. A PSK mode would let TLS 1.3 resume, but a
 * saved session would hold the ticket and the peer's chain (2,512 B of heap
 * measured), the live one its ticket too, a PSK-DHE resumption still runs
 * ECDHE, and the one HTTP/2 connection is seldom reopened. Without a PSK
 * mode Go sends no tickets (RFC 8446 section 4.2.9); servers that still do
 * are skipped, Mbed TLS's default since 3.6.1 (ChangeLog). */
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
/* RFC 8446 appendix D.4: Go's TLS 1.3 server always sends the dummy
 * ChangeCipherSpec, which Mbed TLS rejects without this mode
 * (MBEDTLS_ERR_SSL_INVALID_RECORD, ssl_msg.c). */
#define MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE
/* Required by Mbed TLS 3.6's TLS 1.3 (check_config.h): the peer's chain
 * stays in the session instead of its digest, also in a saved TLS 1.2
 * session (608 -> 2,528 B of heap against the tests' API server). */
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE
/* TLS 1.3's key schedule, HKDF and ECDHE always run on PSA crypto
 * (docs/use-psa-crypto.md); records and TLS 1.2 stay on the legacy code
 * (no MBEDTLS_USE_PSA_CRYPTO). psa_crypto_init: src/tls.c shim_tls_init. */
#define MBEDTLS_PSA_CRYPTO_C
#define MBEDTLS_HKDF_C
/* PSA draws from port_random (src/tls.c mbedtls_psa_external_get_random),
 * the CTR_DRBG over the entropy above, instead of a second DRBG and entropy
 * context of its own. */
#define MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG
/* PSA keys held at once: a TLS 1.3 client handshake holds its ECDHE key and
 * briefly a Finished key; 8 covers the connection slots (the TLS server
 * stays TLS 1.2, src/tls.c). The default 32 costs ~1 KB more static RAM. */
#define MBEDTLS_PSA_KEY_SLOT_COUNT 8
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_SESSION_TICKETS
#define MBEDTLS_SSL_ALPN /* HTTP/2 to the API server: the client offers h2 (RFC 7301) */
/* The TLS 1.3 suites (RFC 8446 section B.4; Go's server takes both AES-GCM ones),
 * then the TLS 1.2 ones as before. */
#define MBEDTLS_SSL_CIPHERSUITES                       \
  MBEDTLS_TLS1_3_AES_128_GCM_SHA256,                   \
      MBEDTLS_TLS1_3_AES_256_GCM_SHA384,               \
      MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, \
      MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, \
      MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,   \
      MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
/* Input: 4 KiB, not a full 16 KiB record (RFC 8446 section 5.1). Go ignores
 * max_fragment_length, so a peer's record is as long as its write, and every
 * peer of the device writes at most 4 KiB at a time:
 *  - the API server over HTTP/2: Go's 4 KiB write buffer, and no frame longer
 *    because the core announces a 4,087-byte stream window
 *    (assembly/util/limits.ts H2_STREAM_WINDOW);
 *  - k3s' tunnel server: gorilla/websocket writes frames from the HTTP
 *    server's 4 KiB buffer, and what it carries is the API server's requests
 *    to the kubelet endpoint;
 *  - clients of the kubelet endpoint: GET requests (the endpoint takes no
 *    body) and a Certificate message of a P-256 chain.
 * A longer record fails that connection with a log line naming this limit
 * (src/tls.c). HTTP/1.1 to the API server has no such bound: the device
 * needs HTTP/2, which every kube-apiserver speaks. Saves 12 KiB of heap per
 * TLS session (DESIGN.md's "cannot shrink" was measured without flow
 * control). */
#define MBEDTLS_SSL_IN_CONTENT_LEN 4096
/* Output: longer writes (the core's requests reach 3.5 KiB) are split into
 * records of this size; a handshake message is not, so the largest one the
 * node sends must fit: its Certificate message (a P-256 leaf from the
 * cluster's signer, ~0.7 KB, or leaf + CA, ~1.3 KB). 2 KiB instead of 4
 * saves 2 KiB of heap per TLS session (checked by the end-to-end suite on
 * build/sim-devtls). */
#define MBEDTLS_SSL_OUT_CONTENT_LEN 2048

#endif /* K3S_PICO_MBEDTLS_CONFIG_H */
