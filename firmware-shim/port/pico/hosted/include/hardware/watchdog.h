/* Hosted board: the watchdog (board.c): not fed within its period, the
 * board restarts (the program executes itself again). */
#ifndef HOSTED_HARDWARE_WATCHDOG_H
#define HOSTED_HARDWARE_WATCHDOG_H
#include <stdbool.h>
#include <stdint.h>

void watchdog_enable(uint32_t delay_ms, bool pause_on_debug);
void watchdog_update(void);
bool watchdog_caused_reboot(void);
void watchdog_reboot(uint32_t pc, uint32_t sp, uint32_t delay_ms);
#endif
