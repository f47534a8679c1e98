/*
 * POSIX port: device memory saved in a file, outputs logged.
 *
 * The image file is the raw SHIM_DEVMEM_BYTES bytes (tests and benchmarks
 * read it directly): config key `devmem.file`, relative to the config file's
 * directory, default `<node.name>.devmem` next to the config. A store writes
 * `<file>.tmp`, fsyncs it and renames it over the file (rename(2) is atomic),
 * then fsyncs the directory so the rename itself survives a crash.
 */
#include <errno.h>
#include <stdio.h>

#include "port.h"
#include "port_posix.h"

/* A path from the config (port_posix_write_file adds ".tmp" itself). */
#define PORT_DEVMEM_PATH_MAX (SHIM_CONFIG_MAX_VALUE + 16)

static int32_t port_devmem_path(char *out, size_t cap) {
  char name[SHIM_CONFIG_MAX_VALUE + 16];
  const char *v = shim_config_lookup("devmem.file");
  if (v == NULL) {
    const char *node = shim_config_lookup("node.name");
    snprintf(name, sizeof(name), "%s.devmem", node != NULL ? node : "node");
    v = name;
  }
  return port_posix_config_path(v, out, cap);
}

int32_t port_devmem_load(uint8_t *buf, size_t len) {
  char path[PORT_DEVMEM_PATH_MAX];
  uint8_t extra;
  FILE *f;
  size_t n;
  int32_t rc = SHIM_OK;
  if (buf == NULL || port_devmem_path(path, sizeof(path)) != SHIM_OK) {
    return SHIM_E_INVAL;
  }
  f = fopen(path, "rb");
  if (f == NULL) {
    return errno == ENOENT ? SHIM_E_NOTFOUND : SHIM_E_IO;
  }
  n = fread(buf, 1, len, f);
  /* Exactly len bytes: a shorter or longer file is not an image of this build. */
  if (n != len || fread(&extra, 1, 1, f) != 0) {
    shim_log(SHIM_LOG_WARN, "devmem: %s is not %lu bytes", path, (unsigned long)len);
    rc = SHIM_E_IO;
  }
  fclose(f);
  return rc == SHIM_OK ? (int32_t)len : rc;
}

int32_t port_devmem_store(const uint8_t *buf, size_t len) {
  char path[PORT_DEVMEM_PATH_MAX];
  if (buf == NULL || port_devmem_path(path, sizeof(path)) != SHIM_OK) {
    return SHIM_E_INVAL;
  }
  return port_posix_write_file("devmem", path, buf, len, 0644);
}

int32_t port_output_set(uint32_t output, int on) {
  if (output == SHIM_OUTPUT_LED) {
    shim_log(SHIM_LOG_INFO, "sim: the on-board LED would turn %s", on ? "on" : "off");
  } else {
    shim_log(SHIM_LOG_INFO, "sim: GPIO %lu would go %s", (unsigned long)output, on ? "high" : "low");
  }
  return SHIM_OK;
}
