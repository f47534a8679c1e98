import { JsonWriter } from "../../../assembly/json/writer";
import { E_DEPTH, E_TOOLARGE, OK } from "../../../assembly/util/errors";
import { JSON_DEPTH_MAX } from "../../../assembly/util/limits";

const buf = new StaticArray<u8>(512);
const bp = changetype<usize>(buf);

function text(w: JsonWriter): string {
  return String.UTF8.decodeUnsafe(w.ptr, <usize>w.len);
}

describe("JsonWriter", () => {
  it("writes nested objects and arrays with commas", () => {
    const w = new JsonWriter(bp, 512);
    w.beginObject();
    w.key("a"); w.int(1);
    w.key("b"); w.beginArray(); w.int(-2); w.bool(true); w.nul(); w.beginObject(); w.endObject(); w.beginArray(); w.endArray(); w.endArray();
    w.key("c"); w.str("x");
    w.key("d"); w.beginObject(); w.key("e"); w.bool(false); w.endObject();
    w.endObject();
    expect(w.error).toBe(OK);
    expect(text(w)).toBe('{"a":1,"b":[-2,true,null,{},[]],"c":"x","d":{"e":false}}');
  });

  it("escapes per RFC 8259 and encodes UTF-8", () => {
    const w = new JsonWriter(bp, 512);
    w.str("q\"b\\n\n\r\t\b\f\x01\x1f/é€😀");
    expect(w.error).toBe(OK);
    expect(text(w)).toBe('"q\\"b\\\\n\\n\\r\\t\\b\\f\\u0001\\u001f/é€😀"');
    // é = 2 bytes, € = 3 bytes, 😀 = 4 bytes
    expect(w.len).toBe(32 + 2 + 3 + 4);
  });

  it("escapes UTF-8 byte strings and keeps raw values", () => {
    const w = new JsonWriter(bp, 512);
    const s = String.UTF8.encode("a\"\né");
    const r = String.UTF8.encode("{\"k\":[1]}");
    w.beginArray();
    w.strBytes(changetype<usize>(s), s.byteLength);
    w.raw(changetype<usize>(r), r.byteLength);
    w.int(i64.MIN_VALUE);
    w.int(0);
    w.endArray();
    expect(text(w)).toBe('["a\\"\\né",{"k":[1]},-9223372036854775808,0]');
  });

  it("replaces lone surrogates", () => {
    const w = new JsonWriter(bp, 512);
    w.str(String.fromCharCode(0xd800) + "a");
    expect(text(w)).toBe('"\uFFFDa"');
  });

  it("stops on overflow with a sticky E_TOOLARGE", () => {
    const w = new JsonWriter(bp, 10);
    w.beginObject(); w.key("abc"); w.str("defgh");
    expect(w.error).toBe(E_TOOLARGE);
    const l = w.len;
    expect(l).toBeLessThanOrEqual(10);
    w.endObject(); w.int(5);
    expect(w.len).toBe(l);
    expect(w.error).toBe(E_TOOLARGE);
    w.reset();
    expect(w.error).toBe(OK);
    w.int(12345);
    expect(text(w)).toBe("12345");
    // exactly full is fine
    w.reset();
    w.str("12345678");
    expect(w.error).toBe(OK);
    expect(w.len).toBe(10);
  });

  it("caps the depth", () => {
    const w = new JsonWriter(bp, 512);
    for (let i = 0; i < JSON_DEPTH_MAX; i++) w.beginArray();
    expect(w.error).toBe(OK);
    w.beginArray();
    expect(w.error).toBe(E_DEPTH);
  });
});
