// The UF2 writer (tools/uf2/uf2.mjs): its output parsed back block by block
// against the UF2 specification (github.com/microsoft/uf2 README) and the
// flash layout (firmware-shim/port/pico/flash_layout.h). No SDK needed.
//   node --test tests/uf2/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  readLayout, crc32, coreImage, configImage, configImageFromFile, uf2Encode, uf2Decode,
  uf2Ranges, firmwareUf2, coreUf2, UF2_MAGIC_START0, UF2_MAGIC_START1, UF2_MAGIC_END,
  RP2040_FAMILY_ID,
} from '../../tools/uf2/uf2.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'tools/uf2/uf2.mjs');
const layout = readLayout();

// A valid module: magic, version 1, no sections.
const WASM = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

function bytes(n, seed = 1) {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; b[i] = x >>> 24; }
  return b;
}

// Checks every block of a UF2 file against the spec; returns the blocks.
function checkBlocks(buf) {
  assert.equal(buf.length % 512, 0, 'file is whole 512-byte blocks');
  const blocks = uf2Decode(buf);
  blocks.forEach((b, i) => {
    assert.equal(b.magic0, UF2_MAGIC_START0);
    assert.equal(b.magic1, UF2_MAGIC_START1);
    assert.equal(b.magicEnd, UF2_MAGIC_END);
    assert.equal(b.flags, 0x00002000, 'familyID present flag only');
    assert.equal(b.familyId, 0xe48bff56, 'RP2040 family');
    assert.equal(b.payloadSize, 256);
    assert.equal(b.blockNo, i, 'blocks numbered in order from 0');
    assert.equal(b.numBlocks, blocks.length);
    assert.equal(b.addr % 256, 0, 'page-aligned target');
    const raw = buf.subarray(i * 512 + 32 + 256, i * 512 + 508);
    assert.ok(raw.every((x) => x === 0), 'unused data bytes are zero');
  });
  return blocks;
}

// Joins the payload of blocks in [addr, addr+len) back into bytes.
function readBack(blocks, addr, len) {
  const out = Buffer.alloc(len);
  for (const b of blocks) {
    if (b.addr >= addr && b.addr < addr + len) b.data.copy(out, b.addr - addr, 0, Math.min(256, addr + len - b.addr));
  }
  return out;
}

test('crc32 matches the IEEE/zlib check value', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32(Buffer.alloc(0)), 0);
});

test('flash layout: regions aligned, disjoint, inside 2 MiB, firmware slot fits the budget', () => {
  const regions = ['FIRMWARE', 'FIRMWARE_B', 'CORE', 'CORE_B', 'CONFIG', 'STORAGE']
    .map((n) => ({ n, off: layout[`${n}_OFFSET`], len: layout[`${n}_BYTES`] }))
    .sort((a, b) => a.off - b.off);
  let end = 0;
  for (const r of regions) {
    assert.equal(r.off % layout.SECTOR_BYTES, 0, `${r.n} sector-aligned`);
    assert.equal(r.len % layout.SECTOR_BYTES, 0, `${r.n} whole sectors`);
    assert.ok(r.off >= end, `${r.n} does not overlap`);
    end = r.off + r.len;
  }
  assert.ok(end <= layout.TOTAL_BYTES, 'inside the flash');
  assert.ok(layout.FIRMWARE_BYTES >= 700 * 1024, 'firmware slot holds the 700 KB budget');
  assert.ok(2 * (layout.FIRMWARE_BYTES + layout.CORE_BYTES) <= layout.TOTAL_BYTES, 'two images fit');
  assert.ok(layout.CORE_BYTES >= layout.CORE_HEADER_BYTES + 32 * 1024, 'core slot holds the 32 KB budget');
});

test('firmware + core.wasm: one file, two contiguous ranges at the layout addresses', () => {
  const fw = bytes(256 * 5 + 17);
  const core = Buffer.concat([WASM, bytes(1000, 7)]);
  const buf = firmwareUf2(fw, { core, sequence: 3 });
  const blocks = checkBlocks(buf);
  const fwBlocks = Math.ceil(fw.length / 256);
  const coreBlocks = Math.ceil((16 + core.length) / 256);
  assert.equal(blocks.length, fwBlocks + coreBlocks);
  const ranges = uf2Ranges(blocks);
  assert.deepEqual(ranges, [
    { addr: 0x10000000 + layout.FIRMWARE_OFFSET, bytes: fwBlocks * 256 },
    { addr: 0x10000000 + layout.CORE_OFFSET, bytes: coreBlocks * 256 },
  ]);
  // Addresses strictly contiguous inside each range, in block order.
  for (let i = 1; i < fwBlocks; i++) assert.equal(blocks[i].addr, blocks[i - 1].addr + 256);
  for (let i = fwBlocks + 1; i < blocks.length; i++) assert.equal(blocks[i].addr, blocks[i - 1].addr + 256);
  assert.deepEqual(readBack(blocks, 0x10000000, fw.length), fw);
  const slot = readBack(blocks, 0x10000000 + layout.CORE_OFFSET, 16 + core.length);
  assert.equal(slot.readUInt32LE(0), layout.CORE_MAGIC);
  assert.equal(slot.readUInt32LE(4), core.length);
  assert.equal(slot.readUInt32LE(8), crc32(core));
  assert.equal(slot.readUInt32LE(12), 3);
  assert.deepEqual(slot.subarray(16), core);
});

test('core.wasm alone: slot 0 and slot 1 addresses, nothing else written', () => {
  const core = Buffer.concat([WASM, bytes(300, 3)]);
  const b0 = checkBlocks(coreUf2(core));
  assert.deepEqual(uf2Ranges(b0), [{ addr: 0x10000000 + layout.CORE_OFFSET, bytes: 512 }]);
  const b1 = checkBlocks(coreUf2(core, { slot: 1 }));
  assert.equal(b1[0].addr, 0x10000000 + layout.CORE_B_OFFSET);
});

test('rejects what the device could not use', () => {
  assert.throws(() => coreImage(Buffer.from('not wasm at all')), /WebAssembly/);
  assert.throws(() => coreImage(Buffer.concat([WASM, Buffer.alloc(layout.CORE_BYTES)])), /do not fit/);
  assert.throws(() => firmwareUf2(Buffer.alloc(layout.FIRMWARE_BYTES + 1)), /do not fit/);
  assert.throws(() => uf2Encode([{ addr: 0x10000001, data: Buffer.alloc(4) }]), /aligned/);
  assert.throws(() => uf2Encode([{ addr: 0x10000000, data: Buffer.alloc(512) },
    { addr: 0x10000100, data: Buffer.alloc(4) }]), /overlaps/);
  assert.throws(() => uf2Decode(Buffer.alloc(512)), /magic/);
  assert.throws(() => configImage('a = 1\n', { cert: '-----BEGIN CERTIFICATE-----\n' }), /together/);
});

test('config region from a simulator config file: text kept, TLS files become TLV records', () => {
  const dir = mkdtempSync(join(tmpdir(), 'uf2-'));
  try {
    const ca = '-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n';
    const key = '-----BEGIN EC PRIVATE KEY-----\nREVG\n-----END EC PRIVATE KEY-----\n';
    writeFileSync(join(dir, 'ca.pem'), ca);
    writeFileSync(join(dir, 'cert.pem'), ca);
    writeFileSync(join(dir, 'key.pem'), key);
    writeFileSync(join(dir, 'node.conf'), 'node.name = pico-a\ntls.ca_file = ca.pem\n' +
      'tls.cert_file = cert.pem\ntls.key_file = key.pem\nserver.url = https://10.0.0.1:6443\n');
    const img = configImageFromFile(join(dir, 'node.conf'));
    assert.equal(img.readUInt32LE(0), layout.CONFIG_MAGIC);
    assert.equal(img.readUInt32LE(4), layout.CONFIG_VERSION);
    const textLen = img.readUInt32LE(8);
    const tlvLen = img.readUInt32LE(12);
    assert.equal(img.length, 24 + textLen + tlvLen);
    assert.equal(img.readUInt32LE(16), crc32(img.subarray(24)));
    const text = img.subarray(24, 24 + textLen).toString();
    assert.equal(text, 'node.name = pico-a\nserver.url = https://10.0.0.1:6443\n');
    const seen = {};
    let off = 24 + textLen;
    while (off < img.length) {
      const type = img.readUInt16LE(off);
      const len = img.readUInt32LE(off + 4);
      seen[type] = img.subarray(off + 8, off + 8 + len);
      off += 8 + len + ((4 - (len % 4)) % 4);
    }
    assert.equal(off, img.length, 'records end exactly at tlv_len');
    assert.equal(seen[layout.TLV_CA_PEM].toString(), `${ca}\0`);
    assert.equal(seen[layout.TLV_CERT_PEM].toString(), `${ca}\0`);
    assert.equal(seen[layout.TLV_KEY_PEM].toString(), `${key}\0`);
    // The CLI writes it at the config region.
    execFileSync('node', [CLI, 'config', '--config', join(dir, 'node.conf'), '-o', join(dir, 'c.uf2')]);
    const blocks = checkBlocks(readFileSync(join(dir, 'c.uf2')));
    assert.equal(blocks[0].addr, 0x10000000 + layout.CONFIG_OFFSET);
    assert.deepEqual(readBack(blocks, blocks[0].addr, img.length), img);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CLI: firmware then info round trip; bad usage exits non-zero', () => {
  const dir = mkdtempSync(join(tmpdir(), 'uf2-'));
  try {
    writeFileSync(join(dir, 'fw.bin'), bytes(1024));
    writeFileSync(join(dir, 'core.wasm'), WASM);
    execFileSync('node', [CLI, 'firmware', '--bin', join(dir, 'fw.bin'), '--core', join(dir, 'core.wasm'),
      '-o', join(dir, 'out.uf2')]);
    const info = JSON.parse(execFileSync('node', [CLI, 'info', join(dir, 'out.uf2')]).toString());
    assert.equal(info.blocks, 5);
    assert.equal(info.family_id, `0x${RP2040_FAMILY_ID.toString(16)}`);
    assert.equal(info.ranges.length, 2);
    assert.throws(() => execFileSync('node', [CLI, 'firmware'], { stdio: 'pipe' }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
