import { RequestWriter } from "../../../assembly/http/request";
import { E_INVAL, E_TOOLARGE, OK } from "../../../assembly/util/errors";
import { utf8 } from "../../../assembly/util/lit";

const buf = new StaticArray<u8>(512);
const bp = changetype<usize>(buf);

function text(w: RequestWriter): string {
  return String.UTF8.decodeUnsafe(w.ptr, <usize>w.len);
}

describe("RequestWriter", () => {
  it("writes a GET without Content-Length", () => {
    const w = new RequestWriter(bp, 512);
    w.start("GET", "/api/v1/nodes/pico-a");
    w.header("Host", "10.0.0.1:6443");
    w.headerInt(utf8("X-N"), -42);
    const n = w.finish(0, 0);
    expect(n).toBe(w.len);
    expect(text(w)).toBe("GET /api/v1/nodes/pico-a HTTP/1.1\r\nHost: 10.0.0.1:6443\r\nX-N: -42\r\n\r\n");
    expect(w.complete).toBe(true);
    // The literal variants write the same bytes.
    const v = new RequestWriter(bp + 256, 256);
    const path = utf8("/api/v1/nodes/pico-a");
    v.startLit(utf8("GET"), path + 1, <i32>load<u8>(path));
    v.headerLit(utf8("Host"), utf8("10.0.0.1:6443"));
    v.headerInt(utf8("X-N"), -42);
    v.finish(0, 0);
    expect(String.UTF8.decodeUnsafe(v.ptr, <usize>v.len)).toBe(text(w));
    expect(v.idempotent).toBe(true);
  });

  it("writes Content-Length and the body", () => {
    const w = new RequestWriter(bp, 512);
    const p = String.UTF8.encode("/api/v1/nodes");
    w.startLit(utf8("POST"), changetype<usize>(p), p.byteLength);
    w.appendTarget("?fieldManager=pico");
    const v = String.UTF8.encode("application/json");
    w.headerBytes("Content-Type", changetype<usize>(v), v.byteLength);
    const body = String.UTF8.encode("{\"a\":1}");
    expect(w.finish(changetype<usize>(body), body.byteLength)).toBeGreaterThan(0);
    expect(text(w)).toBe(
      "POST /api/v1/nodes?fieldManager=pico HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}",
    );
  });

  it("writes Content-Length: 0 for an empty POST", () => {
    const w = new RequestWriter(bp, 512);
    w.start("POST", "/x");
    w.finish(0, 0);
    expect(text(w)).toBe("POST /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  });

  it("rejects header injection", () => {
    const w = new RequestWriter(bp, 512);
    w.start("GET", "/x");
    w.header("X", "a\r\nEvil: 1");
    expect(w.finish(0, 0)).toBe(E_INVAL);
    w.start("GET", "/a b");
    expect(w.finish(0, 0)).toBe(E_INVAL);
    w.start("GET", "/ok");
    w.header("X", "tab\there");
    expect(w.finish(0, 0)).toBeGreaterThan(0);
    expect(w.error).toBe(OK);
  });

  it("reports E_TOOLARGE and sticks until start()", () => {
    const w = new RequestWriter(bp, 40);
    w.start("GET", "/0123456789");
    w.header("Host", "example.invalid");
    expect(w.error).toBe(E_TOOLARGE);
    expect(w.finish(0, 0)).toBe(E_TOOLARGE);
    expect(w.len).toBeLessThanOrEqual(40);
    w.start("GET", "/");
    expect(w.finish(0, 0)).toBe(18);
    const body = new StaticArray<u8>(30);
    w.start("PUT", "/");
    expect(w.finish(changetype<usize>(body), 30)).toBe(E_TOOLARGE);
  });
});
