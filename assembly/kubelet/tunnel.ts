// k3s' agent tunnel (issue 5): how a k3s server reaches this node's kubelet
// endpoint. In its default egress mode the server's API server dials kubelets
// only through a websocket each node opens to
// wss://<server>:<tunnel.port>/v1-k3s/connect with its client certificate
// (K8S-NOTES.md "k3s' agent tunnel"); without it node proxy, logs and exec
// get 502. The tunnel is rancher/remotedialer's protocol:
//  - one binary websocket message (RFC 6455) per remotedialer message:
//    zigzag varints (Go encoding/binary PutVarint) id, connID, type, and for
//    Data and Connect a legacy deadline varint, then the body
//    (remotedialer message.go);
//  - Connect "tcp/<host>:<port>": the server wants a connection; we allow
//    only our own kubelet port, dial it on loopback (plain TCP: the API
//    server's TLS to the kubelet runs inside the tunnel, end to end) and
//    pipe: Data both ways, Error ("EOF" = clean close) ends it, Pause and
//    Resume stop and restart reading our side;
//  - a ping every TUNNEL_PING_MS (the server drops a silent session).
// One frame is sent at a time from one buffer; a DATA frame from the server
// is forwarded as it arrives (nothing is buffered whole), so a slow kubelet
// connection holds the tunnel until it drains. A server without the tunnel
// answers 404: the node then says so once and tries again much later.

import {
  LOG_DEBUG, LOG_INFO, LOG_WARN, net_close, net_connect, net_recv, net_send, NET_CLIENT_CERT, NET_HTTP1, NET_TLS,
  random_fill,
} from "../host/imports";
import { Backoff } from "../k8s/backoff";
import { NodeConfig } from "../k8s/config";
import { lineBytes, lineEmit, lineInt, lineLit, lineStart, lineText, logText } from "../k8s/log";
import { base64Encode } from "../util/base64";
import { bytesEqualLitNoCase, decLen, formatI64, indexOfByte, indexOfHeadEnd, memEqual, parseDec } from "../util/bytes";
import { E_AGAIN, E_CLOSED, E_MALFORMED, E_UNSUPPORTED, OK } from "../util/errors";
import {
  TUNNEL_ABSENT_RETRY_MS, TUNNEL_ADDR_MAX, TUNNEL_CHUNK, TUNNEL_CONNS_MAX, TUNNEL_HANDSHAKE_MS, TUNNEL_PING_MS,
  TUNNEL_RX_CAP, TUNNEL_SILENT_MS,
} from "../util/limits";
import { copyLit, Lit, litLen, litPtr, utf8 } from "../util/lit";
import { sha1 } from "../util/sha1";

// remotedialer message types (message.go).
const M_DATA: i64 = 1;
const M_CONNECT: i64 = 2;
const M_ERROR: i64 = 3;
const M_PAUSE: i64 = 6;
const M_RESUME: i64 = 7;
/** The deadline remotedialer still writes into Data and Connect headers
 *  (legacyDeadline, 15 s in ms); receivers ignore it. */
const LEGACY_DEADLINE_MS: i64 = 15000;

// WebSocket opcodes (RFC 6455 section 5.2).
const OP_CONT: i32 = 0x0;
const OP_BINARY: i32 = 0x2;
const OP_CLOSE: i32 = 0x8;
const OP_PING: i32 = 0x9;
const OP_PONG: i32 = 0xa;
/** RFC 6455 section 1.3: appended to the key before hashing. */
const WS_GUID: Lit = utf8("258EAFA5-E914-47DA-95CA-C5AB0DC85B11");

const TS_OFF: i32 = 0; // not wanted (no kubelet endpoint, tunnel.port 0, not joined)
const TS_WAIT: i32 = 1; // waiting for retryAtMs
const TS_UPGRADE: i32 = 2; // sending the upgrade request, reading the 101
const TS_OPEN: i32 = 3;
const TS_UNSUPPORTED: i32 = 4; // the host cannot open it (E_UNSUPPORTED): not asked again

/** Largest frame header we send: 2 + 2 (16-bit length) + 4 (mask). */
const WS_HEAD_MAX: i32 = 8;
/** Largest remotedialer header: 4 varints of <= 10 bytes. */
const MSG_HEAD_MAX: i32 = 40;

// @ts-ignore: decorator
@unmanaged
class PipedConn {
  id: i64 = 0;
  handle: i32 = -1;
  paused: bool = false;
  constructor() {}
}

// @ts-ignore: decorator
@unmanaged
export class Tunnel {
  /** Connections piped since start (metrics and tests). */
  piped: i32 = 0;

  private cfg: NodeConfig;
  private state: i32 = TS_OFF;
  private handle: i32 = -1;
  private flags: i32 = 0;
  private retryAtMs: i64 = 0;
  private deadlineMs: i64 = 0;
  private lastRxMs: i64 = 0;
  private lastPingMs: i64 = 0;
  private backoff: Backoff = new Backoff();
  private msgId: i64 = 0;
  /** Sec-WebSocket-Key (base64 of 16 random bytes). */
  private key: usize = heap.alloc(24);
  // Receive side.
  private rx: usize = heap.alloc(<usize>TUNNEL_RX_CAP);
  private rpos: i32 = 0;
  private rlen: i32 = 0;
  private wsHead: usize = heap.alloc(14);
  private wsHave: i32 = 0;
  private wsNeed: i32 = 2;
  private wsLeft: i64 = -1; // payload bytes of the current frame (-1: reading a header)
  private wsOp: i32 = 0;
  private wsFin: bool = false;
  private ctl: usize = heap.alloc(128); // a control frame's payload (<= 125, RFC 6455 5.5)
  private ctlLen: i32 = 0;
  private msgOp: i32 = 0; // opcode of the message being read
  private mh: usize = heap.alloc(<usize>MSG_HEAD_MAX);
  private mhLen: i32 = 0;
  private mhVarints: i32 = 0; // varints complete in mh
  private mhDone: bool = false;
  private mType: i64 = 0;
  private mConn: i64 = 0;
  private body: usize = heap.alloc(<usize>TUNNEL_ADDR_MAX);
  private bodyLen: i32 = 0;
  // Send side: one frame at a time.
  private tx: usize = heap.alloc(<usize>(WS_HEAD_MAX + MSG_HEAD_MAX + TUNNEL_CHUNK));
  private txStart: i32 = 0;
  private txLen: i32 = 0;
  private conns: usize = heap.alloc(<usize>(TUNNEL_CONNS_MAX * sizeof<usize>()));

  constructor(cfg: NodeConfig) {
    this.cfg = cfg;
    for (let i = 0; i < TUNNEL_CONNS_MAX; i++) {
      store<usize>(this.conns + (<usize>i << alignof<usize>()), changetype<usize>(new PipedConn()));
    }
  }

  get open(): bool { return this.state == TS_OPEN; }

  /** Drives the tunnel: wanted when the kubelet endpoint is up and the node
   *  has its client certificate (flags: the API connection's). */
  step(wanted: bool, flags: i32, nowMs: i64): void {
    if (!wanted || this.cfg.tunnelPort == 0) {
      if (this.state != TS_OFF) this.shut();
      this.state = TS_OFF;
      return;
    }
    if (this.state == TS_OFF) {
      this.state = TS_WAIT;
      this.retryAtMs = nowMs;
    }
    this.flags = flags;
    if (this.state == TS_UNSUPPORTED) return;
    if (this.state == TS_WAIT) {
      if (nowMs < this.retryAtMs) return;
      this.start(nowMs);
    }
    if (this.state == TS_UPGRADE) this.upgrade(nowMs);
    if (this.state == TS_OPEN) this.pump(nowMs);
  }

  /** ms until step() wants to run again (at most `max`). */
  nextWait(nowMs: i64, max: i32): i32 {
    const at = this.state == TS_WAIT ? this.retryAtMs
      : this.state == TS_OPEN ? this.lastPingMs + TUNNEL_PING_MS : i64.MAX_VALUE;
    const d = at - nowMs;
    return d <= 0 ? 0 : d < <i64>max ? <i32>d : max;
  }

  // ---- connection ----

  private start(nowMs: i64): void {
    const c = this.cfg;
    const h = net_connect(c.serverHost.ptr, c.serverHost.len, c.tunnelPort, this.flags | NET_HTTP1);
    if (h == E_UNSUPPORTED) {
      // A host with one TLS session to spare (the device) keeps it for the
      // endpoint: node proxy reaches it only where the API server dials nodes.
      logText(LOG_INFO, utf8("tunnel: this host cannot open the k3s agent tunnel; node proxy needs the API server to reach the endpoint directly"));
      this.state = TS_UNSUPPORTED;
      return;
    }
    if (h < 0) {
      this.fail(utf8("cannot connect"), h, nowMs);
      return;
    }
    this.handle = h;
    this.state = TS_UPGRADE;
    this.deadlineMs = nowMs + TUNNEL_HANDSHAKE_MS;
    this.rpos = 0;
    this.rlen = 0;
    // The opening handshake (RFC 6455 section 4.1).
    const nonce = memory.data(16);
    random_fill(nonce, 16);
    base64Encode(nonce, 16, this.key, 24);
    const t = this.tx;
    let n = 0;
    n += copyLit(t + <usize>n, 512, utf8("GET /v1-k3s/connect HTTP/1.1\r\nHost: "));
    memory.copy(t + <usize>n, c.serverHost.ptr, <usize>c.serverHost.len);
    n += c.serverHost.len;
    store<u8>(t + <usize>n, 0x3a);
    n++;
    n += formatI64(t + <usize>n, decLen(c.tunnelPort), c.tunnelPort);
    n += copyLit(t + <usize>n, 512, utf8("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "));
    memory.copy(t + <usize>n, this.key, 24);
    n += 24;
    n += copyLit(t + <usize>n, 512, utf8("\r\n\r\n"));
    this.txStart = 0;
    this.txLen = n;
  }

  /** Sends the upgrade request and reads the 101 head. */
  private upgrade(nowMs: i64): void {
    if (this.flush() < 0) return;
    if (nowMs >= this.deadlineMs) {
      this.fail(utf8("no answer to the upgrade"), 0, nowMs);
      return;
    }
    if (this.txLen > 0) return;
    while (true) {
      const at = indexOfHeadEnd(this.rx, this.rlen, 0);
      if (at >= 0) {
        this.upgraded(at + 4, nowMs);
        return;
      }
      if (this.rlen == TUNNEL_RX_CAP) {
        this.fail(utf8("upgrade answer too long"), E_MALFORMED, nowMs);
        return;
      }
      const n = net_recv(this.handle, this.rx + <usize>this.rlen, TUNNEL_RX_CAP - this.rlen);
      if (n > 0) {
        this.rlen += n;
        continue;
      }
      if (n == E_AGAIN || n == 0) return;
      this.fail(utf8("connection lost during the upgrade"), n, nowMs);
      return;
    }
  }

  /** The head (end bytes) is in rx: 101 with the right accept value opens the tunnel. */
  private upgraded(end: i32, nowMs: i64): void {
    const p = this.rx;
    // "HTTP/1.1 101 ..." (RFC 9112 section 4).
    const sp = indexOfByte(p, end, 0x20);
    const status = sp > 0 && sp + 4 <= end ? <i32>parseDec(p + <usize>(sp + 1), 3) : E_MALFORMED;
    if (status == 404) {
      // Not a k3s server (or one too old): node proxy goes direct there.
      logText(LOG_INFO, utf8("tunnel: the API server has no k3s agent tunnel (404): not needed here; asking again in 10 min"));
      this.close();
      this.state = TS_WAIT;
      this.retryAtMs = nowMs + TUNNEL_ABSENT_RETRY_MS;
      return;
    }
    if (status != 101) {
      this.fail(utf8("upgrade refused with HTTP"), status, nowMs);
      return;
    }
    if (!this.acceptOk(p, end)) {
      this.fail(utf8("wrong Sec-WebSocket-Accept in the upgrade answer"), E_MALFORMED, nowMs);
      return;
    }
    // Bytes after the head are the first frames.
    this.rpos = end;
    this.state = TS_OPEN;
    this.lastRxMs = nowMs;
    this.lastPingMs = nowMs;
    this.wsLeft = -1;
    this.wsHave = 0;
    this.wsNeed = 2;
    this.mhLen = 0;
    this.mhVarints = 0;
    this.mhDone = false;
    this.backoff.reset();
    lineStart(utf8("tunnel: open to "));
    lineText(this.cfg.serverHost);
    lineLit(utf8(":"));
    lineInt(this.cfg.tunnelPort);
    lineLit(utf8(" (k3s agent tunnel): the API server reaches the kubelet endpoint through it"));
    lineEmit(LOG_INFO);
  }

  /** Sec-WebSocket-Accept == base64(SHA-1(key + GUID)) (RFC 6455 4.2.2). */
  private acceptOk(p: usize, end: i32): bool {
    const src = memory.data(64);
    memory.copy(src, this.key, 24);
    memory.copy(src + 24, litPtr(WS_GUID), <usize>litLen(WS_GUID));
    const digest = memory.data(20);
    sha1(src, 24 + litLen(WS_GUID), digest);
    const want = memory.data(28);
    base64Encode(digest, 20, want, 28);
    const name = utf8("sec-websocket-accept:");
    const nl = litLen(name);
    let i = 0;
    while (i < end) {
      const eol = indexOfByte(p + <usize>i, end - i, 0x0a);
      if (eol < 0) break;
      if (eol >= nl && bytesEqualLitNoCase(p + <usize>i, nl, name)) {
        let v = i + nl;
        let e = i + eol;
        while (v < e && load<u8>(p + <usize>v) == 0x20) v++;
        while (e > v && (load<u8>(p + <usize>(e - 1)) == 0x0d || load<u8>(p + <usize>(e - 1)) == 0x20)) e--;
        return e - v == 28 && memEqual(p + <usize>v, want, 28);
      }
      i += eol + 1;
    }
    return false;
  }

  private fail(what: Lit, code: i32, nowMs: i64): void {
    lineStart(utf8("tunnel: "));
    lineLit(what);
    if (code != 0) {
      lineLit(utf8(" ("));
      lineInt(code);
      lineLit(utf8(")"));
    }
    lineLit(utf8("; retrying"));
    lineEmit(LOG_WARN);
    this.shut();
    this.state = TS_WAIT;
    this.retryAtMs = nowMs + this.backoff.next() * 5; // 1 s doubling to 35 s
  }

  /** Closes the tunnel and every piped connection. */
  private shut(): void {
    for (let i = 0; i < TUNNEL_CONNS_MAX; i++) this.drop(this.conn(i));
    this.close();
  }

  private close(): void {
    if (this.handle >= 0) net_close(this.handle);
    this.handle = -1;
    this.txLen = 0;
    this.rpos = 0;
    this.rlen = 0;
  }

  // ---- open tunnel ----

  private pump(nowMs: i64): void {
    if (this.flush() < 0) {
      this.fail(utf8("connection lost"), E_CLOSED, nowMs);
      return;
    }
    // Server -> node.
    for (;;) {
      if (this.rpos == this.rlen) {
        const n = net_recv(this.handle, this.rx, TUNNEL_RX_CAP);
        if (n == E_AGAIN || n == 0) break;
        if (n < 0) {
          this.fail(utf8("connection lost"), n, nowMs);
          return;
        }
        this.rpos = 0;
        this.rlen = n;
        this.lastRxMs = nowMs;
      }
      const r = this.frames(nowMs);
      if (r == E_AGAIN) break; // a piped connection or our sender is full: later
      if (r < 0) {
        this.fail(utf8("protocol error from the server"), r, nowMs);
        return;
      }
    }
    if (this.state != TS_OPEN) return;
    // Node -> server: what the kubelet endpoint answered.
    for (let i = 0; i < TUNNEL_CONNS_MAX && this.txLen == 0; i++) this.forward(this.conn(i));
    if (nowMs - this.lastRxMs >= TUNNEL_SILENT_MS) {
      this.fail(utf8("the server went silent"), E_CLOSED, nowMs);
      return;
    }
    if (this.txLen == 0 && nowMs - this.lastPingMs >= TUNNEL_PING_MS) {
      this.frame(OP_PING, 0, 0);
      this.lastPingMs = nowMs;
      this.flush();
    }
  }

  /** Consumes received bytes: frame headers, control frames, message bytes. */
  private frames(nowMs: i64): i32 {
    while (this.rpos < this.rlen) {
      if (this.wsLeft < 0) {
        const r = this.frameHead();
        if (r < 0) return r;
        continue;
      }
      const avail = this.rlen - this.rpos;
      const n = <i32>min<i64>(this.wsLeft, <i64>avail);
      const p = this.rx + <usize>this.rpos;
      if (this.wsOp >= OP_CLOSE) {
        memory.copy(this.ctl + <usize>this.ctlLen, p, <usize>n);
        this.ctlLen += n;
        this.rpos += n;
        this.wsLeft -= n;
      } else {
        const used = this.message(p, n);
        if (used < 0) return used;
        this.rpos += used;
        this.wsLeft -= used;
        if (used < n) return E_AGAIN;
      }
      if (this.wsLeft == 0) {
        const r = this.frameEnd(nowMs);
        if (r < 0) return r;
      }
    }
    return OK;
  }

  private frameHead(): i32 {
    while (this.wsHave < this.wsNeed && this.rpos < this.rlen) {
      store<u8>(this.wsHead + <usize>this.wsHave, load<u8>(this.rx + <usize>this.rpos));
      this.wsHave++;
      this.rpos++;
      if (this.wsHave == 2) {
        const b1 = <i32>load<u8>(this.wsHead + 1);
        if ((b1 & 0x80) != 0) return E_MALFORMED; // a server never masks (RFC 6455 5.1)
        const l = b1 & 0x7f;
        this.wsNeed = l == 126 ? 4 : l == 127 ? 10 : 2;
      }
    }
    if (this.wsHave < this.wsNeed) return OK;
    const b0 = <i32>load<u8>(this.wsHead);
    const l = <i32>load<u8>(this.wsHead + 1) & 0x7f;
    let len: i64 = l;
    if (l == 126) len = (<i64>load<u8>(this.wsHead + 2) << 8) | <i64>load<u8>(this.wsHead + 3);
    else if (l == 127) {
      len = 0;
      for (let i = 2; i < 10; i++) len = (len << 8) | <i64>load<u8>(this.wsHead + <usize>i);
      if (len < 0) return E_MALFORMED;
    }
    this.wsFin = (b0 & 0x80) != 0;
    this.wsOp = b0 & 0x0f;
    this.wsHave = 0;
    this.wsNeed = 2;
    this.wsLeft = len;
    if (this.wsOp >= OP_CLOSE) {
      if (len > 125 || !this.wsFin) return E_MALFORMED; // RFC 6455 5.5
      this.ctlLen = 0;
    } else if (this.wsOp == OP_CONT) {
      if (this.msgOp == 0) return E_MALFORMED;
    } else {
      if (this.msgOp != 0) return E_MALFORMED; // a new message inside a fragmented one
      this.msgOp = this.wsOp;
      this.mhLen = 0;
      this.mhVarints = 0;
      this.mhDone = false;
      this.bodyLen = 0;
    }
    if (len == 0) return this.frameEnd(0);
    return OK;
  }

  private frameEnd(nowMs: i64): i32 {
    this.wsLeft = -1;
    const op = this.wsOp;
    if (op == OP_PING) {
      if (this.txLen > 0) return OK; // busy: the next ping of ours keeps the session alive
      this.frame(OP_PONG, this.ctl, this.ctlLen);
      this.flush();
      return OK;
    }
    if (op == OP_CLOSE) return E_CLOSED;
    if (op == OP_PONG) return OK;
    if (!this.wsFin) return OK;
    const msg = this.msgOp;
    this.msgOp = 0;
    if (msg != OP_BINARY) return OK; // text messages are not remotedialer's
    return this.messageEnd();
  }

  /** Bytes of the current message: header varints first, then the body.
   *  Returns how many were used (fewer when a piped connection is full). */
  private message(p: usize, n: i32): i32 {
    let used = 0;
    while (!this.mhDone && used < n) {
      if (this.mhLen == MSG_HEAD_MAX) return E_MALFORMED;
      const b = load<u8>(p + <usize>used);
      store<u8>(this.mh + <usize>this.mhLen, b);
      this.mhLen++;
      used++;
      if ((b & 0x80) == 0) this.headerVarintDone();
    }
    if (!this.mhDone || used == n) return used;
    const rest = n - used;
    const q = p + <usize>used;
    if (this.mType == M_DATA) {
      const c = this.find(this.mConn);
      if (c == null) return n; // a connection we closed: dropped
      const k = net_send(c.handle, q, rest);
      if (k == E_AGAIN || k == 0) return used;
      if (k < 0) {
        this.endConn(c, utf8("EOF"));
        return n;
      }
      return used + k;
    }
    // Connect, Error: kept (bounded); others: skipped.
    const room = TUNNEL_ADDR_MAX - this.bodyLen;
    const k = rest < room ? rest : room;
    memory.copy(this.body + <usize>this.bodyLen, q, <usize>k);
    this.bodyLen += k;
    return n;
  }

  /** A varint of the header ended: are all there (id, connID, type[, deadline])? */
  private headerVarintDone(): void {
    const count = ++this.mhVarints;
    if (count == 3) {
      this.mConn = readVarint(this.mh, this.mhLen, 1);
      this.mType = readVarint(this.mh, this.mhLen, 2);
      if (this.mType != M_DATA && this.mType != M_CONNECT) this.mhDone = true;
    } else if (count == 4) {
      this.mhDone = true;
    }
  }

  private messageEnd(): i32 {
    if (!this.mhDone) return E_MALFORMED;
    const t = this.mType;
    if (t == M_CONNECT) this.connect();
    else if (t == M_ERROR) {
      const c = this.find(this.mConn);
      if (c != null) this.drop(c);
    } else if (t == M_PAUSE || t == M_RESUME) {
      const c = this.find(this.mConn);
      if (c != null) c.paused = t == M_PAUSE;
    }
    this.mhLen = 0;
    this.mhVarints = 0;
    this.mhDone = false;
    this.bodyLen = 0;
    return OK;
  }

  /** Connect "tcp/<host>:<port>": only our own kubelet endpoint. */
  private connect(): void {
    const p = this.body;
    const n = this.bodyLen;
    const colon = lastIndexOfByte(p, n, 0x3a);
    const port = colon > 0 ? parseDec(p + <usize>(colon + 1), n - colon - 1) : E_MALFORMED;
    const tcp = n > 4 && memEqual(p, litPtr(utf8("tcp/")), 4);
    const host = p + 4;
    const hostLen = colon - 4;
    const ours = tcp && port == <i64>this.cfg.kubeletPort && hostLen > 0 &&
      (bytesEqualLitNoCase(host, hostLen, utf8("127.0.0.1")) || bytesEqualLitNoCase(host, hostLen, utf8("localhost")) ||
        (hostLen == this.cfg.ip.len && memEqual(host, this.cfg.ip.ptr, hostLen)));
    if (!ours) {
      lineStart(utf8("tunnel: refused a connection to "));
      lineBytes(p, n);
      lineLit(utf8(": only the kubelet endpoint is reachable"));
      lineEmit(LOG_WARN);
      this.sendError(this.mConn, utf8("connection not allowed"));
      return;
    }
    let slot: PipedConn | null = null;
    for (let i = 0; i < TUNNEL_CONNS_MAX; i++) {
      const c = this.conn(i);
      if (c.handle < 0) { slot = c; break; }
    }
    if (slot == null) {
      this.sendError(this.mConn, utf8("too many connections"));
      return;
    }
    const lo = utf8("127.0.0.1");
    const h = net_connect(litPtr(lo), litLen(lo), this.cfg.kubeletPort, 0);
    if (h < 0) {
      this.sendError(this.mConn, utf8("connect failed"));
      return;
    }
    slot.id = this.mConn;
    slot.handle = h;
    slot.paused = false;
    this.piped++;
    logText(LOG_DEBUG, utf8("tunnel: the API server opened a connection to the kubelet endpoint"));
  }

  /** Reads what the kubelet endpoint sent on `c` into one Data message. */
  private forward(c: PipedConn): void {
    if (c.handle < 0 || c.paused) return;
    const head = this.msgHead(this.tx + <usize>WS_HEAD_MAX, M_DATA, c.id);
    const data = this.tx + <usize>(WS_HEAD_MAX + head);
    const n = net_recv(c.handle, data, TUNNEL_CHUNK);
    if (n == E_AGAIN || n == 0) return;
    if (n < 0) {
      this.endConn(c, utf8("EOF"));
      return;
    }
    this.seal(OP_BINARY, head + n);
    this.flush();
  }

  /** Our side of `c` ended: tell the server (Error "EOF" is a clean close) and forget it. */
  private endConn(c: PipedConn, why: Lit): void {
    const id = c.id;
    this.drop(c);
    this.sendError(id, why);
  }

  private drop(c: PipedConn): void {
    if (c.handle >= 0) net_close(c.handle);
    c.handle = -1;
    c.id = 0;
    c.paused = false;
  }

  private sendError(id: i64, why: Lit): void {
    if (this.txLen > 0 && this.flush() < 0) return;
    if (this.txLen > 0) return; // the sender is busy: the server's read deadline ends it
    const head = this.msgHead(this.tx + <usize>WS_HEAD_MAX, M_ERROR, id);
    memory.copy(this.tx + <usize>(WS_HEAD_MAX + head), litPtr(why), <usize>litLen(why));
    this.seal(OP_BINARY, head + litLen(why));
    this.flush();
  }

  /** Writes a remotedialer header at p; returns its length. */
  private msgHead(p: usize, type: i64, conn: i64): i32 {
    this.msgId++;
    let n = putVarint(p, this.msgId);
    n += putVarint(p + <usize>n, conn);
    n += putVarint(p + <usize>n, type);
    if (type == M_DATA || type == M_CONNECT) n += putVarint(p + <usize>n, LEGACY_DEADLINE_MS);
    return n;
  }

  /** A control frame with `len` payload bytes from p. */
  private frame(op: i32, p: usize, len: i32): void {
    if (len > 0) memory.copy(this.tx + <usize>WS_HEAD_MAX, p, <usize>len);
    this.seal(op, len);
  }

  /** Frames the `len` payload bytes at tx + WS_HEAD_MAX: header in front,
   *  payload masked with a fresh key (clients always mask, RFC 6455 5.3). */
  private seal(op: i32, len: i32): void {
    const mask = memory.data(4);
    random_fill(mask, 4);
    const small = len <= 125;
    const start = small ? WS_HEAD_MAX - 6 : WS_HEAD_MAX - 8;
    const h = this.tx + <usize>start;
    store<u8>(h, <u8>(0x80 | op));
    let m = h + 2;
    if (small) store<u8>(h + 1, <u8>(0x80 | len));
    else {
      store<u8>(h + 1, 0x80 | 126);
      store<u8>(h + 2, <u8>(len >> 8));
      store<u8>(h + 3, <u8>len);
      m = h + 4;
    }
    memory.copy(m, mask, 4);
    const p = this.tx + <usize>WS_HEAD_MAX;
    for (let i = 0; i < len; i++) {
      store<u8>(p + <usize>i, load<u8>(p + <usize>i) ^ load<u8>(mask + <usize>(i & 3)));
    }
    this.txStart = start;
    this.txLen = WS_HEAD_MAX - start + len;
  }

  /** Sends the pending frame; OK (maybe some left) or an error. */
  private flush(): i32 {
    while (this.txLen > 0) {
      const n = net_send(this.handle, this.tx + <usize>this.txStart, this.txLen);
      if (n == E_AGAIN || n == 0) return OK;
      if (n < 0) {
        this.txLen = 0;
        return n;
      }
      this.txStart += n;
      this.txLen -= n;
    }
    return OK;
  }

  private conn(i: i32): PipedConn {
    return changetype<PipedConn>(load<usize>(this.conns + (<usize>i << alignof<usize>())));
  }

  private find(id: i64): PipedConn | null {
    for (let i = 0; i < TUNNEL_CONNS_MAX; i++) {
      const c = this.conn(i);
      if (c.handle >= 0 && c.id == id) return c;
    }
    return null;
  }
}

function lastIndexOfByte(p: usize, n: i32, b: u8): i32 {
  for (let i = n - 1; i >= 0; i--) if (load<u8>(p + <usize>i) == b) return i;
  return -1;
}

/** Go's binary.PutVarint: zigzag, then 7 bits a byte, low first. */
export function putVarint(p: usize, v: i64): i32 {
  let u = <u64>(v << 1) ^ <u64>(v >> 63);
  let n = 0;
  while (u >= 0x80) {
    store<u8>(p + <usize>n, <u8>(u | 0x80));
    u >>= 7;
    n++;
  }
  store<u8>(p + <usize>n, <u8>u);
  return n + 1;
}

/** The `index`-th zigzag varint in (p, n) (binary.ReadVarint), 0 if absent. */
export function readVarint(p: usize, n: i32, index: i32): i64 {
  let i = 0;
  for (let k = 0; k <= index; k++) {
    let u: u64 = 0;
    let shift: u64 = 0;
    while (i < n) {
      const b = <u64>load<u8>(p + <usize>i);
      i++;
      u |= (b & 0x7f) << shift;
      shift += 7;
      if (b < 0x80) break;
    }
    if (k == index) return <i64>(u >> 1) ^ -<i64>(u & 1);
  }
  return 0;
}
