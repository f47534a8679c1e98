/*
 * Pico port: the node's own identity (issue 6), the device side of
 * port/posix/identity.c with the same contract (port.h). Keys are ECDSA
 * P-256 from the chip's entropy (ROSC / pico_rand -> CTR_DRBG, platform.c),
 * kept as DER in the flash record store (store.h) and never copied out,
 * logged or sent. Certificate chains the cluster issued are checked (key,
 * subject, dates) before they are stored and used.
 *
 * A client certificate and key in the config region (FLASH_TLV_CERT_PEM /
 * FLASH_TLV_KEY_PEM: the operator's static identity) take precedence: then
 * net.c uses them and the stored identity is not loaded.
 *
 * Both slots (0: the client identity, 1: the kubelet serving certificate)
 * are double-buffered as in the simulator: an install builds the chain and
 * TLS configuration (slot 0: client, slot 1: the endpoint's server) in the
 * spare entry and switches to it; the previous one lives until the install
 * after next, so connections opened with it keep going. One staging buffer
 * serves both: the core fetches one certificate at a time.
 */
#include <stdio.h>
#include <string.h>

#include "mbedtls/base64.h"
#include "mbedtls/ecp.h"
#include "mbedtls/pk.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"
#include "mbedtls/x509_csr.h"

#include "port.h"
#include "port_pico.h"
#include "shim_identity.h"
#include "shim_tls.h"
#include "store.h"

/* DER of a P-256 key with its public point (SEC1, RFC 5915): 121 bytes;
 * room for the encoder, which writes from the end of the buffer. */
#define PORT_ID_KEY_DER_MAX 160
/* Subject text "CN=<cn>,O=<org>". */
#define PORT_ID_SUBJECT_MAX (2 * SHIM_CSR_NAME_MAX + 8)

typedef struct {
  mbedtls_x509_crt crt;
  mbedtls_ssl_config conf;
  mbedtls_ssl_config *conf_http1; /* client slot: its HTTP/1.1-only twin (the agent tunnel) */
  int live;
} port_id_cert_t;

static const uint32_t port_id_key_kind[SHIM_KEY_SLOTS] = {PORT_STORE_KEY_CLIENT,
                                                          PORT_STORE_KEY_SERVING};
static const uint32_t port_id_cert_kind[SHIM_KEY_SLOTS] = {PORT_STORE_CERT_CLIENT,
                                                           PORT_STORE_CERT_SERVING};
static mbedtls_pk_context port_id_keys[SHIM_KEY_SLOTS];
static int port_id_key_live[SHIM_KEY_SLOTS];
static port_id_cert_t port_id_certs[SHIM_KEY_SLOTS][2]; /* per slot, double-buffered */
static mbedtls_ssl_config port_id_conf_http1[2];         /* the client slot's twins */
static int port_id_current[SHIM_KEY_SLOTS] = {-1, -1};  /* index into its pair, -1 = none */
/* Staged certificate text; decoded in place (base64 shrinks) and given its
 * NUL, so one buffer serves staging, parsing and the flash write. */
static unsigned char port_id_stage[SHIM_CERT_STAGE_MAX + 1];
static size_t port_id_stage_len;
static uint32_t port_id_stage_slot; /* the slot the staged text is for */
/* Scratch for key DER (static: the main stack is small on the device). */
static unsigned char port_id_der[PORT_ID_KEY_DER_MAX];

/* ---- keys ---- */

static int32_t port_id_key_generate(uint32_t slot) {
  mbedtls_pk_context *key = &port_id_keys[slot];
  int ret;
  int32_t rc;

  mbedtls_pk_init(key);
  ret = mbedtls_pk_setup(key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
  if (ret == 0) {
    /* P-256: k3s' CAs are P-256 and RSA signing takes seconds on an M0+. */
    ret = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*key),
                              shim_tls_random, NULL);
  }
  if (ret == 0) {
    /* Writes at the end of the buffer; returns the length. */
    ret = mbedtls_pk_write_key_der(key, port_id_der, sizeof(port_id_der));
  }
  if (ret <= 0) {
    shim_log(SHIM_LOG_ERROR, "identity: key generation failed (-0x%04x)", (unsigned)-ret);
    mbedtls_pk_free(key);
    mbedtls_platform_zeroize(port_id_der, sizeof(port_id_der));
    return SHIM_E_IO;
  }
  rc = port_store_write(port_id_key_kind[slot], port_id_der + sizeof(port_id_der) - (size_t)ret,
                        (uint32_t)ret);
  mbedtls_platform_zeroize(port_id_der, sizeof(port_id_der));
  if (rc != SHIM_OK) {
    shim_log(SHIM_LOG_ERROR, "identity: cannot store the new key in flash");
    mbedtls_pk_free(key);
    return SHIM_E_IO;
  }
  port_id_key_live[slot] = 1;
  shim_log(SHIM_LOG_INFO, "identity: generated a new P-256 key (slot %lu)", (unsigned long)slot);
  return 1;
}

static int32_t port_id_key_load(uint32_t slot) {
  mbedtls_pk_context *key = &port_id_keys[slot];
  const uint8_t *der;
  uint32_t len;
  int ret;
  int32_t rc = port_store_read(port_id_key_kind[slot], &der, &len);
  if (rc != SHIM_OK) {
    return rc;
  }
  mbedtls_pk_init(key);
  ret = mbedtls_pk_parse_key(key, der, len, NULL, 0, shim_tls_random, NULL);
  if (ret == 0 && (mbedtls_pk_get_type(key) != MBEDTLS_PK_ECKEY ||
                   mbedtls_ecp_keypair_get_group_id(mbedtls_pk_ec(*key)) !=
                       MBEDTLS_ECP_DP_SECP256R1)) {
    ret = MBEDTLS_ERR_PK_KEY_INVALID_FORMAT;
  }
  if (ret != 0) {
    /* Its CRC matched, so this is what was written: never overwritten here
     * (reflash the storage region to start over). */
    shim_log(SHIM_LOG_ERROR, "identity: the stored key (slot %lu) is not a usable P-256 key "
                             "(-0x%04x)", (unsigned long)slot, (unsigned)-ret);
    mbedtls_pk_free(key);
    return SHIM_E_IO;
  }
  port_id_key_live[slot] = 1;
  return 0;
}

int32_t port_key_ensure(uint32_t slot) {
  int32_t rc;
  if (slot >= SHIM_KEY_SLOTS) {
    return SHIM_E_INVAL;
  }
  if (port_id_key_live[slot]) {
    return 0;
  }
  rc = port_id_key_load(slot);
  if (rc == SHIM_E_NOTFOUND) {
    /* No valid copy: none was written, or the first write was cut short. */
    rc = port_id_key_generate(slot);
  }
  return rc;
}

/* ---- CSR ---- */

int32_t port_csr_create(uint32_t slot, const char *cn, const char *org, uint8_t *out, size_t cap) {
  mbedtls_x509write_csr csr;
  char subject[PORT_ID_SUBJECT_MAX];
  int ret;

  if (slot >= SHIM_KEY_SLOTS || cn == NULL || org == NULL || out == NULL) {
    return SHIM_E_INVAL;
  }
  if (!port_id_key_live[slot] || !shim_identity_dn_safe(cn) || !shim_identity_dn_safe(org) ||
      strlen(cn) > SHIM_CSR_NAME_MAX || strlen(org) > SHIM_CSR_NAME_MAX) {
    return SHIM_E_INVAL;
  }
  snprintf(subject, sizeof(subject), "CN=%s,O=%s", cn, org);
  mbedtls_x509write_csr_init(&csr);
  mbedtls_x509write_csr_set_md_alg(&csr, MBEDTLS_MD_SHA256);
  mbedtls_x509write_csr_set_key(&csr, &port_id_keys[slot]);
  ret = mbedtls_x509write_csr_set_subject_name(&csr, subject);
  if (ret != 0 ||
      (slot == SHIM_KEY_SLOT_SERVING && shim_identity_csr_add_sans(&csr) != SHIM_OK)) {
    mbedtls_x509write_csr_free(&csr);
    return SHIM_E_INVAL;
  }
  /* Straight into out: the DER is written at its end and turned into PEM
   * in place (x509write_csr_pem), NUL-terminated. */
  ret = mbedtls_x509write_csr_pem(&csr, out, cap, shim_tls_random, NULL);
  mbedtls_x509write_csr_free(&csr);
  if (ret == MBEDTLS_ERR_ASN1_BUF_TOO_SMALL || ret == MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL) {
    return SHIM_E_TOOLARGE;
  }
  if (ret != 0) {
    shim_log(SHIM_LOG_ERROR, "identity: CSR failed (-0x%04x)", (unsigned)-ret);
    return SHIM_E_INVAL;
  }
  return (int32_t)strlen((const char *)out);
}

/* ---- certificates ---- */

int32_t port_cert_stage(uint32_t slot, const uint8_t *buf, size_t len) {
  if (slot >= SHIM_KEY_SLOTS) {
    return SHIM_E_INVAL;
  }
  if (len == 0 || slot != port_id_stage_slot) {
    port_id_stage_len = 0; /* a new certificate (or another slot's): start over */
    port_id_stage_slot = slot;
    if (len == 0) {
      return 0;
    }
  }
  if (buf == NULL || len > SHIM_CERT_STAGE_MAX - port_id_stage_len) {
    return SHIM_E_TOOLARGE;
  }
  memcpy(port_id_stage + port_id_stage_len, buf, len);
  port_id_stage_len += len;
  return (int32_t)port_id_stage_len;
}

static int port_id_b64(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

/* Base64 (RFC 4648 section 4) decoded in place: every 4 characters read give
 * at most 3 bytes written, so the output never overtakes the input. Line
 * breaks and spaces are skipped; '=' ends it. Returns the length or -1. */
static int32_t port_id_b64_inplace(unsigned char *p, size_t len) {
  size_t in;
  size_t out = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (in = 0; in < len; in++) {
    int v;
    if (p[in] == '\r' || p[in] == '\n' || p[in] == ' ' || p[in] == '\t') {
      continue;
    }
    if (p[in] == '=') {
      break;
    }
    v = port_id_b64(p[in]);
    if (v < 0) {
      return -1;
    }
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      p[out++] = (unsigned char)(acc >> bits);
    }
  }
  return (int32_t)out;
}

/* Turns the staged text (PEM, or base64 of PEM) into NUL-terminated PEM in
 * place. Returns its length with the NUL (as Mbed TLS wants) or
 * SHIM_E_INVAL. */
static int32_t port_id_staged_pem(void) {
  static const char begin[] = "-----BEGIN ";
  int32_t n;
  if (port_id_stage_len == 0) {
    return SHIM_E_INVAL;
  }
  if (port_id_stage_len >= sizeof(begin) - 1 &&
      memcmp(port_id_stage, begin, sizeof(begin) - 1) == 0) {
    n = (int32_t)port_id_stage_len;
  } else {
    n = port_id_b64_inplace(port_id_stage, port_id_stage_len);
    if (n < (int32_t)sizeof(begin) - 1 || memcmp(port_id_stage, begin, sizeof(begin) - 1) != 0) {
      return SHIM_E_INVAL;
    }
  }
  port_id_stage[n] = '\0';
  return n + 1;
}

static void port_id_twin_free(port_id_cert_t *e) {
  if (e->conf_http1 != NULL) {
    mbedtls_ssl_config_free(e->conf_http1);
    e->conf_http1 = NULL;
  }
}

static void port_id_cert_free(port_id_cert_t *e) {
  if (e->live) {
    mbedtls_ssl_config_free(&e->conf);
  }
  port_id_twin_free(e);
  mbedtls_x509_crt_free(&e->crt);
  e->live = 0;
}

/* Makes the slot's entry index its TLS configuration (slot 0: the
 * client's, slot 1: the kubelet endpoint's server); on success it becomes
 * the slot's current one. */
static int32_t port_id_activate(uint32_t slot, int index) {
  port_id_cert_t *e = &port_id_certs[slot][index];
  int ret;
  mbedtls_ssl_config_init(&e->conf);
  ret = slot == SHIM_KEY_SLOT_SERVING
            ? port_pico_server_conf(&e->conf, &e->crt, &port_id_keys[slot])
            : port_pico_client_conf(&e->conf, &e->crt, &port_id_keys[slot], 0u);
  if (ret == 0 && slot == SHIM_KEY_SLOT_CLIENT) {
    e->conf_http1 = &port_id_conf_http1[index];
    mbedtls_ssl_config_init(e->conf_http1);
    ret = port_pico_client_conf(e->conf_http1, &e->crt, &port_id_keys[slot], SHIM_NET_HTTP1);
  }
  if (ret != 0) {
    shim_log(SHIM_LOG_ERROR, "identity: TLS configuration with the certificate failed (slot %lu)",
             (unsigned long)slot);
    mbedtls_ssl_config_free(&e->conf);
    port_id_twin_free(e);
    return SHIM_E_TLS;
  }
  e->live = 1;
  port_id_current[slot] = index;
  return SHIM_OK;
}

int32_t port_cert_install(uint32_t slot) {
  int spare;
  port_id_cert_t *e;
  int32_t len;
  int32_t rc;

  if (slot >= SHIM_KEY_SLOTS) {
    return SHIM_E_INVAL;
  }
  spare = port_id_current[slot] == 0 ? 1 : 0;
  e = &port_id_certs[slot][spare];
  if (!port_id_key_live[slot] || port_id_stage_slot != slot) {
    return SHIM_E_INVAL;
  }
  len = port_id_staged_pem();
  port_id_stage_len = 0;
  if (len < 0) {
    shim_log(SHIM_LOG_ERROR, "identity: the issued certificate is neither PEM nor base64 PEM");
    return len;
  }
  port_id_cert_free(e); /* the one before the current: its connections are gone */
  rc = shim_identity_parse(&e->crt, port_id_stage, (size_t)len, &port_id_keys[slot]);
  if (rc == SHIM_OK) {
    rc = shim_identity_check_issued(&e->crt);
  }
  if (rc == SHIM_OK && slot == SHIM_KEY_SLOT_SERVING) {
    rc = shim_identity_check_serving(&e->crt);
  }
  if (rc == SHIM_OK &&
      port_store_write(port_id_cert_kind[slot], port_id_stage, (uint32_t)len) != SHIM_OK) {
    shim_log(SHIM_LOG_ERROR, "identity: cannot store the certificate in flash");
    rc = SHIM_E_IO;
  }
  if (rc == SHIM_OK) {
    rc = port_id_activate(slot, spare);
  }
  if (rc != SHIM_OK) {
    port_id_cert_free(e);
    return rc;
  }
  shim_identity_log_installed(slot, &e->crt);
  return SHIM_OK;
}

int32_t port_cert_info(uint32_t slot, int64_t *not_before_ms, int64_t *not_after_ms) {
  const mbedtls_x509_crt *crt = NULL;
  int32_t source = SHIM_CERT_SOURCE_STATIC;
  if (slot >= SHIM_KEY_SLOTS || not_before_ms == NULL || not_after_ms == NULL) {
    return SHIM_E_NOTFOUND;
  }
  if (slot == SHIM_KEY_SLOT_CLIENT) {
    crt = port_pico_static_cert(); /* the operator's static identity wins */
  }
  if (crt == NULL && port_id_current[slot] >= 0) {
    crt = &port_id_certs[slot][port_id_current[slot]].crt;
    source = SHIM_CERT_SOURCE_NODE;
  }
  if (crt == NULL) {
    return SHIM_E_NOTFOUND;
  }
  *not_before_ms = shim_identity_time_ms(&crt->valid_from);
  *not_after_ms = shim_identity_time_ms(&crt->valid_to);
  return source;
}

mbedtls_ssl_config *port_pico_identity_conf(int http1) {
  int i = port_id_current[SHIM_KEY_SLOT_CLIENT];
  if (i < 0) {
    return NULL;
  }
  return http1 ? port_id_certs[SHIM_KEY_SLOT_CLIENT][i].conf_http1
               : &port_id_certs[SHIM_KEY_SLOT_CLIENT][i].conf;
}

mbedtls_ssl_config *port_pico_serving_conf(void) {
  int i = port_id_current[SHIM_KEY_SLOT_SERVING];
  return i >= 0 ? &port_id_certs[SHIM_KEY_SLOT_SERVING][i].conf : NULL;
}

/* Loads the slot's stored key and certificate, when both are there and
 * belong together, as its current entry. */
static int32_t port_id_load_slot(uint32_t slot) {
  port_id_cert_t *e = &port_id_certs[slot][0];
  const uint8_t *pem;
  uint32_t len;
  int32_t rc = port_id_key_load(slot);
  if (rc == SHIM_E_NOTFOUND) {
    return SHIM_OK; /* first boot: the core asks for a key when it needs one */
  }
  if (rc != SHIM_OK) {
    return rc;
  }
  if (port_store_read(port_id_cert_kind[slot], &pem, &len) != SHIM_OK) {
    return SHIM_OK;
  }
  if (len == 0 || pem[len - 1] != '\0' ||
      shim_identity_parse(&e->crt, pem, len, &port_id_keys[slot]) != SHIM_OK) {
    /* Kept in flash; the node asks for a new one with a CSR. */
    shim_log(SHIM_LOG_WARN, "identity: the stored certificate (slot %lu) is not for this node's "
                            "key; ignoring it", (unsigned long)slot);
    mbedtls_x509_crt_free(&e->crt);
    return SHIM_OK;
  }
  /* Expired or not: the core reads the dates (cert_info) and decides. */
  return port_id_activate(slot, 0);
}

int32_t port_pico_identity_load(void) {
  int32_t rc = SHIM_OK;
  /* An operator-provisioned client identity: the stored one is not used. */
  if (port_pico_static_cert() == NULL) {
    rc = port_id_load_slot(SHIM_KEY_SLOT_CLIENT);
  }
  if (rc == SHIM_OK && port_pico_kubelet_ready()) {
    rc = port_id_load_slot(SHIM_KEY_SLOT_SERVING);
  }
  return rc;
}
