/*
 * POSIX port (the simulator): functions beyond port.h that main.c and the
 * shim tests call to set the port up.
 */
#ifndef PORT_POSIX_H
#define PORT_POSIX_H

#include <stddef.h>
#include <stdint.h>

#include "shim.h"

/** Starts the clock and seeds the random generator (Mbed TLS CTR_DRBG from
 *  the OS entropy). Returns SHIM_OK or SHIM_E_IO. */
int32_t port_posix_init(void);

/** Reads and parses a configuration file into the store; remembers its
 *  directory for relative paths. Returns SHIM_OK or < 0 with err filled
 *  (missing/unreadable file: line 0 and the OS reason). */
int32_t port_posix_config_load(const char *path, shim_config_error_t *err);

/** Resolves a path from the config relative to the config file's directory
 *  into out. Returns SHIM_OK or SHIM_E_TOOLARGE. */
int32_t port_posix_config_path(const char *value, char *out, size_t cap);

/* A path the port builds: the config directory, a config value and a file
 * name (state directory + key file is the longest). */
#define PORT_POSIX_PATH_MAX (2 * SHIM_CONFIG_MAX_VALUE + 64)

/** Replaces the file at path (shorter than PORT_POSIX_PATH_MAX) with data
 *  so that a crash leaves the old file or the new one, never half of one:
 *  path.tmp with the given mode, fsync, rename(2), fsync of the directory.
 *  Returns SHIM_OK or SHIM_E_IO, logged as "<what>: cannot write ...". */
int32_t port_posix_write_file(const char *what, const char *path, const uint8_t *data,
                              size_t len, unsigned mode);

/** Loads the TLS material named by tls.ca_file, tls.client_ca_file (the
 *  CAs the kubelet endpoint trusts for client certificates), tls.cert_file,
 *  tls.key_file (each optional; cert and key go together). Logs the reason
 *  and returns < 0 for a missing, unreadable or bad PEM file. The key stays
 *  in host memory and is never logged. */
int32_t port_posix_tls_load(void);

/** Checks server.ca_hash ("sha256:<64 hex>" of the tls.ca_file bytes, as
 *  kubeadm/k3s join tokens carry it) when set. Returns SHIM_OK, or
 *  SHIM_E_CERT with the reason logged: never connect then (identity.c). */
int32_t port_posix_ca_hash_check(void);

/** Loads the node-made identity kept in the state directory (state.dir,
 *  default "<node.name>.state" beside the config file): per slot (client,
 *  serving) the key and, when it matches that key, its certificate (a
 *  serving certificate also when it lists node.ip). A missing state is not
 *  an error; a corrupt key file is (SHIM_E_IO, logged, left untouched). */
int32_t port_posix_identity_load(void);

/** Forgets the identity in memory (shutdown, tests). Files stay. */
void port_posix_identity_free(void);

/** Frees TLS material and the random generator. */
void port_posix_shutdown(void);

/** Counters for --stats, benchmarks and stats_read (port_stats_read). */
typedef struct {
  uint64_t tls_heap_peak;      /* peak bytes of Mbed TLS heap (counting allocator) */
  uint64_t tls_heap_now;       /* bytes in use now */
  uint32_t tls_heap_counting;  /* 1 when the allocator above was active */
  uint32_t handshakes_ok;      /* client handshakes (net_connect) */
  uint32_t handshakes_failed;
  uint64_t handshake_ms;       /* summed over the completed client handshakes */
  uint32_t server_handshakes_ok; /* server handshakes (net_accept) */
  uint32_t server_handshakes_failed;
  uint64_t server_handshake_ms;
  uint32_t connects;
  uint32_t accepted;           /* connections accepted into a slot */
  uint32_t refused;            /* accepted and closed at once: no free slot */
  uint64_t bytes_sent;
  uint64_t bytes_received;
} port_posix_stats_t;

void port_posix_get_stats(port_posix_stats_t *out);

/* ---- counting allocator (heap.c) ---- */

/** Installs the counting allocator for Mbed TLS where it can be installed;
 *  returns 1 when counting is active. */
int port_posix_heap_install(void);
void port_posix_heap_reset_peak(void);
uint64_t port_posix_heap_peak(void);
uint64_t port_posix_heap_now(void);
int port_posix_heap_counting(void);

#endif /* PORT_POSIX_H */
