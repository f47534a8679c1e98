/*
 * Node identity of the POSIX port (port/posix/identity.c), driven one step
 * per run so tests/shim/identity.sh can check files, modes and restarts in
 * between, and sign CSRs with certs/issue-node-cert.mjs.
 * Usage: shim-identity-test CONFIG STEP [ARG]; prints "<step> <result...>".
 *   load                 result of startup (CA hash check, identity load)
 *   csr OUT              key_ensure result, then the CSR (PEM) into OUT
 *   install FILE         stages FILE in 97-byte pieces, installs it
 *   info                 cert_info: source not_before_ms not_after_ms
 *   renew HOST P0 P1 P2 NEW1 NEW2
 *                        the renewal path of both client configurations:
 *                        connects to HOST:P0 with the loaded certificate and
 *                        TLS|CLIENT_CERT|HTTP1, installs NEW1, connects to
 *                        P1 with TLS|CLIENT_CERT and to P2 with
 *                        TLS|CLIENT_CERT|HTTP1, checks the first connection
 *                        still answers, installs NEW2 and checks the first
 *                        one has been ended. Prints one line per step:
 *                        "old|new|new-http1 <ALPN protocol, none, or code>",
 *                        "install RC", "kept RC", "retired RC".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port.h"
#include "port_posix.h"
#include "shim.h"

static char file_buf[SHIM_CERT_STAGE_MAX * 2];

/* Stages FILE for slot 0 in 97-byte pieces and installs it. */
static int32_t install_file(const char *path) {
  FILE *f = fopen(path, "rb");
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
  return staged < 0 ? staged : port_cert_install(0);
}

/* Waits up to 200 ms for the open connections (as the loop would). */
static void wait_events(void) {
  uint32_t interest[SHIM_MAX_CONNECTIONS];
  uint32_t ready[SHIM_MAX_CONNECTIONS];
  uint32_t i;
  for (i = 0; i < SHIM_MAX_CONNECTIONS; i++) {
    interest[i] = port_net_interest(i);
  }
  (void)port_wait(interest, ready, SHIM_MAX_CONNECTIONS, 200);
}

/* Connects slot to host:port and runs the handshake (5 s at most); prints
 * "<name> <protocol>" ("none" when the server selected none) or the error. */
static void connect_and_report(uint32_t slot, const char *host, int port, uint32_t flags,
                               const char *name) {
  uint8_t proto[16];
  uint64_t deadline = port_now_ms() + 5000u;
  int32_t rc = port_net_connect(slot, host, (uint16_t)port, flags);
  if (rc == SHIM_OK) {
    while ((rc = port_net_alpn(slot, proto, sizeof(proto))) == SHIM_E_AGAIN &&
           port_now_ms() < deadline) {
      wait_events();
    }
  }
  if (rc > 0) {
    printf("%s %.*s\n", name, (int)rc, (const char *)proto);
  } else if (rc == 0) {
    printf("%s none\n", name);
  } else {
    printf("%s %ld\n", name, (long)rc);
  }
}

/* Sends "ping\n" on slot and waits (3 s at most) for the echo server's
 * answer: SHIM_OK, or the connection's error. */
static int32_t ping(uint32_t slot) {
  uint8_t buf[64];
  uint64_t deadline = port_now_ms() + 3000u;
  int32_t rc = port_net_send(slot, (const uint8_t *)"ping\n", 5);
  while (rc == SHIM_E_AGAIN && port_now_ms() < deadline) {
    wait_events();
    rc = port_net_send(slot, (const uint8_t *)"ping\n", 5);
  }
  if (rc < 0) {
    return rc;
  }
  while ((rc = port_net_recv(slot, buf, sizeof(buf))) == SHIM_E_AGAIN &&
         port_now_ms() < deadline) {
    wait_events();
  }
  return rc > 0 ? SHIM_OK : rc;
}

/* The renew step (see the top). */
static void renew(char **arg) {
  const uint32_t h1 = SHIM_NET_TLS | SHIM_NET_CLIENT_CERT | SHIM_NET_HTTP1;
  connect_and_report(0, arg[0], atoi(arg[1]), h1, "old");
  printf("install %ld\n", (long)install_file(arg[4]));
  connect_and_report(1, arg[0], atoi(arg[2]), SHIM_NET_TLS | SHIM_NET_CLIENT_CERT, "new");
  connect_and_report(2, arg[0], atoi(arg[3]), h1, "new-http1");
  (void)port_net_close(1);
  (void)port_net_close(2);
  printf("kept %ld\n", (long)ping(0));
  printf("install %ld\n", (long)install_file(arg[5]));
  printf("retired %ld\n", (long)ping(0));
  (void)port_net_close(0);
}

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
    printf("install %ld\n", (long)install_file(argv[3]));
    status = 0;
  } else if (strcmp(step, "renew") == 0 && argc == 9) {
    renew(argv + 3);
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
