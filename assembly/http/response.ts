// Push-style HTTP/1.1 response parser (RFC 9112).
//
// feed() takes bytes as they arrive and returns how many it consumed; headers
// are parsed on the fly and never stored (only the few we act on are kept:
// Content-Length, Transfer-Encoding, Connection, Date). The body is returned
// as a slice of the caller's input (bodyPtr/bodyLen, no copy, chunked framing
// removed), at most one slice per feed call: the caller loops over its input.
//
//   let off = 0;
//   while (off < n && !p.done) {
//     const c = p.feed(buf + off, n - off);
//     if (c < 0) -> error
//     if (p.bodyLen > 0) -> use (p.bodyPtr, p.bodyLen)
//     off += c;
//   }

import { E_CLOSED, E_MALFORMED, E_TOOLARGE, OK } from "../util/errors";
import { HTTP_CHUNK_SIZE_DIGITS_MAX, HTTP_DATE_MAX, HTTP_HEADER_MAX } from "../util/limits";
import { bytesEqualLitNoCase, hexVal, lowerAscii, parseDec } from "../util/bytes";
import { litPtr, utf8 } from "../util/lit";

// Parser states.
const P_STATUS: i32 = 0; // status line
const P_LINE_START: i32 = 1; // start of a header line (or the blank line)
const P_NAME: i32 = 2; // in a header name
const P_VALUE: i32 = 3; // in a header value
const P_LINE_LF: i32 = 4; // after CR of a header line
const P_END_LF: i32 = 5; // after CR of the blank line
const P_BODY_LENGTH: i32 = 6; // Content-Length body
const P_BODY_CLOSE: i32 = 7; // body delimited by connection close
const P_CHUNK_SIZE: i32 = 8; // hex digits of a chunk size
const P_CHUNK_EXT: i32 = 9; // BWS / chunk extensions up to CRLF
const P_CHUNK_SIZE_LF: i32 = 10; // after CR of the size line
const P_CHUNK_DATA: i32 = 11;
const P_CHUNK_DATA_CR: i32 = 12; // CRLF after chunk data
const P_CHUNK_DATA_LF: i32 = 13;
const P_TRAILER_START: i32 = 14; // start of a trailer line (or the final blank line)
const P_TRAILER_LINE: i32 = 15; // inside a trailer field line (skipped)
const P_TRAILER_END_LF: i32 = 16; // after CR of the final blank line
const P_DONE: i32 = 17;

// Headers we act on.
const H_OTHER: i32 = 0;
const H_CONTENT_LENGTH: i32 = 1;
const H_TRANSFER_ENCODING: i32 = 2;
const H_CONNECTION: i32 = 3;
const H_DATE: i32 = 4;

/** Longest header name we need to recognise ("transfer-encoding"). */
const NAME_CAP: i32 = 20;
/** Value bytes kept for a recognised header: a Content-Length, a coding list,
 *  connection options, a Date. Longer Transfer-Encoding/Content-Length values
 *  are malformed for us; longer Connection values are read up to here. */
const VALUE_CAP: i32 = 64;
/** Bytes of the status line kept: "HTTP/1.1 200 " is 13; the reason is skipped. */
const STATUS_CAP: i32 = 13;

/** Parses one response at a time; reset() before the next. The first error
 *  sticks until reset(). */
// @ts-ignore: decorator
@unmanaged
export class ResponseParser {
  /** Status code (valid once headersDone). */
  status: i32 = 0;
  /** The header section of the final (non-1xx) response is complete. */
  headersDone: bool = false;
  /** Content-Length, or -1 when absent (chunked or close-delimited). */
  contentLength: i64 = -1;
  chunked: bool = false;
  /** The connection may carry another request after this response. */
  keepAlive: bool = true;
  /** The message is complete. */
  done: bool = false;
  /** Body bytes found by the last feed() call: a slice of its input. */
  bodyPtr: usize = 0;
  bodyLen: i32 = 0;

  private state: i32 = P_STATUS;
  private err: i32 = OK;
  private noBody: bool = false;
  private versionMinor: i32 = 1;
  private headerBytes: i32 = 0;
  private lineLen: i32 = 0;
  private headerId: i32 = H_OTHER;
  private sawConnClose: bool = false;
  private sawConnKeepAlive: bool = false;
  private sawTe: bool = false;
  private remaining: i64 = 0;
  private sizeDigits: i32 = 0;
  private line: usize = heap.alloc(<usize>VALUE_CAP);
  private date: usize = heap.alloc(<usize>HTTP_DATE_MAX);
  private dateLength: i32 = 0;

  constructor() {}

  /** Ready for a new response. */
  reset(): void {
    this.status = 0;
    this.headersDone = false;
    this.contentLength = -1;
    this.chunked = false;
    this.keepAlive = true;
    this.done = false;
    this.bodyPtr = 0;
    this.bodyLen = 0;
    this.state = P_STATUS;
    this.err = OK;
    this.noBody = false;
    this.dateLength = 0;
    this.startMessage();
  }

  /** The request was HEAD (or the caller otherwise knows): no body follows,
   *  whatever Content-Length says (RFC 9110 §9.3.2). Call after reset(). */
  expectNoBody(): void {
    this.noBody = true;
  }

  get error(): i32 { return this.err; }
  /** The Date header's value (bytes valid until reset), or length 0. */
  get datePtr(): usize { return this.date; }
  get dateLen(): i32 { return this.dateLength; }

  /** The Date header as Unix milliseconds; 0 when absent or not an
   *  IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT", RFC 9110 §5.6.7). */
  dateUnixMs(): i64 {
    return imfFixdateToUnixMs(this.datePtr, this.dateLength);
  }

  /** Keeps a Date value that came some other way (HTTP/2 fields, h2.ts). */
  setDate(p: usize, n: i32): void {
    const k = n <= HTTP_DATE_MAX ? n : 0;
    if (k > 0) memory.copy(this.date, p, <usize>k);
    this.dateLength = k;
  }

  /** Consumes bytes; returns the count consumed (>= 0) or the sticky error.
   *  Stops early after a body slice (bodyPtr/bodyLen) or when done. */
  feed(ptr: usize, len: i32): i32 {
    this.bodyPtr = 0;
    this.bodyLen = 0;
    if (this.err != OK) return this.err;
    const r = this.run(ptr, len);
    if (r < 0) this.err = r;
    return r;
  }

  /** The peer closed the connection: completes a close-delimited body.
   *  Returns OK when the message is complete, else E_CLOSED (sticky). */
  finishEof(): i32 {
    if (this.err != OK) return this.err;
    if (this.state == P_BODY_CLOSE) {
      this.finish();
      return OK;
    }
    if (this.done) return OK;
    this.err = E_CLOSED;
    return E_CLOSED;
  }

  // ---- internals ----

  private startMessage(): void {
    this.versionMinor = 1;
    this.headerBytes = 0;
    this.lineLen = 0;
    this.headerId = H_OTHER;
    this.sawConnClose = false;
    this.sawConnKeepAlive = false;
    this.sawTe = false;
    this.contentLength = -1;
    this.chunked = false;
  }

  private finish(): void {
    this.done = true;
    this.state = P_DONE;
  }

  private keep(c: u32, cap: i32): void {
    if (this.lineLen < cap) store<u8>(this.line + <usize>this.lineLen, c);
    this.lineLen++;
  }

  private run(ptr: usize, len: i32): i32 {
    let i = 0;
    while (i < len) {
      const st = this.state;
      if (st == P_DONE) return i;
      if (st == P_BODY_LENGTH) {
        const avail = <i64>(len - i);
        const n = <i32>(this.remaining < avail ? this.remaining : avail);
        this.bodyPtr = ptr + <usize>i;
        this.bodyLen = n;
        this.remaining -= n;
        if (this.remaining == 0) this.finish();
        return i + n;
      }
      if (st == P_BODY_CLOSE) {
        this.bodyPtr = ptr + <usize>i;
        this.bodyLen = len - i;
        return len;
      }
      if (st == P_CHUNK_DATA) {
        const avail = <i64>(len - i);
        const n = <i32>(this.remaining < avail ? this.remaining : avail);
        this.bodyPtr = ptr + <usize>i;
        this.bodyLen = n;
        this.remaining -= n;
        if (this.remaining == 0) this.state = P_CHUNK_DATA_CR;
        return i + n;
      }
      const c = <u32>load<u8>(ptr + <usize>i);
      i++;
      if (st < P_BODY_LENGTH) {
        // Header section: bounded as a whole (status line included).
        if (++this.headerBytes > HTTP_HEADER_MAX) return E_TOOLARGE;
        const r = this.headerByte(c);
        if (r != OK) return r;
        continue;
      }
      const r = this.chunkByte(c);
      if (r != OK) return r;
    }
    return len;
  }

  /** One byte of the status line or header section. */
  private headerByte(c: u32): i32 {
    const st = this.state;
    if (st == P_STATUS) {
      if (c == 0x0d) return OK; // CR of the CRLF; LF ends the line (RFC 9112 §2.2)
      if (c == 0x0a) {
        const r = this.parseStatusLine();
        if (r != OK) return r;
        this.state = P_LINE_START;
        this.lineLen = 0;
        return OK;
      }
      this.keep(c, STATUS_CAP);
      return OK;
    }
    if (st == P_LINE_START) {
      if (c == 0x0d) { this.state = P_END_LF; return OK; }
      if (c == 0x0a) return this.endHeaders();
      // obs-fold (a line starting with whitespace) is rejected (RFC 9112 §5.2).
      if (c == 0x20 || c == 0x09) return E_MALFORMED;
      this.lineLen = 0;
      this.state = P_NAME;
      return this.nameByte(c);
    }
    if (st == P_NAME) return this.nameByte(c);
    if (st == P_VALUE) {
      if (c == 0x0d) { this.state = P_LINE_LF; return OK; }
      if (c == 0x0a) return this.endLine();
      if ((c < 0x20 && c != 0x09) || c == 0x7f) return E_MALFORMED; // RFC 9110 §5.5
      if (this.headerId != H_OTHER) {
        // Skip leading OWS.
        if (this.lineLen == 0 && (c == 0x20 || c == 0x09)) return OK;
        this.keep(c, VALUE_CAP);
      }
      return OK;
    }
    if (st == P_LINE_LF) {
      if (c != 0x0a) return E_MALFORMED;
      return this.endLine();
    }
    // P_END_LF
    if (c != 0x0a) return E_MALFORMED;
    return this.endHeaders();
  }

  private nameByte(c: u32): i32 {
    if (c == 0x3a) {
      this.headerId = this.identify();
      this.lineLen = 0;
      this.state = P_VALUE;
      return OK;
    }
    // token characters only (RFC 9110 §5.6.2); no whitespace before the colon (RFC 9112 §5.1).
    if (!isTchar(c)) return E_MALFORMED;
    this.keep(c, NAME_CAP);
    return OK;
  }

  private identify(): i32 {
    const n = this.lineLen;
    if (n > NAME_CAP) return H_OTHER;
    const p = this.line;
    if (bytesEqualLitNoCase(p, n, utf8("content-length"))) return H_CONTENT_LENGTH;
    if (bytesEqualLitNoCase(p, n, utf8("transfer-encoding"))) return H_TRANSFER_ENCODING;
    if (bytesEqualLitNoCase(p, n, utf8("connection"))) return H_CONNECTION;
    if (bytesEqualLitNoCase(p, n, utf8("date"))) return H_DATE;
    return H_OTHER;
  }

  /** A header line ended: act on the headers we know. */
  private endLine(): i32 {
    this.state = P_LINE_START;
    const id = this.headerId;
    this.headerId = H_OTHER;
    if (id == H_OTHER) return OK;
    const p = this.line;
    let n = this.lineLen;
    const over = n > VALUE_CAP;
    if (over) n = VALUE_CAP;
    while (n > 0 && (load<u8>(p + <usize>(n - 1)) == 0x20 || load<u8>(p + <usize>(n - 1)) == 0x09)) n--;
    this.lineLen = 0;
    if (id == H_CONTENT_LENGTH) {
      if (over) return E_MALFORMED;
      const v = parseDec(p, n);
      if (v < 0) return E_MALFORMED;
      // Repeated Content-Length must agree (RFC 9112 §6.3 item 5).
      if (this.contentLength >= 0 && this.contentLength != v) return E_MALFORMED;
      this.contentLength = v;
      return OK;
    }
    if (id == H_TRANSFER_ENCODING) {
      if (over) return E_MALFORMED;
      // Only "chunked" alone is understood: we never ask for other codings
      // (no TE / Accept-Encoding sent) and cannot decode them (RFC 9112 §6.1).
      this.sawTe = true;
      this.chunked = bytesEqualLitNoCase(p, n, utf8("chunked"));
      if (!this.chunked) return E_MALFORMED;
      return OK;
    }
    if (id == H_CONNECTION) {
      // Options are a comma list (RFC 9110 §7.6.1).
      let s = 0;
      for (let j = 0; j <= n; j++) {
        if (j == n || load<u8>(p + <usize>j) == 0x2c) {
          let a = s;
          let b = j;
          while (a < b && isOws(load<u8>(p + <usize>a))) a++;
          while (b > a && isOws(load<u8>(p + <usize>(b - 1)))) b--;
          if (bytesEqualLitNoCase(p + <usize>a, b - a, utf8("close"))) this.sawConnClose = true;
          if (bytesEqualLitNoCase(p + <usize>a, b - a, utf8("keep-alive"))) this.sawConnKeepAlive = true;
          s = j + 1;
        }
      }
      return OK;
    }
    // H_DATE
    if (!over && n <= HTTP_DATE_MAX) {
      memory.copy(this.date, p, <usize>n);
      this.dateLength = n;
    }
    return OK;
  }

  /** "HTTP/1.x NNN[ reason]" (RFC 9112 §4). */
  private parseStatusLine(): i32 {
    const p = this.line;
    const n = this.lineLen;
    if (n < 12) return E_MALFORMED;
    // "HTTP/1." then the minor digit
    const h = litPtr(utf8("HTTP/1."));
    for (let j = 0; j < 7; j++) if (<u32>load<u8>(p + <usize>j) != <u32>load<u8>(h + <usize>j)) return E_MALFORMED;
    const minor = <u32>load<u8>(p + 7) - 0x30;
    if (minor > 9 || load<u8>(p + 8) != 0x20) return E_MALFORMED;
    const s = parseDec(p + 9, 3);
    if (s < 100 || s > 999) return E_MALFORMED;
    // After the code: SP and a (skipped) reason, or nothing.
    if (n > 12 && load<u8>(p + 12) != 0x20) return E_MALFORMED;
    this.versionMinor = <i32>minor;
    this.status = <i32>s;
    return OK;
  }

  /** The blank line ended the header section: decide how the body is framed (RFC 9112 §6.3). */
  private endHeaders(): i32 {
    const s = this.status;
    if (s >= 100 && s < 200) {
      // An interim response: the final one follows (RFC 9110 §15.2).
      this.state = P_STATUS;
      this.dateLength = 0;
      this.startMessage();
      return OK;
    }
    this.headersDone = true;
    this.keepAlive = this.versionMinor >= 1 ? !this.sawConnClose : this.sawConnKeepAlive && !this.sawConnClose;
    if (this.sawTe && this.contentLength >= 0) return E_MALFORMED; // both: RFC 9112 §6.3 item 3 (request smuggling)
    if (this.noBody || s == 204 || s == 304) {
      this.finish();
      return OK;
    }
    if (this.chunked) {
      this.state = P_CHUNK_SIZE;
      this.sizeDigits = 0;
      this.remaining = 0;
      return OK;
    }
    if (this.contentLength >= 0) {
      this.remaining = this.contentLength;
      if (this.remaining == 0) this.finish();
      else this.state = P_BODY_LENGTH;
      return OK;
    }
    // Neither: the body runs until the server closes (RFC 9112 §6.3 item 8).
    this.keepAlive = false;
    this.state = P_BODY_CLOSE;
    return OK;
  }

  /** One byte of chunked framing (RFC 9112 §7.1). */
  private chunkByte(c: u32): i32 {
    const st = this.state;
    if (st == P_CHUNK_SIZE) {
      const d = hexVal(c);
      if (d >= 0) {
        if (++this.sizeDigits > HTTP_CHUNK_SIZE_DIGITS_MAX) return E_TOOLARGE;
        this.remaining = (this.remaining << 4) | <i64>d;
        return OK;
      }
      if (this.sizeDigits == 0) return E_MALFORMED;
      this.headerBytes = 0; // reused to bound the extension
      if (c == 0x0d) { this.state = P_CHUNK_SIZE_LF; return OK; }
      if (c == 0x0a) return this.sizeLineDone();
      if (c == 0x3b || c == 0x20 || c == 0x09) { this.state = P_CHUNK_EXT; return OK; }
      return E_MALFORMED;
    }
    if (st == P_CHUNK_EXT) {
      // Extensions are ignored (RFC 9112 §7.1.1) but bounded.
      if (++this.headerBytes > HTTP_HEADER_MAX) return E_TOOLARGE;
      if (c == 0x0d) { this.state = P_CHUNK_SIZE_LF; return OK; }
      if (c == 0x0a) return this.sizeLineDone();
      if (c < 0x20 && c != 0x09) return E_MALFORMED;
      return OK;
    }
    if (st == P_CHUNK_SIZE_LF) {
      if (c != 0x0a) return E_MALFORMED;
      return this.sizeLineDone();
    }
    if (st == P_CHUNK_DATA_CR) {
      if (c == 0x0d) { this.state = P_CHUNK_DATA_LF; return OK; }
      if (c == 0x0a) return this.nextChunk();
      return E_MALFORMED;
    }
    if (st == P_CHUNK_DATA_LF) {
      if (c != 0x0a) return E_MALFORMED;
      return this.nextChunk();
    }
    // Trailer section (RFC 9112 §7.1.2): fields are skipped, the whole bounded.
    if (++this.headerBytes > HTTP_HEADER_MAX) return E_TOOLARGE;
    if (st == P_TRAILER_START) {
      if (c == 0x0d) { this.state = P_TRAILER_END_LF; return OK; }
      if (c == 0x0a) { this.finish(); return OK; }
      if (c == 0x20 || c == 0x09) return E_MALFORMED; // obs-fold
      this.state = P_TRAILER_LINE;
      return OK;
    }
    if (st == P_TRAILER_LINE) {
      if (c == 0x0a) this.state = P_TRAILER_START;
      else if ((c < 0x20 && c != 0x09 && c != 0x0d) || c == 0x7f) return E_MALFORMED;
      return OK;
    }
    // P_TRAILER_END_LF
    if (c != 0x0a) return E_MALFORMED;
    this.finish();
    return OK;
  }

  private sizeLineDone(): i32 {
    if (this.remaining == 0) {
      this.headerBytes = 0;
      this.state = P_TRAILER_START; // last-chunk
      return OK;
    }
    this.state = P_CHUNK_DATA;
    return OK;
  }

  private nextChunk(): i32 {
    this.state = P_CHUNK_SIZE;
    this.sizeDigits = 0;
    this.remaining = 0;
    return OK;
  }
}

// @ts-ignore: decorator
@inline function isOws(c: u32): bool {
  return c == 0x20 || c == 0x09;
}

/** tchar (RFC 9110 §5.6.2). */
function isTchar(c: u32): bool {
  if (c - 0x30 < 10 || (c | 0x20) - 0x61 < 26) return true;
  // "!#$%&'*+-.^_`|~"
  return c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2a || c == 0x2b || c == 0x2d || c == 0x2e ||
    c == 0x5e || c == 0x5f || c == 0x60 || c == 0x7c || c == 0x7e;
}

const MONTHS: usize = litPtr(utf8("janfebmaraprmayjunjulaugsepoctnovdec"));

/** Two decimal digits at p, or -1. */
function dig2(p: usize): i32 {
  const a = <u32>load<u8>(p) - 0x30;
  const b = <u32>load<u8>(p + 1) - 0x30;
  if (a > 9 || b > 9) return -1;
  return <i32>(a * 10 + b);
}

/** Parses an IMF-fixdate (RFC 9110 §5.6.7), e.g. "Sun, 06 Nov 1994 08:49:37 GMT",
 *  into Unix milliseconds; 0 when malformed. */
export function imfFixdateToUnixMs(p: usize, n: i32): i64 {
  // 0123456789012345678901234567 8
  // Sun, 06 Nov 1994 08:49:37 GMT
  if (n != 29) return 0;
  if (load<u8>(p + 3) != 0x2c || load<u8>(p + 4) != 0x20 || load<u8>(p + 7) != 0x20 ||
    load<u8>(p + 11) != 0x20 || load<u8>(p + 16) != 0x20 || load<u8>(p + 19) != 0x3a ||
    load<u8>(p + 22) != 0x3a || load<u8>(p + 25) != 0x20 || !bytesEqualLitNoCase(p + 26, 3, utf8("GMT"))) return 0;
  const day = dig2(p + 5);
  const yh = dig2(p + 12);
  const yl = dig2(p + 14);
  const hh = dig2(p + 17);
  const mi = dig2(p + 20);
  const ss = dig2(p + 23);
  if (day < 1 || day > 31 || yh < 0 || yl < 0 || hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 60) return 0;
  let month = -1;
  for (let m = 0; m < 12; m++) {
    if (lowerAscii(load<u8>(p + 8)) == <u32>load<u8>(MONTHS + <usize>(m * 3)) &&
      lowerAscii(load<u8>(p + 9)) == <u32>load<u8>(MONTHS + <usize>(m * 3 + 1)) &&
      lowerAscii(load<u8>(p + 10)) == <u32>load<u8>(MONTHS + <usize>(m * 3 + 2))) {
      month = m + 1;
      break;
    }
  }
  if (month < 0) return 0;
  const year = yh * 100 + yl;
  if (year < 1970) return 0;
  const days = daysFromCivil(year, month, day);
  return ((days * 24 + hh) * 60 + mi) * 60000 + <i64>ss * 1000;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (the well-known
 *  era/day-of-era computation, as in H. Hinnant's "chrono-compatible
 *  low-level date algorithms"). */
function daysFromCivil(y: i32, m: i32, d: i32): i64 {
  const yy = m <= 2 ? y - 1 : y;
  const era = (yy >= 0 ? yy : yy - 399) / 400;
  const yoe = yy - era * 400; // [0, 399]
  const mp = m > 2 ? m - 3 : m + 9; // March = 0
  const doy = (153 * mp + 2) / 5 + d - 1; // [0, 365]
  const doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
  return <i64>era * 146097 + <i64>doe - 719468;
}
