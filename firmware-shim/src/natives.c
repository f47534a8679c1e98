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

/* Slots the core opened; the port owns what is behind them. */
static uint8_t shim_handle_used[SHIM_MAX_CONNECTIONS];

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
  return h >= 0 && h < SHIM_MAX_CONNECTIONS && shim_handle_used[h] != 0;
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
    int32_t n = port_platform_get(key, value, sizeof(value));
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
  const uint32_t known = SHIM_NET_TLS | SHIM_NET_CLIENT_CERT;
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
  if ((uflags & SHIM_NET_CLIENT_CERT) != 0 && (uflags & SHIM_NET_TLS) == 0) {
    return SHIM_E_INVAL;
  }
  for (slot = 0; slot < SHIM_MAX_CONNECTIONS; slot++) {
    if (shim_handle_used[slot] == 0) {
      break;
    }
  }
  if (slot == SHIM_MAX_CONNECTIONS) {
    return SHIM_E_NOMEM;
  }
  memcpy(host, hmem, hlen);
  host[hlen] = '\0';
  rc = port_net_connect((uint32_t)slot, host, (uint16_t)port, uflags);
  if (rc < 0) {
    return rc;
  }
  shim_handle_used[slot] = 1;
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
  if (len == 0) {
    return 0;
  }
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
  shim_handle_used[h] = 0;
  return port_net_close((uint32_t)h);
}

void shim_natives_close_all(void) {
  int32_t h;
  for (h = 0; h < SHIM_MAX_CONNECTIONS; h++) {
    if (shim_handle_used[h] != 0) {
      (void)shim_native_net_close(h);
    }
  }
}
