/*
 * TLS shared by the ports (shim_tls.h): client configuration, host name and
 * IP-literal rules, the kubelet endpoint's server configuration and client
 * identity, and the session steps mapped to SHIM_E_* with the reason
 * logged. The server certificate is always verified (DESIGN.md).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <mbedtls/asn1.h>
#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h> /* MBEDTLS_ERR_NET_* codes only */
#include <mbedtls/oid.h>
#include <mbedtls/sha256.h>
#include <mbedtls/version.h>
#if defined(MBEDTLS_PSA_CRYPTO_C)
#include <psa/crypto.h>
#endif

#include "port.h"
#include "shim.h"
#include "shim_identity.h"
#include "shim_tls.h"

void shim_tls_strerror(int ret, char *out, size_t cap) {
#if defined(MBEDTLS_ERROR_C)
  mbedtls_strerror(ret, out, cap);
#else
  snprintf(out, cap, "-0x%04x", (unsigned)-ret);
#endif
}

/* Logs "tls: <what> <host>:<port> failed: <Mbed TLS's reason>"; one format
 * for the session steps keeps the device's flash small. */
static void shim_tls_log_failure(int level, const char *what, const char *host, uint16_t port,
                                 int ret) {
#if defined(MBEDTLS_ERROR_C)
  char reason[SHIM_TLS_REASON_MAX];
  mbedtls_strerror(ret, reason, sizeof(reason));
  shim_log(level, "tls: %s %s:%u failed: %s", what, host, (unsigned)port, reason);
#else
  shim_log(level, "tls: %s %s:%u failed: -0x%04x", what, host, (unsigned)port, (unsigned)-ret);
#endif
}

/* The same for a failure while reading the peer's records (handshake,
 * receive). MBEDTLS_ERR_SSL_BAD_INPUT_DATA there is what Mbed TLS returns for
 * a record longer than its input buffer (ssl_msg.c mbedtls_ssl_fetch_input:
 * "requesting more data than fits"): named, because the cause is this
 * build's limit, not a fault of the peer. */
static void shim_tls_log_read_failure(int level, const char *what, const char *host,
                                      uint16_t port, int ret) {
  if (ret == MBEDTLS_ERR_SSL_BAD_INPUT_DATA) {
    shim_log(level, "tls: %s %s:%u failed: a record longer than this build's %u-byte input buffer "
             "(MBEDTLS_SSL_IN_CONTENT_LEN)", what, host, (unsigned)port,
             (unsigned)MBEDTLS_SSL_IN_CONTENT_LEN);
    return;
  }
  shim_tls_log_failure(level, what, host, port, ret);
}

int shim_tls_random(void *ctx, unsigned char *out, size_t len) {
  (void)ctx;
  return port_random(out, len) == (int32_t)len ? 0 : MBEDTLS_ERR_ECP_RANDOM_FAILED;
}

#if defined(MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG)
/* PSA's random generator (MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG, psa/crypto_extra.h):
 * port_random, as for every other Mbed TLS call, instead of a second DRBG
 * and entropy context inside PSA. */
psa_status_t mbedtls_psa_external_get_random(mbedtls_psa_external_random_context_t *context,
                                             uint8_t *output, size_t output_size,
                                             size_t *output_length) {
  (void)context;
  *output_length = 0;
  if (port_random(output, output_size) != (int32_t)output_size) {
    return PSA_ERROR_INSUFFICIENT_ENTROPY;
  }
  *output_length = output_size;
  return PSA_SUCCESS;
}
#endif

int32_t shim_tls_init(void) {
#if MBEDTLS_VERSION_MAJOR >= 3 && defined(MBEDTLS_PSA_CRYPTO_C)
  /* TLS 1.3 in Mbed TLS 3.x always runs on PSA crypto, which must be
   * initialised first (docs/use-psa-crypto.md); done here, once, so a failure
   * is logged as such rather than as a failed handshake. A second call
   * returns at once (psa_crypto_init). */
  if (psa_crypto_init() != PSA_SUCCESS) {
    shim_log(SHIM_LOG_ERROR, "tls: psa_crypto_init failed");
    return SHIM_E_TLS;
  }
#endif
  return SHIM_OK;
}

#if defined(MBEDTLS_SSL_ALPN)
/* ALPN offer of a client (RFC 7301 section 3.1), most preferred first:
 * HTTP/2 ("h2", RFC 9113 section 3.2) lets the core carry all its requests
 * and watches on one connection, as kubelet does; "http/1.1" keeps a server
 * that prefers it on HTTP/1.1. Static: Mbed TLS keeps the pointer, not a
 * copy; not const, because mbedtls_ssl_conf_alpn_protocols takes char **. */
static const char *shim_tls_alpn_offer[] = {"h2", "http/1.1", NULL};
/* SHIM_NET_HTTP1: "http/1.1" alone, so the server cannot pick HTTP/2 for a
 * connection that needs an HTTP/1.1 Upgrade (k3s' agent tunnel). */
static const char *shim_tls_alpn_http1[] = {"http/1.1", NULL};
#endif

int shim_tls_conf_client(mbedtls_ssl_config *conf, mbedtls_x509_crt *ca, mbedtls_x509_crt *crt,
                         mbedtls_pk_context *key, uint32_t flags) {
  int ret = mbedtls_ssl_config_defaults(conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                        MBEDTLS_SSL_PRESET_DEFAULT);
  if (ret != 0) {
    return ret;
  }
#if defined(MBEDTLS_SSL_ALPN)
  ret = mbedtls_ssl_conf_alpn_protocols(
      conf, (flags & SHIM_NET_HTTP1) != 0 ? shim_tls_alpn_http1 : shim_tls_alpn_offer);
  if (ret != 0) {
    return ret;
  }
#else
  (void)flags;
#endif
  /* Never optional (DESIGN.md: server certificate always verified). */
  mbedtls_ssl_conf_authmode(conf, MBEDTLS_SSL_VERIFY_REQUIRED);
  mbedtls_ssl_conf_ca_chain(conf, ca, NULL);
  mbedtls_ssl_conf_rng(conf, shim_tls_random, NULL);
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
  /* Session tickets (RFC 5077), Mbed TLS's client default made explicit: the
   * API server closes watches every 30-60 min; a resumed session skips the
   * ~0.9 s ECDHE/ECDSA handshake on the device. */
  mbedtls_ssl_conf_session_tickets(conf, MBEDTLS_SSL_SESSION_TICKETS_ENABLED);
#endif
  if (crt != NULL && key != NULL) {
    ret = mbedtls_ssl_conf_own_cert(conf, crt, key);
  }
  return ret;
}

/* Certificate dates are judged by the device's own clock (port_wall_ms:
 * SNTP on the Pico, the OS clock moved by PICO_SIM_CLOCK_OFFSET_S in the
 * simulator), whatever clock the Mbed TLS build reads: the verdict of
 * x509_crt_verify on the dates is replaced by this one for every certificate
 * of the chain. No wall clock yet leaves Mbed TLS's verdict standing (the
 * device does not start a handshake before SNTP answers). */
static void shim_tls_check_dates(const mbedtls_x509_crt *crt, uint32_t *flags) {
  int64_t wall = (int64_t)port_wall_ms();
  if (wall == 0) {
    return;
  }
  *flags &= ~(uint32_t)(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE);
  if (wall < shim_identity_time_ms(&crt->valid_from)) {
    *flags |= MBEDTLS_X509_BADCERT_FUTURE;
  }
  if (wall >= shim_identity_time_ms(&crt->valid_to)) {
    *flags |= MBEDTLS_X509_BADCERT_EXPIRED;
  }
}

/* Every certificate of the chain: the dates; the leaf, when the server is an
 * IP literal: it must list the address as an iPAddress SAN (RFC 5280 section
 * 4.2.1.6; RFC 6125 section 1.7.2: never the CN). Mbed TLS 2.28 only matches
 * DNS names, so the check is done here for every version; a miss is reported
 * as a name mismatch. */
static int shim_tls_verify(const uint8_t *ip, size_t ip_len, const mbedtls_x509_crt *crt,
                           int depth, uint32_t *flags) {
  shim_tls_check_dates(crt, flags);
  if (ip_len != 0 && depth == 0 && !shim_identity_crt_has_ip(crt, ip, ip_len)) {
    *flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
  }
  return 0;
}

/* Verify callbacks with the address as context: one per address length, so
 * a connection needs to keep nothing but the address. */
static int shim_tls_verify_name(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags) {
  (void)ctx;
  return shim_tls_verify(NULL, 0, crt, depth, flags);
}

static int shim_tls_verify_ip4(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags) {
  return shim_tls_verify(ctx, 4, crt, depth, flags);
}

static int shim_tls_verify_ip6(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags) {
  return shim_tls_verify(ctx, 16, crt, depth, flags);
}

int32_t shim_tls_session_start(mbedtls_ssl_context *ssl, const mbedtls_ssl_config *conf,
                               const char *host, uint16_t port, const uint8_t *ip,
                               size_t ip_len) {
  int ret;
  mbedtls_ssl_init(ssl);
  ret = mbedtls_ssl_setup(ssl, conf);
  if (ret == 0) {
    /* A name: SNI and the name the certificate must match (RFC 6066 section
     * 3). An IP literal: no SNI (RFC 6066 section 3 forbids addresses
     * there), NULL says so explicitly (required from Mbed TLS 3.6.3 on); the
     * address is checked against the SAN instead. */
    ret = mbedtls_ssl_set_hostname(ssl, ip_len == 0 ? host : NULL);
  }
  if (ret == 0) {
    mbedtls_ssl_set_verify(ssl,
                           ip_len == 0   ? shim_tls_verify_name
                           : ip_len == 4 ? shim_tls_verify_ip4
                                         : shim_tls_verify_ip6,
                           (void *)ip);
  }
  if (ret != 0) {
    shim_tls_log_failure(SHIM_LOG_ERROR, "session setup for", host, port, ret);
    return ret == MBEDTLS_ERR_SSL_ALLOC_FAILED ? SHIM_E_NOMEM : SHIM_E_TLS;
  }
  return SHIM_OK;
}

/* Why the certificate was rejected: Mbed TLS's reasons joined on one line. */
#if SHIM_TLS_VERIFY_TEXT
static void shim_tls_verify_reason(uint32_t verify, char *out, size_t cap) {
  int n = mbedtls_x509_crt_verify_info(out, cap, "", verify);
  size_t i;
  for (i = 0; n > 0 && i < (size_t)n && out[i] != '\0'; i++) {
    if (out[i] == '\n') {
      out[i] = (out[i + 1] == '\0') ? '\0' : ';';
    }
  }
  if (n <= 0) {
    snprintf(out, cap, "unknown reason");
  }
}
#endif

/* Says what time the device thinks it is, as a UTC date, and which way the
 * dates fail (verify: MBEDTLS_X509_BADCERT_* flags; named here also where
 * SHIM_TLS_VERIFY_TEXT is off). */
static void shim_tls_log_clock(uint32_t verify) {
  const char *how = (verify & MBEDTLS_X509_BADCERT_EXPIRED) != 0
                        ? "the chain has expired at it"
                        : "the chain is valid only in its future";
  uint64_t wall = port_wall_ms();
  time_t secs = (time_t)(wall / 1000u);
  struct tm utc;
  if (wall == 0 || gmtime_r(&secs, &utc) == NULL) {
    shim_log(SHIM_LOG_ERROR, "tls: this device has no wall clock yet: is SNTP reachable?");
    return;
  }
  shim_log(SHIM_LOG_ERROR,
           "tls: the certificate dates do not hold at this device's clock "
           "(%04d-%02d-%02dT%02d:%02d:%02dZ): is the clock right? (%s)",
           utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
           how);
}

int32_t shim_tls_handshake(mbedtls_ssl_context *ssl, const char *host, uint16_t port,
                           int *want_write) {
  uint32_t verify;
  int ret = mbedtls_ssl_handshake(ssl);
  if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
    *want_write = ret == MBEDTLS_ERR_SSL_WANT_WRITE;
    return SHIM_E_AGAIN;
  }
  *want_write = 0;
  if (ret == 0) {
    shim_log(SHIM_LOG_DEBUG, "tls: %s:%u up, %s, %s", host, (unsigned)port,
             mbedtls_ssl_get_version(ssl), mbedtls_ssl_get_ciphersuite(ssl));
    return SHIM_OK;
  }
  verify = mbedtls_ssl_get_verify_result(ssl);
  if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED ||
      (verify != 0 && verify != (uint32_t)-1 && ret != MBEDTLS_ERR_SSL_CONN_EOF)) {
#if SHIM_TLS_VERIFY_TEXT
    char reason[SHIM_TLS_REASON_MAX];
    shim_tls_verify_reason(verify, reason, sizeof(reason));
    shim_log(SHIM_LOG_ERROR, "tls: %s:%u certificate rejected: %s", host, (unsigned)port, reason);
#else
    /* mbedtls/x509.h MBEDTLS_X509_BADCERT_*: 0x01 expired, 0x04 name
     * mismatch, 0x08 not trusted, 0x200 future. */
    shim_log(SHIM_LOG_ERROR, "tls: %s:%u certificate rejected: verify flags 0x%lx", host,
             (unsigned)port, (unsigned long)verify);
#endif
    /* mbedtls/x509.h: BADCERT_EXPIRED 0x01, BADCERT_FUTURE 0x200. A chain
     * the device's clock finds out of date is most often a wrong clock. */
    if ((verify & (MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE)) != 0) {
      shim_tls_log_clock(verify);
    }
    return SHIM_E_CERT;
  }
  shim_tls_log_read_failure(SHIM_LOG_ERROR, "handshake with", host, port, ret);
  return SHIM_E_TLS;
}

int32_t shim_tls_write(mbedtls_ssl_context *ssl, const uint8_t *buf, size_t len,
                       const char *host, uint16_t port, int *flush_pending) {
  int ret = mbedtls_ssl_write(ssl, buf, len);
  if (ret > 0) {
    return ret;
  }
  if (ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
    /* The record is encrypted and partly sent: the bytes are taken, as many
     * as one record carries. That is not MBEDTLS_SSL_OUT_CONTENT_LEN: under
     * TLS 1.3 the inner content type and padding granularity leave 2047 of
     * 2048 (Mbed TLS ssl_msg.c mbedtls_ssl_get_max_out_record_payload), and
     * counting 2048 dropped a byte of every record that filled lwIP's send
     * buffer (found on the hosted board, port/pico/hosted). */
    int max = mbedtls_ssl_get_max_out_record_payload(ssl);
    *flush_pending = 1;
    if (max <= 0) {
      shim_tls_log_failure(SHIM_LOG_WARN, "send to", host, port, max);
      return SHIM_E_IO;
    }
    return (int32_t)(len > (size_t)max ? (size_t)max : len);
  }
  if (ret == MBEDTLS_ERR_SSL_WANT_READ) {
    return SHIM_E_AGAIN;
  }
  shim_tls_log_failure(SHIM_LOG_WARN, "send to", host, port, ret);
  return SHIM_E_IO;
}

int32_t shim_tls_alpn_copy(const mbedtls_ssl_context *ssl, uint8_t *out, size_t cap) {
#if defined(MBEDTLS_SSL_ALPN)
  /* NULL when the server answered without ALPN; otherwise one of the offer's
   * strings (Mbed TLS fails the handshake on any other). */
  const char *proto = mbedtls_ssl_get_alpn_protocol(ssl);
  size_t len = proto != NULL ? strlen(proto) : 0u;
  if (len > cap) {
    return SHIM_E_TOOLARGE;
  }
  if (len != 0) {
    memcpy(out, proto, len);
  }
  return (int32_t)len;
#else
  (void)ssl;
  (void)out;
  (void)cap;
  return 0;
#endif
}

int32_t shim_tls_flush(mbedtls_ssl_context *ssl) {
  /* A zero-length write only flushes the record already encrypted
   * (Mbed TLS ssl_write_real: out_left != 0 -> flush). */
  int ret = mbedtls_ssl_write(ssl, NULL, 0);
  if (ret == MBEDTLS_ERR_SSL_WANT_WRITE || ret == MBEDTLS_ERR_SSL_WANT_READ) {
    return SHIM_E_AGAIN;
  }
  return ret < 0 ? SHIM_E_IO : SHIM_OK;
}

int32_t shim_tls_read(mbedtls_ssl_context *ssl, uint8_t *buf, size_t cap, const char *host,
                      uint16_t port) {
  int ret;
  for (;;) {
    ret = mbedtls_ssl_read(ssl, buf, cap);
    if (ret > 0) {
      return ret;
    }
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
      return SHIM_E_AGAIN;
    }
#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
    if (ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
      continue; /* TLS 1.3 ticket after the handshake: not application data */
    }
#endif
    break;
  }
  /* close_notify, or TCP EOF without it: both end the stream for the core. */
  if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || ret == MBEDTLS_ERR_SSL_CONN_EOF) {
    return SHIM_E_CLOSED;
  }
  shim_tls_log_read_failure(SHIM_LOG_WARN, "receive from", host, port, ret);
  return ret == MBEDTLS_ERR_NET_CONN_RESET ? SHIM_E_IO : SHIM_E_TLS;
}

/* ---- server side: the kubelet endpoint (issue 5) ---- */

int32_t shim_tls_serve_check(uint16_t port, int have_serving, int have_client_ca,
                             const char *client_ca_from) {
#if !defined(MBEDTLS_SSL_SRV_C)
  (void)have_serving;
  (void)have_client_ca;
  (void)client_ca_from;
  shim_log(SHIM_LOG_ERROR, "tls: this build's Mbed TLS has no TLS server (MBEDTLS_SSL_SRV_C): "
                           "cannot serve TLS on port %u", (unsigned)port);
  return SHIM_E_UNSUPPORTED;
#else
  if (!have_serving) {
    shim_log(SHIM_LOG_ERROR, "tls: no serving certificate is installed (key slot 1): cannot "
                             "serve TLS on port %u", (unsigned)port);
    return SHIM_E_UNSUPPORTED;
  }
  if (!have_client_ca) {
    shim_log(SHIM_LOG_ERROR, "tls: no client CA bundle is configured (%s): cannot verify "
                             "clients on port %u", client_ca_from, (unsigned)port);
    return SHIM_E_UNSUPPORTED;
  }
  return SHIM_OK;
#endif
}

int shim_tls_conf_server(mbedtls_ssl_config *conf, mbedtls_x509_crt *client_ca,
                         mbedtls_x509_crt *crt, mbedtls_pk_context *key) {
#if defined(MBEDTLS_SSL_SRV_C)
  int ret = mbedtls_ssl_config_defaults(conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                        MBEDTLS_SSL_PRESET_DEFAULT);
  if (ret != 0) {
    return ret;
  }
  /* Optional, as a kubelet asks (Go tls.VerifyClientCertIfGiven): a client
   * without a certificate may still present a bearer token; net_peer tells
   * the core whether a certificate verified. */
  mbedtls_ssl_conf_authmode(conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
  mbedtls_ssl_conf_ca_chain(conf, client_ca, NULL);
  mbedtls_ssl_conf_rng(conf, shim_tls_random, NULL);
#if defined(MBEDTLS_SSL_PROTO_TLS1_3) && MBEDTLS_VERSION_MAJOR >= 3
  /* TLS 1.3 is for the client (issue 7); the endpoint stays the TLS 1.2
   * server its tests cover, and its handshakes take no PSA key slots. */
  mbedtls_ssl_conf_max_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_2);
#endif
  return mbedtls_ssl_conf_own_cert(conf, crt, key);
#else
  (void)conf;
  (void)client_ca;
  (void)crt;
  (void)key;
  return MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE;
#endif
}

/* Appends one subject attribute value to the peer text, after a '\n' unless
 * it is the first. 0, or -1 when it cannot be carried (a string type other
 * than UTF8String, PrintableString or IA5String, a control character, which
 * would break the line format, or no room). */
static int shim_tls_peer_append(shim_tls_peer_t *peer, const mbedtls_x509_buf *val) {
  size_t i;
  size_t need = val->len + (peer->len != 0 ? 1u : 0u);
  if (val->tag != MBEDTLS_ASN1_UTF8_STRING && val->tag != MBEDTLS_ASN1_PRINTABLE_STRING &&
      val->tag != MBEDTLS_ASN1_IA5_STRING) {
    peer->why = "a subject string type other than UTF8String, PrintableString or IA5String";
    return -1;
  }
  for (i = 0; i < val->len; i++) {
    if (val->p[i] < 0x20 || val->p[i] == 0x7f) {
      peer->why = "a control character in the subject";
      return -1;
    }
  }
  if (need > sizeof(peer->text) - peer->len) {
    peer->why = "a subject longer than SHIM_NET_PEER_MAX";
    return -1;
  }
  if (peer->len != 0) {
    peer->text[peer->len++] = '\n';
  }
  memcpy(peer->text + peer->len, val->p, val->len);
  peer->len = (uint16_t)(peer->len + val->len);
  return 0;
}

/* Keeps the leaf's CN and Organizations while Mbed TLS verifies the chain:
 * builds without MBEDTLS_SSL_KEEP_PEER_CERTIFICATE drop the certificate
 * after the handshake. The text is only handed out when the
 * verify result is 0 (shim_tls_peer_settle). Kubernetes reads the user from
 * the CN and the groups from the Organizations (k8s.io/apiserver
 * pkg/authentication/request/x509 CommonNameUserConversion). */
static void shim_tls_peer_capture(shim_tls_peer_t *peer, const mbedtls_x509_crt *crt) {
  const mbedtls_x509_name *n;
  const mbedtls_x509_buf *cn = NULL;
  peer->state = SHIM_TLS_PEER_UNUSABLE;
  peer->len = 0;
  for (n = &crt->subject; n != NULL; n = n->next) {
    if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0) {
      if (cn != NULL) {
        peer->why = "more than one CommonName";
        return;
      }
      cn = &n->val;
    }
  }
  if (cn == NULL || cn->len == 0) {
    peer->why = "no CommonName (Kubernetes takes the user name from it)";
    return;
  }
  if (shim_tls_peer_append(peer, cn) != 0) {
    return;
  }
  for (n = &crt->subject; n != NULL; n = n->next) {
    if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_ORGANIZATION, &n->oid) == 0 &&
        shim_tls_peer_append(peer, &n->val) != 0) {
      return;
    }
  }
  peer->state = SHIM_TLS_PEER_SEEN;
}

/* Server side: dates by the device's clock for the whole chain, and the
 * leaf's subject kept for net_peer. */
static int shim_tls_verify_client(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags) {
  shim_tls_check_dates(crt, flags);
  if (depth == 0) {
    shim_tls_peer_capture(ctx, crt);
  }
  return 0;
}

int32_t shim_tls_session_accept(mbedtls_ssl_context *ssl, const mbedtls_ssl_config *conf,
                                shim_tls_peer_t *peer, const char *host, uint16_t port) {
  int ret;
  memset(peer, 0, sizeof(*peer));
  mbedtls_ssl_init(ssl);
  ret = mbedtls_ssl_setup(ssl, conf);
  if (ret != 0) {
    shim_tls_log_failure(SHIM_LOG_ERROR, "session setup for", host, port, ret);
    return ret == MBEDTLS_ERR_SSL_ALLOC_FAILED ? SHIM_E_NOMEM : SHIM_E_TLS;
  }
  mbedtls_ssl_set_verify(ssl, shim_tls_verify_client, peer);
  return SHIM_OK;
}

void shim_tls_peer_settle(mbedtls_ssl_context *ssl, shim_tls_peer_t *peer, const char *host,
                          uint16_t port) {
  uint32_t verify = mbedtls_ssl_get_verify_result(ssl);
  if (peer->state == SHIM_TLS_PEER_NONE) {
    shim_log(SHIM_LOG_DEBUG, "tls: client %s:%u sent no certificate", host, (unsigned)port);
  } else if (peer->state == SHIM_TLS_PEER_UNUSABLE) {
    shim_log(SHIM_LOG_DEBUG, "tls: client %s:%u certificate not used: %s", host, (unsigned)port,
             peer->why);
  } else if (verify != 0) {
#if SHIM_TLS_VERIFY_TEXT
    char reason[SHIM_TLS_REASON_MAX];
    shim_tls_verify_reason(verify, reason, sizeof(reason));
    shim_log(SHIM_LOG_DEBUG, "tls: client %s:%u certificate did not verify: %s", host,
             (unsigned)port, reason);
#else
    shim_log(SHIM_LOG_DEBUG, "tls: client %s:%u certificate did not verify: flags 0x%lx", host,
             (unsigned)port, (unsigned long)verify);
#endif
  } else {
    peer->state = SHIM_TLS_PEER_VERIFIED;
    return;
  }
  peer->state = SHIM_TLS_PEER_NONE;
  peer->len = 0;
}

int32_t shim_tls_peer_copy(const shim_tls_peer_t *peer, uint8_t *out, size_t cap) {
  if (peer->state != SHIM_TLS_PEER_VERIFIED) {
    return 0;
  }
  if (peer->len > cap) {
    return SHIM_E_TOOLARGE;
  }
  memcpy(out, peer->text, peer->len);
  return (int32_t)peer->len;
}

/* ---- server.ca_hash ---- */

int32_t shim_tls_ca_hash_check(const uint8_t *ca, size_t len, const char *what) {
  static const char prefix[] = "sha256:";
  const char *want = shim_config_lookup("server.ca_hash");
  unsigned char got[32];
  size_t i;

  if (want == NULL || want[0] == '\0') {
    return SHIM_OK;
  }
  if (strncmp(want, prefix, sizeof(prefix) - 1) != 0 || strlen(want) != sizeof(prefix) - 1 + 64) {
    shim_log(SHIM_LOG_ERROR, "config: server.ca_hash must be sha256:<64 hex digits>");
    return SHIM_E_CERT;
  }
  if (ca == NULL) {
    shim_log(SHIM_LOG_ERROR, "config: server.ca_hash is set but there is no CA bundle");
    return SHIM_E_CERT;
  }
#if MBEDTLS_VERSION_MAJOR >= 3
  (void)mbedtls_sha256(ca, len, got, 0);
#else
  (void)mbedtls_sha256_ret(ca, len, got, 0);
#endif
  want += sizeof(prefix) - 1;
  for (i = 0; i < 32; i++) {
    int hi = shim_identity_hex(want[2 * i]);
    int lo = shim_identity_hex(want[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      shim_log(SHIM_LOG_ERROR, "config: server.ca_hash must be sha256:<64 hex digits>");
      return SHIM_E_CERT;
    }
    if (got[i] != (unsigned char)(hi * 16 + lo)) {
      shim_log(SHIM_LOG_ERROR,
               "config: the CA bundle %s does not match server.ca_hash: refusing to connect "
               "(wrong CA file or a different server)", what);
      return SHIM_E_CERT;
    }
  }
  return SHIM_OK;
}
