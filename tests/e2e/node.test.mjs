// Issue 3 end to end: the AssemblyScript agent in the simulator joins the real
// control plane over mutual TLS, stays Ready through Lease heartbeats, goes
// Unknown when it dies, comes back without duplicates, rides out an API server
// restart, and refuses a server it cannot verify.
//
// The cluster for this file runs with node-monitor-grace-period shortened to
// 20 s (upstream default 50 s, K8S-NOTES.md) so the Unknown check takes ~25 s.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { rmSync } from 'node:fs';
import { Cluster, SimNode, ROOT, API_HOST, until, readyCondition } from './harness.mjs';

const GRACE_S = 20;
const cluster = new Cluster({ name: 'node', port: 17443, env: { PICO_CLUSTER_NODE_GRACE: `${GRACE_S}s` } });
const work = path.join(ROOT, 'build/e2e/node');
const nodes = [];

// Nodes join with a bootstrap token and an on-device key (issue 6), as the
// demo's do; tests/e2e/identity.test.mjs covers the join itself.
let token;
function sim(name, opts = {}) {
  const n = new SimNode({ name, cluster, dir: path.join(work, 'nodes'), token, ...opts });
  nodes.push(n);
  return n;
}


before(() => {
  cluster.reset();
  // Keys and certificates of an earlier run belong to a cluster that is gone.
  rmSync(path.join(work, 'nodes'), { recursive: true, force: true });
  cluster.up();
  token = cluster.bootstrapToken();
});

after(async () => {
  for (const n of nodes) await n.stop();
  cluster.down();
});

test('registers a Ready node with honest fields over mutual TLS', async () => {
  const a = sim('pico-e2e-a').start();
  const node = await cluster.waitReady('pico-e2e-a');
  const info = node.status.nodeInfo;
  assert.match(info.kubeletVersion, /^v1\.\d+\.\d+/);
  assert.equal(info.architecture, 'arm');
  assert.equal(info.operatingSystem, 'none');
  assert.match(info.containerRuntimeVersion, /^(wasm2c|wamr):\/\//);
  assert.ok(info.osImage.length > 0);
  assert.ok(info.bootID.length > 0);
  assert.equal(node.metadata.labels['kubernetes.io/hostname'], 'pico-e2e-a');
  assert.equal(node.metadata.labels['kubernetes.io/arch'], 'arm');
  assert.equal(node.metadata.annotations['k3s.io/internal-ip'], a.address());
  const addr = Object.fromEntries(node.status.addresses.map((x) => [x.type, x.address]));
  assert.deepEqual(addr, { InternalIP: a.address(), Hostname: 'pico-e2e-a' });
  assert.equal(node.status.capacity.memory, '264Ki');
  assert.equal(node.status.capacity.cpu, '2');
  assert.ok(node.status.allocatable.memory);
  assert.equal(node.status.daemonEndpoints.kubeletEndpoint.Port, 10250);
  const effects = node.spec.taints.filter((t) => t.key === 'pico.k3s.io/microcontroller').map((t) => t.effect).sort();
  assert.deepEqual(effects, ['NoExecute', 'NoSchedule']);
  for (const c of node.status.conditions) {
    assert.ok(!Number.isNaN(Date.parse(c.lastHeartbeatTime)), `${c.type} heartbeat time`);
    assert.ok(Date.parse(c.lastTransitionTime) <= Date.parse(c.lastHeartbeatTime), `${c.type} transition <= heartbeat`);
    assert.ok(Math.abs(Date.parse(c.lastHeartbeatTime) - Date.now()) < 60000, `${c.type} heartbeat is recent`);
  }
  // kubectl's table: STATUS Ready, VERSION, OS-IMAGE, CONTAINER-RUNTIME columns.
  const wide = cluster.kubectl('get', 'node', 'pico-e2e-a', '-o', 'wide');
  assert.match(wide, /pico-e2e-a\s+Ready\s/);
  await a.waitForLog(/node: registered pico-e2e-a \(uid [0-9a-f-]{36}\)/);
  // It is itself: a certificate for its own key, from a CSR the token let it file.
  await a.waitForLog(/identity: installed the certificate issued for CSR node-csr-/);
});

test('Lease kube-node-lease/<name> is owned by the Node and renewed', async () => {
  const node = cluster.kubectlJSON('get', 'node', 'pico-e2e-a');
  const l1 = await until('lease created', () => cluster.tryKubectlJSON('-n', 'kube-node-lease', 'get', 'lease', 'pico-e2e-a'), 10000);
  assert.equal(l1.spec.holderIdentity, 'pico-e2e-a');
  assert.equal(l1.spec.leaseDurationSeconds, 40);
  assert.deepEqual(l1.metadata.ownerReferences.map((o) => [o.kind, o.name, o.uid]), [['Node', 'pico-e2e-a', node.metadata.uid]]);
  const t1 = Date.parse(l1.spec.renewTime);
  const l2 = await until('lease renewal', () => {
    const l = cluster.kubectlJSON('-n', 'kube-node-lease', 'get', 'lease', 'pico-e2e-a');
    return Date.parse(l.spec.renewTime) > t1 ? l : null;
  }, 25000);
  const gap = Date.parse(l2.spec.renewTime) - t1;
  assert.ok(gap >= 5000 && gap <= 15000, `renewal gap ${gap} ms is about 10 s`);
});

test('killed node goes Ready=Unknown; restarted node is Ready with no duplicates', async () => {
  const a = nodes.find((n) => n.name === 'pico-e2e-a');
  const uid = cluster.kubectlJSON('get', 'node', 'pico-e2e-a').metadata.uid;
  await a.stop('SIGKILL');
  await until('Ready=Unknown', () => readyCondition(cluster.kubectlJSON('get', 'node', 'pico-e2e-a'))?.status === 'Unknown',
    (GRACE_S + 30) * 1000, 1000);
  a.logText = '';
  a.start();
  const node = await cluster.waitReady('pico-e2e-a', 30000);
  assert.equal(node.metadata.uid, uid, 'same Node object, not a new one');
  const names = cluster.kubectlJSON('get', 'nodes').items.map((n) => n.metadata.name).filter((n) => n === 'pico-e2e-a');
  assert.equal(names.length, 1);
  const leases = cluster.kubectlJSON('-n', 'kube-node-lease', 'get', 'leases').items.filter((l) => l.metadata.name === 'pico-e2e-a');
  assert.equal(leases.length, 1);
});

test('API server restart mid-run: the node recovers by itself', async () => {
  const before = cluster.kubectlJSON('-n', 'kube-node-lease', 'get', 'lease', 'pico-e2e-a');
  cluster.down();
  const a = nodes.find((n) => n.name === 'pico-e2e-a');
  const mark = a.logText.length;
  // Down for longer than a renewal period (10 s), so renewals fail while the
  // server is away and the node must notice, back off and come back.
  await new Promise((r) => setTimeout(r, 14000));
  cluster.up();
  await until('lease renewed after restart', () => {
    const l = cluster.tryKubectlJSON('-n', 'kube-node-lease', 'get', 'lease', 'pico-e2e-a');
    return l && Date.parse(l.spec.renewTime) > Date.parse(before.spec.renewTime) + 3000;
  }, 60000, 1000);
  await cluster.waitReady('pico-e2e-a', 30000);
  assert.ok(a.proc.exitCode === null, 'simulator kept running');
  assert.match(a.logText.slice(mark), new RegExp(`cannot connect to ${API_HOST.replaceAll('.', '\\.')}:${cluster.port}`), 'the outage was logged');
});

test('a deleted Node is registered again, with a new Lease owned by it', async () => {
  const old = cluster.kubectlJSON('get', 'node', 'pico-e2e-a').metadata.uid;
  cluster.kubectl('delete', 'node', 'pico-e2e-a', '--wait=true');
  // The garbage collector removes the Lease the Node owned; the next renewal
  // gets 404 and the node registers itself again (as kubelet does).
  const node = await until('node re-registered', () => {
    const n = cluster.tryKubectlJSON('get', 'node', 'pico-e2e-a');
    return n && n.metadata.uid !== old && readyCondition(n)?.status === 'True' ? n : null;
  }, 60000, 1000);
  const lease = await until('lease owned by the new Node', () => {
    const l = cluster.tryKubectlJSON('-n', 'kube-node-lease', 'get', 'lease', 'pico-e2e-a');
    return l?.metadata.ownerReferences?.[0]?.uid === node.metadata.uid ? l : null;
  }, 30000, 1000);
  assert.equal(lease.spec.holderIdentity, 'pico-e2e-a');
});

test('a wrong CA makes the simulator refuse the server with a clear message', async () => {
  const other = path.join(work, 'wrong-ca.crt');
  // Any valid CA that did not sign the server: the cluster's client CA.
  const { execFileSync } = await import('node:child_process');
  execFileSync('cp', [path.join(cluster.dir, 'data/tls/client-ca.crt'), other]);
  const b = sim('pico-e2e-wrongca', { ca: other }).start();
  await b.waitForLog(/certificate/i, 20000);
  await b.waitForLog(/server certificate rejected|not trusted/i, 20000);
  assert.equal(cluster.tryKubectlJSON('get', 'node', 'pico-e2e-wrongca'), null, 'no Node was created');
  assert.equal(b.proc.exitCode, null, 'the agent keeps running and retrying');
  await b.stop();
});
