// HTTP/1.1 client over the host's non-blocking connections: one persistent
// connection, reused for every request (RFC 9112 §9.3), driven by poll(nowMs).
//
//   client.begin("GET", "/api/v1/nodes/x");   // request line + Host
//   client.req.header(...); client.req.finish(body, len);
//   client.send(now);
//   loop: r = client.poll(now)
//     HTTP_PENDING: come back later     HTTP_BODY: use bodyPtr/bodyLen, poll again at once
//     HTTP_DONE: status valid, finished  < 0: error, connection closed, retry with backoff
//
// Streaming responses (watches) work: the body is handed out as it arrives
// and may never end; pass streaming = true to send() so that the deadline
// covers only the response headers.
//
// Clients that share() a connection (newSharedConn) send each request as a
// stream of one HTTP/2 connection instead (h2.ts), with the same calls and
// results; when the server does not speak HTTP/2 they fall back to a
// connection of their own as above.

import { net_close, net_connect, net_recv, net_send } from "../host/imports";
import { E_AGAIN, E_CLOSED, E_INVAL, E_MALFORMED, E_TIMEOUT, E_TOOLARGE, OK } from "../util/errors";
import { HTTP_HOST_MAX, HTTP_RECV_CAP, HTTP_RESPONSE_DEADLINE_MS } from "../util/limits";
import { writeStr, utf8Len, formatI64, decLen } from "../util/bytes";
import { RequestWriter } from "./request";
import { Lit, utf8 } from "../util/lit";
import { ResponseParser } from "./response";
import {
  H2_DATA, H2_END, H2_REQUEST_RESERVE, H2_WAIT, H2Conn, h2DataOffset, h2PathLen, h2PathOffset, h2SetStream,
  h2Transcode,
} from "./h2";

/** No request in flight (the previous response, if any, was reported). */
export const HTTP_IDLE: i32 = 0;
/** Waiting for the connection, the send or the response. */
export const HTTP_PENDING: i32 = 1;
/** bodyPtr/bodyLen hold response body bytes, valid until the next poll. */
export const HTTP_BODY: i32 = 2;
/** The response is complete; status is valid. Reported once, then HTTP_IDLE. */
export const HTTP_DONE: i32 = 3;

/** The receive buffer all clients share (see the constructor). */
const RECV: usize = memory.data(HTTP_RECV_CAP);

/** A connection for clients to share() (the agent makes one, for the API
 *  server). It reads through RECV too: clients of one server are either all
 *  on it or all on HTTP/1.1 connections of their own (h2.ts, CS_H1). */
export function newSharedConn(): H2Conn {
  return new H2Conn(RECV, HTTP_RECV_CAP);
}

// Internal phases.
const PH_IDLE: i32 = 0;
const PH_SENDING: i32 = 1;
const PH_RECEIVING: i32 = 2;

// @ts-ignore: decorator
@unmanaged
export class HttpClient {
  /** The caller writes the next request here (or via begin()), then send(). */
  readonly req: RequestWriter;
  private parser: ResponseParser = new ResponseParser();
  private recvBuf: usize;
  private recvCap: i32;
  private recvPos: i32 = 0;
  private recvLen: i32 = 0;
  /** Server host name: the caller's bytes (configureBytes), not a copy, so the
   *  agent's clients share the one config copy of it. */
  private host: usize = 0;
  private hostLen: i32 = 0;
  private port: i32 = 0;
  private flags: i32 = 0;
  private handle: i32 = -1;
  /** Responses completed on the current connection (> 0: it is a reused one). */
  private uses: i32 = 0;
  private phase: i32 = PH_IDLE;
  private sent: i32 = 0;
  private gotBytes: bool = false;
  private retried: bool = false;
  private streaming: bool = false;
  private deadline: i64 = 0;
  private doneToReport: bool = false;
  private err: i32 = OK;
  private body: usize = 0;
  private bodyLength: i32 = 0;
  /** Start of the request buffer: H2_REQUEST_RESERVE bytes before req.ptr. */
  private base: usize;
  /** The shared HTTP/2 connection and this client's stream slot on it. */
  private mux: H2Conn | null = null;
  private slot: i32 = -1;
  /** The current request goes as an HTTP/2 stream. */
  private h2: bool = false;
  /** Its frames (h2Transcode), 0 until rewritten; DATA and :path offsets. */
  private h2Len: i32 = 0;
  private h2Data: i32 = 0;
  private h2Path: i32 = 0;
  private h2PathLength: i32 = 0;

  /** Allocates the request buffer (reqCap). Init time only. Every client
   *  reads into the ONE shared receive buffer (RECV, HTTP_RECV_CAP bytes);
   *  recvCap (<= HTTP_RECV_CAP) bounds each read. Sharing is safe because
   *  poll() leaves unparsed bytes there only when it returns HTTP_BODY, and
   *  callers poll the same client again at once until it returns something
   *  else (or close it) before any other client polls: Agent.pump and
   *  ConfigMaps.pump do. */
  constructor(reqCap: i32, recvCap: i32) {
    const base = heap.alloc(<usize>(reqCap + H2_REQUEST_RESERVE));
    this.req = new RequestWriter(base + <usize>H2_REQUEST_RESERVE, reqCap);
    this.base = base;
    this.recvBuf = RECV;
    this.recvCap = recvCap < HTTP_RECV_CAP ? recvCap : HTTP_RECV_CAP;
  }

  /** Sends this client's requests over `conn` (HTTP/2) from now on. Init
   *  time only. Returns OK or E_TOOLARGE (no stream slot left). */
  share(conn: H2Conn): i32 {
    const s = conn.addStream(this.parser);
    if (s < 0) return s;
    this.mux = conn;
    this.slot = s;
    return OK;
  }

  /** Ends the connection this client uses, the shared one included (every
   *  stream on it fails and is retried by its client): the next request
   *  makes a new one, e.g. with a new client certificate. */
  reconnect(): void {
    this.close();
    const c = this.mux;
    if (c != null) c.reset(E_CLOSED);
  }

  /** Server to talk to and net_connect flags (NET_TLS | NET_CLIENT_CERT).
   *  Closes any open connection. Returns OK, E_INVAL or E_TOOLARGE. The name
   *  is converted into one static buffer shared by every client configured
   *  this way (tests; the agent uses configureBytes). */
  configure(host: string, port: i32, flags: i32): i32 {
    const n = utf8Len(host);
    if (n > HTTP_HOST_MAX) return E_TOOLARGE;
    const buf = memory.data(HTTP_HOST_MAX);
    writeStr(buf, HTTP_HOST_MAX, host);
    return this.configureBytes(buf, n, port, flags);
  }

  /** configure() with the host name given as bytes. The client keeps the
   *  pointer, not a copy: the bytes must stay unchanged while it is configured
   *  (the agent passes its config's server.host). */
  configureBytes(hostPtr: usize, hostLen: i32, port: i32, flags: i32): i32 {
    if (hostLen < 0) return E_INVAL;
    if (hostLen > HTTP_HOST_MAX) return E_TOOLARGE;
    this.host = hostPtr;
    const r = this.setServer(hostLen, port, flags);
    const c = this.mux;
    if (r == OK && c != null) c.configure(hostPtr, hostLen, port, flags);
    return r;
  }

  /** Starts a request in `req`: request line and the Host header (RFC 9112 §3.2). */
  begin(method: string, path: string): void {
    this.req.start(method, path);
    this.hostHeader();
  }

  /** begin() with the method as a UTF-8 literal (util/lit.ts) and the target as bytes. */
  beginLit(method: Lit, pathPtr: usize, pathLen: i32): void {
    this.req.startLit(method, pathPtr, pathLen);
    this.hostHeader();
  }

  /** A request is queued or its response is not yet reported. */
  get busy(): bool { return this.phase != PH_IDLE || this.doneToReport; }
  get connected(): bool { return this.handle >= 0; }
  /** Status code of the current/last response (valid once headersDone). */
  get status(): i32 { return this.parser.status; }
  get headersDone(): bool { return this.parser.headersDone; }
  get bodyPtr(): usize { return this.body; }
  get bodyLen(): i32 { return this.bodyLength; }
  /** The target (path and query) of the current/last request: for logs. */
  get targetPtr(): usize {
    if (this.h2Len > 0) return this.base + <usize>this.h2Path;
    const m = this.req.methodLen;
    return this.req.ptr + <usize>(m + 1);
  }
  get targetLen(): i32 {
    if (this.h2Len > 0) return this.h2PathLength;
    const q = this.req;
    let n = 0;
    while (n < q.len && load<u8>(q.ptr + <usize>n) != 0x0d) n++;
    // Request line minus the method, its space and " HTTP/1.1".
    return max(0, n - q.methodLen - 1 - 9);
  }
  /** The current request goes over the shared HTTP/2 connection. */
  get http2(): bool { return this.h2; }
  /** Server's Date as Unix ms (0 if absent), from the last response headers. */
  get dateUnixMs(): i64 { return this.parser.dateUnixMs(); }
  /** The last error poll()/send() returned (OK after a success). */
  get lastError(): i32 { return this.err; }

  /** Queues the request in `req` (finished with req.finish()). Connects when
   *  there is no connection. streaming: the deadline stops once headers are in.
   *  Returns OK, E_INVAL (busy, or no finished request), or a net_connect error. */
  send(nowMs: i64, streaming: bool = false): i32 {
    if (this.busy || !this.req.complete) return E_INVAL;
    this.parser.reset();
    if (this.req.isHead) this.parser.expectNoBody();
    this.sent = 0;
    this.gotBytes = false;
    this.retried = false;
    this.streaming = streaming;
    this.deadline = nowMs + HTTP_RESPONSE_DEADLINE_MS;
    this.body = 0;
    this.bodyLength = 0;
    this.recvPos = 0;
    this.recvLen = 0;
    this.h2Len = 0;
    const c = this.mux;
    // The shared connection must be this client's kind (e.g. with the client
    // certificate): a client configured otherwise renews it first.
    if (c != null) c.configure(this.host, this.hostLen, this.port, this.flags);
    this.h2 = c != null && !c.http1;
    if (this.h2) {
      const r = c!.ready(nowMs);
      if (r < 0 && r != E_AGAIN) return this.fail(r);
      this.phase = PH_SENDING;
      this.req.lock();
      this.err = OK;
      return OK;
    }
    // A kept-alive connection the server closed while idle is replaced now,
    // before anything is sent (RFC 9112 §9.3.1).
    if (this.handle >= 0 && !this.idleConnectionAlive()) this.dropConnection();
    if (this.handle < 0) {
      const r = this.connect();
      if (r < 0) return this.fail(r);
    }
    this.phase = PH_SENDING;
    this.req.lock();
    this.err = OK;
    return OK;
  }

  /** Drives the I/O; see HTTP_* for the results, < 0 for errors (the
   *  connection is then closed and the request dropped). */
  poll(nowMs: i64): i32 {
    this.body = 0;
    this.bodyLength = 0;
    if (this.doneToReport) {
      this.doneToReport = false;
      return HTTP_DONE;
    }
    if (this.phase == PH_IDLE) {
      if (this.handle >= 0 && !this.idleConnectionAlive()) this.dropConnection();
      const c = this.mux;
      if (c != null) c.pump(-1, nowMs); // acknowledgements, closed streams' frames
      return HTTP_IDLE;
    }
    if (this.h2) {
      if (this.phase == PH_SENDING) {
        const r = this.sendH2(nowMs);
        if (r < 0) return this.fail(r);
        if (this.phase == PH_SENDING) return this.pending(nowMs);
      }
      if (this.h2) return this.receiveH2(nowMs);
    }
    if (this.phase == PH_SENDING) {
      const r = this.pumpSend();
      if (r < 0) return this.fail(r);
      if (this.phase == PH_SENDING) return this.pending(nowMs);
    }
    // PH_RECEIVING: feed buffered bytes, read more, until something to report.
    while (true) {
      if (this.recvPos < this.recvLen) {
        const c = this.parser.feed(this.recvBuf + <usize>this.recvPos, this.recvLen - this.recvPos);
        if (c < 0) return this.fail(c);
        this.recvPos += c;
        if (this.parser.done) {
          if (this.parser.bodyLen > 0) {
            // Report the last slice now and DONE on the next poll.
            this.body = this.parser.bodyPtr;
            this.bodyLength = this.parser.bodyLen;
            this.complete();
            this.doneToReport = true;
            return HTTP_BODY;
          }
          this.complete();
          return HTTP_DONE;
        }
        if (this.parser.bodyLen > 0) {
          this.body = this.parser.bodyPtr;
          this.bodyLength = this.parser.bodyLen;
          return HTTP_BODY;
        }
        continue;
      }
      const n = net_recv(this.handle, this.recvBuf, this.recvCap);
      if (n > 0) {
        this.gotBytes = true;
        this.recvPos = 0;
        this.recvLen = n;
        continue;
      }
      if (n == E_AGAIN || n == 0) return this.pending(nowMs);
      if (n == E_CLOSED) {
        if (!this.gotBytes && this.uses > 0 && !this.retried && this.req.idempotent) {
          // The server closed a reused connection without answering: the
          // request may be retried once on a new one (RFC 9112 §9.3.1).
          const r = this.retryOnNewConnection();
          if (r < 0) return this.fail(r);
          return this.pending(nowMs);
        }
        const r = this.parser.finishEof();
        if (r < 0) return this.fail(r);
        this.dropConnection();
        this.complete();
        return HTTP_DONE;
      }
      return this.fail(n);
    }
    return HTTP_PENDING; // not reached
  }

  /** Closes the connection and drops any request in flight. */
  close(): void {
    this.endStream();
    this.dropConnection();
    this.phase = PH_IDLE;
    this.req.unlock();
    this.doneToReport = false;
  }

  // ---- internals ----

  /** HTTP/2: waits for the connection, rewrites the request into frames
   *  (once), opens the stream and sends. Falls back to HTTP/1.1 on a server
   *  that chose it, on the connection it accepted. */
  private sendH2(nowMs: i64): i32 {
    const c = this.mux!;
    if (this.sent == 0 && (this.h2Len == 0 || c.stream(this.slot).id == 0)) {
      c.drain(nowMs);
      const r = c.ready(nowMs);
      if (r == E_AGAIN) return OK;
      if (r < 0) return r;
      if (c.http1) {
        if (this.h2Len > 0) return E_CLOSED; // rewritten already (a retry): cannot go back
        this.h2 = false;
        const h = c.takeHttp1Handle();
        if (h >= 0) this.handle = h;
        else {
          const k = this.connect();
          if (k < 0) return k;
        }
        this.uses = 0;
        return this.pumpSend();
      }
      if (this.h2Len == 0) {
        const n = h2Transcode(this.base, this.req.len, (this.flags & 1) != 0);
        if (n < 0) return n;
        this.h2Len = n;
        this.h2Data = h2DataOffset;
        this.h2Path = h2PathOffset;
        this.h2PathLength = h2PathLen;
      }
      const id = c.open(this.slot, this.req.bodyLen);
      if (id == E_AGAIN) return OK;
      if (id < 0) return id;
      h2SetStream(this.base, this.h2Data, id);
    }
    while (this.sent < this.h2Len) {
      const n = c.write(this.base + <usize>this.sent, this.h2Len - this.sent);
      if (n == E_AGAIN) return OK;
      if (n < 0) return n;
      this.sent += n;
    }
    c.release(this.slot);
    this.phase = PH_RECEIVING;
    return OK;
  }

  private receiveH2(nowMs: i64): i32 {
    const c = this.mux!;
    const r = c.pump(this.slot, nowMs);
    if (r == H2_DATA) {
      this.gotBytes = true;
      this.body = c.dataPtr;
      this.bodyLength = c.dataLen;
      return HTTP_BODY;
    }
    if (r == H2_END) {
      if (!this.parser.headersDone) return this.fail(E_MALFORMED);
      this.complete();
      return HTTP_DONE;
    }
    if (r == H2_WAIT) return this.pending(nowMs);
    if (r == E_CLOSED && !this.parser.headersDone && !this.retried && this.req.idempotent) {
      // The connection ended (or the server refused the stream) before any
      // answer: an idempotent request goes again on a new one (RFC 9113
      // §8.7; RFC 9112 §9.3.1 for the HTTP/1.1 case).
      this.retried = true;
      c.stream(this.slot).err = OK;
      this.sent = 0;
      this.phase = PH_SENDING;
      return this.pending(nowMs);
    }
    return this.fail(r);
  }

  /** HTTP/2: the client is done with its stream (RST_STREAM if unfinished). */
  private endStream(): void {
    const c = this.mux;
    if (this.h2 && c != null) c.close(this.slot);
  }

  private setServer(n: i32, port: i32, flags: i32): i32 {
    if (n == 0 || port <= 0 || port > 65535) return E_INVAL;
    this.close();
    this.hostLen = n;
    this.port = port;
    this.flags = flags;
    return OK;
  }

  /** Writes the Host header (RFC 9112 §3.2) into `req`: after
   *  req.startLit()/appendTargetBytes() when the target is built in pieces;
   *  begin*() do it themselves. */
  hostHeader(): void {
    // ":port" (<= 6 bytes); the host name is written from the caller's bytes.
    const port = memory.data(8);
    let n = 0;
    // The port is omitted only when it is the scheme's default (RFC 9110 §7.2, §4.2).
    const tls = (this.flags & 1) != 0;
    if (!((tls && this.port == 443) || (!tls && this.port == 80))) {
      store<u8>(port, 0x3a);
      n = 1 + formatI64(port + 1, decLen(this.port), this.port);
    }
    this.req.headerLitBytes2(utf8("Host"), this.host, this.hostLen, port, n);
  }

  private connect(): i32 {
    if (this.hostLen == 0) return E_INVAL;
    const h = net_connect(this.host, this.hostLen, this.port, this.flags);
    if (h < 0) return h;
    this.handle = h;
    this.uses = 0;
    return OK;
  }

  private dropConnection(): void {
    if (this.handle >= 0) net_close(this.handle);
    this.handle = -1;
    this.uses = 0;
  }

  /** An idle connection is usable: nothing arrived, no close, no error. */
  private idleConnectionAlive(): bool {
    const n = net_recv(this.handle, this.recvBuf, this.recvCap);
    // E_AGAIN: nothing to read (or still connecting): alive. Bytes on an
    // idle connection are not ours to read: the connection is out of step.
    return n == E_AGAIN || n == 0;
  }

  private retryOnNewConnection(): i32 {
    this.retried = true;
    this.dropConnection();
    const r = this.connect();
    if (r < 0) return r;
    this.sent = 0;
    this.gotBytes = false;
    this.recvPos = 0;
    this.recvLen = 0;
    this.parser.reset();
    if (this.req.isHead) this.parser.expectNoBody();
    this.phase = PH_SENDING;
    return this.pumpSend();
  }

  /** Sends what it can; moves to PH_RECEIVING when all is sent. */
  private pumpSend(): i32 {
    const total = this.req.len;
    while (this.sent < total) {
      const n = net_send(this.handle, this.req.ptr + <usize>this.sent, total - this.sent);
      if (n > 0) {
        this.sent += n;
        continue;
      }
      if (n == E_AGAIN || n == 0) return OK;
      if (this.sent == 0 && this.uses > 0 && !this.retried) {
        // The reused connection died before our request went out: nothing
        // was sent, so sending it on a new connection is safe for any method.
        return this.retryOnNewConnection();
      }
      return n;
    }
    this.phase = PH_RECEIVING;
    return OK;
  }

  private pending(nowMs: i64): i32 {
    const headerWait = !this.parser.headersDone;
    if ((headerWait || !this.streaming) && nowMs >= this.deadline) {
      const c = this.mux;
      // HTTP/2: a connection that stayed silent this long is dead for every stream.
      if (this.h2 && c != null) c.timeout(this.slot, nowMs, HTTP_RESPONSE_DEADLINE_MS);
      return this.fail(E_TIMEOUT);
    }
    return HTTP_PENDING;
  }

  /** The response is complete: keep the connection only if it is in step. */
  private complete(): void {
    this.phase = PH_IDLE;
    this.req.unlock();
    this.uses++;
    if (this.h2) {
      this.endStream();
      return;
    }
    if (!this.parser.keepAlive || this.recvPos < this.recvLen) this.dropConnection();
  }

  private fail(code: i32): i32 {
    this.endStream();
    this.dropConnection();
    this.phase = PH_IDLE;
    this.req.unlock();
    this.doneToReport = false;
    this.err = code;
    return code;
  }
}
