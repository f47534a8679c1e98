// Error codes shared with the host (firmware-shim/include/shim_abi.h) and used
// by the core's own functions: >= 0 success, < 0 one of these. Outside input
// never throws (STYLE.md); `abort` is for bugs only.

export const OK: i32 = 0;
/** Would block: try again after an event or the next poll. */
export const E_AGAIN: i32 = -1;
/** The peer closed the connection cleanly. */
export const E_CLOSED: i32 = -2;
/** (ptr, len) outside linear memory. */
export const E_BADPTR: i32 = -3;
/** An argument is invalid. */
export const E_INVAL: i32 = -4;
/** No free handle, session or buffer. */
export const E_NOMEM: i32 = -5;
/** The value does not fit the buffer given. */
export const E_TOOLARGE: i32 = -6;
/** No such key. */
export const E_NOTFOUND: i32 = -7;
/** Name resolution or TCP connect failed. */
export const E_CONNECT: i32 = -8;
/** TLS handshake or record layer failed. */
export const E_TLS: i32 = -9;
/** The server certificate failed verification. */
export const E_CERT: i32 = -10;
/** Any other I/O error. */
export const E_IO: i32 = -11;
/** A deadline passed. */
export const E_TIMEOUT: i32 = -12;
/** The host cannot do this. */
export const E_UNSUPPORTED: i32 = -13;
/** The key or resource is not for the core. */
export const E_DENIED: i32 = -14;

// Core-only codes start at -100 so they never collide with host codes.
/** Input is malformed (HTTP, JSON). */
export const E_MALFORMED: i32 = -100;
/** Nesting deeper than the parser's cap. */
export const E_DEPTH: i32 = -101;
/** The parser needs more input. */
export const E_NEED_MORE: i32 = -102;
/** The server answered with an unexpected HTTP status. */
export const E_HTTP_STATUS: i32 = -103;
