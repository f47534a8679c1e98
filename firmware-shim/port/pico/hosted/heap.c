/*
 * Hosted board: the C heap, HOSTED_HEAP_BYTES of it, the size the
 * firmware's linker leaves between the end of static RAM and the stack
 * (__StackLimit - end in k3s_pico_node.elf; scripts/build-sim.sh reads it).
 * Replaces glibc's malloc family for the whole program (glibc manual,
 * "Replacing malloc"), so Mbed TLS, the shim and stdio allocate from a heap
 * as small as the device's and fail as it would when it is exhausted.
 *
 * First fit over address-ordered blocks with an 8-byte header (newlib's
 * malloc also aligns to 8 with 8 bytes of overhead on the RP2040); free
 * blocks merge with free neighbours. The carved part only grows: like
 * newlib's sbrk arena, mallinfo().arena is the heap's high-water mark.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "malloc.h"

#ifndef HOSTED_HEAP_BYTES
#error "HOSTED_HEAP_BYTES: the device's heap size (port/pico/hosted/CMakeLists.txt)"
#endif

#define HEAP_ALIGN 8u

typedef struct {
  uint32_t size; /* block bytes, header included; multiple of 8 */
  uint32_t used; /* 0 free, 1 in use, 2 alignment stub: size = bytes back to the block */
} heap_hdr_t;

static uint8_t heap_arena[HOSTED_HEAP_BYTES] __attribute__((aligned(HEAP_ALIGN)));
static uint32_t heap_top;    /* bytes carved into blocks */
static uint32_t heap_in_use; /* bytes of blocks in use, headers included */

static heap_hdr_t *heap_at(uint32_t off) {
  return (heap_hdr_t *)(void *)(heap_arena + off);
}

/* Merges the free block at off with the free blocks after it. */
static void heap_merge(uint32_t off) {
  heap_hdr_t *h = heap_at(off);
  while (off + h->size < heap_top && heap_at(off + h->size)->used == 0) {
    h->size += heap_at(off + h->size)->size;
  }
}

void *malloc(size_t n) {
  uint32_t need;
  uint32_t off;
  heap_hdr_t *h;
  if (n > HOSTED_HEAP_BYTES) {
    errno = ENOMEM;
    return NULL;
  }
  need = (uint32_t)((n + HEAP_ALIGN - 1) & ~(size_t)(HEAP_ALIGN - 1)) + (uint32_t)sizeof(heap_hdr_t);
  for (off = 0; off < heap_top; off += h->size) {
    h = heap_at(off);
    if (h->used != 0) {
      continue;
    }
    heap_merge(off);
    if (h->size >= need) {
      if (h->size - need >= 2 * sizeof(heap_hdr_t)) {
        heap_hdr_t *rest = heap_at(off + need);
        rest->size = h->size - need;
        rest->used = 0;
        h->size = need;
      }
      h->used = 1;
      heap_in_use += h->size;
      return h + 1;
    }
  }
  if (need > HOSTED_HEAP_BYTES - heap_top) {
    errno = ENOMEM;
    return NULL;
  }
  h = heap_at(heap_top);
  h->size = need;
  h->used = 1;
  heap_top += need;
  heap_in_use += need;
  return h + 1;
}

static heap_hdr_t *heap_block(void *p) {
  heap_hdr_t *h = (heap_hdr_t *)p - 1;
  if (h->used == 2) {
    h = (heap_hdr_t *)(void *)((uint8_t *)h - h->size);
  }
  return h;
}

void free(void *p) {
  heap_hdr_t *h;
  if (p == NULL) {
    return;
  }
  h = heap_block(p);
  h->used = 0;
  heap_in_use -= h->size;
  heap_merge((uint32_t)((uint8_t *)h - heap_arena));
}

void *calloc(size_t count, size_t size) {
  void *p;
  if (size != 0 && count > SIZE_MAX / size) {
    errno = ENOMEM;
    return NULL;
  }
  p = malloc(count * size);
  if (p != NULL) {
    memset(p, 0, count * size);
  }
  return p;
}

void *realloc(void *p, size_t n) {
  heap_hdr_t *h;
  size_t have;
  void *q;
  if (p == NULL) {
    return malloc(n);
  }
  h = heap_block(p);
  have = h->size - (size_t)((uint8_t *)p - (uint8_t *)h);
  if (n <= have) {
    return p;
  }
  q = malloc(n);
  if (q != NULL) {
    memcpy(q, p, have);
    free(p);
  }
  return q;
}

void *memalign(size_t align, size_t n) {
  uint8_t *p;
  uintptr_t a;
  heap_hdr_t *stub;
  if (align <= HEAP_ALIGN) {
    return malloc(n);
  }
  if ((align & (align - 1)) != 0 || n > HOSTED_HEAP_BYTES) {
    errno = EINVAL;
    return NULL;
  }
  p = malloc(n + align + sizeof(heap_hdr_t));
  if (p == NULL) {
    return NULL;
  }
  a = ((uintptr_t)p + sizeof(heap_hdr_t) + align - 1) & ~(uintptr_t)(align - 1);
  stub = (heap_hdr_t *)a - 1;
  stub->used = 2;
  stub->size = (uint32_t)((uint8_t *)stub - ((uint8_t *)p - sizeof(heap_hdr_t)));
  return (void *)a;
}

int posix_memalign(void **out, size_t align, size_t n) {
  void *p = memalign(align, n);
  if (p == NULL) {
    return ENOMEM;
  }
  *out = p;
  return 0;
}

void *aligned_alloc(size_t align, size_t n) {
  return memalign(align, n);
}

size_t malloc_usable_size(void *p) {
  heap_hdr_t *h;
  if (p == NULL) {
    return 0;
  }
  h = heap_block(p);
  return h->size - (size_t)((uint8_t *)p - (uint8_t *)h);
}

struct mallinfo mallinfo(void) {
  struct mallinfo mi;
  memset(&mi, 0, sizeof(mi));
  mi.arena = heap_top;
  mi.uordblks = heap_in_use;
  mi.fordblks = heap_top - heap_in_use;
  return mi;
}
