/*
 * Configuration store tests: the parser (src/config.c), the simulator's file
 * loader (port/posix/platform.c) and config_get as the core sees it (through
 * the real natives and the wasm2c runtime holding fixtures/minimal.wat).
 * Prints one "ok - ..." / "not ok - ..." line per check; exit 1 on failure.
 * Usage: shim-config-test <temp dir>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port_posix.h"
#include "runtime/runtime.h"
#include "shim.h"

static int failures;

static void check(int cond, const char *name) {
  printf("%s - config: %s\n", cond ? "ok" : "not ok", name);
  if (!cond) {
    failures++;
  }
}

static int parse(const char *text, shim_config_error_t *err) {
  return shim_config_parse(text, strlen(text), err);
}

static int write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  if (f == NULL) {
    return -1;
  }
  fputs(text, f);
  fclose(f);
  return 0;
}

/* config_get as the core calls it: key at offset 0, output at offset 1024. */
static int32_t core_get(const char *key, uint32_t cap, char *out, size_t outcap) {
  uint32_t size = 0;
  uint8_t *mem = shim_runtime_memory(&size);
  size_t klen = strlen(key);
  int32_t n;
  memcpy(mem, key, klen);
  n = shim_native_config_get(0, (uint32_t)klen, 1024, cap);
  if (out != NULL) {
    size_t c = n > 0 ? (size_t)n : 0;
    if (c >= outcap) {
      c = outcap - 1;
    }
    memcpy(out, mem + 1024, c);
    out[c] = '\0';
  }
  return n;
}

static void test_parser(void) {
  shim_config_error_t err;
  char longval[SHIM_CONFIG_MAX_VALUE + 64];
  char text[sizeof(longval) + 64];
  int i;

  check(parse("# comment\n\n  node.name =  pico-a  \r\nserver.host=10.0.0.1\n"
              "   # indented comment\nnote = a # b\nempty =\n",
              &err) == SHIM_OK,
        "good text parses");
  check(shim_config_lookup("node.name") != NULL &&
            strcmp(shim_config_lookup("node.name"), "pico-a") == 0,
        "value trimmed (spaces, CR)");
  check(shim_config_lookup("server.host") != NULL &&
            strcmp(shim_config_lookup("server.host"), "10.0.0.1") == 0,
        "no spaces around '='");
  check(shim_config_lookup("note") != NULL && strcmp(shim_config_lookup("note"), "a # b") == 0,
        "'#' inside a value is kept");
  check(shim_config_lookup("empty") != NULL && shim_config_lookup("empty")[0] == '\0',
        "empty value");
  check(shim_config_lookup("missing") == NULL, "unset key is NULL");

  check(parse("a = 1\nb = 2\nthis line has no equals\n", &err) == SHIM_E_INVAL &&
            err.line == 3 && strstr(err.message, "line 3") != NULL,
        "bad line rejected with its line number");
  check(shim_config_lookup("a") == NULL, "store empty after an error");
  check(parse("a = 1\nbad key = 2\n", &err) == SHIM_E_INVAL && err.line == 2,
        "space inside a key rejected");
  check(parse("= 2\n", &err) == SHIM_E_INVAL && err.line == 1, "missing key rejected");
  check(parse("a = 1\na = 2\n", &err) == SHIM_E_INVAL && strstr(err.message, "duplicate"),
        "duplicate key rejected");

  memset(longval, 'v', sizeof(longval));
  longval[SHIM_CONFIG_MAX_VALUE + 1] = '\0';
  snprintf(text, sizeof(text), "ok = 1\nlong = %s\n", longval);
  check(parse(text, &err) == SHIM_E_TOOLARGE && err.line == 2 &&
            strstr(err.message, "SHIM_CONFIG_MAX_VALUE") != NULL,
        "over-long value rejected (SHIM_CONFIG_MAX_VALUE)");
  longval[SHIM_CONFIG_MAX_VALUE] = '\0';
  snprintf(text, sizeof(text), "long = %s\n", longval);
  check(parse(text, &err) == SHIM_OK && strlen(shim_config_lookup("long")) == SHIM_CONFIG_MAX_VALUE,
        "value of exactly SHIM_CONFIG_MAX_VALUE accepted");
  memset(longval, 'k', SHIM_CONFIG_MAX_KEY + 1);
  longval[SHIM_CONFIG_MAX_KEY + 1] = '\0';
  snprintf(text, sizeof(text), "%s = 1\n", longval);
  check(parse(text, &err) == SHIM_E_TOOLARGE && err.line == 1, "over-long key rejected");

  text[0] = '\0';
  for (i = 0; i <= SHIM_CONFIG_MAX_ENTRIES; i++) {
    char line[32];
    snprintf(line, sizeof(line), "k%d = %d\n", i, i);
    strncat(text, line, sizeof(text) - strlen(text) - 1);
    if (strlen(text) > sizeof(text) - 32) {
      break;
    }
  }
  check(i <= SHIM_CONFIG_MAX_ENTRIES || parse(text, &err) == SHIM_E_TOOLARGE,
        "more than SHIM_CONFIG_MAX_ENTRIES rejected");
}

/* Values set at run time live in the arena with the parsed text. */
static void test_arena(void) {
  shim_config_error_t err;
  char big[SHIM_CONFIG_MAX_VALUE + 1];
  int32_t rc = SHIM_OK;
  int n;

  check(parse("node.ip = 10.0.0.5\nnode.name = pico-a\n", &err) == SHIM_OK, "arena: parse");
  check(shim_config_set("node.ip", "192.168.100.200") == SHIM_OK &&
            strcmp(shim_config_lookup("node.ip"), "192.168.100.200") == 0 &&
            strcmp(shim_config_lookup("node.name"), "pico-a") == 0,
        "arena: a longer value replaces the old one, neighbours intact");
  check(shim_config_set("node.ip", "10.1.1.1") == SHIM_OK &&
            strcmp(shim_config_lookup("node.ip"), "10.1.1.1") == 0,
        "arena: a shorter value fits in place");
  check(shim_config_set("wifi.country", "GB") == SHIM_OK &&
            strcmp(shim_config_lookup("wifi.country"), "GB") == 0,
        "arena: a new key is added");
  memset(big, 'v', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  /* A value that keeps growing takes new room each time: the arena fills. */
  for (n = 1; n <= SHIM_CONFIG_MAX_VALUE && rc == SHIM_OK; n++) {
    big[n] = '\0';
    rc = shim_config_set("grow", big);
    big[n] = 'v';
  }
  check(rc == SHIM_E_TOOLARGE, "arena: full -> E_TOOLARGE");
  check(shim_config_lookup("grow") != NULL && strlen(shim_config_lookup("grow")) == (size_t)(n - 2) &&
            strcmp(shim_config_lookup("node.name"), "pico-a") == 0 &&
            strcmp(shim_config_lookup("node.ip"), "10.1.1.1") == 0,
        "arena: a failed set leaves every value as it was");
}

static void test_files(const char *dir) {
  shim_config_error_t err;
  char path[512];
  char resolved[1024];

  snprintf(path, sizeof(path), "%s/does-not-exist.conf", dir);
  check(port_posix_config_load(path, &err) == SHIM_E_NOTFOUND &&
            strstr(err.message, "cannot open") != NULL,
        "missing file reported");
  snprintf(path, sizeof(path), "%s/bad.conf", dir);
  write_file(path, "node.name = a\n\n%% nonsense\n");
  check(port_posix_config_load(path, &err) == SHIM_E_INVAL && err.line == 3,
        "bad file reported with line number");
  snprintf(path, sizeof(path), "%s/good.conf", dir);
  write_file(path,
             "node.name = pico-a\nserver.host = 127.0.0.1\ntls.key_file = node.key\n"
             "tls.ca_file = /abs/ca.pem\n");
  check(port_posix_config_load(path, &err) == SHIM_OK, "good file loads");
  check(port_posix_config_path("node.key", resolved, sizeof(resolved)) == SHIM_OK &&
            strncmp(resolved, dir, strlen(dir)) == 0 && strstr(resolved, "/node.key") != NULL,
        "relative path resolved against the config directory");
  check(port_posix_config_path("/abs/ca.pem", resolved, sizeof(resolved)) == SHIM_OK &&
            strcmp(resolved, "/abs/ca.pem") == 0,
        "absolute path kept");
}

static void test_core_view(void) {
  char out[128];
  char first[64];
  uint32_t size = 0;

  check(core_get("node.name", 64, out, sizeof(out)) == 6 && strcmp(out, "pico-a") == 0,
        "config_get returns the value");
  check(core_get("node.name", 5, NULL, 0) == SHIM_E_TOOLARGE, "config_get too small -> E_TOOLARGE");
  check(core_get("no.such.key", 64, NULL, 0) == SHIM_E_NOTFOUND, "unset key -> E_NOTFOUND");
  check(core_get("tls.key_file", 64, out, sizeof(out)) == SHIM_E_DENIED,
        "tls.key_file denied to the core (E_DENIED)");
  check(core_get("tls.ca_file", 64, out, sizeof(out)) > 0, "tls.ca_file readable");
  check(core_get("platform.arch", 64, out, sizeof(out)) == 3 && strcmp(out, "arm") == 0,
        "platform.arch = arm");
  check(core_get("platform.os", 64, out, sizeof(out)) == 4 && strcmp(out, "none") == 0,
        "platform.os = none");
  check(core_get("platform.memory_bytes", 64, out, sizeof(out)) > 0 && strcmp(out, "270336") == 0,
        "platform.memory_bytes = 270336");
  check(core_get("platform.cpu_cores", 64, out, sizeof(out)) > 0 && strcmp(out, "2") == 0,
        "platform.cpu_cores = 2");
  check(core_get("platform.memory_allocatable_bytes", 64, out, sizeof(out)) > 0 &&
            atol(out) > 0 && atol(out) < 270336,
        "platform.memory_allocatable_bytes below memory_bytes");
  check(core_get("platform.runtime", 64, out, sizeof(out)) > 0 &&
            strncmp(out, "wasm2c://", 9) == 0,
        "platform.runtime = wasm2c://<version>");
  check(core_get("platform.kernel_version", 64, out, sizeof(out)) > 0,
        "platform.kernel_version set");
  check(core_get("platform.os_image", 64, out, sizeof(out)) > 0 &&
            strstr(out, "simulator") != NULL,
        "platform.os_image names the simulator");
  check(core_get("platform.machine_id", 64, first, sizeof(first)) == 32 &&
            core_get("platform.machine_id", 64, out, sizeof(out)) == 32 &&
            strcmp(first, out) == 0,
        "platform.machine_id: 32 hex digits, stable");
  shim_config_set("node.name", "pico-b");
  check(core_get("platform.machine_id", 64, out, sizeof(out)) == 32 && strcmp(first, out) != 0,
        "platform.machine_id differs per node name");
  check(core_get("platform.nope", 64, out, sizeof(out)) == SHIM_E_NOTFOUND,
        "unknown platform key -> E_NOTFOUND");
  check(core_get("abi.version", 64, out, sizeof(out)) == 1 && strcmp(out, "3") == 0,
        "abi.version = SHIM_ABI_VERSION (3)");
  shim_runtime_memory(&size);
  check(shim_native_config_get(size - 4, 9, 0, 16) == SHIM_E_BADPTR,
        "key crossing the end of memory -> E_BADPTR");
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: shim-config-test <temp dir>\n");
    return 2;
  }
  if (port_posix_init() != SHIM_OK || shim_runtime_load(NULL) != SHIM_OK) {
    fprintf(stderr, "setup failed\n");
    return 2;
  }
  shim_log_set_level(SHIM_LOG_ERROR);
  test_parser();
  test_arena();
  test_files(argv[1]);
  test_core_view();
  port_posix_shutdown();
  shim_runtime_unload();
  return failures == 0 ? 0 : 1;
}
