// UTF-8 literals ("Lit"): texts the core writes (JSON keys and values, header
// names, request targets, log texts) stored as UTF-8 bytes in static data,
// not as AssemblyScript strings (UTF-16 with a 20-byte object header each,
// about twice the size, and converted byte by byte on every use).
//
// Write `utf8("text")`; the compiler transform scripts/lit-transform.mjs
// (loaded by asconfig.json and as-pect.asconfig.json) replaces each call with
// `memory.data<u8>([len, ...bytes])`: a Lit is a usize pointer to one length
// byte followed by the bytes, so a literal is at most LIT_MAX bytes. It costs
// len + 1 bytes of linear memory and is a small constant in code. Identical
// literals share one copy (the transform declares each distinct text once,
// below this file's code), but compare contents (litEqual), not pointers.

import { memEqual } from "./bytes";

/** Longest literal: the length prefix is one byte. */
export const LIT_MAX: i32 = 255;

/** A UTF-8 literal: pointer to [len: u8][bytes...]. */
export type Lit = usize;

/** Marker for the transform: `utf8("text")` becomes a Lit. Compiling this body
 *  means the transform did not run (or the argument is not one string literal). */
export function utf8(s: string): Lit {
  ERROR("utf8() needs scripts/lit-transform.mjs (asc --transform) and one string literal");
  return 0;
}

/** Byte length of a literal. */
// @ts-ignore: decorator
@inline export function litLen(l: Lit): i32 {
  return <i32>load<u8>(l);
}

/** Address of a literal's first byte. */
// @ts-ignore: decorator
@inline export function litPtr(l: Lit): usize {
  return l + 1;
}

/** (ptr, len) holds exactly the literal's bytes. */
export function bytesEqualLit(ptr: usize, len: i32, l: Lit): bool {
  return len == litLen(l) && memEqual(ptr, litPtr(l), len);
}

/** Two literals have the same bytes. */
export function litEqual(a: Lit, b: Lit): bool {
  return bytesEqualLit(litPtr(a), litLen(a), b);
}

/** Copies the literal to (dst, cap); returns its length or -1 when it does not fit. */
export function copyLit(dst: usize, cap: i32, l: Lit): i32 {
  const n = litLen(l);
  if (n > cap) return -1;
  memory.copy(dst, litPtr(l), <usize>n);
  return n;
}
