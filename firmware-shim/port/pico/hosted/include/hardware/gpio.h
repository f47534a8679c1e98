/* Hosted board: GPIO outputs are kept in a word (board.c, logged at debug). */
#ifndef HOSTED_HARDWARE_GPIO_H
#define HOSTED_HARDWARE_GPIO_H
#include <stdbool.h>
#include <stdint.h>

#define GPIO_OUT 1
void gpio_init(unsigned gpio);
void gpio_set_dir(unsigned gpio, bool out);
void gpio_put(unsigned gpio, bool value);
#endif
