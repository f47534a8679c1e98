#!/usr/bin/env node
// UF2 writer for the Pico W (RP2040) and the images that go in its flash
// regions. Used by scripts/build-firmware.sh and later by the config tool.
//
// UF2 block format, from the specification at github.com/microsoft/uf2
// (README.md, "File format"): 512-byte blocks, little-endian 32-bit words
//   0 magicStart0 0x0A324655 ("UF2\n")     4 magicStart1 0x9E5D5157
//   8 flags                                12 targetAddr
//  16 payloadSize                          20 blockNo
//  24 numBlocks                            28 fileSize or familyID
//  32 data[476]                           508 magicEnd 0x0AB16F30
// flags 0x00002000 = "familyID present". RP2040's family ID is 0xe48bff56
// (README.md family list and uf2families.json); its boot ROM wants 256-byte
// payloads at 256-byte aligned flash addresses (RP2040 datasheet 2.8.4.2).
//
// Flash regions and the core/config image formats come from
// firmware-shim/port/pico/flash_layout.h (parsed here, never repeated).
//
// CLI:
//   uf2.mjs firmware --bin FW.bin [--core core.wasm] [--sequence N] -o OUT.uf2
//   uf2.mjs core --core core.wasm [--slot 0|1] [--sequence N] -o OUT.uf2
//   uf2.mjs config --config node.conf -o OUT.uf2
//   uf2.mjs info FILE.uf2          (prints a JSON summary of the blocks)
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';

export const UF2_MAGIC_START0 = 0x0a324655;
export const UF2_MAGIC_START1 = 0x9e5d5157;
export const UF2_MAGIC_END = 0x0ab16f30;
export const UF2_FLAG_FAMILY_ID_PRESENT = 0x00002000;
export const UF2_BLOCK_BYTES = 512;
export const UF2_DATA_BYTES = 476;
export const RP2040_FAMILY_ID = 0xe48bff56;
export const RP2040_PAYLOAD_BYTES = 256;

const HERE = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_LAYOUT_HEADER = resolve(HERE, '../../firmware-shim/port/pico/flash_layout.h');

/** Reads every `#define FLASH_NAME 0x...u` from flash_layout.h into an
 *  object keyed by the name without FLASH_ (e.g. CORE_OFFSET). */
export function readLayout(path = DEFAULT_LAYOUT_HEADER) {
  const text = readFileSync(path, 'utf8');
  const layout = {};
  const re = /^#define\s+FLASH_([A-Z0-9_]+)\s+(0x[0-9a-fA-F]+|[0-9]+)u?\b/gm;
  let m;
  while ((m = re.exec(text)) !== null) {
    layout[m[1]] = Number(m[2]);
  }
  // Aliases: #define FLASH_A FLASH_B (e.g. FLASH_DEVMEM_OFFSET).
  const alias = /^#define\s+FLASH_([A-Z0-9_]+)\s+FLASH_([A-Z0-9_]+)\s*$/gm;
  while ((m = alias.exec(text)) !== null) {
    if (m[2] in layout) layout[m[1]] = layout[m[2]];
  }
  for (const k of ['XIP_BASE', 'TOTAL_BYTES', 'FIRMWARE_OFFSET', 'FIRMWARE_BYTES', 'CORE_OFFSET',
    'CORE_BYTES', 'CORE_B_OFFSET', 'CORE_MAGIC', 'CORE_HEADER_BYTES', 'CONFIG_OFFSET',
    'CONFIG_BYTES', 'CONFIG_MAGIC', 'CONFIG_VERSION', 'CONFIG_HEADER_BYTES', 'TLV_CA_PEM',
    'TLV_CERT_PEM', 'TLV_KEY_PEM', 'TLV_WIFI_PSK', 'TLV_CLIENT_CA_PEM']) {
    if (!(k in layout)) throw new Error(`${path}: FLASH_${k} is not defined`);
  }
  return layout;
}

// CRC-32 as in IEEE 802.3 / zlib: reflected, polynomial 0xEDB88320, init and
// final XOR 0xFFFFFFFF (check value of "123456789" is 0xCBF43926).
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The core.wasm slot image: 16-byte header (magic, length, crc32,
 *  sequence) and the module. Throws when it does not fit the slot. */
export function coreImage(wasm, { layout = readLayout(), sequence = 1 } = {}) {
  const header = Buffer.alloc(layout.CORE_HEADER_BYTES);
  if (wasm.length < 8 || wasm.readUInt32LE(0) !== 0x6d736100) {
    throw new Error('core image: not a WebAssembly module (no \\0asm magic)');
  }
  if (header.length + wasm.length > layout.CORE_BYTES) {
    throw new Error(`core image: ${wasm.length} bytes do not fit the ${layout.CORE_BYTES}-byte slot`);
  }
  header.writeUInt32LE(layout.CORE_MAGIC, 0);
  header.writeUInt32LE(wasm.length, 4);
  header.writeUInt32LE(crc32(wasm), 8);
  header.writeUInt32LE(sequence >>> 0, 12);
  return Buffer.concat([header, wasm]);
}

function tlv(type, value) {
  const head = Buffer.alloc(8);
  head.writeUInt16LE(type, 0);
  head.writeUInt16LE(0, 2);
  head.writeUInt32LE(value.length, 4);
  const pad = Buffer.alloc((4 - (value.length % 4)) % 4);
  return Buffer.concat([head, value, pad]);
}

/** A PEM value as stored: its text with one terminating NUL (Mbed TLS
 *  counts the NUL in the length when it parses PEM). */
function pemValue(what, bytes) {
  const text = Buffer.from(bytes).toString('latin1');
  if (!text.includes('-----BEGIN ')) throw new Error(`config image: ${what} is not PEM`);
  return Buffer.concat([Buffer.from(text.replace(/\0+$/, ''), 'latin1'), Buffer.from([0])]);
}

/** The config region image: header, `key = value` text, TLV records for
 *  the CA bundle, client certificate and key, the Wi-Fi passphrase and the
 *  kubelet endpoint's client CA (each optional). */
export function configImage(text, { ca, cert, key, wifiPsk, clientCa } = {}, { layout = readLayout() } = {}) {
  const textBytes = Buffer.from(text, 'utf8');
  const records = [];
  if (ca) records.push(tlv(layout.TLV_CA_PEM, pemValue('CA bundle', ca)));
  if (clientCa) records.push(tlv(layout.TLV_CLIENT_CA_PEM, pemValue('client CA bundle', clientCa)));
  if (cert) records.push(tlv(layout.TLV_CERT_PEM, pemValue('certificate', cert)));
  if (key) records.push(tlv(layout.TLV_KEY_PEM, pemValue('key', key)));
  if (wifiPsk !== undefined) {
    // WPA2 passphrase: 8..63 printable characters (IEEE 802.11i-2004 H.4.1).
    if (!/^[\x20-\x7e]{8,63}$/.test(wifiPsk)) throw new Error('config image: wifi.password must be 8-63 printable characters');
    records.push(tlv(layout.TLV_WIFI_PSK, Buffer.from(`${wifiPsk}\0`, 'latin1')));
  }
  if (Boolean(cert) !== Boolean(key)) throw new Error('config image: certificate and key go together');
  const tlvBytes = Buffer.concat(records);
  const body = Buffer.concat([textBytes, tlvBytes]);
  if (layout.CONFIG_HEADER_BYTES + body.length > layout.CONFIG_BYTES) {
    throw new Error(`config image: ${body.length} bytes do not fit the ${layout.CONFIG_BYTES}-byte region`);
  }
  const header = Buffer.alloc(layout.CONFIG_HEADER_BYTES);
  header.writeUInt32LE(layout.CONFIG_MAGIC, 0);
  header.writeUInt32LE(layout.CONFIG_VERSION, 4);
  header.writeUInt32LE(textBytes.length, 8);
  header.writeUInt32LE(tlvBytes.length, 12);
  header.writeUInt32LE(crc32(body), 16);
  header.writeUInt32LE(0, 20);
  return Buffer.concat([header, body]);
}

/** Builds the device config image from a simulator config's text: it stays
 *  as it is except the tls.ca_file / tls.cert_file / tls.key_file /
 *  tls.client_ca_file lines, whose files (relative to dir) become TLV
 *  records, and wifi.password,
 *  which becomes a TLV the core cannot read. So one config serves the
 *  simulator and the device. */
export function configImageFromText(text, dir, options = {}) {
  const material = {};
  const files = { 'tls.ca_file': 'ca', 'tls.cert_file': 'cert', 'tls.key_file': 'key', 'tls.client_ca_file': 'clientCa' };
  const kept = [];
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z0-9._-]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m && m[1] === 'wifi.password') {
      material.wifiPsk = m[2];
      continue;
    }
    if (m && m[1] in files) {
      if (m[2] !== '') {
        const p = isAbsolute(m[2]) ? m[2] : resolve(dir, m[2]);
        material[files[m[1]]] = readFileSync(p);
      }
      continue;
    }
    kept.push(line);
  }
  return configImage(kept.join('\n'), material, options);
}

/** configImageFromText of a config file, its files relative to its directory. */
export function configImageFromFile(path, options = {}) {
  return configImageFromText(readFileSync(path, 'utf8'), dirname(resolve(path)), options);
}

/** Encodes ranges [{ addr, data }] (absolute addresses) as UF2 blocks of
 *  payloadBytes each, numbered across the whole file. Each range is padded
 *  with zeros to whole payloads; ranges must be payload-aligned and must
 *  not overlap. */
export function uf2Encode(ranges, { familyId = RP2040_FAMILY_ID, payloadBytes = RP2040_PAYLOAD_BYTES } = {}) {
  const sorted = [...ranges].sort((a, b) => a.addr - b.addr);
  const chunks = [];
  let end = 0;
  for (const r of sorted) {
    if (r.addr % payloadBytes !== 0) throw new Error(`uf2: address 0x${r.addr.toString(16)} is not ${payloadBytes}-byte aligned`);
    if (r.addr < end) throw new Error(`uf2: range at 0x${r.addr.toString(16)} overlaps the previous one`);
    for (let off = 0; off < r.data.length; off += payloadBytes) {
      chunks.push({ addr: r.addr + off, data: r.data.subarray(off, off + payloadBytes) });
    }
    end = r.addr + Math.ceil(r.data.length / payloadBytes) * payloadBytes;
  }
  const out = Buffer.alloc(chunks.length * UF2_BLOCK_BYTES);
  chunks.forEach((c, i) => {
    const b = out.subarray(i * UF2_BLOCK_BYTES, (i + 1) * UF2_BLOCK_BYTES);
    b.writeUInt32LE(UF2_MAGIC_START0, 0);
    b.writeUInt32LE(UF2_MAGIC_START1, 4);
    b.writeUInt32LE(UF2_FLAG_FAMILY_ID_PRESENT, 8);
    b.writeUInt32LE(c.addr >>> 0, 12);
    b.writeUInt32LE(payloadBytes, 16);
    b.writeUInt32LE(i, 20);
    b.writeUInt32LE(chunks.length, 24);
    b.writeUInt32LE(familyId >>> 0, 28);
    c.data.copy(b, 32); // the rest of data[] stays zero (padding)
    b.writeUInt32LE(UF2_MAGIC_END, 508);
  });
  return out;
}

/** Parses a UF2 file back into blocks; throws on a malformed block. */
export function uf2Decode(buf) {
  if (buf.length % UF2_BLOCK_BYTES !== 0) throw new Error('uf2: size is not a multiple of 512');
  const blocks = [];
  for (let off = 0; off < buf.length; off += UF2_BLOCK_BYTES) {
    const b = buf.subarray(off, off + UF2_BLOCK_BYTES);
    const blk = {
      magic0: b.readUInt32LE(0), magic1: b.readUInt32LE(4), flags: b.readUInt32LE(8),
      addr: b.readUInt32LE(12), payloadSize: b.readUInt32LE(16), blockNo: b.readUInt32LE(20),
      numBlocks: b.readUInt32LE(24), familyId: b.readUInt32LE(28), magicEnd: b.readUInt32LE(508),
    };
    if (blk.magic0 !== UF2_MAGIC_START0 || blk.magic1 !== UF2_MAGIC_START1 || blk.magicEnd !== UF2_MAGIC_END) {
      throw new Error(`uf2: bad magic in block at byte ${off}`);
    }
    if (blk.payloadSize > UF2_DATA_BYTES) throw new Error(`uf2: payload ${blk.payloadSize} > 476`);
    blk.data = Buffer.from(b.subarray(32, 32 + blk.payloadSize));
    blocks.push(blk);
  }
  return blocks;
}

/** Flash byte ranges a decoded file writes: [{ addr, bytes }], merged when
 *  contiguous. */
export function uf2Ranges(blocks) {
  const ranges = [];
  for (const b of [...blocks].sort((x, y) => x.addr - y.addr)) {
    const last = ranges[ranges.length - 1];
    if (last && last.addr + last.bytes === b.addr) last.bytes += b.payloadSize;
    else ranges.push({ addr: b.addr, bytes: b.payloadSize });
  }
  return ranges;
}

/** Firmware binary (linked at the start of flash) plus, optionally, the
 *  core.wasm slot 0 image, as one UF2 file. */
export function firmwareUf2(firmwareBin, { core, sequence = 1, layout = readLayout() } = {}) {
  if (firmwareBin.length > layout.FIRMWARE_BYTES) {
    throw new Error(`firmware: ${firmwareBin.length} bytes do not fit the ${layout.FIRMWARE_BYTES}-byte slot`);
  }
  const ranges = [{ addr: layout.XIP_BASE + layout.FIRMWARE_OFFSET, data: firmwareBin }];
  if (core) ranges.push({ addr: layout.XIP_BASE + layout.CORE_OFFSET, data: coreImage(core, { layout, sequence }) });
  return uf2Encode(ranges);
}

/** core.wasm alone, for slot 0 (default) or 1: replaces the agent without
 *  touching the firmware. */
export function coreUf2(core, { slot = 0, sequence = 1, layout = readLayout() } = {}) {
  const offset = slot === 1 ? layout.CORE_B_OFFSET : layout.CORE_OFFSET;
  return uf2Encode([{ addr: layout.XIP_BASE + offset, data: coreImage(core, { layout, sequence }) }]);
}

/** A config region image (configImageFromFile / configImageFromText) as a
 *  UF2 for the config region. */
export function configUf2(image, { layout = readLayout() } = {}) {
  return uf2Encode([{ addr: layout.XIP_BASE + layout.CONFIG_OFFSET, data: image }]);
}

function parseArgs(argv) {
  const args = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--') || a === '-o') {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      args[a === '-o' ? 'out' : a.slice(2)] = argv[++i];
    } else {
      args._.push(a);
    }
  }
  return args;
}

function main(argv) {
  const usage = 'usage: uf2.mjs firmware --bin FW.bin [--core core.wasm] [--sequence N] -o OUT.uf2\n' +
    '       uf2.mjs core --core core.wasm [--slot 0|1] [--sequence N] -o OUT.uf2\n' +
    '       uf2.mjs config --config node.conf -o OUT.uf2\n' +
    '       uf2.mjs info FILE.uf2';
  const args = parseArgs(argv);
  const cmd = args._[0];
  const layout = readLayout(args.layout || DEFAULT_LAYOUT_HEADER);
  const sequence = args.sequence ? Number(args.sequence) : 1;
  let out;
  if (cmd === 'firmware' && args.bin && args.out) {
    out = firmwareUf2(readFileSync(args.bin), { core: args.core ? readFileSync(args.core) : undefined, sequence, layout });
  } else if (cmd === 'core' && args.core && args.out) {
    out = coreUf2(readFileSync(args.core), { slot: Number(args.slot || 0), sequence, layout });
  } else if (cmd === 'config' && args.config && args.out) {
    out = configUf2(configImageFromFile(args.config, { layout }), { layout });
  } else if (cmd === 'info' && args._[1]) {
    const blocks = uf2Decode(readFileSync(args._[1]));
    const ranges = uf2Ranges(blocks).map((r) => ({ addr: `0x${r.addr.toString(16)}`, bytes: r.bytes }));
    const payload = blocks.reduce((s, b) => s + b.payloadSize, 0);
    console.log(JSON.stringify({ blocks: blocks.length, payload_bytes: payload,
      family_id: `0x${(blocks[0]?.familyId ?? 0).toString(16)}`, ranges }));
    return 0;
  } else {
    console.error(usage);
    return 2;
  }
  writeFileSync(args.out, out);
  const blocks = out.length / UF2_BLOCK_BYTES;
  console.log(`uf2: ${args.out}: ${blocks} blocks, ${blocks * RP2040_PAYLOAD_BYTES} payload bytes`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    console.error(`uf2: ${e.message}`);
    process.exitCode = 1;
  }
}
