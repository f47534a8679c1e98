/*
 * Limits and fixed figures of the shim. Every limit is named once here and is
 * an overridable default (lwIP `_opts.h` style): define it on the compiler
 * command line or in a port's config header to change it. Each note says what
 * the value must fit.
 */
#ifndef SHIM_CONFIG_H
#define SHIM_CONFIG_H

/* Connections the kubelet endpoint serves at once (net_accept): the API
 * server (logs, exec, metrics through it), metrics-server and a scraper.
 * More clients are accepted and closed at once (counted as refused) so they
 * can never take the slots the node's own API connections need. */
#ifndef SHIM_KUBELET_MAX_CONNS
#define SHIM_KUBELET_MAX_CONNS 3
#endif

/* Open handles at once: 3 API server connections (one HTTP/2 connection
 * carries everything; a server without HTTP/2 needs one for the agent's
 * requests and one per ConfigMap watch, CONFIGMAP_MAX = 2) + 1 kubelet listener +
 * SHIM_KUBELET_MAX_CONNS served connections (+ the tunnel's, below). A slot itself is
 * small (~0.4 KB of static RAM each in port/pico's connection and session
 * tables; port_wait and the loop keep a few words per slot on the stack);
 * each *open TLS session* costs ~21 KB of heap on the device (DESIGN.md
 * "Device facts"), so the device's heap, not this number, bounds how many
 * are up at once: a handshake that finds no heap fails with SHIM_E_NOMEM. */
/* With a kubelet endpoint, k3s' agent tunnel adds its own connection and one
 * loopback connection per kubelet connection it pipes (kubelet/tunnel.ts,
 * TUNNEL_CONNS_MAX = SHIM_KUBELET_MAX_CONNS): 11 handles in the simulator;
 * the device (one endpoint connection, device.cmake) keeps 7. */
#ifndef SHIM_TUNNEL_CONNS
#define SHIM_TUNNEL_CONNS (SHIM_KUBELET_MAX_CONNS > 0 ? 1 + SHIM_KUBELET_MAX_CONNS : 0)
#endif
#ifndef SHIM_MAX_CONNECTIONS
#define SHIM_MAX_CONNECTIONS (3 + 1 + SHIM_KUBELET_MAX_CONNS + SHIM_TUNNEL_CONNS)
#endif

/* Host name length for net_connect: a DNS name is at most 253 characters in
 * text form (RFC 1035 section 2.3.4, 255 octets on the wire). */
#ifndef SHIM_NET_MAX_HOST
#define SHIM_NET_MAX_HOST 253
#endif

/* Addresses remembered per connect (e.g. ::1 then 127.0.0.1 for "localhost");
 * tried in order when one is refused. */
#ifndef SHIM_NET_MAX_ADDRS
#define SHIM_NET_MAX_ADDRS 4
#endif

/* Deadline for TCP connect plus TLS handshake. Must fit a full mutual-TLS
 * ECDHE-ECDSA handshake on the device (~0.9 s of CPU, DESIGN.md) plus a few
 * round trips over Wi-Fi, with margin. */
#ifndef SHIM_TLS_HANDSHAKE_TIMEOUT_MS
#define SHIM_TLS_HANDSHAKE_TIMEOUT_MS 15000u
#endif

/* Deadline for the TLS handshake of an accepted connection (net_accept):
 * shorter than the client one, so a client that connects and sends nothing
 * (or stalls) gives its slot back soon; a full ECDHE-ECDSA handshake costs
 * the device ~0.9 s of CPU (DESIGN.md) plus a few round trips. */
#ifndef SHIM_SERVER_HANDSHAKE_TIMEOUT_MS
#define SHIM_SERVER_HANDSHAKE_TIMEOUT_MS 10000u
#endif

/* Verified client identity net_peer hands out: "<CN>\n<O1>\n<O2>...". Must
 * fit a CN and a few Organizations of at most 64 characters each
 * (RFC 5280 appendix A.1 ub-common-name, ub-organization-name), e.g.
 * "system:kube-apiserver" or a user with its groups; a longer subject is
 * treated as no identity (logged). */
#ifndef SHIM_NET_PEER_MAX
#define SHIM_NET_PEER_MAX 256
#endif

/* Length of an Mbed TLS error or certificate verify reason in a log line
 * (src/tls.c): fits mbedtls_strerror's "<module> - <text>" and the two or
 * three verify reasons a rejected server certificate usually has. */
#ifndef SHIM_TLS_REASON_MAX
#define SHIM_TLS_REASON_MAX 160
#endif

/* 1: a rejected certificate is logged with Mbed TLS's reasons
 * (mbedtls_x509_crt_verify_info); 0: with the MBEDTLS_X509_BADCERT_* flags
 * in hex, so the device does not link the reason strings (flash). */
#ifndef SHIM_TLS_VERIFY_TEXT
#define SHIM_TLS_VERIFY_TEXT 1
#endif

/* Configuration store: entries, key and value lengths (without NUL). Must fit
 * every key in assembly/host/config.ts plus the host's own (tls.*, log.*);
 * values must fit a URL or a file path. */
#ifndef SHIM_CONFIG_MAX_ENTRIES
#define SHIM_CONFIG_MAX_ENTRIES 32
#endif
#ifndef SHIM_CONFIG_MAX_KEY
#define SHIM_CONFIG_MAX_KEY 48
#endif
#ifndef SHIM_CONFIG_MAX_VALUE
#define SHIM_CONFIG_MAX_VALUE 255
#endif
/* Bytes for every key and value with their NULs (src/config.c): what a
 * configuration text of SHIM_CONFIG_TEXT_MAX can hold, plus room for values
 * set at run time (node.ip from DHCP). The device's text is a few hundred
 * bytes: device.cmake sets 2 KiB. At most 65535 (16-bit offsets). */
#ifndef SHIM_CONFIG_ARENA_BYTES
#define SHIM_CONFIG_ARENA_BYTES (SHIM_CONFIG_TEXT_MAX + 512)
#endif

/* Size of a configuration text (file in the simulator, flash block on the
 * device). Must fit SHIM_CONFIG_MAX_ENTRIES lines with comments. */
#ifndef SHIM_CONFIG_TEXT_MAX
#define SHIM_CONFIG_TEXT_MAX 8192
#endif

/* Length of a configuration error message. */
#ifndef SHIM_CONFIG_ERROR_MAX
#define SHIM_CONFIG_ERROR_MAX 128
#endif

/* One log line including stamp, level letter and newline. Must fit the core's
 * longest message (it keeps its own lines short) plus the 13-byte prefix;
 * longer lines are cut, never split. */
#ifndef SHIM_LOG_LINE_MAX
#define SHIM_LOG_LINE_MAX 256
#endif

/* Upper bound on one wait of the event loop, even if the core asks for more:
 * keeps handshake deadlines and the stop flag checked on ports whose wait
 * cannot be interrupted. */
#ifndef SHIM_LOOP_MAX_WAIT_MS
#define SHIM_LOOP_MAX_WAIT_MS 1000u
#endif

/* Longest CN or O a CSR may carry: "system:node:" plus a 63-byte node name
 * (a label value, assembly/util/limits.ts NODE_NAME_MAX), with headroom. */
#ifndef SHIM_CSR_NAME_MAX
#define SHIM_CSR_NAME_MAX 96
#endif

/* Staged certificate text for cert_install: base64 of a PEM chain as a
 * CertificateSigningRequest's status.certificate carries it (a P-256 leaf is
 * ~0.9 KB of PEM, ~1.2 KB as base64); room for a leaf plus two CAs. */
#ifndef SHIM_CERT_STAGE_MAX
#define SHIM_CERT_STAGE_MAX 8192
#endif

/* ---- device figures the hosts report (platform.* keys) ---- */

/* RAM of the RP2040: 264 KiB of SRAM (RP2040 datasheet section 2.6). The
 * simulator reports the same figure because it models the device. */
#ifndef SHIM_PLATFORM_MEMORY_BYTES
#define SHIM_PLATFORM_MEMORY_BYTES 270336u
#endif

/* RAM left for workloads: 264 KiB minus the 160 KiB budget for the shim, two
 * TLS sessions, the kubelet server and the core (DESIGN.md "Budgets"). */
#ifndef SHIM_PLATFORM_MEMORY_ALLOCATABLE_BYTES
#define SHIM_PLATFORM_MEMORY_ALLOCATABLE_BYTES 106496u
#endif

/* Cores of the RP2040 (two Cortex-M0+). */
#ifndef SHIM_PLATFORM_CPU_CORES
#define SHIM_PLATFORM_CPU_CORES 2u
#endif

/* ---- device memory (src/devmem.c, assembly/devmem/) ---- */

/* Bytes of device memory the ConfigMaps write (config key
 * platform.devmem_bytes). Must fit every address a memory_values entry may
 * name (0 .. SHIM_DEVMEM_BYTES-1); the core keeps two copies of it and the
 * device one flash page (256 bytes, W25Q16JV page size) per saved image. */
#ifndef SHIM_DEVMEM_BYTES
#define SHIM_DEVMEM_BYTES 256u
#endif

/* Outputs that can be bound to addresses (`devmem.bind.<address>` keys):
 * the on-board LED plus a handful of GPIOs; each binding is 4 bytes. */
#ifndef SHIM_DEVMEM_BINDINGS_MAX
#define SHIM_DEVMEM_BINDINGS_MAX 8u
#endif

#endif /* SHIM_CONFIG_H */
