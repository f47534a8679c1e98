/*
 * WAMR platform functions for pico-sdk bare metal. Time comes from the port
 * (port_now_ms) so this file needs no SDK header; output goes to stdio (the
 * SDK's USB serial). Memory: WAMR is initialised with Alloc_With_Pool, so
 * os_malloc is only a fallback and os_mmap serves linear memory only when
 * the runtime asks for it (it does not with a pool and no hardware bound
 * check); both use the C heap.
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

void *os_mmap(void *hint, size_t size, int prot, int flags, os_file_handle file) {
  (void)hint;
  (void)prot;
  (void)flags;
  (void)file;
  return size == 0 ? NULL : malloc(size);
}

void os_munmap(void *addr, size_t size) {
  (void)size;
  free(addr);
}

int os_mprotect(void *addr, size_t size, int prot) {
  (void)addr;
  (void)size;
  (void)prot;
  return 0;
}

void *os_mremap(void *old_addr, size_t old_size, size_t new_size) {
  (void)old_size;
  return realloc(old_addr, new_size);
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
