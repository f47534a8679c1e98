// Issue 6 end to end: a simulated node joins from nothing with only a
// bootstrap token (key made on the node, CSR, auto-approval by the real
// csrapproving controller, certificate installed), renews its certificate
// before it runs out while its Lease keeps being renewed, reports a denied
// CSR, refuses a CA that does not match server.ca_hash, and its config UF2
// holds the same configuration the simulator ran with. The human side goes
// through the CLI (build/cli): rbac apply, token create, config write.
//
// The cluster signs with a short duration (SIGNING) so renewal (at 70-90% of
// the lifetime) happens within the test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Cluster, SimNode, ROOT, HOSTED, until, readyCondition } from './harness.mjs';
import { uf2Decode, readLayout } from '../../tools/uf2/uf2.mjs';

const SIGNING = '150s';
const cluster = new Cluster({ name: 'identity', port: 17447, env: { PICO_CLUSTER_SIGNING_DURATION: SIGNING } });
const work = path.join(ROOT, 'build/e2e/identity');
const CLI = path.join(ROOT, 'build/cli/main.js');
const nodes = [];

function cli(...args) {
  const r = spawnSync('node', [CLI, ...args], { encoding: 'utf8', cwd: work });
  if (r.status !== 0) throw new Error(`k3s-pico-node ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}
function newToken(ttl = '30m') {
  return cli('token', 'create', '--ttl', ttl, '--kubeconfig', cluster.kubeconfig);
}
/** A joining node whose config the CLI writes over the harness's (the CLI is under test). */
function joiningNode(name, token, edit = (t) => t, env = {}) {
  const n = new SimNode({ name, cluster, dir: work, token, env });
  cli('config', 'write', '--node', name, '--server', `https://127.0.0.1:${cluster.port}`, '--ca', cluster.serverCA,
    '--token', token, '--sim', n.config);
  writeFileSync(n.config, edit(readFileSync(n.config, 'utf8')));
  nodes.push(n);
  return n;
}
function leaseRenewTime(name) {
  return cluster.tryKubectlJSON('get', 'lease', '-n', 'kube-node-lease', name)?.spec?.renewTime;
}

before(() => {
  execFileSync('npx', ['tsc', '-p', 'cli'], { cwd: ROOT, stdio: 'inherit' });
  mkdirSync(work, { recursive: true });
  cluster.reset();
  // Node state of an earlier run (keys, certificates from a cluster that no
  // longer exists) must not leak into this one; the cluster dir is reset above.
  for (const e of readdirSync(work)) if (e !== 'cluster') rmSync(path.join(work, e), { recursive: true, force: true });
  cluster.up();
  cli('rbac', 'apply', '--kubeconfig', cluster.kubeconfig);
});

after(async () => {
  for (const n of nodes) await n.stop();
  cluster.down();
});

test('joins from nothing with only a token, then renews while heartbeats go on', async () => {
  const token = newToken();
  assert.match(token, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  const n = joiningNode('pico-join', token).start();
  await n.waitForLog(/identity: installed the certificate issued for CSR (node-csr-\S+);/, 30000);
  const node = await cluster.waitReady('pico-join');
  assert.equal(node.metadata.name, 'pico-join');

  // The key was made on the node and stays in its state, 0600 (the
  // simulator's files; the hosted board keeps it in its flash store), never logged.
  const keyFile = path.join(work, 'pico-join.state/client-key.pem');
  if (!HOSTED) {
    assert.ok(existsSync(keyFile));
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  }
  assert.ok(!n.logText.includes('PRIVATE KEY'));
  assert.ok(!n.logText.includes(token.split('.')[1]), 'the token secret is never logged');

  // The CSR as the cluster saw it: signer, usages, requested by the token, approved.
  const csrs = cluster.kubectlJSON('get', 'csr').items.filter((c) => c.spec.username?.startsWith('system:bootstrap:'));
  assert.equal(csrs.length, 1);
  const csr = csrs[0];
  assert.equal(csr.spec.signerName, 'kubernetes.io/kube-apiserver-client-kubelet');
  assert.deepEqual([...csr.spec.usages].sort(), ['client auth', 'digital signature']);
  assert.ok(csr.status.conditions.some((c) => c.type === 'Approved'));
  const cert = new (await import('node:crypto')).X509Certificate(Buffer.from(csr.status.certificate, 'base64'));
  assert.match(cert.subject, /CN=system:node:pico-join/);
  const issued = Buffer.from(csr.status.certificate, 'base64').toString().trim();
  if (HOSTED) {
    // The board keeps it in its flash store (port/pico/store.c records).
    const flash = readFileSync(`${n.config}.flash`);
    assert.ok(flash.includes(Buffer.from(issued)) || flash.includes(Buffer.from(cert.raw)), 'the certificate is in flash');
  } else {
    assert.equal(readFileSync(path.join(work, 'pico-join.state/client.pem'), 'utf8').trim(), issued);
  }

  // Renewal: a second certificate, requested as system:node:pico-join, while
  // the Lease keeps moving and the node stays Ready.
  const lifetimeMs = Date.parse(cert.validTo) - Date.parse(cert.validFrom);
  const before1 = leaseRenewTime('pico-join');
  const installs = () => (n.logText.match(/identity: installed the certificate/g) ?? []).length;
  await until('a renewed certificate', () => installs() >= 2, lifetimeMs + 30000, 1000);
  const renewed = cluster.kubectlJSON('get', 'csr').items.filter((c) => c.spec.username === 'system:node:pico-join');
  assert.ok(renewed.length >= 1, 'the renewal CSR comes from the node itself');
  assert.ok(n.logText.includes('identity: renewing the certificate'));
  await until('Lease renewed after the switch', () => {
    const t = leaseRenewTime('pico-join');
    return t && t !== before1 && Date.parse(t) > Date.now() - 15000;
  }, 30000);
  assert.equal(readyCondition(cluster.kubectlJSON('get', 'node', 'pico-join')).status, 'True');
  assert.ok(!/lease: renewal failed/.test(n.logText), 'no failed heartbeat around the switch');
});

test('a denied CSR: a clear message, no Node, no retry', async () => {
  // Without the auto-approve binding the CSR waits for a human, who denies it.
  cluster.kubectl('delete', 'clusterrolebinding', 'k3s-pico-node:node-autoapprove-bootstrap');
  try {
    // It follows a ConfigMap: watches wait for the identity and must not
    // make it spin.
    const n = joiningNode('pico-denied', newToken(), (t) => `${t}configmap.names = pico-config\n`).start();
    const m = await n.waitForLog(/identity: submitted CSR (node-csr-\S+) for/, 30000);
    cluster.kubectl('certificate', 'deny', m[1]);
    await n.waitForLog(new RegExp(`identity: CSR ${m[1]} was denied.*not asking again until restart`), 30000);
    const posts = (n.logText.match(/identity: submitted CSR/g) ?? []).length;
    const cpu0 = n.cpuSeconds();
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal((n.logText.match(/identity: submitted CSR/g) ?? []).length, posts, 'no new CSR after a denial');
    // Stopped means idle: the loop once came back at once, forever (100% CPU).
    const cpu = n.cpuSeconds() - cpu0;
    assert.ok(cpu < 0.5, `a stopped node idles: ${cpu.toFixed(2)} s of CPU in 3 s`);
    assert.equal(cluster.tryKubectlJSON('get', 'node', 'pico-denied'), null);
    assert.ok(!existsSync(path.join(work, 'pico-denied.state/client.pem')));
  } finally {
    // Back as `rbac apply` made it, for the tests after this one.
    cli('rbac', 'apply', '--kubeconfig', cluster.kubeconfig);
  }
});

test('a wrong or expired token: says so, no insecure fallback', async () => {
  const n = joiningNode('pico-badtoken', 'abcdef.0123456789abcdef').start();
  await n.waitForLog(/identity: the API server rejected the bootstrap token \(wrong or expired\)/, 30000);
  assert.equal(cluster.tryKubectlJSON('get', 'node', 'pico-badtoken'), null);
});

test('a CA that does not match server.ca_hash: refused before connecting (exit 2; the board: fatal error)', async () => {
  const n = joiningNode('pico-wrongca', newToken(), (t) => t.replace(/server\.ca_hash = sha256:[0-9a-f]+/, `server.ca_hash = sha256:${'0'.repeat(64)}`));
  n.start();
  if (HOSTED) {
    // The board has no exit: it shows the error and restarts (main.c pico_fatal).
    await n.waitForLog(/does not match server\.ca_hash: refusing to connect/, 20000);
    await n.waitForLog(/boot: fatal error/, 5000);
    assert.ok(!/identity: generated/.test(n.logText), 'no key made');
  } else {
    const r = await n.exited;
    assert.equal(r.code, 2);
    assert.match(n.logText, /does not match server\.ca_hash: refusing to connect/);
  }
  assert.ok(!existsSync(path.join(work, 'pico-wrongca.state')), 'no key made, nothing sent');
});

test('a wrong clock: the node says so, sends no token or CSR, and keeps running', async () => {
  // Ten years ahead the cluster's certificates have expired; a year back
  // they are not valid yet. Either way no token or CSR leaves the device.
  for (const [name, offset, why] of [['pico-clock-ahead', 10 * 365 * 86400, /expired/i], ['pico-clock-behind', -365 * 86400, /future/i]]) {
    const n = joiningNode(name, newToken(), undefined, { PICO_SIM_CLOCK_OFFSET_S: String(offset) }).start();
    await n.waitForLog(/certificate dates do not hold at this device's clock \(\d{4}-\d\d-\d\dT[\d:]+Z\): is the clock right\?/, 20000);
    assert.match(n.logText, why);
    assert.equal(n.proc.exitCode, null, 'the agent keeps running (SNTP may fix the clock)');
    assert.equal(cluster.tryKubectlJSON('get', 'node', name), null, 'no Node');
    const csrs = cluster.kubectlJSON('get', 'csr').items.filter((c) => c.spec.username?.includes(name) || c.metadata.name.includes(name));
    assert.deepEqual(csrs, [], 'no CSR was sent');
    await n.stop();
  }
});

test('the config UF2 holds the configuration the simulator joined with', () => {
  const token = newToken();
  const args = ['config', 'write', '--node', 'pico-join', '--server', `https://127.0.0.1:${cluster.port}`, '--ca', cluster.serverCA, '--token', token];
  cli(...args, '--sim', path.join(work, 'same.conf'));
  cli(...args, '--node-ip', '127.0.0.1', '--uf2', path.join(work, 'same.uf2'));
  const L = readLayout();
  const blocks = uf2Decode(readFileSync(path.join(work, 'same.uf2')));
  assert.ok(blocks.every((b) => b.familyId === 0xe48bff56 && b.payloadSize === 256));
  assert.equal(blocks[0].addr, L.XIP_BASE + L.CONFIG_OFFSET);
  const image = Buffer.concat(blocks.map((b) => b.data ?? Buffer.alloc(0)));
  const textLen = image.readUInt32LE(8);
  const uf2Text = image.subarray(L.CONFIG_HEADER_BYTES, L.CONFIG_HEADER_BYTES + textLen).toString();
  const kv = (t) => t.split('\n').filter((l) => /^[a-z]/.test(l) && !l.startsWith('tls.ca_file')).sort();
  assert.deepEqual(kv(uf2Text), kv(readFileSync(path.join(work, 'same.conf'), 'utf8')));
});
