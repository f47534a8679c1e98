// Issue 4 end to end: ConfigMaps written into the simulator's device memory
// (the node's <name>.devmem file, the host's saved image) the moment they
// change: create, update, reject, two ConfigMaps with precedence, delete,
// reboot, API server restart mid-watch, a forced 410, least-privilege RBAC.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { HOSTED, Cluster, SimNode, ROOT, until } from './harness.mjs';

// Port 17446 is this file's; PICO_E2E_CONFIGMAP_PORT picks another, and the harness moves on when it is taken.
const PORT = Number(process.env.PICO_E2E_CONFIGMAP_PORT || 17446);
const cluster = new Cluster({ name: 'configmap', port: PORT });
const work = path.join(ROOT, 'build/e2e/configmap');
const NODE = 'pico-cm-a';
const OTHER = 'pico-cm-b';
const nodes = [];
let a;

let token;
// Nodes join as real ones do (issue 6): a bootstrap token, an on-device key, a CSR.
function sim(name, extra = {}) {
  if (process.env.E2E_CONFIGMAP_DEBUG) extra = { 'log.level': '3', ...extra };
  const n = new SimNode({ name, cluster, dir: path.join(work, 'nodes'), token, extra });
  nodes.push(n);
  return n;
}

async function bytesAre(n, want, timeoutMs = 10000) {
  return until(`device memory ${JSON.stringify(want)}`, () => {
    const m = n.devmem();
    if (!m) return false;
    return Object.entries(want).every(([k, v]) => m[Number(k)] === v) ? m : false;
  }, timeoutMs, 50);
}

function setValues(name, values, extra = []) {
  const yaml = cluster.kubectl('create', 'configmap', name, `--from-literal=memory_values=${values}`, ...extra,
    '--dry-run=client', '-o', 'yaml');
  const f = path.join(work, `${name}.yaml`);
  writeFileSync(f, yaml);
  cluster.kubectl('apply', '-f', f);
}

function events(name) {
  return cluster.kubectlJSON('get', 'events', '-n', 'default', '--field-selector', `involvedObject.name=${name}`).items;
}

/** kubectl acting as the node: the admin impersonates the node's user and
 *  group, so the API server runs the same Node authorizer and RBAC checks it
 *  runs for the node's own certificate (whose key never leaves the device). */
function kubectlAsNode(n, ...args) {
  try {
    return { ok: true, out: cluster.kubectl(`--as=system:node:${n.name}`, '--as-group=system:nodes', '--as-group=system:authenticated', ...args) };
  } catch (e) {
    return { ok: false, out: String(e.stderr ?? e.message) };
  }
}

before(() => {
  rmSync(work, { recursive: true, force: true }); // saved device memory of an earlier run
  mkdirSync(work, { recursive: true });
  cluster.reset();
  cluster.up();
  token = cluster.bootstrapToken();
  cluster.kubectl('apply', '-f', path.join(ROOT, 'manifests/pico-configmap-rbac.yaml'));
  const tmpl = readFileSync(path.join(ROOT, 'manifests/pico-configmap-rbac-node.yaml'), 'utf8');
  for (const n of [NODE, OTHER]) {
    const f = path.join(work, `rbac-${n}.yaml`);
    writeFileSync(f, tmpl.replaceAll('NODE_NAME', n));
    cluster.kubectl('apply', '-f', f);
  }
});

after(async () => {
  for (const n of nodes) {
    await n.stop();
    writeFileSync(path.join(work, `${n.name}.log`), n.logText); // for a failure's post-mortem
  }
  cluster.down();
});

test('the user\'s command: create pico-config, see the log and the bytes', async () => {
  a = sim(NODE, {
    'configmap.names': 'pico-config, pico-config-{node}',
    'devmem.bind.0': 'led',
    'devmem.bind.3': 'gpio15',
  }).start();
  await a.waitForLog(/configmap: default\/pico-config does not exist yet/);
  cluster.kubectl('create', 'configmap', 'pico-config', '--from-literal=memory_values=0=0x42,1=0x43,2=0xFF');
  await a.waitForLog(/ConfigMap update detected: 0=0x42,1=0x43,2=0xFF/);
  await a.waitForLog(/Memory\[0\] = 0x42/);
  await a.waitForLog(/Memory\[1\] = 0x43/);
  await a.waitForLog(/Memory\[2\] = 0xFF/);
  await bytesAre(a, { 0: 0x42, 1: 0x43, 2: 0xff });
  if (!HOSTED) await a.waitForLog(/sim: the on-board LED would turn on/); // the simulator's outputs
  const cm = cluster.kubectlJSON('get', 'configmap', 'pico-config');
  const ev = await until('ConfigApplied event', () => events('pico-config').find((e) => e.reason === 'ConfigApplied'), 15000);
  assert.equal(ev.involvedObject.kind, 'ConfigMap');
  assert.equal(ev.involvedObject.uid, cm.metadata.uid);
  assert.equal(ev.type, 'Normal');
  assert.equal(ev.source.component, 'k3s-pico-node');
  await until('applied annotation', () => {
    const n = cluster.kubectlJSON('get', 'node', NODE);
    return n.metadata.annotations?.['pico.k3s.io/configmap-applied'] === `default/pico-config@${cm.metadata.resourceVersion}`;
  }, 15000);
});

test('update: decimal, hex and whitespace; removed addresses keep their last value', async () => {
  setValues('pico-config', ' 0 = 66 , 4=0x0a, 3 = 0X01 ');
  await bytesAre(a, { 0: 66, 1: 0x43, 2: 0xff, 3: 1, 4: 10 });
  if (!HOSTED) await a.waitForLog(/sim: GPIO 15 would go high/);
  setValues('pico-config', '3=0');
  await bytesAre(a, { 0: 66, 1: 0x43, 2: 0xff, 3: 0, 4: 10 });
  if (!HOSTED) await a.waitForLog(/sim: GPIO 15 would go low/);
});

test('rejected updates leave the previous bytes, with a Warning event and a log line', async () => {
  const before = Buffer.from(a.devmem());
  const bad = ['0=0xZZ', '0=-1', '0=0x100', '300=1', '0=1,0=2', '0', '=1'];
  for (const v of bad) {
    const mark = a.logText.length;
    setValues('pico-config', v);
    await until(`rejection of ${v}`, () => /rejected, device memory unchanged/.test(a.logText.slice(mark)), 10000, 50);
  }
  assert.deepEqual(a.devmem(), before, 'memory untouched');
  const rejected = events('pico-config').filter((e) => e.reason === 'ConfigRejected');
  assert.ok(rejected.length >= 1, 'ConfigRejected events');
  assert.ok(rejected.every((e) => e.type === 'Warning'));
  assert.ok(rejected.some((e) => /value above 0xFF/.test(e.message)), rejected.map((e) => e.message).join('\n'));
  // The node keeps watching: a good update still arrives.
  setValues('pico-config', '0=0x42,1=0x43,2=0xFF');
  await bytesAre(a, { 0: 0x42, 1: 0x43, 2: 0xff });
  assert.equal(a.proc.exitCode, null);
});

test('a 1 MB ConfigMap, binaryData and unknown keys', async () => {
  const before = Buffer.from(a.devmem());
  const big = path.join(work, 'big.txt');
  writeFileSync(big, '0=0x01,'.repeat(140000));
  const mark = a.logText.length;
  const yaml = cluster.kubectl('create', 'configmap', 'pico-config', `--from-file=memory_values=${big}`, '--dry-run=client', '-o', 'yaml');
  writeFileSync(path.join(work, 'big.yaml'), yaml);
  cluster.kubectl('replace', '-f', path.join(work, 'big.yaml'));
  await until('too large rejection', () => /memory_values is longer than/.test(a.logText.slice(mark)), 15000, 50);
  assert.deepEqual(a.devmem(), before);
  // Unknown keys and binaryData are ignored (and said so); memory_values applies.
  const f = path.join(work, 'extra.yaml');
  writeFileSync(f, [
    'apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: pico-config, namespace: default}',
    'data: {memory_values: "5=0x55", colour: blue}', 'binaryData: {blob: AAEC}', '',
  ].join('\n'));
  cluster.kubectl('replace', '-f', f);
  await bytesAre(a, { 5: 0x55 });
  await until('ignored keys in the event', () => events('pico-config').some((e) => /binaryData ignored; 1 unknown key/.test(e.message)), 15000);
});

test('two ConfigMaps: the per-node one wins; deleting it shows the fleet value again', async () => {
  setValues('pico-config', '0=0x42,1=0x43,2=0xFF');
  await bytesAre(a, { 0: 0x42, 1: 0x43 });
  setValues(`pico-config-${NODE}`, '1=0x99,7=0x77');
  await bytesAre(a, { 0: 0x42, 1: 0x99, 7: 0x77 });
  // Both watches and the node's own requests are streams of one HTTP/2 connection.
  await a.waitForLog(/api: HTTP\/2: requests and watches share one connection/);
  assert.equal(a.tcpConnectionsTo(cluster.port), 1, 'TCP connections from the node to the API server');
  // A fleet update does not override the node's value for address 1.
  setValues('pico-config', '0=0x10,1=0x11');
  await bytesAre(a, { 0: 0x10, 1: 0x99 });
  cluster.kubectl('delete', 'configmap', `pico-config-${NODE}`);
  await bytesAre(a, { 0: 0x10, 1: 0x11, 7: 0x77 });
  await a.waitForLog(new RegExp(`pico-config-${NODE} was deleted; its addresses keep their last values`));
  // Deleting the fleet ConfigMap too: every byte keeps its last value.
  cluster.kubectl('delete', 'configmap', 'pico-config');
  await a.waitForLog(/default\/pico-config was deleted/);
  assert.deepEqual([...a.devmem().subarray(0, 8)], [0x10, 0x11, 0xff, 0, 10, 0x55, 0, 0x77]);
});

test('the last applied memory survives a reboot and is applied before the network is up', async () => {
  setValues('pico-config', '0=0x21,3=1');
  await bytesAre(a, { 0: 0x21, 3: 1 });
  await a.stop();
  a.logText = '';
  a.start();
  await a.waitForLog(/node: starting/);
  const log = a.logText;
  const restored = log.indexOf('devmem: restored');
  const starting = log.indexOf('node: starting');
  if (HOSTED) {
    assert.ok(restored >= 0 && starting > restored, log.slice(0, 2000));
  } else {
    const led = log.indexOf('sim: the on-board LED would turn on');
    assert.ok(restored >= 0 && led > restored && starting > led, log.slice(0, 2000));
  }
  // The relist after boot finds the same resourceVersion: no new Event, no rewrite.
  await a.waitForLog(/configmap: following default\/pico-config/);
});

test('API server restart mid-watch: the watch resumes and updates arrive', async () => {
  await until('watching', () => /does not exist yet; watching/.test(a.logText), 10000);
  const mark = a.logText.length;
  cluster.down();
  await new Promise((r) => setTimeout(r, 3000));
  cluster.up();
  setValues('pico-config', '0=0x31,6=0x66');
  await bytesAre(a, { 0: 0x31, 6: 0x66 }, 30000);
  assert.match(a.logText.slice(mark), /watch connection lost/);
  assert.equal(a.proc.exitCode, null);
});

test('a forced 410 Gone: the node lists again and the next update still arrives', async () => {
  // The node's resourceVersion is made too old for the API server: the node
  // is frozen (SIGSTOP) while the store's revision moves on and the API
  // server is killed (SIGKILL: a graceful stop would end the watch with a
  // last BOOKMARK carrying the new revision) and started again; the new
  // server's watch cache starts after the node's resourceVersion, so resuming
  // from it answers 410 Gone ("too old resource version"), exactly what a
  // resume after a compaction gets.
  const mark = a.logText.length;
  a.proc.kill('SIGSTOP');
  try {
    // Every resourceVersion the frozen node can hold is <= this one.
    const frozen = JSON.parse(cluster.kubectl('get', '--raw', '/api/v1/namespaces/default/configmaps?limit=1')).metadata.resourceVersion;
    cluster.kubectl('create', 'configmap', 'unrelated-bump', '--from-literal=x=1');
    cluster.kubectl('delete', 'configmap', 'unrelated-bump');
    const pid = Number(readFileSync(path.join(cluster.dir, 'cluster.pid'), 'utf8').trim());
    process.kill(pid, 'SIGKILL');
    await until('the API server is gone', () => { try { process.kill(pid, 0); return false; } catch { return true; } }, 10000, 100);
    cluster.up();
    // Wake the node only once the server answers 410 for that version (its
    // watch cache is up; before that it may serve old versions from the store).
    await until('410 for the frozen resourceVersion', () => /"code":410/.test(cluster.kubectl('get', '--raw',
      `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${frozen}&timeoutSeconds=1&fieldSelector=metadata.name%3Dpico-config`)),
    60000, 500);
  } finally {
    a.proc.kill('SIGCONT');
  }
  await until('410 relist', () => /is gone \(410\); listing again/.test(a.logText.slice(mark)), 30000, 200);
  setValues('pico-config', '0=0x32,6=0x67');
  await bytesAre(a, { 0: 0x32, 6: 0x67 }, 30000);
  assert.equal(a.proc.exitCode, null);
});

test('RBAC: a node reads only its ConfigMaps; it cannot write ConfigMaps or read Secrets', async () => {
  setValues(`pico-config-${OTHER}`, '0=1');
  const own = kubectlAsNode(a, 'get', 'configmap', 'pico-config', '-o', 'name');
  assert.ok(own.ok, own.out);
  const other = kubectlAsNode(a, 'get', 'configmap', `pico-config-${OTHER}`);
  assert.ok(!other.ok && /forbidden/i.test(other.out), other.out);
  const list = kubectlAsNode(a, 'get', 'configmaps');
  assert.ok(!list.ok && /forbidden/i.test(list.out), list.out);
  const create = kubectlAsNode(a, 'create', 'configmap', 'x', '--from-literal=a=b');
  assert.ok(!create.ok && /forbidden/i.test(create.out), create.out);
  const patch = kubectlAsNode(a, 'patch', 'configmap', 'pico-config', '-p', '{"data":{"memory_values":"0=1"}}');
  assert.ok(!patch.ok && /forbidden/i.test(patch.out), patch.out);
  const secrets = kubectlAsNode(a, 'get', 'secrets');
  assert.ok(!secrets.ok && /forbidden/i.test(secrets.out), secrets.out);
  // A simulator told to follow another node's ConfigMap is refused and says why.
  const b = sim('pico-cm-c', { 'configmap.names': `pico-config-${OTHER}` }).start();
  await b.waitForLog(/pico-config-pico-cm-b: forbidden/, 20000);
  assert.equal(b.devmem()?.[0] ?? 0, 0, 'nothing written');
  await b.stop();
});
