/*
 * WAMR platform functions for pico-sdk bare metal. Time comes from the port
 * (port_now_ms) so this file needs no SDK header; output goes to stdio (the
 * SDK's USB serial). Memory: WAMR is initialised with Alloc_With_Pool, so
 * os_malloc (C heap) is only a fallback WAMR does not use in this build, and
 * os_mmap serves the linear memory from the same pool.
 */
#include "platform_api_vmcore.h"
#include "platform_api_extension.h"

#include "port.h"

int bh_platform_init(void) {
  return 0;
}

void bh_platform_destroy(void) {
}

void *os_malloc(unsigned size) {
  return malloc(size);
}

void *os_realloc(void *ptr, unsigned size) {
  return realloc(ptr, size);
}

void os_free(void *ptr) {
  free(ptr);
}

int os_dumps_proc_mem_info(char *out, unsigned int size) {
  (void)out;
  (void)size;
  return -1;
}

int os_printf(const char *format, ...) {
  va_list ap;
  int n;
  va_start(ap, format);
  n = vprintf(format, ap);
  va_end(ap);
  return n;
}

int os_vprintf(const char *format, va_list ap) {
  return vprintf(format, ap);
}

uint64 os_time_get_boot_us(void) {
  return (uint64)port_now_ms() * 1000u;
}

uint64 os_time_thread_cputime_us(void) {
  return os_time_get_boot_us();
}

korp_tid os_self_thread(void) {
  return 1;
}

/* NULL: WAMR then skips its native stack overflow check; the interpreter's
 * own operand/frame stack (SHIM_WAMR_STACK_BYTES) is still bounded. */
uint8 *os_thread_get_stack_boundary(void) {
  return NULL;
}

void os_thread_jit_write_protect_np(bool enabled) {
  (void)enabled;
}

int os_mutex_init(korp_mutex *mutex) {
  *mutex = 0;
  return BHT_OK;
}

int os_mutex_destroy(korp_mutex *mutex) {
  (void)mutex;
  return BHT_OK;
}

int os_mutex_lock(korp_mutex *mutex) {
  (void)mutex;
  return BHT_OK;
}

int os_mutex_unlock(korp_mutex *mutex) {
  (void)mutex;
  return BHT_OK;
}

int os_recursive_mutex_init(korp_mutex *mutex) {
  return os_mutex_init(mutex);
}

int os_cond_init(korp_cond *cond) {
  *cond = 0;
  return BHT_OK;
}

int os_cond_destroy(korp_cond *cond) {
  (void)cond;
  return BHT_OK;
}

int os_cond_wait(korp_cond *cond, korp_mutex *mutex) {
  (void)cond;
  (void)mutex;
  return BHT_OK;
}

int os_cond_signal(korp_cond *cond) {
  (void)cond;
  return BHT_OK;
}

int os_cond_broadcast(korp_cond *cond) {
  (void)cond;
  return BHT_OK;
}

/* Linear memory: WAMR 2.x always asks os_mmap for it (wasm_memory.c
 * wasm_mremap_linear_memory). Without an MMU it comes from WAMR's own pool
 * (wasm_runtime_malloc), so SHIM_WAMR_POOL_BYTES holds the module copy,
 * its structures and its memory, and the C heap stays for TLS. WAMR asserts
 * 8-byte alignment, the pool guarantees 4: the raw pointer is remembered. */
#define PICO_WAMR_MAPS 2 /* one memory per instance, one instance; +1 spare */

void *wasm_runtime_malloc(unsigned int size);
void wasm_runtime_free(void *ptr);

static struct {
  void *aligned;
  void *raw;
} pico_wamr_maps[PICO_WAMR_MAPS];

void *os_mmap(void *hint, size_t size, int prot, int flags, os_file_handle file) {
  int i;
  uint8_t *raw;
  (void)hint;
  (void)prot;
  (void)flags;
  (void)file;
  if (size == 0 || size > 0xFFFFFFF0u) {
    return NULL;
  }
  for (i = 0; i < PICO_WAMR_MAPS; i++) {
    if (pico_wamr_maps[i].raw == NULL) {
      break;
    }
  }
  if (i == PICO_WAMR_MAPS || (raw = wasm_runtime_malloc((unsigned)size + 8u)) == NULL) {
    return NULL;
  }
  pico_wamr_maps[i].raw = raw;
  pico_wamr_maps[i].aligned = (void *)(((uintptr_t)raw + 7u) & ~(uintptr_t)7u);
  memset(pico_wamr_maps[i].aligned, 0, size); /* mmap'ed memory reads as zero */
  return pico_wamr_maps[i].aligned;
}

void os_munmap(void *addr, size_t size) {
  int i;
  (void)size;
  for (i = 0; i < PICO_WAMR_MAPS; i++) {
    if (addr != NULL && pico_wamr_maps[i].aligned == addr) {
      wasm_runtime_free(pico_wamr_maps[i].raw);
      pico_wamr_maps[i].raw = NULL;
      pico_wamr_maps[i].aligned = NULL;
      return;
    }
  }
}

int os_mprotect(void *addr, size_t size, int prot) {
  (void)addr;
  (void)size;
  (void)prot;
  return 0;
}

/* Only for memory.grow, which the core never uses (DESIGN.md): refused. */
void *os_mremap(void *old_addr, size_t old_size, size_t new_size) {
  (void)old_addr;
  (void)old_size;
  (void)new_size;
  return NULL;
}

/* Cortex-M0+ has no caches; code is never generated (no JIT/AOT). */
void os_dcache_flush(void) {
}

void os_icache_flush(void *start, size_t len) {
  (void)start;
  (void)len;
}

os_raw_file_handle os_invalid_raw_handle(void) {
  return -1;
}
