/* Hosted board: newlib's mallinfo (the device's C library), served by the
 * board's heap (heap.c) of the device's size. */
#ifndef HOSTED_MALLOC_H
#define HOSTED_MALLOC_H
#include <stddef.h>

struct mallinfo {
  size_t arena;    /* bytes taken from the heap region so far (high-water mark) */
  size_t ordblks;  /* free blocks */
  size_t smblks;   /* unused (0) */
  size_t hblks;    /* unused (0) */
  size_t hblkhd;   /* unused (0) */
  size_t usmblks;  /* unused (0) */
  size_t fsmblks;  /* unused (0) */
  size_t uordblks; /* bytes in use */
  size_t fordblks; /* free bytes below the high-water mark */
  size_t keepcost; /* unused (0) */
};
struct mallinfo mallinfo(void);
#endif
