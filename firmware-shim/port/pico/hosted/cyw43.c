/*
 * Hosted board: the Wi-Fi chip as a Linux TAP device (PICO_HOSTED_TAP, made
 * and bridged by scripts/pico-hosted.mjs). What pico_cyw43_arch_lwip_poll
 * and cyw43_lwip.c do for the port, done the same way here:
 *   - lwip_init() at arch init; the station netif (Ethernet, ARP, MTU 1500)
 *     added when station mode is enabled;
 *   - every received frame is copied into a PBUF_POOL pbuf and handed to
 *     netif->input (no pbuf: the frame is dropped, as the driver drops it);
 *   - cyw43_arch_poll() runs the driver and lwIP's timers; waiting for work
 *     sleeps until a frame arrives or the deadline passes.
 * Joining is immediate and the lease is static: PICO_HOSTED_IP and
 * PICO_HOSTED_GATEWAY (a /24) stand in for the access point and DHCP. No
 * radio, so no RSSI (cyw43_wifi_get_rssi fails, the node reports none).
 * On SIGUSR1 the board prints one JSON line to stderr: the heap's and each
 * lwIP pool's high-water mark, the frames dropped for want of a pbuf and
 * the LED (bench/hosted.mjs reads it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/memp.h"
#include "lwip/pbuf.h"
#include "lwip/stats.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"
#include "pico/cyw43_arch.h"
#include "pico/unique_id.h"

/* An Ethernet frame without FCS: 1500 + 14 (IEEE 802.3). */
#define HOSTED_FRAME_MAX 1514

cyw43_t cyw43_state;
static int hosted_tap = -1;
static int hosted_joined;
static bool hosted_led;
static uint32_t hosted_rx_dropped;
static volatile sig_atomic_t hosted_report_asked;

/* The link's delay: PICO_HOSTED_RX_DELAY_MS holds each received frame that
 * long before the driver sees it, as a Wi-Fi hop's round trip would (the
 * bridge has none); frames beyond the queue are lost, as on air. */
#define HOSTED_DELAY_FRAMES 64
static struct {
  uint64_t due_us;
  uint16_t len;
  uint8_t bytes[HOSTED_FRAME_MAX];
} hosted_delayed[HOSTED_DELAY_FRAMES];
static unsigned hosted_delay_head;
static unsigned hosted_delay_count;
static uint64_t hosted_delay_us;

static void hosted_on_usr1(int sig) {
  (void)sig;
  hosted_report_asked = 1;
}

/* {"hosted": {...}}: bytes for the heap and lwIP's heap, buffers for its
 * pools (max = high-water mark, avail = the pool's size, err = failed
 * allocations). */
static void hosted_report(void) {
  struct mallinfo mi = mallinfo();
  int i;
  fprintf(stderr, "{\"hosted\":{\"heap_peak_bytes\":%lu,\"heap_in_use_bytes\":%lu,"
          "\"heap_bytes\":%lu,\"lwip_mem_max_bytes\":%lu,\"lwip_mem_bytes\":%lu,"
          "\"lwip_mem_err\":%lu,\"rx_frames_dropped\":%lu,\"led\":%d",
          (unsigned long)mi.arena, (unsigned long)mi.uordblks, (unsigned long)HOSTED_HEAP_BYTES,
          (unsigned long)lwip_stats.mem.max, (unsigned long)lwip_stats.mem.avail,
          (unsigned long)lwip_stats.mem.err, (unsigned long)hosted_rx_dropped, hosted_led ? 1 : 0);
  for (i = 0; i < MEMP_MAX; i++) {
    const struct stats_mem *m = lwip_stats.memp[i];
    fprintf(stderr, ",\"%s\":{\"max\":%lu,\"avail\":%lu,\"err\":%lu}", m->name,
            (unsigned long)m->max, (unsigned long)m->avail, (unsigned long)m->err);
  }
  fprintf(stderr, "}}\n");
}

int cyw43_arch_init_with_country(uint32_t country) {
  static int ready;
  const char *delay = getenv("PICO_HOSTED_RX_DELAY_MS");
  (void)country;
  if (ready) {
    return 0; /* main.c's fatal path may ask again */
  }
  ready = 1;
  lwip_init();
  signal(SIGUSR1, hosted_on_usr1);
  hosted_delay_us = delay != NULL ? (uint64_t)strtoul(delay, NULL, 10) * 1000u : 0u;
  return 0;
}

int cyw43_arch_init(void) {
  return cyw43_arch_init_with_country(CYW43_COUNTRY_WORLDWIDE);
}

static int hosted_tap_open(void) {
  const char *name = getenv("PICO_HOSTED_TAP");
  struct ifreq ifr;
  int fd;
  if (name == NULL || strlen(name) >= IFNAMSIZ) {
    fprintf(stderr, "hosted board: PICO_HOSTED_TAP must name the TAP device\n");
    return -1;
  }
  fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    perror("hosted board: /dev/net/tun");
    return -1;
  }
  memset(&ifr, 0, sizeof(ifr));
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  memcpy(ifr.ifr_name, name, strlen(name));
  if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
    perror("hosted board: TUNSETIFF");
    close(fd);
    return -1;
  }
  return fd;
}

static err_t hosted_linkoutput(struct netif *nif, struct pbuf *p) {
  static uint8_t frame[HOSTED_FRAME_MAX];
  uint16_t n;
  (void)nif;
  if (p->tot_len > sizeof(frame)) {
    return ERR_BUF;
  }
  n = pbuf_copy_partial(p, frame, p->tot_len, 0);
  if (write(hosted_tap, frame, n) != (ssize_t)n) {
    return ERR_IF; /* TAP queue full or gone: lost, as on air */
  }
  return ERR_OK;
}

static err_t hosted_netif_init(struct netif *nif) {
  pico_unique_board_id_t id;
  pico_get_unique_board_id(&id);
  nif->name[0] = 'w';
  nif->name[1] = '0';
  nif->mtu = 1500;
  nif->hwaddr_len = ETH_HWADDR_LEN;
  /* Locally administered unicast address from the board ID. */
  nif->hwaddr[0] = 0x02;
  memcpy(&nif->hwaddr[1], &id.id[3], 5);
  nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_IGMP;
  nif->output = etharp_output;
  nif->linkoutput = hosted_linkoutput;
#if LWIP_NETIF_HOSTNAME
  nif->hostname = "k3s-pico-node";
#endif
  return ERR_OK;
}

void cyw43_arch_enable_sta_mode(void) {
  struct netif *nif = &cyw43_state.netif[CYW43_ITF_STA];
  if (nif->state == &cyw43_state) {
    return;
  }
  netif_add(nif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4, &cyw43_state, hosted_netif_init,
            netif_input);
  netif_set_default(nif);
}

int cyw43_arch_wifi_connect_async(const char *ssid, const char *pw, uint32_t auth) {
  struct netif *nif = &cyw43_state.netif[CYW43_ITF_STA];
  ip4_addr_t ip, mask, gw;
  const char *ip_s = getenv("PICO_HOSTED_IP");
  const char *gw_s = getenv("PICO_HOSTED_GATEWAY");
  (void)ssid;
  (void)pw;
  (void)auth;
  if (hosted_tap < 0) {
    hosted_tap = hosted_tap_open();
  }
  if (hosted_tap < 0 || ip_s == NULL || gw_s == NULL || !ip4addr_aton(ip_s, &ip) ||
      !ip4addr_aton(gw_s, &gw)) {
    fprintf(stderr, "hosted board: no link (PICO_HOSTED_TAP, PICO_HOSTED_IP, PICO_HOSTED_GATEWAY)\n");
    return -1;
  }
  IP4_ADDR(&mask, 255, 255, 255, 0);
  netif_set_addr(nif, &ip, &mask, &gw);
  netif_set_up(nif);
  netif_set_link_up(nif);
  hosted_joined = 1;
  return 0;
}

int cyw43_tcpip_link_status(cyw43_t *self, int itf) {
  struct netif *nif = &self->netif[itf];
  if (!hosted_joined) {
    return CYW43_LINK_DOWN;
  }
  if (!netif_is_up(nif) || !netif_is_link_up(nif)) {
    return CYW43_LINK_JOIN;
  }
  return ip4_addr_isany_val(*netif_ip4_addr(nif)) ? CYW43_LINK_NOIP : CYW43_LINK_UP;
}

int cyw43_wifi_leave(cyw43_t *self, int itf) {
  netif_set_link_down(&self->netif[itf]);
  hosted_joined = 0;
  return 0;
}

int cyw43_wifi_get_rssi(cyw43_t *self, int32_t *rssi) {
  (void)self;
  (void)rssi;
  return -EPERM; /* no radio */
}

void cyw43_arch_gpio_put(unsigned wl_gpio, bool value) {
  if (wl_gpio == CYW43_WL_GPIO_LED_PIN) {
    hosted_led = value;
  }
}

/* Hands one frame to lwIP in a PBUF_POOL pbuf, as the driver does. */
static void hosted_deliver(const uint8_t *frame, uint16_t n) {
  struct netif *nif = &cyw43_state.netif[CYW43_ITF_STA];
  struct pbuf *p = pbuf_alloc(PBUF_RAW, n, PBUF_POOL);
  if (p == NULL) {
    hosted_rx_dropped++;
    return;
  }
  pbuf_take(p, frame, n);
  if (nif->input(p, nif) != ERR_OK) {
    pbuf_free(p);
  }
}

void cyw43_arch_poll(void) {
  static uint8_t frame[HOSTED_FRAME_MAX];
  uint64_t now = time_us_64();
  ssize_t n;
  while (hosted_tap >= 0 && (n = read(hosted_tap, frame, sizeof(frame))) > 0) {
    unsigned slot;
    if (hosted_delay_us == 0) {
      hosted_deliver(frame, (uint16_t)n);
      continue;
    }
    if (hosted_delay_count == HOSTED_DELAY_FRAMES) {
      hosted_rx_dropped++;
      continue;
    }
    slot = (hosted_delay_head + hosted_delay_count++) % HOSTED_DELAY_FRAMES;
    hosted_delayed[slot].due_us = now + hosted_delay_us;
    hosted_delayed[slot].len = (uint16_t)n;
    memcpy(hosted_delayed[slot].bytes, frame, (size_t)n);
  }
  while (hosted_delay_count > 0 && hosted_delayed[hosted_delay_head].due_us <= now) {
    hosted_deliver(hosted_delayed[hosted_delay_head].bytes, hosted_delayed[hosted_delay_head].len);
    hosted_delay_head = (hosted_delay_head + 1) % HOSTED_DELAY_FRAMES;
    hosted_delay_count--;
  }
  sys_check_timeouts();
  if (hosted_report_asked) {
    hosted_report_asked = 0;
    hosted_report();
  }
}

void cyw43_arch_wait_for_work_until(absolute_time_t until) {
  struct pollfd pfd = {hosted_tap, POLLIN, 0};
  uint64_t now = time_us_64();
  if (hosted_delay_count > 0 && hosted_delayed[hosted_delay_head].due_us < until) {
    until = hosted_delayed[hosted_delay_head].due_us; /* a held frame falls due */
  }
  int ms = until > now ? (int)((until - now + 999u) / 1000u) : 0;
  if (hosted_tap < 0) {
    sleep_ms((uint32_t)ms);
    return;
  }
  (void)poll(&pfd, 1, ms);
}
