/*
 * Counting allocator for Mbed TLS heap figures (DESIGN.md: RAM is reported
 * from the simulator's peak of the same allocators). Two ways in:
 *  - SHIM_HEAP_WRAP (set by CMakeLists.txt when Mbed TLS is linked
 *    statically, e.g. Debian's library, which lacks MBEDTLS_PLATFORM_MEMORY):
 *    the link uses -Wl,--wrap=calloc,--wrap=free, so calls from the
 *    statically linked objects (Mbed TLS, the wasm2c runtime's tables, which
 *    exist before counting starts) come here.
 *  - MBEDTLS_PLATFORM_MEMORY (Mbed TLS built with the device configuration):
 *    mbedtls_platform_set_calloc_free routes every Mbed TLS allocation here.
 * Sizes are malloc_usable_size(), which can exceed the request by a few bytes.
 */
#include <malloc.h>
#include <stdlib.h>

#include <mbedtls/version.h>
#if MBEDTLS_VERSION_MAJOR >= 3
#include <mbedtls/build_info.h>
#else
#include <mbedtls/config.h>
#endif
#include <mbedtls/platform.h>

#include "port_posix.h"

static uint64_t port_heap_now;
static uint64_t port_heap_peak;
static int port_heap_active;

static void port_heap_count_alloc(void *p) {
  if (p != NULL) {
    port_heap_now += malloc_usable_size(p);
    if (port_heap_now > port_heap_peak) {
      port_heap_peak = port_heap_now;
    }
  }
}

static void port_heap_count_free(void *p) {
  if (p != NULL) {
    size_t n = malloc_usable_size(p);
    /* Blocks allocated before counting started may be freed later. */
    port_heap_now = port_heap_now > n ? port_heap_now - n : 0;
  }
}

#if defined(SHIM_HEAP_WRAP)
void *__real_calloc(size_t n, size_t size);
void __real_free(void *p);
void *__wrap_calloc(size_t n, size_t size);
void __wrap_free(void *p);

void *__wrap_calloc(size_t n, size_t size) {
  void *p = __real_calloc(n, size);
  port_heap_count_alloc(p);
  return p;
}

void __wrap_free(void *p) {
  port_heap_count_free(p);
  __real_free(p);
}

int port_posix_heap_install(void) {
  port_heap_active = 1;
  return 1;
}
#elif defined(MBEDTLS_PLATFORM_MEMORY)
static void *port_heap_calloc(size_t n, size_t size) {
  void *p = calloc(n, size);
  port_heap_count_alloc(p);
  return p;
}

static void port_heap_free(void *p) {
  port_heap_count_free(p);
  free(p);
}

int port_posix_heap_install(void) {
  mbedtls_platform_set_calloc_free(port_heap_calloc, port_heap_free);
  port_heap_active = 1;
  return 1;
}
#else
int port_posix_heap_install(void) {
  return 0;
}
#endif

void port_posix_heap_reset_peak(void) {
  port_heap_now = 0;
  port_heap_peak = 0;
}

uint64_t port_posix_heap_peak(void) {
  return port_heap_active ? port_heap_peak : 0;
}

uint64_t port_posix_heap_now(void) {
  return port_heap_active ? port_heap_now : 0;
}

int port_posix_heap_counting(void) {
  return port_heap_active;
}
