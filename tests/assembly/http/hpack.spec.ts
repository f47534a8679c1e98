import { HpackFields, huffmanDecode, hpackIntLen, hpackIntWrite } from "../../../assembly/http/hpack";
import { E_MALFORMED, E_TOOLARGE } from "../../../assembly/util/errors";

function bytes(hex: string): Uint8Array {
  const h = hex.replaceAll(" ", "");
  const b = new Uint8Array(h.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = <u8>I32.parseInt(h.substr(i * 2, 2), 16);
  return b;
}

function huff(hex: string): string {
  const src = bytes(hex);
  const out = new Uint8Array(64);
  const n = huffmanDecode(src.dataStart, src.length, out.dataStart, 64);
  if (n < 0) return "error " + n.toString();
  return String.UTF8.decodeUnsafe(out.dataStart, <usize>n);
}

function intBytes(v: i32, prefix: i32, flags: u8): string {
  const out = new Uint8Array(8);
  const n = hpackIntWrite(out.dataStart, v, prefix, flags);
  expect(n).toBe(hpackIntLen(v, prefix));
  let s = "";
  for (let i = 0; i < n; i++) s += (out[i] < 16 ? "0" : "") + out[i].toString(16);
  return s;
}

function decode(f: HpackFields, hex: string): i32 {
  const b = bytes(hex);
  return f.decode(b.dataStart, b.length);
}

describe("HPACK (RFC 7541)", () => {
  it("decodes the RFC's Huffman examples (Appendix C.4, C.6)", () => {
    expect(huff("f1e3 c2e5 f23a 6ba0 ab90 f4ff")).toBe("www.example.com");
    expect(huff("a8eb 1064 9cbf")).toBe("no-cache");
    expect(huff("25a8 49e9 5ba9 7d7f")).toBe("custom-key");
    expect(huff("25a8 49e9 5bb8 e8b4 bf")).toBe("custom-value");
    expect(huff("6402")).toBe("302");
    expect(huff("aec3 771a 4b")).toBe("private");
    expect(huff("d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff")).toBe("Mon, 21 Oct 2013 20:13:21 GMT");
    expect(huff("9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3")).toBe("https://www.example.com");
    expect(huff("")).toBe("");
  });

  it("refuses EOS, padding that is long or not all ones, and output beyond the buffer", () => {
    expect(huff("ffff ffff")).toBe("error " + E_MALFORMED.toString()); // EOS (30 ones) inside
    expect(huff("6402 ff")).toBe("error " + E_MALFORMED.toString()); // 8+ bits of padding
    expect(huff("1f")).toBe("a"); // 00011 then padding 111
    expect(huff("18")).toBe("error " + E_MALFORMED.toString()); // 00011 then padding 000
    const src = bytes("f1e3 c2e5 f23a 6ba0 ab90 f4ff");
    const out = new Uint8Array(4);
    expect(huffmanDecode(src.dataStart, src.length, out.dataStart, 4)).toBe(E_TOOLARGE);
  });

  it("writes integers with N-bit prefixes (Appendix C.1)", () => {
    expect(intBytes(10, 5, 0)).toBe("0a");
    expect(intBytes(1337, 5, 0)).toBe("1f9a0a");
    expect(intBytes(42, 8, 0)).toBe("2a");
    expect(intBytes(126, 7, 0x80)).toBe("fe");
    expect(intBytes(127, 7, 0)).toBe("7f00");
    expect(intBytes(300, 7, 0)).toBe("7fad01");
  });

  it("keeps :status and date from a response block, static table and literals", () => {
    const f = new HpackFields();
    // Appendix C.6.1, the first response (Huffman, incremental indexing).
    expect(decode(f, "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3")).toBe(4);
    expect(f.status).toBe(302);
    expect(String.UTF8.decodeUnsafe(f.date, <usize>f.dateLen)).toBe("Mon, 21 Oct 2013 20:13:21 GMT");
    // Indexed :status 404 (static 13), a size update to 0, a new-name literal.
    expect(decode(f, "20 8d 00 0861 7564 6974 2d69 64 03 616263")).toBe(2);
    expect(f.status).toBe(404);
    expect(f.dateLen).toBe(0);
    // A literal name ":status", not Huffman-coded, never indexed.
    expect(decode(f, "10 073a 7374 6174 7573 03 3230 31")).toBe(1);
    expect(f.status).toBe(201);
  });

  it("refuses dynamic-table references, size updates above 0 and truncated fields", () => {
    const f = new HpackFields();
    expect(decode(f, "be")).toBe(E_MALFORMED); // index 62: the dynamic table we never allowed
    expect(decode(f, "80")).toBe(E_MALFORMED); // index 0
    expect(decode(f, "3fe1 1f")).toBe(E_MALFORMED); // size update to 4096
    expect(decode(f, "0f12 05 4d6f 6e")).toBe(E_MALFORMED); // date value cut short
    expect(decode(f, "48 02 3230")).toBe(E_MALFORMED); // a two-digit status
    expect(decode(f, "1f")).toBe(E_MALFORMED); // an integer cut short
  });
});
