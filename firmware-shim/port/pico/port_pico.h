/*
 * Pico W port internals shared by main.c, platform.c, flash_regions.c,
 * wifi.c and net.c (not a public API; port.h is).
 */
#ifndef PORT_PICO_H
#define PORT_PICO_H

#include <stddef.h>
#include <stdint.h>

#include "shim.h"

/* Watchdog period: longer than the longest blocking step, one Mbed TLS
 * handshake step (ECDHE-RSA verify or ECDH on the M0+: ~0.3 s each, DESIGN.md)
 * and flash erase of a sector; at most 8.3 s on the RP2040 (datasheet 4.7). */
#ifndef PORT_PICO_WATCHDOG_MS
#define PORT_PICO_WATCHDOG_MS 8000u
#endif

/* ---- flash regions (flash_regions.c, layout in flash_layout.h) ---- */

/** Checks the config region (magic, version, lengths, CRC-32) and parses its
 *  text into the config store; remembers where the TLS TLVs are. Returns
 *  SHIM_OK or < 0 with a reason in err. */
int32_t port_pico_config_load(shim_config_error_t *err);

/** The TLV value of type FLASH_TLV_* in the config region (memory-mapped
 *  flash, read-only), or NULL; *len gets its length. */
const uint8_t *port_pico_config_tlv(uint32_t type, size_t *len);

/** The newest valid core.wasm slot (magic, length, CRC-32): pointer into
 *  flash and length, or NULL with a reason in why. */
const uint8_t *port_pico_core_module(uint32_t *len, const char **why);

/* ---- clock, entropy, LED, watchdog (platform.c) ---- */

/** Seeds the CTR_DRBG from the chip's entropy (pico_rand) and installs the
 *  Mbed TLS time source. Returns SHIM_OK or SHIM_E_IO. */
int32_t port_pico_platform_init(void);

/** Called by lwIP's SNTP client with Unix seconds and microseconds. */
void port_pico_sntp_set(unsigned long sec, unsigned long us);

/** Starts SNTP against config time.ntp_server (default pool.ntp.org). */
void port_pico_sntp_start(void);

typedef enum {
  PORT_PICO_LED_CONNECTING = 0, /* blinking 2 Hz: Wi-Fi or network not up */
  PORT_PICO_LED_JOINED,         /* on: joined, IP address and time known */
  PORT_PICO_LED_ERROR           /* blinking 8 Hz: fatal error (config, core) */
} port_pico_led_t;

/** Sets the LED state; the blinking is driven by port_pico_led_tick. */
void port_pico_led_set(port_pico_led_t state);
void port_pico_led_tick(void);

/** Feeds the watchdog (no-op until port_pico_watchdog_start). */
void port_pico_watchdog_feed(void);
void port_pico_watchdog_start(void);

/* ---- Wi-Fi station (wifi.c) ---- */

/** Initialises the CYW43 with the country from wifi.country and starts
 *  joining wifi.ssid. Returns SHIM_OK or < 0 (no SSID, driver failure). */
int32_t port_pico_wifi_init(void);

/** Drives the join state machine: connect with exponential backoff,
 *  reconnect after a drop, node.ip from DHCP. Call often (port_wait). */
void port_pico_wifi_service(void);

/** Non-zero when joined with an IP address. */
int port_pico_wifi_up(void);

/** RSSI in dBm of the joined network, or 0 when not joined. */
int32_t port_pico_wifi_rssi(void);

/* ---- TLS material (net.c) ---- */

/** Parses the CA bundle, client certificate and key from the config region
 *  TLVs (in place from flash) and sets up the two TLS configurations.
 *  Returns SHIM_OK or < 0 with the reason logged. */
int32_t port_pico_tls_load(void);

/** Sets up a client TLS configuration (server verified against the CA
 *  bundle, tickets on); with crt and key it presents them; flags
 *  SHIM_NET_HTTP1 offers HTTP/1.1 alone (src/tls.c). Mbed TLS result. */
struct mbedtls_ssl_config;
struct mbedtls_x509_crt;
struct mbedtls_pk_context;
int port_pico_client_conf(struct mbedtls_ssl_config *conf, struct mbedtls_x509_crt *crt,
                          struct mbedtls_pk_context *key, uint32_t flags);

/** The config region's client certificate (static identity), or NULL. */
const struct mbedtls_x509_crt *port_pico_static_cert(void);

/** Sets up the kubelet endpoint's server configuration presenting crt/key
 *  and verifying clients against the config region's client CA (src/tls.c
 *  shim_tls_conf_server). Mbed TLS result. */
int port_pico_server_conf(struct mbedtls_ssl_config *conf, struct mbedtls_x509_crt *crt,
                          struct mbedtls_pk_context *key);

/** 1 when this build can serve the kubelet endpoint: a TLS server
 *  (MBEDTLS_SSL_SRV_C) and a client CA in the config region. */
int port_pico_kubelet_ready(void);

/** CPU busy time (what port_wait did not sleep), TCP payload bytes, TLS
 *  handshake and accept counters into out[SHIM_STAT_*] (stats_read). */
void port_pico_net_stats(int64_t *out, uint32_t count);

/* ---- node identity (identity.c, records in store.c) ---- */

/** At boot, after port_pico_tls_load: without a static identity, loads the
 *  stored client key and certificate (when both are there and match) for
 *  SHIM_NET_CLIENT_CERT connections. Returns SHIM_OK or SHIM_E_IO / _TLS. */
int32_t port_pico_identity_load(void);

/** The TLS configuration with the node's own certificate (http1: its
 *  HTTP/1.1-only twin, for the agent tunnel), or NULL. */
struct mbedtls_ssl_config *port_pico_identity_conf(int http1);

/** The kubelet endpoint's server configuration with the node's serving
 *  certificate (key slot 1), or NULL while there is none. */
struct mbedtls_ssl_config *port_pico_serving_conf(void);

/** C heap (newlib malloc): bytes in use now and bytes taken from the
 *  system so far (the high-water mark of the heap). */
void port_pico_heap(uint32_t *in_use, uint32_t *arena);

#endif /* PORT_PICO_H */
