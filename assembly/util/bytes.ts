// Allocation-free helpers over (ptr, len) byte ranges in linear memory.
// Strings in AssemblyScript are UTF-16; the wire is UTF-8: the helpers below
// encode/compare on the fly and never build a temporary string.

import { E_MALFORMED, E_TOOLARGE, OK } from "./errors";
import { Lit, litLen, litPtr } from "./lit";

/** Bytes of SCRATCH: an RFC 3339 time (<= 30 bytes) or an i64 in decimal. */
export const SCRATCH_CAP: i32 = 32;
/** One scratch for a number or timestamp being formatted or read (config
 *  numbers, JSON times and quantities, /stats/summary times): each user fills
 *  it and copies it out within one call, calling nothing else that uses it.
 *  One 32-byte buffer instead of six. */
export const SCRATCH: usize = memory.data(SCRATCH_CAP);

/** ASCII lower case of one byte (other bytes unchanged). */
export function lowerAscii(c: u32): u32 {
  return c - 0x41 < 26 ? c | 0x20 : c;
}

/** Code point of `s` at UTF-16 index `i`, joining a valid surrogate pair;
 *  a lone surrogate becomes U+FFFD (it cannot be encoded in UTF-8). */
export function codePointAt(s: string, i: i32, n: i32): u32 {
  const c = <u32>s.charCodeAt(i);
  if (c - 0xd800 < 0x800) {
    if (c < 0xdc00 && i + 1 < n) {
      const d = <u32>s.charCodeAt(i + 1);
      if (d - 0xdc00 < 0x400) return 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
    }
    return 0xfffd;
  }
  return c;
}

/** Bytes of code point `cp` in UTF-8 (1..4). */
// @ts-ignore: decorator
@inline export function utf8CpLen(cp: u32): i32 {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/** Writes code point `cp` as UTF-8 at `dst` (room for utf8CpLen(cp) assumed); returns its length. */
export function putUtf8(dst: usize, cp: u32): i32 {
  if (cp < 0x80) { store<u8>(dst, cp); return 1; }
  if (cp < 0x800) {
    store<u8>(dst, 0xc0 | (cp >> 6)); store<u8>(dst + 1, 0x80 | (cp & 0x3f)); return 2;
  }
  if (cp < 0x10000) {
    store<u8>(dst, 0xe0 | (cp >> 12)); store<u8>(dst + 1, 0x80 | ((cp >> 6) & 0x3f));
    store<u8>(dst + 2, 0x80 | (cp & 0x3f)); return 3;
  }
  store<u8>(dst, 0xf0 | (cp >> 18)); store<u8>(dst + 1, 0x80 | ((cp >> 12) & 0x3f));
  store<u8>(dst + 2, 0x80 | ((cp >> 6) & 0x3f)); store<u8>(dst + 3, 0x80 | (cp & 0x3f));
  return 4;
}

/** Length of `s` in UTF-8. */
export function utf8Len(s: string): i32 {
  const n = s.length;
  let len = 0;
  for (let i = 0; i < n; i++) {
    const cp = codePointAt(s, i, n);
    if (cp >= 0x10000) i++;
    len += utf8CpLen(cp);
  }
  return len;
}

/** Copies `s` as UTF-8 into (dst, cap). Returns the length, or E_TOOLARGE
 *  (nothing meaningful written) when it does not fit. For ASCII text this is a
 *  plain byte copy. */
export function writeStr(dst: usize, cap: i32, s: string): i32 {
  const n = s.length;
  let o = 0;
  for (let i = 0; i < n; i++) {
    const cp = codePointAt(s, i, n);
    if (cp >= 0x10000) i++;
    const l = utf8CpLen(cp);
    if (o + l > cap) return E_TOOLARGE;
    putUtf8(dst + <usize>o, cp);
    o += l;
  }
  return o;
}

/** Matches the bytes (ptr, len) against `s` from UTF-16 index `from`: returns
 *  the index in `s` just after the match, or -1 when the bytes are not the
 *  UTF-8 encoding of s[from..]'s prefix. */
export function matchUtf8At(ptr: usize, len: i32, s: string, from: i32): i32 {
  const n = s.length;
  let o = 0;
  let i = from;
  while (o < len) {
    if (i >= n) return -1;
    const cp = codePointAt(s, i, n);
    if (cp < 0x80) {
      if (<u32>load<u8>(ptr + <usize>o) != cp) return -1;
      o++;
      i++;
      continue;
    }
    const l = utf8CpLen(cp);
    if (o + l > len) return -1;
    // Encode into a 4-byte static slot and compare.
    const tmp = memory.data(4);
    putUtf8(tmp, cp);
    for (let j = 0; j < l; j++) {
      if (load<u8>(ptr + <usize>(o + j)) != load<u8>(tmp + <usize>j)) return -1;
    }
    o += l;
    i += cp >= 0x10000 ? 2 : 1;
  }
  return i;
}

/** True when (ptr, len) holds exactly the UTF-8 encoding of `s`. */
export function bytesEqualStr(ptr: usize, len: i32, s: string): bool {
  return matchUtf8At(ptr, len, s, 0) == s.length;
}

/** ASCII case-insensitive equality of (ptr, len) with ASCII `s` (header names, RFC 9110 §5.1). */
export function bytesEqualStrNoCase(ptr: usize, len: i32, s: string): bool {
  if (s.length != len) return false;
  for (let i = 0; i < len; i++) {
    if (lowerAscii(load<u8>(ptr + <usize>i)) != lowerAscii(<u32>s.charCodeAt(i))) return false;
  }
  return true;
}

/** ASCII case-insensitive equality of (ptr, len) with a UTF-8 literal of ASCII text (util/lit.ts). */
export function bytesEqualLitNoCase(ptr: usize, len: i32, l: Lit): bool {
  if (litLen(l) != len) return false;
  const q = litPtr(l);
  for (let i = 0; i < len; i++) {
    if (lowerAscii(load<u8>(ptr + <usize>i)) != lowerAscii(load<u8>(q + <usize>i))) return false;
  }
  return true;
}

/** The `n` bytes at `a` and at `b` are equal. Every comparison of the core
 *  goes through here: memory.compare is inlined (a loop of ~50 bytes of
 *  code) at each of its call sites. */
export function memEqual(a: usize, b: usize, n: i32): bool {
  for (let i = 0; i < n; i++) {
    if (load<u8>(a + <usize>i) != load<u8>(b + <usize>i)) return false;
  }
  return true;
}

/** Byte-wise equality of two ranges. */
export function bytesEqual(a: usize, alen: i32, b: usize, blen: i32): bool {
  return alen == blen && memEqual(a, b, alen);
}

/** Index of the first `b` in (ptr, len), or -1. */
export function indexOfByte(ptr: usize, len: i32, b: u8): i32 {
  for (let i = 0; i < len; i++) if (load<u8>(ptr + <usize>i) == b) return i;
  return -1;
}

/** Index of the first CR LF CR LF (the end of an HTTP head, RFC 9112
 *  section 2.1) in (ptr, len) at or after `from`, or -1. */
export function indexOfHeadEnd(ptr: usize, len: i32, from: i32): i32 {
  for (let i = from; i + 3 < len; i++) if (load<u32>(ptr + <usize>i) == 0x0a0d0a0d) return i;
  return -1;
}

/** Parses a non-empty run of decimal digits. Returns the value (>= 0),
 *  E_MALFORMED for an empty range or a non-digit, E_TOOLARGE above i64 max. */
export function parseDec(ptr: usize, len: i32): i64 {
  if (len <= 0) return E_MALFORMED;
  let v: u64 = 0;
  for (let i = 0; i < len; i++) {
    const d = <u32>load<u8>(ptr + <usize>i) - 0x30;
    if (d > 9) return E_MALFORMED;
    // v * 10 + d > i64.MAX_VALUE  <=>  v > (MAX - d) / 10
    if (v > (<u64>i64.MAX_VALUE - d) / 10) return E_TOOLARGE;
    v = v * 10 + d;
  }
  return <i64>v;
}

/** Value of one hex digit, or -1. */
export function hexVal(c: u32): i32 {
  if (c - 0x30 < 10) return <i32>(c - 0x30);
  const l = c | 0x20;
  if (l - 0x61 < 6) return <i32>(l - 0x61 + 10);
  return -1;
}

/** Parses a non-empty run of hex digits. Returns the value (>= 0),
 *  E_MALFORMED, or E_TOOLARGE when above 2^59 (15 digits always fit). */
export function parseHex(ptr: usize, len: i32): i64 {
  if (len <= 0) return E_MALFORMED;
  let v: i64 = 0;
  for (let i = 0; i < len; i++) {
    const d = hexVal(load<u8>(ptr + <usize>i));
    if (d < 0) return E_MALFORMED;
    if (v >= (<i64>1 << 59)) return E_TOOLARGE;
    v = (v << 4) | d;
  }
  return v;
}

/** Result of parseI64 (kept here so the return value can carry the code). */
export let parsedI64: i64 = 0;

/** Parses an optionally '-'-signed decimal integer into `parsedI64`.
 *  Returns OK, E_MALFORMED, or E_TOOLARGE (outside i64). */
export function parseI64(ptr: usize, len: i32): i32 {
  parsedI64 = 0;
  let neg = false;
  if (len > 0 && load<u8>(ptr) == 0x2d) { neg = true; ptr++; len--; }
  if (len <= 0) return E_MALFORMED;
  let v: u64 = 0;
  const lim: u64 = neg ? <u64>i64.MAX_VALUE + 1 : <u64>i64.MAX_VALUE;
  for (let i = 0; i < len; i++) {
    const d = <u32>load<u8>(ptr + <usize>i) - 0x30;
    if (d > 9) return E_MALFORMED;
    if (v > (lim - d) / 10) return E_TOOLARGE;
    v = v * 10 + d;
  }
  parsedI64 = neg ? <i64>(0 - v) : <i64>v;
  return OK;
}

/** Decimal digits (and sign) needed for `v`. */
export function decLen(v: i64): i32 {
  let u: u64 = v < 0 ? <u64>(0 - v) : <u64>v;
  let n = v < 0 ? 2 : 1;
  while (u >= 10) { u /= 10; n++; }
  return n;
}

/** Writes `v` in decimal into (dst, cap). Returns the length or E_TOOLARGE. */
export function formatI64(dst: usize, cap: i32, v: i64): i32 {
  const n = decLen(v);
  if (n > cap) return E_TOOLARGE;
  let u: u64 = v < 0 ? <u64>(0 - v) : <u64>v;
  if (v < 0) store<u8>(dst, 0x2d);
  let i = n - 1;
  do {
    store<u8>(dst + <usize>i, <u32>(u % 10) + 0x30);
    u /= 10;
    i--;
  } while (u != 0);
  return n;
}
