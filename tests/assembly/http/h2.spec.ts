import { HttpClient, HTTP_BODY, HTTP_DONE, HTTP_IDLE, HTTP_PENDING, newSharedConn } from "../../../assembly/http/client";
import { H2Conn } from "../../../assembly/http/h2";
import { NET_CLIENT_CERT, NET_TLS } from "../../../assembly/host/imports";
import { E_CLOSED, E_MALFORMED, E_TIMEOUT, E_TOOLARGE, OK } from "../../../assembly/util/errors";
import { H2_STREAM_WINDOW, HTTP_RESPONSE_DEADLINE_MS } from "../../../assembly/util/limits";
import {
  fake_reset, fake_last_handle, fake_connect_complete, fake_push_inbound, fake_outbound_len, fake_outbound_take,
  fake_connect_count, fake_is_open, fake_auto_connect, fake_send_limit, fakeAlpn, fakePush, fakeTakeOutbound,
} from "../../fakes/fake";
import { settle } from "../../fakes/requests";

// Frame types and flags (RFC 9113 §6).
const DATA = 0;
const HEADERS = 1;
const RST_STREAM = 3;
const SETTINGS = 4;
const PING = 6;
const GOAWAY = 7;
const WINDOW_UPDATE = 8;
const END_STREAM = 1;
const ACK = 1;
const END_HEADERS = 4;
const PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

class Frame {
  constructor(public type: i32, public flags: i32, public id: i32, public payload: Uint8Array) {}
}

function frame(type: i32, flags: i32, id: i32, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(9 + payload.length);
  const n = payload.length;
  b[0] = <u8>(n >> 16); b[1] = <u8>(n >> 8); b[2] = <u8>n;
  b[3] = <u8>type; b[4] = <u8>flags;
  b[5] = <u8>(id >> 24); b[6] = <u8>(id >> 16); b[7] = <u8>(id >> 8); b[8] = <u8>id;
  b.set(payload, 9);
  return b;
}

function push(h: i32, b: Uint8Array): void {
  fake_push_inbound(h, b.dataStart, b.length);
}

function text(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

function be32(v: u32): Uint8Array {
  const b = new Uint8Array(4);
  b[0] = <u8>(v >> 24); b[1] = <u8>(v >> 16); b[2] = <u8>(v >> 8); b[3] = <u8>v;
  return b;
}

/** A response header block: :status (indexed when in the static table) and
 *  a date in a literal with static name 33, neither Huffman-coded. */
function responseBlock(status: i32): Uint8Array {
  const date = "Sun, 06 Nov 1994 08:49:37 GMT";
  const b = new Uint8Array(64);
  let n = 0;
  if (status == 200) b[n++] = 0x88;
  else if (status == 404) b[n++] = 0x8d;
  else {
    b[n++] = 0x08; // literal without indexing, name :status (static 8)
    b[n++] = 3;
    const s = status.toString();
    for (let i = 0; i < 3; i++) b[n++] = <u8>s.charCodeAt(i);
  }
  b[n++] = 0x0f; b[n++] = 0x12; // literal without indexing, name date (static 33)
  b[n++] = <u8>date.length;
  for (let i = 0; i < date.length; i++) b[n++] = <u8>date.charCodeAt(i);
  return b.subarray(0, n);
}

/** Everything sent on h: the preface (checked and dropped) and frames. */
function sentFrames(h: i32): Frame[] {
  const n = fake_outbound_len(h);
  const out: Frame[] = [];
  if (n <= 0) return out;
  const b = new Uint8Array(n);
  fake_outbound_take(h, b.dataStart, n);
  let p = 0;
  if (n >= 24 && String.UTF8.decodeUnsafe(b.dataStart, 24) == PREFACE) p = 24;
  while (p + 9 <= n) {
    const len = (<i32>b[p] << 16) | (<i32>b[p + 1] << 8) | <i32>b[p + 2];
    const id = ((<i32>b[p + 5] & 0x7f) << 24) | (<i32>b[p + 6] << 16) | (<i32>b[p + 7] << 8) | <i32>b[p + 8];
    out.push(new Frame(b[p + 3], b[p + 4], id, b.slice(p + 9, p + 9 + len)));
    p += 9 + len;
  }
  expect(p).toBe(n); // no partial frame
  return out;
}

/** Starts a watch on w over a connection that opens at once; its handle. */
function watchStarted(w: HttpClient): i32 {
  fake_auto_connect(1);
  expect(get(w, "/watch", 0, true)).toBe(OK);
  expect(w.poll(0)).toBe(HTTP_PENDING);
  return fake_last_handle();
}

/** The increments of every WINDOW_UPDATE for `id` in fs. */
function windowBack(fs: Frame[], id: i32): i32 {
  let n = 0;
  for (let i = 0; i < fs.length; i++) {
    const p = fs[i].payload;
    if (fs[i].type == WINDOW_UPDATE && fs[i].id == id) n += (<i32>p[1] << 16) | (<i32>p[2] << 8) | <i32>p[3];
  }
  return n;
}

function findFrame(fs: Frame[], type: i32, id: i32): Frame | null {
  for (let i = 0; i < fs.length; i++) if (fs[i].type == type && fs[i].id == id) return fs[i];
  return null;
}

function hpInt(b: Uint8Array, pos: i32[], prefix: i32): i32 {
  const max = (1 << prefix) - 1;
  let v = <i32>b[pos[0]++] & max;
  if (v < max) return v;
  let shift = 0;
  while (true) {
    const c = <i32>b[pos[0]++];
    v += (c & 0x7f) << shift;
    shift += 7;
    if ((c & 0x80) == 0) return v;
  }
  return v;
}

function hpStr(b: Uint8Array, pos: i32[]): string {
  expect(b[pos[0]] & 0x80).toBe(0); // the client never Huffman-codes
  const n = hpInt(b, pos, 7);
  const s = String.UTF8.decodeUnsafe(b.dataStart + <usize>pos[0], <usize>n);
  pos[0] += n;
  return s;
}

/** The client's request block as "name: value" lines (it uses static
 *  indexed :method/:scheme and literals without indexing only). */
function requestFields(block: Uint8Array): string {
  const names = new Map<i32, string>();
  names.set(1, ":authority"); names.set(2, ":method"); names.set(4, ":path");
  let s = "";
  const pos: i32[] = [0];
  while (pos[0] < block.length) {
    const c = <i32>block[pos[0]];
    if (c == 0x82) { s += ":method: GET\n"; pos[0]++; continue; }
    if (c == 0x83) { s += ":method: POST\n"; pos[0]++; continue; }
    if (c == 0x87) { s += ":scheme: https\n"; pos[0]++; continue; }
    if (c == 0x86) { s += ":scheme: http\n"; pos[0]++; continue; }
    expect(c & 0xf0).toBe(0); // literal without indexing
    const idx = hpInt(block, pos, 4);
    const name = idx == 0 ? hpStr(block, pos) : names.get(idx);
    s += name + ": " + hpStr(block, pos) + "\n";
  }
  return s;
}


function get(c: HttpClient, path: string, now: i64, streaming: bool = false): i32 {
  c.begin("GET", path);
  c.req.finish(0, 0);
  return c.send(now, streaming);
}

function client(conn: H2Conn): HttpClient {
  const c = new HttpClient(1024, 256);
  expect(c.share(conn)).toBe(OK);
  expect(c.configure("k3s.example", 6443, NET_TLS | NET_CLIENT_CERT)).toBe(OK);
  return c;
}

describe("HTTP/2 client (RFC 9113)", () => {
  beforeEach(() => {
    fake_reset();
    fakeAlpn("h2");
  });

  it("speaks HTTP/2 once the server picks h2: preface, SETTINGS, a request, its response", () => {
    const conn = newSharedConn();
    const c = client(conn);
    expect(get(c, "/api/v1/nodes/a", 0)).toBe(OK);
    const h = fake_last_handle();
    expect(c.poll(1)).toBe(HTTP_PENDING); // handshake still running: nothing sent
    expect(fake_outbound_len(h)).toBe(0);
    fake_connect_complete(h, 0);
    fake_send_limit(5); // partial sends
    expect(settle(c, 2, 40)).toBe("pending ");
    expect(c.http2).toBe(true);
    const fs = sentFrames(h);
    expect(fs.length).toBe(2);
    expect(fs[0].type).toBe(SETTINGS);
    expect(fs[0].id).toBe(0);
    // SETTINGS_HEADER_TABLE_SIZE 0, SETTINGS_ENABLE_PUSH 0, SETTINGS_INITIAL_WINDOW_SIZE.
    expect(fs[0].payload.length).toBe(18);
    expect(fs[0].payload[1]).toBe(1);
    expect(fs[0].payload[7]).toBe(2);
    expect(fs[0].payload[13]).toBe(4);
    expect(<i32>fs[0].payload[16] * 256 + fs[0].payload[17]).toBe(H2_STREAM_WINDOW);
    expect(fs[1].type).toBe(HEADERS);
    expect(fs[1].id).toBe(1);
    expect(fs[1].flags).toBe(END_HEADERS | END_STREAM);
    expect(requestFields(fs[1].payload)).toBe(":method: GET\n:scheme: https\n:path: /api/v1/nodes/a\n:authority: k3s.example:6443\n");
    // The server's SETTINGS, then the response in HEADERS + two DATA frames.
    push(h, frame(SETTINGS, 0, 0, new Uint8Array(0)));
    push(h, frame(HEADERS, END_HEADERS, 1, responseBlock(200)));
    push(h, frame(DATA, 0, 1, text("hel")));
    push(h, frame(DATA, END_STREAM, 1, text("lo")));
    expect(settle(c, 3, 10)).toBe("done 200 hello");
    expect(c.dateUnixMs).toBe(784111777000);
    const acks = sentFrames(h);
    expect(acks.length).toBe(1);
    expect(acks[0].type).toBe(SETTINGS);
    expect(acks[0].flags).toBe(ACK);
    // A second request: the next odd stream on the same connection.
    fake_send_limit(0);
    expect(get(c, "/two", 4)).toBe(OK);
    expect(c.poll(4)).toBe(HTTP_PENDING);
    const again = sentFrames(h);
    expect(again.length).toBe(1);
    expect(again[0].id).toBe(3);
    push(h, frame(HEADERS, END_HEADERS | END_STREAM, 3, responseBlock(404)));
    expect(settle(c, 5)).toBe("done 404 ");
    expect(fake_connect_count()).toBe(1);
  });

  it("carries a POST body in a DATA frame, names lowercased, connection fields dropped", () => {
    const conn = newSharedConn();
    const c = client(conn);
    fake_auto_connect(1);
    c.begin("POST", "/api/v1/namespaces/default/events");
    c.req.header("Content-Type", "application/json");
    c.req.header("Connection", "keep-alive");
    c.req.header("X-Long", "v".repeat(300));
    c.req.finish(changetype<usize>(String.UTF8.encode("{\"a\":1}")), 7);
    expect(c.send(0)).toBe(OK);
    expect(c.poll(0)).toBe(HTTP_PENDING);
    const fs = sentFrames(fake_last_handle());
    const hd = findFrame(fs, HEADERS, 1)!;
    expect(hd.flags).toBe(END_HEADERS);
    expect(requestFields(hd.payload)).toBe(
      ":method: POST\n:scheme: https\n:path: /api/v1/namespaces/default/events\n:authority: k3s.example:6443\n" +
      "content-type: application/json\nx-long: " + "v".repeat(300) + "\ncontent-length: 7\n");
    const d = findFrame(fs, DATA, 1)!;
    expect(d.flags).toBe(END_STREAM);
    expect(String.UTF8.decodeUnsafe(d.payload.dataStart, 7)).toBe("{\"a\":1}");
    expect(c.targetLen).toBe(33); // the log still sees the target
    expect(String.UTF8.decodeUnsafe(c.targetPtr, <usize>c.targetLen)).toBe("/api/v1/namespaces/default/events");
  });

  it("multiplexes clients on one connection; a frame waits for its own client", () => {
    const conn = newSharedConn();
    const a = client(conn);
    const w = client(conn);
    fake_auto_connect(1);
    expect(get(w, "/watch", 0, true)).toBe(OK);
    expect(w.poll(0)).toBe(HTTP_PENDING);
    expect(get(a, "/lease", 0)).toBe(OK);
    expect(a.poll(0)).toBe(HTTP_PENDING);
    expect(fake_connect_count()).toBe(1);
    const h = fake_last_handle();
    const fs = sentFrames(h);
    expect(findFrame(fs, HEADERS, 1)).not.toBeNull();
    expect(findFrame(fs, HEADERS, 3)).not.toBeNull();
    expect(conn.openStreams).toBe(2);
    push(h, frame(HEADERS, END_HEADERS, 1, responseBlock(200)));
    push(h, frame(DATA, 0, 1, text("{\"type\":\"ADDED\"}")));
    push(h, frame(HEADERS, END_HEADERS, 3, responseBlock(200)));
    push(h, frame(DATA, END_STREAM, 3, text("lease")));
    // The lease client reads first: the watch's DATA is at the head.
    expect(a.poll(1)).toBe(HTTP_PENDING);
    expect(conn.backlog).toBe(true);
    expect(w.poll(1)).toBe(HTTP_BODY);
    expect(String.UTF8.decodeUnsafe(w.bodyPtr, <usize>w.bodyLen)).toBe("{\"type\":\"ADDED\"}");
    expect(settle(a, 1)).toBe("done 200 lease");
    expect(w.poll(2)).toBe(HTTP_PENDING); // the watch stays open
    expect(conn.openStreams).toBe(1);
    // The watch ends: RST_STREAM CANCEL; its late frames are dropped.
    w.close();
    const rst = findFrame(sentFrames(h), RST_STREAM, 1);
    expect(rst).not.toBeNull();
    expect(rst!.payload[3]).toBe(8);
    push(h, frame(DATA, 0, 1, text("late")));
    expect(get(a, "/lease", 3)).toBe(OK);
    expect(a.poll(3)).toBe(HTTP_PENDING);
    push(h, frame(HEADERS, END_HEADERS | END_STREAM, 5, responseBlock(200)));
    expect(settle(a, 4)).toBe("done 200 ");
    expect(fake_connect_count()).toBe(1);
  });

  it("answers PING, and gives back flow-control window as DATA is read", () => {
    const w = client(newSharedConn());
    const h = watchStarted(w);
    sentFrames(h);
    push(h, frame(PING, 0, 0, text("12345678")));
    push(h, frame(HEADERS, END_HEADERS, 1, responseBlock(200)));
    // Frames as Go sends them: none larger than the window left.
    const big = new Uint8Array(H2_STREAM_WINDOW);
    big.fill(0x61);
    let got = 0;
    let streamBack = 0;
    let connBack = 0;
    for (let f = 0; f < 5; f++) {
      push(h, frame(DATA, 0, 1, big));
      for (let i = 0; i < 200; i++) {
        const r = w.poll(1);
        if (r == HTTP_BODY) got += w.bodyLen;
        else break;
      }
      const fs = sentFrames(h);
      if (f == 0) {
        const pong = findFrame(fs, PING, 0)!;
        expect(pong.flags).toBe(ACK);
        expect(String.UTF8.decodeUnsafe(pong.payload.dataStart, 8)).toBe("12345678");
      }
      // The stream's window comes back as each frame is read (from half of it).
      expect(windowBack(fs, 1)).toBeGreaterThanOrEqual(H2_STREAM_WINDOW / 2);
      streamBack += windowBack(fs, 1);
      connBack += windowBack(fs, 0);
    }
    expect(got).toBe(5 * H2_STREAM_WINDOW);
    // All but less than half a window is back; the connection's from a
    // quarter of its 65,535 bytes, so not before the fifth frame.
    expect(streamBack).toBeGreaterThan(5 * H2_STREAM_WINDOW - H2_STREAM_WINDOW / 2);
    expect(connBack).toBeGreaterThanOrEqual(16384);
  });

  it("sends a window update that found the control queue full on a later poll", () => {
    const w = client(newSharedConn());
    const h = watchStarted(w);
    push(h, frame(HEADERS, END_HEADERS, 1, responseBlock(200)));
    expect(w.poll(1)).toBe(HTTP_PENDING);
    sentFrames(h);
    // Nothing leaves while the host takes no bytes: the queue fills with PING
    // answers (17 bytes each), and the update does not fit after the DATA.
    fake_send_limit(-1);
    for (let i = 0; i < 5; i++) push(h, frame(PING, 0, 0, text("12345678")));
    const big = new Uint8Array(H2_STREAM_WINDOW);
    push(h, frame(DATA, 0, 1, big));
    let got = 0;
    for (let i = 0; i < 50; i++) {
      const r = w.poll(2);
      if (r == HTTP_BODY) got += w.bodyLen;
    }
    expect(got).toBe(H2_STREAM_WINDOW);
    fake_send_limit(0);
    for (let i = 0; i < 5; i++) w.poll(3);
    expect(windowBack(sentFrames(h), 1)).toBe(H2_STREAM_WINDOW);
  });

  it("retries an idempotent request after RST_STREAM or GOAWAY, not a POST", () => {
    const conn = newSharedConn();
    const c = client(conn);
    fake_auto_connect(1);
    expect(get(c, "/a", 0)).toBe(OK);
    expect(c.poll(0)).toBe(HTTP_PENDING);
    const h = fake_last_handle();
    push(h, frame(RST_STREAM, 0, 1, be32(7))); // REFUSED_STREAM
    expect(c.poll(1)).toBe(HTTP_PENDING);
    expect(c.poll(1)).toBe(HTTP_PENDING);
    expect(findFrame(sentFrames(h), HEADERS, 3)).not.toBeNull();
    push(h, frame(HEADERS, END_HEADERS | END_STREAM, 3, responseBlock(200)));
    expect(settle(c, 1)).toBe("done 200 ");
    // GOAWAY: the connection is renewed and the GET goes again on the new one.
    expect(get(c, "/b", 2)).toBe(OK);
    expect(c.poll(2)).toBe(HTTP_PENDING);
    const ga = new Uint8Array(8);
    push(h, frame(GOAWAY, 0, 0, ga));
    expect(c.poll(2)).toBe(HTTP_PENDING);
    expect(c.poll(2)).toBe(HTTP_PENDING);
    expect(fake_is_open(h)).toBe(0);
    expect(fake_connect_count()).toBe(2);
    const h2 = fake_last_handle();
    expect(findFrame(sentFrames(h2), HEADERS, 1)).not.toBeNull();
    push(h2, frame(HEADERS, END_HEADERS | END_STREAM, 1, responseBlock(200)));
    expect(settle(c, 3)).toBe("done 200 ");
    // A POST is not sent twice.
    c.begin("POST", "/e");
    c.req.finish(changetype<usize>(String.UTF8.encode("{}")), 2);
    expect(c.send(4)).toBe(OK);
    expect(c.poll(4)).toBe(HTTP_PENDING);
    push(h2, frame(RST_STREAM, 0, 3, be32(2)));
    expect(settle(c, 5)).toBe("error " + E_CLOSED.toString() + " ");
  });

  it("finishes the streams a GOAWAY keeps (a 401 to an unknown token), then renews the connection", () => {
    const conn = newSharedConn();
    const c = client(conn);
    const w = client(conn);
    fake_auto_connect(1);
    get(w, "/watch", 0, true);
    expect(w.poll(0)).toBe(HTTP_PENDING);
    c.begin("POST", "/csr");
    c.req.finish(changetype<usize>(String.UTF8.encode("{}")), 2);
    expect(c.send(0)).toBe(OK);
    expect(c.poll(0)).toBe(HTTP_PENDING);
    const h = fake_last_handle();
    push(h, frame(HEADERS, END_HEADERS, 1, responseBlock(200)));
    // The server took streams up to 3 and says goodbye before answering.
    const ga = new Uint8Array(8);
    ga.set(be32(3), 0);
    push(h, frame(GOAWAY, 0, 0, ga));
    push(h, frame(HEADERS, END_HEADERS, 3, responseBlock(401)));
    push(h, frame(DATA, END_STREAM, 3, text("{\"code\":401}")));
    expect(settle(c, 1)).toBe("done 401 {\"code\":401}");
    expect(fake_connect_count()).toBe(1);
    // A new request waits while the watch drains, then goes on a new connection.
    expect(get(c, "/b", 100)).toBe(OK);
    expect(c.poll(100)).toBe(HTTP_PENDING);
    expect(fake_connect_count()).toBe(1);
    expect(c.poll(2001)).toBe(HTTP_PENDING);
    expect(fake_connect_count()).toBe(2);
    expect(fake_is_open(h)).toBe(0);
    expect(w.poll(2001)).toBe(E_CLOSED); // the watch is retried by its owner
  });

  it("falls back to HTTP/1.1 on the same connection when the server picks it", () => {
    fakeAlpn("http/1.1");
    const conn = newSharedConn();
    const a = client(conn);
    const b = client(conn);
    fake_auto_connect(1);
    expect(get(a, "/a", 0)).toBe(OK);
    expect(a.poll(0)).toBe(HTTP_PENDING);
    const h = fake_last_handle();
    expect(a.http2).toBe(false);
    expect(fakeTakeOutbound(h)).toBe("GET /a HTTP/1.1\r\nHost: k3s.example:6443\r\n\r\n");
    expect(get(b, "/b", 0)).toBe(OK);
    expect(b.poll(0)).toBe(HTTP_PENDING);
    expect(fake_connect_count()).toBe(2); // its own connection
    fakePush(h, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    expect(settle(a, 1)).toBe("done 200 ok");
  });

  it("fails the stream on a header block too large, the connection on a bad frame", () => {
    const conn = newSharedConn();
    const a = client(conn);
    const b = client(conn);
    fake_auto_connect(1);
    get(a, "/a", 0);
    expect(a.poll(0)).toBe(HTTP_PENDING);
    get(b, "/b", 0);
    expect(b.poll(0)).toBe(HTTP_PENDING);
    const h = fake_last_handle();
    // 600 bytes of fields for stream 1 (literal new-name fields of 100 bytes).
    const blk = new Uint8Array(606);
    for (let i = 0; i < 6; i++) {
      blk[i * 101] = 0x00;
      blk[i * 101 + 1] = 1; blk[i * 101 + 2] = 0x78; // name "x"
      blk[i * 101 + 3] = 97; // value: 97 bytes
    }
    push(h, frame(HEADERS, END_HEADERS, 1, blk));
    expect(settle(a, 1)).toBe("error " + E_TOOLARGE.toString() + " ");
    expect(findFrame(sentFrames(h), RST_STREAM, 1)).not.toBeNull();
    // A frame longer than 16,384 bytes ends the connection for everyone.
    const head = new Uint8Array(9);
    head[0] = 0x01; head[1] = 0x00; head[2] = 0x00; head[3] = DATA; head[8] = 3;
    push(h, head);
    expect(settle(b, 2)).toBe("error " + E_MALFORMED.toString() + " ");
    expect(fake_is_open(h)).toBe(0);
  });

  it("ends a connection that stays silent past the deadline, only the stream when others talk", () => {
    const conn = newSharedConn();
    const a = client(conn);
    const w = client(conn);
    fake_auto_connect(1);
    get(w, "/watch", 0, true);
    expect(w.poll(0)).toBe(HTTP_PENDING);
    get(a, "/a", 0);
    expect(a.poll(0)).toBe(HTTP_PENDING);
    const h = fake_last_handle();
    // The watch hears from the server; the request on stream 3 never does.
    push(h, frame(HEADERS, END_HEADERS, 1, responseBlock(200)));
    expect(w.poll(HTTP_RESPONSE_DEADLINE_MS - 1)).toBe(HTTP_PENDING);
    expect(settle(a, HTTP_RESPONSE_DEADLINE_MS)).toBe("error " + E_TIMEOUT.toString() + " ");
    expect(fake_is_open(h)).toBe(1);
    expect(findFrame(sentFrames(h), RST_STREAM, 3)).not.toBeNull();
    // Now nothing at all for a whole deadline: the connection is presumed dead.
    get(a, "/a", HTTP_RESPONSE_DEADLINE_MS);
    expect(a.poll(HTTP_RESPONSE_DEADLINE_MS)).toBe(HTTP_PENDING);
    expect(settle(a, 3 * HTTP_RESPONSE_DEADLINE_MS)).toBe("error " + E_TIMEOUT.toString() + " ");
    expect(fake_is_open(h)).toBe(0);
    expect(w.poll(3 * HTTP_RESPONSE_DEADLINE_MS)).toBe(E_TIMEOUT);
  });
});
