/*
 * The device's Mbed TLS configuration plus the TLS server the kubelet
 * endpoint needs (MBEDTLS_SSL_SRV_C), which the firmware does not build yet
 * (its lwIP server side is not written). tests/shim/run.sh builds the
 * kubelet test with it, so the server code runs on the Mbed TLS version and
 * settings of the device (e.g. without MBEDTLS_SSL_KEEP_PEER_CERTIFICATE).
 */
#include "../../firmware-shim/port/pico/mbedtls_config.h"

#define MBEDTLS_SSL_SRV_C
