// Base64 encoding (RFC 4648 section 4, standard alphabet, '=' padding), as
// Kubernetes carries []byte fields in JSON (a CSR's spec.request). Encodes
// from caller memory into caller memory: no allocation.

import { E_TOOLARGE } from "./errors";
import { Lit, litPtr, utf8 } from "./lit";

const ALPHABET: Lit = utf8("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");

/** Encoded length of `n` bytes: 4 characters per started group of 3. */
export function base64Len(n: i32): i32 {
  return ((n + 2) / 3) * 4;
}

/** Encodes (src, n) into (dst, cap); returns the length written or
 *  E_TOOLARGE (nothing written) when it does not fit. */
export function base64Encode(src: usize, n: i32, dst: usize, cap: i32): i32 {
  const out = base64Len(n);
  if (n < 0 || out > cap) return E_TOOLARGE;
  const a = litPtr(ALPHABET);
  let o: usize = dst;
  let i = 0;
  for (; i + 3 <= n; i += 3) {
    const v = (<u32>load<u8>(src + <usize>i) << 16) | (<u32>load<u8>(src + <usize>i + 1) << 8) | <u32>load<u8>(src + <usize>i + 2);
    store<u8>(o, load<u8>(a + <usize>(v >> 18)));
    store<u8>(o + 1, load<u8>(a + <usize>((v >> 12) & 63)));
    store<u8>(o + 2, load<u8>(a + <usize>((v >> 6) & 63)));
    store<u8>(o + 3, load<u8>(a + <usize>(v & 63)));
    o += 4;
  }
  const rest = n - i;
  if (rest > 0) {
    let v = <u32>load<u8>(src + <usize>i) << 16;
    if (rest == 2) v |= <u32>load<u8>(src + <usize>i + 1) << 8;
    store<u8>(o, load<u8>(a + <usize>(v >> 18)));
    store<u8>(o + 1, load<u8>(a + <usize>((v >> 12) & 63)));
    store<u8>(o + 2, rest == 2 ? load<u8>(a + <usize>((v >> 6) & 63)) : <u8>0x3d);
    store<u8>(o + 3, 0x3d);
  }
  return out;
}
