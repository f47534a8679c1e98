// The kubelet-serving CSR rule (cli/src/approver.ts, judgeServingCsr) on
// real PKCS#10 requests made here with @peculiar/x509 and WebCrypto keys:
// the approve case, every deny rule, every wait rule, and the CSRs it leaves
// to others. Runs without a cluster (tests/e2e/approver.test.mjs runs the
// approver against the control plane).
import 'reflect-metadata'; // before @peculiar/x509 (its tsyringe needs it)
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as x509 from '@peculiar/x509';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SERVING = 'kubernetes.io/kubelet-serving';
const EC = (namedCurve) => ({ name: 'ECDSA', namedCurve, hash: namedCurve === 'P-384' ? 'SHA-384' : 'SHA-256' });
const RSA = (modulusLength) => ({ name: 'RSASSA-PKCS1-v1_5', modulusLength, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' });
let judge;
let ipBytes;
const keys = {};

/** Builds build/cli unless it is newer than every source (the other cli
 *  suite may be running from it at the same time). */
function buildCli() {
  const newest = (dir) => Math.max(0, ...readdirSync(dir).map((f) => statSync(path.join(dir, f)).mtimeMs));
  const out = path.join(ROOT, 'build/cli/approver.js');
  let built = 0;
  try { built = statSync(out).mtimeMs; } catch { /* not built yet */ }
  if (built < newest(path.join(ROOT, 'cli/src'))) execFileSync('npx', ['tsc', '-p', 'cli'], { cwd: ROOT, stdio: 'inherit' });
}

before(async () => {
  buildCli();
  ({ judgeServingCsr: judge, ipBytes } = await import(path.join(ROOT, 'build/cli/approver.js')));
  keys.p256 = await crypto.subtle.generateKey(EC('P-256'), true, ['sign', 'verify']);
  keys.other = await crypto.subtle.generateKey(EC('P-256'), true, ['sign', 'verify']);
  keys.p384 = await crypto.subtle.generateKey(EC('P-384'), true, ['sign', 'verify']);
  keys.rsa2048 = await crypto.subtle.generateKey(RSA(2048), true, ['sign', 'verify']);
  keys.rsa1024 = await crypto.subtle.generateKey(RSA(1024), true, ['sign', 'verify']);
});

/** spec.request for a CSR: base64 of its PEM. `key` names one of `keys`;
 *  `signWith` signs with another key's private half (a bad signature). */
async function request({ subject = 'CN=system:node:pico-a, O=system:nodes', sans = [{ type: 'dns', value: 'pico-a' }, { type: 'ip', value: '192.0.2.10' }],
  key = 'p256', signWith } = {}) {
  const alg = { p256: EC('P-256'), other: EC('P-256'), p384: EC('P-384'), rsa2048: RSA(2048), rsa1024: RSA(1024) }[key];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subject,
    keys: { publicKey: keys[key].publicKey, privateKey: keys[signWith ?? key].privateKey },
    signingAlgorithm: alg,
    extensions: sans.length ? [new x509.SubjectAlternativeNameExtension(sans)] : [],
  });
  return Buffer.from(csr.toString('pem')).toString('base64');
}

/** A CSR object as the API server stores it, requested by pico-a. */
function csrObject(req, { username = 'system:node:pico-a', groups = ['system:nodes', 'system:authenticated'],
  usages = ['digital signature', 'server auth'], signerName = SERVING, conditions } = {}) {
  return {
    metadata: { name: 'csr-test' },
    spec: { signerName, username, groups, usages, request: req },
    ...(conditions ? { status: { conditions } } : {}),
  };
}

const NODE = {
  metadata: { name: 'pico-a' },
  status: { addresses: [{ type: 'InternalIP', address: '192.0.2.10' }, { type: 'Hostname', address: 'pico-a' }] },
};

async function expectVerdict(csr, node, verdict, reasonRe) {
  const j = await judge(csr, node);
  assert.equal(j.verdict, verdict, `verdict for ${JSON.stringify(j)}`);
  assert.match(j.reason, reasonRe);
  return j;
}

test('approves a P-256 CSR from the node whose SANs are its addresses, saying what was checked', async () => {
  const j = await expectVerdict(csrObject(await request()), NODE, 'approve', /requested by node pico-a/);
  for (const part of [/signature valid/, /CN=system:node:pico-a, O=system:nodes/, /ECDSA P-256/, /digital signature, server auth/, /DNS:pico-a, IP:192\.0\.2\.10 all in Node pico-a's status\.addresses/]) {
    assert.match(j.reason, part);
  }
});

test('approves RSA 2048 with key encipherment, and a subject written O first', async () => {
  await expectVerdict(csrObject(await request({ key: 'rsa2048', subject: 'O=system:nodes, CN=system:node:pico-a' }),
    { usages: ['digital signature', 'key encipherment', 'server auth'] }), NODE, 'approve', /RSA 2048-bit/);
  await expectVerdict(csrObject(await request(), { usages: ['server auth'] }), NODE, 'approve', /usages server auth;/);
});

test('compares DNS names case-insensitively and IPs as addresses, against any address type', async () => {
  const node = { metadata: { name: 'pico-a' }, status: { addresses: [
    { type: 'Hostname', address: 'Pico-A.Local' }, { type: 'ExternalIP', address: '2001:0db8:0:0:0:0:0:a' }, { type: 'InternalIP', address: '192.0.2.10' },
  ] } };
  await expectVerdict(csrObject(await request({ sans: [{ type: 'dns', value: 'pico-a.LOCAL' }, { type: 'ip', value: '2001:db8::a' }] })), node, 'approve', /DNS:pico-a\.LOCAL/);
  // 192.0.2.10 as an IPv4-mapped IPv6 SAN is the same address (Go's net.IP.Equal).
  // (Written in hex: @peculiar/x509 mis-encodes the dotted ::ffff:a.b.c.d form.)
  await expectVerdict(csrObject(await request({ sans: [{ type: 'ip', value: '::ffff:c000:20a' }] })), node, 'approve', /IP:::ffff:c000:20a all in Node/);
  // A DNS SAN spelled like an IP is a name, compared as text: it matches 192.0.2.10 only literally.
  await expectVerdict(csrObject(await request({ sans: [{ type: 'dns', value: '192.000.2.10' }] })), node, 'wait', /DNS:192\.000\.2\.10 not among/);
});

test('ipBytes: one 16-byte form per address', () => {
  const same = (a, b) => assert.deepEqual(ipBytes(a), ipBytes(b), `${a} = ${b}`);
  same('2001:db8::1', '2001:0DB8:0000:0000:0000:0000:0000:0001');
  same('::', '0:0:0:0:0:0:0:0');
  same('::1', '0:0:0:0:0:0:0:1');
  same('1.2.3.4', '::ffff:102:304');
  same('fe80::1:2', 'fe80:0:0:0:0:0:1:2');
  assert.notDeepEqual(ipBytes('2001:db8::1'), ipBytes('2001:db8::1:0'));
  assert.equal(ipBytes('pico-a'), null);
  assert.equal(ipBytes('fe80::1%eth0'), null);
  assert.equal(ipBytes('1.2.3.4').length, 16);
});

test('denies a requester that is not a node, or not in system:nodes', async () => {
  const req = await request();
  await expectVerdict(csrObject(req, { username: 'alice' }), NODE, 'deny', /requested by alice, not by a node/);
  await expectVerdict(csrObject(req, { username: 'system:serviceaccount:kube-system:x' }), NODE, 'deny', /not by a node/);
  await expectVerdict(csrObject(req, { groups: ['system:authenticated'] }), NODE, 'deny', /not in group system:nodes/);
  await expectVerdict(csrObject(req, { groups: null }), NODE, 'deny', /not in group system:nodes/);
});

test('denies a request that does not parse, or whose signature does not verify', async () => {
  await expectVerdict(csrObject(Buffer.from('hello').toString('base64')), NODE, 'deny', /not a PEM certificate request \(no PEM block\)/);
  const certPem = `-----BEGIN CERTIFICATE-----\n${Buffer.from('x').toString('base64')}\n-----END CERTIFICATE-----\n`;
  await expectVerdict(csrObject(Buffer.from(certPem).toString('base64')), NODE, 'deny', /the PEM block is a CERTIFICATE/);
  const junk = `-----BEGIN CERTIFICATE REQUEST-----\n${Buffer.from('not DER at all').toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
  await expectVerdict(csrObject(Buffer.from(junk).toString('base64')), NODE, 'deny', /not a PEM certificate request/);
  await expectVerdict(csrObject(await request({ signWith: 'other' })), NODE, 'deny', /signature does not verify/);
});

test('denies a subject that is not exactly CN=system:node:<requester>, O=system:nodes', async () => {
  for (const subject of [
    'CN=system:node:pico-b, O=system:nodes', // another node's name
    'CN=pico-a, O=system:nodes', // k3s-style serving CN, not the node identity
    'CN=system:node:pico-a, O=system:masters',
    'CN=system:node:pico-a', // no O
    'CN=system:node:pico-a, O=system:nodes, O=system:masters',
    'CN=system:node:pico-a, O=system:nodes, OU=extra',
  ]) {
    await expectVerdict(csrObject(await request({ subject })), NODE, 'deny', /must be exactly CN=system:node:pico-a, O=system:nodes \(the requesting node\)/);
  }
  // Identity is judged before the Node is looked at: denied even with no Node.
  await expectVerdict(csrObject(await request({ subject: 'CN=system:node:pico-b, O=system:nodes' })), null, 'deny', /must be exactly/);
});

test('denies keys other than ECDSA P-256 or RSA >= 2048', async () => {
  await expectVerdict(csrObject(await request({ key: 'p384' })), NODE, 'deny', /the key is ECDSA secp384r1; only ECDSA P-256 or RSA of at least 2048 bits/);
  await expectVerdict(csrObject(await request({ key: 'rsa1024' })), NODE, 'deny', /the key is RSA 1024-bit/);
});

test('denies usages outside {digital signature, key encipherment, server auth} or without server auth', async () => {
  const req = await request();
  await expectVerdict(csrObject(req, { usages: ['digital signature', 'server auth', 'client auth'] }), NODE, 'deny', /usage client auth is not allowed/);
  await expectVerdict(csrObject(req, { usages: ['digital signature', 'key encipherment'] }), NODE, 'deny', /lack server auth/);
  await expectVerdict(csrObject(req, { usages: [] }), NODE, 'deny', /usages \(none\) lack server auth/);
});

test('denies no SAN, email and URI SANs, and IP SANs that are not one address', async () => {
  await expectVerdict(csrObject(await request({ sans: [] })), NODE, 'deny', /no DNS or IP subjectAltName/);
  await expectVerdict(csrObject(await request({ sans: [{ type: 'dns', value: 'pico-a' }, { type: 'email', value: 'pico@example.com' }] })), NODE, 'deny',
    /subjectAltName email:pico@example\.com is not allowed \(only DNS and IP names\)/);
  await expectVerdict(csrObject(await request({ sans: [{ type: 'url', value: 'spiffe://cluster/pico-a' }] })), NODE, 'deny', /URI:spiffe:\/\/cluster\/pico-a is not allowed/);
  // An 8-byte IP SAN (address + mask, the name-constraints form) is no address.
  await expectVerdict(csrObject(await request({ sans: [{ type: 'ip', value: '192.0.2.10/32' }] })), NODE, 'deny', /IP:192\.0\.2\.10\/32 is not a single IP address/);
});

test('waits while the Node does not exist or lacks an address the CSR names', async () => {
  const req = await request();
  await expectVerdict(csrObject(req), null, 'wait', /Node pico-a does not exist yet/);
  await expectVerdict(csrObject(req), { metadata: { name: 'pico-a' }, status: {} }, 'wait', /DNS:pico-a, IP:192\.0\.2\.10 not among Node pico-a's status\.addresses \(none\)/);
  await expectVerdict(csrObject(await request({ sans: [{ type: 'dns', value: 'pico-a' }, { type: 'ip', value: '10.9.8.7' }] })), NODE, 'wait',
    /^IP:10\.9\.8\.7 not among Node pico-a's status\.addresses \(192\.0\.2\.10, pico-a\)$/);
  await expectVerdict(csrObject(await request({ sans: [{ type: 'dns', value: 'pico-b' }] })), NODE, 'wait', /DNS:pico-b not among/);
});

test('leaves other signers and decided CSRs alone', async () => {
  const req = await request();
  await expectVerdict(csrObject(req, { signerName: 'kubernetes.io/kube-apiserver-client-kubelet' }), NODE, 'ignore', /is not kubernetes\.io\/kubelet-serving/);
  await expectVerdict(csrObject(req, { conditions: [{ type: 'Approved', status: 'True' }] }), NODE, 'ignore', /already approved or denied/);
  await expectVerdict(csrObject(req, { username: 'alice', conditions: [{ type: 'Denied', status: 'True' }] }), NODE, 'ignore', /already/);
});
