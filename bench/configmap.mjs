// ConfigMap -> device memory benchmarks on the simulator against the real
// control plane (DESIGN.md budget: p99 < 100 ms on loopback). Prints one
// JSON object per figure per line; asserts nothing.
//
// Latency method: the bench PUTs the ConfigMap straight to the API server
// over HTTPS (admin client certificate, one kept-alive connection, so no
// kubectl start-up is measured); the clock starts when the API response has
// been read completely and stops when the simulator's saved device memory
// (the <node>.devmem file the host renames into place after fsync) holds the
// new byte, read back in a tight loop (~20 us a read). So the figure covers:
// API server -> watch event -> core parse/validate -> devmem_commit -> file
// write + fsync + rename.
import { mkdirSync } from 'node:fs';
import https from 'node:https';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, SimNode, ROOT } from '../tests/e2e/harness.mjs';
import { out, pct } from './lib.mjs';

const UPDATES = Number(process.env.BENCH_CONFIGMAP_UPDATES ?? 200);
const PORT = Number(process.env.BENCH_CONFIGMAP_PORT ?? 17448);
const cluster = new Cluster({ name: 'bench-configmap', port: PORT });
const work = path.join(ROOT, 'build/e2e/bench-configmap');

const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
let tls;
function api(method, p, body) {
  return new Promise((resolve, reject) => {
    const data = body ? Buffer.from(JSON.stringify(body)) : null;
    const req = https.request({
      host: '127.0.0.1', port: PORT, path: p, method, agent, ...tls,
      headers: { 'Content-Type': 'application/json', ...(data ? { 'Content-Length': data.length } : {}) },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

const cmPath = (name) => `/api/v1/namespaces/default/configmaps/${name}`;
const cm = (name, data) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data });

function sim(name, extra) {
  const creds = cluster.issueNodeCert(name, path.join(work, 'creds'));
  return new SimNode({ name, cluster, dir: path.join(work, 'nodes'), ...creds, extra });
}

mkdirSync(work, { recursive: true });
cluster.reset();
cluster.up();
try {
  tls = cluster.adminTls();
  cluster.kubectl('apply', '-f', path.join(ROOT, 'manifests/pico-configmap-rbac.yaml'));
  await api('POST', '/api/v1/namespaces/default/configmaps', cm('pico-config', { memory_values: '0=0' }));
  const node = sim('pico-bench-cm', { 'configmap.names': 'pico-config' });

  // Idle run: the same node, watch open, no updates, for the reference traffic.
  node.start(['--log-level', '3', '--stats']);
  await node.waitForLog(/configmap: default\/pico-config @\d+: applied/, 30000);
  await node.waitForLog(/node: Ready/, 30000);
  await sleep(2000);
  const idleT0 = performance.now();
  await sleep(10000);
  const idleMs = performance.now() - idleT0;
  await node.stop();
  await sleep(200);
  const idle = node.stats();
  const idleReq = (node.logText.match(/ D api: /g) ?? []).length;

  // Update run.
  node.logText = '';
  node.start(['--log-level', '3', '--stats']);
  await node.waitForLog(/node: Ready/, 30000);
  await sleep(2000);
  const mark = node.logText.length;
  const lat = [];
  const t0 = performance.now();
  for (let i = 1; i <= UPDATES; i++) {
    const addr = i % 16;
    const v = (i * 7) % 256;
    const before = node.devmem();
    const want = before && before[addr] === v ? (v + 1) % 256 : v;
    const r = await api('PUT', cmPath('pico-config'), cm('pico-config', { memory_values: `${addr}=${want}` }));
    if (r.status !== 200) throw new Error(`PUT ${r.status}: ${r.body}`);
    const w0 = performance.now();
    for (;;) {
      const m = node.devmem();
      if (m && m[addr] === want) break;
      if (performance.now() - w0 > 10000) throw new Error(`update ${i} not applied in 10 s`);
    }
    lat.push(performance.now() - w0);
  }
  const updMs = performance.now() - t0;
  await sleep(1000); // let the last reports go out
  const window = node.logText.slice(mark);
  await node.stop();
  await sleep(200);
  const upd = node.stats();
  const reports = (window.match(/ D api: (POST \/api\/v1\/namespaces\/default\/events|PATCH \/api\/v1\/nodes\/)/g) ?? []).length;
  out('configmap_to_devmem_p50', Math.round(pct(lat, 50) * 100) / 100, 'ms', { updates: UPDATES, method: 'API response read -> devmem file holds the byte' });
  out('configmap_to_devmem_p99', Math.round(pct(lat, 99) * 100) / 100, 'ms', { budget: 100 });
  out('configmap_to_devmem_max', Math.round(Math.max(...lat) * 100) / 100, 'ms');
  // Wire figures: update run minus the idle run's rate over the same time.
  const scale = (x) => x * ((updMs + 1000) / idleMs);
  if (upd.bytes_received !== undefined && idle.bytes_received !== undefined) {
    out('wire_bytes_received_per_update', Math.round((upd.bytes_received - scale(idle.bytes_received)) / UPDATES), 'bytes',
      { note: 'watch event + report responses, TLS included, idle traffic subtracted' });
    out('wire_bytes_sent_per_update', Math.round((upd.bytes_sent - scale(idle.bytes_sent)) / UPDATES), 'bytes',
      { note: 'Event POST + annotation PATCH, TLS included, idle traffic subtracted' });
  }
  out('api_requests_per_update', Math.round((reports / UPDATES) * 100) / 100, 'requests',
    { note: 'Event + Node annotation writes on the main connection; the watch needs none; reports coalesce under load', idle_requests_10s: idleReq });

  // Memory of a watch: a 1 MB ConfigMap (memory_values ~1 MB: skipped while
  // streaming, rejected) versus a 100-byte one, each in a fresh simulator
  // (VmHWM is a high-water mark). The core's memory is fixed at start (no
  // allocation after init): what could grow is the host's (TLS records).
  const small = '0=0x01,1=0x02,2=0x03,3=0x04,4=0x05,5=0x06,6=0x07,7=0x08,8=0x09,9=0x0A,10=0x0B,11=0x0C,12=0x0D';
  const big = '0=0x01,'.repeat(149000); // ~1 MB object, under the API server's 1 MiB limit
  for (const [label, values, done] of [['100B', small, /applied \d+ address/], ['1MB', big, /memory_values is longer than/]]) {
    const r = await api('PUT', cmPath('pico-config'), cm('pico-config', { memory_values: values }));
    if (r.status !== 200) throw new Error(`PUT ${label}: ${r.status} ${r.body.slice(0, 200)}`);
    node.logText = '';
    node.start(['--stats']);
    await node.waitForLog(done, 30000);
    await sleep(1000);
    const hwm = node.peakRss();
    await node.stop();
    await sleep(200);
    const st = node.stats();
    out(`watch_${label}_sim_peak_rss`, hwm, 'bytes', { configmap_bytes: values.length });
    if (st.tls_heap_peak_bytes !== undefined) out(`watch_${label}_tls_heap_peak`, st.tls_heap_peak_bytes, 'bytes', { counted: st.tls_heap_counted });
    if (st.bytes_received !== undefined) out(`watch_${label}_bytes_received`, st.bytes_received, 'bytes');
  }
  const figures = JSON.parse(execFileSync('node', [path.join(ROOT, 'scripts/shrink-wasm.mjs'),
    path.join(ROOT, 'build/core.names.wasm'), path.join(work, 'core.wasm')], { encoding: 'utf8' }));
  out('core_linear_memory', figures.heap_base, 'bytes', { note: 'fixed at start: the same for both watches' });
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  agent.destroy();
  cluster.down();
}
