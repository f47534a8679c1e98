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
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "port.h"
#include "port_posix.h"

/* A path from the config plus ".tmp". */
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
  char tmp[PORT_DEVMEM_PATH_MAX + 8];
  char dir[PORT_DEVMEM_PATH_MAX];
  const char *slash;
  size_t done = 0;
  int fd = -1;
  int32_t rc = SHIM_E_IO;

  if (buf == NULL || port_devmem_path(path, sizeof(path)) != SHIM_OK) {
    return SHIM_E_INVAL;
  }
  snprintf(tmp, sizeof(tmp), "%s.tmp", path);
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    goto fail;
  }
  while (done < len) {
    ssize_t w = write(fd, buf + done, len - done);
    if (w < 0 && errno == EINTR) {
      continue;
    }
    if (w <= 0) {
      goto fail;
    }
    done += (size_t)w;
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    fd = -1;
    goto fail;
  }
  fd = -1;
  if (rename(tmp, path) != 0) {
    goto fail;
  }
  slash = strrchr(path, '/');
  if (slash != NULL) {
    size_t dl = slash == path ? 1 : (size_t)(slash - path);
    memcpy(dir, path, dl);
    dir[dl] = '\0';
    fd = open(dir, O_RDONLY);
    if (fd >= 0) {
      (void)fsync(fd); /* best effort: some file systems refuse fsync on a directory */
      close(fd);
      fd = -1;
    }
  }
  return SHIM_OK;
fail:
  shim_log(SHIM_LOG_ERROR, "devmem: cannot save %s: %s", path, strerror(errno));
  if (fd >= 0) {
    close(fd);
  }
  (void)unlink(tmp);
  return rc;
}

int32_t port_output_set(uint32_t output, int on) {
  if (output == SHIM_OUTPUT_LED) {
    shim_log(SHIM_LOG_INFO, "sim: the on-board LED would turn %s", on ? "on" : "off");
  } else {
    shim_log(SHIM_LOG_INFO, "sim: GPIO %lu would go %s", (unsigned long)output, on ? "high" : "low");
  }
  return SHIM_OK;
}
