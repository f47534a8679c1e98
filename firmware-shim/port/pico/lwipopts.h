/*
 * lwIP options for the Pico W node (lwIP 2.2.1 from pico-sdk 2.2.0, NO_SYS,
 * raw API, polled from the main loop via pico_cyw43_arch_lwip_poll). Option
 * meanings: lwIP src/include/lwip/opt.h. Sized for the TLS connection to the
 * API server (the node's requests and watches are HTTP/2 streams of it;
 * its TLS records, at most 4 KiB (mbedtls_config.h), are gathered by Mbed
 * TLS in its own buffer), k3s' agent tunnel, the kubelet endpoint's one
 * connection, and DNS, DHCP and SNTP. Peaks at work: bench/hosted.mjs.
 */
#ifndef K3S_PICO_LWIPOPTS_H
#define K3S_PICO_LWIPOPTS_H

#define NO_SYS 1
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
/* The cyw43 driver and our net.c run in one thread (poll architecture). */
#define SYS_LIGHTWEIGHT_PROT 1
#define MEM_LIBC_MALLOC 0
#define MEM_ALIGNMENT 4

/* TCP: the maximum segment that fits an Ethernet frame (1500 - 40). */
#define LWIP_TCP 1
#define TCP_MSS 1460
/* Receive window: 4 segments. A TLS record need not fit it: the shim hands
 * Mbed TLS what has arrived and reopens the window as it reads (net.c
 * port_rx_take -> tcp_recved), and Mbed TLS keeps a partial record in its
 * own input buffer (ssl_msg.c mbedtls_ssl_fetch_input). Run on the
 * hosted board (port/pico/hosted): the end-to-end suite, a 1 MB ConfigMap
 * included, passes with it. What the window costs is PBUF_POOL below. */
#define TCP_WND (4 * TCP_MSS)
/* Send buffer: the core's requests are small; 3 segments (4380 bytes) keep
 * two full 2 KiB TLS records (MBEDTLS_SSL_OUT_CONTENT_LEN) plus their 29
 * bytes of header/IV/tag in flight; a fuller buffer makes the shim's send
 * answer "would block", never fail. (2 segments once cut the kubelet
 * endpoint's longer answers through the API server's proxy: the close
 * dropped a partly sent record; closes now wait for it, port.h net_send of
 * 0 bytes. With that, 2 segments pass the kubelet and tunnel suites on the
 * hosted board with a 5 ms link delay, but do not lower the MEM_SIZE
 * failures below (bench/hosted: 14 against 12), so 3 stay.) */
#define TCP_SND_BUF (3 * TCP_MSS)
#define TCP_SND_QUEUELEN ((4 * (TCP_SND_BUF) + (TCP_MSS - 1)) / (TCP_MSS))
/* Segments queued (unsent + unacked + out of order) over all connections:
 * the handles of SHIM_MAX_CONNECTIONS each with its queue. */
#define MEMP_NUM_TCP_SEG 48
#define MEMP_NUM_TCP_PCB 6
#define MEMP_NUM_TCP_PCB_LISTEN 2
#define LWIP_TCP_KEEPALIVE 1
#define TCP_QUEUE_OOSEQ 1

/* Receive buffers: the cyw43 driver allocates every received frame from
 * PBUF_POOL and a frame stays there until the shim reads it. Two
 * connections each with a full TCP_WND, plus ARP/DHCP/DNS/SNTP frames:
 * 4 + 4 + 2 (~1.5 KB each); the third (API, tunnel, a direct endpoint
 * client) seldom has its window full at the same time (bench/hosted.mjs with
 * all three: peak 4, none dropped). Frames beyond them are dropped and
 * retransmitted: slower, not stuck. */
#define PBUF_POOL_SIZE 10
/* Heap for outgoing segments (tcp_write with copy) and small packets:
 * TCP_SND_BUF of the busy connection (4380) plus segment headers, the
 * kubelet endpoint's responses, and DHCP/DNS/SNTP: 8 KiB. With both
 * connections sending at once it runs out now and then (bench/hosted.mjs:
 * peak 7,780 bytes, a few failed allocations): the send then answers
 * "would block" and is retried. */
#define MEM_SIZE (8 * 1024)
#define MEMP_NUM_PBUF 24
#define MEMP_NUM_ARP_QUEUE 10

#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1
#define LWIP_RAW 1
#define LWIP_UDP 1
#define LWIP_DHCP 1
#define LWIP_DHCP_DOES_ACD_CHECK 0
#define LWIP_DNS 1
#define DNS_TABLE_SIZE 4
#define DNS_MAX_NAME_LENGTH 256
#define LWIP_NETIF_HOSTNAME 1
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 1
#define LWIP_NETIF_TX_SINGLE_PBUF 1
#define DHCP_DOES_ARP_CHECK 0
#define LWIP_CHKSUM_ALGORITHM 3

/* SNTP (lwIP apps/sntp): the wall clock before any certificate check. The
 * server name comes from config key time.ntp_server (port/pico/platform.c). */
#define SNTP_SERVER_DNS 1
#define SNTP_MAX_SERVERS 1
void port_pico_sntp_set(unsigned long sec, unsigned long us);
#define SNTP_SET_SYSTEM_TIME_US(sec, us) port_pico_sntp_set((unsigned long)(sec), (unsigned long)(us))
/* Re-sync hourly (RFC 4330 section 10 asks for no more than once a minute). */
#define SNTP_UPDATE_DELAY 3600000
#define MEMP_NUM_SYS_TIMEOUT (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 2)

/* Statistics off on the device; the hosted board (hosted/) turns them on to
 * report the pools' high-water marks. */
#ifndef LWIP_STATS
#define LWIP_STATS 0
#define MEM_STATS 0
#define MEMP_STATS 0
#endif
#define LWIP_STATS_DISPLAY 0
#define SYS_STATS 0
#define LINK_STATS 0
#define LWIP_DEBUG 0

#endif /* K3S_PICO_LWIPOPTS_H */
