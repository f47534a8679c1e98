#!/usr/bin/env node
// The k3s-CA route (issue 6): for those who can read the cluster's client CA
// key on the server, issue a node client certificate for a CSR the device
// made. The key never leaves the device; only its CSR (public) comes here.
//
//   node certs/issue-node-cert.mjs --csr node.csr \
//       --ca-cert /var/lib/rancher/k3s/server/tls/client-ca.crt \
//       --ca-key  /var/lib/rancher/k3s/server/tls/client-ca.key \
//       [--node NAME] [--days 365 | --not-before ISO --not-after ISO] -o node.pem
//
// What it checks (and refuses otherwise, in one sentence): the CSR's own
// signature, an ECDSA P-256 key (the device makes nothing else), subject
// exactly CN=system:node:<name>, O=system:nodes (the Node authorizer's
// identity, k8s.io/kubernetes plugin/pkg/auth/authorizer/node), and that the
// CA certificate and key belong together.
// The certificate gets what kubelet client certificates get from the
// kube-controller-manager signer (pkg/controller/certificates/signer):
// KeyUsage digitalSignature (critical), ExtendedKeyUsage clientAuth,
// BasicConstraints CA:false, and the CA's key identifier.
import 'reflect-metadata';
import { webcrypto, createPrivateKey, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);

const NODE_PREFIX = 'system:node:';
const NODE_GROUP = 'system:nodes';
const DAY_MS = 86400000;
/** Default lifetime: one year, as kube-controller-manager's
 *  --cluster-signing-duration default (8760h). */
export const DEFAULT_DAYS = 365;

export class IssueError extends Error {}

/** One RDN value of `name` for a short type (CN, O), or all of them. */
function rdnValues(name, type) {
  const out = [];
  for (const rdn of name.toJSON()) {
    for (const [k, v] of Object.entries(rdn)) if (k === type) out.push(...v);
  }
  return out;
}

/** Imports a CA private key (PKCS#8, SEC1 "EC PRIVATE KEY" as k3s writes, or
 *  PKCS#1 RSA) for WebCrypto signing; returns { key, algorithm }. */
async function importCaKey(pem) {
  let ko;
  try {
    ko = createPrivateKey(pem);
  } catch (e) {
    throw new IssueError(`the CA key is not a readable PEM private key (${e.message})`);
  }
  const pkcs8 = ko.export({ type: 'pkcs8', format: 'der' });
  if (ko.asymmetricKeyType === 'ec') {
    const curve = ko.asymmetricKeyDetails?.namedCurve;
    const namedCurve = { prime256v1: 'P-256', secp384r1: 'P-384' }[curve];
    if (!namedCurve) throw new IssueError(`the CA key uses curve ${curve}, not P-256 or P-384`);
    const alg = { name: 'ECDSA', namedCurve };
    const key = await webcrypto.subtle.importKey('pkcs8', pkcs8, alg, false, ['sign']);
    return { key, algorithm: { name: 'ECDSA', hash: namedCurve === 'P-256' ? 'SHA-256' : 'SHA-384' } };
  }
  if (ko.asymmetricKeyType === 'rsa') {
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    const key = await webcrypto.subtle.importKey('pkcs8', pkcs8, alg, false, ['sign']);
    return { key, algorithm: alg };
  }
  throw new IssueError(`the CA key type ${ko.asymmetricKeyType} is not supported (EC or RSA)`);
}

/** Checks a device CSR; returns { csr, node }. */
export async function checkNodeCsr(csrPem, { node } = {}) {
  let csr;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch (e) {
    throw new IssueError(`the CSR is not a PEM certificate request (${e.message})`);
  }
  if (!(await csr.verify())) throw new IssueError('the CSR signature does not verify: it was altered or is corrupt');
  const alg = csr.publicKey.algorithm;
  if (alg.name !== 'ECDSA' || alg.namedCurve !== 'P-256') {
    throw new IssueError(`the CSR key is ${alg.name} ${alg.namedCurve ?? ''}, not ECDSA P-256 as a pico node makes`.replace(/ +,/, ','));
  }
  const cns = rdnValues(csr.subjectName, 'CN');
  const orgs = rdnValues(csr.subjectName, 'O');
  if (cns.length !== 1 || !cns[0].startsWith(NODE_PREFIX) || cns[0].length === NODE_PREFIX.length) {
    throw new IssueError(`the CSR subject ${csr.subject} is not CN=system:node:<name>`);
  }
  if (orgs.length !== 1 || orgs[0] !== NODE_GROUP) {
    throw new IssueError(`the CSR subject ${csr.subject} does not have exactly O=system:nodes`);
  }
  const name = cns[0].slice(NODE_PREFIX.length);
  if (node !== undefined && node !== name) {
    throw new IssueError(`the CSR is for node ${name}, not ${node}`);
  }
  return { csr, node: name };
}

/** Issues a node client certificate for a device CSR. Returns the PEM. */
export async function issueNodeCert({ csrPem, caCertPem, caKeyPem, node, days = DEFAULT_DAYS, notBefore, notAfter }) {
  const { csr } = await checkNodeCsr(csrPem, { node });
  let ca;
  try {
    ca = new x509.X509Certificate(caCertPem);
  } catch (e) {
    throw new IssueError(`the CA certificate is not PEM (${e.message})`);
  }
  const { key, algorithm } = await importCaKey(caKeyPem);
  // The CA key must be the CA certificate's: sign a probe and verify it.
  const probe = randomBytes(32);
  const sig = await webcrypto.subtle.sign(algorithm, key, probe);
  const caPub = await ca.publicKey.export();
  if (!(await webcrypto.subtle.verify(algorithm, caPub, sig, probe))) {
    throw new IssueError('the CA key does not belong to the CA certificate');
  }
  const nb = notBefore ? new Date(notBefore) : new Date(Date.now() - 60000); // 1 min skew allowance
  const na = notAfter ? new Date(notAfter) : new Date(nb.getTime() + days * DAY_MS);
  if (Number.isNaN(nb.getTime()) || Number.isNaN(na.getTime()) || na <= nb) {
    throw new IssueError('the validity period is empty or not a date');
  }
  const serial = randomBytes(16);
  serial[0] &= 0x7f; // positive INTEGER (RFC 5280 section 4.1.2.2)
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial.toString('hex'),
    subject: csr.subjectName,
    issuer: ca.subjectName,
    notBefore: nb,
    notAfter: na,
    publicKey: csr.publicKey,
    signingKey: key,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
      new x509.BasicConstraintsExtension(false, undefined, true),
      await x509.AuthorityKeyIdentifierExtension.create(ca, false),
    ],
  });
  return cert.toString('pem') + '\n';
}

function parseArgs(argv) {
  const a = {};
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (!k.startsWith('-') || v === undefined) return null;
    a[k.replace(/^-+/, '')] = v;
    i++;
  }
  return a;
}

async function main(argv) {
  const a = parseArgs(argv);
  const usage = 'usage: issue-node-cert.mjs --csr FILE --ca-cert FILE --ca-key FILE [--node NAME] ' +
    '[--days N | --not-before ISO --not-after ISO] -o OUT.pem';
  if (!a || !a.csr || !a['ca-cert'] || !a['ca-key'] || !(a.o || a.out)) {
    console.error(usage);
    return 2;
  }
  const read = (what, p) => {
    try { return readFileSync(p, 'utf8'); } catch (e) { throw new IssueError(`cannot read the ${what} ${p}: ${e.code ?? e.message}`); }
  };
  try {
    const days = a.days === undefined ? DEFAULT_DAYS : Number(a.days);
    if (!(days > 0)) throw new IssueError('--days must be a positive number');
    const pem = await issueNodeCert({
      csrPem: read('CSR', a.csr), caCertPem: read('CA certificate', a['ca-cert']), caKeyPem: read('CA key', a['ca-key']),
      node: a.node, days, notBefore: a['not-before'], notAfter: a['not-after'],
    });
    writeFileSync(a.o ?? a.out, pem);
    const c = new x509.X509Certificate(pem);
    console.error(`issued ${c.subject}, valid ${c.notBefore.toISOString()} .. ${c.notAfter.toISOString()} -> ${a.o ?? a.out}`);
    return 0;
  } catch (e) {
    if (e instanceof IssueError) { console.error(`issue-node-cert: ${e.message}`); return 1; }
    throw e;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
