// Indices of the values stats_read (host/imports.ts) writes, as i64 each.
// Mirrors SHIM_STAT_* in firmware-shim/include/shim_abi.h: change both
// together. A value the host does not know is STAT_UNKNOWN, except RSSI and
// temperature (real readings are negative there): STAT_UNKNOWN_SIGNED.
// Counters count from process start (simulator) or boot (device).

/** Monotonic milliseconds since start. */
export const STAT_UPTIME_MS: i32 = 0;
/** CPU busy time in microseconds (simulator: user + system time of the process). */
export const STAT_CPU_US: i32 = 1;
/** Host heap bytes in use now (simulator: Mbed TLS's allocations, as on the device). */
export const STAT_HEAP_USED: i32 = 2;
/** Host heap high-water mark in bytes. */
export const STAT_HEAP_PEAK: i32 = 3;
/** Host heap bytes allocatable in all (unknown in the simulator). */
export const STAT_HEAP_TOTAL: i32 = 4;
/** Resident memory of the host in bytes (simulator: VmRSS; unknown on the device). */
export const STAT_RSS_BYTES: i32 = 5;
/** Client TLS handshakes completed (net_connect). */
export const STAT_TLS_CLIENT_OK: i32 = 6;
/** Client TLS handshakes failed or timed out. */
export const STAT_TLS_CLIENT_FAILED: i32 = 7;
/** Milliseconds spent in completed client handshakes, summed. */
export const STAT_TLS_CLIENT_MS: i32 = 8;
/** Server TLS handshakes completed (net_accept). */
export const STAT_TLS_SERVER_OK: i32 = 9;
/** Server TLS handshakes failed or timed out. */
export const STAT_TLS_SERVER_FAILED: i32 = 10;
/** Milliseconds spent in completed server handshakes, summed. */
export const STAT_TLS_SERVER_MS: i32 = 11;
/** TCP payload bytes sent (TLS records included). */
export const STAT_BYTES_SENT: i32 = 12;
/** TCP payload bytes received. */
export const STAT_BYTES_RECEIVED: i32 = 13;
/** Connections accepted into a slot. */
export const STAT_CONNS_ACCEPTED: i32 = 14;
/** Connections accepted and closed at once because no kubelet slot was free. */
export const STAT_CONNS_REFUSED: i32 = 15;
/** Signal strength of the joined Wi-Fi network in dBm (STAT_UNKNOWN_SIGNED when unknown). */
export const STAT_WIFI_RSSI_DBM: i32 = 16;
/** Chip temperature in milli-degrees Celsius (STAT_UNKNOWN_SIGNED when unknown). */
export const STAT_CHIP_TEMP_MC: i32 = 17;
/** Number of values; a buffer of STAT_COUNT * 8 bytes takes them all. */
export const STAT_COUNT: i32 = 18;

/** An unknown counter or figure. */
export const STAT_UNKNOWN: i64 = -1;
/** An unknown RSSI or temperature (those can be negative). */
export const STAT_UNKNOWN_SIGNED: i64 = i64.MIN_VALUE;
