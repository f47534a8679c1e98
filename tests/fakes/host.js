// The ONE fake of the host ABI for all unit specs (DESIGN.md "Real peers in
// tests, never mocks": unit tests may fake the host imports, in one place).
//
// hostImports() implements the 7 imports of assembly/host/imports.ts with the
// same bounds checks and return codes as the real host
// (firmware-shim/include/shim_abi.h). controlImports() is module "fake",
// declared for AssemblyScript in tests/fakes/fake.ts, which lets a spec script
// the peer: complete or fail connects, push inbound bytes, close from the
// peer side, inject errors, take the bytes the core sent.
//
// Set FAKE_HOST_LOG=1 to print the core's log lines to stderr.

import { readFileSync } from "fs";

// Codes mirror assembly/util/errors.ts.
export const E_AGAIN = -1;
export const E_CLOSED = -2;
export const E_BADPTR = -3;
export const E_INVAL = -4;
export const E_NOMEM = -5;
export const E_TOOLARGE = -6;
export const E_NOTFOUND = -7;
export const E_DENIED = -14;

/** Operations fake_fail_next() can target (tests/fakes/fake.ts FAKE_OP_*). */
export const OP_CONNECT = 1;
export const OP_SEND = 2;
export const OP_RECV = 3;

/** Handles the fake hands out at most at once, like the host's session pool. */
const MAX_OPEN_HANDLES = 8;

const LEVELS = "EWID";

/** Parses a Markdown fixture file (format in tests/fixtures/http/README.md):
 *  "## name", an optional "<!-- options: ... -->" line, a ```http block (raw
 *  input: newlines ignored, escapes \r \n \t \\ \xHH) and an ```expect block. */
export function parseFixtures(text) {
  const cases = [];
  let cur = null;
  let block = null;
  let lines = [];
  for (const line of text.split("\n")) {
    if (block !== null) {
      if (line.startsWith("```")) {
        if (block === "http") cur.input = unescapeFixture(lines.join(""));
        else if (block === "expect") cur.expect = lines.join("\n").trim();
        block = null;
        lines = [];
      } else lines.push(line);
      continue;
    }
    if (line.startsWith("## ")) {
      cur = { name: line.slice(3).trim(), options: "", input: new Uint8Array(0), expect: "" };
      cases.push(cur);
    } else if (cur && line.startsWith("<!-- options:")) {
      cur.options = line.slice(13).replace("-->", "").trim();
    } else if (cur && line.startsWith("```")) {
      block = line.slice(3).trim();
    }
  }
  return cases;
}

function unescapeFixture(s) {
  const out = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== "\\") {
      out.push(...Buffer.from(c, "utf8"));
      continue;
    }
    const e = s[++i];
    if (e === "r") out.push(13);
    else if (e === "n") out.push(10);
    else if (e === "t") out.push(9);
    else if (e === "\\") out.push(92);
    else if (e === "x") {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else throw new Error("bad fixture escape \\" + e);
  }
  return Uint8Array.from(out);
}

export function createFakeHost() {
  let memory = null;
  let state;
  const fixtureCache = new Map();

  function reset() {
    state = {
      config: new Map(), // key string -> Uint8Array
      logs: [], // { level, text }
      rng: 0x2545f491, // xorshift32 state, deterministic
      handles: new Map(), // handle -> connection record
      nextHandle: 1,
      lastHandle: 0,
      connectCount: 0,
      autoConnect: false,
      sendLimit: 0, // max bytes one net_send accepts; 0 = all, < 0 = none (E_AGAIN)
      failNextConnect: 0,
      alpn: "", // what net_alpn reports on TLS connections made from now on ("" = none)
      devmem: new Uint8Array(256), // the device memory region (platform.devmem_bytes)
      devmemCommits: 0,
      devmemFailNext: 0, // devmem_commit returns this once when != 0
      // Node identity (issue 6). Default: an operator-provisioned certificate
      // (cert_info source 1), so specs that do not care see a plain node.
      certSource: 1,
      certNotBefore: 0n,
      certNotAfter: 4102444800000n, // 2100-01-01
      keyMade: false,
      staged: '',
      installs: 0,
      installResult: 0, // cert_install returns this when != 0
      issuedValidityMs: 3600000n, // lifetime of a certificate cert_install accepts
      wallMs: 0n, // notBefore given to installed certificates
      // Kubelet endpoint (issue 5): net_listen works unless disabled; fake_incoming queues accepted connections.
      listenEnabled: true,
      // The serving certificate (slot 1): operator-provisioned by default.
      serving: { source: 1, notBefore: 0n, notAfter: 4102444800000n },
      listenHandle: 0,
      listenPort: 0,
      acceptQueue: [],
      stats: [1000n, 250000n, 40000n, 52000n, 100000n, 2800000n, 3n, 1n, 30n, 2n, 0n, 12n, 9000n, 12000n, 2n, 0n,
        -9223372036854775808n, -9223372036854775808n],
    };
  }
  reset();

  function bytes() {
    return new Uint8Array(memory.buffer);
  }
  /** The real host's bounds check: (ptr, len) inside linear memory. */
  function inBounds(ptr, len) {
    if (memory === null) return false;
    ptr >>>= 0;
    if (len < 0) return false;
    return ptr + len <= memory.buffer.byteLength;
  }
  function readString(ptr, len) {
    return Buffer.from(bytes().subarray(ptr >>> 0, (ptr >>> 0) + len)).toString("utf8");
  }
  function readBytes(ptr, len) {
    return bytes().slice(ptr >>> 0, (ptr >>> 0) + len);
  }
  function liveHandle(h) {
    const c = state.handles.get(h);
    return c && c.open ? c : null;
  }
  /** Connection-level state shared by send and recv: E_AGAIN while the
   *  connect is pending, the connect error once it failed, the sticky error
   *  of a dead handle. Returns 0 when the session is up. */
  function sessionState(c) {
    if (c.dead !== 0) return c.dead;
    if (!c.connected) return E_AGAIN;
    return 0;
  }
  /** What net_alpn will report for a connection made with these flags:
   *  nothing on plain TCP; with NET_HTTP1 (4) the client offered only
   *  "http/1.1", so a server set to choose anything chooses that (never
   *  "h2"); otherwise fake_alpn_set's protocol. */
  function connectAlpn(flags) {
    if ((flags & 1) === 0) return "";
    if ((flags & 4) !== 0) return state.alpn !== "" ? "http/1.1" : "";
    return state.alpn;
  }
  function takeInjected(c, op) {
    const code = c.failNext[op] || 0;
    c.failNext[op] = 0;
    if (code !== 0 && code !== E_AGAIN) c.dead = code; // a dead handle stays dead
    return code;
  }

  function hostImports() {
    return {
      log(level, ptr, len) {
        if (!inBounds(ptr, len)) return; // the real host drops it too
        const text = readString(ptr, len);
        state.logs.push({ level, text });
        if (process.env.FAKE_HOST_LOG === "1") {
          process.stderr.write(`[fake ${LEVELS[level] || "?"}] ${text}\n`);
        }
      },
      config_get(kptr, klen, optr, ocap) {
        if (!inBounds(kptr, klen) || !inBounds(optr, ocap)) return E_BADPTR;
        const key = readString(kptr, klen);
        if (key.startsWith("tls.key")) return E_DENIED; // private keys never cross
        const v = state.config.get(key);
        if (v === undefined) return E_NOTFOUND;
        if (v.length > ocap) return E_TOOLARGE;
        bytes().set(v, optr >>> 0);
        return v.length;
      },
      random_fill(ptr, len) {
        if (!inBounds(ptr, len)) return E_BADPTR;
        const m = bytes();
        for (let i = 0; i < len; i++) {
          let x = state.rng;
          x ^= x << 13;
          x ^= x >>> 17;
          x ^= x << 5;
          state.rng = x >>> 0;
          m[(ptr >>> 0) + i] = x & 0xff;
        }
        return len;
      },
      net_connect(hptr, hlen, port, flags) {
        if (!inBounds(hptr, hlen)) return E_BADPTR;
        if (hlen <= 0 || port <= 0 || port > 65535 || (flags & ~7) !== 0) return E_INVAL;
        if ((flags & 4) !== 0 && (flags & 1) === 0) return E_INVAL; // NET_HTTP1 needs NET_TLS
        if (state.failNextConnect !== 0) {
          const code = state.failNextConnect;
          state.failNextConnect = 0;
          return code;
        }
        let open = 0;
        for (const c of state.handles.values()) if (c.open) open++;
        if (open >= MAX_OPEN_HANDLES) return E_NOMEM;
        const h = state.nextHandle++;
        state.handles.set(h, {
          open: true,
          host: readString(hptr, hlen),
          port,
          flags,
          connected: state.autoConnect,
          dead: 0,
          inbound: [], // Uint8Array chunks; one net_recv never crosses a chunk
          outbound: [], // numbers: every byte the core sent
          peerClosed: false,
          failNext: {},
          alpn: connectAlpn(flags),
        });
        state.lastHandle = h;
        state.connectCount++;
        return h;
      },
      net_send(h, ptr, len) {
        if (!inBounds(ptr, len)) return E_BADPTR;
        const c = liveHandle(h);
        if (!c) return E_INVAL;
        const s = sessionState(c);
        if (s !== 0) return s;
        const injected = takeInjected(c, OP_SEND);
        if (injected !== 0) return injected;
        if (c.peerClosed) {
          c.dead = E_CLOSED;
          return E_CLOSED;
        }
        if (len === 0) {
          if (c.held > 0) {
            c.held--;
            return E_AGAIN;
          }
          return 0;
        }
        if (state.sendLimit < 0) return E_AGAIN;
        const n = state.sendLimit > 0 ? Math.min(len, state.sendLimit) : len;
        const m = bytes();
        for (let i = 0; i < n; i++) c.outbound.push(m[(ptr >>> 0) + i]);
        return n;
      },
      net_recv(h, ptr, cap) {
        if (!inBounds(ptr, cap)) return E_BADPTR;
        const c = liveHandle(h);
        if (!c) return E_INVAL;
        const s = sessionState(c);
        if (s !== 0) return s;
        const injected = takeInjected(c, OP_RECV);
        if (injected !== 0) return injected;
        if (c.inbound.length === 0) return c.peerClosed ? E_CLOSED : E_AGAIN;
        if (cap === 0) return 0;
        const head = c.inbound[0];
        const n = Math.min(cap, head.length);
        bytes().set(head.subarray(0, n), ptr >>> 0);
        if (n === head.length) c.inbound.shift();
        else c.inbound[0] = head.subarray(n);
        return n;
      },
      net_close(h) {
        const c = liveHandle(h);
        if (!c) return E_INVAL;
        c.open = false;
        return 0;
      },
      net_listen(port, flags) {
        if (port <= 0 || port > 65535 || (flags & ~1) !== 0) return E_INVAL;
        if (!state.listenEnabled) return -13; // E_UNSUPPORTED
        const h = state.nextHandle++;
        state.handles.set(h, { open: true, listener: true, port, flags, inbound: [], outbound: [], failNext: {} });
        state.listenHandle = h;
        state.listenPort = port;
        return h;
      },
      net_accept(lh) {
        const l = state.handles.get(lh);
        if (!l || !l.listener || !l.open) return E_INVAL;
        if (state.acceptQueue.length === 0) return -1; // E_AGAIN
        return state.acceptQueue.shift();
      },
      net_peer(h, optr, ocap) {
        const c = state.handles.get(h);
        if (!c || !c.accepted) return E_INVAL;
        if (!inBounds(optr, ocap)) return E_BADPTR;
        const b = new TextEncoder().encode(c.peer);
        if (b.length > ocap) return E_TOOLARGE;
        bytes().set(b, optr >>> 0);
        return b.length;
      },
      net_alpn(h, optr, ocap) {
        if (!inBounds(optr, ocap)) return E_BADPTR;
        const c = liveHandle(h);
        if (!c || c.listener) return E_INVAL;
        const s = sessionState(c);
        if (s !== 0) return s;
        const b = Buffer.from(c.alpn || "", "utf8");
        if (b.length > ocap) return E_TOOLARGE;
        bytes().set(b, optr >>> 0);
        return b.length;
      },
      stats_read(optr, ocap) {
        if (!inBounds(optr, ocap)) return E_BADPTR;
        const n = Math.min(state.stats.length, Math.floor(ocap / 8));
        const v = new DataView(memory.buffer);
        for (let i = 0; i < n; i++) v.setBigInt64((optr >>> 0) + 8 * i, state.stats[i], true);
        return n;
      },
      devmem_read(ptr, cap) {
        if (!inBounds(ptr, cap)) return E_BADPTR;
        if (cap < state.devmem.length) return E_TOOLARGE;
        bytes().set(state.devmem, ptr >>> 0);
        return state.devmem.length;
      },
      key_ensure(slot) {
        if (slot !== 0 && slot !== 1) return E_INVAL;
        const made = state.keyMade ? 0 : 1;
        state.keyMade = true;
        return made;
      },
      csr_create(slot, cnptr, cnlen, orgptr, orglen, optr, ocap) {
        if (!inBounds(cnptr, cnlen) || !inBounds(orgptr, orglen) || !inBounds(optr, ocap)) return E_BADPTR;
        if (!state.keyMade) return E_INVAL;
        // Not a real CSR: the subject in clear text so specs can check it.
        const pem = `-----BEGIN CERTIFICATE REQUEST-----\nCN=${readString(cnptr, cnlen)},O=${readString(orgptr, orglen)}\n-----END CERTIFICATE REQUEST-----\n`;
        const b = new TextEncoder().encode(pem);
        if (b.length > ocap) return E_TOOLARGE;
        bytes().set(b, optr >>> 0);
        return b.length;
      },
      cert_stage(slot, ptr, len) {
        if (!inBounds(ptr, len)) return E_BADPTR;
        if (len === 0) { state.staged = ''; return 0; }
        if (state.staged.length + len > 8192) return E_TOOLARGE;
        state.staged += readString(ptr, len);
        return state.staged.length;
      },
      cert_install(slot) {
        if (state.staged.length === 0) return E_INVAL;
        if (state.installResult !== 0) return state.installResult;
        state.installs++;
        if (slot === 1) {
          state.serving = { source: 2, notBefore: state.wallMs, notAfter: state.wallMs + state.issuedValidityMs };
          return 0;
        }
        state.certSource = 2;
        state.certNotBefore = state.wallMs;
        state.certNotAfter = state.wallMs + state.issuedValidityMs;
        return 0;
      },
      cert_info(slot, optr, ocap) {
        if (!inBounds(optr, ocap)) return E_BADPTR;
        if (ocap < 16) return E_TOOLARGE;
        const v = new DataView(memory.buffer);
        if (slot === 1) {
          if (state.serving.source === 0) return E_NOTFOUND;
          v.setBigInt64(optr >>> 0, state.serving.notBefore, true);
          v.setBigInt64((optr >>> 0) + 8, state.serving.notAfter, true);
          return state.serving.source;
        }
        if (state.certSource === 0) return E_NOTFOUND;
        v.setBigInt64(optr >>> 0, state.certNotBefore, true);
        v.setBigInt64((optr >>> 0) + 8, state.certNotAfter, true);
        return state.certSource;
      },
      devmem_commit(ptr, len) {
        if (!inBounds(ptr, len)) return E_BADPTR;
        if (len !== state.devmem.length) return E_INVAL;
        if (state.devmemFailNext !== 0) {
          const code = state.devmemFailNext;
          state.devmemFailNext = 0;
          return code;
        }
        state.devmem = readBytes(ptr, len);
        state.devmemCommits++;
        return 0;
      },
    };
  }

  function controlImports() {
    return {
      /** Forgets all configuration, logs and handles; handles restart at 1. */
      fake_reset() {
        reset();
      },
      /** Resizes the device memory region (zeros); platform.devmem_bytes is
       *  set separately with fake_config_set. */
      /** The host's client certificate: source (0 none, 1 static, 2 node)
       *  and validity in Unix ms. */
      fake_cert_set(source, notBefore, notAfter) {
        state.certSource = source;
        state.certNotBefore = BigInt(notBefore);
        state.certNotAfter = BigInt(notAfter);
      },
      /** Certificates cert_install accepted. */
      fake_cert_installs() {
        return state.installs;
      },
      /** Wall time given to installed certificates (notBefore) and their lifetime. */
      fake_cert_issue(wallMs, validityMs) {
        state.wallMs = BigInt(wallMs);
        state.issuedValidityMs = BigInt(validityMs);
      },
      /** cert_install returns `code` from now on (0: accept). */
      fake_cert_install_result(code) {
        state.installResult = code;
      },
      /** The staged certificate text (as the core passed it) into (ptr, cap). */
      /** net_listen succeeds (1, the default) or answers E_UNSUPPORTED (0). */
      fake_listen_enable(on) { state.listenEnabled = on !== 0; },
      /** The port the core listens on, 0 when it does not. */
      fake_listen_port() { return state.listenHandle !== 0 && state.handles.get(state.listenHandle)?.open ? state.listenPort : 0; },
      /** A client connects to the listener; its verified certificate
       *  identity is `peer` ("CN\nO..."; empty: none). Returns its handle. */
      fake_incoming(pptr, plen) {
        const h = state.nextHandle++;
        state.handles.set(h, {
          open: true, accepted: true, peer: readString(pptr, plen), host: 'client', port: 0, flags: 1,
          connected: true, dead: 0, inbound: [], outbound: [], peerClosed: false, failNext: {},
        });
        state.acceptQueue.push(h);
        return h;
      },
      fake_cert_staged(ptr, cap) {
        const b = new TextEncoder().encode(state.staged);
        const n = Math.min(b.length, cap);
        bytes().set(b.subarray(0, n), ptr >>> 0);
        return b.length;
      },
      fake_devmem_size(n) {
        state.devmem = new Uint8Array(n);
      },
      /** Byte `i` of the device memory region (-1 outside it). */
      fake_devmem_byte(i) {
        return i >= 0 && i < state.devmem.length ? state.devmem[i] : -1;
      },
      /** Sets byte `i` (the image the host restored at boot). */
      fake_devmem_set(i, v) {
        if (i >= 0 && i < state.devmem.length) state.devmem[i] = v & 0xff;
      },
      /** devmem_commit calls that succeeded since the reset. */
      fake_devmem_commits() {
        return state.devmemCommits;
      },
      /** The next devmem_commit fails with `code`. */
      fake_devmem_fail_next(code) {
        state.devmemFailNext = code;
      },
      fake_config_set(kptr, klen, vptr, vlen) {
        state.config.set(readString(kptr, klen), readBytes(vptr, vlen));
      },
      fake_config_unset(kptr, klen) {
        state.config.delete(readString(kptr, klen));
      },
      fake_random_seed(seed) {
        state.rng = seed >>> 0 || 1;
      },
      fake_last_handle() {
        return state.lastHandle;
      },
      fake_connect_count() {
        return state.connectCount;
      },
      /** ALPN protocol net_alpn reports on TLS connections made after this
       *  call ("" = the server selected none; NET_HTTP1: connectAlpn). */
      fake_alpn_set(ptr, len) {
        state.alpn = readString(ptr, len);
      },
      fake_auto_connect(on) {
        state.autoConnect = on !== 0;
      },
      fake_send_limit(n) {
        state.sendLimit = n;
      },
      fake_connect_complete(h, code) {
        const c = state.handles.get(h);
        if (!c) return E_INVAL;
        if (code === 0) c.connected = true;
        else c.dead = code;
        return 0;
      },
      fake_connect_port(h) {
        const c = state.handles.get(h);
        return c ? c.port : E_INVAL;
      },
      fake_connect_flags(h) {
        const c = state.handles.get(h);
        return c ? c.flags : E_INVAL;
      },
      fake_connect_host(h, ptr, cap) {
        const c = state.handles.get(h);
        if (!c) return E_INVAL;
        const v = Buffer.from(c.host, "utf8");
        if (v.length > cap) return E_TOOLARGE;
        bytes().set(v, ptr >>> 0);
        return v.length;
      },
      fake_push_inbound(h, ptr, len) {
        const c = state.handles.get(h);
        if (!c) return E_INVAL;
        if (len > 0) c.inbound.push(readBytes(ptr, len));
        return 0;
      },
      fake_peer_close(h) {
        const c = state.handles.get(h);
        if (!c) return E_INVAL;
        c.peerClosed = true;
        return 0;
      },
      fake_fail_next(h, op, code) {
        if (op === OP_CONNECT) {
          state.failNextConnect = code;
          return 0;
        }
        const c = state.handles.get(h);
        if (!c) return E_INVAL;
        c.failNext[op] = code;
        return 0;
      },
      fake_outbound_len(h) {
        const c = state.handles.get(h);
        return c ? c.outbound.length : E_INVAL;
      },
      fake_outbound_take(h, ptr, cap) {
        const c = state.handles.get(h);
        if (!c) return E_INVAL;
        const n = Math.min(cap, c.outbound.length);
        bytes().set(c.outbound.splice(0, n), ptr >>> 0);
        return n;
      },
      fake_log_count() {
        return state.logs.length;
      },
      fake_log_last_level() {
        return state.logs.length ? state.logs[state.logs.length - 1].level : E_NOTFOUND;
      },
      fake_log_last(ptr, cap) {
        if (state.logs.length === 0) return E_NOTFOUND;
        const v = Buffer.from(state.logs[state.logs.length - 1].text, "utf8");
        if (v.length > cap) return E_TOOLARGE;
        bytes().set(v, ptr >>> 0);
        return v.length;
      },
      fake_open_handles() {
        let n = 0;
        for (const c of state.handles.values()) if (c.open) n++;
        return n;
      },
      /** Field `what` (0 name, 1 raw input, 2 expected, 3 options) of case
       *  `index` of fixture file (path relative to the repository root). */
      fake_fixture(pptr, plen, index, what, optr, ocap) {
        const path = readString(pptr, plen);
        let cases = fixtureCache.get(path);
        if (!cases) {
          cases = parseFixtures(readFileSync(path, "utf8"));
          fixtureCache.set(path, cases);
        }
        if (index < 0 || index >= cases.length) return E_NOTFOUND;
        const c = cases[index];
        const v = what === 1 ? c.input : Buffer.from(what === 0 ? c.name : what === 2 ? c.expect : c.options, "utf8");
        if (v.length > ocap) return E_TOOLARGE;
        bytes().set(v, optr >>> 0);
        return v.length;
      },
      fake_is_open(h) {
        const c = state.handles.get(h);
        return c && c.open ? 1 : 0;
      },
      /** The host holds sent bytes of h for `n` more flush probes (net_send
       *  of 0 bytes answers E_AGAIN), as a TLS record partly sent. */
      fake_hold_sent(h, n) {
        const c = state.handles.get(h);
        if (c) c.held = n;
      },
    };
  }

  return {
    attach(mem) {
      memory = mem;
    },
    hostImports,
    controlImports,
  };
}
