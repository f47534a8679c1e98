import { ResponseParser, imfFixdateToUnixMs } from "../../../assembly/http/response";
import { E_TOOLARGE, OK } from "../../../assembly/util/errors";
import { HTTP_HEADER_MAX } from "../../../assembly/util/limits";
import { fixtureInput, fixtureText } from "../../fakes/fake";

const FILE = "tests/fixtures/http/responses.md";
const p = new ResponseParser();

function escapeBody(s: string): string {
  return s.replaceAll("\r", "\\r").replaceAll("\n", "\\n");
}

/** Parses `input` cut into a first piece of `first` bytes and then pieces of
 *  `piece` bytes (each piece a separate feed loop, as reads from a socket). */
function run(input: ArrayBuffer, first: i32, piece: i32, options: string): string {
  p.reset();
  if (options.includes("head")) p.expectNoBody();
  const base = changetype<usize>(input);
  const n = input.byteLength;
  let body = "";
  let pos = 0;
  let chunk = first;
  while (pos < n) {
    const end = min(n, pos + chunk);
    chunk = piece;
    let off = pos;
    while (off < end && !p.done) {
      const c = p.feed(base + <usize>off, end - off);
      if (c < 0) return "error=" + c.toString();
      if (p.bodyLen > 0) body += String.UTF8.decodeUnsafe(p.bodyPtr, <usize>p.bodyLen);
      if (c == 0 && !p.done) return "stuck";
      off += c;
    }
    pos = end;
    if (p.done) break;
  }
  if (options.includes("eof")) {
    const r = p.finishEof();
    if (r != OK) return "error=" + r.toString();
  }
  return "status=" + p.status.toString() + " len=" + p.contentLength.toString() + " chunked=" + (p.chunked ? "1" : "0") +
    " keep=" + (p.keepAlive ? "1" : "0") + " body=" + escapeBody(body) + " done=" + (p.done ? "1" : "0");
}

describe("ResponseParser fixtures (tests/fixtures/http/responses.md)", () => {
  it("parses every case whole, split at every byte, and byte by byte", () => {
    let cases = 0;
    for (let i = 0; ; i++) {
      const input = fixtureInput(FILE, i);
      if (input == null) break;
      const inp = changetype<ArrayBuffer>(input);
      const name = fixtureText(FILE, i, 0)!;
      const expected = fixtureText(FILE, i, 2)!;
      const options = fixtureText(FILE, i, 3)!;
      cases++;
      expect(run(inp, 1 << 30, 1 << 30, options)).toBe(expected, name + " (whole)");
      for (let s = 0; s <= inp.byteLength; s++) {
        const got = run(inp, s, 1 << 30, options);
        if (got != expected) {
          expect(got).toBe(expected, name + " split at " + s.toString());
          break;
        }
      }
      expect(run(inp, 1, 1, options)).toBe(expected, name + " (byte by byte)");
    }
    expect(cases).toBeGreaterThanOrEqual(25);
  });
});

describe("ResponseParser limits and details", () => {
  it("rejects a header block over HTTP_HEADER_MAX", () => {
    let h = "HTTP/1.1 200 OK\r\nX-Big: ";
    while (h.length < HTTP_HEADER_MAX) h += "aaaaaaaaaaaaaaaa";
    h += "\r\n\r\n";
    const b = String.UTF8.encode(h);
    expect(run(b, 1 << 30, 1 << 30, "")).toBe("error=" + E_TOOLARGE.toString());
    expect(run(b, 100, 7, "")).toBe("error=" + E_TOOLARGE.toString());
    expect(p.error).toBe(E_TOOLARGE);
    expect(p.feed(changetype<usize>(b), 1)).toBe(E_TOOLARGE); // sticky
    // Just under the cap is fine.
    let ok = "HTTP/1.1 200 OK\r\nX-Big: ";
    const room = HTTP_HEADER_MAX - ok.length - 4;
    for (let i = 0; i < room; i++) ok += "a";
    ok += "\r\n\r\n";
    expect(ok.length).toBe(HTTP_HEADER_MAX);
    expect(run(String.UTF8.encode(ok), 1 << 30, 1 << 30, "eof")).toBe("status=200 len=-1 chunked=0 keep=0 body= done=1");
  });

  it("rejects an endless trailer section", () => {
    let h = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n";
    for (let i = 0; i < HTTP_HEADER_MAX / 8; i++) h += "T: 1234\r\n";
    h += "\r\n";
    expect(run(String.UTF8.encode(h), 1 << 30, 1 << 30, "")).toBe("error=" + E_TOOLARGE.toString());
  });

  it("stops at the end of the message and leaves the rest", () => {
    const b = String.UTF8.encode("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA");
    p.reset();
    let off = 0;
    while (!p.done) {
      const c = p.feed(changetype<usize>(b) + <usize>off, b.byteLength - off);
      expect(c).toBeGreaterThanOrEqual(0);
      off += c;
    }
    expect(b.byteLength - off).toBe(5);
    expect(p.feed(changetype<usize>(b) + <usize>off, 5)).toBe(0);
  });

  it("keeps the Date header and converts IMF-fixdate", () => {
    const b = String.UTF8.encode("HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 0\r\n\r\n");
    p.reset();
    p.feed(changetype<usize>(b), b.byteLength);
    expect(p.done).toBe(true);
    expect(String.UTF8.decodeUnsafe(p.datePtr, <usize>p.dateLen)).toBe("Sun, 06 Nov 1994 08:49:37 GMT");
    expect(p.dateUnixMs()).toBe(784111777000);
    const d = String.UTF8.encode("Thu, 29 Feb 2024 23:59:59 GMT");
    expect(imfFixdateToUnixMs(changetype<usize>(d), d.byteLength)).toBe(1709251199000);
    const bad = String.UTF8.encode("Sunday, 06-Nov-94 08:49:37 GMT");
    expect(imfFixdateToUnixMs(changetype<usize>(bad), bad.byteLength)).toBe(0);
    const bad2 = String.UTF8.encode("Sun, 06 Foo 1994 08:49:37 GMT");
    expect(imfFixdateToUnixMs(changetype<usize>(bad2), bad2.byteLength)).toBe(0);
    p.reset();
    expect(p.dateUnixMs()).toBe(0);
  });
});
