// JsonReader's streaming-string mode (streamStrings): long values come in
// pieces (TOK_STRING_PART ... TOK_STRING) with their path, at every split of
// the input; off, they are skipped as truncated.
import { JsonReader, TOK_END, TOK_STRING, TOK_STRING_PART } from "../../../assembly/json/reader";
import { E_NEED_MORE } from "../../../assembly/util/errors";

/** Reads `doc` fed in two chunks split at `at`; returns the pieces of
 *  status.certificate joined with "|" and the other string values after "#". */
function read(doc: string, at: i32, cap: i32, stream: bool): string {
  const b = String.UTF8.encode(doc);
  const p = changetype<usize>(b);
  const r = new JsonReader(cap);
  r.streamStrings = stream;
  let out = "";
  let other = "";
  let fed = 0;
  r.feed(p, at);
  for (let i = 0; i < 10000; i++) {
    const t = r.next();
    if (t == E_NEED_MORE) {
      if (fed == 1) break;
      fed = 1;
      r.feed(p + <usize>at, b.byteLength - at);
      continue;
    }
    if (t == TOK_END) break;
    if (t < 0) return "error " + t.toString();
    if (t == TOK_STRING || t == TOK_STRING_PART) {
      const v = String.UTF8.decodeUnsafe(r.valuePtr, r.valueLen);
      if (r.pathIs("status.certificate")) out += v + (t == TOK_STRING_PART ? "|" : "");
      else other += v + ",";
    }
  }
  return out + "#" + other;
}

const CERT = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODk=";
const DOC = '{"metadata":{"name":"node-csr-x"},"status":{"certificate":"' + CERT + '","x":"after"}}';

describe("JsonReader streamStrings", () => {

  it("delivers a long value in pieces at every split, joined it is the value", () => {
    const b = String.UTF8.byteLength(DOC);
    for (let at = 0; at <= b; at++) {
      const got = read(DOC, at, 16, true);
      const hash = got.indexOf("#");
      expect(got.substring(0, hash).replaceAll("|", "")).toBe(CERT);
      expect(got.substring(hash + 1)).toBe("node-csr-x,after,");
      expect(got.substring(0, hash).split("|")[0].length).toBeLessThanOrEqual(16);
    }
  });

  it("unescapes across piece boundaries", () => {
    const d = '{"status":{"certificate":"aaaaaaaaaaaa\\u00e9\\n\\/bbbbbbbbbbbbbbbbbbbb"}}';
    const got = read(d, 10, 16, true);
    expect(got.substring(0, got.indexOf("#")).replaceAll("|", "")).toBe("aaaaaaaaaaaa\u00e9\n/bbbbbbbbbbbbbbbbbbbb");
  });

  it("never splits keys and is off by default (long values skipped)", () => {
    const got = read(DOC, 5, 16, false);
    expect(got).toBe("#node-csr-x,after,");
  });
});
