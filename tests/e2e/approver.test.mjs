// The kubelet-serving CSR approver (k3s-pico-node approver, cli/) against
// the real control plane. It runs as the ServiceAccount of the shipped RBAC
// (manifests/pico-serving-approver-rbac.yaml) with nothing else bound, so
// every call it makes is checked against that least-privilege role. CSRs
// come from the node itself (kubectl impersonating system:node:<n>, as the
// API server fills spec.username/groups from the requester); keys and
// requests are made with openssl, independently of the code under test. The
// controller-manager's kubelet-serving signer then issues approved ones.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { X509Certificate, createPublicKey } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { Cluster, ROOT, until } from './harness.mjs';

const cluster = new Cluster({ name: 'approver', port: 17448 });
const work = path.join(ROOT, 'build/e2e/approver');
const CLI = path.join(ROOT, 'build/cli/main.js');
const RBAC = path.join(ROOT, 'manifests/pico-serving-approver-rbac.yaml');
const SA = 'k3s-pico-node-approver';
const SA_USER = `system:serviceaccount:kube-system:${SA}`;
let kubeconfig; // the approver's: a token of the ServiceAccount, nothing else
let watcher;
let portShift = 0; // where up() moved the cluster from 17448

/** A Node as the admin creates it, status (addresses) included. */
function createNode(name, addresses) {
  const f = path.join(work, `node-${name}.json`);
  writeFileSync(f, JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { addresses } }));
  cluster.kubectl('create', '-f', f);
}

// Who creates a CSR: the node itself; a user merely named like the node but
// outside system:nodes (NodeRestriction does not treat it as a node; the
// test grants it CSR creation); a bootstrap token; the admin.
const REQUESTERS = {
  node: (n) => [`--as=system:node:${n}`, '--as-group=system:nodes', '--as-group=system:authenticated'],
  user: (n) => [`--as=system:node:${n}`, '--as-group=system:authenticated'],
  token: () => ['--as=system:bootstrap:abcdef', '--as-group=system:bootstrappers', '--as-group=system:authenticated'],
  admin: () => [],
};

/** A P-256 key and a kubelet-serving CSR made with openssl, created by
 *  REQUESTERS[by](node); returns the key file. */
function createCsr(name, { node, by = 'node', cn = `system:node:${node}`, sans, signer = 'kubernetes.io/kubelet-serving' }) {
  const key = path.join(work, `${name}.key`);
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
  const pem = execFileSync('openssl', ['req', '-new', '-key', key, '-subj', `/O=system:nodes/CN=${cn}`, '-addext', `subjectAltName=${sans}`]);
  const f = path.join(work, `${name}.json`);
  writeFileSync(f, JSON.stringify({
    apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name },
    spec: { request: pem.toString('base64'), signerName: signer, usages: ['digital signature', 'server auth'] },
  }));
  cluster.kubectl(...REQUESTERS[by](node), 'create', '-f', f);
  return key;
}

const csr = (name) => cluster.kubectlJSON('get', 'csr', name);
const conditions = (name) => csr(name).status?.conditions ?? [];
const condition = (name, type) => conditions(name).find((c) => c.type === type);

/** Whether the approver's ServiceAccount may do this (a SubjectAccessReview as the admin). */
function saMay(verb, group, resource, { name, subresource } = {}) {
  const f = path.join(work, `sar-${verb}-${resource}-${subresource ?? ''}-${(name ?? '').replace(/\W/g, '_')}.json`);
  writeFileSync(f, JSON.stringify({
    apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview',
    spec: { user: SA_USER, groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
      resourceAttributes: { verb, group, resource, name, subresource } },
  }));
  return cluster.kubectlJSON('create', '-f', f).status.allowed === true;
}

function approverOnce() {
  return spawnSync('node', [CLI, 'approver', '--once', '--kubeconfig', kubeconfig], { encoding: 'utf8', cwd: work });
}

/** The certificate the cluster issued for a CSR, checked against the server CA and the key. */
function issuedCert(name, keyFile) {
  const cert = new X509Certificate(Buffer.from(csr(name).status.certificate, 'base64'));
  const ca = new X509Certificate(readFileSync(cluster.serverCA));
  assert.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey), 'signed by the cluster\'s server CA');
  const spki = (k) => k.export({ type: 'spki', format: 'der' });
  assert.deepEqual(spki(cert.publicKey), spki(createPublicKey(readFileSync(keyFile))), 'for the node\'s own key');
  return cert;
}

before(() => {
  execFileSync('npx', ['tsc', '-p', 'cli'], { cwd: ROOT, stdio: 'inherit' });
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  cluster.reset();
  cluster.up();
  portShift = cluster.port - 17448;
  cluster.kubectl('apply', '-f', RBAC);
  // Test-only: the look-alike user may create CSRs (the node-bootstrapper role).
  cluster.kubectl('create', 'clusterrolebinding', 'approver-test:lookalike-csr', '--clusterrole=system:node-bootstrapper', '--user=system:node:pico-a');
  const token = cluster.kubectl('create', 'token', SA, '-n', 'kube-system', '--duration', '1h').trim();
  kubeconfig = path.join(work, 'approver.kubeconfig');
  writeFileSync(kubeconfig, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'approver',
    clusters: [{ name: 'pico', cluster: { server: `https://127.0.0.1:${cluster.port}`, 'certificate-authority-data': readFileSync(cluster.serverCA).toString('base64') } }],
    users: [{ name: SA, user: { token } }],
    contexts: [{ name: 'approver', context: { cluster: 'pico', user: SA } }],
  }), { mode: 0o600 });
});

after(async () => {
  if (watcher && watcher.exitCode === null && !watcher.signalCode) {
    watcher.kill('SIGKILL');
    await new Promise((r) => watcher.once('exit', r));
  }
  cluster.down();
});

test('the shipped RBAC grants the approver exactly what it needs', () => {
  const certs = 'certificates.k8s.io';
  for (const v of ['get', 'list', 'watch']) assert.ok(saMay(v, certs, 'certificatesigningrequests'), `${v} CSRs`);
  assert.ok(saMay('update', certs, 'certificatesigningrequests', { subresource: 'approval' }));
  assert.ok(saMay('approve', certs, 'signers', { name: 'kubernetes.io/kubelet-serving' }));
  for (const v of ['get', 'list', 'watch']) assert.ok(saMay(v, '', 'nodes'), `${v} nodes`);
  // Nothing more: no other signer, no writes to CSRs or Nodes, no Secrets.
  assert.ok(!saMay('approve', certs, 'signers', { name: 'kubernetes.io/kube-apiserver-client' }));
  assert.ok(!saMay('approve', certs, 'signers', { name: 'kubernetes.io/kube-apiserver-client-kubelet' }));
  assert.ok(!saMay('approve', certs, 'signers', { name: 'kubernetes.io/*' }));
  assert.ok(!saMay('update', certs, 'certificatesigningrequests'));
  assert.ok(!saMay('update', certs, 'certificatesigningrequests', { subresource: 'status' }));
  assert.ok(!saMay('create', certs, 'certificatesigningrequests'));
  assert.ok(!saMay('delete', certs, 'certificatesigningrequests'));
  assert.ok(!saMay('patch', '', 'nodes'));
  assert.ok(!saMay('update', '', 'nodes', { subresource: 'status' }));
  assert.ok(!saMay('get', '', 'secrets'));
});

test('without the role: one sentence, exit 1, nothing decided', () => {
  cluster.kubectl('create', 'serviceaccount', 'approver-test-nobody', '-n', 'kube-system');
  const token = cluster.kubectl('create', 'token', 'approver-test-nobody', '-n', 'kube-system', '--duration', '1h').trim();
  const f = path.join(work, 'nobody.kubeconfig');
  writeFileSync(f, readFileSync(kubeconfig, 'utf8').replace(/"token":"[^"]+"/, `"token":"${token}"`), { mode: 0o600 });
  const r = spawnSync('node', [CLI, 'approver', '--once', '--kubeconfig', f], { encoding: 'utf8', cwd: work });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^k3s-pico-node: judging kubelet-serving CSRs on https:\/\/127\.0\.0\.1:\d+ failed: the kubeconfig's user may not do this \(HTTP 403/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});

test('a node cannot even create a CSR with another node\'s CN (NodeRestriction, before any approver)', () => {
  assert.throws(() => createCsr('pico-a-as-b-by-node', { node: 'pico-a', cn: 'system:node:pico-b', sans: 'DNS:pico-a' }),
    /can only create a node CSR with CN=system:node:pico-a/);
});

test('--once: approves (and the cluster issues) the node\'s own CSR, denies wrong identities, leaves the rest pending', () => {
  createNode('pico-a', [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: 'pico-a' }]);
  const goodKey = createCsr('pico-a-serving', { node: 'pico-a', sans: 'DNS:pico-a,IP:127.0.0.1' });
  createCsr('pico-a-extra-ip', { node: 'pico-a', sans: 'DNS:pico-a,IP:127.0.0.1,IP:10.9.8.7' });
  createCsr('pico-a-as-b', { node: 'pico-a', by: 'user', cn: 'system:node:pico-b', sans: 'DNS:pico-a,IP:127.0.0.1' });
  createCsr('pico-a-lookalike', { node: 'pico-a', by: 'user', sans: 'DNS:pico-a,IP:127.0.0.1' });
  createCsr('token-serving', { node: 'pico-a', by: 'token', sans: 'DNS:pico-a,IP:127.0.0.1' });
  createCsr('pico-ghost-serving', { node: 'pico-ghost', sans: 'DNS:pico-ghost,IP:127.0.0.2' });
  createCsr('other-signer', { node: 'pico-a', by: 'admin', sans: 'DNS:pico-a', signer: 'example.com/pico-test' });
  assert.equal(csr('pico-a-serving').spec.username, 'system:node:pico-a', 'requested by the node');
  assert.ok(!csr('pico-a-as-b').spec.groups.includes('system:nodes'));

  const r = approverOnce();
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'approved 1, denied 3, pending 2');
  assert.match(r.stderr, /approved pico-a-serving: requested by node pico-a .*DNS:pico-a, IP:127\.0\.0\.1 all in Node pico-a's status\.addresses/);
  assert.match(r.stderr, /denied pico-a-as-b: the subject is .*must be exactly CN=system:node:pico-a, O=system:nodes/);
  assert.match(r.stderr, /denied pico-a-lookalike: the requester system:node:pico-a is not in group system:nodes/);
  assert.match(r.stderr, /denied token-serving: requested by system:bootstrap:abcdef, not by a node/);
  assert.match(r.stderr, /left pending pico-a-extra-ip: IP:10\.9\.8\.7 not among Node pico-a's status\.addresses \(127\.0\.0\.1, pico-a\)/);
  assert.match(r.stderr, /left pending pico-ghost-serving: Node pico-ghost does not exist yet/);
  assert.ok(!r.stderr.includes('other-signer'), 'other signers are not looked at');

  const ok = condition('pico-a-serving', 'Approved');
  assert.equal(ok.status, 'True');
  assert.equal(ok.reason, 'PicoServingCSRApproved');
  assert.match(ok.message, /signature valid/);
  const no = condition('pico-a-as-b', 'Denied');
  assert.equal(no.reason, 'PicoServingCSRDenied');
  assert.match(no.message, /CN=system:node:pico-a, O=system:nodes \(the requesting node\)/);
  assert.deepEqual(conditions('pico-a-extra-ip'), []);
  assert.deepEqual(conditions('pico-ghost-serving'), []);
  assert.deepEqual(conditions('other-signer'), []);
  for (const name of ['pico-a-lookalike', 'token-serving']) assert.equal(condition(name, 'Denied')?.reason, 'PicoServingCSRDenied', name);
  assert.equal(csr('pico-a-as-b').status.certificate, undefined, 'a denied CSR is never issued');
  return until('pico-a-serving issued', () => csr('pico-a-serving').status?.certificate, 30000).then(() => {
    const cert = issuedCert('pico-a-serving', goodKey);
    assert.match(cert.subject, /CN=system:node:pico-a/);
    assert.match(cert.subjectAltName, /DNS:pico-a/);
    assert.match(cert.subjectAltName, /IP Address:127\.0\.0\.1/);
    assert.ok(cert.keyUsage === undefined || !cert.keyUsage.includes('1.3.6.1.5.5.7.3.2'), 'no client auth');
    // A second pass finds nothing left to decide for these two.
    const again = approverOnce();
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.stdout.trim(), 'approved 0, denied 0, pending 2');
  });
});

test('watching: new CSRs at once, waiting ones when their Node changes, one log line per decision', async () => {
  let log = '';
  watcher = spawn('node', [CLI, 'approver', '--kubeconfig', kubeconfig], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  watcher.stderr.on('data', (d) => { log += d; if (process.env.E2E_VERBOSE) process.stderr.write(`approver| ${d}`); });
  const exited = new Promise((r) => watcher.once('exit', (code, sig) => r({ code, sig })));
  const logged = (re, what) => until(what, () => re.test(log) || (watcher.exitCode !== null && Promise.reject(new Error(`approver exited: ${log}`))), 30000);
  await logged(/left pending pico-ghost-serving/, 'the first pass');

  // A CSR made while it watches is approved from the watch event.
  const key2 = createCsr('pico-a-serving-2', { node: 'pico-a', sans: 'DNS:PICO-A,IP:127.0.0.1' });
  await until('pico-a-serving-2 approved', () => condition('pico-a-serving-2', 'Approved'), 30000);
  await until('pico-a-serving-2 issued', () => csr('pico-a-serving-2').status?.certificate, 30000);
  issuedCert('pico-a-serving-2', key2);
  createCsr('pico-a-as-c', { node: 'pico-a', by: 'user', cn: 'system:node:pico-c', sans: 'DNS:pico-a' });
  await until('pico-a-as-c denied', () => condition('pico-a-as-c', 'Denied'), 30000);

  // Past a periodic re-check (10 s), a CSR still waiting for the same reason is not logged again.
  await sleep(11000);
  assert.deepEqual(conditions('pico-a-extra-ip'), [], 'still pending while 10.9.8.7 is not the node\'s');
  assert.equal(log.match(/left pending pico-a-extra-ip:/g)?.length, 1, log);

  // The Node gains the address (a status update, as its agent would make).
  cluster.kubectl('patch', 'node', 'pico-a', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { addresses: [
    { type: 'InternalIP', address: '127.0.0.1' }, { type: 'ExternalIP', address: '10.9.8.7' }, { type: 'Hostname', address: 'pico-a' },
  ] } }));
  const extra = await until('pico-a-extra-ip approved', () => condition('pico-a-extra-ip', 'Approved'), 30000);
  assert.equal(extra.reason, 'PicoServingCSRApproved');
  await until('pico-a-extra-ip issued', () => csr('pico-a-extra-ip').status?.certificate, 30000);
  assert.match(new X509Certificate(Buffer.from(csr('pico-a-extra-ip').status.certificate, 'base64')).subjectAltName, /IP Address:10\.9\.8\.7/);

  // The missing Node registers.
  createNode('pico-ghost', [{ type: 'InternalIP', address: '127.0.0.2' }, { type: 'Hostname', address: 'pico-ghost' }]);
  await until('pico-ghost-serving approved', () => condition('pico-ghost-serving', 'Approved'), 30000);

  // (kubectl above runs synchronously: let the approver's output catch up.)
  for (const [verdict, name] of [['approved', 'pico-a-serving-2'], ['denied', 'pico-a-as-c'], ['approved', 'pico-a-extra-ip'], ['approved', 'pico-ghost-serving']]) {
    await logged(new RegExp(`${verdict} ${name}:`), `the line for ${name}`);
  }
  await sleep(1000);
  for (const name of ['pico-a-serving-2', 'pico-a-as-c', 'pico-a-extra-ip', 'pico-ghost-serving']) {
    assert.equal(log.match(new RegExp(`(approved|denied) ${name}:`, 'g'))?.length, 1, `one decision line for ${name}:\n${log}`);
  }
  assert.match(log, /denied pico-a-as-c: .*CN=system:node:pico-a/);
  assert.ok(!log.includes('other-signer'));
  assert.deepEqual(conditions('other-signer'), []);

  // The API server restarts under it: the watches come back by themselves.
  cluster.down();
  await logged(/watching (CSRs|Nodes) failed: cannot reach the API server .*retrying in 5 s/, 'the lost watch');
  cluster.up();
  assert.equal(cluster.port, 17448 + portShift, 'the cluster came back on the kubeconfig\'s port');
  createCsr('pico-a-after-restart', { node: 'pico-a', sans: 'DNS:pico-a' });
  await until('pico-a-after-restart approved', () => condition('pico-a-after-restart', 'Approved'), 60000);

  watcher.kill('SIGTERM');
  const r = await exited;
  assert.equal(r.code, 0, log);
  assert.match(log, /k3s-pico-node: stopped/);
});
