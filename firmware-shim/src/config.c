/*
 * The configuration store: `key = value` lines parsed into entries.
 * Format: one entry per line; blank lines and lines whose first non-blank
 * character is '#' are ignored; whitespace around key and value is trimmed
 * ('#' inside a value is part of the value); keys are [A-Za-z0-9._-]+ and
 * unique. The same text comes from a file (simulator) or flash (device).
 *
 * Keys and values are kept as NUL-terminated strings in one arena of
 * SHIM_CONFIG_ARENA_BYTES (entries hold offsets), so RAM follows the text
 * actually configured instead of SHIM_CONFIG_MAX_ENTRIES x the longest key
 * and value (9.7 KB; the device's text is a few hundred bytes). A value set
 * at run time overwrites the old one when it fits its space, else it goes
 * to the end of the arena; when that is full the set fails and the old
 * value stays.
 */
#include <stdio.h>
#include <string.h>

#include "shim.h"

typedef struct {
  uint16_t key;   /* offset of the key in the arena */
  uint16_t value; /* offset of the value */
  uint16_t room;  /* bytes the value may use there, its NUL included */
} shim_config_entry_t;

static shim_config_entry_t shim_config_entries[SHIM_CONFIG_MAX_ENTRIES];
static uint32_t shim_config_count;
static char shim_config_arena[SHIM_CONFIG_ARENA_BYTES];
static uint32_t shim_config_used;

/* Keys holding private material: never handed to the core (DESIGN.md: keys
 * never enter WASM memory). Matched as prefixes. */
static const char *const shim_config_denied[] = {"tls.key"};

static int shim_is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int shim_is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

void shim_config_reset(void) {
  memset(shim_config_entries, 0, sizeof(shim_config_entries));
  shim_config_count = 0;
  shim_config_used = 0;
}

static shim_config_entry_t *shim_config_find(const char *key, size_t klen) {
  uint32_t i;
  for (i = 0; i < shim_config_count; i++) {
    const char *k = shim_config_arena + shim_config_entries[i].key;
    if (strlen(k) == klen && memcmp(k, key, klen) == 0) {
      return &shim_config_entries[i];
    }
  }
  return NULL;
}

/* Copies len bytes and a NUL to the end of the arena; its offset, or -1
 * when they do not fit. */
static int32_t shim_config_append(const char *s, size_t len) {
  uint32_t at = shim_config_used;
  if (len + 1u > sizeof(shim_config_arena) - at) {
    return -1;
  }
  memcpy(shim_config_arena + at, s, len);
  shim_config_arena[at + len] = '\0';
  shim_config_used = at + (uint32_t)len + 1u;
  return (int32_t)at;
}

const char *shim_config_lookup(const char *key) {
  shim_config_entry_t *e;
  if (key == NULL) {
    return NULL;
  }
  e = shim_config_find(key, strlen(key));
  return e == NULL ? NULL : shim_config_arena + e->value;
}

int shim_config_key_denied(const char *key) {
  size_t i;
  if (key == NULL) {
    return 1;
  }
  for (i = 0; i < sizeof(shim_config_denied) / sizeof(shim_config_denied[0]); i++) {
    if (strncmp(key, shim_config_denied[i], strlen(shim_config_denied[i])) == 0) {
      return 1;
    }
  }
  return 0;
}

/* Stores (key, value) slices; returns SHIM_OK or a code with a reason. */
static int32_t shim_config_store(const char *key, size_t klen, const char *value, size_t vlen,
                                 const char **why) {
  shim_config_entry_t *e;
  if (klen > SHIM_CONFIG_MAX_KEY) {
    *why = "key longer than SHIM_CONFIG_MAX_KEY";
    return SHIM_E_TOOLARGE;
  }
  if (vlen > SHIM_CONFIG_MAX_VALUE) {
    *why = "value longer than SHIM_CONFIG_MAX_VALUE";
    return SHIM_E_TOOLARGE;
  }
  if (shim_config_find(key, klen) != NULL) {
    *why = "duplicate key";
    return SHIM_E_INVAL;
  }
  if (shim_config_count >= SHIM_CONFIG_MAX_ENTRIES) {
    *why = "more entries than SHIM_CONFIG_MAX_ENTRIES";
    return SHIM_E_TOOLARGE;
  }
  if (klen + vlen + 2u > sizeof(shim_config_arena) - shim_config_used) {
    *why = "more text than SHIM_CONFIG_ARENA_BYTES";
    return SHIM_E_TOOLARGE;
  }
  e = &shim_config_entries[shim_config_count++];
  e->key = (uint16_t)shim_config_append(key, klen);
  e->value = (uint16_t)shim_config_append(value, vlen);
  e->room = (uint16_t)(vlen + 1u);
  return SHIM_OK;
}

int32_t shim_config_set(const char *key, const char *value) {
  const char *why = NULL;
  shim_config_entry_t *e;
  size_t klen;
  size_t vlen;
  size_t i;

  if (key == NULL || value == NULL) {
    return SHIM_E_INVAL;
  }
  klen = strlen(key);
  vlen = strlen(value);
  if (klen == 0) {
    return SHIM_E_INVAL;
  }
  for (i = 0; i < klen; i++) {
    if (!shim_is_key_char(key[i])) {
      return SHIM_E_INVAL;
    }
  }
  e = shim_config_find(key, klen);
  if (e != NULL) {
    int32_t at;
    if (vlen > SHIM_CONFIG_MAX_VALUE) {
      return SHIM_E_TOOLARGE;
    }
    if (vlen + 1u <= e->room) {
      memcpy(shim_config_arena + e->value, value, vlen + 1u);
      return SHIM_OK;
    }
    at = shim_config_append(value, vlen);
    if (at < 0) {
      return SHIM_E_TOOLARGE; /* the old value stays */
    }
    e->value = (uint16_t)at;
    e->room = (uint16_t)(vlen + 1u);
    return SHIM_OK;
  }
  return shim_config_store(key, klen, value, vlen, &why);
}

/* Parses one line [p, end); returns SHIM_OK or a code with a reason. */
static int32_t shim_config_line(const char *p, const char *end, const char **why) {
  const char *key;
  const char *key_end;
  const char *value;

  while (p < end && shim_is_space(*p)) {
    p++;
  }
  while (end > p && shim_is_space(end[-1])) {
    end--;
  }
  if (p == end || *p == '#') {
    return SHIM_OK;
  }
  key = p;
  while (p < end && shim_is_key_char(*p)) {
    p++;
  }
  key_end = p;
  while (p < end && shim_is_space(*p)) {
    p++;
  }
  if (key_end == key) {
    *why = "expected a key ([A-Za-z0-9._-])";
    return SHIM_E_INVAL;
  }
  if (p == end || *p != '=') {
    *why = (p == end) ? "missing '='" : "invalid character in key";
    return SHIM_E_INVAL;
  }
  p++;
  while (p < end && shim_is_space(*p)) {
    p++;
  }
  value = p;
  for (; p < end; p++) {
    if (*p == '\0') {
      *why = "NUL byte in value";
      return SHIM_E_INVAL;
    }
  }
  return shim_config_store(key, (size_t)(key_end - key), value, (size_t)(end - value), why);
}

int32_t shim_config_parse(const char *text, size_t len, shim_config_error_t *err) {
  const char *p = text;
  const char *end = text + len;
  uint32_t line = 0;
  int32_t rc = SHIM_OK;

  if (err != NULL) {
    err->line = 0;
    err->message[0] = '\0';
  }
  shim_config_reset();
  if (text == NULL && len != 0) {
    return SHIM_E_INVAL;
  }
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = nl == NULL ? end : nl;
    const char *why = "invalid line";
    line++;
    rc = shim_config_line(p, line_end, &why);
    if (rc != SHIM_OK) {
      if (err != NULL) {
        err->line = line;
        snprintf(err->message, sizeof(err->message), "line %lu: %s", (unsigned long)line, why);
      }
      shim_config_reset();
      return rc;
    }
    p = nl == NULL ? end : nl + 1;
  }
  return SHIM_OK;
}
