// k3s-pico-node config write (cli/): the simulator config and the config
// UF2, parsed back here independently of tools/uf2 (block layout, family ID,
// CRC-32 of the region image), plus bad input: one sentence, exit 1, nothing
// written. Runs without a cluster (token/rbac are covered by
// tests/e2e/identity.test.mjs against the control plane).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'build/cli/main.js');
const TOKEN = 'abcdef.0123456789abcdef';
let dir;
let ca;

// flash_layout.h, read here too so the test follows the header.
function layout() {
  const text = readFileSync(path.join(ROOT, 'firmware-shim/port/pico/flash_layout.h'), 'utf8');
  const out = {};
  for (const m of text.matchAll(/^#define\s+FLASH_([A-Z0-9_]+)\s+(0x[0-9a-fA-F]+|[0-9]+)u?\b/gm)) out[m[1]] = Number(m[2]);
  return out;
}
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
function cli(...args) {
  return spawnSync('node', [CLI, ...args], { cwd: dir, encoding: 'utf8' });
}
function parseConf(text) {
  const m = new Map();
  for (const line of text.split('\n')) {
    const r = /^\s*([A-Za-z0-9._-]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (r) m.set(r[1], r[2]);
  }
  return m;
}

before(() => {
  execFileSync('npx', ['tsc', '-p', 'cli'], { cwd: ROOT, stdio: 'inherit' });
  dir = mkdtempSync(path.join(tmpdir(), 'pico-cli-'));
  execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], { cwd: dir });
  execFileSync('openssl', ['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=test-server-ca', '-days', '2', '-out', 'ca.pem'], { cwd: dir });
  ca = path.join(dir, 'ca.pem');
});

test('config write --sim: keys, CA copied beside it, CA hash, mode 0600', () => {
  const r = cli('config', 'write', '--node', 'pico-1', '--server', 'https://10.1.2.3:7443', '--ca', ca, '--token', TOKEN, '--sim', 'pico-1.conf');
  assert.equal(r.status, 0, r.stderr);
  const conf = path.join(dir, 'pico-1.conf');
  const m = parseConf(readFileSync(conf, 'utf8'));
  assert.equal(m.get('node.name'), 'pico-1');
  assert.equal(m.get('server.host'), '10.1.2.3');
  assert.equal(m.get('server.port'), '7443');
  assert.equal(m.get('bootstrap.token'), TOKEN);
  assert.equal(m.get('tls.ca_file'), 'pico-1-ca.pem');
  assert.deepEqual(readFileSync(path.join(dir, 'pico-1-ca.pem')), readFileSync(ca));
  assert.equal(m.get('server.ca_hash'), 'sha256:' + createHash('sha256').update(readFileSync(ca)).digest('hex'));
  assert.equal(statSync(conf).mode & 0o777, 0o600);
});

/** A config UF2 checked block by block (magic, family, addresses inside the
 *  config region, in order) and its region read back: { text, tlvs }. */
function readConfigUf2(file) {
  const L = layout();
  const buf = readFileSync(file);
  assert.equal(buf.length % 512, 0);
  const n = buf.length / 512;
  const image = Buffer.alloc(n * 256);
  for (let i = 0; i < n; i++) {
    const b = buf.subarray(i * 512, (i + 1) * 512);
    assert.equal(b.readUInt32LE(0), 0x0a324655, 'magicStart0');
    assert.equal(b.readUInt32LE(4), 0x9e5d5157, 'magicStart1');
    assert.equal(b.readUInt32LE(508), 0x0ab16f30, 'magicEnd');
    assert.equal(b.readUInt32LE(8) & 0x2000, 0x2000, 'familyID present flag');
    assert.equal(b.readUInt32LE(28), 0xe48bff56, 'RP2040 family ID');
    assert.equal(b.readUInt32LE(16), 256, 'payload size');
    assert.equal(b.readUInt32LE(20), i, 'block number');
    assert.equal(b.readUInt32LE(24), n, 'number of blocks');
    const addr = b.readUInt32LE(12);
    assert.equal(addr, L.XIP_BASE + L.CONFIG_OFFSET + i * 256, 'address in the config region, in order');
    assert.ok(addr + 256 <= L.XIP_BASE + L.CONFIG_OFFSET + L.CONFIG_BYTES, 'inside the config region');
    b.copy(image, i * 256, 32, 32 + 256);
  }
  assert.equal(image.readUInt32LE(0), L.CONFIG_MAGIC);
  assert.equal(image.readUInt32LE(4), L.CONFIG_VERSION);
  const textLen = image.readUInt32LE(8);
  const tlvLen = image.readUInt32LE(12);
  const H = L.CONFIG_HEADER_BYTES;
  assert.equal(image.readUInt32LE(16), crc32(image.subarray(H, H + textLen + tlvLen)), 'CRC-32 of text + TLVs');
  const text = image.subarray(H, H + textLen).toString('utf8');
  // TLV records: type u16, reserved u16, length u32, value padded to 4.
  const tlvs = new Map();
  for (let p = H + textLen; p < H + textLen + tlvLen;) {
    const type = image.readUInt16LE(p);
    const len = image.readUInt32LE(p + 4);
    tlvs.set(type, image.subarray(p + 8, p + 8 + len));
    p += 8 + ((len + 3) & ~3);
  }
  return { text, tlvs };
}

test('config write --client-ca: the kubelet endpoint\'s client CA beside the sim config, a TLV in the UF2', () => {
  const r = cli('config', 'write', '--node', 'pico-k', '--server', 'https://10.1.2.3:6443', '--ca', ca, '--token', TOKEN,
    '--client-ca', ca, '--sim', 'pico-k.conf');
  assert.equal(r.status, 0, r.stderr);
  const m = parseConf(readFileSync(path.join(dir, 'pico-k.conf'), 'utf8'));
  assert.equal(m.get('tls.client_ca_file'), 'pico-k-client-ca.pem');
  assert.deepEqual(readFileSync(path.join(dir, 'pico-k-client-ca.pem')), readFileSync(ca));
  const u = cli('config', 'write', '--node', 'pico-k', '--server', 'https://10.1.2.3:6443', '--ca', ca, '--token', TOKEN,
    '--client-ca', ca, '--uf2', 'pico-k.uf2');
  assert.equal(u.status, 0, u.stderr);
  const L = layout();
  const { text, tlvs } = readConfigUf2(path.join(dir, 'pico-k.uf2'));
  assert.ok(!parseConf(text).has('tls.client_ca_file'), 'the client CA goes into a TLV record');
  assert.deepEqual(tlvs.get(L.TLV_CLIENT_CA_PEM), Buffer.concat([readFileSync(ca), Buffer.from([0])]));
  const bad = cli('config', 'write', '--node', 'pico-k', '--server', 'https://10.1.2.3:6443', '--ca', ca, '--token', TOKEN,
    '--client-ca', path.join(dir, 'nope.pem'), '--sim', 'pico-k2.conf');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /cannot read the CA bundle .*nope\.pem/);
});

test('config write --uf2: blocks, family ID, region, CRC, secrets outside the text', () => {
  const r = cli('config', 'write', '--node', 'pico-2', '--server', 'https://10.1.2.3:6443', '--ca', ca, '--token', TOKEN,
    '--wifi-ssid', 'home net', '--wifi-password', 'correct horse', '--country', 'GB', '--node-ip', '10.1.2.50', '--uf2', 'pico-2.uf2');
  assert.equal(r.status, 0, r.stderr);
  const L = layout();
  const { text, tlvs } = readConfigUf2(path.join(dir, 'pico-2.uf2'));
  const m = parseConf(text);
  assert.equal(m.get('node.name'), 'pico-2');
  assert.equal(m.get('wifi.ssid'), 'home net');
  assert.equal(m.get('wifi.country'), 'GB');
  assert.equal(m.get('node.ip'), '10.1.2.50');
  assert.equal(m.get('bootstrap.token'), TOKEN);
  assert.ok(!text.includes('correct horse'), 'the Wi-Fi password is not in the text the core can read');
  assert.ok(!m.has('tls.ca_file'), 'the CA goes into a TLV record');
  assert.deepEqual(tlvs.get(L.TLV_CA_PEM), Buffer.concat([readFileSync(ca), Buffer.from([0])]));
  assert.equal(tlvs.get(L.TLV_WIFI_PSK).toString('latin1'), 'correct horse\0');
  assert.equal(tlvs.has(L.TLV_KEY_PEM), false, 'no private key: the device makes its own');
});

for (const [what, args, re] of [
  ['a truncated CA file', ['--ca', 'trunc.pem'], /holds no PEM certificate|does not parse/],
  ['a missing CA file', ['--ca', 'nope.pem'], /cannot read the CA bundle/],
  ['a malformed token', ['--token', 'abc'], /not a bootstrap token/],
  ['a plain-http server', ['--server', 'http://10.0.0.1:6443'], /must be https/],
  ['a short Wi-Fi password', ['--wifi-ssid', 'x', '--wifi-password', 'short'], /8 to 63/],
  ['a bad node name', ['--node', 'Pico_1'], /not a valid node name/],
]) {
  test(`config write refuses ${what} in one sentence and writes nothing`, () => {
    writeFileSync(path.join(dir, 'trunc.pem'), readFileSync(ca, 'utf8').slice(0, 120));
    const base = { '--node': 'pico-3', '--server': 'https://10.0.0.1:6443', '--ca': ca, '--token': TOKEN };
    const argv = ['config', 'write'];
    const over = new Map();
    for (let i = 0; i < args.length; i += 2) over.set(args[i], args[i + 1]);
    for (const [k, v] of Object.entries(base)) argv.push(k, over.has(k) ? over.get(k) : v);
    for (const [k, v] of over) if (!(k in base)) argv.push(k, v);
    argv.push('--sim', 'bad.conf');
    const r = cli(...argv);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    assert.equal(existsSync(path.join(dir, 'bad.conf')), false);
  });
}

test('usage errors exit 2; an unreachable cluster is one sentence', () => {
  assert.equal(cli('frobnicate').status, 2);
  assert.equal(cli('config', 'write', '--node', 'x').status, 2);
  const kc = path.join(dir, 'kc.yaml');
  writeFileSync(kc, `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`);
  const r = cli('token', 'create', '--kubeconfig', kc);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cannot reach the API server at https:\/\/127\.0\.0\.1:1/);
  assert.equal(r.stdout, '');
  const t = cli('token', 'create', '--ttl', 'forever', '--kubeconfig', kc);
  assert.match(t.stderr, /not a duration/);
});
