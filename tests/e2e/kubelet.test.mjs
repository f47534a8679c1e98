// Issue 5 end to end: the simulated node's kubelet HTTPS endpoint.
//  - the node gets its serving certificate the real way: a kubelet-serving CSR
//    approved by the project's approver (k3s-pico-node approver, k0s' rule)
//    and signed by the controller-manager with the server CA;
//  - the real API server reaches it through its node proxy with
//    --kubelet-certificate-authority set (it verifies that certificate) and
//    its kubelet client certificate (the node authorizes it with a
//    SubjectAccessReview);
//  - /metrics and /metrics/resource are read with Prometheus' own Python
//    parser (prometheus_client, tests/e2e/promparse.py);
//  - `kubectl top node` through a real metrics-server (cluster.sh metrics-server);
//  - bad input: garbage, a slow client, 100 connections at once, bearer tokens
//    that fail review or lack RBAC, a certificate from another CA, another
//    node's identity: the right status, and the Lease keeps being renewed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HOSTED, Cluster, SimNode, ROOT, until, hostAddress } from './harness.mjs';

const PORT = Number(process.env.PICO_E2E_KUBELET_PORT || 17449);
const cluster = new Cluster({ name: 'kubelet', port: PORT });
const work = path.join(ROOT, 'build/e2e/kubelet');
const NODE = 'pico-kubelet-a';
let node;
let kubeletPort;
let approver;
let admin; // { cert, key } of system:admin, from the admin kubeconfig
// The API server's node proxy refuses loopback and link-local addresses, as
// for a real node: the simulated node takes this machine's other address.
// (The hosted board has its own address, its lease: set once it runs.)
const HOST_IP = hostAddress();
if (!HOST_IP) throw new Error('kubelet e2e: this machine has no non-loopback IPv4 address for the node (the API server proxies to no other)');
let NODE_IP = HOST_IP;

/** A free TCP port on this machine's address for the node's kubelet endpoint. */
async function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.listen(0, HOST_IP, () => { const p = s.address().port; s.close(() => res(p)); });
    s.on('error', rej);
  });
}

/** One HTTPS request straight to the node's endpoint ("Connection: close":
 *  read until the node closes), verifying its serving certificate against
 *  the server CA. Resolves { status, headers, body }. */
function direct(p, { cert, key, headers = {}, raw, ca = readFileSync(cluster.serverCA), timeoutMs = 20000 } = {}) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: NODE_IP, port: kubeletPort, ca, cert, key,
      checkServerIdentity: (_h, c) => tls.checkServerIdentity(NODE_IP, c) });
    let data = '';
    const t = setTimeout(() => { s.destroy(); reject(new Error(`no answer to ${p} within ${timeoutMs} ms`)); }, timeoutMs);
    s.on('secureConnect', () => {
      s.write(raw ?? `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
    });
    s.on('data', (d) => { data += d.toString('latin1'); });
    s.on('error', (e) => { clearTimeout(t); reject(e); });
    s.on('close', () => {
      clearTimeout(t);
      const i = data.indexOf('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      let body = '';
      let q = i + 4;
      if (/transfer-encoding: chunked/i.test(data.slice(0, i))) {
        for (;;) {
          const e = data.indexOf('\r\n', q);
          const n = parseInt(data.slice(q, e), 16);
          if (!(n > 0)) break;
          body += data.slice(e + 2, e + 2 + n);
          q = e + 2 + n + 2;
        }
      } else body = data.slice(q);
      resolve({ status, head: data.slice(0, i), body });
    });
  });
}

/** Prometheus text -> { family: { type, samples: [{ name, labels, value, timestamp }] } } via prometheus_client. */
function promParse(text) {
  const r = spawnSync('python3', [path.join(ROOT, 'tests/e2e/promparse.py')], { input: text, encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: path.join(ROOT, 'build/pylib') } });
  if (r.status !== 0) throw new Error(`prometheus_client rejected the text: ${r.stderr}\n${text.slice(0, 2000)}`);
  return JSON.parse(r.stdout);
}

function leaseRenewTime() {
  return cluster.tryKubectlJSON('get', 'lease', '-n', 'kube-node-lease', NODE)?.spec?.renewTime;
}

before(async () => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  cluster.reset();
  cluster.up();
  admin = cluster.adminTls();
  approver = cluster.startApprover(work);
  kubeletPort = await freePort();
  node = new SimNode({ name: NODE, cluster, dir: path.join(work, 'nodes'), token: cluster.bootstrapToken(), ip: NODE_IP, extra: {
    'kubelet.port': String(kubeletPort),
    'tls.client_ca_file': path.join(cluster.dir, 'data/tls/client-ca.crt'),
  } }).start();
  await cluster.waitReady(NODE, 30000);
  await node.waitForLog(/kubelet: serving HTTPS on port/, 30000);
  NODE_IP = node.address();
});

after(async () => {
  approver?.kill();
  if (node) {
    await node.stop();
    writeFileSync(path.join(work, `${NODE}.log`), node.logText);
  }
  try { cluster.sh('metrics-server', 'down'); } catch { /* not started */ }
  cluster.down();
});

test('the serving certificate comes from an approved kubelet-serving CSR', () => {
  const csrs = cluster.kubectlJSON('get', 'csr').items.filter((c) => c.spec.signerName === 'kubernetes.io/kubelet-serving');
  assert.equal(csrs.length, 1, JSON.stringify(csrs.map((c) => c.metadata.name)));
  const c = csrs[0];
  assert.equal(c.spec.username, `system:node:${NODE}`);
  assert.deepEqual([...c.spec.usages].sort(), ['digital signature', 'server auth']);
  assert.ok(c.status.conditions.some((x) => x.type === 'Approved' && x.reason === 'PicoServingCSRApproved'));
  const pem = Buffer.from(c.status.certificate, 'base64').toString();
  const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: pem, encoding: 'utf8' });
  assert.match(text, new RegExp(`IP Address:${NODE_IP.replaceAll('.', '\\.')}`));
  assert.match(text, new RegExp(`DNS:${NODE}`));
  assert.match(text, /TLS Web Server Authentication/);
});

test('through the API server node proxy: healthz, pods, stats/summary', () => {
  const base = `/api/v1/nodes/${NODE}/proxy`;
  assert.equal(cluster.kubectl('get', '--raw', `${base}/healthz`), 'ok');
  const pods = JSON.parse(cluster.kubectl('get', '--raw', `${base}/pods`));
  assert.equal(pods.kind, 'PodList');
  assert.deepEqual(pods.items, []);
  const sum = JSON.parse(cluster.kubectl('get', '--raw', `${base}/stats/summary`));
  assert.equal(sum.node.nodeName, NODE);
  assert.ok(sum.node.cpu.usageCoreNanoSeconds > 0, JSON.stringify(sum));
  assert.ok(sum.node.memory.workingSetBytes > 0, JSON.stringify(sum));
  assert.ok(Date.parse(sum.node.startTime) < Date.now());
});

test('/metrics and /metrics/resource parse as Prometheus text with real figures', () => {
  const base = `/api/v1/nodes/${NODE}/proxy`;
  const m = promParse(cluster.kubectl('get', '--raw', `${base}/metrics`));
  assert.ok(m.pico_uptime_seconds.samples[0].value > 0);
  assert.ok(m.process_cpu_seconds.samples[0].value > 0, 'CPU seconds measured');
  assert.ok(m.pico_heap_used_bytes.samples[0].value > 0, 'Mbed TLS heap in use');
  // Resident memory is a process's (the simulator); the board has none to report.
  if (!HOSTED) assert.ok(m.pico_resident_memory_bytes.samples[0].value > 1e6);
  const hs = m.pico_tls_handshakes.samples.filter((s) => s.name === 'pico_tls_handshakes_total');
  assert.ok(hs.find((s) => s.labels.side === 'client' && s.labels.result === 'ok').value >= 2);
  assert.ok(hs.find((s) => s.labels.side === 'server' && s.labels.result === 'ok').value >= 1);
  const api = m.rest_client_requests.samples;
  assert.ok(api.some((s) => s.labels.method === 'POST' && s.labels.code === '201' && s.value >= 3), 'CSRs, Node and Lease creations counted');
  assert.equal(m.pico_device_memory_byte.samples.length, 256);
  const r = promParse(cluster.kubectl('get', '--raw', `${base}/metrics/resource`));
  const cpu = r.node_cpu_usage_seconds.samples[0];
  assert.ok(cpu.value > 0 && Math.abs(cpu.timestamp * 1000 - Date.now()) < 60000, JSON.stringify(cpu));
  assert.ok(r.node_memory_working_set_bytes.samples[0].value > (HOSTED ? 0 : 1e6));
  assert.equal(r.resource_scrape_error.samples[0].value, 0);
  for (const p of ['metrics/cadvisor', 'metrics/probes']) {
    assert.equal(cluster.kubectl('get', '--raw', `${base}/${p}`), '');
  }
});

test('identities: admin allowed, another node 403, another CA and anonymous 401, tokens reviewed', async () => {
  assert.equal((await direct('/healthz', admin)).body, 'ok');
  const other = cluster.issueNodeCert('pico-kubelet-other', path.join(work, 'creds'));
  const o = await direct('/metrics', { cert: readFileSync(other.cert), key: readFileSync(other.key) });
  assert.equal(o.status, 403);
  assert.match(o.body, /Forbidden \(user=system:node:pico-kubelet-other, verb=get, resource=nodes, subresource\(s\)=\[metrics\]\)/);
  // A self-made CA: the endpoint does not trust it, so the client is anonymous.
  const d = path.join(work, 'rogue');
  mkdirSync(d, { recursive: true });
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=system:admin/O=system:masters', '-keyout', `${d}/k.pem`, '-out', `${d}/c.pem`], { stdio: 'ignore' });
  const rogue = await direct('/metrics', { cert: readFileSync(`${d}/c.pem`), key: readFileSync(`${d}/k.pem`) });
  assert.equal(rogue.status, 401);
  assert.equal((await direct('/metrics', {})).status, 401);
  // Bearer tokens: a ServiceAccount with nodes/metrics, one without, and garbage.
  cluster.kubectl('create', 'serviceaccount', 'scraper', '-n', 'default');
  cluster.kubectl('create', 'serviceaccount', 'nobody', '-n', 'default');
  cluster.kubectl('create', 'clusterrole', 'node-metrics', '--verb=get', '--resource=nodes/metrics');
  cluster.kubectl('create', 'clusterrolebinding', 'scraper-node-metrics', '--clusterrole=node-metrics', '--serviceaccount=default:scraper');
  const tok = (sa) => cluster.kubectl('create', 'token', sa, '-n', 'default').trim();
  const ok = await direct('/metrics/resource', { headers: { Authorization: `Bearer ${tok('scraper')}` } });
  assert.equal(ok.status, 200, ok.body);
  assert.match(ok.body, /node_cpu_usage_seconds_total/);
  assert.equal((await direct('/metrics', { headers: { Authorization: `Bearer ${tok('nobody')}` } })).status, 403);
  assert.equal((await direct('/metrics', { headers: { Authorization: 'Bearer not-a-token' } })).status, 401);
  assert.equal((await direct('/stats/summary', { headers: { Authorization: `Bearer ${tok('scraper')}` } })).status, 403,
    'nodes/metrics does not grant nodes/stats');
  // kubelet 1.36's fine-grained authorization: nodes/healthz alone opens
  // /healthz; /pods asks for nodes/pods, then nodes/proxy.
  cluster.kubectl('create', 'serviceaccount', 'prober', '-n', 'default');
  cluster.kubectl('create', 'clusterrole', 'node-healthz', '--verb=get', '--resource=nodes/healthz');
  cluster.kubectl('create', 'clusterrolebinding', 'prober-node-healthz', '--clusterrole=node-healthz', '--serviceaccount=default:prober');
  const probe = { headers: { Authorization: `Bearer ${tok('prober')}` } };
  const hz = await direct('/healthz', probe);
  assert.equal(hz.status, 200, hz.body);
  assert.equal(hz.body, 'ok');
  const pods = await direct('/pods', probe);
  assert.equal(pods.status, 403, pods.body);
  assert.match(pods.body, /Forbidden \(user=system:serviceaccount:default:prober, verb=get, resource=nodes, subresource\(s\)=\[pods proxy\]\)/);
});

test('keep-alive: requests in turn on one TLS connection, as scrapers and the API server proxy send them', async () => {
  const s = tls.connect({ host: NODE_IP, port: kubeletPort, ca: readFileSync(cluster.serverCA), ...admin,
    checkServerIdentity: (_h, c) => tls.checkServerIdentity(NODE_IP, c) });
  await new Promise((res, rej) => { s.once('secureConnect', res); s.once('error', rej); });
  let data = '';
  s.on('data', (d) => { data += d.toString('latin1'); });
  const closed = new Promise((res) => s.once('close', res));
  // A chunked response ends with the last chunk "0" CRLF CRLF (RFC 9112 section 7.1).
  const response = async (what) => {
    await until(`the answer to ${what}`, () => data.includes('\r\n0\r\n\r\n'), 20000, 20);
    const r = data;
    data = '';
    return r;
  };
  for (const p of ['/healthz', '/metrics/resource', '/healthz']) {
    s.write(`GET ${p} HTTP/1.1\r\nHost: ${NODE_IP}\r\n\r\n`);
    const r = await response(p);
    assert.match(r, /^HTTP\/1\.1 200 OK\r\n/, r);
    assert.doesNotMatch(r, /\r\nConnection: close\r\n/i);
  }
  s.write(`GET /healthz HTTP/1.1\r\nHost: ${NODE_IP}\r\nConnection: close\r\n\r\n`);
  await closed;
  assert.match(data, /^HTTP\/1\.1 200 OK\r\n[^]*Connection: close\r\n[^]*\r\n0\r\n\r\n$/);
});

test('not available here: the codes a kubelet uses', async () => {
  assert.equal((await direct('/containerLogs/default/p/c', admin)).status, 404);
  assert.equal((await direct('/exec/default/p/c?command=ls', { ...admin, raw: 'POST /exec/default/p/c?command=ls HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' })).status, 404);
  assert.equal((await direct('/nothing', admin)).status, 404);
  assert.equal((await direct('', { ...admin, raw: 'PUT /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' })).status, 405);
});

test('bad input: garbage, huge heads, a slow client, 100 connections; heartbeats go on', async () => {
  const before = leaseRenewTime();
  assert.equal((await direct('', { ...admin, raw: '\x00\x01\x02 garbage\r\n\r\n' })).status, 400);
  assert.equal((await direct('', { ...admin, raw: `GET /metrics HTTP/1.1\r\nX-Big: ${'a'.repeat(4000)}\r\n\r\n` })).status, 431);
  assert.equal((await direct('', { ...admin, raw: 'POST /metrics HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd' })).status, 413);
  // One byte a second: the head timeout ends it with 408.
  const slow = await new Promise((resolve, reject) => {
    const s = tls.connect({ host: NODE_IP, port: kubeletPort, ...admin,
      checkServerIdentity: () => undefined });
    let data = '';
    let i = 0;
    const req = 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n';
    const tick = setInterval(() => { if (i < req.length && !s.destroyed) s.write(req[i++]); }, 1000);
    s.on('data', (d) => { data += d; });
    s.on('close', () => { clearInterval(tick); resolve(data); });
    s.on('error', (e) => { clearInterval(tick); reject(e); });
  });
  assert.match(slow, /^HTTP\/1\.1 408 /);
  // 100 connections at once: some are served, the rest closed; none hangs.
  const results = await Promise.allSettled(Array.from({ length: 100 }, () => direct('/healthz', admin)));
  const served = results.filter((r) => r.status === 'fulfilled' && r.value.status === 200).length;
  assert.ok(served >= 1, `${served} of 100 served`);
  assert.equal(results.filter((r) => r.status === 'fulfilled' && r.value.status !== 200 && r.value.status !== 0).length, 0);
  // Afterwards it answers normally, the Lease moved on and the node is Ready.
  assert.equal((await direct('/healthz', admin)).body, 'ok');
  await until('a Lease renewal after the load', () => leaseRenewTime() !== before, 20000, 500);
  assert.equal(node.proc.exitCode, null);
  assert.doesNotMatch(node.logText, /lease: renewal failed/);
});

test('kubectl top node through a real metrics-server', async () => {
  cluster.sh('metrics-server', 'up');
  const out = await until('kubectl top node shows the Pico', () => {
    try {
      const t = cluster.kubectl('top', 'node', NODE, '--no-headers');
      return /\d+m\s+\d+%?\s+\d+Mi/.test(t) || /\d+Mi/.test(t) ? t : null;
    } catch { return null; }
  }, 120000, 3000);
  assert.match(out, new RegExp(`^${NODE}\\s+\\d+m`));
});
