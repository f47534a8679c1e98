/*
 * POSIX port: non-blocking TCP and TLS (Mbed TLS) connections behind the
 * port.h slots. Each slot is a small state machine:
 *   client:   CONNECTING (TCP in progress) -> HANDSHAKE (TLS only) -> OPEN
 *   listener: LISTENING
 *   accepted: HANDSHAKE (TLS only) -> OPEN
 * and FAILED with a sticky error from any of them. Progress happens when the
 * core calls send/recv and when port_wait sees the socket ready, so a core
 * that only waits for events still gets its handshake done. Connect plus
 * handshake must finish within SHIM_TLS_HANDSHAKE_TIMEOUT_MS, an accepted
 * connection's handshake within SHIM_SERVER_HANDSHAKE_TIMEOUT_MS.
 *
 * TLS client: the server is always verified (MBEDTLS_SSL_VERIFY_REQUIRED)
 * against tls.ca_file with SNI and the host name check set to the host
 * passed to net_connect; with SHIM_NET_CLIENT_CERT the node's certificate and
 * key (loaded once, never copied into the module, never logged) are
 * presented. ALPN offers "h2", "http/1.1", with SHIM_NET_HTTP1 only
 * "http/1.1": Mbed TLS keeps the offer in the configuration, so each client
 * configuration has a twin for that flag (index PORT_CONF_HTTP1).
 * TLS server (the kubelet endpoint): the serving certificate (slot 1,
 * identity.c) is presented; a client certificate is asked for and verified
 * against tls.client_ca_file when sent (src/tls.c shim_tls_conf_server).
 * Non-TLS listeners (flags 0) serve plain TCP; tests use them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mbedtls/version.h>
#include <mbedtls/net_sockets.h> /* MBEDTLS_ERR_NET_* codes only */
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "port.h"
#include "port_posix.h"
#include "port_posix_tls.h"
#include "shim_tls.h"

/* Largest PEM file read for credentials: a CA bundle of a few certificates. */
#ifndef PORT_POSIX_PEM_MAX
#define PORT_POSIX_PEM_MAX 65536
#endif

/* Pending connections the kernel queues for a listener: the served slots
 * plus room for the ones net_accept refuses while they are busy. */
#ifndef PORT_POSIX_LISTEN_BACKLOG
#define PORT_POSIX_LISTEN_BACKLOG (2 * SHIM_KUBELET_MAX_CONNS + 2)
#endif

typedef enum {
  PORT_CONN_FREE = 0,
  PORT_CONN_CONNECTING,
  PORT_CONN_HANDSHAKE,
  PORT_CONN_OPEN,
  PORT_CONN_LISTENING,
  PORT_CONN_FAILED
} port_conn_state_t;

typedef enum { PORT_ROLE_CLIENT = 0, PORT_ROLE_LISTENER, PORT_ROLE_ACCEPTED } port_conn_role_t;

typedef struct {
  port_conn_state_t state;
  port_conn_role_t role;
  int fd;
  uint32_t flags;
  int32_t error;          /* sticky error in PORT_CONN_FAILED */
  int error_reported;     /* EV_ERROR delivered once */
  int want_write;         /* the last operation is waiting for writability */
  int flush_pending;      /* a TLS record is encrypted but not fully sent */
  int ssl_live;           /* ssl was set up and needs mbedtls_ssl_free */
  uint64_t deadline_ms;   /* connect + handshake deadline */
  uint64_t started_ms;    /* when the TLS handshake started (stats) */
  const mbedtls_ssl_config *conf; /* the configuration ssl was set up with */
  uint32_t addr_count;
  uint32_t addr_next;
  struct sockaddr_storage addrs[SHIM_NET_MAX_ADDRS];
  socklen_t addr_lens[SHIM_NET_MAX_ADDRS];
  uint16_t port;
  uint8_t ip_len;         /* 4 or 16 when host is an IP literal, else 0 */
  uint8_t ip[16];         /* that address, for the SAN check */
  char host[SHIM_NET_MAX_HOST + 1]; /* accepted: the peer's address; listener: the bound one */
  mbedtls_ssl_context ssl;
  shim_tls_peer_t peer;   /* accepted TLS: the client's identity */
} port_conn_t;

static port_conn_t port_conns[SHIM_MAX_CONNECTIONS];
static port_posix_stats_t port_stats;

/* TLS material, loaded once by port_posix_tls_load(). */
static mbedtls_x509_crt port_ca;
static mbedtls_x509_crt port_client_ca; /* tls.client_ca_file: kubelet clients */
static mbedtls_x509_crt port_cert;
static mbedtls_pk_context port_key;
/* Client configurations, [0] with the ALPN offer "h2", "http/1.1",
 * [PORT_CONF_HTTP1] the same with "http/1.1" alone (SHIM_NET_HTTP1). */
#define PORT_CONF_HTTP1 1
#define PORT_CONF_OFFERS 2
static mbedtls_ssl_config port_conf_server_only[PORT_CONF_OFFERS]; /* verify the server only */
static mbedtls_ssl_config port_conf_client_cert[PORT_CONF_OFFERS]; /* plus our certificate */
static int port_have_ca;
static int port_have_client_ca;
static int port_have_cert;
static int port_tls_ready;
static unsigned char port_pem[PORT_POSIX_PEM_MAX + 1];

/* ---- helpers ---- */

static void port_conn_fail(uint32_t slot, int32_t error) {
  port_conn_t *c = &port_conns[slot];
  if ((c->flags & SHIM_NET_TLS) != 0 && c->state == PORT_CONN_HANDSHAKE) {
    if (c->role == PORT_ROLE_ACCEPTED) {
      port_stats.server_handshakes_failed++;
    } else {
      port_stats.handshakes_failed++;
    }
  }
  c->state = PORT_CONN_FAILED;
  c->error = error;
  c->want_write = 0;
  c->flush_pending = 0;
  if (c->fd >= 0) {
    close(c->fd);
    c->fd = -1;
  }
}

/* Mbed TLS BIO callbacks over the non-blocking socket. */
static int port_bio_send(void *ctx, const unsigned char *buf, size_t len) {
  port_conn_t *c = ctx;
  ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
  if (n >= 0) {
    port_stats.bytes_sent += (uint64_t)n;
    return (int)n;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
    return MBEDTLS_ERR_SSL_WANT_WRITE;
  }
  return (errno == EPIPE || errno == ECONNRESET) ? MBEDTLS_ERR_NET_CONN_RESET
                                                 : MBEDTLS_ERR_NET_SEND_FAILED;
}

static int port_bio_recv(void *ctx, unsigned char *buf, size_t len) {
  port_conn_t *c = ctx;
  ssize_t n = recv(c->fd, buf, len, 0);
  if (n >= 0) {
    port_stats.bytes_received += (uint64_t)n;
    return (int)n; /* 0: EOF, Mbed TLS reports MBEDTLS_ERR_SSL_CONN_EOF */
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
    return MBEDTLS_ERR_SSL_WANT_READ;
  }
  return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
}

/* ---- TLS material ---- */

/* Reads a PEM file into port_pem, NUL-terminated (Mbed TLS wants the NUL
 * counted in the length). Returns the length or -1 with a reason logged. */
static int port_read_pem(const char *what, const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  size_t n;
  if (f == NULL) {
    shim_log(SHIM_LOG_ERROR, "tls: cannot open %s %s: %s", what, path, strerror(errno));
    return -1;
  }
  n = fread(port_pem, 1, PORT_POSIX_PEM_MAX + 1, f);
  if (ferror(f) || n > PORT_POSIX_PEM_MAX) {
    shim_log(SHIM_LOG_ERROR, "tls: cannot read %s %s: %s", what, path,
             ferror(f) ? strerror(errno) : "larger than PORT_POSIX_PEM_MAX");
    fclose(f);
    return -1;
  }
  fclose(f);
  port_pem[n] = '\0';
  *len = n + 1;
  return 0;
}

/* Resolves config key `key` to a path; 0 = unset, 1 = set, -1 = error. */
static int port_tls_path(const char *key, char *path, size_t cap) {
  const char *value = shim_config_lookup(key);
  if (value == NULL || value[0] == '\0') {
    return 0;
  }
  if (port_posix_config_path(value, path, cap) != SHIM_OK) {
    shim_log(SHIM_LOG_ERROR, "tls: %s: path too long", key);
    return -1;
  }
  return 1;
}

static int port_load_crt(mbedtls_x509_crt *crt, const char *what, const char *path) {
  char reason[SHIM_TLS_REASON_MAX];
  size_t len = 0;
  int ret;
  if (port_read_pem(what, path, &len) != 0) {
    return -1;
  }
  ret = mbedtls_x509_crt_parse(crt, port_pem, len);
  if (ret != 0) {
    shim_tls_strerror(ret, reason, sizeof(reason));
    shim_log(SHIM_LOG_ERROR, "tls: %s %s is not valid PEM certificates: %s", what, path, reason);
    return -1;
  }
  return 0;
}

static int port_load_key(const char *path) {
  char reason[SHIM_TLS_REASON_MAX];
  size_t len = 0;
  int ret;
  if (port_read_pem("key", path, &len) != 0) {
    return -1;
  }
#if MBEDTLS_VERSION_MAJOR >= 3
  ret = mbedtls_pk_parse_key(&port_key, port_pem, len, NULL, 0, shim_tls_random, NULL);
#else
  ret = mbedtls_pk_parse_key(&port_key, port_pem, len, NULL, 0);
#endif
  /* The PEM held the private key: wipe the read buffer. */
  mbedtls_platform_zeroize(port_pem, sizeof(port_pem));
  if (ret != 0) {
    shim_tls_strerror(ret, reason, sizeof(reason));
    shim_log(SHIM_LOG_ERROR, "tls: key %s is not a valid private key: %s", path, reason);
    return -1;
  }
  return 0;
}

int32_t port_posix_tls_load(void) {
  char ca_path[SHIM_CONFIG_MAX_VALUE + 1 + SHIM_CONFIG_MAX_VALUE + 1];
  char client_ca_path[sizeof(ca_path)];
  char cert_path[sizeof(ca_path)];
  char key_path[sizeof(ca_path)];
  char reason[SHIM_TLS_REASON_MAX];
  int has_ca;
  int has_client_ca;
  int has_cert;
  int has_key;
  int ret = 0;
  int i;
  int32_t rc = SHIM_E_INVAL;

  port_posix_tls_free();
  if (shim_tls_init() != SHIM_OK) {
    return SHIM_E_TLS;
  }
  mbedtls_x509_crt_init(&port_ca);
  mbedtls_x509_crt_init(&port_client_ca);
  mbedtls_x509_crt_init(&port_cert);
  mbedtls_pk_init(&port_key);
  for (i = 0; i < PORT_CONF_OFFERS; i++) {
    mbedtls_ssl_config_init(&port_conf_server_only[i]);
    mbedtls_ssl_config_init(&port_conf_client_cert[i]);
  }
  port_tls_ready = 1;

  has_ca = port_tls_path("tls.ca_file", ca_path, sizeof(ca_path));
  has_client_ca = port_tls_path("tls.client_ca_file", client_ca_path, sizeof(client_ca_path));
  has_cert = port_tls_path("tls.cert_file", cert_path, sizeof(cert_path));
  has_key = port_tls_path("tls.key_file", key_path, sizeof(key_path));
  if (has_ca < 0 || has_client_ca < 0 || has_cert < 0 || has_key < 0) {
    goto cleanup;
  }
  if (has_cert != has_key) {
    shim_log(SHIM_LOG_ERROR, "tls: tls.cert_file and tls.key_file must be set together");
    goto cleanup;
  }
  if (has_ca && port_load_crt(&port_ca, "CA bundle", ca_path) != 0) {
    goto cleanup;
  }
  if (has_client_ca &&
      port_load_crt(&port_client_ca, "client CA bundle", client_ca_path) != 0) {
    goto cleanup;
  }
  if (has_cert && (port_load_crt(&port_cert, "certificate", cert_path) != 0 ||
                   port_load_key(key_path) != 0)) {
    goto cleanup;
  }
  for (i = 0; i < PORT_CONF_OFFERS && ret == 0; i++) {
    const uint32_t offer = i == PORT_CONF_HTTP1 ? SHIM_NET_HTTP1 : 0u;
    ret = port_posix_client_conf(&port_conf_server_only[i], NULL, NULL, offer);
    if (ret == 0 && has_cert) {
      ret = port_posix_client_conf(&port_conf_client_cert[i], &port_cert, &port_key, offer);
    }
  }
  if (ret != 0) {
    shim_tls_strerror(ret, reason, sizeof(reason));
    shim_log(SHIM_LOG_ERROR, "tls: configuration failed: %s", reason);
    goto cleanup;
  }
  port_have_ca = has_ca;
  port_have_client_ca = has_client_ca;
  port_have_cert = has_cert;
  rc = SHIM_OK;
cleanup:
  if (rc != SHIM_OK) {
    port_posix_tls_free();
  }
  return rc;
}

void port_posix_tls_free(void) {
  uint32_t i;
  for (i = 0; i < SHIM_MAX_CONNECTIONS; i++) {
    if (port_conns[i].state != PORT_CONN_FREE) {
      (void)port_net_close(i);
    }
  }
  port_posix_identity_free(); /* its configurations point at port_ca */
  if (!port_tls_ready) {
    return;
  }
  for (i = 0; i < PORT_CONF_OFFERS; i++) {
    mbedtls_ssl_config_free(&port_conf_server_only[i]);
    mbedtls_ssl_config_free(&port_conf_client_cert[i]);
  }
  mbedtls_x509_crt_free(&port_ca);
  mbedtls_x509_crt_free(&port_client_ca);
  mbedtls_x509_crt_free(&port_cert);
  mbedtls_pk_free(&port_key); /* zeroizes the key */
  port_have_ca = 0;
  port_have_client_ca = 0;
  port_have_cert = 0;
  port_tls_ready = 0;
}

const mbedtls_x509_crt *port_posix_static_cert(void) {
  return port_have_cert ? &port_cert : NULL;
}

int port_posix_client_conf(mbedtls_ssl_config *conf, mbedtls_x509_crt *crt,
                           mbedtls_pk_context *key, uint32_t flags) {
  if (!port_tls_ready) {
    return MBEDTLS_ERR_SSL_BAD_INPUT_DATA;
  }
  return shim_tls_conf_client(conf, &port_ca, crt, key, flags);
}

int port_posix_server_conf(mbedtls_ssl_config *conf, mbedtls_x509_crt *crt,
                           mbedtls_pk_context *key) {
  if (!port_tls_ready) {
    return MBEDTLS_ERR_SSL_BAD_INPUT_DATA;
  }
  return shim_tls_conf_server(conf, &port_client_ca, crt, key);
}

void port_posix_conf_retire(const mbedtls_ssl_config *conf) {
  uint32_t i;
  for (i = 0; i < SHIM_MAX_CONNECTIONS; i++) {
    port_conn_t *c = &port_conns[i];
    if (c->state == PORT_CONN_FREE || !c->ssl_live || c->conf != conf) {
      continue;
    }
    shim_log(SHIM_LOG_INFO, "net: %s:%u closed: its certificate was replaced twice since it opened",
             c->host, (unsigned)c->port);
    if (c->state != PORT_CONN_FAILED) {
      port_conn_fail(i, SHIM_E_IO);
    }
    mbedtls_ssl_free(&c->ssl);
    c->ssl_live = 0;
  }
}

void port_posix_get_stats(port_posix_stats_t *out) {
  if (out == NULL) {
    return;
  }
  *out = port_stats;
  out->tls_heap_peak = port_posix_heap_peak();
  out->tls_heap_now = port_posix_heap_now();
  out->tls_heap_counting = (uint32_t)port_posix_heap_counting();
}

/* ---- connection state machine ---- */

/* Opens a socket to the next remembered address; SHIM_OK when a connect is
 * in progress or done, SHIM_E_CONNECT when no address is left. */
static int32_t port_conn_start(uint32_t slot) {
  port_conn_t *c = &port_conns[slot];
  while (c->addr_next < c->addr_count) {
    uint32_t i = c->addr_next++;
    int one = 1;
    int fd = socket(c->addrs[i].ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      continue;
    }
    /* Requests are small and latency matters more than packet count. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (const struct sockaddr *)&c->addrs[i], c->addr_lens[i]) == 0 ||
        errno == EINPROGRESS) {
      c->fd = fd;
      c->state = PORT_CONN_CONNECTING;
      return SHIM_OK;
    }
    shim_log(SHIM_LOG_DEBUG, "net: connect %s:%u: %s", c->host, (unsigned)c->port,
             strerror(errno));
    close(fd);
  }
  return SHIM_E_CONNECT;
}

static int32_t port_tls_begin(uint32_t slot) {
  port_conn_t *c = &port_conns[slot];
  const int offer = (c->flags & SHIM_NET_HTTP1) != 0 ? PORT_CONF_HTTP1 : 0;
  mbedtls_ssl_config *conf = &port_conf_server_only[offer];
  int32_t rc;
  /* Static files (operator-provisioned) win over the node-made identity. */
  if ((c->flags & SHIM_NET_CLIENT_CERT) != 0) {
    conf = port_have_cert ? &port_conf_client_cert[offer] : port_posix_identity_conf(c->flags);
  }
  c->ssl_live = 1;
  c->conf = conf;
  rc = shim_tls_session_start(&c->ssl, conf, c->host, c->port, c->ip, c->ip_len);
  if (rc != SHIM_OK) {
    return rc;
  }
  mbedtls_ssl_set_bio(&c->ssl, c, port_bio_send, port_bio_recv, NULL);
  c->state = PORT_CONN_HANDSHAKE;
  c->started_ms = port_now_ms();
  return SHIM_OK;
}

/* A handshake finished: counts it, and on an accepted connection decides
 * whether the client's certificate gives an identity. */
static void port_tls_done(port_conn_t *c) {
  uint64_t ms = port_now_ms() - c->started_ms;
  if (c->role == PORT_ROLE_ACCEPTED) {
    port_stats.server_handshakes_ok++;
    port_stats.server_handshake_ms += ms;
    shim_tls_peer_settle(&c->ssl, &c->peer, c->host, c->port);
  } else {
    port_stats.handshakes_ok++;
    port_stats.handshake_ms += ms;
  }
}

/* Advances a connecting / handshaking / flushing slot as far as it goes
 * without blocking. Returns SHIM_OK when open, SHIM_E_AGAIN while in
 * progress, or the sticky error. */
static int32_t port_conn_progress(uint32_t slot) {
  port_conn_t *c = &port_conns[slot];
  int32_t ret;

  if (c->state == PORT_CONN_FAILED) {
    return c->error;
  }
  if ((c->state == PORT_CONN_CONNECTING || c->state == PORT_CONN_HANDSHAKE) &&
      port_now_ms() >= c->deadline_ms) {
    /* An accepted client that stalls is its own problem: a warning. */
    int accepted = c->role == PORT_ROLE_ACCEPTED;
    shim_log(accepted ? SHIM_LOG_WARN : SHIM_LOG_ERROR, "net: %s%s:%u: %s not done within %u ms",
             accepted ? "client " : "", c->host, (unsigned)c->port,
             c->state == PORT_CONN_CONNECTING ? "connect" : "TLS handshake",
             (unsigned)(accepted ? SHIM_SERVER_HANDSHAKE_TIMEOUT_MS
                                 : SHIM_TLS_HANDSHAKE_TIMEOUT_MS));
    port_conn_fail(slot, SHIM_E_TIMEOUT);
    return SHIM_E_TIMEOUT;
  }
  if (c->state == PORT_CONN_CONNECTING) {
    struct pollfd pfd = {c->fd, POLLOUT, 0};
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    if (poll(&pfd, 1, 0) <= 0) {
      return SHIM_E_AGAIN;
    }
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0) {
      soerr = errno;
    }
    if (soerr != 0) {
      shim_log(SHIM_LOG_DEBUG, "net: connect %s:%u: %s", c->host, (unsigned)c->port,
               strerror(soerr));
      close(c->fd);
      c->fd = -1;
      if (port_conn_start(slot) != SHIM_OK) {
        shim_log(SHIM_LOG_ERROR, "net: cannot connect to %s:%u: %s", c->host, (unsigned)c->port,
                 strerror(soerr));
        port_conn_fail(slot, SHIM_E_CONNECT);
        return SHIM_E_CONNECT;
      }
      return SHIM_E_AGAIN;
    }
    port_stats.connects++;
    if ((c->flags & SHIM_NET_TLS) == 0) {
      c->state = PORT_CONN_OPEN;
      return SHIM_OK;
    }
    ret = port_tls_begin(slot);
    if (ret != SHIM_OK) {
      port_conn_fail(slot, ret);
      return ret;
    }
  }
  if (c->state == PORT_CONN_HANDSHAKE) {
    ret = shim_tls_handshake(&c->ssl, c->host, c->port, &c->want_write);
    if (ret == SHIM_E_AGAIN) {
      return ret;
    }
    if (ret != SHIM_OK) {
      port_conn_fail(slot, ret);
      return ret;
    }
    port_tls_done(c);
    c->state = PORT_CONN_OPEN;
  }
  if (c->state == PORT_CONN_OPEN && c->flush_pending) {
    ret = shim_tls_flush(&c->ssl);
    c->want_write = ret == SHIM_E_AGAIN;
    if (ret == SHIM_E_AGAIN) {
      return SHIM_OK;
    }
    c->flush_pending = 0;
    if (ret != SHIM_OK) {
      port_conn_fail(slot, ret);
      return ret;
    }
  }
  return SHIM_OK;
}

int32_t port_net_connect(uint32_t slot, const char *host, uint16_t port, uint32_t flags) {
  struct addrinfo hints;
  struct addrinfo *res = NULL;
  struct addrinfo *ai;
  char service[8];
  port_conn_t *c;
  int gai;

  if (slot >= SHIM_MAX_CONNECTIONS || host == NULL || port == 0) {
    return SHIM_E_INVAL;
  }
  c = &port_conns[slot];
  if (c->state != PORT_CONN_FREE) {
    return SHIM_E_INVAL;
  }
  if ((flags & SHIM_NET_TLS) != 0 && !port_have_ca) {
    shim_log(SHIM_LOG_ERROR, "tls: no CA bundle configured (tls.ca_file): cannot verify %s",
             host);
    return SHIM_E_UNSUPPORTED;
  }
  if ((flags & SHIM_NET_CLIENT_CERT) != 0 && !port_have_cert &&
      port_posix_identity_conf(flags) == NULL) {
    shim_log(SHIM_LOG_ERROR,
             "tls: no client certificate: neither tls.cert_file nor a certificate from a CSR");
    return SHIM_E_UNSUPPORTED;
  }
  memset(c, 0, sizeof(*c));
  c->fd = -1;
  c->flags = flags;
  c->port = port;
  snprintf(c->host, sizeof(c->host), "%s", host);
  c->deadline_ms = port_now_ms() + SHIM_TLS_HANDSHAKE_TIMEOUT_MS;
  c->state = PORT_CONN_CONNECTING;

  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  /* Literal addresses never go to DNS. Names resolve synchronously here: the
   * simulator accepts that; the device port resolves asynchronously. */
  if (inet_pton(AF_INET, host, c->ip) == 1) {
    c->ip_len = 4;
  } else if (inet_pton(AF_INET6, host, c->ip) == 1) {
    c->ip_len = 16;
  }
  if (c->ip_len != 0) {
    hints.ai_flags |= AI_NUMERICHOST;
  }
  snprintf(service, sizeof(service), "%u", (unsigned)port);
  gai = getaddrinfo(host, service, &hints, &res);
  if (gai != 0) {
    shim_log(SHIM_LOG_ERROR, "net: cannot resolve %s: %s", host, gai_strerror(gai));
    port_conn_fail(slot, SHIM_E_CONNECT);
    return SHIM_OK;
  }
  for (ai = res; ai != NULL && c->addr_count < SHIM_NET_MAX_ADDRS; ai = ai->ai_next) {
    if (ai->ai_addrlen <= sizeof(c->addrs[0])) {
      memcpy(&c->addrs[c->addr_count], ai->ai_addr, ai->ai_addrlen);
      c->addr_lens[c->addr_count] = ai->ai_addrlen;
      c->addr_count++;
    }
  }
  freeaddrinfo(res);
  if (port_conn_start(slot) != SHIM_OK) {
    shim_log(SHIM_LOG_ERROR, "net: cannot connect to %s:%u", host, (unsigned)port);
    port_conn_fail(slot, SHIM_E_CONNECT);
  }
  return SHIM_OK;
}

int32_t port_net_send(uint32_t slot, const uint8_t *buf, size_t len) {
  port_conn_t *c;
  int32_t rc;
  if (slot >= SHIM_MAX_CONNECTIONS || buf == NULL || port_conns[slot].state == PORT_CONN_FREE ||
      port_conns[slot].role == PORT_ROLE_LISTENER) {
    return SHIM_E_INVAL;
  }
  c = &port_conns[slot];
  rc = port_conn_progress(slot);
  if (rc != SHIM_OK) {
    return rc;
  }
  if (c->flush_pending) {
    return SHIM_E_AGAIN;
  }
  if (len == 0) {
    return 0; /* nothing waits here: the kernel sends what it took */
  }
  if (len > INT32_MAX) {
    len = INT32_MAX;
  }
  if ((c->flags & SHIM_NET_TLS) == 0) {
    ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
    if (n > 0) {
      port_stats.bytes_sent += (uint64_t)n;
      c->want_write = 0;
      return (int32_t)n;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      c->want_write = 1;
      return SHIM_E_AGAIN;
    }
    shim_log(SHIM_LOG_WARN, "net: send to %s:%u: %s", c->host, (unsigned)c->port,
             strerror(errno));
    port_conn_fail(slot, SHIM_E_IO);
    return SHIM_E_IO;
  }
  /* A partly sent record is flushed by port_conn_progress. */
  rc = shim_tls_write(&c->ssl, buf, len, c->host, c->port, &c->flush_pending);
  if (rc > 0) {
    c->want_write = c->flush_pending;
  } else if (rc != SHIM_E_AGAIN) {
    port_conn_fail(slot, rc);
  }
  return rc;
}

int32_t port_net_recv(uint32_t slot, uint8_t *buf, size_t cap) {
  port_conn_t *c;
  int32_t rc;
  if (slot >= SHIM_MAX_CONNECTIONS || buf == NULL || port_conns[slot].state == PORT_CONN_FREE ||
      port_conns[slot].role == PORT_ROLE_LISTENER) {
    return SHIM_E_INVAL;
  }
  c = &port_conns[slot];
  rc = port_conn_progress(slot);
  if (rc != SHIM_OK) {
    return rc;
  }
  if (cap > INT32_MAX) {
    cap = INT32_MAX;
  }
  if ((c->flags & SHIM_NET_TLS) == 0) {
    ssize_t n = recv(c->fd, buf, cap, 0);
    if (n > 0) {
      port_stats.bytes_received += (uint64_t)n;
      return (int32_t)n;
    }
    if (n == 0) {
      return SHIM_E_CLOSED;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      return SHIM_E_AGAIN;
    }
    port_conn_fail(slot, SHIM_E_IO);
    return SHIM_E_IO;
  }
  rc = shim_tls_read(&c->ssl, buf, cap, c->host, c->port);
  if (rc < 0 && rc != SHIM_E_AGAIN && rc != SHIM_E_CLOSED) {
    port_conn_fail(slot, rc);
  }
  return rc;
}

int32_t port_net_close(uint32_t slot) {
  port_conn_t *c;
  if (slot >= SHIM_MAX_CONNECTIONS || port_conns[slot].state == PORT_CONN_FREE) {
    return SHIM_E_INVAL;
  }
  c = &port_conns[slot];
  if (c->state == PORT_CONN_OPEN && (c->flags & SHIM_NET_TLS) != 0) {
    /* One non-blocking try: a peer that does not read it loses nothing. */
    (void)mbedtls_ssl_close_notify(&c->ssl);
  }
  if (c->ssl_live) {
    mbedtls_ssl_free(&c->ssl);
  }
  if (c->fd >= 0) {
    close(c->fd);
  }
  memset(c, 0, sizeof(*c));
  c->fd = -1;
  c->state = PORT_CONN_FREE;
  return SHIM_OK;
}

uint32_t port_net_interest(uint32_t slot) {
  port_conn_t *c;
  if (slot >= SHIM_MAX_CONNECTIONS) {
    return 0;
  }
  c = &port_conns[slot];
  switch (c->state) {
    case PORT_CONN_CONNECTING:
      return SHIM_EV_WRITABLE;
    case PORT_CONN_HANDSHAKE:
    case PORT_CONN_OPEN:
      return SHIM_EV_READABLE | ((c->want_write || c->flush_pending) ? SHIM_EV_WRITABLE : 0u);
    case PORT_CONN_LISTENING:
      return SHIM_EV_READABLE; /* a connection is pending */
    case PORT_CONN_FAILED:
      return c->error_reported ? 0u : SHIM_EV_ERROR;
    default:
      return 0;
  }
}

/* Ready flags for a slot after poll() said revents: advances setup and
 * flushes, and decides what the core should hear. */
static uint32_t port_wait_slot(uint32_t slot, short revents) {
  port_conn_t *c = &port_conns[slot];
  uint32_t flags = 0;
  port_conn_state_t before = c->state;
  int32_t rc;

  if (before == PORT_CONN_FAILED) {
    c->error_reported = 1;
    return SHIM_EV_ERROR;
  }
  if (before == PORT_CONN_CONNECTING || before == PORT_CONN_HANDSHAKE || c->flush_pending) {
    rc = port_conn_progress(slot);
    if (rc < 0 && rc != SHIM_E_AGAIN) {
      c->error_reported = 1;
      return SHIM_EV_ERROR;
    }
    if (c->state != PORT_CONN_OPEN) {
      return 0; /* still setting up: nothing for the core yet */
    }
    if (before != PORT_CONN_OPEN) {
      flags |= SHIM_EV_WRITABLE; /* just opened: the core may send now */
      if (c->role == PORT_ROLE_ACCEPTED) {
        flags |= SHIM_EV_READABLE; /* a client speaks first: try to read */
      }
    }
  }
  if ((revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
    flags |= SHIM_EV_READABLE;
  }
  if ((revents & POLLERR) != 0) {
    flags |= SHIM_EV_ERROR;
  }
  if ((revents & POLLOUT) != 0 && !c->flush_pending) {
    flags |= SHIM_EV_WRITABLE;
    c->want_write = 0;
  }
  if ((c->flags & SHIM_NET_TLS) != 0 && c->state == PORT_CONN_OPEN &&
      mbedtls_ssl_get_bytes_avail(&c->ssl) > 0) {
    flags |= SHIM_EV_READABLE;
  }
  return flags;
}

int32_t port_wait(const uint32_t *interest, uint32_t *ready, uint32_t count,
                  uint32_t timeout_ms) {
  struct pollfd pfds[SHIM_MAX_CONNECTIONS];
  int32_t slot_of[SHIM_MAX_CONNECTIONS];
  short revents[SHIM_MAX_CONNECTIONS];
  uint64_t now = port_now_ms();
  nfds_t n = 0;
  int32_t nready = 0;
  int timeout = (int)timeout_ms;
  uint32_t i;

  if (interest == NULL || ready == NULL) {
    return SHIM_E_INVAL;
  }
  if (count > SHIM_MAX_CONNECTIONS) {
    count = SHIM_MAX_CONNECTIONS;
  }
  for (i = 0; i < count; i++) {
    port_conn_t *c = &port_conns[i];
    ready[i] = 0;
    revents[i] = 0;
    if (interest[i] == 0 || c->state == PORT_CONN_FREE) {
      continue;
    }
    if ((interest[i] & SHIM_EV_ERROR) != 0 || c->fd < 0) {
      timeout = 0; /* an unreported failure is ready now */
      continue;
    }
    if ((c->flags & SHIM_NET_TLS) != 0 && c->state == PORT_CONN_OPEN &&
        mbedtls_ssl_get_bytes_avail(&c->ssl) > 0) {
      timeout = 0; /* decrypted bytes are waiting in Mbed TLS */
    }
    if (c->state == PORT_CONN_CONNECTING || c->state == PORT_CONN_HANDSHAKE) {
      uint64_t left = c->deadline_ms > now ? c->deadline_ms - now : 0;
      if (left < (uint64_t)timeout) {
        timeout = (int)left;
      }
    }
    pfds[n].fd = c->fd;
    pfds[n].events = (short)(((interest[i] & SHIM_EV_READABLE) != 0 ? POLLIN : 0) |
                             ((interest[i] & SHIM_EV_WRITABLE) != 0 ? POLLOUT : 0));
    pfds[n].revents = 0;
    slot_of[n] = (int32_t)i;
    n++;
  }
  if (poll(pfds, n, timeout) < 0) {
    return errno == EINTR ? 0 : SHIM_E_IO;
  }
  for (i = 0; i < n; i++) {
    revents[slot_of[i]] = pfds[i].revents;
  }
  now = port_now_ms();
  for (i = 0; i < count; i++) {
    port_conn_t *c = &port_conns[i];
    int expired = (c->state == PORT_CONN_CONNECTING || c->state == PORT_CONN_HANDSHAKE) &&
                  now >= c->deadline_ms;
    if (interest[i] == 0 || c->state == PORT_CONN_FREE) {
      continue;
    }
    if (revents[i] == 0 && !expired && c->state != PORT_CONN_FAILED &&
        !((c->flags & SHIM_NET_TLS) != 0 && c->state == PORT_CONN_OPEN &&
          mbedtls_ssl_get_bytes_avail(&c->ssl) > 0)) {
      continue;
    }
    ready[i] = port_wait_slot(i, revents[i]);
    if (ready[i] != 0) {
      nready++;
    }
  }
  return nready;
}

/* ---- the kubelet endpoint: listening and accepting (issue 5) ---- */

/* The address to bind: kubelet.address, else node.ip, else any (IPv4). */
static int32_t port_listen_addr(uint16_t port, struct sockaddr_storage *addr, socklen_t *len,
                                const char **text) {
  struct sockaddr_in *v4 = (struct sockaddr_in *)addr;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)addr;
  const char *value = shim_config_lookup("kubelet.address");
  if (value == NULL || value[0] == '\0') {
    value = shim_config_lookup("node.ip");
  }
  if (value == NULL || value[0] == '\0') {
    value = "0.0.0.0";
  }
  *text = value;
  memset(addr, 0, sizeof(*addr));
  if (inet_pton(AF_INET, value, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    *len = sizeof(*v4);
    return SHIM_OK;
  }
  if (inet_pton(AF_INET6, value, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    *len = sizeof(*v6);
    return SHIM_OK;
  }
  shim_log(SHIM_LOG_ERROR, "net: cannot listen on \"%s\": not an IP address "
                           "(kubelet.address or node.ip)", value);
  return SHIM_E_CONNECT;
}

int32_t port_net_listen(uint32_t slot, uint16_t port, uint32_t flags) {
  struct sockaddr_storage addr;
  socklen_t addr_len = 0;
  const char *text = NULL;
  port_conn_t *c;
  int one = 1;
  int fd;

  if (slot >= SHIM_MAX_CONNECTIONS || port == 0 || (flags & ~SHIM_NET_TLS) != 0 ||
      port_conns[slot].state != PORT_CONN_FREE) {
    return SHIM_E_INVAL;
  }
  if ((flags & SHIM_NET_TLS) != 0 &&
      shim_tls_serve_check(port, port_posix_serving_conf() != NULL, port_have_client_ca,
                           "tls.client_ca_file") != SHIM_OK) {
    return SHIM_E_UNSUPPORTED;
  }
  if (port_listen_addr(port, &addr, &addr_len, &text) != SHIM_OK) {
    return SHIM_E_CONNECT;
  }
  fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  /* SO_REUSEADDR: a restarted node binds again while old connections sit in
   * TIME_WAIT (it never allows two listeners on one port on Linux). */
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      bind(fd, (const struct sockaddr *)&addr, addr_len) != 0 ||
      listen(fd, PORT_POSIX_LISTEN_BACKLOG) != 0) {
    shim_log(SHIM_LOG_ERROR, "net: cannot listen on %s:%u: %s", text, (unsigned)port,
             strerror(errno));
    if (fd >= 0) {
      close(fd);
    }
    return SHIM_E_CONNECT;
  }
  c = &port_conns[slot];
  memset(c, 0, sizeof(*c));
  c->fd = fd;
  c->role = PORT_ROLE_LISTENER;
  c->flags = flags;
  c->port = port;
  snprintf(c->host, sizeof(c->host), "%s", text);
  c->state = PORT_CONN_LISTENING;
  shim_log(SHIM_LOG_INFO, "net: listening on %s:%u (%s)", text, (unsigned)port,
           (flags & SHIM_NET_TLS) != 0 ? "TLS" : "plain TCP");
  return SHIM_OK;
}

/* The peer's address as text and its port, for logs. */
static void port_peer_name(const struct sockaddr_storage *peer, char *host, size_t cap,
                           uint16_t *port) {
  const struct sockaddr_in *v4 = (const struct sockaddr_in *)peer;
  const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)peer;
  const char *ok = NULL;
  *port = 0;
  if (peer->ss_family == AF_INET) {
    ok = inet_ntop(AF_INET, &v4->sin_addr, host, (socklen_t)cap);
    *port = ntohs(v4->sin_port);
  } else if (peer->ss_family == AF_INET6) {
    ok = inet_ntop(AF_INET6, &v6->sin6_addr, host, (socklen_t)cap);
    *port = ntohs(v6->sin6_port);
  }
  if (ok == NULL) {
    snprintf(host, cap, "?");
  }
}

int32_t port_net_accept(uint32_t listener, int32_t slot) {
  struct sockaddr_storage peer;
  socklen_t peer_len = sizeof(peer);
  char host[SHIM_NET_MAX_HOST + 1];
  uint16_t peer_port = 0;
  const mbedtls_ssl_config *conf = NULL;
  port_conn_t *l;
  port_conn_t *c;
  int one = 1;
  int32_t rc;
  int fd;

  if (listener >= SHIM_MAX_CONNECTIONS || port_conns[listener].state != PORT_CONN_LISTENING ||
      slot >= SHIM_MAX_CONNECTIONS || (slot >= 0 && port_conns[slot].state != PORT_CONN_FREE)) {
    return SHIM_E_INVAL;
  }
  l = &port_conns[listener];
  fd = accept(l->fd, (struct sockaddr *)&peer, &peer_len);
  if (fd >= 0 && (fcntl(fd, F_SETFL, O_NONBLOCK) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)) {
    shim_log(SHIM_LOG_WARN, "net: accept on port %u: %s", (unsigned)l->port, strerror(errno));
    close(fd);
    return SHIM_E_IO;
  }
  if (fd < 0) {
    /* ECONNABORTED: the client gave up while queued; nothing to take. */
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED) {
      return SHIM_E_AGAIN;
    }
    shim_log(SHIM_LOG_WARN, "net: accept on port %u: %s", (unsigned)l->port, strerror(errno));
    return SHIM_E_IO;
  }
  port_peer_name(&peer, host, sizeof(host), &peer_port);
  if (slot < 0) {
    close(fd);
    port_stats.refused++;
    shim_log(SHIM_LOG_WARN, "net: refused %s:%u on port %u: all %d kubelet connections are busy",
             host, (unsigned)peer_port, (unsigned)l->port, SHIM_KUBELET_MAX_CONNS);
    return SHIM_E_NOMEM;
  }
  c = &port_conns[slot];
  memset(c, 0, sizeof(*c));
  c->fd = fd;
  c->role = PORT_ROLE_ACCEPTED;
  c->flags = l->flags;
  c->port = peer_port;
  memcpy(c->host, host, sizeof(c->host));
  c->deadline_ms = port_now_ms() + SHIM_SERVER_HANDSHAKE_TIMEOUT_MS;
  c->started_ms = port_now_ms();
  c->state = (c->flags & SHIM_NET_TLS) != 0 ? PORT_CONN_HANDSHAKE : PORT_CONN_OPEN;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  port_stats.accepted++;
  if ((c->flags & SHIM_NET_TLS) != 0) {
    /* The serving certificate current now; a later install leaves this
     * connection its own (identity.c keeps the previous configuration). */
    conf = port_posix_serving_conf();
    rc = conf == NULL ? SHIM_E_UNSUPPORTED
                      : shim_tls_session_accept(&c->ssl, conf, &c->peer, c->host, c->port);
    c->ssl_live = conf != NULL;
    c->conf = conf;
    if (rc != SHIM_OK) {
      (void)port_net_close((uint32_t)slot);
      return rc;
    }
    mbedtls_ssl_set_bio(&c->ssl, c, port_bio_send, port_bio_recv, NULL);
  }
  shim_log(SHIM_LOG_DEBUG, "net: accepted %s:%u on port %u", c->host, (unsigned)c->port,
           (unsigned)l->port);
  return SHIM_OK;
}

int32_t port_net_peer(uint32_t slot, uint8_t *out, size_t cap) {
  port_conn_t *c;
  if (slot >= SHIM_MAX_CONNECTIONS || out == NULL ||
      port_conns[slot].role != PORT_ROLE_ACCEPTED || port_conns[slot].state == PORT_CONN_FREE) {
    return SHIM_E_INVAL;
  }
  c = &port_conns[slot];
  if (c->state == PORT_CONN_FAILED) {
    return c->error;
  }
  if ((c->flags & SHIM_NET_TLS) == 0) {
    return 0; /* plain TCP: no certificate */
  }
  if (c->state == PORT_CONN_HANDSHAKE) {
    return SHIM_E_AGAIN;
  }
  return shim_tls_peer_copy(&c->peer, out, cap);
}

int32_t port_net_alpn(uint32_t slot, uint8_t *out, size_t cap) {
  int32_t rc;
  if (slot >= SHIM_MAX_CONNECTIONS || out == NULL || port_conns[slot].state == PORT_CONN_FREE ||
      port_conns[slot].role == PORT_ROLE_LISTENER) {
    return SHIM_E_INVAL;
  }
  rc = port_conn_progress(slot);
  if (rc != SHIM_OK) {
    return rc;
  }
  if ((port_conns[slot].flags & SHIM_NET_TLS) == 0) {
    return 0; /* plain TCP: nothing was negotiated */
  }
  return shim_tls_alpn_copy(&port_conns[slot].ssl, out, cap);
}
