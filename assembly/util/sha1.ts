// SHA-1 (FIPS 180-4 section 6.1), for the one place a protocol demands it:
// the WebSocket opening handshake's Sec-WebSocket-Accept (RFC 6455 section
// 4.2.2), which proves the server understood the upgrade. Not for security.

/** Hashes (src, len) into the 20 bytes at dst. */
export function sha1(src: usize, len: i32, dst: usize): void {
  const w = memory.data(320); // message schedule W[0..79]
  const block = memory.data(64);
  let h0: u32 = 0x67452301;
  let h1: u32 = 0xefcdab89;
  let h2: u32 = 0x98badcfe;
  let h3: u32 = 0x10325476;
  let h4: u32 = 0xc3d2e1f0;
  // Message, 0x80, zeros, then the bit length in the last 8 bytes (5.1.1).
  const total = ((len + 8) >> 6) + 1; // 64-byte blocks
  for (let b = 0; b < total; b++) {
    for (let i = 0; i < 64; i++) {
      const at = (b << 6) + i;
      let v: u32 = 0;
      if (at < len) v = <u32>load<u8>(src + <usize>at);
      else if (at == len) v = 0x80;
      else if (b == total - 1 && i >= 56) {
        const bits = <u64>len << 3;
        v = <u32>((bits >> (<u64>(63 - i) << 3)) & 0xff);
      }
      store<u8>(block + <usize>i, <u8>v);
    }
    for (let t = 0; t < 16; t++) {
      const p = block + <usize>(t << 2);
      store<u32>(w + <usize>(t << 2),
        (<u32>load<u8>(p) << 24) | (<u32>load<u8>(p + 1) << 16) | (<u32>load<u8>(p + 2) << 8) | <u32>load<u8>(p + 3));
    }
    for (let t = 16; t < 80; t++) {
      const x = load<u32>(w + <usize>((t - 3) << 2)) ^ load<u32>(w + <usize>((t - 8) << 2)) ^
        load<u32>(w + <usize>((t - 14) << 2)) ^ load<u32>(w + <usize>((t - 16) << 2));
      store<u32>(w + <usize>(t << 2), rotl<u32>(x, 1));
    }
    let a = h0, bb = h1, c = h2, d = h3, e = h4;
    for (let t = 0; t < 80; t++) {
      let f: u32, k: u32;
      if (t < 20) { f = (bb & c) | (~bb & d); k = 0x5a827999; }
      else if (t < 40) { f = bb ^ c ^ d; k = 0x6ed9eba1; }
      else if (t < 60) { f = (bb & c) | (bb & d) | (c & d); k = 0x8f1bbcdc; }
      else { f = bb ^ c ^ d; k = 0xca62c1d6; }
      const tmp = rotl<u32>(a, 5) + f + e + k + load<u32>(w + <usize>(t << 2));
      e = d;
      d = c;
      c = rotl<u32>(bb, 30);
      bb = a;
      a = tmp;
    }
    h0 += a;
    h1 += bb;
    h2 += c;
    h3 += d;
    h4 += e;
  }
  putBE(dst, h0);
  putBE(dst + 4, h1);
  putBE(dst + 8, h2);
  putBE(dst + 12, h3);
  putBE(dst + 16, h4);
}

function putBE(p: usize, v: u32): void {
  store<u8>(p, <u8>(v >> 24));
  store<u8>(p + 1, <u8>(v >> 16));
  store<u8>(p + 2, <u8>(v >> 8));
  store<u8>(p + 3, <u8>v);
}
