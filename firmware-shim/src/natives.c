/*
 * The host functions the core imports (shim_abi.h SHIM_ABI_IMPORTS), shared
 * by every runtime and port. Each checks its (ptr, len) pairs against the
 * linear memory first (SHIM_E_BADPTR, never a host crash), then its other
 * arguments, then calls the port.
 */
#include <stdio.h>
#include <string.h>

#include "port.h"
#include "runtime/runtime.h"
#include "shim.h"

/* What each slot the core opened is; the port owns what is behind it. */
typedef enum {
  SHIM_HANDLE_FREE = 0,
  SHIM_HANDLE_CLIENT,   /* net_connect */
  SHIM_HANDLE_LISTENER, /* net_listen */
  SHIM_HANDLE_ACCEPTED  /* net_accept */
} shim_handle_kind_t;

static uint8_t shim_handle_kind[SHIM_MAX_CONNECTIONS];

/* The module's bytes [ptr, ptr+len), or NULL when any part lies outside
 * linear memory. One unsigned compare per bound, overflow-safe: ptr <= size
 * first, then len <= size - ptr (which cannot wrap). */
static uint8_t *shim_mem_range(uint32_t ptr, uint32_t len) {
  uint32_t size = 0;
  uint8_t *base = shim_runtime_memory(&size);
  if (base == NULL || ptr > size || len > size - ptr) {
    return NULL;
  }
  return base + ptr;
}

static int shim_handle_valid(int32_t h) {
  return h >= 0 && h < SHIM_MAX_CONNECTIONS && shim_handle_kind[h] != SHIM_HANDLE_FREE;
}

static int shim_handle_is(int32_t h, shim_handle_kind_t kind) {
  return shim_handle_valid(h) && shim_handle_kind[h] == kind;
}

/* The lowest free slot, or -1. */
static int32_t shim_handle_free_slot(void) {
  int32_t slot;
  for (slot = 0; slot < SHIM_MAX_CONNECTIONS; slot++) {
    if (shim_handle_kind[slot] == SHIM_HANDLE_FREE) {
      return slot;
    }
  }
  return -1;
}

int shim_natives_handle_open(int32_t h) {
  return shim_handle_valid(h);
}

void shim_native_log(int32_t level, uint32_t ptr, uint32_t len) {
  const uint8_t *msg = shim_mem_range(ptr, len);
  if (msg == NULL) {
    shim_log(SHIM_LOG_WARN, "core: log with a bad pointer (%lu, %lu)", (unsigned long)ptr,
             (unsigned long)len);
    return;
  }
  if (level < SHIM_LOG_ERROR) {
    level = SHIM_LOG_ERROR;
  }
  if (level > SHIM_LOG_DEBUG) {
    level = SHIM_LOG_DEBUG;
  }
  shim_log_bytes(level, msg, len);
}

/* Writes the decimal form of v into out; returns its length. */
static size_t shim_format_u32(char *out, size_t cap, uint32_t v) {
  int n = snprintf(out, cap, "%lu", (unsigned long)v);
  return n < 0 ? 0 : (size_t)n;
}

/* A platform.* key (assembly/host/config.ts). The figures of the modelled
 * device (shim_config.h), the architecture and the runtime are the same on
 * every port; the rest is the port's (port_platform_get). Returns the length
 * or SHIM_E_NOTFOUND / SHIM_E_TOOLARGE. */
static int32_t shim_platform_get(const char *key, char *out, size_t cap) {
  static const struct {
    const char *key;
    uint32_t value;
  } figures[] = {
      {"platform.devmem_bytes", SHIM_DEVMEM_BYTES},
      {"platform.memory_bytes", SHIM_PLATFORM_MEMORY_BYTES},
      {"platform.memory_allocatable_bytes", SHIM_PLATFORM_MEMORY_ALLOCATABLE_BYTES},
      {"platform.cpu_cores", SHIM_PLATFORM_CPU_CORES},
      {"platform.kubelet_connections", SHIM_KUBELET_MAX_CONNS},
  };
  const char *text;
  size_t i;
  for (i = 0; i < sizeof(figures) / sizeof(figures[0]); i++) {
    if (strcmp(key, figures[i].key) == 0) {
      return (int32_t)shim_format_u32(out, cap, figures[i].value);
    }
  }
  if (strcmp(key, "platform.arch") == 0) {
    text = "arm"; /* the RP2040's; the simulator models the device */
  } else if (strcmp(key, "platform.os") == 0) {
    text = "none";
  } else if (strcmp(key, "platform.runtime") == 0) {
    text = shim_runtime_name();
  } else {
    return port_platform_get(key, out, cap);
  }
  i = strlen(text);
  if (i > cap) {
    return SHIM_E_TOOLARGE;
  }
  memcpy(out, text, i);
  return (int32_t)i;
}

int32_t shim_native_config_get(uint32_t kptr, uint32_t klen, uint32_t optr, uint32_t ocap) {
  char key[SHIM_CONFIG_MAX_KEY + 1];
  char value[SHIM_CONFIG_MAX_VALUE + 1];
  const uint8_t *kmem = shim_mem_range(kptr, klen);
  uint8_t *out = shim_mem_range(optr, ocap);
  const char *stored;
  size_t vlen;

  if (kmem == NULL || out == NULL) {
    return SHIM_E_BADPTR;
  }
  if (klen == 0 || klen > SHIM_CONFIG_MAX_KEY || memchr(kmem, '\0', klen) != NULL) {
    return SHIM_E_NOTFOUND;
  }
  /* Copy the key first: key and output may overlap in the module. */
  memcpy(key, kmem, klen);
  key[klen] = '\0';

  if (shim_config_key_denied(key)) {
    shim_log(SHIM_LOG_WARN, "core: config key %s is not readable by the core", key);
    return SHIM_E_DENIED;
  }
  if (strncmp(key, "platform.", 9) == 0) {
    int32_t n = shim_platform_get(key, value, sizeof(value));
    if (n < 0) {
      return n;
    }
    vlen = (size_t)n;
  } else if (strcmp(key, "abi.version") == 0) {
    vlen = shim_format_u32(value, sizeof(value), SHIM_ABI_VERSION);
  } else {
    stored = shim_config_lookup(key);
    if (stored == NULL) {
      return SHIM_E_NOTFOUND;
    }
    vlen = strlen(stored);
    memcpy(value, stored, vlen);
  }
  if (vlen > ocap) {
    return SHIM_E_TOOLARGE;
  }
  memcpy(out, value, vlen);
  return (int32_t)vlen;
}

int32_t shim_native_random_fill(uint32_t ptr, uint32_t len) {
  uint8_t *buf = shim_mem_range(ptr, len);
  if (buf == NULL) {
    return SHIM_E_BADPTR;
  }
  if (len > INT32_MAX) {
    return SHIM_E_INVAL;
  }
  return port_random(buf, len);
}

int32_t shim_native_net_connect(uint32_t hptr, uint32_t hlen, int32_t port, int32_t flags) {
  char host[SHIM_NET_MAX_HOST + 1];
  const uint8_t *hmem = shim_mem_range(hptr, hlen);
  const uint32_t known = SHIM_NET_TLS | SHIM_NET_CLIENT_CERT | SHIM_NET_HTTP1;
  uint32_t uflags = (uint32_t)flags;
  int32_t slot;
  int32_t rc;

  if (hmem == NULL) {
    return SHIM_E_BADPTR;
  }
  if (hlen == 0 || hlen > SHIM_NET_MAX_HOST || memchr(hmem, '\0', hlen) != NULL) {
    return SHIM_E_INVAL;
  }
  if (port < 1 || port > 65535 || (uflags & ~known) != 0) {
    return SHIM_E_INVAL;
  }
  /* Both only mean something on a TLS session. */
  if ((uflags & (SHIM_NET_CLIENT_CERT | SHIM_NET_HTTP1)) != 0 && (uflags & SHIM_NET_TLS) == 0) {
    return SHIM_E_INVAL;
  }
  slot = shim_handle_free_slot();
  if (slot < 0) {
    return SHIM_E_NOMEM;
  }
  memcpy(host, hmem, hlen);
  host[hlen] = '\0';
  rc = port_net_connect((uint32_t)slot, host, (uint16_t)port, uflags);
  if (rc < 0) {
    return rc;
  }
  shim_handle_kind[slot] = SHIM_HANDLE_CLIENT;
  return slot;
}

int32_t shim_native_net_send(int32_t h, uint32_t ptr, uint32_t len) {
  const uint8_t *buf = shim_mem_range(ptr, len);
  if (buf == NULL) {
    return SHIM_E_BADPTR;
  }
  if (!shim_handle_valid(h) || len > INT32_MAX) {
    return SHIM_E_INVAL;
  }
  /* len 0 asks whether all accepted before has left (port.h). */
  return port_net_send((uint32_t)h, buf, len);
}

int32_t shim_native_net_recv(int32_t h, uint32_t ptr, uint32_t cap) {
  uint8_t *buf = shim_mem_range(ptr, cap);
  if (buf == NULL) {
    return SHIM_E_BADPTR;
  }
  if (!shim_handle_valid(h) || cap > INT32_MAX) {
    return SHIM_E_INVAL;
  }
  if (cap == 0) {
    return 0;
  }
  return port_net_recv((uint32_t)h, buf, cap);
}

int32_t shim_native_net_close(int32_t h) {
  if (!shim_handle_valid(h)) {
    return SHIM_E_INVAL;
  }
  shim_handle_kind[h] = SHIM_HANDLE_FREE;
  return port_net_close((uint32_t)h);
}

void shim_natives_close_all(void) {
  int32_t h;
  for (h = 0; h < SHIM_MAX_CONNECTIONS; h++) {
    if (shim_handle_kind[h] != SHIM_HANDLE_FREE) {
      (void)shim_native_net_close(h);
    }
  }
}

/* ---- the kubelet endpoint (issue 5): listener and accepted connections ---- */

int32_t shim_native_net_listen(int32_t port, int32_t flags) {
  int32_t slot;
  int32_t rc;
  if (port < 1 || port > 65535 || ((uint32_t)flags & ~SHIM_NET_TLS) != 0) {
    return SHIM_E_INVAL;
  }
  slot = shim_handle_free_slot();
  if (slot < 0) {
    return SHIM_E_NOMEM;
  }
  rc = port_net_listen((uint32_t)slot, (uint16_t)port, (uint32_t)flags);
  if (rc < 0) {
    return rc;
  }
  shim_handle_kind[slot] = SHIM_HANDLE_LISTENER;
  return slot;
}

int32_t shim_native_net_accept(int32_t lh) {
  int32_t served = 0;
  int32_t slot = -1;
  int32_t h;
  int32_t rc;
  if (!shim_handle_is(lh, SHIM_HANDLE_LISTENER)) {
    return SHIM_E_INVAL;
  }
  for (h = 0; h < SHIM_MAX_CONNECTIONS; h++) {
    served += shim_handle_kind[h] == SHIM_HANDLE_ACCEPTED;
  }
  /* Past SHIM_KUBELET_MAX_CONNS the port refuses (accepts and closes), so
   * clients never take the slots the node's own API connections need. */
  if (served < SHIM_KUBELET_MAX_CONNS) {
    slot = shim_handle_free_slot();
  }
  rc = port_net_accept((uint32_t)lh, slot);
  if (rc < 0) {
    return rc;
  }
  if (slot < 0) {
    return SHIM_E_NOMEM; /* a port must not report success without a slot */
  }
  shim_handle_kind[slot] = SHIM_HANDLE_ACCEPTED;
  return slot;
}

int32_t shim_native_net_peer(int32_t h, uint32_t optr, uint32_t ocap) {
  uint8_t *out = shim_mem_range(optr, ocap);
  if (out == NULL) {
    return SHIM_E_BADPTR;
  }
  if (!shim_handle_is(h, SHIM_HANDLE_ACCEPTED) || ocap > INT32_MAX) {
    return SHIM_E_INVAL;
  }
  return port_net_peer((uint32_t)h, out, ocap);
}

/* Any open connection, client or accepted; a listener has no session. */
int32_t shim_native_net_alpn(int32_t h, uint32_t optr, uint32_t ocap) {
  uint8_t *out = shim_mem_range(optr, ocap);
  if (out == NULL) {
    return SHIM_E_BADPTR;
  }
  if (!shim_handle_valid(h) || shim_handle_is(h, SHIM_HANDLE_LISTENER) || ocap > INT32_MAX) {
    return SHIM_E_INVAL;
  }
  return port_net_alpn((uint32_t)h, out, ocap);
}

/* ---- node identity (issue 6): keys stay in the host ---- */

/* Copies (ptr, len) of the module into a NUL-terminated host string; 0 or
 * SHIM_E_BADPTR / SHIM_E_INVAL (too long, embedded NUL). */
static int32_t shim_mem_string(uint32_t ptr, uint32_t len, char *out, size_t cap) {
  const uint8_t *mem = shim_mem_range(ptr, len);
  if (mem == NULL) {
    return SHIM_E_BADPTR;
  }
  if (len == 0 || len >= cap || memchr(mem, '\0', len) != NULL) {
    return SHIM_E_INVAL;
  }
  memcpy(out, mem, len);
  out[len] = '\0';
  return SHIM_OK;
}

static int shim_key_slot_valid(int32_t slot) {
  return slot >= 0 && slot < SHIM_KEY_SLOTS;
}

int32_t shim_native_key_ensure(int32_t slot) {
  if (!shim_key_slot_valid(slot)) {
    return SHIM_E_INVAL;
  }
  return port_key_ensure((uint32_t)slot);
}

int32_t shim_native_csr_create(int32_t slot, uint32_t cnptr, uint32_t cnlen, uint32_t orgptr,
                               uint32_t orglen, uint32_t optr, uint32_t ocap) {
  char cn[SHIM_CSR_NAME_MAX + 1];
  char org[SHIM_CSR_NAME_MAX + 1];
  uint8_t *out = shim_mem_range(optr, ocap);
  int32_t rc;
  if (out == NULL) {
    return SHIM_E_BADPTR;
  }
  rc = shim_mem_string(cnptr, cnlen, cn, sizeof(cn));
  if (rc == SHIM_OK) {
    rc = shim_mem_string(orgptr, orglen, org, sizeof(org));
  }
  if (rc != SHIM_OK) {
    return rc;
  }
  if (!shim_key_slot_valid(slot) || ocap > INT32_MAX) {
    return SHIM_E_INVAL;
  }
  return port_csr_create((uint32_t)slot, cn, org, out, ocap);
}

int32_t shim_native_cert_stage(int32_t slot, uint32_t ptr, uint32_t len) {
  const uint8_t *buf = shim_mem_range(ptr, len);
  if (buf == NULL) {
    return SHIM_E_BADPTR;
  }
  if (!shim_key_slot_valid(slot)) {
    return SHIM_E_INVAL;
  }
  return port_cert_stage((uint32_t)slot, buf, len);
}

int32_t shim_native_cert_install(int32_t slot) {
  if (!shim_key_slot_valid(slot)) {
    return SHIM_E_INVAL;
  }
  return port_cert_install((uint32_t)slot);
}

/* Little-endian, as WASM memory is. */
static void shim_store_i64(uint8_t *out, int64_t v) {
  uint64_t u = (uint64_t)v;
  int i;
  for (i = 0; i < 8; i++) {
    out[i] = (uint8_t)(u >> (8 * i));
  }
}

int32_t shim_native_cert_info(int32_t slot, uint32_t optr, uint32_t ocap) {
  uint8_t *out = shim_mem_range(optr, ocap);
  int64_t not_before = 0;
  int64_t not_after = 0;
  int32_t rc;
  if (out == NULL) {
    return SHIM_E_BADPTR;
  }
  if (!shim_key_slot_valid(slot)) {
    return SHIM_E_INVAL;
  }
  if (ocap < 16) {
    return SHIM_E_TOOLARGE;
  }
  rc = port_cert_info((uint32_t)slot, &not_before, &not_after);
  if (rc < 0) {
    return rc;
  }
  shim_store_i64(out, not_before);
  shim_store_i64(out + 8, not_after);
  return rc;
}

/* ---- host counters (stats_read) ---- */

int32_t shim_native_stats_read(uint32_t optr, uint32_t ocap) {
  int64_t values[SHIM_STAT_COUNT];
  uint8_t *out = shim_mem_range(optr, ocap);
  uint32_t n = ocap / 8u;
  uint32_t i;
  if (out == NULL) {
    return SHIM_E_BADPTR;
  }
  if (n > SHIM_STAT_COUNT) {
    n = SHIM_STAT_COUNT;
  }
  for (i = 0; i < SHIM_STAT_COUNT; i++) {
    values[i] = SHIM_STAT_UNKNOWN;
  }
  /* Negative values are real readings here: unknown is INT64_MIN. */
  values[SHIM_STAT_WIFI_RSSI_DBM] = SHIM_STAT_UNKNOWN_SIGNED;
  values[SHIM_STAT_CHIP_TEMP_MC] = SHIM_STAT_UNKNOWN_SIGNED;
  values[SHIM_STAT_UPTIME_MS] = (int64_t)port_now_ms();
  (void)port_stats_read(values, n);
  for (i = 0; i < n; i++) {
    shim_store_i64(out + 8u * i, values[i]);
  }
  return (int32_t)n;
}

int32_t shim_native_devmem_read(uint32_t ptr, uint32_t cap) {
  uint8_t *buf = shim_mem_range(ptr, cap);
  if (buf == NULL) {
    return SHIM_E_BADPTR;
  }
  return shim_devmem_read(buf, cap);
}

int32_t shim_native_devmem_commit(uint32_t ptr, uint32_t len) {
  const uint8_t *buf = shim_mem_range(ptr, len);
  if (buf == NULL) {
    return SHIM_E_BADPTR;
  }
  return shim_devmem_commit(buf, len);
}
