/*
 * Node identity of the POSIX port (port/posix/identity.c), driven one step
 * per run so tests/shim/identity.sh can check files, modes and restarts in
 * between, and sign CSRs with certs/issue-node-cert.mjs.
 * Usage: shim-identity-test CONFIG STEP [ARG]; prints "<step> <result...>".
 *   load                 result of startup (CA hash check, identity load)
 *   csr OUT              key_ensure result, then the CSR (PEM) into OUT
 *   install FILE         stages FILE in 97-byte pieces, installs it
 *   info                 cert_info: source not_before_ms not_after_ms
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port.h"
#include "port_posix.h"
#include "shim.h"

static char file_buf[SHIM_CERT_STAGE_MAX * 2];

int main(int argc, char **argv) {
  shim_config_error_t err;
  const char *step;
  int32_t rc;
  int status = 1;

  if (argc < 3) {
    fprintf(stderr, "usage: shim-identity-test CONFIG STEP [ARG]\n");
    return 2;
  }
  step = argv[2];
  if (port_posix_init() != SHIM_OK || port_posix_config_load(argv[1], &err) != SHIM_OK) {
    fprintf(stderr, "setup failed: %s\n", err.message);
    return 2;
  }
  rc = port_posix_tls_load();
  if (rc == SHIM_OK) {
    rc = port_posix_ca_hash_check();
  }
  if (rc == SHIM_OK) {
    rc = port_posix_identity_load();
  }
  if (strcmp(step, "load") == 0) {
    printf("load %ld\n", (long)rc);
    status = 0;
  } else if (rc != SHIM_OK) {
    printf("%s setup %ld\n", step, (long)rc);
  } else if (strcmp(step, "csr") == 0 && argc == 4) {
    static uint8_t pem[4096];
    char cn[SHIM_CSR_NAME_MAX + 1];
    int32_t ensured = port_key_ensure(0);
    int32_t again = port_key_ensure(0);
    int32_t n;
    FILE *f;
    snprintf(cn, sizeof(cn), "system:node:%s", shim_config_lookup("node.name"));
    n = port_csr_create(0, cn, "system:nodes", pem, sizeof(pem));
    printf("csr %ld %ld %ld toosmall %ld badname %ld\n", (long)ensured, (long)again,
           (long)(n > 0 ? 0 : n), (long)port_csr_create(0, cn, "system:nodes", pem, 10),
           (long)port_csr_create(0, "a,O=system:masters", "x", pem, sizeof(pem)));
    f = fopen(argv[3], "wb");
    if (n > 0 && f != NULL) {
      fwrite(pem, 1, (size_t)n, f);
      status = 0;
    }
    if (f != NULL) {
      fclose(f);
    }
  } else if (strcmp(step, "install") == 0 && argc == 4) {
    FILE *f = fopen(argv[3], "rb");
    size_t len = 0;
    size_t off;
    int32_t staged = 0;
    if (f != NULL) {
      len = fread(file_buf, 1, sizeof(file_buf), f);
      fclose(f);
    }
    (void)port_key_ensure(0);
    (void)port_cert_stage(0, NULL, 0);
    for (off = 0; off < len && staged >= 0; off += 97) {
      size_t piece = len - off < 97 ? len - off : 97;
      staged = port_cert_stage(0, (const uint8_t *)file_buf + off, piece);
    }
    rc = staged < 0 ? staged : port_cert_install(0);
    printf("install %ld\n", (long)rc);
    status = 0;
  } else if (strcmp(step, "info") == 0) {
    int64_t nb = 0;
    int64_t na = 0;
    rc = port_cert_info(0, &nb, &na);
    printf("info %ld %lld %lld\n", (long)rc, (long long)nb, (long long)na);
    status = 0;
  } else {
    fprintf(stderr, "unknown step %s\n", step);
  }
  port_posix_shutdown();
  return status;
}
