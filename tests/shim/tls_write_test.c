/*
 * The shared TLS write contract (src/tls.c shim_tls_write / shim_tls_flush)
 * when the transport is full, as lwIP's small send buffer is on the device:
 * a client and a server Mbed TLS session in this process over two byte
 * pipes; the client's pipe holds PIPE_BYTES at most, so records are often
 * encrypted and only partly sent. The client writes PAYLOAD bytes as
 * port/pico/net.c does (write while nothing is pending, else flush) and the
 * server must read back exactly those bytes. Negotiates the highest version
 * the build has (TLS 1.3 with the device's Mbed TLS, where a record carries
 * one byte less than MBEDTLS_SSL_OUT_CONTENT_LEN).
 * Usage: shim-tls-write-test CA.pem SERVER.pem SERVER.key CLIENT.pem CLIENT.key
 * Prints "ok - ..." / "not ok - ..." lines; exits non-zero on a failure.
 */
#include <stdio.h>
#include <string.h>

#include <mbedtls/ssl.h>

#include "port.h"
#include "port_posix.h"
#include "shim.h"
#include "shim_tls.h"

#define PIPE_BYTES 3000u /* < two 2 KiB records: lwIP's TCP_SND_BUF is 4380 */
#define PAYLOAD 20000u

typedef struct {
  unsigned char buf[1u << 16];
  size_t len;
  size_t cap;
} pipe_t;

static pipe_t c2s;
static pipe_t s2c;
static unsigned char sent[PAYLOAD];
static unsigned char got[PAYLOAD + 64];

/* One side's ends: it writes into out and reads from in. */
typedef struct {
  pipe_t *out;
  pipe_t *in;
} side_t;

static int pipe_send(void *ctx, const unsigned char *p, size_t n) {
  pipe_t *q = ((side_t *)ctx)->out;
  size_t room = q->cap - q->len;
  if (room == 0) {
    return MBEDTLS_ERR_SSL_WANT_WRITE;
  }
  if (n > room) {
    n = room;
  }
  memcpy(q->buf + q->len, p, n);
  q->len += n;
  return (int)n;
}

static int pipe_recv(void *ctx, unsigned char *p, size_t n) {
  pipe_t *q = ((side_t *)ctx)->in;
  if (q->len == 0) {
    return MBEDTLS_ERR_SSL_WANT_READ;
  }
  if (n > q->len) {
    n = q->len;
  }
  memcpy(p, q->buf, n);
  memmove(q->buf, q->buf + n, q->len - n);
  q->len -= n;
  return (int)n;
}

/* Reads a PEM file with its terminating NUL (Mbed TLS counts it). The
 * device's Mbed TLS has no file I/O (no MBEDTLS_FS_IO). */
static size_t read_pem(const char *path, unsigned char *buf, size_t cap) {
  FILE *f = fopen(path, "rb");
  size_t n;
  if (f == NULL) {
    return 0;
  }
  n = fread(buf, 1, cap - 1, f);
  fclose(f);
  buf[n] = '\0';
  return n + 1;
}

static int load(mbedtls_x509_crt *crt, mbedtls_pk_context *key, const char *crt_path,
                const char *key_path) {
  static unsigned char pem[8192];
  size_t n = read_pem(crt_path, pem, sizeof(pem));
  if (n == 0 || mbedtls_x509_crt_parse(crt, pem, n) != 0) {
    return -1;
  }
  if (key == NULL) {
    return 0;
  }
  n = read_pem(key_path, pem, sizeof(pem));
#if MBEDTLS_VERSION_MAJOR >= 3
  return n == 0 ? -1 : mbedtls_pk_parse_key(key, pem, n, NULL, 0, shim_tls_random, NULL);
#else
  return n == 0 ? -1 : mbedtls_pk_parse_key(key, pem, n, NULL, 0);
#endif
}

int main(int argc, char **argv) {
  mbedtls_x509_crt ca, scrt, ccrt;
  mbedtls_pk_context skey, ckey;
  mbedtls_ssl_config cconf, sconf;
  mbedtls_ssl_context cssl, sssl;
  side_t client = {&c2s, &s2c};
  side_t server = {&s2c, &c2s};
  shim_tls_peer_t peer;
  int want_write = 0;
  int pending = 0;
  int cdone = 0;
  int sdone = 0;
  size_t off = 0;
  size_t in = 0;
  size_t i;
  int steps;
  int fails = 0;
  int partial = 0; /* writes whose record was only partly sent */

  if (argc != 6) {
    fprintf(stderr, "usage: shim-tls-write-test CA SERVER.pem SERVER.key CLIENT.pem CLIENT.key\n");
    return 2;
  }
  mbedtls_x509_crt_init(&ca);
  mbedtls_x509_crt_init(&scrt);
  mbedtls_x509_crt_init(&ccrt);
  mbedtls_pk_init(&skey);
  mbedtls_pk_init(&ckey);
  mbedtls_ssl_config_init(&cconf);
  mbedtls_ssl_config_init(&sconf);
  mbedtls_ssl_init(&cssl);
  mbedtls_ssl_init(&sssl);
  if (port_posix_init() != SHIM_OK || shim_tls_init() != SHIM_OK || load(&ca, NULL, argv[1], NULL) != 0 ||
      load(&scrt, &skey, argv[2], argv[3]) != 0 || load(&ccrt, &ckey, argv[4], argv[5]) != 0 ||
      shim_tls_conf_client(&cconf, &ca, &ccrt, &ckey, 0) != 0 ||
      shim_tls_conf_server(&sconf, &ca, &scrt, &skey) != 0) {
    printf("not ok - tls write: setup (certificates, configurations)\n");
    return 1;
  }
#if defined(MBEDTLS_SSL_PROTO_TLS1_3) && MBEDTLS_VERSION_MAJOR >= 3
  /* The device's server stops at 1.2; the API server the client talks to
   * speaks 1.3, which this test is about. */
  mbedtls_ssl_conf_max_tls_version(&sconf, MBEDTLS_SSL_VERSION_TLS1_3);
#endif
  c2s.cap = PIPE_BYTES;
  s2c.cap = sizeof(s2c.buf);
  if (shim_tls_session_start(&cssl, &cconf, "localhost", 443, NULL, 0) != SHIM_OK ||
      shim_tls_session_accept(&sssl, &sconf, &peer, "client", 1) != SHIM_OK) {
    printf("not ok - tls write: sessions\n");
    return 1;
  }
  mbedtls_ssl_set_bio(&cssl, &client, pipe_send, pipe_recv, NULL);
  mbedtls_ssl_set_bio(&sssl, &server, pipe_send, pipe_recv, NULL);
  for (steps = 0; steps < 1000 && !(cdone && sdone); steps++) {
    int r;
    if (!cdone) {
      r = shim_tls_handshake(&cssl, "localhost", 443, &want_write);
      if (r == SHIM_OK) {
        cdone = 1;
      } else if (r != SHIM_E_AGAIN) {
        break;
      }
    }
    if (!sdone) {
      r = mbedtls_ssl_handshake(&sssl);
      if (r == 0) {
        sdone = 1;
      } else if (r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE) {
        break;
      }
    }
  }
  if (!(cdone && sdone)) {
    printf("not ok - tls write: handshake in memory\n");
    return 1;
  }
  printf("ok - tls write: handshake in memory (%s, %d-byte records)\n",
         mbedtls_ssl_get_version(&cssl), mbedtls_ssl_get_max_out_record_payload(&cssl));

  for (i = 0; i < PAYLOAD; i++) {
    sent[i] = (unsigned char)(i * 7u + i / 251u);
  }
  for (steps = 0; steps < 100000 && in < PAYLOAD; steps++) {
    int32_t r;
    int n;
    if (pending) {
      r = shim_tls_flush(&cssl);
      if (r == SHIM_OK) {
        pending = 0;
      } else if (r != SHIM_E_AGAIN) {
        break;
      }
    } else if (off < PAYLOAD) {
      r = shim_tls_write(&cssl, sent + off, PAYLOAD - off, "localhost", 443, &pending);
      partial += pending;
      if (r > 0) {
        off += (size_t)r;
      } else if (r != SHIM_E_AGAIN) {
        break;
      }
    }
    /* The server reads a record every third step: slower than the client
     * writes, so the pipe fills as a slow link's would. */
    if (steps % 3 == 2 && (n = mbedtls_ssl_read(&sssl, got + in, sizeof(got) - in)) > 0) {
      in += (size_t)n;
    }
  }
  if (partial == 0) {
    printf("not ok - tls write: no record was partly sent (the test did not fill the buffer)\n");
    fails++;
  }
  if (in == PAYLOAD && off == PAYLOAD && memcmp(sent, got, PAYLOAD) == 0) {
    printf("ok - tls write: %u bytes through a %u-byte send buffer arrive intact (%d records "
           "partly sent)\n", (unsigned)PAYLOAD, (unsigned)PIPE_BYTES, partial);
  } else {
    for (i = 0; i < in && i < PAYLOAD && sent[i] == got[i]; i++) {
    }
    printf("not ok - tls write: %u bytes through a %u-byte send buffer: %zu taken, %zu arrived, "
           "first difference at %zu\n",
           (unsigned)PAYLOAD, (unsigned)PIPE_BYTES, off, in, i);
    fails++;
  }
  mbedtls_ssl_free(&cssl);
  mbedtls_ssl_free(&sssl);
  return fails == 0 ? 0 : 1;
}
