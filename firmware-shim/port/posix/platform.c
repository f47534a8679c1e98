/*
 * POSIX port: clock, log output, entropy, platform.* facts and the config
 * file. The simulator models the device, so platform.* reports the Pico's
 * figures (shim_config.h), not the desktop's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/platform.h>
#include <mbedtls/platform_time.h>
#include <mbedtls/sha256.h>

#include "port.h"
#include "port_posix.h"
#include "port_posix_tls.h"

static struct timespec port_start;
static int port_started;
static char port_config_dir[SHIM_CONFIG_MAX_VALUE + 1] = ".";
static char port_config_text[SHIM_CONFIG_TEXT_MAX + 1];

static mbedtls_entropy_context port_entropy;
static mbedtls_ctr_drbg_context port_drbg;
static int port_drbg_ready;

/* Personalisation string for CTR_DRBG (NIST SP 800-90A section 8.7.1). */
static const char port_drbg_personal[] = "k3s-pico-node-sim";

/* Hooks the device's Mbed TLS configuration (port/pico/mbedtls_config.h) asks
 * every port for, when the simulator is built with it (MBEDTLS_SOURCE_DIR);
 * the system's Mbed TLS defines none of these options. */
#if defined(MBEDTLS_ENTROPY_HARDWARE_ALT)
/* The device polls its ring oscillator (pico-sdk pico_mbedtls.c); here the
 * kernel's generator. */
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen) {
  ssize_t n;
  (void)data;
  *olen = 0;
  n = getrandom(output, len, 0);
  if (n < 0) {
    return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
  }
  *olen = (size_t)n;
  return 0;
}
#endif

#if defined(MBEDTLS_PLATFORM_MS_TIME_ALT)
/* A monotonic millisecond clock, as on the device. */
mbedtls_ms_time_t mbedtls_ms_time(void) {
  return (mbedtls_ms_time_t)port_now_ms();
}
#endif

#if defined(MBEDTLS_PLATFORM_TIME_ALT)
/* Certificate dates (MBEDTLS_HAVE_TIME_DATE) need the wall clock; the device
 * installs its SNTP clock the same way. */
static mbedtls_time_t port_mbedtls_time(mbedtls_time_t *t) {
  mbedtls_time_t now = (mbedtls_time_t)(port_wall_ms() / 1000u);
  if (t != NULL) {
    *t = now;
  }
  return now;
}
#endif

/* PICO_SIM_CLOCK_OFFSET_S: seconds added to the wall clock, so tests can
 * show what a device whose clock is wrong does (the device's SNTP can be
 * wrong or not yet answered the same way). */
static int64_t port_clock_offset_ms;

int32_t port_posix_init(void) {
  int ret;
  const char *offset = getenv("PICO_SIM_CLOCK_OFFSET_S");
  if (offset != NULL && offset[0] != '\0') {
    port_clock_offset_ms = strtoll(offset, NULL, 10) * 1000;
    shim_log(SHIM_LOG_WARN, "sim: wall clock moved by %lld s (PICO_SIM_CLOCK_OFFSET_S)",
             (long long)(port_clock_offset_ms / 1000));
  }
  clock_gettime(CLOCK_MONOTONIC, &port_start);
  port_started = 1;
#if defined(MBEDTLS_PLATFORM_TIME_ALT)
  mbedtls_platform_set_time(port_mbedtls_time);
#endif
  /* stderr is unbuffered by default: make it line-buffered so one log line
   * is one write. */
  setvbuf(stderr, NULL, _IOLBF, 0);
  if (port_drbg_ready) {
    return SHIM_OK;
  }
  mbedtls_entropy_init(&port_entropy);
  mbedtls_ctr_drbg_init(&port_drbg);
  ret = mbedtls_ctr_drbg_seed(&port_drbg, mbedtls_entropy_func, &port_entropy,
                              (const unsigned char *)port_drbg_personal,
                              sizeof(port_drbg_personal) - 1);
  if (ret != 0) {
    shim_log(SHIM_LOG_ERROR, "random: seeding CTR_DRBG failed (-0x%04x)", (unsigned)-ret);
    return SHIM_E_IO;
  }
  port_drbg_ready = 1;
  return SHIM_OK;
}

void port_posix_shutdown(void) {
  port_posix_tls_free();
  if (port_drbg_ready) {
    mbedtls_ctr_drbg_free(&port_drbg);
    mbedtls_entropy_free(&port_entropy);
    port_drbg_ready = 0;
  }
}

void port_log_write(const char *line, size_t len) {
  fwrite(line, 1, len, stderr);
}

uint64_t port_now_ms(void) {
  struct timespec ts;
  int64_t ms;
  if (!port_started) {
    clock_gettime(CLOCK_MONOTONIC, &port_start);
    port_started = 1;
  }
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ms = (int64_t)(ts.tv_sec - port_start.tv_sec) * 1000 +
       (ts.tv_nsec - port_start.tv_nsec) / 1000000;
  return ms < 0 ? 0u : (uint64_t)ms;
}

uint64_t port_wall_ms(void) {
  struct timespec ts;
  int64_t ms;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0) {
    return 0;
  }
  ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + port_clock_offset_ms;
  return ms <= 0 ? 0u : (uint64_t)ms;
}

int32_t port_random(uint8_t *buf, size_t len) {
  size_t done = 0;
  if (buf == NULL || !port_drbg_ready) {
    return SHIM_E_IO;
  }
  /* CTR_DRBG hands out at most MBEDTLS_CTR_DRBG_MAX_REQUEST bytes a call. */
  while (done < len) {
    size_t n = len - done;
    if (n > MBEDTLS_CTR_DRBG_MAX_REQUEST) {
      n = MBEDTLS_CTR_DRBG_MAX_REQUEST;
    }
    if (mbedtls_ctr_drbg_random(&port_drbg, buf + done, n) != 0) {
      return SHIM_E_IO;
    }
    done += n;
  }
  return (int32_t)len;
}

/* Copies s into out; returns its length or SHIM_E_TOOLARGE. */
static int32_t port_copy_value(const char *s, char *out, size_t cap) {
  size_t n = strlen(s);
  if (n > cap) {
    return SHIM_E_TOOLARGE;
  }
  memcpy(out, s, n);
  return (int32_t)n;
}

/* 32 hex digits from SHA-256 of the node name: stable per node, like
 * /etc/machine-id (128 bits). */
static int32_t port_machine_id(char *out, size_t cap) {
  static const char hex[] = "0123456789abcdef";
  static const char tag[] = "k3s-pico-node-sim/";
  const char *name = shim_config_lookup("node.name");
  mbedtls_sha256_context sha;
  unsigned char digest[32];
  char id[33];
  size_t i;

  if (name == NULL) {
    name = "";
  }
  mbedtls_sha256_init(&sha);
#if MBEDTLS_VERSION_MAJOR >= 3
  mbedtls_sha256_starts(&sha, 0);
  mbedtls_sha256_update(&sha, (const unsigned char *)tag, sizeof(tag) - 1);
  mbedtls_sha256_update(&sha, (const unsigned char *)name, strlen(name));
  mbedtls_sha256_finish(&sha, digest);
#else
  mbedtls_sha256_starts_ret(&sha, 0);
  mbedtls_sha256_update_ret(&sha, (const unsigned char *)tag, sizeof(tag) - 1);
  mbedtls_sha256_update_ret(&sha, (const unsigned char *)name, strlen(name));
  mbedtls_sha256_finish_ret(&sha, digest);
#endif
  mbedtls_sha256_free(&sha);
  for (i = 0; i < 16; i++) {
    id[2 * i] = hex[digest[i] >> 4];
    id[2 * i + 1] = hex[digest[i] & 15];
  }
  id[32] = '\0';
  return port_copy_value(id, out, cap);
}

int32_t port_platform_get(const char *key, char *out, size_t cap) {
  struct utsname uts;

  if (key == NULL || out == NULL) {
    return SHIM_E_INVAL;
  }
  if (strcmp(key, "platform.os_image") == 0) {
    return port_copy_value("k3s-pico-node simulator (POSIX)", out, cap);
  }
  if (strcmp(key, "platform.kernel_version") == 0) {
    return port_copy_value(uname(&uts) == 0 ? uts.release : "unknown", out, cap);
  }
  if (strcmp(key, "platform.machine_id") == 0) {
    return port_machine_id(out, cap);
  }
  if (strcmp(key, "platform.kubelet_server") == 0) {
    /* net_listen with TLS needs the client CA (net.c): without one the
     * node has no use for a serving certificate. */
    const char *ca = shim_config_lookup("tls.client_ca_file");
    return port_copy_value(ca != NULL && ca[0] != '\0' ? "1" : "0", out, cap);
  }
  return SHIM_E_NOTFOUND;
}

/* ---- host counters (stats_read) ---- */

/* Resident memory of the process: VmRSS of /proc/self/status (proc(5)), in
 * bytes, or -1. */
static int64_t port_rss_bytes(void) {
  char line[128];
  long long kb = -1;
  FILE *f = fopen("/proc/self/status", "r");
  if (f == NULL) {
    return -1;
  }
  while (fgets(line, sizeof(line), f) != NULL) {
    if (sscanf(line, "VmRSS: %lld kB", &kb) == 1) {
      break;
    }
  }
  fclose(f);
  return kb < 0 ? -1 : (int64_t)kb * 1024;
}

int32_t port_stats_read(int64_t *out, uint32_t count) {
  port_posix_stats_t s;
  struct rusage ru;
  int64_t v[SHIM_STAT_COUNT];
  uint32_t i;

  if (out == NULL) {
    return SHIM_E_INVAL;
  }
  for (i = 0; i < SHIM_STAT_COUNT; i++) {
    v[i] = i < count ? out[i] : SHIM_STAT_UNKNOWN;
  }
  port_posix_get_stats(&s);
  if (getrusage(RUSAGE_SELF, &ru) == 0) {
    v[SHIM_STAT_CPU_US] = ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
                          ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
  }
  /* The heap the device would have: Mbed TLS's allocations, counted by
   * heap.c while counting is on. The simulator's own heap is the OS's and
   * has no fixed size, so HEAP_TOTAL stays unknown. */
  if (s.tls_heap_counting) {
    v[SHIM_STAT_HEAP_USED] = (int64_t)s.tls_heap_now;
    v[SHIM_STAT_HEAP_PEAK] = (int64_t)s.tls_heap_peak;
  }
  v[SHIM_STAT_RSS_BYTES] = port_rss_bytes();
  v[SHIM_STAT_TLS_CLIENT_OK] = s.handshakes_ok;
  v[SHIM_STAT_TLS_CLIENT_FAILED] = s.handshakes_failed;
  v[SHIM_STAT_TLS_CLIENT_MS] = (int64_t)s.handshake_ms;
  v[SHIM_STAT_TLS_SERVER_OK] = s.server_handshakes_ok;
  v[SHIM_STAT_TLS_SERVER_FAILED] = s.server_handshakes_failed;
  v[SHIM_STAT_TLS_SERVER_MS] = (int64_t)s.server_handshake_ms;
  v[SHIM_STAT_BYTES_SENT] = (int64_t)s.bytes_sent;
  v[SHIM_STAT_BYTES_RECEIVED] = (int64_t)s.bytes_received;
  v[SHIM_STAT_CONNS_ACCEPTED] = s.accepted;
  v[SHIM_STAT_CONNS_REFUSED] = s.refused;
  /* No Wi-Fi and no chip sensor in the simulator: RSSI and temperature keep
   * their unknown value. */
  for (i = 0; i < count && i < SHIM_STAT_COUNT; i++) {
    out[i] = v[i];
  }
  return SHIM_OK;
}

int32_t port_posix_config_load(const char *path, shim_config_error_t *err) {
  FILE *f = NULL;
  size_t n;
  const char *slash;
  int32_t rc = SHIM_OK;

  if (path == NULL || err == NULL) {
    return SHIM_E_INVAL;
  }
  err->line = 0;
  err->message[0] = '\0';
  f = fopen(path, "rb");
  if (f == NULL) {
    snprintf(err->message, sizeof(err->message), "cannot open: %s", strerror(errno));
    rc = SHIM_E_NOTFOUND;
    goto cleanup;
  }
  n = fread(port_config_text, 1, sizeof(port_config_text), f);
  if (ferror(f)) {
    snprintf(err->message, sizeof(err->message), "cannot read: %s", strerror(errno));
    rc = SHIM_E_IO;
    goto cleanup;
  }
  if (n > SHIM_CONFIG_TEXT_MAX) {
    snprintf(err->message, sizeof(err->message), "larger than SHIM_CONFIG_TEXT_MAX (%u bytes)",
             (unsigned)SHIM_CONFIG_TEXT_MAX);
    rc = SHIM_E_TOOLARGE;
    goto cleanup;
  }
  rc = shim_config_parse(port_config_text, n, err);
  if (rc != SHIM_OK) {
    goto cleanup;
  }
  slash = strrchr(path, '/');
  if (slash == NULL) {
    strcpy(port_config_dir, ".");
  } else if ((size_t)(slash - path) < sizeof(port_config_dir)) {
    memcpy(port_config_dir, path, (size_t)(slash - path));
    port_config_dir[slash - path] = '\0';
    if (slash == path) {
      strcpy(port_config_dir, "/");
    }
  } else {
    snprintf(err->message, sizeof(err->message), "directory name too long");
    rc = SHIM_E_TOOLARGE;
  }
cleanup:
  if (f != NULL) {
    fclose(f);
  }
  return rc;
}

int32_t port_posix_config_path(const char *value, char *out, size_t cap) {
  int n;
  if (value == NULL || out == NULL) {
    return SHIM_E_INVAL;
  }
  if (value[0] == '/') {
    n = snprintf(out, cap, "%s", value);
  } else {
    n = snprintf(out, cap, "%s/%s", port_config_dir, value);
  }
  return (n < 0 || (size_t)n >= cap) ? SHIM_E_TOOLARGE : SHIM_OK;
}

/* Writes every byte or fails; retries writes interrupted by a signal. */
static int port_write_all(int fd, const uint8_t *data, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = write(fd, data + done, len - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return -1;
    }
    done += (size_t)n;
  }
  return 0;
}

int32_t port_posix_write_file(const char *what, const char *path, const uint8_t *data,
                              size_t len, unsigned mode) {
  char tmp[PORT_POSIX_PATH_MAX + 8];
  char dir[PORT_POSIX_PATH_MAX];
  const char *slash = strrchr(path, '/');
  int fd;

  if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
    shim_log(SHIM_LOG_ERROR, "%s: cannot write %s: path too long", what, path);
    return SHIM_E_IO;
  }
  (void)unlink(tmp); /* a stale one from a crash: O_EXCL gives the new file this mode */
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_TRUNC, (mode_t)mode);
  if (fd < 0) {
    goto fail;
  }
  if (port_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
    goto fail;
  }
  if (close(fd) != 0) {
    fd = -1;
    goto fail;
  }
  fd = -1;
  if (rename(tmp, path) != 0) {
    goto fail;
  }
  if (slash != NULL) {
    /* The rename itself survives a crash only once the directory is synced. */
    size_t dl = slash == path ? 1 : (size_t)(slash - path);
    memcpy(dir, path, dl);
    dir[dl] = '\0';
    fd = open(dir, O_RDONLY);
    if (fd >= 0) {
      (void)fsync(fd); /* best effort: some file systems refuse fsync on a directory */
      close(fd);
    }
  }
  return SHIM_OK;
fail:
  shim_log(SHIM_LOG_ERROR, "%s: cannot write %s: %s", what, path, strerror(errno));
  if (fd >= 0) {
    close(fd);
  }
  (void)unlink(tmp);
  return SHIM_E_IO;
}
