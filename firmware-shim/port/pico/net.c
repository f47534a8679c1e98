/*
 * Pico W port: non-blocking TCP (lwIP raw API) and TLS (Mbed TLS 3.6) behind
 * the port.h slots, with the same states, error codes and event rules as the
 * simulator's port/posix/net.c:
 *   client:   RESOLVING (DNS) -> CONNECTING (TCP) -> HANDSHAKE (TLS only) -> OPEN
 *   listener: LISTENING (the kubelet endpoint: one at a time)
 *   accepted: HANDSHAKE (TLS only) -> OPEN
 * and FAILED with a sticky error from any of them. lwIP calls back from
 * cyw43_arch_poll() (pico_cyw43_arch_lwip_poll: one thread, no locks);
 * received pbufs wait in a per-slot chain until the core (plain TCP) or
 * Mbed TLS (through the BIO callbacks) reads them, and only then is the TCP
 * window reopened (tcp_recved), so lwIP's pool is what limits memory.
 * Connect plus handshake must finish within SHIM_TLS_HANDSHAKE_TIMEOUT_MS;
 * a TLS handshake does not start before the wall clock is known (SNTP),
 * because certificate dates are checked.
 *
 * TLS material comes from the config region's TLVs (flash_layout.h) and is
 * parsed in place; the key never leaves host memory and is never logged.
 * Without a client certificate there, the node's own identity
 * (identity.c, stored in flash) is presented.
 * TLS 1.2 sessions are kept per peer and resumed with tickets
 * (port_session_*).
 *
 * The kubelet endpoint (issue 5): a listening pcb whose new connections
 * wait in a short backlog until the core accepts them into a slot; their
 * data waits in lwIP meanwhile (the receive callback refuses it, lwIP keeps
 * it as refused data and offers it again, tcp_in.c). An accepted TLS
 * connection presents the serving certificate (key slot 1, identity.c) and
 * verifies a client certificate against the config region's client CA
 * (FLASH_TLV_CLIENT_CA_PEM) within SHIM_SERVER_HANDSHAKE_TIMEOUT_MS.
 *
 * k3s' agent tunnel (kubelet/tunnel.ts) dials the endpoint on 127.0.0.1 for
 * each connection the API server pipes through it. lwIP here has no
 * loopback interface; such a connection is a loop pair instead (port_loop_*):
 * two slots joined by two small byte rings, accepted from the listener's
 * backlog like any other, so the endpoint's TLS runs unchanged over it.
 */
#include <stdio.h>
#include <string.h>

#include "lwip/dns.h"
#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "mbedtls/net_sockets.h" /* MBEDTLS_ERR_NET_* codes only */
#include "mbedtls/pk.h"
#include "mbedtls/ssl.h"
#include "mbedtls/ssl_ticket.h"
#include "mbedtls/x509_crt.h"
#include "pico/cyw43_arch.h"
#include "pico/time.h"

#include "flash_layout.h"
#include "port.h"
#include "port_pico.h"
#include "shim_tls.h"

/* Mbed TLS has no error strings on the device (MBEDTLS_ERROR_C is off and
 * SHIM_TLS_VERIFY_TEXT is 0, device.cmake, to save flash): errors are
 * logged as -0x hex codes, rejected certificates with their verify flags. */

typedef enum {
  PORT_CONN_FREE = 0,
  PORT_CONN_RESOLVING,
  PORT_CONN_CONNECTING,
  PORT_CONN_HANDSHAKE,
  PORT_CONN_OPEN,
  PORT_CONN_LISTENING,
  PORT_CONN_FAILED
} port_conn_state_t;

typedef enum { PORT_ROLE_CLIENT = 0, PORT_ROLE_LISTENER, PORT_ROLE_ACCEPTED } port_role_t;

struct port_loop;

typedef struct {
  port_conn_state_t state;
  uint32_t flags;
  uint32_t generation;   /* bumped on every connect: stale DNS answers are ignored */
  int32_t error;         /* sticky error in PORT_CONN_FAILED */
  int error_reported;
  int want_write;
  int flush_pending;
  int just_opened;       /* report WRITABLE once when the slot becomes OPEN */
  int ssl_live;
  int rx_eof;            /* the peer sent FIN */
  int time_wait_logged;
  uint64_t deadline_ms;
  struct tcp_pcb *pcb;
  struct pbuf *rx;       /* received, not yet read */
  ip_addr_t addr;
  uint16_t port;          /* accepted: the peer's port; listener: the one it listens on */
  uint8_t ip_literal;
  uint8_t role;           /* port_role_t */
  uint64_t started_ms;    /* accepted: when, for the handshake time */
  char host[SHIM_NET_MAX_HOST + 1]; /* accepted: the peer's address */
  mbedtls_ssl_context ssl;
  shim_tls_peer_t peer;   /* accepted TLS: the client's identity */
  struct port_loop *loop; /* a loopback connection: its pair (no pcb) */
  uint8_t loop_side;      /* which end of it: 0 the dialer, 1 the accepted one */
} port_conn_t;

static port_conn_t port_conns[SHIM_MAX_CONNECTIONS];

/* Set when port_conn_release_pcb had to tcp_abort(): an lwIP callback that
 * caused it must then return ERR_ABRT (lwIP raw API rule, tcp.h). */
static int port_pcb_aborted;

/* Resumption of TLS 1.2 (RFC 5077 tickets): the last session per (host,
 * port, flags), offered on the next connect there. Over HTTP/2 the node
 * reconnects only after a GOAWAY, a server restart or a new certificate (the
 * API server ends watch streams, not the connection); a server without
 * HTTP/2 closes each watch's connection every 30-60 min. A resumed handshake
 * skips the ECDHE/ECDSA work (~0.9 s of CPU, DESIGN.md). Entries are per
 * (host, port, flags): the node talks to one API server, with its client
 * certificate or (while joining) without, so two entries serve every
 * connection (each ~0.7 KB of static RAM). A TLS 1.3 session is not kept
 * (port_session_save). */
#define PORT_PICO_SESSIONS 2u
typedef struct {
  int used;
  uint16_t port;
  uint32_t flags;
  char host[SHIM_NET_MAX_HOST + 1];
  mbedtls_ssl_session session;
} port_session_t;

static port_session_t port_sessions[PORT_PICO_SESSIONS];
static uint32_t port_session_next; /* round-robin replacement */

/* Connections the listener holds until the core accepts them (lwIP's own
 * backlog is not compiled in, TCP_LISTEN_BACKLOG 0): beyond these a new one
 * is reset at once. Each is a pcb and its unread data in lwIP's pools. */
#define PORT_PICO_PENDING_MAX 2u

typedef struct {
  struct tcp_pcb *pcb;     /* NULL: free (or reset by the peer meanwhile) */
  struct port_loop *loop;  /* or a loopback connection (then pcb is NULL) */
  int eof;                 /* the peer closed before it was accepted */
} port_pending_t;

static port_pending_t port_pending[PORT_PICO_PENDING_MAX];

/* Loopback connections at once: one per connection the tunnel pipes, each
 * of which takes one of the endpoint's SHIM_KUBELET_MAX_CONNS slots. */
#define PORT_PICO_LOOPS (SHIM_TUNNEL_CONNS > 1 ? SHIM_TUNNEL_CONNS - 1 : 1)
/* Bytes each direction of a loop pair holds. A writer that finds its ring
 * full waits as on a full TCP send buffer (Mbed TLS keeps the rest of its
 * record); 1 KiB carries the API server's requests in one piece and the
 * endpoint's 2 KiB records in two, for 2 KiB of static RAM per pair. */
#ifndef PORT_PICO_LOOP_BYTES
#define PORT_PICO_LOOP_BYTES 1024u
#endif

typedef struct {
  uint8_t buf[PORT_PICO_LOOP_BYTES];
  uint16_t head; /* index of the oldest byte */
  uint16_t len;
} port_ring_t;

/* A loopback connection: end 0 dialed, end 1 was accepted. End s writes
 * ring[s] and reads ring[1 - s]; an end that is gone (closed, failed or
 * never accepted) is NULL, which the other reads as EOF once its ring is
 * empty. The pair is free when both are gone and no backlog entry holds it. */
typedef struct port_loop {
  port_conn_t *end[2];
  int pending; /* in the listener's backlog, not accepted yet */
  int used;
  port_ring_t ring[2];
} port_loop_t;

static port_loop_t port_loops[PORT_PICO_LOOPS];

/* The listening slot (this port has one listener), or NULL. */
static const port_conn_t *port_listener(void) {
  uint32_t i;
  for (i = 0; i < SHIM_MAX_CONNECTIONS; i++) {
    if (port_conns[i].state == PORT_CONN_LISTENING) {
      return &port_conns[i];
    }
  }
  return NULL;
}

/* A free backlog entry, or NULL. */
static port_pending_t *port_pending_free(void) {
  uint32_t i;
  for (i = 0; i < PORT_PICO_PENDING_MAX; i++) {
    if (port_pending[i].pcb == NULL && port_pending[i].loop == NULL) {
      return &port_pending[i];
    }
  }
  return NULL;
}

/* Handshake counters for stats_read (SHIM_STAT_TLS_*), [0] the node's
 * connections (client), [1] accepted ones (server); connections accepted
 * into a slot and refused. */
typedef struct {
  uint32_t ok;
  uint32_t failed;
  uint64_t ms; /* in completed handshakes */
} port_handshakes_t;

static port_handshakes_t port_handshakes[2];
static uint32_t port_accepted;
static uint32_t port_refused;

static mbedtls_x509_crt port_ca;
static mbedtls_x509_crt port_client_ca; /* FLASH_TLV_CLIENT_CA_PEM: kubelet clients */
static int port_have_client_ca;
static mbedtls_x509_crt port_cert;
static mbedtls_pk_context port_key;
static mbedtls_ssl_config port_conf_server_only;
static mbedtls_ssl_config port_conf_client_cert;
static mbedtls_ssl_config port_conf_client_cert_http1; /* SHIM_NET_HTTP1: k3s' agent tunnel */
static int port_have_ca;
static int port_have_cert;

/* ---- lwIP callbacks ---- */

static void port_conn_fail(port_conn_t *c, int32_t error);
static int32_t port_pending_next(void);
static void port_pending_drop_all(void);

static err_t port_tcp_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
  port_conn_t *c = arg;
  (void)pcb;
  if (c == NULL) {
    if (p != NULL) {
      pbuf_free(p);
    }
    return ERR_OK;
  }
  if (p == NULL || err != ERR_OK) {
    c->rx_eof = 1;
    if (p != NULL) {
      pbuf_free(p);
    }
    return ERR_OK;
  }
  if (c->rx == NULL) {
    c->rx = p;
  } else {
    pbuf_cat(c->rx, p);
  }
  return ERR_OK;
}

/* The pcb is already freed by lwIP when this runs. */
static void port_tcp_err(void *arg, err_t err) {
  port_conn_t *c = arg;
  if (c == NULL) {
    return;
  }
  c->pcb = NULL;
  shim_log(SHIM_LOG_DEBUG, "net: %s:%u: lwIP error %d", c->host, (unsigned)c->port, (int)err);
  port_conn_fail(c, c->state == PORT_CONN_CONNECTING ? SHIM_E_CONNECT : SHIM_E_IO);
}

static int32_t port_tls_begin(port_conn_t *c);

static err_t port_tcp_connected(void *arg, struct tcp_pcb *pcb, err_t err) {
  port_conn_t *c = arg;
  (void)pcb;
  if (c == NULL || c->state != PORT_CONN_CONNECTING) {
    return ERR_OK;
  }
  if (err != ERR_OK) {
    port_pcb_aborted = 0;
    port_conn_fail(c, SHIM_E_CONNECT);
    return port_pcb_aborted ? ERR_ABRT : ERR_OK;
  }
  if ((c->flags & SHIM_NET_TLS) == 0) {
    c->state = PORT_CONN_OPEN;
    c->just_opened = 1;
    return ERR_OK;
  }
  port_pcb_aborted = 0;
  if (port_tls_begin(c) != SHIM_OK) {
    /* Failed (reported by port_wait); the pcb is closed or aborted. */
    return port_pcb_aborted ? ERR_ABRT : ERR_OK;
  }
  return ERR_OK;
}

/* ---- state helpers ---- */

/* Empties c for a new use, keeping its generation (late DNS answers for
 * what it held before stay recognisable, port_dns_found). */
static void port_conn_reset(port_conn_t *c) {
  uint32_t generation = c->generation;
  memset(c, 0, sizeof(*c));
  c->generation = generation;
}

static void port_loop_detach(port_conn_t *c);

static void port_conn_release_pcb(port_conn_t *c) {
  port_loop_detach(c);
  if (c->pcb != NULL && c->role == PORT_ROLE_LISTENER) {
    /* A listening pcb takes no recv/sent/err callbacks; closing it frees it. */
    tcp_arg(c->pcb, NULL);
    tcp_accept(c->pcb, NULL);
    (void)tcp_close(c->pcb);
    c->pcb = NULL;
  }
  if (c->pcb != NULL) {
    tcp_arg(c->pcb, NULL);
    tcp_recv(c->pcb, NULL);
    tcp_sent(c->pcb, NULL);
    tcp_err(c->pcb, NULL);
    if (tcp_close(c->pcb) != ERR_OK) {
      tcp_abort(c->pcb);
      port_pcb_aborted = 1;
    }
    c->pcb = NULL;
  }
  if (c->rx != NULL) {
    pbuf_free(c->rx);
    c->rx = NULL;
  }
}

static void port_conn_fail(port_conn_t *c, int32_t error) {
  if (c->state == PORT_CONN_FAILED || c->state == PORT_CONN_FREE) {
    return;
  }
  c->state = PORT_CONN_FAILED;
  c->error = error;
  c->want_write = 0;
  c->flush_pending = 0;
  port_conn_release_pcb(c);
}

static void port_tcp_start(port_conn_t *c) {
  err_t err;
  c->pcb = tcp_new_ip_type(IP_GET_TYPE(&c->addr));
  if (c->pcb == NULL) {
    port_conn_fail(c, SHIM_E_NOMEM);
    return;
  }
  tcp_arg(c->pcb, c);
  tcp_recv(c->pcb, port_tcp_recv);
  /* No sent callback: port_wait looks at tcp_sndbuf() (lwIP skips a NULL one). */
  tcp_err(c->pcb, port_tcp_err);
  /* Requests are small and latency matters more than packet count. */
  tcp_nagle_disable(c->pcb);
  c->state = PORT_CONN_CONNECTING;
  err = tcp_connect(c->pcb, &c->addr, c->port, port_tcp_connected);
  if (err != ERR_OK) {
    shim_log(SHIM_LOG_ERROR, "net: cannot connect to %s:%u (lwIP %d)", c->host, (unsigned)c->port,
             (int)err);
    port_conn_fail(c, err == ERR_MEM ? SHIM_E_NOMEM : SHIM_E_CONNECT);
  }
}

static void port_dns_found(const char *name, const ip_addr_t *addr, void *arg) {
  uintptr_t tag = (uintptr_t)arg;
  uint32_t slot = (uint32_t)(tag & 0xFFu);
  port_conn_t *c;
  (void)name;
  if (slot >= SHIM_MAX_CONNECTIONS) {
    return;
  }
  c = &port_conns[slot];
  /* The slot may have been closed and reused while DNS was running. */
  if (c->state != PORT_CONN_RESOLVING || (uint32_t)(tag >> 8) != (c->generation & 0xFFFFFFu)) {
    return;
  }
  if (addr == NULL) {
    shim_log(SHIM_LOG_ERROR, "net: cannot resolve %s", c->host);
    port_conn_fail(c, SHIM_E_CONNECT);
    return;
  }
  ip_addr_copy(c->addr, *addr);
  port_tcp_start(c);
}

/* CPU busy time is the time not spent waiting for work in port_wait (the
 * core sleeps there: cyw43_arch_wait_for_work_until, WFE on the board);
 * bytes are TCP payload, TLS records included (SHIM_STAT_* in shim_abi.h). */
static uint64_t port_idle_us;
static uint64_t port_bytes_sent;
static uint64_t port_bytes_received;

/* ---- loopback pairs ---- */

static size_t port_ring_put(port_ring_t *r, const uint8_t *p, size_t n) {
  size_t done = 0;
  while (done < n && r->len < PORT_PICO_LOOP_BYTES) {
    size_t tail = ((size_t)r->head + r->len) % PORT_PICO_LOOP_BYTES;
    size_t run = tail >= r->head ? PORT_PICO_LOOP_BYTES - tail : r->head - tail;
    if (run > n - done) {
      run = n - done;
    }
    memcpy(r->buf + tail, p + done, run);
    r->len = (uint16_t)(r->len + run);
    done += run;
  }
  return done;
}

static size_t port_ring_get(port_ring_t *r, uint8_t *p, size_t n) {
  size_t done = 0;
  while (done < n && r->len > 0) {
    size_t run = PORT_PICO_LOOP_BYTES - r->head;
    if (run > r->len) {
      run = r->len;
    }
    if (run > n - done) {
      run = n - done;
    }
    memcpy(p + done, r->buf + r->head, run);
    r->head = (uint16_t)((r->head + run) % PORT_PICO_LOOP_BYTES);
    r->len = (uint16_t)(r->len - run);
    done += run;
  }
  return done;
}

/* The other end of c's loop pair is gone: closed, failed, refused, or
 * (for the dialer) never to be accepted. */
static int port_loop_peer_gone(const port_conn_t *c) {
  const port_loop_t *l = c->loop;
  return l->end[1 - c->loop_side] == NULL && !(c->loop_side == 0 && l->pending);
}

/* The peer will send nothing more and everything it sent is read. */
static int port_conn_eof(const port_conn_t *c) {
  if (c->loop != NULL) {
    return c->loop->ring[1 - c->loop_side].len == 0 && port_loop_peer_gone(c);
  }
  return c->rx_eof;
}

/* Whether c has received bytes not read yet. */
static int port_conn_has_rx(const port_conn_t *c) {
  return c->loop != NULL ? c->loop->ring[1 - c->loop_side].len > 0 : c->rx != NULL;
}

/* Whether a send on c would take a byte now (or report the peer gone). */
static int port_conn_room(const port_conn_t *c) {
  if (c->loop != NULL) {
    return c->loop->ring[c->loop_side].len < PORT_PICO_LOOP_BYTES || port_loop_peer_gone(c);
  }
  return c->pcb != NULL && tcp_sndbuf(c->pcb) > 0;
}

/* Takes the pair out of the listener's backlog (the dialer gave up, or the
 * listener closed). */
static void port_loop_unqueue(port_loop_t *l) {
  uint32_t i;
  for (i = 0; i < PORT_PICO_PENDING_MAX; i++) {
    if (port_pending[i].loop == l) {
      port_pending[i].loop = NULL;
    }
  }
  l->pending = 0;
}

static void port_loop_release(port_loop_t *l) {
  if (l->end[0] == NULL && l->end[1] == NULL && !l->pending) {
    l->used = 0;
  }
}

/* A pair in the backlog that will not be accepted: the dialer reads EOF. */
static void port_loop_refuse(port_loop_t *l) {
  port_loop_unqueue(l);
  port_loop_release(l);
}

/* c lets go of its pair (closed or failed). */
static void port_loop_detach(port_conn_t *c) {
  port_loop_t *l = c->loop;
  if (l == NULL) {
    return;
  }
  l->end[c->loop_side] = NULL;
  if (c->loop_side == 0 && l->pending) {
    port_loop_unqueue(l);
  }
  c->loop = NULL;
  port_loop_release(l);
}

/* A plain TCP connect to this device's own listener (host 127.0.0.1 or
 * localhost, c->port): open at once, as a TCP connect is once the listener's
 * backlog holds it; refused (SHIM_E_CONNECT, as a reset) when nothing
 * listens there or the backlog is full. */
static void port_loop_connect(port_conn_t *c) {
  const port_conn_t *listener = port_listener();
  int listening = listener != NULL && listener->port == c->port;
  port_pending_t *e = port_pending_free();
  port_loop_t *l = NULL;
  uint32_t i;
  for (i = 0; i < PORT_PICO_LOOPS && l == NULL; i++) {
    if (!port_loops[i].used) {
      l = &port_loops[i];
    }
  }
  if (!listening || l == NULL || e == NULL) {
    shim_log(SHIM_LOG_WARN, "net: %s:%u: %s", c->host, (unsigned)c->port,
             !listening ? "nothing listens there" : "the listener's backlog is full");
    if (listening) {
      port_refused++; /* as a connection the listener turned away */
    }
    port_conn_fail(c, SHIM_E_CONNECT);
    return;
  }
  memset(l, 0, sizeof(*l));
  l->used = 1;
  l->pending = 1;
  l->end[0] = c;
  c->loop = l;
  c->loop_side = 0;
  e->loop = l;
  e->eof = 0;
  c->state = PORT_CONN_OPEN;
  c->just_opened = 1;
}

/* ---- BIO for Mbed TLS ---- */

static int port_bio_send(void *ctx, const unsigned char *buf, size_t len) {
  port_conn_t *c = ctx;
  u16_t room;
  err_t err;
  if (c->loop != NULL) {
    size_t n;
    if (port_loop_peer_gone(c)) {
      return MBEDTLS_ERR_NET_CONN_RESET;
    }
    n = port_ring_put(&c->loop->ring[c->loop_side], buf, len);
    return n > 0 ? (int)n : MBEDTLS_ERR_SSL_WANT_WRITE;
  }
  if (c->pcb == NULL) {
    return MBEDTLS_ERR_NET_CONN_RESET;
  }
  room = tcp_sndbuf(c->pcb);
  if (room == 0 || tcp_sndqueuelen(c->pcb) >= TCP_SND_QUEUELEN) {
    return MBEDTLS_ERR_SSL_WANT_WRITE;
  }
  if (len > room) {
    len = room;
  }
  err = tcp_write(c->pcb, buf, (u16_t)len, TCP_WRITE_FLAG_COPY);
  if (err == ERR_MEM) {
    return MBEDTLS_ERR_SSL_WANT_WRITE;
  }
  if (err != ERR_OK) {
    return MBEDTLS_ERR_NET_SEND_FAILED;
  }
  (void)tcp_output(c->pcb);
  port_bytes_sent += len;
  return (int)len;
}

/* Copies up to len bytes out of the receive chain and reopens the window. */
static size_t port_rx_take(port_conn_t *c, unsigned char *buf, size_t len) {
  size_t n;
  if (c->loop != NULL) {
    return port_ring_get(&c->loop->ring[1 - c->loop_side], buf, len); /* not network bytes */
  }
  if (c->rx == NULL) {
    return 0;
  }
  n = c->rx->tot_len < len ? c->rx->tot_len : len;
  pbuf_copy_partial(c->rx, buf, (u16_t)n, 0);
  c->rx = pbuf_free_header(c->rx, (u16_t)n);
  if (c->pcb != NULL) {
    tcp_recved(c->pcb, (u16_t)n);
  }
  port_bytes_received += n;
  return n;
}

static int port_bio_recv(void *ctx, unsigned char *buf, size_t len) {
  port_conn_t *c = ctx;
  size_t n;
  if (len > 0xFFFFu) {
    len = 0xFFFFu;
  }
  n = port_rx_take(c, buf, len);
  if (n > 0) {
    return (int)n;
  }
  if (port_conn_eof(c)) {
    return 0; /* Mbed TLS reports MBEDTLS_ERR_SSL_CONN_EOF */
  }
  return c->pcb == NULL && c->loop == NULL ? MBEDTLS_ERR_NET_CONN_RESET
                                           : MBEDTLS_ERR_SSL_WANT_READ;
}

/* ---- TLS material ---- */

/* A PEM TLV: must end with its NUL, which Mbed TLS counts in the length. */
static const unsigned char *port_pem_tlv(uint32_t type, size_t *len) {
  const uint8_t *p = port_pico_config_tlv(type, len);
  if (p == NULL || *len == 0 || p[*len - 1] != '\0') {
    return NULL;
  }
  return p;
}

/* A client configuration verifying the server against the CA bundle; with
 * crt/key (both or neither) it also presents that client certificate. */
int port_pico_client_conf(mbedtls_ssl_config *conf, mbedtls_x509_crt *crt,
                          mbedtls_pk_context *key, uint32_t flags) {
  return shim_tls_conf_client(conf, &port_ca, crt, key, flags);
}

const mbedtls_x509_crt *port_pico_static_cert(void) {
  return port_have_cert ? &port_cert : NULL;
}

int port_pico_server_conf(mbedtls_ssl_config *conf, mbedtls_x509_crt *crt,
                          mbedtls_pk_context *key) {
  return shim_tls_conf_server(conf, &port_client_ca, crt, key);
}

int port_pico_kubelet_ready(void) {
#if defined(MBEDTLS_SSL_SRV_C)
  return port_have_client_ca;
#else
  return 0;
#endif
}

/* Logs that a TLS TLV of the config region does not parse: SHIM_E_INVAL. */
static int32_t port_tls_invalid(const char *what, int ret) {
  shim_log(SHIM_LOG_ERROR, "tls: the %s in the config region is not valid (-0x%04x)", what,
           (unsigned)-ret);
  return SHIM_E_INVAL;
}

int32_t port_pico_tls_load(void) {
  size_t ca_len = 0;
  size_t cert_len = 0;
  size_t key_len = 0;
  const unsigned char *ca = port_pem_tlv(FLASH_TLV_CA_PEM, &ca_len);
  const unsigned char *cert = port_pem_tlv(FLASH_TLV_CERT_PEM, &cert_len);
  const unsigned char *key = port_pem_tlv(FLASH_TLV_KEY_PEM, &key_len);
  size_t client_ca_len = 0;
  const unsigned char *client_ca = port_pem_tlv(FLASH_TLV_CLIENT_CA_PEM, &client_ca_len);
  int ret;

  if (shim_tls_init() != SHIM_OK) {
    return SHIM_E_TLS;
  }
  mbedtls_x509_crt_init(&port_ca);
  mbedtls_x509_crt_init(&port_client_ca);
  mbedtls_x509_crt_init(&port_cert);
  mbedtls_pk_init(&port_key);
  mbedtls_ssl_config_init(&port_conf_server_only);
  mbedtls_ssl_config_init(&port_conf_client_cert);
  mbedtls_ssl_config_init(&port_conf_client_cert_http1);
  if ((cert == NULL) != (key == NULL)) {
    shim_log(SHIM_LOG_ERROR, "tls: the client certificate and key must be set together");
    return SHIM_E_INVAL;
  }
  /* The pin covers the bundle's text: the TLV without its NUL (uf2.mjs). */
  if (shim_tls_ca_hash_check(ca, ca != NULL ? ca_len - 1u : 0u, "in the config region") !=
      SHIM_OK) {
    return SHIM_E_CERT;
  }
  if (ca != NULL && (ret = mbedtls_x509_crt_parse(&port_ca, ca, ca_len)) != 0) {
    return port_tls_invalid("CA bundle", ret);
  }
  if (client_ca != NULL &&
      (ret = mbedtls_x509_crt_parse(&port_client_ca, client_ca, client_ca_len)) != 0) {
    return port_tls_invalid("client CA bundle", ret);
  }
  if (cert != NULL && (ret = mbedtls_x509_crt_parse(&port_cert, cert, cert_len)) != 0) {
    return port_tls_invalid("client certificate", ret);
  }
  if (cert != NULL &&
      (ret = mbedtls_pk_parse_key(&port_key, key, key_len, NULL, 0, shim_tls_random,
                                  NULL)) != 0) {
    return port_tls_invalid("client key", ret);
  }
  ret = port_pico_client_conf(&port_conf_server_only, NULL, NULL, 0u);
  if (ret == 0 && cert != NULL) {
    ret = port_pico_client_conf(&port_conf_client_cert, &port_cert, &port_key, 0u);
  }
  if (ret == 0 && cert != NULL) {
    ret = port_pico_client_conf(&port_conf_client_cert_http1, &port_cert, &port_key,
                                SHIM_NET_HTTP1);
  }
  if (ret != 0) {
    shim_log(SHIM_LOG_ERROR, "tls: configuration failed (-0x%04x)", (unsigned)-ret);
    return SHIM_E_TLS;
  }
  port_have_ca = ca != NULL;
  port_have_client_ca = client_ca != NULL;
  port_have_cert = cert != NULL;
  return SHIM_OK;
}

/* ---- session cache ---- */

static port_session_t *port_session_find(const port_conn_t *c) {
  uint32_t i;
  for (i = 0; i < PORT_PICO_SESSIONS; i++) {
    port_session_t *e = &port_sessions[i];
    if (e->used && e->port == c->port && e->flags == c->flags && strcmp(e->host, c->host) == 0) {
      return e;
    }
  }
  return NULL;
}

static void port_session_drop(port_session_t *e) {
  if (e != NULL && e->used) {
    mbedtls_ssl_session_free(&e->session);
    e->used = 0;
  }
}

/* Saves the session of a finished handshake (replacing the entry for the
 * same peer, else the oldest). */
static void port_session_save(const port_conn_t *c) {
  port_session_t *e = port_session_find(c);
#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
  /* A TLS 1.3 session holds no ticket (the client offers no PSK key
   * exchange mode, mbedtls_config.h), only the peer's chain; offered again it
   * would pin the next ClientHello to TLS 1.3 (Mbed TLS ssl_client.c,
   * ssl_prepare_client_hello). An older TLS 1.2 entry for this peer goes too:
   * it would pin the next one to TLS 1.2. */
  if (mbedtls_ssl_get_version_number(&c->ssl) == MBEDTLS_SSL_VERSION_TLS1_3) {
    port_session_drop(e);
    return;
  }
#endif
  if (e == NULL) {
    e = &port_sessions[port_session_next];
    port_session_next = (port_session_next + 1u) % PORT_PICO_SESSIONS;
  }
  port_session_drop(e);
  mbedtls_ssl_session_init(&e->session);
  if (mbedtls_ssl_get_session(&c->ssl, &e->session) != 0) {
    mbedtls_ssl_session_free(&e->session);
    return;
  }
  e->used = 1;
  e->port = c->port;
  e->flags = c->flags;
  snprintf(e->host, sizeof(e->host), "%s", c->host);
}

/* ---- TLS state machine ---- */

static int32_t port_tls_begin(port_conn_t *c) {
  mbedtls_ssl_config *conf = &port_conf_server_only;
  int32_t rc;
  if ((c->flags & SHIM_NET_CLIENT_CERT) != 0) {
    /* The operator's static identity wins over the node's own; HTTP/1.1
     * only (the tunnel) has its own twin of each. */
    int http1 = (c->flags & SHIM_NET_HTTP1) != 0;
    conf = port_have_cert ? (http1 ? &port_conf_client_cert_http1 : &port_conf_client_cert)
                          : port_pico_identity_conf(http1);
  }
  c->ssl_live = 1;
  /* lwIP here is IPv4 only (lwipopts.h): a literal is 4 bytes. */
  rc = shim_tls_session_start(&c->ssl, conf, c->host, c->port,
                              (const uint8_t *)&ip_2_ip4(&c->addr)->addr, c->ip_literal ? 4u : 0u);
  if (rc != SHIM_OK) {
    port_conn_fail(c, rc);
    return rc;
  }
  {
    port_session_t *e = port_session_find(c);
    if (e != NULL && mbedtls_ssl_set_session(&c->ssl, &e->session) != 0) {
      port_session_drop(e); /* unusable: full handshake */
    }
  }
  mbedtls_ssl_set_bio(&c->ssl, c, port_bio_send, port_bio_recv, NULL);
  c->state = PORT_CONN_HANDSHAKE;
  return SHIM_OK;
}

/* Counts c's handshake as done (ok) or failed, on its side. */
static void port_handshake_count(const port_conn_t *c, int ok) {
  port_handshakes_t *k = &port_handshakes[c->role == PORT_ROLE_ACCEPTED ? 1 : 0];
  if (ok) {
    k->ok++;
    k->ms += port_now_ms() - c->started_ms;
  } else {
    k->failed++;
  }
}

/* Advances the slot as far as it goes without blocking: SHIM_OK when open,
 * SHIM_E_AGAIN while in progress, or the sticky error. */
static int32_t port_conn_progress(port_conn_t *c) {
  int32_t ret;
  if (c->state == PORT_CONN_FAILED) {
    return c->error;
  }
  if (c->state == PORT_CONN_LISTENING) {
    return SHIM_OK;
  }
  if (c->state != PORT_CONN_OPEN && port_now_ms() >= c->deadline_ms) {
    /* An accepted client that stalls is its own problem: a warning. */
    int accepted = c->role == PORT_ROLE_ACCEPTED;
    shim_log(accepted ? SHIM_LOG_WARN : SHIM_LOG_ERROR, "net: %s%s:%u: %s not done within %u ms",
             accepted ? "client " : "", c->host, (unsigned)c->port,
             c->state == PORT_CONN_HANDSHAKE ? "TLS handshake" : "connect",
             (unsigned)(accepted ? SHIM_SERVER_HANDSHAKE_TIMEOUT_MS : SHIM_TLS_HANDSHAKE_TIMEOUT_MS));
    if (c->state == PORT_CONN_HANDSHAKE) {
      port_handshake_count(c, 0);
    }
    port_conn_fail(c, SHIM_E_TIMEOUT);
    return SHIM_E_TIMEOUT;
  }
  if (c->state == PORT_CONN_RESOLVING || c->state == PORT_CONN_CONNECTING) {
    return SHIM_E_AGAIN;
  }
  if (c->state == PORT_CONN_HANDSHAKE) {
    if (port_wall_ms() == 0) {
      /* Certificate dates cannot be checked before SNTP answered. */
      if (!c->time_wait_logged) {
        shim_log(SHIM_LOG_INFO, "tls: %s: waiting for the time (SNTP) before the handshake",
                 c->host);
        c->time_wait_logged = 1;
      }
      return SHIM_E_AGAIN;
    }
    port_pico_watchdog_feed(); /* a handshake step may take ~0.7 s of CPU */
    ret = shim_tls_handshake(&c->ssl, c->host, c->port, &c->want_write);
    if (ret == SHIM_E_AGAIN) {
      return ret;
    }
    port_handshake_count(c, ret == SHIM_OK);
    if (ret != SHIM_OK) {
      if (c->role != PORT_ROLE_ACCEPTED) {
        port_session_drop(port_session_find(c)); /* never retry a failed session */
      }
      port_conn_fail(c, ret);
      return ret;
    }
    if (c->role == PORT_ROLE_ACCEPTED) {
      shim_tls_peer_settle(&c->ssl, &c->peer, c->host, c->port);
    } else {
      port_session_save(c);
    }
    c->state = PORT_CONN_OPEN;
    c->just_opened = 1;
  }
  if (c->state == PORT_CONN_OPEN && c->flush_pending) {
    ret = shim_tls_flush(&c->ssl);
    c->want_write = ret == SHIM_E_AGAIN;
    if (ret == SHIM_E_AGAIN) {
      return SHIM_OK;
    }
    c->flush_pending = 0;
    if (ret != SHIM_OK) {
      port_conn_fail(c, ret);
      return ret;
    }
  }
  return SHIM_OK;
}

/* ---- port.h ---- */

/* A connection (not a listener) in slot for send, recv or a query into
 * buf: *c set and its progress (SHIM_OK when open, SHIM_E_AGAIN, the sticky
 * error), or SHIM_E_INVAL. */
static int32_t port_conn_use(uint32_t slot, const void *buf, port_conn_t **c) {
  if (slot >= SHIM_MAX_CONNECTIONS || buf == NULL || port_conns[slot].state == PORT_CONN_FREE ||
      port_conns[slot].role == PORT_ROLE_LISTENER) {
    return SHIM_E_INVAL;
  }
  *c = &port_conns[slot];
  return port_conn_progress(*c);
}

int32_t port_net_connect(uint32_t slot, const char *host, uint16_t port, uint32_t flags) {
  port_conn_t *c;
  uint32_t generation;
  err_t err;

  if (slot >= SHIM_MAX_CONNECTIONS || host == NULL || port == 0) {
    return SHIM_E_INVAL;
  }
  c = &port_conns[slot];
  if (c->state != PORT_CONN_FREE) {
    return SHIM_E_INVAL;
  }
  /* The one user of SHIM_NET_HTTP1, k3s' agent tunnel, always presents the
   * node's certificate: only those configurations have an HTTP/1.1 twin. */
  if ((flags & SHIM_NET_HTTP1) != 0 &&
      (flags & (SHIM_NET_TLS | SHIM_NET_CLIENT_CERT)) != (SHIM_NET_TLS | SHIM_NET_CLIENT_CERT)) {
    return SHIM_E_UNSUPPORTED;
  }
  if ((flags & SHIM_NET_TLS) != 0 && !port_have_ca) {
    shim_log(SHIM_LOG_ERROR, "tls: no CA bundle in the config region: cannot verify %s", host);
    return SHIM_E_UNSUPPORTED;
  }
  if ((flags & SHIM_NET_CLIENT_CERT) != 0 && !port_have_cert && port_pico_identity_conf(0) == NULL) {
    shim_log(SHIM_LOG_ERROR, "tls: no client certificate (config region or node identity)");
    return SHIM_E_UNSUPPORTED;
  }
  port_conn_reset(c);
  generation = ++c->generation;
  c->flags = flags;
  c->port = port;
  snprintf(c->host, sizeof(c->host), "%s", host);
  c->deadline_ms = port_now_ms() + SHIM_TLS_HANDSHAKE_TIMEOUT_MS;
  c->started_ms = port_now_ms();
  c->state = PORT_CONN_RESOLVING;
  if ((flags & SHIM_NET_TLS) == 0 && (strcmp(host, "127.0.0.1") == 0 || strcmp(host, "localhost") == 0)) {
    port_loop_connect(c);
    return SHIM_OK;
  }
  if (!port_pico_wifi_up()) {
    shim_log(SHIM_LOG_WARN, "net: %s:%u: Wi-Fi is not up", host, (unsigned)port);
    port_conn_fail(c, SHIM_E_CONNECT);
    return SHIM_OK;
  }
  c->ip_literal = ipaddr_aton(host, &c->addr) != 0;
  if (c->ip_literal) {
    port_tcp_start(c);
    return SHIM_OK;
  }
  /* The tag carries the slot and the generation so a late answer for a
   * closed slot is dropped (port_dns_found). */
  err = dns_gethostbyname(c->host, &c->addr, port_dns_found,
                          (void *)(uintptr_t)(slot | ((generation & 0xFFFFFFu) << 8)));
  if (err == ERR_OK) {
    port_tcp_start(c);
  } else if (err != ERR_INPROGRESS) {
    shim_log(SHIM_LOG_ERROR, "net: cannot resolve %s (lwIP %d)", host, (int)err);
    port_conn_fail(c, SHIM_E_CONNECT);
  }
  return SHIM_OK;
}

int32_t port_net_send(uint32_t slot, const uint8_t *buf, size_t len) {
  port_conn_t *c = NULL;
  int32_t rc = port_conn_use(slot, buf, &c);
  if (rc != SHIM_OK) {
    return rc;
  }
  if (c->flush_pending) {
    return SHIM_E_AGAIN;
  }
  if (len == 0) {
    return 0; /* nothing waits here: lwIP sends what it took, also after tcp_close */
  }
  if (c->loop != NULL && port_loop_peer_gone(c)) {
    /* The endpoint closed its end (after an answer): as EPIPE after a FIN,
     * expected, so not logged. */
    port_conn_fail(c, SHIM_E_CLOSED);
    return SHIM_E_CLOSED;
  }
  if ((c->flags & SHIM_NET_TLS) == 0) {
    int n = port_bio_send(c, buf, len);
    if (n > 0) {
      c->want_write = 0;
      return n;
    }
    if (n == MBEDTLS_ERR_SSL_WANT_WRITE) {
      c->want_write = 1;
      return SHIM_E_AGAIN;
    }
    shim_log(SHIM_LOG_WARN, "net: send to %s:%u failed", c->host, (unsigned)c->port);
    port_conn_fail(c, SHIM_E_IO);
    return SHIM_E_IO;
  }
  /* A partly sent record is flushed by port_conn_progress. */
  rc = shim_tls_write(&c->ssl, buf, len, c->host, c->port, &c->flush_pending);
  if (rc > 0) {
    c->want_write = c->flush_pending;
  } else if (rc != SHIM_E_AGAIN) {
    port_conn_fail(c, rc);
  }
  return rc;
}

int32_t port_net_recv(uint32_t slot, uint8_t *buf, size_t cap) {
  port_conn_t *c = NULL;
  int32_t rc = port_conn_use(slot, buf, &c);
  if (rc != SHIM_OK) {
    return rc;
  }
  if (cap > 0xFFFFu) {
    cap = 0xFFFFu;
  }
  if ((c->flags & SHIM_NET_TLS) == 0) {
    size_t n = port_rx_take(c, buf, cap);
    if (n > 0) {
      return (int32_t)n;
    }
    if (port_conn_eof(c)) {
      return SHIM_E_CLOSED;
    }
    return SHIM_E_AGAIN;
  }
  rc = shim_tls_read(&c->ssl, buf, cap, c->host, c->port);
  if (rc < 0 && rc != SHIM_E_AGAIN && rc != SHIM_E_CLOSED) {
    port_conn_fail(c, rc);
  }
  return rc;
}

int32_t port_net_close(uint32_t slot) {
  port_conn_t *c;
  if (slot >= SHIM_MAX_CONNECTIONS || port_conns[slot].state == PORT_CONN_FREE) {
    return SHIM_E_INVAL;
  }
  c = &port_conns[slot];
  if (c->role == PORT_ROLE_LISTENER) {
    port_pending_drop_all();
  }
  if (c->state == PORT_CONN_OPEN && (c->flags & SHIM_NET_TLS) != 0 &&
      (c->pcb != NULL || c->loop != NULL)) {
    (void)mbedtls_ssl_close_notify(&c->ssl); /* one non-blocking try */
  }
  if (c->ssl_live) {
    mbedtls_ssl_free(&c->ssl);
  }
  port_conn_release_pcb(c);
  port_conn_reset(c); /* PORT_CONN_FREE */
  return SHIM_OK;
}

uint32_t port_net_interest(uint32_t slot) {
  port_conn_t *c;
  if (slot >= SHIM_MAX_CONNECTIONS) {
    return 0;
  }
  c = &port_conns[slot];
  switch (c->state) {
    case PORT_CONN_RESOLVING:
    case PORT_CONN_CONNECTING:
      return SHIM_EV_WRITABLE;
    case PORT_CONN_LISTENING:
      return SHIM_EV_READABLE;
    case PORT_CONN_HANDSHAKE:
    case PORT_CONN_OPEN:
      return SHIM_EV_READABLE | ((c->want_write || c->flush_pending) ? SHIM_EV_WRITABLE : 0u);
    case PORT_CONN_FAILED:
      return c->error_reported ? 0u : SHIM_EV_ERROR;
    default:
      return 0;
  }
}

/* What the core should hear about slot i now (0 = nothing); advances
 * handshakes and flushes. */
static uint32_t port_slot_ready(uint32_t i, uint32_t interest) {
  port_conn_t *c = &port_conns[i];
  uint32_t flags = 0;

  if (c->state == PORT_CONN_FREE) {
    return 0;
  }
  if (c->state == PORT_CONN_LISTENING) {
    return (interest & SHIM_EV_READABLE) != 0 && port_pending_next() >= 0 ? SHIM_EV_READABLE : 0u;
  }
  if (c->state != PORT_CONN_FAILED &&
      (c->state != PORT_CONN_OPEN || c->flush_pending)) {
    (void)port_conn_progress(c);
  }
  if (c->state == PORT_CONN_FAILED) {
    if (c->error_reported) {
      return 0;
    }
    c->error_reported = 1;
    return SHIM_EV_ERROR;
  }
  if (c->state != PORT_CONN_OPEN) {
    return 0; /* still setting up: nothing for the core yet */
  }
  if (c->just_opened) {
    c->just_opened = 0;
    flags |= SHIM_EV_WRITABLE; /* just opened: the core may send now */
  }
  if ((interest & SHIM_EV_READABLE) != 0 &&
      (port_conn_has_rx(c) || port_conn_eof(c) ||
       ((c->flags & SHIM_NET_TLS) != 0 && mbedtls_ssl_get_bytes_avail(&c->ssl) > 0))) {
    flags |= SHIM_EV_READABLE;
  }
  if ((interest & SHIM_EV_WRITABLE) != 0 && !c->flush_pending && port_conn_room(c)) {
    flags |= SHIM_EV_WRITABLE;
    c->want_write = 0;
  }
  return flags;
}

/* Longest single sleep inside port_wait: keeps the LED blinking and the
 * Wi-Fi state machine and watchdog serviced. */
#define PORT_PICO_WAIT_SLICE_MS 50u

int32_t port_wait(const uint32_t *interest, uint32_t *ready, uint32_t count,
                  uint32_t timeout_ms) {
  uint64_t deadline = port_now_ms() + timeout_ms;
  int32_t nready;
  uint32_t i;

  if (interest == NULL || ready == NULL) {
    return SHIM_E_INVAL;
  }
  if (count > SHIM_MAX_CONNECTIONS) {
    count = SHIM_MAX_CONNECTIONS;
  }
  for (;;) {
    uint64_t now;
    port_pico_watchdog_feed();
    cyw43_arch_poll(); /* runs the driver and lwIP: our callbacks fire here */
    port_pico_wifi_service();
    port_pico_led_tick();
    nready = 0;
    for (i = 0; i < count; i++) {
      ready[i] = interest[i] != 0 ? port_slot_ready(i, interest[i]) : 0u;
      if (ready[i] != 0) {
        nready++;
      }
    }
    now = port_now_ms();
    if (nready > 0 || now >= deadline) {
      return nready;
    }
    {
      uint64_t until = deadline - now > PORT_PICO_WAIT_SLICE_MS ? now + PORT_PICO_WAIT_SLICE_MS
                                                                 : deadline;
      uint64_t idle_from = time_us_64();
      cyw43_arch_wait_for_work_until(from_us_since_boot(until * 1000u));
      port_idle_us += time_us_64() - idle_from;
    }
  }
}

/* A TLS query (ALPN, peer) on slot: SHIM_OK with *c the open connection,
 * left NULL for a plain TCP one (nothing was negotiated: the query answers
 * 0), else what port_conn_use says (SHIM_E_INVAL also for a connection the
 * node opened, with accepted_only). */
static int32_t port_tls_query(uint32_t slot, const uint8_t *out, int accepted_only,
                              port_conn_t **c) {
  port_conn_t *open = NULL;
  int32_t rc;
  if (accepted_only && slot < SHIM_MAX_CONNECTIONS && port_conns[slot].role != PORT_ROLE_ACCEPTED) {
    return SHIM_E_INVAL;
  }
  rc = port_conn_use(slot, out, &open);
  if (rc == SHIM_OK && (open->flags & SHIM_NET_TLS) != 0) {
    *c = open;
  }
  return rc;
}

int32_t port_net_alpn(uint32_t slot, uint8_t *out, size_t cap) {
  port_conn_t *c = NULL;
  int32_t rc = port_tls_query(slot, out, 0, &c);
  /* An accepted connection answers 0: the server side offers no ALPN. */
  return c == NULL ? rc : shim_tls_alpn_copy(&c->ssl, out, cap);
}

/* ---- the kubelet endpoint (issue 5): listening and accepting ---- */

/* Not accepted yet: lwIP keeps the data and offers it again later. */
static err_t port_tcp_recv_pending(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
  port_pending_t *e = arg;
  (void)pcb;
  (void)err;
  if (p == NULL) {
    if (e != NULL) {
      e->eof = 1;
    }
    return ERR_OK;
  }
  return ERR_MEM;
}

/* The pcb is already freed by lwIP when this runs. */
static void port_tcp_err_pending(void *arg, err_t err) {
  port_pending_t *e = arg;
  (void)err;
  if (e != NULL) {
    e->pcb = NULL;
  }
}

static err_t port_tcp_accept(void *arg, struct tcp_pcb *pcb, err_t err) {
  port_pending_t *e;
  (void)arg;
  if (err != ERR_OK || pcb == NULL) {
    return ERR_VAL;
  }
  e = port_pending_free();
  if (e == NULL) {
    port_refused++;
    tcp_abort(pcb);
    return ERR_ABRT;
  }
  e->pcb = pcb;
  e->eof = 0;
  tcp_arg(pcb, e);
  tcp_recv(pcb, port_tcp_recv_pending);
  tcp_err(pcb, port_tcp_err_pending);
  return ERR_OK;
}


/* The index of a connection waiting to be accepted, or -1. */
static int32_t port_pending_next(void) {
  uint32_t i;
  for (i = 0; i < PORT_PICO_PENDING_MAX; i++) {
    if (port_pending[i].pcb != NULL || port_pending[i].loop != NULL) {
      return (int32_t)i;
    }
  }
  return -1;
}

/* Closes a pcb nobody reads (a refused or dropped pending connection). */
static void port_pcb_discard(struct tcp_pcb *pcb) {
  tcp_arg(pcb, NULL);
  tcp_recv(pcb, NULL);
  tcp_err(pcb, NULL);
  if (tcp_close(pcb) != ERR_OK) {
    tcp_abort(pcb);
  }
}

static void port_pending_drop_all(void) {
  uint32_t i;
  for (i = 0; i < PORT_PICO_PENDING_MAX; i++) {
    port_loop_t *l = port_pending[i].loop;
    if (port_pending[i].pcb != NULL) {
      port_pcb_discard(port_pending[i].pcb);
      port_pending[i].pcb = NULL;
    }
    if (l != NULL) {
      port_loop_refuse(l);
    }
  }
}

int32_t port_net_listen(uint32_t slot, uint16_t port, uint32_t flags) {
  port_conn_t *c;
  struct tcp_pcb *pcb;
  struct tcp_pcb *lpcb;

  if (slot >= SHIM_MAX_CONNECTIONS || port == 0 || (flags & ~SHIM_NET_TLS) != 0 ||
      port_conns[slot].state != PORT_CONN_FREE) {
    return SHIM_E_INVAL;
  }
  if (port_listener() != NULL) {
    shim_log(SHIM_LOG_ERROR, "net: cannot listen on port %u: this port has one listener",
             (unsigned)port);
    return SHIM_E_INVAL;
  }
  if ((flags & SHIM_NET_TLS) != 0 &&
      shim_tls_serve_check(port, port_pico_serving_conf() != NULL, port_have_client_ca,
                           "the config region") != SHIM_OK) {
    return SHIM_E_UNSUPPORTED;
  }
  /* Any address: the board has one interface, its address comes from DHCP. */
  pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
  if (pcb == NULL) {
    return SHIM_E_NOMEM;
  }
  if (tcp_bind(pcb, IP4_ADDR_ANY, port) != ERR_OK) {
    shim_log(SHIM_LOG_ERROR, "net: cannot listen on port %u: it is taken", (unsigned)port);
    (void)tcp_close(pcb);
    return SHIM_E_CONNECT;
  }
  lpcb = tcp_listen_with_backlog(pcb, (u8_t)PORT_PICO_PENDING_MAX);
  if (lpcb == NULL) {
    (void)tcp_close(pcb);
    return SHIM_E_NOMEM;
  }
  c = &port_conns[slot];
  port_conn_reset(c);
  c->role = PORT_ROLE_LISTENER;
  c->flags = flags;
  c->port = port;
  c->pcb = lpcb;
  snprintf(c->host, sizeof(c->host), "0.0.0.0");
  c->state = PORT_CONN_LISTENING;
  tcp_arg(lpcb, NULL);
  tcp_accept(lpcb, port_tcp_accept);
  shim_log(SHIM_LOG_INFO, "net: listening on port %u (%s)", (unsigned)port,
           (flags & SHIM_NET_TLS) != 0 ? "TLS" : "plain TCP");
  return SHIM_OK;
}

int32_t port_net_accept(uint32_t listener, int32_t slot) {
  port_conn_t *l;
  port_conn_t *c;
  port_pending_t *e;
  struct tcp_pcb *pcb;
  port_loop_t *loop;
  const mbedtls_ssl_config *conf;
  int32_t next;
  int32_t rc;

  if (listener >= SHIM_MAX_CONNECTIONS || port_conns[listener].state != PORT_CONN_LISTENING ||
      slot >= (int32_t)SHIM_MAX_CONNECTIONS || (slot >= 0 && port_conns[slot].state != PORT_CONN_FREE)) {
    return SHIM_E_INVAL;
  }
  l = &port_conns[listener];
  next = port_pending_next();
  if (next < 0) {
    return SHIM_E_AGAIN;
  }
  e = &port_pending[next];
  pcb = e->pcb;
  loop = e->loop;
  e->pcb = NULL;
  e->loop = NULL;
  if (slot < 0) {
    char host[IP4ADDR_STRLEN_MAX];
    shim_log(SHIM_LOG_WARN, "net: refused %s:%u on port %u: all %d kubelet connections are busy",
             loop != NULL ? "127.0.0.1" : ipaddr_ntoa_r(&pcb->remote_ip, host, (int)sizeof(host)),
             loop != NULL ? 0u : (unsigned)pcb->remote_port, (unsigned)l->port,
             SHIM_KUBELET_MAX_CONNS);
    if (loop != NULL) {
      port_loop_refuse(loop);
    } else {
      port_pcb_discard(pcb);
    }
    port_refused++;
    return SHIM_E_NOMEM;
  }
  c = &port_conns[slot];
  port_conn_reset(c);
  c->role = PORT_ROLE_ACCEPTED;
  c->flags = l->flags;
  c->pcb = pcb;
  c->started_ms = port_now_ms();
  c->deadline_ms = c->started_ms + SHIM_SERVER_HANDSHAKE_TIMEOUT_MS;
  if (loop != NULL) {
    loop->pending = 0;
    loop->end[1] = c;
    c->loop = loop;
    c->loop_side = 1;
    snprintf(c->host, sizeof(c->host), "127.0.0.1");
  } else {
    c->port = pcb->remote_port;
    c->rx_eof = e->eof;
    (void)ipaddr_ntoa_r(&pcb->remote_ip, c->host, (int)sizeof(c->host));
    tcp_arg(pcb, c);
    tcp_recv(pcb, port_tcp_recv);
    tcp_err(pcb, port_tcp_err);
    tcp_nagle_disable(pcb);
  }
  port_accepted++;
  if ((c->flags & SHIM_NET_TLS) == 0) {
    c->state = PORT_CONN_OPEN;
    c->just_opened = 1;
    return SHIM_OK;
  }
  /* The serving certificate current now; a later install leaves this
   * connection its own (identity.c keeps the previous configuration). */
  conf = port_pico_serving_conf();
  c->state = PORT_CONN_HANDSHAKE;
  c->ssl_live = 1;
  rc = conf == NULL ? SHIM_E_UNSUPPORTED
                    : shim_tls_session_accept(&c->ssl, conf, &c->peer, c->host, c->port);
  if (rc != SHIM_OK) {
    port_handshake_count(c, 0);
    port_conn_fail(c, rc);
    return SHIM_OK; /* the slot reports the error, as a failed connect does */
  }
  mbedtls_ssl_set_bio(&c->ssl, c, port_bio_send, port_bio_recv, NULL);
  return SHIM_OK;
}

int32_t port_net_peer(uint32_t slot, uint8_t *out, size_t cap) {
  port_conn_t *c = NULL;
  int32_t rc = port_tls_query(slot, out, 1, &c);
  return c == NULL ? rc : shim_tls_peer_copy(&c->peer, out, cap);
}

void port_pico_net_stats(int64_t *out, uint32_t count) {
  const int64_t v[] = {
      [SHIM_STAT_TLS_CLIENT_OK] = port_handshakes[0].ok,
      [SHIM_STAT_TLS_CLIENT_FAILED] = port_handshakes[0].failed,
      [SHIM_STAT_TLS_CLIENT_MS] = (int64_t)port_handshakes[0].ms,
      [SHIM_STAT_TLS_SERVER_OK] = port_handshakes[1].ok,
      [SHIM_STAT_TLS_SERVER_FAILED] = port_handshakes[1].failed,
      [SHIM_STAT_TLS_SERVER_MS] = (int64_t)port_handshakes[1].ms,
      [SHIM_STAT_BYTES_SENT] = (int64_t)port_bytes_sent,
      [SHIM_STAT_BYTES_RECEIVED] = (int64_t)port_bytes_received,
      [SHIM_STAT_CONNS_ACCEPTED] = port_accepted,
      [SHIM_STAT_CONNS_REFUSED] = port_refused,
  };
  uint32_t i;
  if (count > SHIM_STAT_CPU_US) {
    out[SHIM_STAT_CPU_US] = (int64_t)(time_us_64() - port_idle_us);
  }
  for (i = SHIM_STAT_TLS_CLIENT_OK; i <= SHIM_STAT_CONNS_REFUSED && i < count; i++) {
    out[i] = v[i];
  }
}
