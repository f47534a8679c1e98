// k3s' agent tunnel (assembly/kubelet/tunnel.ts) against the one host fake:
// the websocket upgrade, remotedialer messages both ways, what may be dialled.
import { NodeConfig } from "../../../assembly/k8s/config";
import { putVarint, readVarint, Tunnel } from "../../../assembly/kubelet/tunnel";
import { NET_CLIENT_CERT, NET_HTTP1, NET_TLS } from "../../../assembly/host/imports";
import { base64Encode } from "../../../assembly/util/base64";
import { OK } from "../../../assembly/util/errors";
import { sha1 } from "../../../assembly/util/sha1";
import {
  fake_reset, fake_auto_connect, fake_last_handle, fake_connect_count, fake_connect_flags, fake_connect_port,
  fake_outbound_len, fake_outbound_take, fake_push_inbound, fake_peer_close, fake_is_open, fakeConfig, fakeConnectHost,
  fakeLastLog, fakePush, fake_fail_next, FAKE_OP_CONNECT,
} from "../../fakes/fake";
import { E_UNSUPPORTED } from "../../../assembly/util/errors";

const T0: i64 = 1000;

function hex(p: usize, n: i32): string {
  let s = "";
  for (let i = 0; i < n; i++) {
    const b = load<u8>(p + <usize>i);
    s += (b < 16 ? "0" : "") + b.toString(16);
  }
  return s;
}

function sha1Hex(s: string): string {
  const b = String.UTF8.encode(s);
  const d = new Uint8Array(20);
  sha1(changetype<usize>(b), b.byteLength, d.dataStart);
  return hex(d.dataStart, 20);
}

function accept(key: string): string {
  const b = String.UTF8.encode(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
  const d = new Uint8Array(20);
  sha1(changetype<usize>(b), b.byteLength, d.dataStart);
  const out = new Uint8Array(28);
  base64Encode(d.dataStart, 20, out.dataStart, 28);
  return String.UTF8.decodeUnsafe(out.dataStart, 28);
}

/** A remotedialer message (message.go): id, connID, type[, deadline], body. */
function message(id: i64, conn: i64, type: i64, body: string): Uint8Array {
  const b = String.UTF8.encode(body);
  const out = new Uint8Array(48 + b.byteLength);
  let n = putVarint(out.dataStart, id);
  n += putVarint(out.dataStart + <usize>n, conn);
  n += putVarint(out.dataStart + <usize>n, type);
  if (type == 1 || type == 2) n += putVarint(out.dataStart + <usize>n, 15000);
  memory.copy(out.dataStart + <usize>n, changetype<usize>(b), <usize>b.byteLength);
  return out.subarray(0, n + b.byteLength);
}

/** A server frame (never masked): FIN + opcode, length, payload. */
function wsFrame(op: i32, payload: Uint8Array, fin: bool = true): Uint8Array {
  const n = payload.length;
  const head = n <= 125 ? 2 : 4;
  const f = new Uint8Array(head + n);
  f[0] = <u8>((fin ? 0x80 : 0) | op);
  if (n <= 125) f[1] = <u8>n;
  else { f[1] = 126; f[2] = <u8>(n >> 8); f[3] = <u8>n; }
  f.set(payload, head);
  return f;
}

function push(h: i32, b: Uint8Array): void {
  fake_push_inbound(h, b.dataStart, b.length);
}

class ClientFrame {
  constructor(public op: i32, public payload: Uint8Array) {}
}

/** The client's frames on h, unmasked (each must be masked, RFC 6455 5.3). */
function clientFrames(h: i32): ClientFrame[] {
  const n = fake_outbound_len(h);
  const out: ClientFrame[] = [];
  if (n <= 0) return out;
  const b = new Uint8Array(n);
  fake_outbound_take(h, b.dataStart, n);
  let p = 0;
  while (p + 2 <= n) {
    const op = b[p] & 0x0f;
    expect(b[p + 1] & 0x80).toBe(0x80);
    let len = <i32>(b[p + 1] & 0x7f);
    let q = p + 2;
    if (len == 126) { len = (<i32>b[p + 2] << 8) | <i32>b[p + 3]; q = p + 4; }
    const mask = b.subarray(q, q + 4);
    const pl = new Uint8Array(len);
    for (let i = 0; i < len; i++) pl[i] = b[q + 4 + i] ^ mask[i & 3];
    out.push(new ClientFrame(op, pl));
    p = q + 4 + len;
  }
  expect(p).toBe(n);
  return out;
}

function text(b: Uint8Array, from: i32): string {
  return String.UTF8.decodeUnsafe(b.dataStart + <usize>from, <usize>(b.length - from));
}

/** Length of the remotedialer header at the start of b (count varints). */
function headLen(b: Uint8Array, varints: i32): i32 {
  let seen = 0;
  for (let i = 0; i < b.length; i++) if ((b[i] & 0x80) == 0 && ++seen == varints) return i + 1;
  return -1;
}

function upgradeKey(req: string): string {
  const i = req.indexOf("Sec-WebSocket-Key: ");
  return req.substring(i + 19, req.indexOf("\r\n", i));
}

/** A tunnel opened on handle returned; the config is read from the fake. */
function opened(cfg: NodeConfig): Tunnel {
  const t = new Tunnel(cfg);
  t.step(true, NET_TLS | NET_CLIENT_CERT, T0);
  const h = fake_last_handle();
  const raw = new Uint8Array(fake_outbound_len(h));
  fake_outbound_take(h, raw.dataStart, raw.length);
  const req = text(raw, 0);
  expect(req.startsWith("GET /v1-k3s/connect HTTP/1.1\r\nHost: api.example:6443\r\n")).toBe(true);
  expect(req.includes("Upgrade: websocket\r\n")).toBe(true);
  expect(req.includes("Sec-WebSocket-Version: 13\r\n")).toBe(true);
  fakePush(h, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
    accept(upgradeKey(req)) + "\r\n\r\n");
  t.step(true, NET_TLS | NET_CLIENT_CERT, T0 + 1);
  expect(t.open).toBe(true);
  return t;
}

function config(): NodeConfig {
  fakeConfig("node.name", "pico-a");
  fakeConfig("server.host", "api.example");
  fakeConfig("node.ip", "192.0.2.10");
  fakeConfig("kubelet.port", "10250");
  const cfg = new NodeConfig();
  expect(cfg.load()).toBe(OK);
  return cfg;
}

describe("SHA-1 and varints", () => {
  it("hashes the FIPS 180 examples and makes RFC 6455's accept value", () => {
    expect(sha1Hex("abc")).toBe("a9993e364706816aba3e25717850c26c9cd0d89d");
    expect(sha1Hex("")).toBe("da39a3ee5e6b4b0d3255bfef95601890afd80709");
    expect(sha1Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).toBe("84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    expect(accept("dGhlIHNhbXBsZSBub25jZQ==")).toBe("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });

  it("writes and reads Go's zigzag varints", () => {
    const b = new Uint8Array(16);
    expect(putVarint(b.dataStart, 1)).toBe(1);
    expect(b[0]).toBe(2);
    expect(putVarint(b.dataStart, -1)).toBe(1);
    expect(b[0]).toBe(1);
    expect(putVarint(b.dataStart, 15000)).toBe(3);
    expect(hex(b.dataStart, 3)).toBe("b0ea01");
    const n = putVarint(b.dataStart, -123456789);
    putVarint(b.dataStart + <usize>n, 7);
    expect(readVarint(b.dataStart, 16, 0)).toBe(-123456789);
    expect(readVarint(b.dataStart, 16, 1)).toBe(7);
  });
});

describe("k3s agent tunnel", () => {
  beforeEach(() => { fake_reset(); fake_auto_connect(1); });

  it("upgrades with the node's certificate, HTTP/1.1 only, and checks the accept value", () => {
    const cfg = config();
    const t = opened(cfg);
    const h = fake_last_handle();
    expect(fake_connect_flags(h)).toBe(NET_TLS | NET_CLIENT_CERT | NET_HTTP1);
    expect(fake_connect_port(h)).toBe(6443);
    expect(fakeConnectHost(h)).toBe("api.example");
    expect(fakeLastLog().includes("tunnel: open to api.example:6443")).toBe(true);
    // A wrong accept value is refused.
    fake_reset();
    fake_auto_connect(1);
    const u = new Tunnel(config());
    u.step(true, NET_TLS | NET_CLIENT_CERT, T0);
    const h2 = fake_last_handle();
    fakePush(h2, "HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
    u.step(true, NET_TLS | NET_CLIENT_CERT, T0 + 1);
    expect(u.open).toBe(false);
    expect(fakeLastLog().includes("wrong Sec-WebSocket-Accept")).toBe(true);
    expect(fake_is_open(h2)).toBe(0);
  });

  it("pipes a connection the server asks for to the kubelet endpoint, and back", () => {
    const cfg = config();
    const t = opened(cfg);
    const h = fake_last_handle();
    push(h, wsFrame(2, message(11, 5, 2, "tcp/127.0.0.1:10250")));
    t.step(true, NET_TLS | NET_CLIENT_CERT, T0 + 2);
    expect(fake_connect_count()).toBe(2);
    const local = fake_last_handle();
    expect(fakeConnectHost(local)).toBe("127.0.0.1");
    expect(fake_connect_port(local)).toBe(10250);
    expect(fake_connect_flags(local)).toBe(0); // the API server's TLS runs inside
    expect(t.piped).toBe(1);
    // Server -> kubelet: a Data message split over two frames.
    const data = message(12, 5, 1, "\x16\x03\x01hello kubelet");
    const cut = data.length - 5;
    push(h, wsFrame(2, data.subarray(0, cut), false));
    push(h, wsFrame(0, data.subarray(cut)));
    t.step(true, NET_TLS | NET_CLIENT_CERT, T0 + 3);
    const got = new Uint8Array(fake_outbound_len(local));
    fake_outbound_take(local, got.dataStart, got.length);
    expect(text(got, 0)).toBe("\x16\x03\x01hello kubelet");
    // Kubelet -> server: one Data message for connection 5.
    fakePush(local, "answer bytes");
    t.step(true, NET_TLS | NET_CLIENT_CERT, T0 + 4);
    const fs = clientFrames(h);
    expect(fs.length).toBe(1);
    expect(fs[0].op).toBe(2);
    const m = fs[0].payload;
    expect(readVarint(m.dataStart, m.length, 1)).toBe(5);
    expect(readVarint(m.dataStart, m.length, 2)).toBe(1);
    expect(text(m, headLen(m, 4))).toBe("answer bytes");
    // The kubelet endpoint closes: Error "EOF", a clean close for remotedialer.
    fake_peer_close(local);
    t.step(true, NET_TLS | NET_CLIENT_CERT, T0 + 5);
    const end = clientFrames(h);
    expect(end.length).toBe(1);
    expect(readVarint(end[0].payload.dataStart, end[0].payload.length, 2)).toBe(3);
    expect(text(end[0].payload, headLen(end[0].payload, 3))).toBe("EOF");
    expect(fake_is_open(local)).toBe(0);
  });

  it("refuses anything but its own kubelet port, answers pings, pings when quiet", () => {
    const cfg = config();
    const t = opened(cfg);
    const h = fake_last_handle();
    push(h, wsFrame(2, message(1, 7, 2, "tcp/10.0.0.1:22")));
    push(h, wsFrame(0x9, Uint8Array.wrap(String.UTF8.encode("hi"))));
    t.step(true, NET_TLS | NET_CLIENT_CERT, T0 + 2);
    expect(fake_connect_count()).toBe(1);
    expect(fakeLastLog().includes("refused a connection to tcp/10.0.0.1:22")).toBe(true);
    let fs = clientFrames(h);
    expect(fs.length).toBe(2);
    expect(readVarint(fs[0].payload.dataStart, fs[0].payload.length, 2)).toBe(3);
    expect(text(fs[0].payload, headLen(fs[0].payload, 3))).toBe("connection not allowed");
    expect(fs[1].op).toBe(0xa);
    expect(text(fs[1].payload, 0)).toBe("hi");
    // The node's own IP on the kubelet port is fine.
    push(h, wsFrame(2, message(2, 8, 2, "tcp/192.0.2.10:10250")));
    t.step(true, NET_TLS | NET_CLIENT_CERT, T0 + 3);
    expect(fake_connect_count()).toBe(2);
    // Quiet for 15 s: a ping.
    t.step(true, NET_TLS | NET_CLIENT_CERT, T0 + 15002);
    fs = clientFrames(h);
    expect(fs.length).toBe(1);
    expect(fs[0].op).toBe(0x9);
    // Nothing from the server for 60 s: the tunnel is renewed.
    t.step(true, NET_TLS | NET_CLIENT_CERT, T0 + 61000);
    expect(t.open).toBe(false);
    expect(fake_is_open(h)).toBe(0);
  });

  it("a server without the tunnel (404): says so once and waits 10 minutes", () => {
    const t = new Tunnel(config());
    t.step(true, NET_TLS | NET_CLIENT_CERT, T0);
    const h = fake_last_handle();
    fakePush(h, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    t.step(true, NET_TLS | NET_CLIENT_CERT, T0 + 1);
    expect(fakeLastLog().includes("no k3s agent tunnel (404)")).toBe(true);
    expect(fake_is_open(h)).toBe(0);
    t.step(true, NET_TLS | NET_CLIENT_CERT, T0 + 599000);
    expect(fake_connect_count()).toBe(1);
    t.step(true, NET_TLS | NET_CLIENT_CERT, T0 + 600002);
    expect(fake_connect_count()).toBe(2);
  });

  it("a host that cannot open it (the device): says so once and does not ask again", () => {
    const t = new Tunnel(config());
    fake_fail_next(0, FAKE_OP_CONNECT, E_UNSUPPORTED);
    t.step(true, NET_TLS | NET_CLIENT_CERT, T0);
    expect(fakeLastLog().includes("cannot open the k3s agent tunnel")).toBe(true);
    expect(t.nextWait(T0 + 1, 30000)).toBe(30000);
    t.step(true, NET_TLS | NET_CLIENT_CERT, T0 + 3600000);
    expect(fake_connect_count()).toBe(0);
    expect(t.open).toBe(false);
  });

  it("is off with tunnel.port 0", () => {
    fakeConfig("tunnel.port", "0");
    const t = new Tunnel(config());
    t.step(true, NET_TLS | NET_CLIENT_CERT, T0);
    expect(fake_connect_count()).toBe(0);
  });
});
