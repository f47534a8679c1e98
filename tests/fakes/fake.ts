// Spec-side controls of the one host fake (tests/fakes/host.js, module "fake").
// The core under test talks to the fake through the real import declarations
// in assembly/host/imports.ts; specs script the peer with these functions.
// Test code only: the string wrappers below allocate freely.

/** fake_fail_next `op` values. */
export const FAKE_OP_CONNECT: i32 = 1;
export const FAKE_OP_SEND: i32 = 2;
export const FAKE_OP_RECV: i32 = 3;

/** Forgets all configuration, logs and handles; the next handle is 1. Call in beforeEach. */
@external("fake", "fake_reset")
export declare function fake_reset(): void;

/** Sets configuration key -> value (both UTF-8) for host.config_get. */
@external("fake", "fake_config_set")
export declare function fake_config_set(kptr: usize, klen: i32, vptr: usize, vlen: i32): void;

/** Removes a configuration key (config_get then returns E_NOTFOUND). */
@external("fake", "fake_config_unset")
export declare function fake_config_unset(kptr: usize, klen: i32): void;

/** Reseeds random_fill's deterministic PRNG (xorshift32). */
@external("fake", "fake_random_seed")
export declare function fake_random_seed(seed: u32): void;

/** The handle the last successful net_connect returned (0: none yet). */
@external("fake", "fake_last_handle")
export declare function fake_last_handle(): i32;

/** How many net_connect calls returned a handle since the reset. */
@external("fake", "fake_connect_count")
export declare function fake_connect_count(): i32;

/** on != 0: new connections are up at once (no fake_connect_complete needed). */
@external("fake", "fake_auto_connect")
export declare function fake_auto_connect(on: i32): void;

/** The protocol (UTF-8 (ptr, len), e.g. "h2") net_alpn reports for NET_TLS
 *  connections made after this call, once they are up (before: E_AGAIN or
 *  the connect error, like send/recv). Connections already made keep
 *  theirs. len 0 = the server selected none (HTTP/1.1), fake_reset's
 *  default. Plain connections always report 0, as the host does. A
 *  connection made with NET_HTTP1 offered only "http/1.1": it reports
 *  "http/1.1" when a protocol is set (whatever it is, "h2" too) and 0 when
 *  none is, never "h2", so a spec sees which connections asked for it. */
@external("fake", "fake_alpn_set")
export declare function fake_alpn_set(ptr: usize, len: i32): void;

/** Caps the bytes one net_send accepts (partial sends); 0 = accept all, < 0 = none (E_AGAIN). */
@external("fake", "fake_send_limit")
export declare function fake_send_limit(n: i32): void;

/** Finishes the pending connect of `h`: code 0 = session up (send/recv stop
 *  returning E_AGAIN), < 0 = that connect error (E_CONNECT, E_TLS, E_CERT...)
 *  from every later send/recv. */
@external("fake", "fake_connect_complete")
export declare function fake_connect_complete(h: i32, code: i32): i32;

/** Host name given to net_connect for `h`, copied into (ptr, cap); length or E_TOOLARGE. */
@external("fake", "fake_connect_host")
export declare function fake_connect_host(h: i32, ptr: usize, cap: i32): i32;

/** Port given to net_connect for `h`. */
@external("fake", "fake_connect_port")
export declare function fake_connect_port(h: i32): i32;

/** Flags given to net_connect for `h`. */
@external("fake", "fake_connect_flags")
export declare function fake_connect_flags(h: i32): i32;

/** Queues one inbound chunk for `h`; one net_recv never returns bytes of two chunks. */
@external("fake", "fake_push_inbound")
export declare function fake_push_inbound(h: i32, ptr: usize, len: i32): i32;

/** The peer closes `h`: net_recv returns E_CLOSED once the queue is drained,
 *  net_send returns E_CLOSED. */
@external("fake", "fake_peer_close")
export declare function fake_peer_close(h: i32): i32;

/** The next `op` (FAKE_OP_*) on `h` returns `code`. E_AGAIN is transient; any
 *  other code kills the handle (later send/recv return it too). For
 *  FAKE_OP_CONNECT `h` is ignored: the next net_connect itself returns `code`. */
@external("fake", "fake_fail_next")
export declare function fake_fail_next(h: i32, op: i32, code: i32): i32;

/** Bytes the core sent on `h` and no spec has taken yet. */
@external("fake", "fake_outbound_len")
export declare function fake_outbound_len(h: i32): i32;

/** Copies up to `cap` sent bytes of `h` into (ptr, cap) and forgets them; returns the count. */
@external("fake", "fake_outbound_take")
export declare function fake_outbound_take(h: i32, ptr: usize, cap: i32): i32;

/** Lines logged through host.log since the reset. */
@external("fake", "fake_log_count")
export declare function fake_log_count(): i32;

/** Level of the last logged line (E_NOTFOUND: none). */
@external("fake", "fake_log_last_level")
export declare function fake_log_last_level(): i32;

/** Copies the last logged line into (ptr, cap); length, E_TOOLARGE or E_NOTFOUND. */
@external("fake", "fake_log_last")
export declare function fake_log_last(ptr: usize, cap: i32): i32;

/** Handles open (connected or not, not yet net_close'd). */
@external("fake", "fake_open_handles")
export declare function fake_open_handles(): i32;

/** 1 if `h` is open, else 0. */
@external("fake", "fake_is_open")
export declare function fake_is_open(h: i32): i32;

/** The host holds what was sent on h for n more flush probes (net_send of 0
 *  bytes answers E_AGAIN), as a TLS record partly sent. */
@external("fake", "fake_hold_sent")
export declare function fake_hold_sent(h: i32, n: i32): void;

// ---- string conveniences ----

/** Sets configuration `key` = `value`. */
export function fakeConfig(key: string, value: string): void {
  const k = String.UTF8.encode(key);
  const v = String.UTF8.encode(value);
  fake_config_set(changetype<usize>(k), k.byteLength, changetype<usize>(v), v.byteLength);
}

/** fake_alpn_set with a string: the protocol later TLS connections report
 *  ("h2", "http/1.1"; "" = none). */
export function fakeAlpn(proto: string): void {
  const b = String.UTF8.encode(proto);
  fake_alpn_set(changetype<usize>(b), b.byteLength);
}

/** Queues `s` (UTF-8) as one inbound chunk on `h`. */
export function fakePush(h: i32, s: string): void {
  const b = String.UTF8.encode(s);
  fake_push_inbound(h, changetype<usize>(b), b.byteLength);
}

/** Queues bytes [from, to) of `s` (as UTF-8) as one inbound chunk on `h`. */
export function fakePushPart(h: i32, s: string, from: i32, to: i32): void {
  const b = String.UTF8.encode(s);
  fake_push_inbound(h, changetype<usize>(b) + <usize>from, to - from);
}

/** Takes everything the core sent on `h`, as a string. */
export function fakeTakeOutbound(h: i32): string {
  const n = fake_outbound_len(h);
  if (n <= 0) return "";
  const b = new ArrayBuffer(n);
  const got = fake_outbound_take(h, changetype<usize>(b), n);
  return String.UTF8.decodeUnsafe(changetype<usize>(b), <usize>got);
}

/** The last logged line ("" when none). */
export function fakeLastLog(): string {
  const b = new ArrayBuffer(1024);
  const n = fake_log_last(changetype<usize>(b), 1024);
  if (n < 0) return "";
  return String.UTF8.decodeUnsafe(changetype<usize>(b), <usize>n);
}

/** The host name net_connect got for `h`. */
export function fakeConnectHost(h: i32): string {
  const b = new ArrayBuffer(256);
  const n = fake_connect_host(h, changetype<usize>(b), 256);
  if (n < 0) return "";
  return String.UTF8.decodeUnsafe(changetype<usize>(b), <usize>n);
}

// ---- fixtures (tests/fixtures/, Markdown; format in tests/fixtures/http/README.md) ----

/** Field `what` (0 name, 1 raw input bytes, 2 expected text, 3 options) of
 *  case `index` of the fixture file at (pptr, plen), relative to the repo root,
 *  copied into (optr, ocap). Length, E_NOTFOUND past the last case, E_TOOLARGE. */
@external("fake", "fake_fixture")
export declare function fake_fixture(pptr: usize, plen: i32, index: i32, what: i32, optr: usize, ocap: i32): i32;

const fixtureBuf = new StaticArray<u8>(65536);

/** The fixture field as a string, or null past the last case. */
export function fixtureText(file: string, index: i32, what: i32): string | null {
  const p = String.UTF8.encode(file);
  const n = fake_fixture(changetype<usize>(p), p.byteLength, index, what, changetype<usize>(fixtureBuf), 65536);
  if (n < 0) return null;
  return String.UTF8.decodeUnsafe(changetype<usize>(fixtureBuf), <usize>n);
}

/** The fixture's raw input bytes, or null past the last case. */
export function fixtureInput(file: string, index: i32): ArrayBuffer | null {
  const p = String.UTF8.encode(file);
  const n = fake_fixture(changetype<usize>(p), p.byteLength, index, 1, changetype<usize>(fixtureBuf), 65536);
  if (n < 0) return null;
  const b = new ArrayBuffer(n);
  memory.copy(changetype<usize>(b), changetype<usize>(fixtureBuf), <usize>n);
  return b;
}

/** Resizes the fake's device memory region (zeros). */
@external("fake", "fake_devmem_size")
export declare function fake_devmem_size(n: i32): void;

/** Byte `i` of the fake's device memory (-1 outside the region). */
@external("fake", "fake_devmem_byte")
export declare function fake_devmem_byte(i: i32): i32;

/** Sets byte `i` of the fake's device memory (as restored at boot). */
@external("fake", "fake_devmem_set")
export declare function fake_devmem_set(i: i32, v: i32): void;

/** Successful devmem_commit calls since fake_reset. */
@external("fake", "fake_devmem_commits")
export declare function fake_devmem_commits(): i32;

/** The next devmem_commit returns `code`. */
@external("fake", "fake_devmem_fail_next")
export declare function fake_devmem_fail_next(code: i32): void;

// ---- node identity (issue 6) ----

/** The host's client certificate: source (0 none, 1 static, 2 node-made) and validity (Unix ms). */
@external("fake", "fake_cert_set")
export declare function fake_cert_set(source: i32, notBefore: i64, notAfter: i64): void;

/** Certificates cert_install accepted since fake_reset. */
@external("fake", "fake_cert_installs")
export declare function fake_cert_installs(): i32;

/** notBefore (Unix ms) and lifetime given to certificates cert_install accepts. */
@external("fake", "fake_cert_issue")
export declare function fake_cert_issue(wallMs: i64, validityMs: i64): void;

/** cert_install returns `code` from now on (0 accepts). */
@external("fake", "fake_cert_install_result")
export declare function fake_cert_install_result(code: i32): void;

/** The staged certificate text into (ptr, cap); returns its full length. */
@external("fake", "fake_cert_staged")
export declare function fake_cert_staged(ptr: usize, cap: i32): i32;

/** The staged certificate text as a string. */
export function fakeCertStaged(): string {
  const buf = new ArrayBuffer(8192);
  const n = fake_cert_staged(changetype<usize>(buf), 8192);
  return String.UTF8.decodeUnsafe(changetype<usize>(buf), n < 8192 ? n : 8192);
}

// ---- kubelet endpoint (issue 5) ----

/** net_listen succeeds (1, the default) or answers E_UNSUPPORTED (0). */
@external("fake", "fake_listen_enable")
export declare function fake_listen_enable(on: i32): void;

/** The port the core listens on, 0 when it does not. */
@external("fake", "fake_listen_port")
export declare function fake_listen_port(): i32;

/** A client connects; `peer` is its verified certificate identity
 *  ("CN\nO..."; "" for none). Returns the connection's handle. */
@external("fake", "fake_incoming")
export declare function fake_incoming(pptr: usize, plen: i32): i32;

export function fakeIncoming(peer: string): i32 {
  const b = String.UTF8.encode(peer);
  return fake_incoming(changetype<usize>(b), b.byteLength);
}
