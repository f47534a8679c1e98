// HTTP/1.1 request writer into a caller-owned buffer (RFC 9112 §3, §5, §6).

import { E_INVAL, E_TOOLARGE, OK } from "../util/errors";
import { decLen, formatI64, writeStr, utf8Len } from "../util/bytes";
import { bytesEqualLit, Lit, litLen, litPtr, utf8 } from "../util/lit";

// Literals used more than once in this file: one copy each (util/lit.ts).
const K_HTTP11_CRLF: Lit = utf8(" HTTP/1.1\r\n");
const K_CRLF: Lit = utf8("\r\n");
const K_COLON_SP: Lit = utf8(": ");

/** Method names, exported so callers share these copies (util/lit.ts). */
export const METHOD_GET: Lit = utf8("GET");
export const METHOD_POST: Lit = utf8("POST");
export const METHOD_PUT: Lit = utf8("PUT");
export const METHOD_PATCH: Lit = utf8("PATCH");

/** Writes one request: start(), header()..., finish(body). The first error
 *  sticks until the next start(): E_TOOLARGE when the buffer is full, E_INVAL
 *  for CR, LF or other controls in the target or a header (they would let
 *  outside data inject headers, RFC 9112 §2.2). */
// @ts-ignore: decorator
@unmanaged
export class RequestWriter {
  private buf: usize;
  private cap: i32;
  private pos: i32 = 0;
  private err: i32 = OK;
  private needsLength: bool = false;
  private finished: bool = false;
  private head: bool = false;
  private locked: bool = false;
  private idem: bool = false;
  private bodyLength: i32 = 0;
  /** The method's first bytes, kept apart: an HTTP/2 client rewrites the
   *  request line in place (h2.ts), callers still ask for the method. */
  private methodBuf: usize = heap.alloc(8);
  private methodLength: i32 = 0;

  constructor(buf: usize, cap: i32) {
    this.buf = buf;
    this.cap = cap;
  }

  get ptr(): usize { return this.buf; }
  get len(): i32 { return this.pos; }
  /** The sticky error; E_INVAL while locked (writes are refused then). */
  get error(): i32 { return this.locked ? E_INVAL : this.err; }
  get capacity(): i32 { return this.cap; }
  /** The request is HEAD: its response has no body. */
  get isHead(): bool { return this.head; }
  /** The method is idempotent (RFC 9110 §9.2.2): safe to retry automatically. */
  get idempotent(): bool { return this.idem; }
  /** Body length given to finish(). */
  get bodyLen(): i32 { return this.bodyLength; }
  /** The method (up to 8 bytes of it), valid until the next start. */
  get methodPtr(): usize { return this.methodBuf; }
  get methodLen(): i32 { return this.methodLength; }
  /** finish() succeeded and no new request was started since. */
  get complete(): bool { return this.finished && this.err == OK; }

  /** While locked (the client is sending this request) every writing call is
   *  ignored and finish() returns E_INVAL: the bytes in flight stay intact. */
  lock(): void { this.locked = true; }
  unlock(): void { this.locked = false; }
  get isLocked(): bool { return this.locked; }

  /** Request line `METHOD path HTTP/1.1` (RFC 9112 §3); `path` is the origin-form target. */
  start(method: string, path: string): void {
    if (this.locked) return;
    this.pos = 0;
    this.err = OK;
    const m = utf8Len(method);
    if (this.room(m)) { writeStr(this.buf, m, method); this.pos = m; }
    this.begin(m);
    const n = utf8Len(path);
    if (this.room(n)) {
      writeStr(this.buf + <usize>this.pos, n, path);
      this.checkField(this.pos, n, false);
      this.pos += n;
    }
    this.ascii(K_HTTP11_CRLF);
  }

  /** Like start() with the method given as a UTF-8 literal (util/lit.ts) and the target as bytes. */
  startLit(method: Lit, pathPtr: usize, pathLen: i32): void {
    if (this.locked) return;
    this.pos = 0;
    this.err = OK;
    this.ascii(method);
    this.begin(litLen(method));
    this.bytes(pathPtr, pathLen, false);
    this.ascii(K_HTTP11_CRLF);
  }

  /** Appends more bytes to the target (before the first header): query parts. */
  appendTarget(s: string): void {
    // Undo the " HTTP/1.1\r\n" tail, append, and write it again.
    if (this.locked || this.err != OK) return;
    this.pos -= 11;
    const n = utf8Len(s);
    if (this.room(n)) {
      writeStr(this.buf + <usize>this.pos, n, s);
      this.checkField(this.pos, n, false);
      this.pos += n;
    }
    this.ascii(K_HTTP11_CRLF);
  }

  /** Appends bytes to the target, like appendTarget(). */
  appendTargetBytes(ptr: usize, len: i32): void {
    if (this.locked || this.err != OK) return;
    this.pos -= 11;
    this.bytes(ptr, len, false);
    this.ascii(K_HTTP11_CRLF);
  }

  header(name: string, value: string): void {
    this.nameStr(name);
    const n = utf8Len(value);
    if (this.room(n)) {
      writeStr(this.buf + <usize>this.pos, n, value);
      this.checkField(this.pos, n, true);
      this.pos += n;
    }
    this.ascii(K_CRLF);
  }

  headerBytes(name: string, ptr: usize, len: i32): void {
    this.nameStr(name);
    this.bytes(ptr, len, true);
    this.ascii(K_CRLF);
  }

  /** A header whose name is a UTF-8 literal and whose value is bytes. */
  headerLitBytes(name: Lit, ptr: usize, len: i32): void {
    this.headerLitBytes2(name, ptr, len, 0, 0);
  }

  /** headerLitBytes() with the value in two runs (e.g. a host name and
   *  ":port"), so the caller needs no buffer to join them. */
  headerLitBytes2(name: Lit, ptr: usize, len: i32, ptr2: usize, len2: i32): void {
    this.ascii(name);
    this.ascii(K_COLON_SP);
    this.bytes(ptr, len, true);
    if (len2 > 0) this.bytes(ptr2, len2, true);
    this.ascii(K_CRLF);
  }

  /** A header whose name and value are UTF-8 literals. */
  headerLit(name: Lit, value: Lit): void {
    this.headerLitBytes(name, litPtr(value), litLen(value));
  }

  headerInt(name: Lit, v: i64): void {
    this.ascii(name);
    this.ascii(K_COLON_SP);
    const n = decLen(v);
    if (this.room(n)) {
      formatI64(this.buf + <usize>this.pos, n, v);
      this.pos += n;
    }
    this.ascii(K_CRLF);
  }

  /** Ends the header section and appends the body. Content-Length is written
   *  when there is a body or the method is POST/PUT/PATCH (RFC 9110 §8.6: a
   *  user agent SHOULD send it for a body-carrying method even when 0).
   *  Returns the total length of the request or the sticky error. */
  finish(bodyPtr: usize, bodyLen: i32): i32 {
    if (this.locked) return E_INVAL;
    if (this.err == OK && bodyLen < 0) this.err = E_INVAL;
    this.bodyLength = bodyLen;
    if (bodyLen > 0 || this.needsLength) this.headerInt(utf8("Content-Length"), bodyLen);
    this.ascii(K_CRLF);
    if (bodyLen > 0 && this.room(bodyLen)) {
      memory.copy(this.buf + <usize>this.pos, bodyPtr, <usize>bodyLen);
      this.pos += bodyLen;
    }
    if (this.err != OK) return this.err;
    this.finished = true;
    return this.pos;
  }

  // ---- internals ----

  /** The method's `m` bytes are at the start of the buffer: classify it, add the space. */
  private begin(m: i32): void {
    this.finished = false;
    const b = this.buf;
    this.methodLength = m < 8 ? m : 8;
    if (this.err == OK) memory.copy(this.methodBuf, b, <usize>this.methodLength);
    this.needsLength = this.isMethod(b, m, METHOD_POST) || this.isMethod(b, m, METHOD_PUT) ||
      this.isMethod(b, m, METHOD_PATCH);
    this.head = this.isMethod(b, m, utf8("HEAD"));
    this.idem = this.head || this.isMethod(b, m, METHOD_GET) || this.isMethod(b, m, METHOD_PUT) ||
      this.isMethod(b, m, utf8("DELETE")) || this.isMethod(b, m, utf8("OPTIONS"));
    this.ascii(utf8(" "));
  }

  private isMethod(p: usize, n: i32, l: Lit): bool {
    return this.err == OK && bytesEqualLit(p, n, l);
  }

  private room(n: i32): bool {
    if (this.locked || this.err != OK) return false;
    if (n > this.cap - this.pos) { this.err = E_TOOLARGE; return false; }
    return true;
  }

  /** Appends a literal verbatim (method, fixed text, header name). */
  private ascii(s: Lit): void {
    const n = litLen(s);
    if (!this.room(n)) return;
    memory.copy(this.buf + <usize>this.pos, litPtr(s), <usize>n);
    this.pos += n;
  }

  private bytes(ptr: usize, len: i32, isValue: bool): void {
    if (len < 0) { if (this.err == OK) this.err = E_INVAL; return; }
    if (!this.room(len)) return;
    memory.copy(this.buf + <usize>this.pos, ptr, <usize>len);
    this.checkField(this.pos, len, isValue);
    this.pos += len;
  }

  private nameStr(name: string): void {
    const n = utf8Len(name);
    if (this.room(n)) {
      writeStr(this.buf + <usize>this.pos, n, name);
      this.pos += n;
    }
    this.ascii(K_COLON_SP);
  }

  /** Rejects controls (a value may hold HTAB, RFC 9110 §5.5; a target not
   *  even a space, RFC 9112 §3.2). */
  private checkField(at: i32, len: i32, isValue: bool): void {
    for (let i = 0; i < len; i++) {
      const c = <u32>load<u8>(this.buf + <usize>(at + i));
      const bad = c == 0x7f || (c < 0x20 && !(isValue && c == 0x09)) || (!isValue && c == 0x20);
      if (bad) { if (this.err == OK) this.err = E_INVAL; return; }
    }
  }
}
