/*
 * The kubelet endpoint's host side (issue 5) through the real natives and
 * the POSIX port, driven one step per run by tests/shim/kubelet.sh, which
 * plays the clients with openssl s_client and Python's ssl module.
 * Usage: shim-kubelet-test CONFIG STEP [ARG...]; prints "<step> <result...>".
 *   csr OUT              key_ensure(1) result, then the serving CSR into OUT
 *   install FILE         stages FILE for slot 1 in 97-byte pieces, installs it
 *   info                 cert_info(1): source not_before_ms not_after_ms
 *   listen PORT FLAGS    one net_listen, closed again: its result
 *   serve PORT [FILE]    listens with NET_TLS and serves until SIGTERM:
 *                        prints one line per event (below); on SIGUSR1
 *                        installs FILE as the new serving certificate.
 *                        Every connection whose handshake finished gets
 *                        "peer=<net_peer text, '\n' as '|'>\n" and is closed
 *                        once the client closes or sends a line.
 *   args                 argument checks of the natives (no network)
 * serve prints: "listen H", "accept H" (or the error), "early H RC" (net_peer
 * right after accept), "peer H SMALL RC TEXT" (net_peer with a 3-byte buffer,
 * then a full one), "error H RC", "reinstall RC", and at the end
 * "stats N v0 v1 ..." (stats_read). The port is built with a 1.5 s server
 * handshake deadline (tests/shim/CMakeLists.txt).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port.h"
#include "port_posix.h"
#include "runtime/runtime.h"
#include "shim.h"

/* Where the test keeps its bytes in the core's linear memory (one page). */
#define MEM_STR 0u     /* CN / O / key strings */
#define MEM_OUT 1024u  /* net_peer output, CSR */
#define MEM_IO 8192u   /* receive buffer */
#define MEM_SEND(h) (12288u + 512u * (uint32_t)(h)) /* the reply to handle h */

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t reinstall_flag;
static char file_buf[SHIM_CERT_STAGE_MAX * 2];

static void on_term(int sig) {
  (void)sig;
  stop_flag = 1;
}

static void on_usr1(int sig) {
  (void)sig;
  reinstall_flag = 1;
}

/* Copies s into linear memory at off; returns its length. */
static uint32_t put(uint32_t off, const char *s) {
  uint32_t size = 0;
  uint8_t *mem = shim_runtime_memory(&size);
  size_t n = strlen(s);
  memcpy(mem + off, s, n);
  return (uint32_t)n;
}

static int32_t install_file(const char *path) {
  uint32_t size = 0;
  uint8_t *mem = shim_runtime_memory(&size);
  FILE *f = fopen(path, "rb");
  size_t len = 0;
  size_t off;
  int32_t staged = 0;
  if (f != NULL) {
    len = fread(file_buf, 1, sizeof(file_buf), f);
    fclose(f);
  }
  (void)shim_native_key_ensure(SHIM_KEY_SLOT_SERVING);
  (void)shim_native_cert_stage(SHIM_KEY_SLOT_SERVING, 0, 0);
  for (off = 0; off < len && staged >= 0; off += 97) {
    size_t piece = len - off < 97 ? len - off : 97;
    memcpy(mem + MEM_IO, file_buf + off, piece);
    staged = shim_native_cert_stage(SHIM_KEY_SLOT_SERVING, MEM_IO, (uint32_t)piece);
  }
  return staged < 0 ? staged : shim_native_cert_install(SHIM_KEY_SLOT_SERVING);
}

static int step_csr(const char *out_path) {
  uint32_t size = 0;
  uint8_t *mem = shim_runtime_memory(&size);
  char cn[SHIM_CSR_NAME_MAX + 1];
  int32_t ensured = shim_native_key_ensure(SHIM_KEY_SLOT_SERVING);
  uint32_t cnlen;
  uint32_t olen;
  int32_t n;
  FILE *f;
  snprintf(cn, sizeof(cn), "system:node:%s", shim_config_lookup("node.name"));
  cnlen = put(MEM_STR, cn);
  olen = put(MEM_STR + 256, "system:nodes");
  n = shim_native_csr_create(SHIM_KEY_SLOT_SERVING, MEM_STR, cnlen, MEM_STR + 256, olen, MEM_OUT,
                             4096);
  printf("csr %ld %s\n", (long)ensured, n > 0 ? "ok" : "failed");
  if (n <= 0) {
    printf("csr-error %ld\n", (long)n);
    return 1;
  }
  f = fopen(out_path, "wb");
  if (f == NULL) {
    return 1;
  }
  fwrite(mem + MEM_OUT, 1, (size_t)n, f);
  fclose(f);
  return 0;
}

/* Prints net_peer's text with '\n' shown as '|' and puts the reply
 * "peer=<same>\n" at MEM_SEND(h); returns the reply's length. */
static uint32_t print_peer(int32_t h) {
  uint32_t size = 0;
  uint8_t *mem = shim_runtime_memory(&size);
  uint8_t *out = mem + MEM_SEND(h);
  int32_t small = shim_native_net_peer(h, MEM_OUT, 3);
  int32_t n = shim_native_net_peer(h, MEM_OUT, 512);
  int32_t i;
  printf("peer %ld %ld %ld ", (long)h, (long)small, (long)n);
  for (i = 0; i < n; i++) {
    putchar(mem[MEM_OUT + (uint32_t)i] == '\n' ? '|' : mem[MEM_OUT + (uint32_t)i]);
  }
  putchar('\n');
  /* The reply: "peer=<text>\n" with the same '|'. */
  memcpy(out, "peer=", 5);
  for (i = 0; i < n; i++) {
    out[5 + i] = mem[MEM_OUT + (uint32_t)i] == '\n' ? '|' : mem[MEM_OUT + (uint32_t)i];
  }
  if (n < 0) {
    n = 0;
  }
  out[5 + n] = '\n';
  return 5u + (uint32_t)n + 1u;
}

static void print_stats(void) {
  uint32_t size = 0;
  uint8_t *mem = shim_runtime_memory(&size);
  int32_t n = shim_native_stats_read(MEM_OUT, SHIM_STAT_COUNT * 8);
  int32_t i;
  printf("stats %ld", (long)n);
  for (i = 0; i < n; i++) {
    uint64_t u = 0;
    int b;
    for (b = 7; b >= 0; b--) {
      u = (u << 8) | mem[MEM_OUT + 8u * (uint32_t)i + (uint32_t)b];
    }
    printf(" %lld", (long long)(int64_t)u);
  }
  printf("\n");
}

static int step_serve(int32_t port, const char *reinstall) {
  uint32_t interest[SHIM_MAX_CONNECTIONS];
  uint32_t ready[SHIM_MAX_CONNECTIONS];
  uint32_t sent[SHIM_MAX_CONNECTIONS];   /* reply bytes sent so far */
  uint32_t reply[SHIM_MAX_CONNECTIONS];  /* reply length, 0 = not greeted yet */
  int32_t lh = shim_native_net_listen(port, SHIM_NET_TLS);
  int32_t h;
  uint32_t i;

  printf("listen %ld\n", (long)lh);
  fflush(stdout);
  if (lh < 0) {
    return 1;
  }
  memset(sent, 0, sizeof(sent));
  memset(reply, 0, sizeof(reply));
  while (!stop_flag) {
    if (reinstall_flag) {
      reinstall_flag = 0;
      printf("reinstall %ld\n", (long)install_file(reinstall));
    }
    for (i = 0; i < SHIM_MAX_CONNECTIONS; i++) {
      interest[i] = shim_natives_handle_open((int32_t)i) ? port_net_interest(i) : 0u;
    }
    fflush(stdout);
    if (port_wait(interest, ready, SHIM_MAX_CONNECTIONS, 100) <= 0) {
      continue;
    }
    for (i = 0; i < SHIM_MAX_CONNECTIONS; i++) {
      int32_t rc;
      h = (int32_t)i;
      if (ready[i] == 0) {
        continue;
      }
      if (h == lh) {
        /* Take every pending connection; refusals (E_NOMEM) take one each. */
        while ((rc = shim_native_net_accept(lh)) != SHIM_E_AGAIN) {
          printf("accept %ld\n", (long)rc);
          if (rc >= 0) {
            printf("early %ld %ld\n", (long)rc, (long)shim_native_net_peer(rc, MEM_OUT, 512));
            sent[rc] = 0;
            reply[rc] = 0;
          } else if (rc != SHIM_E_NOMEM) {
            break;
          }
        }
        continue;
      }
      if ((ready[i] & SHIM_EV_ERROR) != 0) {
        printf("error %ld %ld\n", (long)h, (long)shim_native_net_recv(h, MEM_IO, 4096));
        shim_native_net_close(h);
        continue;
      }
      if (reply[i] == 0) {
        reply[i] = print_peer(h);
      }
      if (sent[i] < reply[i]) {
        rc = shim_native_net_send(h, MEM_SEND(h) + sent[i], reply[i] - sent[i]);
        if (rc > 0) {
          sent[i] += (uint32_t)rc;
        }
      }
      rc = shim_native_net_recv(h, MEM_IO, 4096);
      if (rc == SHIM_E_AGAIN) {
        continue;
      }
      /* The client closed, sent its line, or failed: done with it. */
      printf("done %ld %ld\n", (long)h, (long)(rc > 0 ? 0 : rc));
      shim_native_net_close(h);
    }
  }
  print_stats();
  shim_native_net_close(lh);
  return 0;
}

/* Argument checks that need no network. */
static int step_args(void) {
  int32_t lh;
  int32_t h;
  printf("args listen-port0 %ld\n", (long)shim_native_net_listen(0, SHIM_NET_TLS));
  printf("args listen-port70000 %ld\n", (long)shim_native_net_listen(70000, 0));
  printf("args listen-flags %ld\n", (long)shim_native_net_listen(10250, SHIM_NET_CLIENT_CERT));
  printf("args accept-unopened %ld\n", (long)shim_native_net_accept(0));
  printf("args peer-unopened %ld\n", (long)shim_native_net_peer(0, MEM_OUT, 16));
  printf("args peer-badptr %ld\n", (long)shim_native_net_peer(0, 65530, 16));
  printf("args alpn-unopened %ld\n", (long)shim_native_net_alpn(0, MEM_OUT, 16));
  printf("args alpn-badptr %ld\n", (long)shim_native_net_alpn(0, 65530, 16));
  printf("args stats-badptr %ld\n", (long)shim_native_stats_read(65536, 8));
  printf("args stats-two %ld\n", (long)shim_native_stats_read(MEM_OUT, 20));
  printf("args stats-none %ld\n", (long)shim_native_stats_read(MEM_OUT, 7));
  /* A plain listener on an ephemeral-range port the script picked. */
  lh = shim_native_net_listen(atoi(getenv("KUBELET_TEST_PORT")), 0);
  printf("args plain-listen %s\n", lh >= 0 ? "ok" : "failed");
  if (lh >= 0) {
    printf("args accept-nothing %ld\n", (long)shim_native_net_accept(lh));
    printf("args peer-on-listener %ld\n", (long)shim_native_net_peer(lh, MEM_OUT, 16));
    printf("args alpn-on-listener %ld\n", (long)shim_native_net_alpn(lh, MEM_OUT, 16));
    printf("args listen-in-use %ld\n",
           (long)shim_native_net_listen(atoi(getenv("KUBELET_TEST_PORT")), 0));
    printf("args send-on-listener %ld\n", (long)shim_native_net_send(lh, MEM_OUT, 1));
    /* A connection the node opened is not an accepted one. */
    h = shim_native_net_connect(MEM_STR, put(MEM_STR, "127.0.0.1"),
                                atoi(getenv("KUBELET_TEST_PORT")), 0);
    printf("args peer-on-client %ld\n", (long)(h >= 0 ? shim_native_net_peer(h, MEM_OUT, 16) : h));
    printf("args accept-on-client %ld\n", (long)(h >= 0 ? shim_native_net_accept(h) : h));
    shim_native_net_close(h);
    shim_native_net_close(lh);
  }
  return 0;
}

int main(int argc, char **argv) {
  shim_config_error_t err;
  struct sigaction sa;
  const char *step;
  int32_t rc;
  int status = 1;

  if (argc < 3) {
    fprintf(stderr, "usage: shim-kubelet-test CONFIG STEP [ARG...]\n");
    return 2;
  }
  step = argv[2];
  shim_log_set_level(SHIM_LOG_DEBUG);
  if (port_posix_init() != SHIM_OK || shim_runtime_load(NULL) != SHIM_OK ||
      port_posix_config_load(argv[1], &err) != SHIM_OK) {
    fprintf(stderr, "setup failed: %s\n", err.message);
    return 2;
  }
  port_posix_heap_install();
  port_posix_heap_reset_peak();
  rc = port_posix_tls_load();
  if (rc == SHIM_OK) {
    rc = port_posix_identity_load();
  }
  if (rc != SHIM_OK) {
    printf("%s setup %ld\n", step, (long)rc);
  } else if (strcmp(step, "csr") == 0 && argc == 4) {
    status = step_csr(argv[3]);
  } else if (strcmp(step, "install") == 0 && argc == 4) {
    printf("install %ld\n", (long)install_file(argv[3]));
    status = 0;
  } else if (strcmp(step, "info") == 0) {
    int64_t nb = 0;
    int64_t na = 0;
    rc = port_cert_info(SHIM_KEY_SLOT_SERVING, &nb, &na);
    printf("info %ld %lld %lld\n", (long)rc, (long long)nb, (long long)na);
    status = 0;
  } else if (strcmp(step, "listen") == 0 && argc == 5) {
    int32_t first = shim_native_net_listen(atoi(argv[3]), atoi(argv[4]));
    int32_t second = first >= 0 ? shim_native_net_listen(atoi(argv[3]), atoi(argv[4])) : 0;
    printf("listen %ld %ld\n", (long)(first >= 0 ? 0 : first), (long)second);
    status = 0;
  } else if (strcmp(step, "serve") == 0 && argc >= 4) {
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    status = step_serve(atoi(argv[3]), argc >= 5 ? argv[4] : "");
  } else if (strcmp(step, "args") == 0) {
    status = step_args();
  } else {
    fprintf(stderr, "unknown step %s\n", step);
  }
  shim_natives_close_all();
  port_posix_shutdown();
  shim_runtime_unload();
  return status;
}
