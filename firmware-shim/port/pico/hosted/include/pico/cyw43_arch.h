/*
 * Hosted board: the part of pico_cyw43_arch_lwip_poll and the cyw43 driver
 * the port uses, over a Linux TAP device instead of the CYW43439 (cyw43.c).
 * Ethernet frames in and out as the driver passes them to lwIP; received
 * frames come from PBUF_POOL as the driver takes them; the "DHCP lease"
 * (address, gateway) comes from the environment. Constants as in
 * cyw43-driver src/cyw43.h, src/cyw43_country.h and src/cyw43_ll.h.
 */
#ifndef HOSTED_PICO_CYW43_ARCH_H
#define HOSTED_PICO_CYW43_ARCH_H
#include <stdbool.h>
#include <stdint.h>

#include "lwip/netif.h"
#include "pico/time.h"

#define CYW43_ITF_STA 0
#define CYW43_ITF_AP 1

#define CYW43_LINK_DOWN (0)
#define CYW43_LINK_JOIN (1)
#define CYW43_LINK_NOIP (2)
#define CYW43_LINK_UP (3)
#define CYW43_LINK_FAIL (-1)
#define CYW43_LINK_NONET (-2)
#define CYW43_LINK_BADAUTH (-3)

#define CYW43_AUTH_OPEN (0)
#define CYW43_AUTH_WPA2_AES_PSK (0x00400004)

#define CYW43_COUNTRY(A, B, REV) ((unsigned char)(A) | ((unsigned char)(B) << 8) | ((REV) << 16))
#define CYW43_COUNTRY_WORLDWIDE CYW43_COUNTRY('X', 'X', 0)

#define CYW43_WL_GPIO_LED_PIN 0

typedef struct {
  struct netif netif[2];
} cyw43_t;
extern cyw43_t cyw43_state;

int cyw43_arch_init(void);
int cyw43_arch_init_with_country(uint32_t country);
void cyw43_arch_enable_sta_mode(void);
int cyw43_arch_wifi_connect_async(const char *ssid, const char *pw, uint32_t auth);
void cyw43_arch_poll(void);
void cyw43_arch_wait_for_work_until(absolute_time_t until);
void cyw43_arch_gpio_put(unsigned wl_gpio, bool value);
int cyw43_tcpip_link_status(cyw43_t *self, int itf);
int cyw43_wifi_leave(cyw43_t *self, int itf);
int cyw43_wifi_get_rssi(cyw43_t *self, int32_t *rssi);
#endif
