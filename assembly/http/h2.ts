// HTTP/2 (RFC 9113) connection that the agent's HTTP clients share: the API
// client and every ConfigMap watch become streams of one TLS connection, as a
// kubelet's do, instead of one connection (and one ~21 KB TLS session on the
// device) each. The host offers "h2" by ALPN (RFC 7301); a server that does
// not pick it leaves the clients on HTTP/1.1 (HttpClient falls back).
//
// Kept small on purpose:
//  - no buffering per stream: frames are read in order through one receive
//    buffer, and a DATA frame waits at the head until its stream's client
//    polls (the agent polls every client in turn; `backlog` tells it to come
//    back at once). Flow control (§5.2) bounds what the server sends ahead.
//  - HPACK without a dynamic table (hpack.ts); requests are the clients'
//    HTTP/1.1 bytes rewritten in place into HEADERS + DATA (h2Transcode).
//  - a GOAWAY lets the streams the server took finish (the API server sends
//    one with every response to an unauthenticated request, and when it
//    shuts down); new requests wait for them, at most H2_DRAIN_MS (a watch
//    would never finish), then go on a new connection. Any connection error
//    ends the connection and fails every stream; their clients retry on a
//    new one as after a dropped HTTP/1.1 connection (watches resume from
//    their resourceVersion).

import { net_alpn, net_close, net_connect, net_recv, net_send } from "../host/imports";
import { E_AGAIN, E_CLOSED, E_INVAL, E_MALFORMED, E_TIMEOUT, E_TOOLARGE, OK } from "../util/errors";
import { bytesEqualLitNoCase, indexOfByte, lowerAscii, memEqual } from "../util/bytes";
import { bytesEqualLit, Lit, litLen, litPtr, utf8 } from "../util/lit";
import {
  H2_BLOCK_CAP, H2_CONN_WINDOW_UPDATE_AT, H2_CTL_CAP, H2_DRAIN_MS, H2_STREAM_WINDOW, H2_STREAM_WINDOW_UPDATE_AT,
  H2_STREAMS_MAX,
} from "../util/limits";
import { HpackFields, hpackIntLen, hpackIntWrite } from "./hpack";
import { ResponseParser } from "./response";

// Frame types (§6) and flags.
const T_DATA: i32 = 0;
const T_HEADERS: i32 = 1;
const T_RST_STREAM: i32 = 3;
const T_SETTINGS: i32 = 4;
const T_PUSH_PROMISE: i32 = 5;
const T_PING: i32 = 6;
const T_GOAWAY: i32 = 7;
const T_WINDOW_UPDATE: i32 = 8;
const T_CONTINUATION: i32 = 9;
const F_END_STREAM: i32 = 0x1;
const F_ACK: i32 = 0x1;
const F_END_HEADERS: i32 = 0x4;
const F_PADDED: i32 = 0x8;
const F_PRIORITY: i32 = 0x20;
/** RST_STREAM error code CANCEL (§7): the client no longer wants the stream. */
const ERR_CANCEL: i32 = 0x8;
/** SETTINGS identifiers (§6.5.2). */
const S_INITIAL_WINDOW_SIZE: i32 = 0x4;
const S_MAX_FRAME_SIZE: i32 = 0x5;

/** Frame header length (§4.1). */
export const H2_FRAME_HEAD: i32 = 9;
/** Bytes a request buffer keeps in front of its HTTP/1.1 request so that
 *  h2Transcode can rewrite it in place: the two frame headers it adds
 *  (HEADERS, DATA) are paid for by what HPACK saves over the HTTP/1.1 text
 *  (at least 10 bytes of request line, Host and blank line), this reserve and
 *  at most 10 header values longer than 254 bytes (1 byte more each). */
export const H2_REQUEST_RESERVE: i32 = 2 * H2_FRAME_HEAD;
/** Initial flow-control window and largest frame payload, the protocol's
 *  defaults (§6.5.2, §6.9.2); the client announces neither. */
const DEFAULT_WINDOW: i32 = 65535;
const DEFAULT_MAX_FRAME: i32 = 16384;
/** Stream identifiers are odd for a client and end at 2^31-1 (§5.1.1): the
 *  connection is renewed before. */
const LAST_STREAM_ID: i32 = 0x7fff0000;

// Connection states.
const CS_NONE: i32 = 0;
const CS_HANDSHAKE: i32 = 1; // connecting; the host reports ALPN once done
const CS_OPEN: i32 = 2; // HTTP/2
const CS_H1: i32 = 3; // the server did not pick h2: clients use HTTP/1.1

/** pump() results, besides errors (< 0). */
export const H2_WAIT: i32 = 0; // nothing for this stream now
export const H2_DATA: i32 = 1; // dataPtr/dataLen hold body bytes of the stream
export const H2_END: i32 = 2; // the stream's response is complete

/** The client preface (§3.4) and the first SETTINGS: header table 0 (no
 *  dynamic HPACK table, hpack.ts), no server push (§8.4) and each stream's
 *  window H2_STREAM_WINDOW (limits.ts: what bounds the server's records). */
const PREFACE: Lit = utf8("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
const SETTINGS = memory.data<u8>([
  0, 0, 18, 4, 0, 0, 0, 0, 0, // SETTINGS, 18 bytes, stream 0
  0, 1, 0, 0, 0, 0, // SETTINGS_HEADER_TABLE_SIZE = 0
  0, 2, 0, 0, 0, 0, // SETTINGS_ENABLE_PUSH = 0
  0, 4, 0, 0, <u8>(H2_STREAM_WINDOW >> 8), <u8>H2_STREAM_WINDOW, // SETTINGS_INITIAL_WINDOW_SIZE
]);
const SETTINGS_LEN: i32 = 27;

/** One stream slot, owned by one HTTP client for its lifetime. */
// @ts-ignore: decorator
@unmanaged
export class H2Stream {
  /** Open stream identifier; 0 while the client has no request on the connection. */
  id: i32 = 0;
  /** What the server lets this stream send (§6.9). */
  sendWindow: i32 = DEFAULT_WINDOW;
  /** DATA bytes consumed since the last WINDOW_UPDATE for the stream. */
  recvUnacked: i32 = 0;
  /** END_STREAM came and every DATA byte before it was handed out. */
  ended: bool = false;
  /** The stream failed: reset by the server, or the connection ended. */
  err: i32 = OK;
  /** Where the response's status and Date go (set by addStream). */
  parser: ResponseParser = changetype<ResponseParser>(0);

  constructor() {}
}

// @ts-ignore: decorator
@unmanaged
export class H2Conn {
  /** Body bytes of the last H2_DATA result: valid until the next pump(). */
  dataPtr: usize = 0;
  dataLen: i32 = 0;
  /** Connections made and streams opened (bench and tests). */
  connections: i32 = 0;
  streamsOpened: i32 = 0;

  private state: i32 = CS_NONE;
  private handle: i32 = -1;
  private host: usize = 0;
  private hostLen: i32 = 0;
  private port: i32 = 0;
  private flags: i32 = 0;
  private nextId: i32 = 1;
  /** A GOAWAY came: no new streams here; since when. */
  private goaway: bool = false;
  private goawayMs: i64 = 0;
  /** Connection-level send window and the server's settings (§6.5.2, §6.9). */
  private sendWindow: i32 = DEFAULT_WINDOW;
  private peerInitialWindow: i32 = DEFAULT_WINDOW;
  private peerMaxFrame: i32 = DEFAULT_MAX_FRAME;
  private recvUnacked: i32 = 0;
  /** Slot whose frames are partly sent (-1: none): nothing else may go out. */
  private sender: i32 = -1;
  /** Frames the connection itself sends (preface, SETTINGS, ACKs, window
   *  updates, resets), queued until no client is mid-frame. */
  private ctl: usize = heap.alloc(<usize>H2_CTL_CAP);
  private ctlLen: i32 = 0;
  private ctlSent: i32 = 0;
  private streams: usize = heap.alloc(<usize>(H2_STREAMS_MAX * sizeof<usize>()));
  private streamCount: i32 = 0;
  private rbuf: usize;
  private rcap: i32;
  private rpos: i32 = 0;
  private rlen: i32 = 0;
  lastRxMs: i64 = 0;
  // The frame being read.
  private head: usize = heap.alloc(<usize>H2_FRAME_HEAD);
  private headHave: i32 = 0;
  private inFrame: bool = false;
  private fType: i32 = 0;
  private fFlags: i32 = 0;
  private fStream: i32 = 0;
  private fLeft: i32 = 0; // payload bytes still to read, padding included
  private fPad: i32 = 0; // padding at the end of the payload
  private fSkip: i32 = 0; // pad-length and priority bytes still to skip
  private padPending: bool = false;
  // Header block (HEADERS + CONTINUATION) or a control frame's payload.
  private block: usize = heap.alloc(<usize>H2_BLOCK_CAP);
  private blockLen: i32 = 0;
  private blockOver: bool = false;
  private blockEndStream: bool = false;
  private contStream: i32 = 0; // CONTINUATION expected on this stream (0: none)
  private fields: HpackFields = new HpackFields();
  private alpn: usize = heap.alloc(8);

  /** rbuf: the receive buffer (shared with HTTP/1.1 clients, which never
   *  read while this connection is in use, see HttpClient). */
  constructor(rbuf: usize, rcap: i32) {
    this.rbuf = rbuf;
    this.rcap = rcap;
    // Every slot now: the core allocates nothing after its start function
    // (WAMR sizes the linear memory to the heap end then, shrink-wasm.mjs).
    for (let i = 0; i < H2_STREAMS_MAX; i++) {
      store<usize>(this.streams + (<usize>i << alignof<usize>()), changetype<usize>(new H2Stream()));
    }
  }

  /** Gives a client a stream slot; init time only. Returns the slot or E_TOOLARGE. */
  addStream(parser: ResponseParser): i32 {
    if (this.streamCount >= H2_STREAMS_MAX) return E_TOOLARGE;
    this.stream(this.streamCount).parser = parser;
    return this.streamCount++;
  }

  stream(slot: i32): H2Stream {
    return changetype<H2Stream>(load<usize>(this.streams + (<usize>slot << alignof<usize>())));
  }

  /** Server and net_connect flags. A change ends the connection. */
  configure(host: usize, hostLen: i32, port: i32, flags: i32): void {
    const same = this.hostLen == hostLen && this.port == port && this.flags == flags &&
      (this.host == host || (this.host != 0 && memEqual(this.host, host, hostLen)));
    this.host = host;
    this.hostLen = hostLen;
    this.port = port;
    this.flags = flags;
    if (!same) this.reset(E_CLOSED);
  }

  /** The server spoke HTTP/1.1 on the last try: clients use their own
   *  connections until reset() (a new configuration, a new certificate). */
  get http1(): bool { return this.state == CS_H1; }
  /** The last connection's protocol is known (HTTP/2 or HTTP/1.1). */
  get settled(): bool { return this.state == CS_OPEN || this.state == CS_H1; }
  /** Read bytes wait for a client that has not polled yet: poll again at once. */
  get backlog(): bool { return this.state == CS_OPEN && this.rpos < this.rlen; }
  /** Streams open now. */
  get openStreams(): i32 {
    let n = 0;
    for (let i = 0; i < this.streamCount; i++) if (this.stream(i).id != 0) n++;
    return n;
  }

  /** After a GOAWAY: ends the connection once the streams the server took
   *  are done, or H2_DRAIN_MS after it came (streams still open then fail and
   *  are retried by their clients), so that ready() makes a new one. */
  drain(nowMs: i64): void {
    if (this.goaway && (this.openStreams == 0 || nowMs - this.goawayMs >= H2_DRAIN_MS)) this.reset(E_CLOSED);
  }

  /** Connects if needed and drives the handshake. Returns OK once HTTP/2 is
   *  up (or the server chose HTTP/1.1: then http1 is true), E_AGAIN while
   *  the handshake runs, or the connection's error. */
  ready(nowMs: i64): i32 {
    if (this.state == CS_OPEN || this.state == CS_H1) return OK;
    if (this.state == CS_NONE) {
      if (this.hostLen == 0) return E_INVAL;
      const h = net_connect(this.host, this.hostLen, this.port, this.flags);
      if (h < 0) return h;
      this.handle = h;
      this.state = CS_HANDSHAKE;
      this.connections++;
    }
    const n = net_alpn(this.handle, this.alpn, 8);
    if (n == E_AGAIN) return E_AGAIN;
    if (n < 0) {
      this.reset(n);
      return n;
    }
    if (!bytesEqualLit(this.alpn, n, utf8("h2"))) {
      this.state = CS_H1;
      return OK;
    }
    this.state = CS_OPEN;
    this.lastRxMs = nowMs;
    this.queue(litPtr(PREFACE), litLen(PREFACE));
    this.queue(SETTINGS, SETTINGS_LEN);
    return OK;
  }

  /** After the server chose HTTP/1.1: hands the connection to the client
   *  that asked for it (once; -1 after). */
  takeHttp1Handle(): i32 {
    const h = this.handle;
    this.handle = -1;
    return h;
  }

  /** Opens a stream for `slot` and gives it the send lock. E_AGAIN while
   *  another slot is mid-send, control frames wait, or the windows cannot
   *  take `bodyLen`; E_CLOSED after a GOAWAY. Returns the stream id. */
  open(slot: i32, bodyLen: i32): i32 {
    if (this.state != CS_OPEN) return E_CLOSED;
    if (this.goaway) return E_AGAIN; // drain() renews the connection
    if (this.nextId > LAST_STREAM_ID) {
      this.reset(E_CLOSED);
      return E_AGAIN;
    }
    if (this.sender >= 0 || this.flush() != OK || this.ctlLen > 0) return E_AGAIN;
    if (bodyLen > this.sendWindow || bodyLen > this.peerInitialWindow || bodyLen > this.peerMaxFrame) return E_AGAIN;
    const st = this.stream(slot);
    st.id = this.nextId;
    this.nextId += 2;
    st.sendWindow = this.peerInitialWindow - bodyLen;
    this.sendWindow -= bodyLen;
    st.recvUnacked = 0;
    st.ended = false;
    st.err = OK;
    this.sender = slot;
    this.streamsOpened++;
    return st.id;
  }

  /** Sends bytes of the lock holder's frames; returns the count, E_AGAIN or
   *  an error (the connection is then gone). */
  write(ptr: usize, len: i32): i32 {
    const n = net_send(this.handle, ptr, len);
    if (n > 0 || n == E_AGAIN || n == 0) return n > 0 ? n : E_AGAIN;
    this.reset(n);
    return n;
  }

  /** The lock holder sent all its frames. */
  release(slot: i32): void {
    if (this.sender == slot) this.sender = -1;
  }

  /** The client is done with its stream: complete, or abandoned (then the
   *  server is told to stop it, RST_STREAM CANCEL, and what still comes for
   *  it is dropped). A stream abandoned mid-send ends the connection: its
   *  frame cannot be finished. */
  close(slot: i32): void {
    const st = this.stream(slot);
    if (this.sender == slot) {
      this.sender = -1;
      this.reset(E_CLOSED);
      st.err = OK;
      return;
    }
    const id = st.id;
    st.id = 0;
    st.err = OK;
    if (id != 0 && !st.ended && this.state == CS_OPEN) {
      this.rstStream(id);
      this.flush();
    }
  }

  /** Gives up stream `slot` with `code` (the server is told, as in close()). */
  private failStream(slot: i32, code: i32): void {
    this.close(slot);
    this.stream(slot).err = code;
  }

  /** A request on `slot` waited too long: when the connection heard nothing
   *  for `quietMs` it is presumed dead and ended (every stream fails),
   *  else only the stream is given up. */
  timeout(slot: i32, nowMs: i64, quietMs: i64): void {
    if (nowMs - this.lastRxMs >= quietMs) this.reset(E_TIMEOUT);
    else this.close(slot);
  }

  /** Ends the connection: every open stream fails with `code`. */
  reset(code: i32): void {
    if (this.handle >= 0) net_close(this.handle);
    this.handle = -1;
    for (let i = 0; i < this.streamCount; i++) {
      const st = this.stream(i);
      if (st.id != 0) {
        st.err = code;
        st.id = 0;
      }
    }
    this.state = CS_NONE;
    this.nextId = 1;
    this.goaway = false;
    this.goawayMs = 0;
    this.sendWindow = DEFAULT_WINDOW;
    this.peerInitialWindow = DEFAULT_WINDOW;
    this.peerMaxFrame = DEFAULT_MAX_FRAME;
    this.recvUnacked = 0;
    this.sender = -1;
    this.ctlLen = 0;
    this.ctlSent = 0;
    this.rpos = 0;
    this.rlen = 0;
    this.headHave = 0;
    this.inFrame = false;
    this.blockLen = 0;
    this.contStream = 0;
  }

  /** Reads frames for `slot` (-1: only for the connection itself: control
   *  frames and frames of closed streams). Returns H2_DATA, H2_END, H2_WAIT
   *  or the stream's error. */
  pump(slot: i32, nowMs: i64): i32 {
    if (slot >= 0) {
      const st = this.stream(slot);
      if (st.err != OK) return st.err;
      if (st.id == 0) return E_CLOSED;
    }
    if (this.state != CS_OPEN) return H2_WAIT;
    if (slot < 0) {
      this.drain(nowMs);
      if (this.state != CS_OPEN) return H2_WAIT;
    }
    this.windowUpdates();
    const f = this.flush();
    if (f < 0) return this.result(slot);
    for (;;) {
      if (slot >= 0) {
        const st = this.stream(slot);
        if (st.err != OK || st.id == 0) return this.result(slot);
        if (st.ended) return H2_END;
      }
      if (this.inFrame && this.fLeft == 0) {
        // Payload complete (or empty): act on the frame.
        const r = this.endFrame();
        if (r == E_AGAIN) return H2_WAIT;
        if (r < 0) {
          this.reset(r);
          return this.result(slot);
        }
        continue;
      }
      if (this.rpos == this.rlen) {
        const n = net_recv(this.handle, this.rbuf, this.rcap);
        if (n == E_AGAIN || n == 0) return H2_WAIT;
        if (n < 0) {
          this.reset(n);
          return this.result(slot);
        }
        this.rpos = 0;
        this.rlen = n;
        this.lastRxMs = nowMs;
      }
      if (!this.inFrame) {
        const r = this.readHead();
        if (r < 0) {
          this.reset(r);
          return this.result(slot);
        }
        continue;
      }
      const r = this.payload(slot);
      if (r == H2_DATA) return H2_DATA;
      if (r == E_AGAIN) return H2_WAIT; // a DATA frame of another stream is first
      if (r < 0) {
        this.reset(r);
        return this.result(slot);
      }
    }
    return H2_WAIT; // not reached
  }

  // ---- internals ----

  private result(slot: i32): i32 {
    if (slot < 0) return H2_WAIT;
    const st = this.stream(slot);
    return st.err != OK ? st.err : E_CLOSED;
  }

  /** Finds the slot with open stream `id`, or -1. */
  private owner(id: i32): i32 {
    if (id == 0) return -1;
    for (let i = 0; i < this.streamCount; i++) if (this.stream(i).id == id) return i;
    return -1;
  }

  private readHead(): i32 {
    const n = min(H2_FRAME_HEAD - this.headHave, this.rlen - this.rpos);
    memory.copy(this.head + <usize>this.headHave, this.rbuf + <usize>this.rpos, <usize>n);
    this.headHave += n;
    this.rpos += n;
    if (this.headHave < H2_FRAME_HEAD) return OK;
    this.headHave = 0;
    const h = this.head;
    const len = (<i32>load<u8>(h) << 16) | (<i32>load<u8>(h + 1) << 8) | <i32>load<u8>(h + 2);
    this.fType = <i32>load<u8>(h + 3);
    this.fFlags = <i32>load<u8>(h + 4);
    this.fStream = readU31(h + 5);
    // We announce no larger SETTINGS_MAX_FRAME_SIZE (§4.2).
    if (len > DEFAULT_MAX_FRAME) return E_MALFORMED;
    // A header block is contiguous: only its CONTINUATION may follow (§6.10).
    if (this.contStream != 0 && (this.fType != T_CONTINUATION || this.fStream != this.contStream)) return E_MALFORMED;
    if (this.fType == T_CONTINUATION && this.contStream == 0) return E_MALFORMED;
    this.inFrame = true;
    this.fLeft = len;
    this.fPad = 0;
    this.fSkip = 0;
    this.padPending = (this.fType == T_DATA || this.fType == T_HEADERS) && (this.fFlags & F_PADDED) != 0;
    if (this.fType == T_HEADERS) {
      this.blockLen = 0;
      this.blockOver = false;
      this.blockEndStream = (this.fFlags & F_END_STREAM) != 0;
      if ((this.fFlags & F_PRIORITY) != 0) this.fSkip = 5; // dependency + weight (§6.2)
    } else if (this.fType != T_CONTINUATION) {
      this.blockLen = 0;
      this.blockOver = false;
    }
    return OK;
  }

  /** Consumes payload bytes of the current frame from the buffer. */
  private payload(slot: i32): i32 {
    const avail = this.rlen - this.rpos;
    const isData = this.fType == T_DATA;
    if (this.padPending) {
      const pad = <i32>load<u8>(this.rbuf + <usize>this.rpos);
      this.rpos++;
      this.fLeft--;
      this.padPending = false;
      if (pad > this.fLeft - this.fSkip) return E_MALFORMED; // §6.1, §6.2
      this.fPad = pad;
      if (isData) this.countData(this.owner(this.fStream), 1);
      return OK;
    }
    if (isData) {
      const own = this.owner(this.fStream);
      const content = this.fLeft - this.fPad;
      if (content > 0) {
        if (own >= 0 && own != slot) return E_AGAIN; // its client reads it
        const n = min(content, avail);
        const p = this.rbuf + <usize>this.rpos;
        this.rpos += n;
        this.fLeft -= n;
        this.countData(own, n);
        if (own < 0) return OK; // a closed stream's: dropped
        this.dataPtr = p;
        this.dataLen = n;
        if (this.fLeft == 0) this.endFrame();
        return H2_DATA;
      }
      // Padding only.
      const n = min(this.fLeft, avail);
      this.rpos += n;
      this.fLeft -= n;
      this.countData(own, n);
      return OK;
    }
    // Header block or control payload: collected (the excess counted, not kept).
    let n: i32;
    if (this.fSkip > 0) {
      n = min(this.fSkip, avail);
      this.fSkip -= n;
    } else if (this.fLeft > this.fPad) {
      n = min(this.fLeft - this.fPad, avail);
      this.collect(this.rbuf + <usize>this.rpos, n);
    } else {
      n = min(this.fLeft, avail); // padding
    }
    this.rpos += n;
    this.fLeft -= n;
    return OK;
  }

  private collect(p: usize, n: i32): void {
    const room = H2_BLOCK_CAP - this.blockLen;
    if (n > room) this.blockOver = true;
    const k = min(n, room);
    memory.copy(this.block + <usize>this.blockLen, p, <usize>k);
    this.blockLen += k;
  }

  /** Acts on a frame whose payload is read. E_AGAIN: a reply does not fit
   *  the control queue yet (the frame stays current). */
  private endFrame(): i32 {
    const t = this.fType;
    const sid = this.fStream;
    if (t == T_DATA) {
      const own = this.owner(sid);
      if (own >= 0 && (this.fFlags & F_END_STREAM) != 0) this.stream(own).ended = true;
      this.inFrame = false;
      this.windowUpdates();
      return OK;
    }
    if (t == T_HEADERS || t == T_CONTINUATION) {
      if ((this.fFlags & F_END_HEADERS) == 0) {
        this.contStream = sid;
        this.inFrame = false;
        return OK;
      }
      this.contStream = 0;
      this.inFrame = false;
      return this.headerBlock(this.owner(sid));
    }
    if (t == T_SETTINGS) {
      if (sid != 0 || (this.blockLen % 6) != 0 || this.blockOver) return E_MALFORMED;
      if ((this.fFlags & F_ACK) != 0) {
        this.inFrame = false;
        return OK;
      }
      if (!this.room(H2_FRAME_HEAD)) return E_AGAIN;
      for (let i = 0; i < this.blockLen; i += 6) {
        const p = this.block + <usize>i;
        const id = (<i32>load<u8>(p) << 8) | <i32>load<u8>(p + 1);
        const v = readU32(p + 2);
        if (id == S_INITIAL_WINDOW_SIZE) {
          if (v > 0x7fffffff) return E_MALFORMED; // FLOW_CONTROL_ERROR (§6.5.2)
          // Open streams' windows move by the difference (§6.9.2).
          const d = <i32>v - this.peerInitialWindow;
          for (let s = 0; s < this.streamCount; s++) this.stream(s).sendWindow += d;
          this.peerInitialWindow = <i32>v;
        } else if (id == S_MAX_FRAME_SIZE) {
          if (v < <u32>DEFAULT_MAX_FRAME || v > 0xffffff) return E_MALFORMED;
          this.peerMaxFrame = <i32>v;
        }
      }
      this.frame(T_SETTINGS, F_ACK, 0, 0, 0);
      this.inFrame = false;
      return OK;
    }
    if (t == T_PING) {
      if (sid != 0 || this.blockLen != 8) return E_MALFORMED;
      if ((this.fFlags & F_ACK) == 0) {
        if (!this.room(H2_FRAME_HEAD + 8)) return E_AGAIN;
        this.frame(T_PING, F_ACK, 0, this.block, 8);
      }
      this.inFrame = false;
      return OK;
    }
    if (t == T_GOAWAY) {
      // No new streams; those above the last one the server took were not
      // processed and fail now (retried by their clients, §6.8).
      if (sid != 0 || this.blockLen < 8) return E_MALFORMED;
      const last = readU31(this.block);
      for (let i = 0; i < this.streamCount; i++) {
        const st = this.stream(i);
        if (st.id > last) {
          st.err = E_CLOSED;
          st.id = 0;
        }
      }
      if (!this.goaway) this.goawayMs = this.lastRxMs;
      this.goaway = true;
      this.inFrame = false;
      return OK;
    }
    if (t == T_WINDOW_UPDATE) {
      if (this.blockLen != 4) return E_MALFORMED;
      const inc = readU31(this.block);
      if (sid == 0) {
        this.sendWindow = <i32>min<i64>(<i64>this.sendWindow + inc, 0x7fffffff);
      } else {
        const own = this.owner(sid);
        if (own >= 0) {
          const st = this.stream(own);
          st.sendWindow = <i32>min<i64>(<i64>st.sendWindow + inc, 0x7fffffff);
        }
      }
      this.inFrame = false;
      return OK;
    }
    if (t == T_RST_STREAM) {
      if (sid == 0 || this.blockLen != 4) return E_MALFORMED;
      const own = this.owner(sid);
      if (own >= 0) {
        const st = this.stream(own);
        st.err = E_CLOSED;
        st.id = 0;
      }
      this.inFrame = false;
      return OK;
    }
    if (t == T_PUSH_PROMISE) return E_MALFORMED; // push is off (§8.4)
    // PRIORITY and unknown types are ignored (§5.5, §6.3).
    this.inFrame = false;
    return OK;
  }

  private headerBlock(own: i32): i32 {
    const fieldsRead = this.blockOver ? 0 : this.fields.decode(this.block, this.blockLen);
    // Without a dynamic table decoding has no state to lose, but a block we
    // cannot read is still a COMPRESSION_ERROR for the connection (§4.3).
    if (fieldsRead < 0) return E_MALFORMED;
    if (own < 0) return OK;
    const st = this.stream(own);
    if (this.blockOver) {
      this.failStream(own, E_TOOLARGE);
      return OK;
    }
    const p = st.parser;
    const status = this.fields.status;
    if (!p.headersDone) {
      if (status >= 100 && status < 200) return OK; // informational (§8.1)
      if (status < 200 || status > 999) {
        this.failStream(own, E_MALFORMED);
        return OK;
      }
      p.status = status;
      p.headersDone = true;
      p.setDate(this.fields.date, this.fields.dateLen);
    }
    // A block after the response headers is a trailer section: ignored.
    if (this.blockEndStream) st.ended = true;
    return OK;
  }

  /** n bytes of the current DATA frame consumed (padding too: it counts
   *  against both windows, §6.9.1), for the connection and its stream's
   *  slot `own` (-1: a closed stream). */
  private countData(own: i32, n: i32): void {
    this.recvUnacked += n;
    if (own >= 0) this.stream(own).recvUnacked += n;
  }

  /** Gives consumed DATA bytes back where due (after a DATA frame, and on
   *  every pump: an update that found the control queue full is sent later,
   *  or a stream whose window ran out would wait forever). */
  private windowUpdates(): void {
    if (this.recvUnacked >= H2_CONN_WINDOW_UPDATE_AT && this.room(H2_FRAME_HEAD + 4)) {
      this.windowUpdate(0, this.recvUnacked);
      this.recvUnacked = 0;
    }
    for (let i = 0; i < this.streamCount; i++) {
      const st = this.stream(i);
      if (st.id != 0 && !st.ended && st.recvUnacked >= H2_STREAM_WINDOW_UPDATE_AT && this.room(H2_FRAME_HEAD + 4)) {
        this.windowUpdate(st.id, st.recvUnacked);
        st.recvUnacked = 0;
      }
    }
  }

  private windowUpdate(id: i32, inc: i32): void {
    const v = memory.data(4);
    writeU32(v, <u32>inc);
    this.frame(T_WINDOW_UPDATE, 0, id, v, 4);
  }

  private rstStream(id: i32): void {
    if (!this.room(H2_FRAME_HEAD + 4)) {
      // No room for the courtesy: the server's frames for it are dropped anyway.
      return;
    }
    const v = memory.data(4);
    writeU32(v, <u32>ERR_CANCEL);
    this.frame(T_RST_STREAM, 0, id, v, 4);
  }

  private room(n: i32): bool {
    return H2_CTL_CAP - this.ctlLen >= n;
  }

  /** Queues one control frame (the caller checked room()). */
  private frame(type: i32, flags: i32, id: i32, payload: usize, len: i32): void {
    const p = this.ctl + <usize>this.ctlLen;
    writeFrameHead(p, len, type, flags, id);
    if (len > 0) memory.copy(p + <usize>H2_FRAME_HEAD, payload, <usize>len);
    this.ctlLen += H2_FRAME_HEAD + len;
  }

  private queue(p: usize, n: i32): void {
    memory.copy(this.ctl + <usize>this.ctlLen, p, <usize>n);
    this.ctlLen += n;
  }

  /** Sends queued control frames unless a client is mid-frame. OK (maybe
   *  with some left) or an error (the connection is then gone). */
  private flush(): i32 {
    if (this.sender >= 0) return OK;
    while (this.ctlSent < this.ctlLen) {
      const n = net_send(this.handle, this.ctl + <usize>this.ctlSent, this.ctlLen - this.ctlSent);
      if (n == E_AGAIN || n == 0) return OK;
      if (n < 0) {
        this.reset(n);
        return n;
      }
      this.ctlSent += n;
    }
    this.ctlLen = 0;
    this.ctlSent = 0;
    return OK;
  }
}

/** Rewrites the HTTP/1.1 request of `len` bytes at base + H2_REQUEST_RESERVE
 *  (RequestWriter's output) in place into a HEADERS frame and, when there is
 *  a body, one DATA frame (stream id 0 until h2SetStream; the DATA frame's
 *  offset is left in h2DataOffset, 0 without one) (§8.3.1: :method, :scheme,
 *  :authority from Host, :path; field names lowercased; connection-specific
 *  fields dropped, §8.2.2). Returns the frames' total length at base, or
 *  E_INVAL (Host is not the first field; RequestWriter always puts it
 *  first) or E_TOOLARGE (the rewrite would overtake its input). */
/** Offset of the DATA frame h2Transcode wrote last (0: none), and of the
 *  :path value in its HEADERS frame (the target, still readable for logs). */
export let h2DataOffset: i32 = 0;
export let h2PathOffset: i32 = 0;
export let h2PathLen: i32 = 0;

export function h2Transcode(base: usize, len: i32, tls: bool): i32 {
  const id = 0;
  h2DataOffset = 0;
  let ip = base + <usize>H2_REQUEST_RESERVE;
  const end = ip + <usize>len;
  let op = base + <usize>H2_FRAME_HEAD;
  // Request line: method SP target SP version CRLF (RFC 9112 §3).
  const sp1 = indexOfByte(ip, len, 0x20);
  if (sp1 <= 0) return E_INVAL;
  const target = ip + <usize>(sp1 + 1);
  const sp2 = indexOfByte(target, <i32>(end - target), 0x20);
  if (sp2 <= 0) return E_INVAL;
  const eol = indexOfByte(target, <i32>(end - target), 0x0a);
  if (eol < 0) return E_INVAL;
  const lineEnd = target + <usize>(eol + 1);
  if (bytesEqualLit(ip, sp1, utf8("GET"))) store<u8>(op++, 0x82); // static 2 (Appendix A)
  else if (bytesEqualLit(ip, sp1, utf8("POST"))) store<u8>(op++, 0x83); // static 3
  else {
    store<u8>(op++, 0x02); // literal without indexing, name :method (static 2)
    op = putString(op, ip, sp1);
    if (op == 0) return E_TOOLARGE;
  }
  store<u8>(op++, tls ? 0x87 : 0x86); // :scheme https / http (static 7 / 6)
  if (op + 1 > target) return E_TOOLARGE;
  store<u8>(op++, 0x04); // literal without indexing, name :path (static 4)
  h2PathOffset = <i32>(op - base) + hpackIntLen(sp2, 7);
  h2PathLen = sp2;
  op = putString(op, target, sp2);
  if (op == 0) return E_TOOLARGE;
  ip = lineEnd;
  let first = true;
  let body: usize = 0;
  while (ip < end) {
    const rest = <i32>(end - ip);
    const nl = indexOfByte(ip, rest, 0x0a);
    if (nl < 0) return E_INVAL;
    let lineLen = nl;
    if (lineLen > 0 && load<u8>(ip + <usize>(lineLen - 1)) == 0x0d) lineLen--;
    const next = ip + <usize>(nl + 1);
    if (lineLen == 0) {
      body = next;
      break;
    }
    const colon = indexOfByte(ip, lineLen, 0x3a);
    if (colon <= 0) return E_INVAL;
    let v = ip + <usize>(colon + 1);
    let vEnd = ip + <usize>lineLen;
    while (v < vEnd && (load<u8>(v) == 0x20 || load<u8>(v) == 0x09)) v++;
    while (vEnd > v && (load<u8>(vEnd - 1) == 0x20 || load<u8>(vEnd - 1) == 0x09)) vEnd--;
    const vLen = <i32>(vEnd - v);
    if (bytesEqualLitNoCase(ip, colon, utf8("host"))) {
      if (!first) return E_INVAL; // a pseudo-field after a regular one is malformed (§8.3)
      if (op + 1 > ip) return E_TOOLARGE;
      store<u8>(op++, 0x01); // literal without indexing, name :authority (static 1)
      op = putString(op, v, vLen);
      if (op == 0) return E_TOOLARGE;
    } else if (!connectionSpecific(ip, colon)) {
      if (op + 1 > ip) return E_TOOLARGE;
      store<u8>(op++, 0x00); // literal without indexing, new name (§6.2.2)
      const name = op + <usize>hpackIntLen(colon, 7);
      op = putString(op, ip, colon);
      if (op == 0) return E_TOOLARGE;
      for (let p = name; p < op; p++) store<u8>(p, <u8>lowerAscii(<u32>load<u8>(p)));
      op = putString(op, v, vLen);
      if (op == 0) return E_TOOLARGE;
    }
    first = false;
    ip = next;
  }
  if (body == 0) return E_INVAL;
  const blockLen = <i32>(op - base) - H2_FRAME_HEAD;
  const bodyLen = <i32>(end - body);
  writeFrameHead(base, blockLen, T_HEADERS, F_END_HEADERS | (bodyLen == 0 ? F_END_STREAM : 0), id);
  if (bodyLen == 0) return <i32>(op - base);
  if (op + <usize>H2_FRAME_HEAD > body) return E_TOOLARGE;
  writeFrameHead(op, bodyLen, T_DATA, F_END_STREAM, id);
  memory.copy(op + <usize>H2_FRAME_HEAD, body, <usize>bodyLen);
  h2DataOffset = <i32>(op - base);
  return <i32>(op - base) + H2_FRAME_HEAD + bodyLen;
}

/** Puts stream `id` into the frames h2Transcode wrote at base (HEADERS, and
 *  DATA at dataOffset when not 0). */
export function h2SetStream(base: usize, dataOffset: i32, id: i32): void {
  writeU32(base + 5, <u32>id);
  if (dataOffset > 0) writeU32(base + <usize>(dataOffset + 5), <u32>id);
}

/** Writes a string literal (no Huffman) at op from src, which may overlap
 *  at or after op + its length prefix; returns the new op, or 0 when the
 *  prefix would overwrite src. */
function putString(op: usize, src: usize, n: i32): usize {
  const k = hpackIntLen(n, 7);
  if (op + <usize>k > src) return 0;
  hpackIntWrite(op, n, 7, 0);
  memory.copy(op + <usize>k, src, <usize>n);
  return op + <usize>(k + n);
}

/** Fields HTTP/2 forbids (RFC 9113 §8.2.2). */
function connectionSpecific(p: usize, n: i32): bool {
  return bytesEqualLitNoCase(p, n, utf8("connection")) || bytesEqualLitNoCase(p, n, utf8("keep-alive")) ||
    bytesEqualLitNoCase(p, n, utf8("proxy-connection")) || bytesEqualLitNoCase(p, n, utf8("transfer-encoding")) ||
    bytesEqualLitNoCase(p, n, utf8("upgrade"));
}

function writeFrameHead(p: usize, len: i32, type: i32, flags: i32, id: i32): void {
  store<u8>(p, <u8>(len >> 16));
  store<u8>(p + 1, <u8>(len >> 8));
  store<u8>(p + 2, <u8>len);
  store<u8>(p + 3, <u8>type);
  store<u8>(p + 4, <u8>flags);
  writeU32(p + 5, <u32>id & 0x7fffffff);
}

function writeU32(p: usize, v: u32): void {
  store<u8>(p, <u8>(v >> 24));
  store<u8>(p + 1, <u8>(v >> 16));
  store<u8>(p + 2, <u8>(v >> 8));
  store<u8>(p + 3, <u8>v);
}

function readU32(p: usize): u32 {
  return (<u32>load<u8>(p) << 24) | (<u32>load<u8>(p + 1) << 16) | (<u32>load<u8>(p + 2) << 8) | <u32>load<u8>(p + 3);
}

/** A 31-bit value whose reserved top bit is ignored (§4.1, §6.9). */
function readU31(p: usize): i32 {
  return <i32>(readU32(p) & 0x7fffffff);
}
