// The UTF-8 literal mechanism (assembly/util/lit.ts + scripts/lit-transform.mjs):
// utf8("...") must become a pointer to [len][UTF-8 bytes] in static data.
import { bytesEqualLit, copyLit, Lit, litEqual, litLen, litPtr, utf8 } from "../../../assembly/util/lit";
import { JsonWriter } from "../../../assembly/json/writer";

const TOP: Lit = utf8("metadata");

function bytesOf(l: Lit): string {
  return String.UTF8.decodeUnsafe(litPtr(l), <usize>litLen(l));
}

describe("utf8 literals", () => {
  it("stores the length byte and the UTF-8 bytes", () => {
    expect(litLen(TOP)).toBe(8);
    expect(bytesOf(TOP)).toBe("metadata");
    expect(load<u8>(litPtr(TOP))).toBe(0x6d);
    expect(load<u8>(litPtr(TOP) + 7)).toBe(0x61);
  });

  it("encodes non-ASCII text as UTF-8, not UTF-16", () => {
    const l = utf8("é€😀");
    expect(litLen(l)).toBe(2 + 3 + 4);
    expect(load<u8>(litPtr(l))).toBe(0xc3);
    expect(load<u8>(litPtr(l) + 1)).toBe(0xa9);
    expect(load<u8>(litPtr(l) + 2)).toBe(0xe2);
    expect(load<u8>(litPtr(l) + 5)).toBe(0xf0);
    expect(bytesOf(l)).toBe("é€😀");
  });

  it("keeps escapes and the empty literal", () => {
    expect(litLen(utf8(""))).toBe(0);
    const l = utf8("a\r\n\"b");
    expect(litLen(l)).toBe(5);
    expect(load<u8>(litPtr(l) + 1)).toBe(0x0d);
    expect(load<u8>(litPtr(l) + 3)).toBe(0x22);
  });

  it("compares and copies by content", () => {
    expect(litEqual(utf8("metadata"), TOP)).toBe(true);
    expect(litEqual(utf8("metadatA"), TOP)).toBe(false);
    expect(litEqual(utf8("metadat"), TOP)).toBe(false);
    expect(bytesEqualLit(litPtr(TOP), 8, utf8("metadata"))).toBe(true);
    const dst = memory.data(16);
    expect(copyLit(dst, 16, TOP)).toBe(8);
    expect(String.UTF8.decodeUnsafe(dst, 8)).toBe("metadata");
    expect(copyLit(dst, 7, TOP)).toBe(-1);
  });

  it("is a constant in static data, not a heap object", () => {
    // Literals are placed below the heap: the stub runtime's heap starts at
    // __heap_base, after all static data.
    expect(TOP < __heap_base).toBe(true);
    expect(utf8("x") < __heap_base).toBe(true);
  });

  it("writes JSON keys and values like the string variants", () => {
    const a = new JsonWriter(memory.data(64), 64);
    a.beginObject(); a.key("metadata"); a.str("a\"b"); a.endObject();
    const b = new JsonWriter(memory.data(64), 64);
    b.beginObject(); b.keyLit(TOP); b.strLit(utf8("a\"b")); b.endObject();
    expect(String.UTF8.decodeUnsafe(b.ptr, <usize>b.len)).toBe(String.UTF8.decodeUnsafe(a.ptr, <usize>a.len));
    expect(String.UTF8.decodeUnsafe(b.ptr, <usize>b.len)).toBe("{\"metadata\":\"a\\\"b\"}");
  });
});
