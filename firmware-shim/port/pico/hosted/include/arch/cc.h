/* Hosted board: lwIP's architecture header (lwip/arch.h includes it). */
#ifndef HOSTED_LWIP_ARCH_CC_H
#define HOSTED_LWIP_ARCH_CC_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef int sys_prot_t;
#define LWIP_PLATFORM_DIAG(x) \
  do {                        \
    printf x;                 \
  } while (0)
#define LWIP_PLATFORM_ASSERT(x)                                                   \
  do {                                                                            \
    fprintf(stderr, "lwip: assertion \"%s\" failed at %s:%d\n", x, __FILE__, __LINE__); \
    abort();                                                                      \
  } while (0)
uint32_t hosted_rand32(void);
#define LWIP_RAND() hosted_rand32()
#endif
