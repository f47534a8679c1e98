/*
 * One log format for the device and the simulator:
 *   [     1.234] I node: registered pico-a
 * uptime seconds.millis from port_now_ms(), then the level letter. Lines are
 * formatted into a fixed buffer (no allocation) and cut, never split, at
 * SHIM_LOG_LINE_MAX.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "port.h"
#include "shim.h"

/* Level letters indexed by SHIM_LOG_* (shim_abi.h). */
static const char shim_log_letters[] = {'E', 'W', 'I', 'D'};

static int32_t shim_log_threshold = SHIM_LOG_INFO;

void shim_log_set_level(int32_t level) {
  if (level < SHIM_LOG_ERROR) {
    level = SHIM_LOG_ERROR;
  }
  if (level > SHIM_LOG_DEBUG) {
    level = SHIM_LOG_DEBUG;
  }
  shim_log_threshold = level;
}

int32_t shim_log_level(void) {
  return shim_log_threshold;
}

/* Writes the stamp and letter; returns the prefix length. */
static size_t shim_log_prefix(char *line, int32_t level) {
  uint64_t ms = port_now_ms();
  int n = snprintf(line, SHIM_LOG_LINE_MAX, "[%6lu.%03u] %c ", (unsigned long)(ms / 1000u),
                   (unsigned)(ms % 1000u), shim_log_letters[level]);
  return n < 0 ? 0 : (size_t)n;
}

/* Terminates the line with '\n' (cutting if needed) and writes it. */
static void shim_log_finish(char *line, size_t len) {
  if (len > SHIM_LOG_LINE_MAX - 1) {
    len = SHIM_LOG_LINE_MAX - 1;
  }
  line[len] = '\n';
  port_log_write(line, len + 1);
}

void shim_log(int32_t level, const char *fmt, ...) {
  char line[SHIM_LOG_LINE_MAX + 1];
  size_t len;
  va_list ap;
  int n;

  if (fmt == NULL || level < SHIM_LOG_ERROR || level > shim_log_threshold) {
    return;
  }
  len = shim_log_prefix(line, level);
  va_start(ap, fmt);
  n = vsnprintf(line + len, SHIM_LOG_LINE_MAX - len, fmt, ap);
  va_end(ap);
  if (n > 0) {
    len += (size_t)n;
  }
  shim_log_finish(line, len);
}

void shim_log_bytes(int32_t level, const uint8_t *msg, size_t len) {
  char line[SHIM_LOG_LINE_MAX + 1];
  size_t pos;
  size_t i;

  if (msg == NULL || level < SHIM_LOG_ERROR || level > shim_log_threshold) {
    return;
  }
  pos = shim_log_prefix(line, level);
  for (i = 0; i < len && pos < SHIM_LOG_LINE_MAX - 1; i++) {
    uint8_t c = msg[i];
    /* One message is one line: control characters would break the format. */
    line[pos++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
  }
  shim_log_finish(line, pos);
}
