/*
 * Node identity checks shared by the ports (shim_identity.h): the CSR
 * subject's characters and the certificate the cluster issued for it (key,
 * subject, dates). Kubernetes' node authorizer expects CN=system:node:<name>
 * in group O=system:nodes (kubernetes/pkg/auth/nodeidentifier/default.go).
 */
#include <stdio.h>
#include <string.h>

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

void shim_identity_log_installed(const mbedtls_x509_crt *crt) {
  shim_log(SHIM_LOG_INFO,
           "identity: installed client certificate valid until %04d-%02d-%02dT%02d:%02d:%02dZ",
           crt->valid_to.year, crt->valid_to.mon, crt->valid_to.day, crt->valid_to.hour,
           crt->valid_to.min, crt->valid_to.sec);
}
