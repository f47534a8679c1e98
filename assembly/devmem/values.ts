// The `memory_values` format: comma-separated `address=value` entries, e.g.
// "0=0x42,1=0x43,2=0xFF". Addresses and values are decimal or 0x-hex (either
// case); spaces and tabs around numbers, '=' and ',' are tolerated; empty
// entries (",," or a trailing comma) are skipped. An address must lie in the
// region (0 .. size-1), a value in 0 .. 0xFF; naming an address twice is
// allowed only with the same value.
//
// The whole text is validated before anything is kept: parse() fills a
// ValueSet and returns OK, or returns an error code (the set is then
// meaningless) with errorKind / errorAt / errorLen telling what and where.

import { E_MALFORMED, E_TOOLARGE, OK } from "../util/errors";
import { DEVMEM_MAX } from "../util/limits";

// What was wrong (ValuesParser.errorKind).
export const VE_NONE: i32 = 0;
/** An entry without '=' (or with text after the value). */
export const VE_SYNTAX: i32 = 1;
/** The address is not a decimal or 0x-hex number. */
export const VE_ADDRESS: i32 = 2;
/** The value is not a decimal or 0x-hex number. */
export const VE_VALUE: i32 = 3;
/** A negative address or value. */
export const VE_NEGATIVE: i32 = 4;
/** The value is above 0xFF. */
export const VE_VALUE_RANGE: i32 = 5;
/** The address is outside the region. */
export const VE_ADDRESS_RANGE: i32 = 6;
/** The address was named before with a different value. */
export const VE_DUPLICATE: i32 = 7;

/** Digits kept of one number: more are "out of range" (no overflow). */
const NUMBER_DIGITS_MAX: i32 = 8;

/** Addresses named by one source and their values: DEVMEM_MAX values plus a
 *  bit per address. */
// @ts-ignore: decorator
@unmanaged
export class ValueSet {
  // One heap block: DEVMEM_MAX values, then the bitmap.
  readonly values: usize = heap.alloc(<usize>(DEVMEM_MAX + (DEVMEM_MAX >> 3)));
  readonly named: usize = this.values + <usize>DEVMEM_MAX;
  count: i32 = 0;

  constructor() { this.clear(); }

  clear(): void {
    memory.fill(this.values, 0, <usize>DEVMEM_MAX);
    memory.fill(this.named, 0, <usize>(DEVMEM_MAX >> 3));
    this.count = 0;
  }

  has(a: i32): bool {
    return (load<u8>(this.named + <usize>(a >> 3)) & (1 << (a & 7))) != 0;
  }

  get(a: i32): u8 { return load<u8>(this.values + <usize>a); }

  put(a: i32, v: u8): void {
    if (!this.has(a)) {
      const p = this.named + <usize>(a >> 3);
      store<u8>(p, load<u8>(p) | <u8>(1 << <u8>(a & 7)));
      this.count++;
    }
    store<u8>(this.values + <usize>a, v);
  }

  copyFrom(o: ValueSet): void {
    memory.copy(this.values, o.values, <usize>DEVMEM_MAX);
    memory.copy(this.named, o.named, <usize>(DEVMEM_MAX >> 3));
    this.count = o.count;
  }
}

function isBlank(c: u32): bool { return c == 0x20 || c == 0x09 || c == 0x0d || c == 0x0a; }

/** Parses memory_values texts; keeps the first error's details. */
// @ts-ignore: decorator
@unmanaged
export class ValuesParser {
  errorKind: i32 = VE_NONE;
  /** Offset and length of the offending entry in the text. */
  errorAt: i32 = 0;
  errorLen: i32 = 0;
  /** Number parsed by number(); -1 when negative. */
  private num: i64 = 0;

  /** Validates all of (ptr, len) for a region of `size` bytes into `out`.
   *  Returns OK, E_MALFORMED (errorKind says why) or E_TOOLARGE (size above
   *  DEVMEM_MAX: a host/core mismatch). */
  parse(ptr: usize, len: i32, size: i32, out: ValueSet): i32 {
    out.clear();
    this.errorKind = VE_NONE;
    if (size < 0 || size > DEVMEM_MAX) return E_TOOLARGE;
    let i = 0;
    while (i <= len) {
      // One entry: [i, end) up to the next ',' or the end.
      let end = i;
      while (end < len && load<u8>(ptr + <usize>end) != 0x2c) end++;
      const r = this.entry(ptr, i, end, size, out);
      if (r != OK) return r;
      i = end + 1;
    }
    return OK;
  }

  private fail(kind: i32, start: i32, end: i32): i32 {
    this.errorKind = kind;
    this.errorAt = start;
    this.errorLen = end - start;
    return E_MALFORMED;
  }

  private entry(ptr: usize, start: i32, end: i32, size: i32, out: ValueSet): i32 {
    let i = start;
    while (i < end && isBlank(load<u8>(ptr + <usize>i))) i++;
    if (i == end) return OK; // empty entry
    let eq = i;
    while (eq < end && load<u8>(ptr + <usize>eq) != 0x3d) eq++;
    if (eq == end) return this.fail(VE_SYNTAX, start, end);
    let k = this.number(ptr, i, eq);
    if (k == -2) return this.fail(VE_ADDRESS, start, end);
    if (k == -1) return this.fail(VE_NEGATIVE, start, end);
    if (k == -3 || this.num >= <i64>size) return this.fail(VE_ADDRESS_RANGE, start, end);
    const a = <i32>this.num;
    k = this.number(ptr, eq + 1, end);
    if (k == -2) return this.fail(VE_VALUE, start, end);
    if (k == -1) return this.fail(VE_NEGATIVE, start, end);
    if (k == -3 || this.num > 0xff) return this.fail(VE_VALUE_RANGE, start, end);
    const v = <u8>this.num;
    if (out.has(a) && out.get(a) != v) return this.fail(VE_DUPLICATE, start, end);
    out.put(a, v);
    return OK;
  }

  /** Reads one number filling [from, to) with blanks around it into `num`.
   *  Returns 0, -1 negative, -2 not a number, -3 too many digits. */
  private number(ptr: usize, from: i32, to: i32): i32 {
    let i = from;
    let j = to;
    while (i < j && isBlank(load<u8>(ptr + <usize>i))) i++;
    while (j > i && isBlank(load<u8>(ptr + <usize>(j - 1)))) j--;
    if (i == j) return -2;
    let neg = false;
    if (load<u8>(ptr + <usize>i) == 0x2d) { neg = true; i++; }
    let base: i64 = 10;
    if (j - i > 2 && load<u8>(ptr + <usize>i) == 0x30 && (load<u8>(ptr + <usize>(i + 1)) | 0x20) == 0x78) {
      base = 16;
      i += 2;
    }
    if (i == j) return -2;
    let v: i64 = 0;
    let digits = 0;
    for (let p = i; p < j; p++) {
      const c = <u32>load<u8>(ptr + <usize>p);
      let d: i64 = -1;
      if (c - 0x30 < 10) d = <i64>(c - 0x30);
      else if (base == 16 && (c | 0x20) - 0x61 < 6) d = <i64>((c | 0x20) - 0x61 + 10);
      if (d < 0) return -2;
      // Leading zeros do not count towards the digit cap.
      if (v != 0 || d != 0) digits++;
      if (digits > NUMBER_DIGITS_MAX) return neg ? -1 : -3;
      v = v * base + d;
    }
    if (neg && v != 0) return -1;
    this.num = v;
    return 0;
  }
}
