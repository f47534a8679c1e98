/*
 * WAMR platform definitions for pico-sdk bare metal (RP2040): one thread, no
 * MMU, no file system. The runtime is built with the classic interpreter,
 * Alloc_With_Pool (all memory from the shim's fixed pool), no threads, no
 * WASI and no hardware bound checks, so the types below only have to exist
 * and the functions in pico_platform.c are trivial where the feature is off.
 */
#ifndef _PLATFORM_INTERNAL_H
#define _PLATFORM_INTERNAL_H

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef BH_PLATFORM_PICO
#define BH_PLATFORM_PICO
#endif

/* Stack kept free below the interpreter's native stack check. */
#define BH_APPLET_PRESERVED_STACK_SIZE (2 * 1024)
#define BH_THREAD_DEFAULT_PRIORITY 0

/* One thread of execution: thread and lock types are placeholders. */
typedef uint32_t korp_tid;
typedef uint32_t korp_thread;
typedef uint32_t korp_mutex;
typedef uint32_t korp_cond;
typedef uint32_t korp_sem;
typedef struct {
  int unused;
} korp_rwlock;

typedef int os_file_handle;
typedef void *os_dir_stream;
typedef int os_raw_file_handle;

int os_printf(const char *format, ...);
int os_vprintf(const char *format, va_list ap);

static inline os_file_handle os_get_invalid_handle(void) {
  return -1;
}

/* No MMU: the "page" only sizes WAMR's rounding. */
static inline int os_getpagesize(void) {
  return 4096;
}

#endif /* _PLATFORM_INTERNAL_H */
