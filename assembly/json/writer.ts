// JSON writer into a caller-owned buffer (RFC 8259). No allocation: the
// caller supplies the buffer; commas and colons are placed from a nesting
// stack held in two bit sets (depth <= JSON_DEPTH_MAX <= 64).

import { E_DEPTH, E_TOOLARGE, OK } from "../util/errors";
import { JSON_DEPTH_MAX } from "../util/limits";
import { codePointAt, formatI64, decLen } from "../util/bytes";
import { Lit, litLen, litPtr, utf8 } from "../util/lit";
import { base64Encode, base64Len } from "../util/base64";

/** Lower-case hex digits, shared with other writers of hex text. */
export const HEX: Lit = utf8("0123456789abcdef");
/** JSON literal names (RFC 8259 section 3), shared with the reader. */
export const LIT_TRUE: Lit = utf8("true");
export const LIT_FALSE: Lit = utf8("false");
export const LIT_NULL: Lit = utf8("null");

/** Writes one JSON text into (buf, cap). The first error (E_TOOLARGE when the
 *  buffer is full, E_DEPTH when nesting exceeds JSON_DEPTH_MAX) sticks until
 *  reset(); after it `len` stops growing and the text is incomplete. */
// @ts-ignore: decorator
@unmanaged
export class JsonWriter {
  private buf: usize;
  private cap: i32;
  private pos: i32 = 0;
  private err: i32 = OK;
  private level: i32 = 0;
  /** bit d set: the container at depth d already holds an element. */
  private nonEmpty: u64 = 0;
  /** A key was written; the next value follows its colon without a comma. */
  private afterKey: bool = false;

  constructor(buf: usize, cap: i32) {
    this.buf = buf;
    this.cap = cap;
  }

  /** Starts a new text in the same buffer, clearing the error. */
  reset(): void {
    this.pos = 0;
    this.err = OK;
    this.level = 0;
    this.nonEmpty = 0;
    this.afterKey = false;
  }

  /** Points the writer at another buffer (and resets it). */
  setBuffer(buf: usize, cap: i32): void {
    this.buf = buf;
    this.cap = cap;
    this.reset();
  }

  get ptr(): usize { return this.buf; }
  get len(): i32 { return this.pos; }
  get error(): i32 { return this.err; }
  get depth(): i32 { return this.level; }

  beginObject(): void { this.open(0x7b); }
  endObject(): void { this.close(0x7d); }
  beginArray(): void { this.open(0x5b); }
  endArray(): void { this.close(0x5d); }

  /** Writes an object key (escaped) and its colon. */
  key(k: string): void {
    this.separate();
    this.quoted(k);
    this.byte(0x3a);
    this.afterKey = true;
  }

  /** Writes an object key given as UTF-8 bytes. */
  keyBytes(ptr: usize, len: i32): void {
    this.separate();
    this.quotedBytes(ptr, len);
    this.byte(0x3a);
    this.afterKey = true;
  }

  /** Writes an object key given as a UTF-8 literal (util/lit.ts). */
  keyLit(k: Lit): void {
    this.keyBytes(litPtr(k), litLen(k));
  }

  // Key + value in one call: each pair is one call site instead of two
  // (code size, see DESIGN.md "Budgets").

  /** keyLit(k) then strLit(v). */
  kvLit(k: Lit, v: Lit): void {
    this.keyLit(k);
    this.strLit(v);
  }

  /** keyLit(k) then strBytes(ptr, len). */
  kvBytes(k: Lit, ptr: usize, len: i32): void {
    this.keyLit(k);
    this.strBytes(ptr, len);
  }

  /** keyLit(k) then int(v). */
  kvInt(k: Lit, v: i64): void {
    this.keyLit(k);
    this.int(v);
  }

  /** keyLit(k) then beginObject(). */
  keyObject(k: Lit): void {
    this.keyLit(k);
    this.beginObject();
  }

  /** keyLit(k) then beginArray(). */
  keyArray(k: Lit): void {
    this.keyLit(k);
    this.beginArray();
  }

  /** A string value given as a UTF-8 literal (escaped like strBytes). */
  strLit(s: Lit): void {
    this.strBytes(litPtr(s), litLen(s));
  }

  /** A string value; UTF-16 is encoded to UTF-8, lone surrogates become U+FFFD. */
  str(s: string): void {
    this.separate();
    this.quoted(s);
  }

  /** A string value from UTF-8 bytes (escaped, bytes >= 0x80 copied as they are). */
  strBytes(ptr: usize, len: i32): void {
    this.separate();
    this.quotedBytes(ptr, len);
  }

  int(v: i64): void {
    this.separate();
    if (this.err != OK) return;
    const n = decLen(v);
    if (this.pos + n > this.cap) { this.fail(E_TOOLARGE); return; }
    formatI64(this.buf + <usize>this.pos, n, v);
    this.pos += n;
  }

  bool(v: bool): void {
    this.separate();
    this.ascii(v ? LIT_TRUE : LIT_FALSE);
  }

  nul(): void {
    this.separate();
    this.ascii(LIT_NULL);
  }

  /** A pre-encoded JSON value, copied verbatim. */
  raw(ptr: usize, len: i32): void {
    this.separate();
    if (this.err != OK) return;
    if (len < 0 || this.pos + len > this.cap) { this.fail(E_TOOLARGE); return; }
    memory.copy(this.buf + <usize>this.pos, ptr, <usize>len);
    this.pos += len;
  }

  /** A string value holding base64 (RFC 4648 section 4) of (ptr, len): how
   *  Kubernetes carries []byte fields. No escaping is needed for its alphabet. */
  strBase64(ptr: usize, len: i32): void {
    this.separate();
    if (this.err != OK) return;
    const n = base64Len(len);
    if (len < 0 || this.pos + n + 2 > this.cap) { this.fail(E_TOOLARGE); return; }
    store<u8>(this.buf + <usize>this.pos, 0x22);
    base64Encode(ptr, len, this.buf + <usize>this.pos + 1, n);
    store<u8>(this.buf + <usize>(this.pos + 1 + n), 0x22);
    this.pos += n + 2;
  }

  // ---- internals ----

  private fail(code: i32): void {
    if (this.err == OK) this.err = code;
  }

  private byte(c: u32): void {
    if (this.err != OK) return;
    if (this.pos >= this.cap) { this.fail(E_TOOLARGE); return; }
    store<u8>(this.buf + <usize>this.pos, c);
    this.pos++;
  }

  private ascii(s: Lit): void {
    for (let i = 0, n = litLen(s); i < n; i++) this.byte(load<u8>(litPtr(s) + <usize>i));
  }

  /** Comma before every element but the first of its container. */
  private separate(): void {
    if (this.afterKey) { this.afterKey = false; return; }
    const d = this.level;
    if (d == 0) return;
    const bit = <u64>1 << <u64>(d - 1);
    if (this.nonEmpty & bit) this.byte(0x2c);
    else this.nonEmpty |= bit;
  }

  private open(c: u32): void {
    this.separate();
    if (this.level >= JSON_DEPTH_MAX || this.level >= 64) { this.fail(E_DEPTH); return; }
    this.byte(c);
    this.level++;
    this.nonEmpty &= ~(<u64>1 << <u64>(this.level - 1));
  }

  private close(c: u32): void {
    this.afterKey = false;
    if (this.level > 0) this.level--;
    this.byte(c);
  }

  /** One escaped code point (RFC 8259 §7: quote, backslash and controls). */
  private escaped(cp: u32): void {
    if (cp == 0x22 || cp == 0x5c) { this.byte(0x5c); this.byte(cp); return; }
    if (cp < 0x20) {
      this.byte(0x5c);
      if (cp == 0x0a) this.byte(0x6e);
      else if (cp == 0x0d) this.byte(0x72);
      else if (cp == 0x09) this.byte(0x74);
      else if (cp == 0x08) this.byte(0x62);
      else if (cp == 0x0c) this.byte(0x66);
      else {
        this.ascii(utf8("u00"));
        this.byte(load<u8>(litPtr(HEX) + <usize>(cp >> 4)));
        this.byte(load<u8>(litPtr(HEX) + <usize>(cp & 15)));
      }
      return;
    }
    if (cp < 0x80) { this.byte(cp); return; }
    if (cp < 0x800) { this.byte(0xc0 | (cp >> 6)); this.byte(0x80 | (cp & 0x3f)); return; }
    if (cp < 0x10000) {
      this.byte(0xe0 | (cp >> 12)); this.byte(0x80 | ((cp >> 6) & 0x3f)); this.byte(0x80 | (cp & 0x3f));
      return;
    }
    this.byte(0xf0 | (cp >> 18)); this.byte(0x80 | ((cp >> 12) & 0x3f));
    this.byte(0x80 | ((cp >> 6) & 0x3f)); this.byte(0x80 | (cp & 0x3f));
  }

  private quoted(s: string): void {
    this.byte(0x22);
    const n = s.length;
    for (let i = 0; i < n; i++) {
      const cp = codePointAt(s, i, n);
      if (cp >= 0x10000) i++;
      this.escaped(cp);
    }
    this.byte(0x22);
  }

  private quotedBytes(ptr: usize, len: i32): void {
    this.byte(0x22);
    for (let i = 0; i < len; i++) {
      const c = <u32>load<u8>(ptr + <usize>i);
      if (c >= 0x80) this.byte(c); // part of a UTF-8 sequence: verbatim
      else this.escaped(c);
    }
    this.byte(0x22);
  }
}
