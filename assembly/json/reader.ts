// Streaming pull tokenizer for JSON (RFC 8259) with path tracking.
//
// The reader never holds a document: input arrives in chunks (feed), next()
// returns one token at a time, strings are unescaped into a fixed scratch of
// JSON_VALUE_MAX bytes and anything longer is skipped (`truncated`). Object
// keys are not tokens: they label the value that follows and make up the
// path (`pathIs("status.conditions[].type")`). No recursion: an explicit
// state enum and a nesting stack capped at JSON_DEPTH_MAX. Memory is fixed at
// construction, so a 1 MB document costs what a small one does.
//
// A stream of several top-level values (a watch response: one JSON object per
// event) is read by calling next() again after TOK_END.

import { E_DEPTH, E_MALFORMED, E_NEED_MORE, E_TOOLARGE, OK } from "../util/errors";
import { JSON_DEPTH_MAX, JSON_KEY_MAX, JSON_PATH_MAX, JSON_VALUE_MAX } from "../util/limits";
import { hexVal, matchUtf8At, bytesEqualStr, memEqual, parseI64, parsedI64, putUtf8 } from "../util/bytes";
import { bytesEqualLit, Lit, litLen, litPtr } from "../util/lit";
import { LIT_FALSE, LIT_NULL, LIT_TRUE } from "./writer";

/** The top-level value is complete (call next() again to read the next one of a stream). */
export const TOK_END: i32 = 0;
export const TOK_BEGIN_OBJECT: i32 = 1;
export const TOK_END_OBJECT: i32 = 2;
export const TOK_BEGIN_ARRAY: i32 = 3;
export const TOK_END_ARRAY: i32 = 4;
export const TOK_STRING: i32 = 5;
export const TOK_NUMBER: i32 = 6;
export const TOK_TRUE: i32 = 7;
export const TOK_FALSE: i32 = 8;
export const TOK_NULL: i32 = 9;
/** With `streamStrings` on: the first bytes of a string value too long for
 *  the scratch (valuePtr/valueLen hold this piece). More pieces follow; the
 *  last one comes as TOK_STRING. Keys are never split. */
export const TOK_STRING_PART: i32 = 10;

// Container kinds on the stack.
const C_OBJECT: u8 = 1;
const C_ARRAY: u8 = 2;

// Parser states.
const S_TOP: i32 = 0; // between top-level values: whitespace, or a new value
const S_VALUE: i32 = 1; // a value must come (after ':' or ',' in an array)
const S_ARRAY_FIRST: i32 = 2; // after '[': a value or ']'
const S_OBJECT_FIRST: i32 = 3; // after '{': a key or '}'
const S_KEY: i32 = 4; // after ',' in an object: a key
const S_COLON: i32 = 5; // after a key
const S_AFTER: i32 = 6; // after a value: ',' or the container's closer
const S_STRING: i32 = 7; // inside a string (key or value)
const S_ESCAPE: i32 = 8; // after a backslash
const S_UNICODE: i32 = 9; // in the 4 hex digits of \u
const S_NUMBER: i32 = 10;
const S_LITERAL: i32 = 11;

// Number sub-states (RFC 8259 §6 grammar).
const N_MINUS: i32 = 0;
const N_ZERO: i32 = 1;
const N_INT: i32 = 2;
const N_DOT: i32 = 3;
const N_FRAC: i32 = 4;
const N_E: i32 = 5;
const N_ESIGN: i32 = 6;
const N_EXP: i32 = 7;

// @ts-ignore: decorator
@inline function isWs(c: u32): bool {
  return c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09;
}

/** Pull tokenizer. Errors (E_MALFORMED, E_DEPTH) stick until reset(). */
// @ts-ignore: decorator
@unmanaged
export class JsonReader {
  private scratch: usize;
  private scratchCap: i32;
  private path: usize;
  private kind: usize; // container kind per level (1..depth)
  // i16 (pathCap and JSON_KEY_MAX are far below 2^15): half the bytes of i32.
  private keyStart: usize; // offset of the level's key in `path`
  private keyLength: usize; // its length; -1 when over the cap

  private inPtr: usize = 0;
  private inLen: i32 = 0;
  private inPos: i32 = 0;

  private state: i32 = S_TOP;
  private level: i32 = 0;
  private tokLevel: i32 = 0;
  private err: i32 = OK;
  private docDone: bool = false;
  private skipTo: i32 = -1;

  private inKey: bool = false;
  private valLen: i32 = 0;
  private trunc: bool = false;
  private numState: i32 = 0;
  private litTok: i32 = 0;
  private litIdx: i32 = 0;
  private uCount: i32 = 0;
  private uAcc: u32 = 0;
  private hiSurrogate: u32 = 0;
  private intErr: i32 = OK;
  private partPending: bool = false;
  /** Deliver long string values in pieces (TOK_STRING_PART ... TOK_STRING)
   *  instead of skipping them as truncated: for values read chunk by chunk,
   *  such as a CSR's base64 certificate. */
  streamStrings: bool = false;

  /** Path stack bytes and nesting cap of this reader (defaults JSON_PATH_MAX, JSON_DEPTH_MAX). */
  private pathCap: i32;
  private depthMax: i32;

  /** Allocates the scratch (`valueCap` bytes, default JSON_VALUE_MAX) and the
   *  stack (`pathCap` bytes of keys, `depthMax` levels: smaller for documents
   *  known to be shallow). Init time only. */
  constructor(valueCap: i32 = JSON_VALUE_MAX, pathCap: i32 = JSON_PATH_MAX, depthMax: i32 = JSON_DEPTH_MAX) {
    this.scratchCap = valueCap;
    this.pathCap = pathCap;
    this.depthMax = depthMax;
    this.scratch = heap.alloc(<usize>valueCap);
    this.path = heap.alloc(<usize>pathCap);
    // One block for the level stack: keyStart, keyLength (i16 each), kind
    // (u8). heap.alloc does not clear it; level 0's key start must read 0.
    const levels = <usize>(depthMax + 1);
    const stack = heap.alloc(levels * 5);
    memory.fill(stack, 0, levels * 5);
    this.keyStart = stack;
    this.keyLength = stack + (levels << 1);
    this.kind = stack + (levels << 2);
  }

  /** Forgets the document, the input and any error. */
  reset(): void {
    this.inPtr = 0;
    this.inLen = 0;
    this.inPos = 0;
    this.state = S_TOP;
    this.level = 0;
    this.tokLevel = 0;
    this.err = OK;
    this.docDone = false;
    this.skipTo = -1;
    this.valLen = 0;
    this.trunc = false;
    this.hiSurrogate = 0;
    this.partPending = false;
  }

  /** Next input chunk. Call after next() returned E_NEED_MORE (unread bytes of
   *  the previous chunk are dropped); the chunk must stay valid until then. */
  feed(ptr: usize, len: i32): void {
    this.inPtr = ptr;
    this.inLen = len < 0 ? 0 : len;
    this.inPos = 0;
  }

  /** Bytes of the current chunk not yet read. */
  get remaining(): i32 { return this.inLen - this.inPos; }

  /** Containers open now (after a BEGIN token it includes the new one). */
  get depth(): i32 { return this.level; }
  get error(): i32 { return this.err; }
  /** Current string (unescaped UTF-8) or number/literal text; valid until the next call of next(). */
  get valuePtr(): usize { return this.scratch; }
  get valueLen(): i32 { return this.trunc ? 0 : this.valLen; }
  /** The current string was longer than the scratch: skipped, valueLen 0. */
  get truncated(): bool { return this.trunc; }

  /** The key labelling the current token (UTF-8 in the path stack), or 0/-1 length. */
  get keyPtr(): usize {
    return this.path + <usize><i32>load<i16>(this.keyStart + (<usize>(this.tokLevel) << 1));
  }
  /** Length of keyPtr's key; -1 when the current value has no key (array
   *  element, root) or the key was longer than JSON_KEY_MAX. */
  get keyLen(): i32 {
    const l = this.tokLevel;
    if (l == 0 || load<u8>(this.kind + <usize>(l)) != C_OBJECT) return -1;
    return <i32>load<i16>(this.keyLength + (<usize>(l) << 1));
  }

  /** The key of the current value (in its enclosing object) is `k`. */
  keyIs(k: string): bool {
    const n = this.keyLen;
    if (n < 0) return false;
    return matchUtf8At(this.keyPtr, n, k, 0) == k.length;
  }

  /** The whole path of the current value is `p`: keys joined by '.', array
   *  element levels written "[]" ("items[].metadata.name"); "" is the root.
   *  For BEGIN/END tokens it is the container's own path. */
  pathIs(p: string): bool {
    const base = this.path;
    let j = 0;
    for (let i = 1; i <= this.tokLevel; i++) {
      if (load<u8>(this.kind + <usize>(i)) == C_ARRAY) {
        if (j + 2 > p.length || p.charCodeAt(j) != 0x5b || p.charCodeAt(j + 1) != 0x5d) return false;
        j += 2;
        continue;
      }
      if (i > 1) {
        if (j >= p.length || p.charCodeAt(j) != 0x2e) return false;
        j++;
      }
      const n = <i32>load<i16>(this.keyLength + (<usize>(i) << 1));
      if (n < 0) return false;
      j = matchUtf8At(base + <usize><i32>load<i16>(this.keyStart + (<usize>(i) << 1)), n, p, j);
      if (j < 0) return false;
    }
    return j == p.length;
  }

  /** pathIs() with the path given as a UTF-8 literal (util/lit.ts). */
  pathIsLit(p: Lit): bool {
    const base = this.path;
    const q = litPtr(p);
    const pn = litLen(p);
    let j = 0;
    for (let i = 1; i <= this.tokLevel; i++) {
      if (load<u8>(this.kind + <usize>(i)) == C_ARRAY) {
        if (j + 2 > pn || load<u8>(q + <usize>j) != 0x5b || load<u8>(q + <usize>(j + 1)) != 0x5d) return false;
        j += 2;
        continue;
      }
      if (i > 1) {
        if (j >= pn || load<u8>(q + <usize>j) != 0x2e) return false;
        j++;
      }
      const n = <i32>load<i16>(this.keyLength + (<usize>(i) << 1));
      if (n < 0 || j + n > pn) return false;
      if (!memEqual(base + <usize><i32>load<i16>(this.keyStart + (<usize>(i) << 1)), q + <usize>j, n)) return false;
      j += n;
    }
    return j == pn;
  }

  /** The current string/number text equals `s` (false when truncated). */
  valueIs(s: string): bool {
    if (this.trunc) return false;
    return bytesEqualStr(this.valuePtr, this.valLen, s);
  }

  /** valueIs() with a UTF-8 literal (util/lit.ts): no UTF-16 string in the module. */
  valueIsLit(l: Lit): bool {
    return !this.trunc && bytesEqualLit(this.valuePtr, this.valLen, l);
  }

  /** The current number (or a string of decimal digits, as resourceVersion)
   *  as an integer. When it is not an integer that fits i64 (fraction,
   *  exponent, overflow, other text) it returns 0 and valueIntError tells why. */
  valueInt(): i64 {
    const r = this.trunc ? E_TOOLARGE : parseI64(this.valuePtr, this.valLen);
    this.intErr = r;
    return r == OK ? parsedI64 : 0;
  }

  /** OK, or why the last valueInt() returned 0 (E_MALFORMED, E_TOOLARGE). */
  get valueIntError(): i32 { return this.intErr; }

  /** After a BEGIN token: the following next() calls read past the whole
   *  container and return its END token (or E_NEED_MORE / an error). */
  skipContainer(): void {
    if (this.err == OK && this.level > 0) this.skipTo = this.level - 1;
  }

  /** The next token (> 0), TOK_END when a top-level value completed,
   *  E_NEED_MORE when the chunk is used up mid-document, or the sticky error. */
  next(): i32 {
    if (this.err != OK) return this.err;
    while (true) {
      if (this.docDone) {
        this.docDone = false;
        this.state = S_TOP;
        this.tokLevel = 0;
        this.valLen = 0;
        return TOK_END;
      }
      if (this.partPending) {
        // The piece was handed out: the scratch starts over for the next one.
        this.partPending = false;
        this.valLen = 0;
      }
      const t = this.step();
      if (t < 0) {
        if (t != E_NEED_MORE) this.err = t;
        return t;
      }
      if (this.skipTo >= 0) {
        if ((t == TOK_END_OBJECT || t == TOK_END_ARRAY) && this.level == this.skipTo) {
          this.skipTo = -1;
          return t;
        }
        continue;
      }
      return t;
    }
  }

  // ---- internals ----

  private push(k: u8): i32 {
    const l = this.level;
    if (l >= this.depthMax) return E_DEPTH;
    this.tokLevel = l;
    let start: i32 = <i32>load<i16>(this.keyStart + (<usize>(l) << 1));
    if (l > 0 && load<u8>(this.kind + <usize>(l)) == C_OBJECT) {
      const kl: i32 = <i32>load<i16>(this.keyLength + (<usize>(l) << 1));
      if (kl > 0) start += kl;
    }
    store<u8>(this.kind + <usize>(l + 1), k);
    store<i16>(this.keyStart + (<usize>(l + 1) << 1), <i16>start);
    store<i16>(this.keyLength + (<usize>(l + 1) << 1), 0);
    this.level = l + 1;
    this.valLen = 0;
    this.trunc = false;
    this.state = k == C_OBJECT ? S_OBJECT_FIRST : S_ARRAY_FIRST;
    return k == C_OBJECT ? TOK_BEGIN_OBJECT : TOK_BEGIN_ARRAY;
  }

  private pop(): i32 {
    const k = load<u8>(this.kind + <usize>(this.level));
    this.level--;
    this.tokLevel = this.level;
    this.valLen = 0;
    this.trunc = false;
    this.afterValue();
    return k == C_OBJECT ? TOK_END_OBJECT : TOK_END_ARRAY;
  }

  private afterValue(): void {
    if (this.level == 0) {
      this.docDone = true;
      this.state = S_TOP;
    } else {
      this.state = S_AFTER;
    }
  }

  private beginKey(): void {
    this.inKey = true;
    store<i16>(this.keyLength + (<usize>(this.level) << 1), 0);
    this.hiSurrogate = 0;
    this.state = S_STRING;
  }

  /** Starts the value whose first byte is `c` (consumed unless noted). */
  private beginValue(c: u32): i32 {
    if (c == 0x7b) return this.push(C_OBJECT);
    if (c == 0x5b) return this.push(C_ARRAY);
    this.tokLevel = this.level;
    this.valLen = 0;
    this.trunc = false;
    if (c == 0x22) {
      this.inKey = false;
      this.hiSurrogate = 0;
      this.state = S_STRING;
      return 0;
    }
    if (c == 0x2d || c - 0x30 < 10) {
      this.numState = c == 0x2d ? N_MINUS : c == 0x30 ? N_ZERO : N_INT;
      this.putByte(c);
      this.state = S_NUMBER;
      return 0;
    }
    if (c == 0x74) this.litTok = TOK_TRUE;
    else if (c == 0x66) this.litTok = TOK_FALSE;
    else if (c == 0x6e) this.litTok = TOK_NULL;
    else return E_MALFORMED;
    this.litIdx = 1;
    this.putByte(c);
    this.state = S_LITERAL;
    return 0;
  }

  /** Appends one byte to the current key or value. */
  private putByte(c: u32): void {
    if (this.inKey) {
      const l = this.level;
      const n: i32 = <i32>load<i16>(this.keyLength + (<usize>(l) << 1));
      if (n < 0) return;
      const start: i32 = <i32>load<i16>(this.keyStart + (<usize>(l) << 1));
      if (n >= JSON_KEY_MAX || start + n >= this.pathCap) {
        store<i16>(this.keyLength + (<usize>(l) << 1), -1);
        return;
      }
      store<u8>(this.path + <usize>(start + n), c);
      store<i16>(this.keyLength + (<usize>(l) << 1), <i16>(n + 1));
      return;
    }
    if (this.trunc) return;
    if (this.valLen >= this.scratchCap) {
      this.trunc = true;
      return;
    }
    store<u8>(this.scratch + <usize>this.valLen, c);
    this.valLen++;
  }

  private putCp(cp: u32): void {
    const tmp = memory.data(4);
    const n = putUtf8(tmp, cp);
    for (let i = 0; i < n; i++) this.putByte(load<u8>(tmp + <usize>i));
  }

  /** A string ended: a key moves on to its colon, a value is a token. */
  private endString(): i32 {
    if (this.hiSurrogate != 0) {
      this.putCp(0xfffd);
      this.hiSurrogate = 0;
    }
    if (this.inKey) {
      this.inKey = false;
      this.state = S_COLON;
      return 0;
    }
    this.afterValue();
    return TOK_STRING;
  }

  /** Handles one decoded \uXXXX code unit, joining surrogate pairs; lone
   *  surrogates become U+FFFD (as Go's encoding/json does). */
  private unicodeUnit(u: u32): void {
    if (this.hiSurrogate != 0) {
      const hi = this.hiSurrogate;
      this.hiSurrogate = 0;
      if (u - 0xdc00 < 0x400) {
        this.putCp(0x10000 + ((hi - 0xd800) << 10) + (u - 0xdc00));
        return;
      }
      this.putCp(0xfffd);
    }
    if (u - 0xd800 < 0x400) {
      this.hiSurrogate = u;
      return;
    }
    if (u - 0xdc00 < 0x400) u = 0xfffd;
    this.putCp(u);
  }

  /** Runs the state machine over the chunk until a token completes. */
  private step(): i32 {
    const p = this.inPtr;
    while (this.inPos < this.inLen) {
      const c = <u32>load<u8>(p + <usize>this.inPos);
      const st = this.state;
      if (st == S_STRING) {
        // A full scratch in streaming mode is handed out as a piece; the 4
        // bytes of headroom fit the longest UTF-8 sequence an escape yields.
        if (this.streamStrings && !this.inKey && this.valLen > this.scratchCap - 4) {
          this.partPending = true;
          return TOK_STRING_PART;
        }
        // Fast path: copy plain bytes until a quote, backslash or control.
        if (this.hiSurrogate != 0 && c != 0x5c) {
          this.putCp(0xfffd);
          this.hiSurrogate = 0;
        }
        this.inPos++;
        if (c == 0x22) {
          const t = this.endString();
          if (t != 0) return t;
          continue;
        }
        if (c == 0x5c) {
          this.state = S_ESCAPE;
          continue;
        }
        if (c < 0x20) return E_MALFORMED; // RFC 8259 §7: controls must be escaped
        this.putByte(c);
        continue;
      }
      if (st == S_ESCAPE) {
        this.inPos++;
        if (c == 0x75) {
          this.state = S_UNICODE;
          this.uCount = 0;
          this.uAcc = 0;
          continue;
        }
        if (this.hiSurrogate != 0) {
          this.putCp(0xfffd);
          this.hiSurrogate = 0;
        }
        let out: u32 = 0;
        if (c == 0x22 || c == 0x5c || c == 0x2f) out = c;
        else if (c == 0x62) out = 0x08;
        else if (c == 0x66) out = 0x0c;
        else if (c == 0x6e) out = 0x0a;
        else if (c == 0x72) out = 0x0d;
        else if (c == 0x74) out = 0x09;
        else return E_MALFORMED;
        this.state = S_STRING;
        this.putByte(out);
        continue;
      }
      if (st == S_UNICODE) {
        this.inPos++;
        const d = hexVal(c);
        if (d < 0) return E_MALFORMED;
        this.uAcc = (this.uAcc << 4) | <u32>d;
        if (++this.uCount == 4) {
          this.state = S_STRING;
          this.unicodeUnit(this.uAcc);
        }
        continue;
      }
      if (st == S_NUMBER) {
        const ns = this.numState;
        const digit = c - 0x30 < 10;
        let next = -1; // -1: the number ended before c; -2: malformed
        if (ns == N_MINUS) next = c == 0x30 ? N_ZERO : digit ? N_INT : -2;
        else if (ns == N_ZERO) next = c == 0x2e ? N_DOT : (c | 0x20) == 0x65 ? N_E : digit ? -2 : -1;
        else if (ns == N_INT) next = digit ? N_INT : c == 0x2e ? N_DOT : (c | 0x20) == 0x65 ? N_E : -1;
        else if (ns == N_DOT) next = digit ? N_FRAC : -2;
        else if (ns == N_FRAC) next = digit ? N_FRAC : (c | 0x20) == 0x65 ? N_E : -1;
        else if (ns == N_E) next = c == 0x2b || c == 0x2d ? N_ESIGN : digit ? N_EXP : -2;
        else if (ns == N_ESIGN) next = digit ? N_EXP : -2;
        else next = digit ? N_EXP : -1; // N_EXP
        if (next == -2) return E_MALFORMED;
        if (next == -1) {
          // c is not part of the number: leave it for the next state.
          this.afterValue();
          return TOK_NUMBER;
        }
        this.inPos++;
        this.numState = next;
        this.putByte(c);
        continue;
      }
      if (st == S_LITERAL) {
        const lit = this.litTok == TOK_TRUE ? LIT_TRUE : this.litTok == TOK_FALSE ? LIT_FALSE : LIT_NULL;
        if (c != <u32>load<u8>(litPtr(lit) + <usize>this.litIdx)) return E_MALFORMED;
        this.inPos++;
        this.putByte(c);
        if (++this.litIdx == litLen(lit)) {
          this.afterValue();
          return this.litTok;
        }
        continue;
      }
      // Structural states: skip whitespace first.
      this.inPos++;
      if (isWs(c)) continue;
      if (st == S_TOP || st == S_VALUE) {
        const t = this.beginValue(c);
        if (t != 0) return t;
        continue;
      }
      if (st == S_ARRAY_FIRST) {
        if (c == 0x5d) return this.pop();
        const t = this.beginValue(c);
        if (t != 0) return t;
        continue;
      }
      if (st == S_OBJECT_FIRST) {
        if (c == 0x7d) return this.pop();
        if (c != 0x22) return E_MALFORMED;
        this.beginKey();
        continue;
      }
      if (st == S_KEY) {
        if (c != 0x22) return E_MALFORMED; // also rejects a trailing comma
        this.beginKey();
        continue;
      }
      if (st == S_COLON) {
        if (c != 0x3a) return E_MALFORMED;
        this.state = S_VALUE;
        continue;
      }
      // S_AFTER
      const k = load<u8>(this.kind + <usize>(this.level));
      if (c == 0x2c) {
        this.state = k == C_OBJECT ? S_KEY : S_VALUE;
        continue;
      }
      if ((c == 0x7d && k == C_OBJECT) || (c == 0x5d && k == C_ARRAY)) return this.pop();
      return E_MALFORMED;
    }
    return E_NEED_MORE;
  }
}
