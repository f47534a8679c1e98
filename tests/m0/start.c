/*
 * Start code for test programs on an emulated Cortex-M0 (tests/m0/run.sh):
 * the vector table (initial stack pointer, reset and fault handlers; ARMv7-M
 * and ARMv6-M Architecture Reference Manuals, "The vector table"), .bss
 * zeroed, newlib's semihosting (librdimon) opened, main() run, its result
 * handed to QEMU through semihosting SYS_EXIT. A fault stops the run with a
 * message instead of hanging.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

extern int main(int argc, char **argv);
extern void initialise_monitor_handles(void);
extern uint32_t __bss_start__;
extern uint32_t __bss_end__;
extern uint32_t __stack_top;

void m0_reset(void);
void m0_fault(void);

__attribute__((section(".vectors"), used)) static const uintptr_t m0_vectors[4] = {
    (uintptr_t)&__stack_top, /* initial SP */
    (uintptr_t)m0_reset,     /* reset */
    (uintptr_t)m0_fault,     /* NMI */
    (uintptr_t)m0_fault,     /* HardFault: unaligned access, undefined instruction */
};

void m0_fault(void) {
  static const char msg[] = "m0: HardFault (unaligned access or an instruction ARMv6-M lacks)\n";
  fwrite(msg, 1, sizeof(msg) - 1, stderr);
  exit(3);
}

void m0_reset(void) {
  static char *argv[] = {"m0", NULL};
  uint32_t *p;
  for (p = &__bss_start__; p < &__bss_end__; p++) {
    *p = 0;
  }
  initialise_monitor_handles();
  exit(main(1, argv));
}
