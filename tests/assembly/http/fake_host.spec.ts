// Proves the one host fake (tests/fakes/host.js) behaves like the host ABI
// promises (assembly/host/imports.ts), so other specs can rely on it.
import {
  config_get, log, net_alpn, net_close, net_connect, net_recv, net_send, random_fill, NET_CLIENT_CERT, NET_HTTP1, NET_TLS,
  LOG_WARN,
} from "../../../assembly/host/imports";
import { E_AGAIN, E_BADPTR, E_CLOSED, E_DENIED, E_INVAL, E_IO, E_NOTFOUND, E_TLS, E_TOOLARGE } from "../../../assembly/util/errors";
import {
  fake_reset, fakeConfig, fake_last_handle, fake_connect_complete, fakePush, fake_peer_close, fake_fail_next,
  fakeTakeOutbound, fake_log_count, fakeLastLog, fake_log_last_level, fake_open_handles, fake_connect_count,
  fake_connect_port, fake_connect_flags, fakeConnectHost, FAKE_OP_SEND, FAKE_OP_RECV, FAKE_OP_CONNECT, fake_auto_connect, fake_send_limit,
  fakeAlpn,
} from "../../fakes/fake";

const buf = new StaticArray<u8>(64);
const bp = changetype<usize>(buf);

function connectTo(host: string, port: i32, flags: i32): i32 {
  const h = String.UTF8.encode(host);
  return net_connect(changetype<usize>(h), h.byteLength, port, flags);
}
function sendStr(h: i32, s: string): i32 {
  const b = String.UTF8.encode(s);
  return net_send(h, changetype<usize>(b), b.byteLength);
}
function cfg(key: string, cap: i32): i32 {
  const k = String.UTF8.encode(key);
  return config_get(changetype<usize>(k), k.byteLength, bp, cap);
}

describe("fake host", () => {
  beforeEach(() => { fake_reset(); });

  it("logs lines", () => {
    const s = String.UTF8.encode("hello log");
    log(LOG_WARN, changetype<usize>(s), s.byteLength);
    expect(fake_log_count()).toBe(1);
    expect(fakeLastLog()).toBe("hello log");
    expect(fake_log_last_level()).toBe(LOG_WARN);
    log(LOG_WARN, 0xfffffff0, 100); // out of bounds: dropped
    expect(fake_log_count()).toBe(1);
  });

  it("serves configuration with the host's codes", () => {
    fakeConfig("node.name", "pico-a");
    expect(cfg("node.name", 64)).toBe(6);
    expect(String.UTF8.decodeUnsafe(bp, 6)).toBe("pico-a");
    expect(cfg("node.name", 3)).toBe(E_TOOLARGE);
    expect(cfg("nope", 64)).toBe(E_NOTFOUND);
    fakeConfig("tls.key", "secret");
    expect(cfg("tls.key", 64)).toBe(E_DENIED);
    expect(config_get(0xfffffff0, 100, bp, 10)).toBe(E_BADPTR);
    const k = String.UTF8.encode("node.name");
    expect(config_get(changetype<usize>(k), k.byteLength, 0xfffffff0, 64)).toBe(E_BADPTR);
  });

  it("fills random bytes deterministically", () => {
    expect(random_fill(bp, 8)).toBe(8);
    const a = load<u64>(bp);
    fake_reset();
    random_fill(bp, 8);
    expect(load<u64>(bp)).toBe(a);
    expect(a).not.toBe(0);
    expect(random_fill(0xfffffff0, 100)).toBe(E_BADPTR);
  });

  it("scripts a connection", () => {
    const h = connectTo("api.example", 6443, NET_TLS);
    expect(h).toBe(1);
    expect(fake_last_handle()).toBe(1);
    expect(fakeConnectHost(h)).toBe("api.example");
    expect(fake_connect_port(h)).toBe(6443);
    expect(fake_connect_flags(h)).toBe(NET_TLS);
    expect(sendStr(h, "x")).toBe(E_AGAIN);
    expect(net_recv(h, bp, 64)).toBe(E_AGAIN);
    fake_connect_complete(h, 0);
    expect(sendStr(h, "GET / ")).toBe(6);
    fake_send_limit(2);
    expect(sendStr(h, "HTTP")).toBe(2);
    expect(fakeTakeOutbound(h)).toBe("GET / HT");
    expect(net_recv(h, bp, 64)).toBe(E_AGAIN);
    fakePush(h, "abcdef");
    fakePush(h, "gh");
    expect(net_recv(h, bp, 4)).toBe(4);
    expect(net_recv(h, bp, 64)).toBe(2); // rest of the first chunk only
    expect(net_recv(h, bp, 64)).toBe(2);
    fake_peer_close(h);
    expect(net_recv(h, bp, 64)).toBe(E_CLOSED);
    expect(net_recv(0xfffffff0, bp, 64)).toBe(E_INVAL);
    expect(net_recv(h, 0xfffffff0, 64)).toBe(E_BADPTR);
    expect(fake_open_handles()).toBe(1);
    expect(net_close(h)).toBe(0);
    expect(net_close(h)).toBe(E_INVAL);
    expect(fake_open_handles()).toBe(0);
    expect(fake_connect_count()).toBe(1);
  });

  it("injects errors", () => {
    fake_fail_next(0, FAKE_OP_CONNECT, E_INVAL);
    expect(connectTo("a", 1, 0)).toBe(E_INVAL);
    const h = connectTo("a", 1, 0);
    expect(h).toBe(1);
    fake_connect_complete(h, E_TLS);
    expect(sendStr(h, "x")).toBe(E_TLS);
    expect(net_recv(h, bp, 1)).toBe(E_TLS);
    fake_auto_connect(1);
    const h2 = connectTo("a", 1, 0);
    expect(h2).toBe(2);
    fake_fail_next(h2, FAKE_OP_RECV, E_AGAIN);
    fakePush(h2, "z");
    expect(net_recv(h2, bp, 1)).toBe(E_AGAIN); // transient
    expect(net_recv(h2, bp, 1)).toBe(1);
    fake_fail_next(h2, FAKE_OP_SEND, E_IO);
    expect(sendStr(h2, "x")).toBe(E_IO);
    expect(sendStr(h2, "x")).toBe(E_IO); // dead handle stays dead
    expect(connectTo("", 1, 0)).toBe(E_INVAL);
  });

  it("reports ALPN as the host does, never h2 to an HTTP/1.1-only client", () => {
    fake_auto_connect(1);
    fakeAlpn("h2");
    const h2 = connectTo("a", 1, NET_TLS | NET_CLIENT_CERT);
    const h1 = connectTo("a", 1, NET_TLS | NET_CLIENT_CERT | NET_HTTP1);
    expect(net_alpn(h2, bp, 16)).toBe(2);
    expect(String.UTF8.decodeUnsafe(bp, 2)).toBe("h2");
    expect(net_alpn(h1, bp, 16)).toBe(8);
    expect(String.UTF8.decodeUnsafe(bp, 8)).toBe("http/1.1");
    expect(fake_connect_flags(h1)).toBe(NET_TLS | NET_CLIENT_CERT | NET_HTTP1);
    fakeAlpn("");
    expect(net_alpn(connectTo("a", 1, NET_TLS | NET_HTTP1), bp, 16)).toBe(0); // the server chose none
    expect(connectTo("a", 1, NET_HTTP1)).toBe(E_INVAL); // only on TLS, as the host
    expect(connectTo("a", 1, NET_TLS | 8)).toBe(E_INVAL); // unknown bit
  });
});
