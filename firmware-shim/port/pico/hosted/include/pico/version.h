/* Hosted board: no pico-sdk library is linked (its lwIP and Mbed TLS
 * sources are), so the version names the board instead. */
#ifndef HOSTED_PICO_VERSION_H
#define HOSTED_PICO_VERSION_H
#define PICO_SDK_VERSION_STRING "hosted board"
#endif
