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

/* No MMU: the "page" only sizes WAMR's rounding. WAMR rounds the linear
 * memory's size up to it and bounds-checks loads and stores against the
 * rounded size (wasm_memory.c wasm_allocate_linear_memory: memory_data_size
 * = align_as_and_cast(size, page_size)), while os_mmap is asked for the
 * unrounded size: with 4096 a stray store could land up to 4 KB past the
 * memory, inside the next pool block (found by bench/wamr-pool.mjs). 8 keeps
 * the rounding to the 8-byte alignment os_mmap gives anyway. */
static inline int os_getpagesize(void) {
  return 8;
}

#endif /* _PLATFORM_INTERNAL_H */
