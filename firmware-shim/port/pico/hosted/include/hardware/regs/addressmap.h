/* Hosted board: flash is mapped where the RP2040 maps it (board.c maps the
 * image file read-only at this address). RP2040 datasheet 2.2. */
#ifndef HOSTED_ADDRESSMAP_H
#define HOSTED_ADDRESSMAP_H
#define XIP_BASE 0x10000000u
#endif
