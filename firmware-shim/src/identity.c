/*
 * Node identity checks shared by the ports (shim_identity.h): the CSR
 * subject's characters, the serving CSR's subjectAltNames, and the
 * certificate the cluster issued for it (key, subject, dates, node.ip). Kubernetes' node authorizer expects CN=system:node:<name>
 * in group O=system:nodes (kubernetes/pkg/auth/nodeidentifier/default.go).
 */
#include <stdio.h>
#include <string.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/version.h>

#include "port.h"
#include "shim.h"
#include "shim_identity.h"
#include "shim_tls.h"

/* Characters that would change the meaning of a "CN=..,O=.." string
 * (mbedtls_x509_string_to_names: ',' separates, '=' assigns, '\\' escapes). */
int shim_identity_dn_safe(const char *s) {
  for (; *s != '\0'; s++) {
    if (*s == ',' || *s == '=' || *s == '\\' || (unsigned char)*s < 0x20) {
      return 0;
    }
  }
  return 1;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil). */
static int64_t shim_identity_days(int64_t y, int64_t m, int64_t d) {
  int64_t era;
  int64_t yoe;
  int64_t doy;
  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

int64_t shim_identity_time_ms(const mbedtls_x509_time *t) {
  int64_t days = shim_identity_days(t->year, t->mon, t->day);
  return ((days * 24 + t->hour) * 60 + t->min) * 60000 + (int64_t)t->sec * 1000;
}

int32_t shim_identity_parse(mbedtls_x509_crt *crt, const unsigned char *pem, size_t len,
                            mbedtls_pk_context *key) {
  int ret;
  mbedtls_x509_crt_init(crt);
  ret = mbedtls_x509_crt_parse(crt, pem, len);
  if (ret != 0 || crt->version == 0) {
    shim_log(SHIM_LOG_ERROR, "identity: the certificate is not a valid PEM chain (-0x%04x)",
             (unsigned)-ret);
    return SHIM_E_INVAL;
  }
#if MBEDTLS_VERSION_MAJOR >= 3
  ret = mbedtls_pk_check_pair(&crt->pk, key, shim_tls_random, NULL);
#else
  ret = mbedtls_pk_check_pair(&crt->pk, key);
#endif
  if (ret != 0) {
    shim_log(SHIM_LOG_ERROR, "identity: the certificate is not for this node's key; not used");
    return SHIM_E_CERT;
  }
  return SHIM_OK;
}

/* Checks one RDN attribute of name: exactly one, equal to want. */
static int shim_identity_name_is(const mbedtls_x509_name *name, const char *oid, size_t oid_len,
                                 const char *want) {
  int found = 0;
  for (; name != NULL; name = name->next) {
    if (name->oid.len == oid_len && memcmp(name->oid.p, oid, oid_len) == 0) {
      if (found || name->val.len != strlen(want) || memcmp(name->val.p, want, name->val.len) != 0) {
        return 0;
      }
      found = 1;
    }
  }
  return found;
}

int32_t shim_identity_check_issued(const mbedtls_x509_crt *crt) {
  const char *name = shim_config_lookup("node.name");
  char cn[SHIM_CSR_NAME_MAX + 1];
  uint64_t wall = port_wall_ms();
  snprintf(cn, sizeof(cn), "system:node:%s", name == NULL ? "" : name);
  if (!shim_identity_name_is(&crt->subject, MBEDTLS_OID_AT_CN,
                             MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_CN), cn) ||
      !shim_identity_name_is(&crt->subject, MBEDTLS_OID_AT_ORGANIZATION,
                             MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_ORGANIZATION), "system:nodes")) {
    shim_log(SHIM_LOG_ERROR, "identity: the certificate subject is not CN=%s, O=system:nodes", cn);
    return SHIM_E_CERT;
  }
  if (wall == 0) {
    shim_log(SHIM_LOG_ERROR, "identity: no wall clock yet (SNTP): cannot check the dates");
    return SHIM_E_CERT;
  }
  if ((int64_t)wall < shim_identity_time_ms(&crt->valid_from)) {
    shim_log(SHIM_LOG_ERROR,
             "identity: the certificate is not valid until %04d-%02d-%02dT%02d:%02d:%02dZ: "
             "is this device's clock right?",
             crt->valid_from.year, crt->valid_from.mon, crt->valid_from.day, crt->valid_from.hour,
             crt->valid_from.min, crt->valid_from.sec);
    return SHIM_E_CERT;
  }
  if ((int64_t)wall >= shim_identity_time_ms(&crt->valid_to)) {
    shim_log(SHIM_LOG_ERROR, "identity: the certificate expired at %04d-%02d-%02dT%02d:%02d:%02dZ",
             crt->valid_to.year, crt->valid_to.mon, crt->valid_to.day, crt->valid_to.hour,
             crt->valid_to.min, crt->valid_to.sec);
    return SHIM_E_CERT;
  }
  return SHIM_OK;
}

void shim_identity_log_installed(uint32_t slot, const mbedtls_x509_crt *crt) {
  shim_log(SHIM_LOG_INFO,
           "identity: installed %s certificate valid until %04d-%02d-%02dT%02d:%02d:%02dZ",
           slot == SHIM_KEY_SLOT_SERVING ? "serving" : "client", crt->valid_to.year,
           crt->valid_to.mon, crt->valid_to.day, crt->valid_to.hour, crt->valid_to.min,
           crt->valid_to.sec);
}

/* ---- addresses and subjectAltNames (the serving identity, issue 5) ---- */

/* A dotted quad of n characters: four decimal parts 0-255 without leading
 * zeros (which some parsers read as octal). 1 with out filled, or 0. */
static int shim_identity_parse_ip4(const char *s, size_t n, uint8_t *out) {
  unsigned value = 0;
  int digits = 0;
  int part = 0;
  size_t i;
  for (i = 0; i <= n; i++) {
    char c = i < n ? s[i] : '.'; /* the end closes the last part */
    if (c >= '0' && c <= '9') {
      if (digits > 0 && value == 0) {
        return 0;
      }
      value = value * 10u + (unsigned)(c - '0');
      if (++digits > 3 || value > 255u) {
        return 0;
      }
    } else if (c == '.' && digits > 0 && part < 4) {
      out[part++] = (uint8_t)value;
      value = 0;
      digits = 0;
    } else {
      return 0;
    }
  }
  return part == 4;
}

int shim_identity_hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* RFC 4291 section 2.2: eight groups of 1-4 hex digits separated by ':',
 * one "::" standing for one or more zero groups, and optionally a dotted
 * quad in place of the last two groups. 1 with out filled, or 0. */
static int shim_identity_parse_ip6(const char *s, uint8_t *out) {
  uint8_t bytes[16];
  size_t len = strlen(s);
  size_t i = 0;
  int n = 0;    /* bytes parsed */
  int gap = -1; /* where "::" stands, in bytes */
  if (len >= 2 && s[0] == ':' && s[1] == ':') {
    gap = 0;
    i = 2;
  }
  while (i < len) {
    unsigned value = 0;
    int digits = 0;
    size_t j = i;
    while (j < len && shim_identity_hex(s[j]) >= 0) {
      value = value * 16u + (unsigned)shim_identity_hex(s[j++]);
      if (++digits > 4) {
        return 0;
      }
    }
    if (j < len && s[j] == '.') {
      if (n > 12 || !shim_identity_parse_ip4(s + i, len - i, bytes + n)) {
        return 0;
      }
      n += 4;
      break;
    }
    if (digits == 0 || n == 16) {
      return 0;
    }
    bytes[n++] = (uint8_t)(value >> 8);
    bytes[n++] = (uint8_t)value;
    if (j == len) {
      break;
    }
    if (s[j] != ':' || ++j == len) {
      return 0; /* not a separator, or a single trailing ':' */
    }
    if (s[j] == ':') {
      if (gap >= 0) {
        return 0; /* a second "::" */
      }
      gap = n;
      j++;
    }
    i = j;
  }
  if (gap < 0) {
    if (n != 16) {
      return 0;
    }
    memcpy(out, bytes, 16);
    return 1;
  }
  if (n > 14) {
    return 0; /* "::" must stand for at least one group */
  }
  memset(out, 0, 16);
  memcpy(out, bytes, (size_t)gap);
  memcpy(out + 16 - (n - gap), bytes + gap, (size_t)(n - gap));
  return 1;
}

int shim_identity_parse_ip(const char *s, uint8_t out[16]) {
  if (s == NULL || out == NULL) {
    return 0;
  }
  if (shim_identity_parse_ip4(s, strlen(s), out)) {
    return 4;
  }
  return shim_identity_parse_ip6(s, out) ? 16 : 0;
}

/* GeneralName iPAddress is [7] IMPLICIT OCTET STRING (RFC 5280 section
 * 4.2.1.6); Mbed TLS keeps the raw tag of each SAN. */
#define SHIM_SAN_DNS (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2)
#define SHIM_SAN_IP (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7)

int shim_identity_crt_has_ip(const mbedtls_x509_crt *crt, const uint8_t *ip, size_t ip_len) {
  const mbedtls_x509_sequence *san;
  for (san = &crt->subject_alt_names; san != NULL; san = san->next) {
    if (san->buf.tag == SHIM_SAN_IP && san->buf.len == ip_len &&
        memcmp(san->buf.p, ip, ip_len) == 0) {
      return 1;
    }
  }
  return 0;
}

/* A node name as a dNSName: Kubernetes node names are DNS subdomains
 * (RFC 1123: lowercase letters, digits, '-' and '.', at most 253). */
static int shim_identity_dns_name(const char *s) {
  size_t n = strlen(s);
  size_t i;
  if (n == 0 || n > SHIM_NET_MAX_HOST) {
    return 0;
  }
  for (i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) {
      return 0;
    }
  }
  return 1;
}

/* Writes one GeneralName (tag, bytes) before *p (Mbed TLS's ASN.1 writer
 * works backwards). Returns its length or a negative Mbed TLS error. */
static int shim_identity_write_san(unsigned char **p, unsigned char *start, int tag,
                                   const unsigned char *v, size_t n) {
  int len = 0;
  int ret = mbedtls_asn1_write_raw_buffer(p, start, v, n);
  if (ret < 0) return ret;
  len += ret;
  ret = mbedtls_asn1_write_len(p, start, n);
  if (ret < 0) return ret;
  len += ret;
  ret = mbedtls_asn1_write_tag(p, start, (unsigned char)tag);
  if (ret < 0) return ret;
  return len + ret;
}

int32_t shim_identity_csr_add_sans(mbedtls_x509write_csr *csr) {
  /* Both names with their headers: 253 + 16 + 3 * 4 bytes. */
  unsigned char buf[SHIM_NET_MAX_HOST + 16 + 12];
  unsigned char *p = buf + sizeof(buf);
  const char *name = shim_config_lookup("node.name");
  const char *ip_text = shim_config_lookup("node.ip");
  uint8_t ip[16];
  int ip_len = 0;
  int len = 0;
  int ret = 0;

  if (ip_text != NULL && ip_text[0] != '\0') {
    ip_len = shim_identity_parse_ip(ip_text, ip);
    if (ip_len == 0) {
      shim_log(SHIM_LOG_ERROR, "identity: node.ip \"%s\" is not an IPv4 or IPv6 address", ip_text);
      return SHIM_E_INVAL;
    }
  }
  if (name != NULL && name[0] != '\0' && !shim_identity_dns_name(name)) {
    shim_log(SHIM_LOG_ERROR, "identity: node.name \"%s\" is not a DNS name for the serving "
                             "certificate", name);
    return SHIM_E_INVAL;
  }
  /* Backwards: the IP goes last in the sequence, so it is written first. */
  if (ip_len != 0) {
    ret = shim_identity_write_san(&p, buf, SHIM_SAN_IP, ip, (size_t)ip_len);
    len += ret > 0 ? ret : 0;
  }
  if (ret >= 0 && name != NULL && name[0] != '\0') {
    ret = shim_identity_write_san(&p, buf, SHIM_SAN_DNS, (const unsigned char *)name,
                                  strlen(name));
    len += ret > 0 ? ret : 0;
  }
  if (ret >= 0 && len == 0) {
    return SHIM_OK; /* neither is set: no extension */
  }
  if (ret >= 0) {
    ret = mbedtls_asn1_write_len(&p, buf, (size_t)len);
  }
  if (ret >= 0) {
    ret = mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
  }
  if (ret >= 0) {
    /* Not critical: the subject is not empty (RFC 5280 section 4.2.1.6). */
#if MBEDTLS_VERSION_MAJOR >= 3
    ret = mbedtls_x509write_csr_set_extension(csr, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                              MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0,
                                              p, (size_t)(buf + sizeof(buf) - p));
#else
    ret = mbedtls_x509write_csr_set_extension(csr, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                              MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), p,
                                              (size_t)(buf + sizeof(buf) - p));
#endif
  }
  if (ret < 0) {
    shim_log(SHIM_LOG_ERROR, "identity: subjectAltName for the CSR failed (-0x%04x)",
             (unsigned)-ret);
    return SHIM_E_INVAL;
  }
  return SHIM_OK;
}

int32_t shim_identity_check_serving(const mbedtls_x509_crt *crt) {
  const char *ip_text = shim_config_lookup("node.ip");
  uint8_t ip[16];
  int ip_len;
  if (ip_text == NULL || ip_text[0] == '\0') {
    return SHIM_OK;
  }
  ip_len = shim_identity_parse_ip(ip_text, ip);
  if (ip_len == 0 || !shim_identity_crt_has_ip(crt, ip, (size_t)ip_len)) {
    shim_log(SHIM_LOG_ERROR,
             "identity: the serving certificate does not list node.ip %s as an IP address SAN",
             ip_text);
    return SHIM_E_CERT;
  }
  return SHIM_OK;
}
