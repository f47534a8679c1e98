/*
 * POSIX port: the node's own identity (issue 6). Keys are ECDSA P-256 made
 * from the OS entropy (through the port's CTR_DRBG), kept in the state
 * directory with mode 0600, and never copied out, logged or sent: the core
 * only asks for a CSR and hands back the certificate the cluster issued.
 *
 * State directory: config key state.dir, default "<node.name>.state" beside
 * the config file. Files: client-key.pem, client.pem (slot 0: the client
 * identity) and serving-key.pem, serving.pem (slot 1: the kubelet serving
 * identity). Every write is temp file + fsync + rename, so a crash leaves
 * the old file or the new one, never half of one.
 *
 * Each slot's certificates are double-buffered: installing builds the new
 * chain and TLS configurations (slot 0: the client's two, one per ALPN
 * offer, SHIM_NET_HTTP1; slot 1: the server's) in the spare buffer and
 * switches to it; the previous one stays alive until the install after
 * next, so connections opened with it keep going (the core reconnects after
 * an install); the few still open then are ended (port_posix_conf_retire)
 * before their configurations are freed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <mbedtls/base64.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>

#include "port.h"
#include "port_posix.h"
#include "port_posix_tls.h"
#include "shim_identity.h"
#include "shim_tls.h"

/* A PEM private key (P-256: ~230 bytes) or a PEM chain read back. */
#define PORT_ID_FILE_MAX 16384
/* DER-to-PEM room for a P-256 key (SEC1 ~121 bytes DER). */
#define PORT_ID_KEY_PEM_MAX 1024
/* Subject text "CN=<cn>,O=<org>". */
#define PORT_ID_SUBJECT_MAX (2 * SHIM_CSR_NAME_MAX + 8)
/* A path in the state directory. */
#define PORT_ID_PATH_MAX PORT_POSIX_PATH_MAX

static const char *const port_id_key_files[SHIM_KEY_SLOTS] = {"client-key.pem",
                                                              "serving-key.pem"};
static const char *const port_id_cert_files[SHIM_KEY_SLOTS] = {"client.pem", "serving.pem"};

/* Mbed TLS keeps the ALPN offer in the configuration, not the session:
 * conf[0] offers "h2", "http/1.1"; conf[1] (slot 0 only) the same with
 * "http/1.1" alone, for SHIM_NET_HTTP1 connections. */
typedef struct {
  mbedtls_x509_crt crt;
  mbedtls_ssl_config conf[2];
  int live; /* how many of conf are set up (slot 0: 2, slot 1: 1) */
} port_id_cert_t;

/* One slot's certificates (double-buffered) and its staging buffer. */
typedef struct {
  port_id_cert_t certs[2];
  port_id_cert_t *current; /* one of certs, NULL = none */
  unsigned char stage[SHIM_CERT_STAGE_MAX];
  size_t stage_len;
} port_id_slot_t;

static mbedtls_pk_context port_id_keys[SHIM_KEY_SLOTS];
static int port_id_key_live[SHIM_KEY_SLOTS];
static port_id_slot_t port_id_slots[SHIM_KEY_SLOTS];
static unsigned char port_id_buf[PORT_ID_FILE_MAX + 1];

/* ---- state directory and files ---- */

static int32_t port_id_dir(char *out, size_t cap) {
  const char *dir = shim_config_lookup("state.dir");
  const char *name = shim_config_lookup("node.name");
  char rel[SHIM_CONFIG_MAX_VALUE + 16];
  if (dir == NULL || dir[0] == '\0') {
    if (name == NULL || name[0] == '\0' || strchr(name, '/') != NULL) {
      shim_log(SHIM_LOG_ERROR, "identity: set node.name (or state.dir) to keep the node's key");
      return SHIM_E_INVAL;
    }
    snprintf(rel, sizeof(rel), "%s.state", name);
    dir = rel;
  }
  return port_posix_config_path(dir, out, cap);
}

static int32_t port_id_path(const char *file, char *out, size_t cap) {
  char dir[PORT_ID_PATH_MAX];
  int n;
  int32_t rc = port_id_dir(dir, sizeof(dir));
  if (rc != SHIM_OK) {
    return rc;
  }
  n = snprintf(out, cap, "%s/%s", dir, file);
  return (n < 0 || (size_t)n >= cap) ? SHIM_E_TOOLARGE : SHIM_OK;
}

/* Reads a whole file into port_id_buf, NUL-terminated. Returns its length
 * (without the NUL), SHIM_E_NOTFOUND when absent, SHIM_E_IO otherwise. */
static int32_t port_id_read(const char *path) {
  FILE *f = fopen(path, "rb");
  size_t n;
  if (f == NULL) {
    if (errno == ENOENT) {
      return SHIM_E_NOTFOUND;
    }
    shim_log(SHIM_LOG_ERROR, "identity: cannot open %s: %s", path, strerror(errno));
    return SHIM_E_IO;
  }
  n = fread(port_id_buf, 1, PORT_ID_FILE_MAX + 1, f);
  if (ferror(f) || n > PORT_ID_FILE_MAX) {
    shim_log(SHIM_LOG_ERROR, "identity: cannot read %s: %s", path,
             ferror(f) ? strerror(errno) : "too large");
    fclose(f);
    return SHIM_E_IO;
  }
  fclose(f);
  port_id_buf[n] = '\0';
  return (int32_t)n;
}

/* Writes data to path atomically (port_posix_write_file) in the state
 * directory, which is made on first use. */
static int32_t port_id_write(const char *path, const unsigned char *data, size_t len, mode_t mode) {
  char dir[PORT_ID_PATH_MAX];
  if (port_id_dir(dir, sizeof(dir)) != SHIM_OK) {
    return SHIM_E_IO;
  }
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
    shim_log(SHIM_LOG_ERROR, "identity: cannot create state directory %s: %s", dir,
             strerror(errno));
    return SHIM_E_IO;
  }
  return port_posix_write_file("identity", path, data, len, mode);
}

/* ---- keys ---- */

static int32_t port_id_key_generate(uint32_t slot, const char *path) {
  mbedtls_pk_context *key = &port_id_keys[slot];
  unsigned char pem[PORT_ID_KEY_PEM_MAX];
  char reason[SHIM_TLS_REASON_MAX];
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
    ret = mbedtls_pk_write_key_pem(key, pem, sizeof(pem));
  }
  if (ret != 0) {
    shim_tls_strerror(ret, reason, sizeof(reason));
    shim_log(SHIM_LOG_ERROR, "identity: key generation failed: %s", reason);
    mbedtls_pk_free(key);
    return SHIM_E_IO;
  }
  rc = port_id_write(path, pem, strlen((const char *)pem), 0600);
  mbedtls_platform_zeroize(pem, sizeof(pem));
  if (rc != SHIM_OK) {
    mbedtls_pk_free(key);
    return rc;
  }
  port_id_key_live[slot] = 1;
  shim_log(SHIM_LOG_INFO, "identity: generated a new P-256 key (slot %lu)", (unsigned long)slot);
  return 1;
}

/* The curve of an EC key: Mbed TLS 3.x made the group private and gives an
 * accessor (3.5+); 2.28 has only the field. */
static mbedtls_ecp_group_id port_id_key_group(mbedtls_pk_context *key) {
#if MBEDTLS_VERSION_MAJOR >= 3
  return mbedtls_ecp_keypair_get_group_id(mbedtls_pk_ec(*key));
#else
  return mbedtls_pk_ec(*key)->grp.id;
#endif
}

static int32_t port_id_key_load(uint32_t slot, const char *path) {
  mbedtls_pk_context *key = &port_id_keys[slot];
  char reason[SHIM_TLS_REASON_MAX];
  int32_t n = port_id_read(path);
  int ret;
  if (n < 0) {
    return n;
  }
  mbedtls_pk_init(key);
#if MBEDTLS_VERSION_MAJOR >= 3
  ret = mbedtls_pk_parse_key(key, port_id_buf, (size_t)n + 1, NULL, 0, shim_tls_random, NULL);
#else
  ret = mbedtls_pk_parse_key(key, port_id_buf, (size_t)n + 1, NULL, 0);
#endif
  mbedtls_platform_zeroize(port_id_buf, sizeof(port_id_buf));
  if (ret == 0 && (mbedtls_pk_get_type(key) != MBEDTLS_PK_ECKEY ||
                   port_id_key_group(key) != MBEDTLS_ECP_DP_SECP256R1)) {
    ret = MBEDTLS_ERR_PK_KEY_INVALID_FORMAT;
  }
  if (ret != 0) {
    shim_tls_strerror(ret, reason, sizeof(reason));
    /* Never overwrite it: an operator may still want what it holds. */
    shim_log(SHIM_LOG_ERROR,
             "identity: %s is not a usable P-256 key (%s); move it away to make a new one", path,
             reason);
    mbedtls_pk_free(key);
    return SHIM_E_IO;
  }
  port_id_key_live[slot] = 1;
  return 0;
}

int32_t port_key_ensure(uint32_t slot) {
  char path[PORT_ID_PATH_MAX];
  int32_t rc;
  if (slot >= SHIM_KEY_SLOTS) {
    return SHIM_E_INVAL;
  }
  if (port_id_key_live[slot]) {
    return 0;
  }
  rc = port_id_path(port_id_key_files[slot], path, sizeof(path));
  if (rc != SHIM_OK) {
    return SHIM_E_IO;
  }
  rc = port_id_key_load(slot, path);
  if (rc == SHIM_E_NOTFOUND) {
    rc = port_id_key_generate(slot, path);
  }
  return rc;
}

/* ---- CSR ---- */

int32_t port_csr_create(uint32_t slot, const char *cn, const char *org, uint8_t *out, size_t cap) {
  mbedtls_x509write_csr csr;
  char subject[PORT_ID_SUBJECT_MAX];
  unsigned char pem[4096];
  char reason[SHIM_TLS_REASON_MAX];
  size_t len;
  int ret;

  if (slot >= SHIM_KEY_SLOTS || cn == NULL || org == NULL || out == NULL) {
    return SHIM_E_INVAL;
  }
  if (!port_id_key_live[slot] || !shim_identity_dn_safe(cn) || !shim_identity_dn_safe(org)) {
    return SHIM_E_INVAL;
  }
  snprintf(subject, sizeof(subject), "CN=%s,O=%s", cn, org);
  mbedtls_x509write_csr_init(&csr);
  mbedtls_x509write_csr_set_md_alg(&csr, MBEDTLS_MD_SHA256);
  mbedtls_x509write_csr_set_key(&csr, &port_id_keys[slot]);
  ret = mbedtls_x509write_csr_set_subject_name(&csr, subject);
  if (ret == 0 && slot == SHIM_KEY_SLOT_SERVING && shim_identity_csr_add_sans(&csr) != SHIM_OK) {
    mbedtls_x509write_csr_free(&csr);
    return SHIM_E_INVAL; /* logged */
  }
  if (ret == 0) {
    ret = mbedtls_x509write_csr_pem(&csr, pem, sizeof(pem), shim_tls_random, NULL);
  }
  mbedtls_x509write_csr_free(&csr);
  if (ret != 0) {
    shim_tls_strerror(ret, reason, sizeof(reason));
    shim_log(SHIM_LOG_ERROR, "identity: CSR failed: %s", reason);
    return SHIM_E_INVAL;
  }
  len = strlen((const char *)pem);
  if (len > cap) {
    return SHIM_E_TOOLARGE;
  }
  memcpy(out, pem, len);
  return (int32_t)len;
}

/* ---- certificates ---- */

int32_t port_cert_stage(uint32_t slot, const uint8_t *buf, size_t len) {
  port_id_slot_t *s;
  if (slot >= SHIM_KEY_SLOTS) {
    return SHIM_E_INVAL;
  }
  s = &port_id_slots[slot];
  if (len == 0) {
    s->stage_len = 0;
    return 0;
  }
  if (buf == NULL || len > sizeof(s->stage) - s->stage_len) {
    return SHIM_E_TOOLARGE;
  }
  memcpy(s->stage + s->stage_len, buf, len);
  s->stage_len += len;
  return (int32_t)s->stage_len;
}

/* Decodes the slot's staged text (PEM, or base64 of PEM) into port_id_buf
 * with its NUL counted, as Mbed TLS wants. Returns the length or
 * SHIM_E_INVAL. */
static int32_t port_id_staged_pem(const port_id_slot_t *s) {
  size_t olen = 0;
  static const char begin[] = "-----BEGIN ";
  if (s->stage_len == 0) {
    return SHIM_E_INVAL;
  }
  if (s->stage_len >= sizeof(begin) - 1 && memcmp(s->stage, begin, sizeof(begin) - 1) == 0) {
    if (s->stage_len > PORT_ID_FILE_MAX) {
      return SHIM_E_TOOLARGE;
    }
    memcpy(port_id_buf, s->stage, s->stage_len);
    olen = s->stage_len;
  } else if (mbedtls_base64_decode(port_id_buf, PORT_ID_FILE_MAX, &olen, s->stage,
                                   s->stage_len) != 0) {
    return SHIM_E_INVAL;
  }
  port_id_buf[olen] = '\0';
  return (int32_t)olen + 1;
}

/* Parses a chain in port_id_buf (len with NUL) for the slot into e->crt and
 * checks it is this node's: key, subject, dates, and for the serving slot
 * node.ip among its SANs. SHIM_OK or SHIM_E_CERT / SHIM_E_INVAL with the
 * reason logged. */
static int32_t port_id_check(uint32_t slot, port_id_cert_t *e, size_t len) {
  int32_t rc = shim_identity_parse(&e->crt, port_id_buf, len, &port_id_keys[slot]);
  if (rc == SHIM_OK) {
    rc = shim_identity_check_issued(&e->crt);
  }
  if (rc == SHIM_OK && slot == SHIM_KEY_SLOT_SERVING) {
    rc = shim_identity_check_serving(&e->crt);
  }
  return rc;
}

static void port_id_cert_free(port_id_cert_t *e) {
  int i;
  for (i = 0; i < e->live; i++) {
    port_posix_conf_retire(&e->conf[i]);
    mbedtls_ssl_config_free(&e->conf[i]);
  }
  mbedtls_x509_crt_free(&e->crt);
  e->live = 0;
}

/* Makes e's TLS configurations (slot 0: the client's, both ALPN offers;
 * slot 1: the kubelet endpoint's server); on success e becomes the slot's
 * current one. */
static int32_t port_id_activate(uint32_t slot, port_id_cert_t *e) {
  int ret;
  int n = slot == SHIM_KEY_SLOT_SERVING ? 1 : 2;
  int i;
  for (i = 0; i < n; i++) {
    mbedtls_ssl_config_init(&e->conf[i]);
  }
  ret = slot == SHIM_KEY_SLOT_SERVING
            ? port_posix_server_conf(&e->conf[0], &e->crt, &port_id_keys[slot])
            : port_posix_client_conf(&e->conf[0], &e->crt, &port_id_keys[slot], 0);
  if (ret == 0 && n == 2) {
    ret = port_posix_client_conf(&e->conf[1], &e->crt, &port_id_keys[slot], SHIM_NET_HTTP1);
  }
  if (ret == MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE && slot == SHIM_KEY_SLOT_SERVING) {
    /* Kept and reported by cert_info; net_listen says what is missing. */
    shim_log(SHIM_LOG_WARN, "identity: serving certificate kept, but this build's Mbed TLS has "
                            "no TLS server (MBEDTLS_SSL_SRV_C)");
    mbedtls_ssl_config_free(&e->conf[0]);
    port_id_slots[slot].current = e;
    return SHIM_OK;
  }
  if (ret != 0) {
    shim_log(SHIM_LOG_ERROR, "identity: TLS configuration with the new certificate failed");
    for (i = 0; i < n; i++) {
      mbedtls_ssl_config_free(&e->conf[i]);
    }
    return SHIM_E_TLS;
  }
  e->live = n;
  port_id_slots[slot].current = e;
  return SHIM_OK;
}

int32_t port_cert_install(uint32_t slot) {
  char path[PORT_ID_PATH_MAX];
  port_id_slot_t *s;
  port_id_cert_t *e;
  int32_t len;
  int32_t rc;

  if (slot >= SHIM_KEY_SLOTS) {
    return SHIM_E_INVAL;
  }
  s = &port_id_slots[slot];
  e = s->current == &s->certs[0] ? &s->certs[1] : &s->certs[0];
  if (!port_id_key_live[slot]) {
    return SHIM_E_INVAL;
  }
  len = port_id_staged_pem(s);
  s->stage_len = 0;
  if (len < 0) {
    shim_log(SHIM_LOG_ERROR, "identity: the issued certificate is neither PEM nor base64 PEM");
    return len;
  }
  port_id_cert_free(e); /* the one before the current: its connections are gone */
  rc = port_id_check(slot, e, (size_t)len);
  if (rc == SHIM_OK) {
    rc = port_id_path(port_id_cert_files[slot], path, sizeof(path));
  }
  if (rc == SHIM_OK) {
    rc = port_id_write(path, port_id_buf, (size_t)len - 1, 0644);
  }
  if (rc == SHIM_OK) {
    rc = port_id_activate(slot, e);
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
  int32_t source = SHIM_CERT_SOURCE_NODE;
  if (slot >= SHIM_KEY_SLOTS || not_before_ms == NULL || not_after_ms == NULL) {
    return SHIM_E_NOTFOUND;
  }
  if (slot == SHIM_KEY_SLOT_CLIENT) {
    crt = port_posix_static_cert();
    source = SHIM_CERT_SOURCE_STATIC;
  }
  if (crt == NULL && port_id_slots[slot].current != NULL) {
    crt = &port_id_slots[slot].current->crt;
    source = SHIM_CERT_SOURCE_NODE;
  }
  if (crt == NULL) {
    return SHIM_E_NOTFOUND;
  }
  *not_before_ms = shim_identity_time_ms(&crt->valid_from);
  *not_after_ms = shim_identity_time_ms(&crt->valid_to);
  return source;
}

/* The slot's current configuration number i, or NULL. */
static mbedtls_ssl_config *port_id_conf(uint32_t slot, int i) {
  port_id_cert_t *e = port_id_slots[slot].current;
  return e != NULL && e->live > i ? &e->conf[i] : NULL;
}

mbedtls_ssl_config *port_posix_identity_conf(uint32_t flags) {
  return port_id_conf(SHIM_KEY_SLOT_CLIENT, (flags & SHIM_NET_HTTP1) != 0 ? 1 : 0);
}

mbedtls_ssl_config *port_posix_serving_conf(void) {
  return port_id_conf(SHIM_KEY_SLOT_SERVING, 0);
}

/* ---- startup ---- */

/* Loads one slot's key and, when it matches, its certificate; a serving
 * certificate only when it still lists node.ip (the core asks for a new one
 * otherwise). A missing key or certificate is not an error. */
static int32_t port_id_load_slot(uint32_t slot) {
  char path[PORT_ID_PATH_MAX];
  port_id_cert_t *e = &port_id_slots[slot].certs[0];
  int32_t n;
  int32_t rc;

  rc = port_id_path(port_id_key_files[slot], path, sizeof(path));
  if (rc != SHIM_OK) {
    return SHIM_E_IO;
  }
  rc = port_id_key_load(slot, path);
  if (rc == SHIM_E_NOTFOUND) {
    return SHIM_OK; /* first boot: the core asks for a key when it needs one */
  }
  if (rc != SHIM_OK) {
    return rc;
  }
  if (port_id_path(port_id_cert_files[slot], path, sizeof(path)) != SHIM_OK) {
    return SHIM_E_IO;
  }
  n = port_id_read(path);
  if (n == SHIM_E_NOTFOUND) {
    return SHIM_OK;
  }
  if (n < 0) {
    return n;
  }
  if (shim_identity_parse(&e->crt, port_id_buf, (size_t)n + 1, &port_id_keys[slot]) != SHIM_OK) {
    /* Kept on disk for inspection; the node joins again with its token. */
    shim_log(SHIM_LOG_WARN, "identity: %s does not hold a certificate for this node's key; "
                            "ignoring it", path);
    mbedtls_x509_crt_free(&e->crt);
    return SHIM_OK;
  }
  if (slot == SHIM_KEY_SLOT_SERVING && shim_identity_check_serving(&e->crt) != SHIM_OK) {
    shim_log(SHIM_LOG_WARN, "identity: ignoring %s: node.ip changed since it was issued", path);
    mbedtls_x509_crt_free(&e->crt);
    return SHIM_OK;
  }
  /* Expired or not: the core reads the dates (cert_info) and decides. */
  return port_id_activate(slot, e);
}

int32_t port_posix_identity_load(void) {
  int32_t rc = SHIM_OK;
  if (shim_config_lookup("node.name") == NULL && shim_config_lookup("state.dir") == NULL) {
    return SHIM_OK;
  }
  /* Operator-provisioned client identity: the state's client key is unused. */
  if (port_posix_static_cert() == NULL) {
    rc = port_id_load_slot(SHIM_KEY_SLOT_CLIENT);
  }
  if (rc == SHIM_OK) {
    rc = port_id_load_slot(SHIM_KEY_SLOT_SERVING);
  }
  return rc;
}

void port_posix_identity_free(void) {
  uint32_t i;
  for (i = 0; i < SHIM_KEY_SLOTS; i++) {
    port_id_slot_t *s = &port_id_slots[i];
    port_id_cert_free(&s->certs[0]);
    port_id_cert_free(&s->certs[1]);
    s->current = NULL;
    s->stage_len = 0;
    if (port_id_key_live[i]) {
      mbedtls_pk_free(&port_id_keys[i]); /* zeroizes */
      port_id_key_live[i] = 0;
    }
  }
}

/* ---- CA hash ---- */

int32_t port_posix_ca_hash_check(void) {
  const char *want = shim_config_lookup("server.ca_hash");
  const char *ca = shim_config_lookup("tls.ca_file");
  char path[PORT_ID_PATH_MAX];
  int32_t n;

  if (want == NULL || want[0] == '\0') {
    return SHIM_OK;
  }
  if (ca == NULL || port_posix_config_path(ca, path, sizeof(path)) != SHIM_OK) {
    shim_log(SHIM_LOG_ERROR, "config: server.ca_hash is set but tls.ca_file is not");
    return SHIM_E_CERT;
  }
  n = port_id_read(path);
  if (n < 0) {
    shim_log(SHIM_LOG_ERROR, "config: cannot read tls.ca_file %s to check server.ca_hash", path);
    return SHIM_E_CERT;
  }
  return shim_tls_ca_hash_check(port_id_buf, (size_t)n, path);
}
