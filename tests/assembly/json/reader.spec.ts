import {
  JsonReader, TOK_END, TOK_BEGIN_OBJECT, TOK_END_OBJECT, TOK_BEGIN_ARRAY, TOK_END_ARRAY,
  TOK_STRING, TOK_NUMBER, TOK_TRUE, TOK_FALSE, TOK_NULL,
} from "../../../assembly/json/reader";
import { E_DEPTH, E_MALFORMED, E_NEED_MORE, E_TOOLARGE, OK } from "../../../assembly/util/errors";
import { JSON_DEPTH_MAX, JSON_KEY_MAX, JSON_VALUE_MAX } from "../../../assembly/util/limits";

const r = new JsonReader();

/** One token as text: key prefix, then the token. */
function tokText(t: i32): string {
  let s = "";
  if (r.keyLen >= 0) s = String.UTF8.decodeUnsafe(r.keyPtr, <usize>r.keyLen) + ":";
  if (t == TOK_BEGIN_OBJECT) return s + "{";
  if (t == TOK_END_OBJECT) return "}";
  if (t == TOK_BEGIN_ARRAY) return s + "[";
  if (t == TOK_END_ARRAY) return "]";
  if (t == TOK_STRING) return s + (r.truncated ? "<trunc>" : "'" + String.UTF8.decodeUnsafe(r.valuePtr, <usize>r.valueLen) + "'");
  if (t == TOK_END) return "$";
  return s + String.UTF8.decodeUnsafe(r.valuePtr, <usize>r.valueLen);
}

/** Tokenizes `doc` fed in pieces of at most `piece` bytes, starting with a
 *  first chunk of `first` bytes; returns the trace, ending with "!code" on error. */
function trace(doc: string, first: i32, piece: i32): string {
  const b = String.UTF8.encode(doc);
  const base = changetype<usize>(b);
  const n = b.byteLength;
  r.reset();
  let off = 0;
  let out = "";
  let chunk = first;
  let docs = 0;
  while (true) {
    const len = min(chunk, n - off);
    r.feed(base + <usize>off, len);
    off += len;
    chunk = piece;
    while (true) {
      const t = r.next();
      if (t == E_NEED_MORE) break;
      if (t < 0) return out + "!" + t.toString();
      out += tokText(t) + " ";
      if (t == TOK_END) docs++;
    }
    if (off >= n) break;
  }
  return out;
}

function wholeAndSplit(doc: string): string {
  const whole = trace(doc, 1 << 30, 1 << 30);
  const n = String.UTF8.byteLength(doc);
  for (let i = 0; i <= n; i++) {
    const split = trace(doc, i, 1 << 30);
    if (split != whole) {
      expect(split).toBe(whole, "split at " + i.toString());
      return whole;
    }
  }
  expect(trace(doc, 1, 1)).toBe(whole, "byte by byte");
  return whole;
}

const K8S = '{"kind":"Node","metadata":{"name":"pico-a","resourceVersion":"123","labels":{"a/b":"c"}},' +
  '"status":{"conditions":[{"type":"Ready","status":"True"},{"type":"MemoryPressure","status":"False"}]},' +
  '"items":[{"metadata":{"name":"x"}},[1,2]],"n":-1.5e+3,"z":0,"t":true,"f":false,"u":null}\n';

describe("JsonReader tokens", () => {
  it("tokenizes the same whole and split at every byte", () => {
    expect(wholeAndSplit(K8S)).toBe(
      "{ kind:'Node' metadata:{ name:'pico-a' resourceVersion:'123' labels:{ a/b:'c' } } " +
      "status:{ conditions:[ { type:'Ready' status:'True' } { type:'MemoryPressure' status:'False' } ] } " +
      "items:[ { metadata:{ name:'x' } } [ 1 2 ] ] n:-1.5e+3 z:0 t:true f:false u:null } $ ",
    );
  });

  it("reads scalars at the top level and streams of documents", () => {
    expect(wholeAndSplit('"a" true null [] {} 12 ')).toBe("'a' $ true $ null $ [ ] $ { } $ 12 $ ");
    expect(wholeAndSplit('{"type":"ADDED"}\n{"type":"MODIFIED"}\n')).toBe("{ type:'ADDED' } $ { type:'MODIFIED' } $ ");
  });

  it("unescapes strings, including \\u and surrogate pairs", () => {
    expect(wholeAndSplit('["a\\"b\\\\c\\/d\\b\\f\\n\\r\\t", "\\u0041\\u00e9\\u20ac\\ud83d\\ude00", "é€😀"]')).toBe(
      "[ 'a\"b\\c/d\b\f\n\r\t' 'Aé€😀' 'é€😀' ] $ ",
    );
    // Lone surrogates become U+FFFD.
    expect(wholeAndSplit('["\\ud83dx", "\\ude00", "\\ud83d\\u0041", "\\ud83d"]')).toBe("[ '\uFFFDx' '\uFFFD' '\uFFFDA' '\uFFFD' ] $ ");
    // Escapes in keys count too.
    expect(wholeAndSplit('{"\\u0061b":1}')).toBe("{ ab:1 } $ ");
  });

  it("numbers follow the RFC 8259 grammar", () => {
    expect(wholeAndSplit("[0,-0,1.25,1e5,1E-5,-12.5e+10,123456789012345678901234567890]")).toBe(
      "[ 0 -0 1.25 1e5 1E-5 -12.5e+10 123456789012345678901234567890 ] $ ",
    );
  });
});

describe("JsonReader malformed input", () => {
  it("rejects bad documents with a sticky E_MALFORMED", () => {
    const bad: string[] = [
      '{"a":1,}', "[1,]", "[1 2]", '{"a" 1}', '{"a":}', "{1:2}", '["\\x"]', '["\\u12g4"]', "[01]", "[-]", "[1.]",
      "[1e]", "[.5]", "[tru]", "[nul", "[truex]", '["a\nb"]', "]", '{"a":1]', "[1}", "{,}", "[+1]", "'a'",
    ];
    for (let i = 0; i < bad.length; i++) {
      const doc = bad[i];
      const t = trace(doc, 1 << 30, 1 << 30);
      // "[nul" is unterminated: it needs more, never completes.
      if (doc == "[nul") {
        expect(t).toBe("[ ", doc);
        continue;
      }
      expect(t.endsWith("!" + E_MALFORMED.toString())).toBe(true, doc + " -> " + t);
      for (let s = 0; s <= doc.length; s++) {
        expect(trace(doc, s, 1 << 30)).toBe(t, doc + " split " + s.toString());
      }
    }
    expect(r.error).toBe(E_MALFORMED);
    expect(r.next()).toBe(E_MALFORMED);
    r.reset();
    expect(r.error).toBe(OK);
  });

  it("reports an unterminated document as needing more", () => {
    expect(trace('{"a":"abc', 1 << 30, 1 << 30)).toBe("{ ");
    expect(r.next()).toBe(E_NEED_MORE);
    expect(r.error).toBe(OK);
  });
});

describe("JsonReader limits", () => {
  it("caps the depth with E_DEPTH", () => {
    let ok = "";
    for (let i = 0; i < JSON_DEPTH_MAX; i++) ok += "[";
    for (let i = 0; i < JSON_DEPTH_MAX; i++) ok += "]";
    expect(trace(ok, 1 << 30, 1 << 30).endsWith("] $ ")).toBe(true);
    const deep = "[" + ok + "]";
    expect(trace(deep, 1 << 30, 1 << 30).endsWith("!" + E_DEPTH.toString())).toBe(true);
    expect(r.error).toBe(E_DEPTH);
  });

  it("skips strings longer than the scratch", () => {
    let exact = "";
    for (let i = 0; i < JSON_VALUE_MAX; i++) exact += "x";
    expect(trace('["' + exact + '"]', 1 << 30, 1 << 30)).toBe("[ '" + exact + "' ] $ ");
    expect(trace('["' + exact + 'y", 1]', 1 << 30, 1 << 30)).toBe("[ <trunc> 1 ] $ ");
  });

  it("reads a 1 MB string in 4 KB pieces without using more memory", () => {
    const piece = new StaticArray<u8>(4096);
    const pp = changetype<usize>(piece);
    memory.fill(pp, 0x61, 4096);
    const head = String.UTF8.encode('{"data":{"big":"');
    const tail = String.UTF8.encode('","small":"ok"}}');
    r.reset();
    r.feed(changetype<usize>(head), head.byteLength);
    expect(r.next()).toBe(TOK_BEGIN_OBJECT);
    expect(r.next()).toBe(TOK_BEGIN_OBJECT);
    expect(r.next()).toBe(E_NEED_MORE);
    const heapBefore = __heap_base; // static layout cannot change; check the GC heap via memory size too
    const pagesBefore = memory.size();
    for (let i = 0; i < 256; i++) {
      r.feed(pp, 4096);
      expect(r.next()).toBe(E_NEED_MORE);
    }
    r.feed(changetype<usize>(tail), tail.byteLength);
    expect(r.next()).toBe(TOK_STRING);
    expect(r.truncated).toBe(true);
    expect(r.valueLen).toBe(0);
    expect(r.pathIs("data.big")).toBe(true);
    expect(r.next()).toBe(TOK_STRING);
    expect(r.valueIs("ok")).toBe(true);
    expect(r.pathIs("data.small")).toBe(true);
    expect(r.next()).toBe(TOK_END_OBJECT);
    expect(r.next()).toBe(TOK_END_OBJECT);
    expect(r.next()).toBe(TOK_END);
    expect(memory.size()).toBe(pagesBefore);
    expect(__heap_base).toBe(heapBefore);
  });

  it("makes paths through an over-long key match nothing", () => {
    let long = "";
    for (let i = 0; i <= JSON_KEY_MAX; i++) long += "k";
    const doc = '{"' + long + '":{"a":1},"b":{"a":2}}';
    const b = String.UTF8.encode(doc);
    r.reset();
    r.feed(changetype<usize>(b), b.byteLength);
    let matches = 0;
    let t = 0;
    while ((t = r.next()) > 0) {
      if (r.pathIs("b.a") || r.pathIs(long + ".a") || r.pathIs(".a") || r.pathIs("a")) {
        matches++;
        expect(r.valueInt()).toBe(2);
      }
    }
    expect(t).toBe(TOK_END);
    expect(matches).toBe(1);
  });
});

describe("JsonReader paths and values", () => {
  it("matches whole paths with [] for array levels", () => {
    const b = String.UTF8.encode(K8S);
    r.reset();
    r.feed(changetype<usize>(b), b.byteLength);
    let found = "";
    let t = 0;
    while ((t = r.next()) > 0) {
      if (t == TOK_BEGIN_OBJECT && r.pathIs("")) found += "root ";
      if (t == TOK_STRING && r.pathIs("metadata.resourceVersion")) {
        found += "rv=" + r.valueInt().toString() + " ";
        expect(r.keyIs("resourceVersion")).toBe(true);
      }
      if (t == TOK_STRING && r.pathIs("status.conditions[].type")) found += "type=" + String.UTF8.decodeUnsafe(r.valuePtr, <usize>r.valueLen) + " ";
      if (t == TOK_STRING && r.pathIs("items[].metadata.name")) found += "item=" + String.UTF8.decodeUnsafe(r.valuePtr, <usize>r.valueLen) + " ";
      if (t == TOK_NUMBER && r.pathIs("items[][]")) found += "n=" + r.valueInt().toString() + " ";
      if (t == TOK_BEGIN_ARRAY && r.pathIs("status.conditions")) found += "conds ";
      if (t == TOK_END_ARRAY && r.pathIs("status.conditions")) found += "/conds ";
      if (t == TOK_STRING && r.pathIs("metadata.labels.a/b")) expect(r.valueIs("c")).toBe(true);
      if (t == TOK_TRUE) expect(r.pathIs("t")).toBe(true);
      if (t == TOK_NUMBER && r.keyIs("n")) {
        expect(r.valueInt()).toBe(0);
        expect(r.valueIntError).toBe(E_MALFORMED);
      }
    }
    expect(t).toBe(TOK_END);
    expect(found).toBe("root rv=123 conds type=Ready type=MemoryPressure /conds item=x n=1 n=2 ");
  });

  it("skips a container", () => {
    const b = String.UTF8.encode('{"managedFields":[{"f:a":{"f:b":{}}},[[]]],"x":1}');
    r.reset();
    r.feed(changetype<usize>(b), b.byteLength);
    expect(r.next()).toBe(TOK_BEGIN_OBJECT);
    expect(r.next()).toBe(TOK_BEGIN_ARRAY);
    r.skipContainer();
    expect(r.next()).toBe(TOK_END_ARRAY);
    expect(r.pathIs("managedFields")).toBe(true);
    expect(r.next()).toBe(TOK_NUMBER);
    expect(r.keyIs("x")).toBe(true);
    expect(r.valueInt()).toBe(1);
  });

  it("reports integer overflow", () => {
    const b = String.UTF8.encode("[9223372036854775807,-9223372036854775808,9223372036854775808]");
    r.reset();
    r.feed(changetype<usize>(b), b.byteLength);
    r.next();
    r.next();
    expect(r.valueInt()).toBe(i64.MAX_VALUE);
    r.next();
    expect(r.valueInt()).toBe(i64.MIN_VALUE);
    r.next();
    expect(r.valueInt()).toBe(0);
    expect(r.valueIntError).toBe(E_TOOLARGE);
  });
});
