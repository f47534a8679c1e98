// util/base64.ts against the test vectors of RFC 4648 section 10.
import { base64Encode, base64Len } from "../../../assembly/util/base64";
import { E_TOOLARGE } from "../../../assembly/util/errors";

function enc(s: string): string {
  const src = String.UTF8.encode(s);
  const out = new ArrayBuffer(64);
  const n = base64Encode(changetype<usize>(src), src.byteLength, changetype<usize>(out), 64);
  return String.UTF8.decodeUnsafe(changetype<usize>(out), n);
}

describe("base64", () => {
  it("encodes the RFC 4648 vectors", () => {
    expect(enc("")).toBe("");
    expect(enc("f")).toBe("Zg==");
    expect(enc("fo")).toBe("Zm8=");
    expect(enc("foo")).toBe("Zm9v");
    expect(enc("foob")).toBe("Zm9vYg==");
    expect(enc("fooba")).toBe("Zm9vYmE=");
    expect(enc("foobar")).toBe("Zm9vYmFy");
  });
  it("uses the whole alphabet including + and /", () => {
    const src = new StaticArray<u8>(3);
    src[0] = 0xfb; src[1] = 0xff; src[2] = 0xbf;
    const out = new ArrayBuffer(4);
    expect(base64Encode(changetype<usize>(src), 3, changetype<usize>(out), 4)).toBe(4);
    expect(String.UTF8.decodeUnsafe(changetype<usize>(out), 4)).toBe("+/+/");
  });
  it("refuses a buffer that is too small and writes nothing", () => {
    const src = String.UTF8.encode("foobar");
    const out = new ArrayBuffer(8);
    store<u8>(changetype<usize>(out), 0x21);
    expect(base64Encode(changetype<usize>(src), 6, changetype<usize>(out), 7)).toBe(E_TOOLARGE);
    expect(load<u8>(changetype<usize>(out))).toBe(0x21);
    expect(base64Len(6)).toBe(8);
    expect(base64Len(7)).toBe(12);
  });
});
