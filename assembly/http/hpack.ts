// HPACK (RFC 7541) as much as an HTTP/2 client of the API server needs.
//
// Requests are encoded as literal fields without indexing and without
// Huffman coding (§6.2.2): the encoder keeps no state. Responses are decoded
// without a dynamic table: the client announces SETTINGS_HEADER_TABLE_SIZE 0
// (RFC 9113 §6.5.2), so a server may use only the static table (Appendix A)
// and literals, and a reference to a dynamic entry is a decoding error. Of
// the response fields only :status and date are kept; the others are
// checked for well-formedness and skipped.

import { E_MALFORMED, E_TOOLARGE } from "../util/errors";
import { HTTP_DATE_MAX } from "../util/limits";
import { bytesEqualLit, utf8 } from "../util/lit";

/** Last index of the static table (RFC 7541 Appendix A). */
const STATIC_LAST: i32 = 61;
/** Static entries 8..14 are :status with a value (Appendix A). */
const STATIC_STATUS_FIRST: i32 = 8;
const STATIC_STATUS_LAST: i32 = 14;
/** Static entry 33 is the name "date". */
const STATIC_DATE: i32 = 33;
/** Longest literal field name decoded for comparison (":status" is 7). */
const NAME_CAP: i32 = 8;
/** Status values of static entries 8..14. */
const STATUS_OF_STATIC = memory.data<u16>([200, 204, 206, 304, 400, 404, 500]);

// The Huffman code of Appendix B is canonical: codes of one length are
// consecutive in symbol order, and each length continues from the previous
// one shifted left. So it is stored as the number of codes of each length
// (5..30 bits) and the symbols in code order; EOS (256) is the last 30-bit
// code. (Derived from Appendix B; tests/assembly/http/hpack.spec.ts decodes
// the RFC's own examples, Appendix C.4 and C.6.)
const HUFF_MIN_BITS: i32 = 5;
const HUFF_MAX_BITS: i32 = 30;
const HUFF_EOS: i32 = 256;
const HUFF_COUNTS = memory.data<u8>([
  10, 26, 32, 6, 0, 5, 3, 2, 6, 2, 3, 0, 0, 0, 3, 8, 13, 26, 29, 12, 4, 15, 19, 29, 0, 4,
]);
const HUFF_SYMBOLS = memory.data<u8>([
  48, 49, 50, 97, 99, 101, 105, 111, 115, 116, 32, 37, 45, 46, 47, 51, 52, 53, 54, 55, 56, 57, 61,
  65, 95, 98, 100, 102, 103, 104, 108, 109, 110, 112, 114, 117, 58, 66, 67, 68, 69, 70, 71, 72, 73,
  74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 89, 106, 107, 113, 118, 119, 120, 121,
  122, 38, 42, 44, 59, 88, 90, 33, 34, 40, 41, 63, 39, 43, 124, 35, 62, 0, 36, 64, 91, 93, 126, 94,
  125, 60, 96, 123, 92, 195, 208, 128, 130, 131, 162, 184, 194, 224, 226, 153, 161, 167, 172, 176,
  177, 179, 209, 216, 217, 227, 229, 230, 129, 132, 133, 134, 136, 146, 154, 156, 160, 163, 164,
  169, 170, 173, 178, 181, 185, 186, 187, 189, 190, 196, 198, 228, 232, 233, 1, 135, 137, 138, 139,
  140, 141, 143, 147, 149, 150, 151, 152, 155, 157, 158, 165, 166, 168, 174, 175, 180, 182, 183,
  188, 191, 197, 231, 239, 9, 142, 144, 145, 148, 159, 171, 206, 215, 225, 236, 237, 199, 207, 234,
  235, 192, 193, 200, 201, 202, 205, 210, 213, 218, 219, 238, 240, 242, 243, 255, 203, 204, 211,
  212, 214, 221, 222, 223, 241, 244, 245, 246, 247, 248, 250, 251, 252, 253, 254, 2, 3, 4, 5, 6, 7,
  8, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 220, 249, 10,
  13, 22
]);

/** Decodes Huffman-coded (src, len) into (dst, cap). Returns the decoded
 *  length, E_TOOLARGE when it does not fit, E_MALFORMED for a code that is
 *  not in the table, EOS inside the string, or padding that is longer than 7
 *  bits or not all ones (§5.2). */
export function huffmanDecode(src: usize, len: i32, dst: usize, cap: i32): i32 {
  let out = 0;
  let code: i32 = 0; // bits read since the last symbol
  let bits: i32 = 0;
  let first: i32 = 0; // first code of length `bits`
  let index: i32 = 0; // its position in HUFF_SYMBOLS
  for (let i = 0; i < len; i++) {
    const byte = <i32>load<u8>(src + <usize>i);
    for (let b = 7; b >= 0; b--) {
      code = (code << 1) | ((byte >> b) & 1);
      bits++;
      const count = bits >= HUFF_MIN_BITS ? <i32>load<u8>(HUFF_COUNTS + <usize>(bits - HUFF_MIN_BITS)) : 0;
      if (code - first < count) {
        const sym = index + code - first;
        if (sym == HUFF_EOS) return E_MALFORMED;
        if (out >= cap) return E_TOOLARGE;
        store<u8>(dst + <usize>out, load<u8>(HUFF_SYMBOLS + <usize>sym));
        out++;
        code = 0;
        bits = 0;
        first = 0;
        index = 0;
        continue;
      }
      if (bits == HUFF_MAX_BITS) return E_MALFORMED;
      index += count;
      first = (first + count) << 1;
    }
  }
  // What is left must be a prefix of EOS (all ones) shorter than a byte.
  if (bits > 7 || code != (1 << bits) - 1) return E_MALFORMED;
  return out;
}

/** Bytes an integer takes with an N-bit prefix (§5.1). */
export function hpackIntLen(v: i32, prefixBits: i32): i32 {
  const max = (1 << prefixBits) - 1;
  if (v < max) return 1;
  let n = 2;
  for (let r = v - max; r >= 128; r >>= 7) n++;
  return n;
}

/** Writes integer v with an N-bit prefix at dst, the prefix byte's high bits
 *  set to `flags`; returns the bytes written (§5.1). */
export function hpackIntWrite(dst: usize, v: i32, prefixBits: i32, flags: u8): i32 {
  const max = (1 << prefixBits) - 1;
  if (v < max) {
    store<u8>(dst, flags | <u8>v);
    return 1;
  }
  store<u8>(dst, flags | <u8>max);
  let n = 1;
  let r = v - max;
  while (r >= 128) {
    store<u8>(dst + <usize>n, <u8>((r & 0x7f) | 0x80));
    r >>= 7;
    n++;
  }
  store<u8>(dst + <usize>n, <u8>r);
  return n + 1;
}

/** What the decoder keeps of a response header block. */
// @ts-ignore: decorator
@unmanaged
export class HpackFields {
  /** :status, or 0 when the block has none (trailers). */
  status: i32 = 0;
  /** The date field's value (dateLen 0 when absent or longer than HTTP_DATE_MAX). */
  readonly date: usize = heap.alloc(<usize>HTTP_DATE_MAX);
  dateLen: i32 = 0;
  /** Scratch for a literal field name (":status" and "date" are the only
   *  names compared; longer names are never decoded). */
  private name: usize = heap.alloc(<usize>NAME_CAP);
  private pos: i32 = 0;
  private end: i32 = 0;
  private src: usize = 0;

  constructor() {}

  /** Decodes one complete header block (§4-6, static table only). Returns
   *  the number of fields or E_MALFORMED (a COMPRESSION_ERROR for the
   *  connection, RFC 9113 §4.3). */
  decode(src: usize, len: i32): i32 {
    this.status = 0;
    this.dateLen = 0;
    this.src = src;
    this.pos = 0;
    this.end = len;
    let fields = 0;
    while (this.pos < this.end) {
      const b = <i32>load<u8>(src + <usize>this.pos);
      let r: i32;
      if ((b & 0x80) != 0) {
        // Indexed field (§6.1).
        const idx = this.int(7);
        if (idx <= 0 || idx > STATIC_LAST) return E_MALFORMED;
        if (idx >= STATIC_STATUS_FIRST && idx <= STATIC_STATUS_LAST) {
          this.status = <i32>load<u16>(STATUS_OF_STATIC + (<usize>(idx - STATIC_STATUS_FIRST) << 1));
        }
        fields++;
        continue;
      }
      if ((b & 0xc0) == 0x40) r = this.literal(this.int(6)); // with incremental indexing (§6.2.1)
      else if ((b & 0xe0) == 0x20) {
        // Dynamic table size update (§6.3): only to 0, the size announced.
        if (this.int(5) != 0) return E_MALFORMED;
        continue;
      } else r = this.literal(this.int(4)); // without / never indexed (§6.2.2, §6.2.3)
      if (r < 0) return r;
      fields++;
    }
    return fields;
  }

  // ---- internals ----

  /** A literal field whose name is static entry `idx` (0: a literal name). */
  private literal(idx: i32): i32 {
    if (idx < 0 || idx > STATIC_LAST) return E_MALFORMED;
    let which = 0; // 1 :status, 2 date
    if (idx == 0) {
      const n = this.str(this.name, NAME_CAP);
      if (n == E_MALFORMED) return n;
      if (bytesEqualLit(this.name, n, utf8(":status"))) which = 1;
      else if (bytesEqualLit(this.name, n, utf8("date"))) which = 2;
    } else if (idx >= STATIC_STATUS_FIRST && idx <= STATIC_STATUS_LAST) which = 1;
    else if (idx == STATIC_DATE) which = 2;
    if (which == 1) {
      const n = this.str(this.name, NAME_CAP);
      if (n != 3) return E_MALFORMED; // three digits (RFC 9113 §8.3.2, RFC 9110 §15)
      let s = 0;
      for (let i = 0; i < 3; i++) {
        const c = <i32>load<u8>(this.name + <usize>i) - 0x30;
        if (c < 0 || c > 9) return E_MALFORMED;
        s = s * 10 + c;
      }
      this.status = s;
      return 0;
    }
    if (which == 2) {
      const n = this.str(this.date, HTTP_DATE_MAX);
      if (n == E_MALFORMED) return n;
      this.dateLen = n < 0 ? 0 : n;
      return 0;
    }
    const n = this.str(0, 0);
    return n == E_MALFORMED ? n : 0;
  }

  /** Reads a string literal (§5.2) into (dst, cap), Huffman-decoded. Returns
   *  its length, E_TOOLARGE when it does not fit (skipped: the position is
   *  past it either way), or E_MALFORMED. cap 0 skips without decoding. */
  private str(dst: usize, cap: i32): i32 {
    if (this.pos >= this.end) return E_MALFORMED;
    const huff = (load<u8>(this.src + <usize>this.pos) & 0x80) != 0;
    const n = this.int(7);
    if (n < 0 || n > this.end - this.pos) return E_MALFORMED;
    const p = this.src + <usize>this.pos;
    this.pos += n;
    if (cap == 0) return E_TOOLARGE;
    if (huff) {
      const r = huffmanDecode(p, n, dst, cap);
      return r;
    }
    if (n > cap) return E_TOOLARGE;
    memory.copy(dst, p, <usize>n);
    return n;
  }

  /** Reads an integer with an N-bit prefix at pos (§5.1); -1 when truncated
   *  or beyond 2^28 (nothing here is that large). */
  private int(prefixBits: i32): i32 {
    if (this.pos >= this.end) return -1;
    const max = (1 << prefixBits) - 1;
    let v = <i32>load<u8>(this.src + <usize>this.pos) & max;
    this.pos++;
    if (v < max) return v;
    let shift = 0;
    while (true) {
      if (this.pos >= this.end || shift > 21) return -1;
      const b = <i32>load<u8>(this.src + <usize>this.pos);
      this.pos++;
      v += (b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) == 0) return v;
    }
    return -1;
  }
}
