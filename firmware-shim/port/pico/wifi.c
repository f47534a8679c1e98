/*
 * Wi-Fi station on the CYW43439 (pico_cyw43_arch_lwip_poll): join with
 * exponential backoff, rejoin after a drop, node.ip from DHCP, SNTP once an
 * address is known. Config keys:
 *   wifi.ssid       network name (required)
 *   wifi.password   WPA2 passphrase: the config region's FLASH_TLV_WIFI_PSK
 *                   record (uf2.mjs moves it out of the text so the core
 *                   cannot read it); empty or absent = open network
 *   wifi.country    ISO 3166-1 alpha-2 code for the radio's channel and power
 *                   rules (e.g. DE, US); default: worldwide ("XX")
 */
#include <string.h>

#include "hardware/watchdog.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "pico/cyw43_arch.h"

#include "flash_layout.h"
#include "port.h"
#include "port_pico.h"

/* First retry after a failed join, doubled per failure up to the maximum;
 * a join attempt that has neither succeeded nor failed after the timeout
 * counts as failed. */
#define PORT_WIFI_BACKOFF_MIN_MS 1000u
#define PORT_WIFI_BACKOFF_MAX_MS 60000u
#define PORT_WIFI_JOIN_TIMEOUT_MS 30000u

typedef enum { WIFI_IDLE, WIFI_JOINING, WIFI_UP, WIFI_WAIT } port_wifi_state_t;

static port_wifi_state_t port_wifi_state;
static const char *port_wifi_ssid;
static const char *port_wifi_psk;
static uint32_t port_wifi_backoff_ms = PORT_WIFI_BACKOFF_MIN_MS;
static uint64_t port_wifi_at_ms; /* join start (JOINING) or next try (WAIT) */
static uint32_t port_wifi_failures;

static uint32_t port_wifi_country(void) {
  const char *c = shim_config_lookup("wifi.country");
  if (c == NULL || strlen(c) != 2) {
    if (c != NULL) {
      shim_log(SHIM_LOG_WARN, "wifi: wifi.country \"%s\" is not a 2-letter code: worldwide", c);
    }
    return CYW43_COUNTRY_WORLDWIDE;
  }
  return CYW43_COUNTRY(c[0] & ~0x20, c[1] & ~0x20, 0); /* upper case */
}

static void port_wifi_join(void) {
  int rc;
  uint32_t auth = port_wifi_psk != NULL && port_wifi_psk[0] != '\0' ? CYW43_AUTH_WPA2_AES_PSK
                                                                     : CYW43_AUTH_OPEN;
  shim_log(SHIM_LOG_INFO, "wifi: joining \"%s\"", port_wifi_ssid);
  port_pico_led_set(PORT_PICO_LED_CONNECTING);
  rc = cyw43_arch_wifi_connect_async(port_wifi_ssid, auth == CYW43_AUTH_OPEN ? NULL : port_wifi_psk,
                                     auth);
  port_wifi_at_ms = port_now_ms();
  port_wifi_state = WIFI_JOINING;
  if (rc != 0) {
    shim_log(SHIM_LOG_WARN, "wifi: join request failed (%d)", rc);
    port_wifi_at_ms = 0; /* fails at once in the service loop */
  }
}

int32_t port_pico_wifi_init(void) {
  size_t n = 0;
  const uint8_t *psk = port_pico_config_tlv(FLASH_TLV_WIFI_PSK, &n);

  port_wifi_ssid = shim_config_lookup("wifi.ssid");
  if (port_wifi_ssid == NULL || port_wifi_ssid[0] == '\0') {
    shim_log(SHIM_LOG_ERROR, "wifi: wifi.ssid is not configured");
    return SHIM_E_INVAL;
  }
  if (psk != NULL && n > 0 && psk[n - 1] == '\0') {
    port_wifi_psk = (const char *)psk; /* NUL-terminated in flash */
  } else {
    port_wifi_psk = shim_config_lookup("wifi.password");
  }
  if (cyw43_arch_init_with_country(port_wifi_country()) != 0) {
    shim_log(SHIM_LOG_ERROR, "wifi: CYW43 initialisation failed");
    return SHIM_E_IO;
  }
  cyw43_arch_enable_sta_mode();
  port_wifi_join();
  return SHIM_OK;
}

static void port_wifi_failed(const char *why) {
  port_wifi_failures++;
  shim_log(SHIM_LOG_WARN, "wifi: %s; next try in %lu ms", why, (unsigned long)port_wifi_backoff_ms);
  port_wifi_state = WIFI_WAIT;
  port_wifi_at_ms = port_now_ms() + port_wifi_backoff_ms;
  port_wifi_backoff_ms = port_wifi_backoff_ms >= PORT_WIFI_BACKOFF_MAX_MS / 2
                             ? PORT_WIFI_BACKOFF_MAX_MS
                             : port_wifi_backoff_ms * 2u;
  port_pico_led_set(PORT_PICO_LED_CONNECTING);
}

/* The address of the first lease: the one the core registered the Node
 * with (main.c starts the core after it). */
static char port_wifi_first_ip[IP4ADDR_STRLEN_MAX];

static void port_wifi_joined(void) {
  char ip[IP4ADDR_STRLEN_MAX];
  struct netif *nif = netif_default;
  port_wifi_state = WIFI_UP;
  port_wifi_backoff_ms = PORT_WIFI_BACKOFF_MIN_MS;
  if (nif != NULL) {
    ip4addr_ntoa_r(netif_ip4_addr(nif), ip, sizeof(ip));
    if (port_wifi_first_ip[0] == '\0') {
      memcpy(port_wifi_first_ip, ip, sizeof(ip));
    } else if (strcmp(port_wifi_first_ip, ip) != 0) {
      /* The Node, its serving certificate and the API server's way to the
       * kubelet endpoint name the old address: start over with the new one. */
      shim_log(SHIM_LOG_WARN, "wifi: the new lease is %s, not %s: restarting to re-register", ip,
               port_wifi_first_ip);
      watchdog_reboot(0, 0, 0);
    }
    /* The core advertises this address (node.ip, assembly/host/config.ts). */
    (void)shim_config_set("node.ip", ip);
    shim_log(SHIM_LOG_INFO, "wifi: joined \"%s\", address %s, RSSI %ld dBm", port_wifi_ssid, ip,
             (long)port_pico_wifi_rssi());
  }
  port_pico_sntp_start();
  port_pico_led_set(port_wall_ms() != 0 ? PORT_PICO_LED_JOINED : PORT_PICO_LED_CONNECTING);
}

void port_pico_wifi_service(void) {
  int link;
  uint64_t now = port_now_ms();
  if (port_wifi_ssid == NULL) {
    return;
  }
  link = cyw43_tcpip_link_status(&cyw43_state, CYW43_ITF_STA);
  switch (port_wifi_state) {
    case WIFI_JOINING:
      if (link == CYW43_LINK_UP) {
        port_wifi_joined();
      } else if (link == CYW43_LINK_BADAUTH) {
        port_wifi_failed("wrong passphrase");
      } else if (link == CYW43_LINK_NONET) {
        port_wifi_failed("network not found");
      } else if (link == CYW43_LINK_FAIL) {
        port_wifi_failed("join failed");
      } else if (port_wifi_at_ms == 0 || now - port_wifi_at_ms > PORT_WIFI_JOIN_TIMEOUT_MS) {
        port_wifi_failed("join timed out");
      }
      break;
    case WIFI_UP:
      if (link != CYW43_LINK_UP) {
        (void)shim_config_set("node.ip", "");
        cyw43_wifi_leave(&cyw43_state, CYW43_ITF_STA);
        port_wifi_failed("link lost");
      } else if (port_wall_ms() != 0) {
        port_pico_led_set(PORT_PICO_LED_JOINED);
      }
      break;
    case WIFI_WAIT:
      if ((int64_t)(now - port_wifi_at_ms) >= 0) {
        port_wifi_join();
      }
      break;
    default:
      break;
  }
}

int port_pico_wifi_up(void) {
  return port_wifi_state == WIFI_UP;
}

int32_t port_pico_wifi_rssi(void) {
  int32_t rssi = 0;
  if (port_wifi_state != WIFI_UP || cyw43_wifi_get_rssi(&cyw43_state, &rssi) != 0) {
    return 0;
  }
  return rssi;
}
