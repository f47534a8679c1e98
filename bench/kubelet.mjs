// The kubelet endpoint of a simulated node joined to the real control plane
// (serving certificate from a kubelet-serving CSR approved by
// `k3s-pico-node approver`), measured from a client on this host with the
// admin's client certificate (one SubjectAccessReview, then cached):
//  - kubelet_metrics_rps / kubelet_metrics_ms_p50/p99/max: sequential GET
//    /metrics, each on a new TLS connection ("Connection: close"), N
//    requests;
//  - kubelet_metrics_rps_keepalive / _keepalive_ms_p50/p99/max: the same
//    on one kept-alive connection (no handshake per request), N requests;
//  - kubelet_heap_per_connection: Mbed TLS heap (pico_heap_used_bytes, the
//    host's counted allocations, as on the device) with 3 open connections
//    minus with 1, halved;
//  - heartbeat_interval_idle/_load p50/max: time between Lease renewals
//    (the node's debug log) without load and while clients fetch /metrics
//    back to back; the node renews every 10 s.
// One JSON line per figure; nothing asserted.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { kubeletConnect, kubeletGet, out, pct } from './lib.mjs';
import { Cluster, SimNode, hostAddress } from '../tests/e2e/harness.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.env.BENCH_KUBELET_REQUESTS ?? 300);
const LOAD_S = Number(process.env.BENCH_KUBELET_LOAD_S ?? 60);
const NODE = 'pico-bench-kubelet';
const NODE_IP = hostAddress() ?? '127.0.0.1';
const KUBELET_PORT = Number(process.env.BENCH_KUBELET_NODE_PORT ?? 17462);
const cluster = new Cluster({ name: 'bench-kubelet', port: Number(process.env.BENCH_KUBELET_PORT ?? 17461) });
const work = path.join(ROOT, 'build/e2e/bench-kubelet');

const connect = (creds) => kubeletConnect(NODE_IP, KUBELET_PORT, creds);
const get = kubeletGet;

/** Sends GET `p` on the kept-alive `s` and resolves the response text at
 *  its last chunk ("0" CRLF CRLF, RFC 9112 section 7.1). */
function getKept(s, p) {
  return new Promise((res, rej) => {
    let data = '';
    const onData = (d) => {
      data += d;
      if (data.endsWith('\r\n0\r\n\r\n')) { s.off('data', onData); s.off('error', rej); res(data); }
    };
    s.on('data', onData);
    s.once('error', rej);
    s.write(`GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`);
  });
}

const heapUsed = (text) => Number(/\npico_heap_used_bytes (\d+)/.exec(text)?.[1]);

/** Intervals (ms) between "lease: renewed" lines after log offset `from`. */
function renewIntervals(log, from) {
  const t = [];
  for (const l of log.slice(from).split('\n')) {
    const m = /^\[\s*(\d+)\.(\d{3})\].*lease: renewed/.exec(l);
    if (m) t.push(Number(m[1]) * 1000 + Number(m[2]));
  }
  return t.slice(1).map((x, i) => x - t[i]);
}

cluster.reset();
// Node state of an earlier run holds certificates of a cluster that is gone.
rmSync(path.join(work, 'nodes'), { recursive: true, force: true });
cluster.up();
const approver = spawn('node', [path.join(ROOT, 'build/cli/main.js'), 'approver', '--kubeconfig', cluster.kubeconfig],
  { stdio: 'ignore' });
let node;
try {
  node = new SimNode({ name: NODE, cluster, dir: path.join(work, 'nodes'), token: cluster.bootstrapToken(), ip: NODE_IP,
    extra: { 'kubelet.port': String(KUBELET_PORT), 'log.level': '3',
      'tls.client_ca_file': path.join(cluster.dir, 'data/tls/client-ca.crt') } }).start();
  await node.waitForLog(/kubelet: serving HTTPS on port/, 60000);
  const creds = cluster.adminTls();
  await get(await connect(creds), '/healthz'); // the SubjectAccessReview, cached from here on

  // Requests per second, sequential, a new connection each.
  const ms = [];
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const a = performance.now();
    const r = await get(await connect(creds), '/metrics');
    if (!r.startsWith('HTTP/1.1 200')) throw new Error(`bench/kubelet: ${r.slice(0, 200)}`);
    ms.push(performance.now() - a);
  }
  const total = (performance.now() - t0) / 1000;
  out('kubelet_metrics_rps', Number((N / total).toFixed(1)), 'requests/s', { requests: N, note: 'sequential, new TLS connection each' });
  out('kubelet_metrics_ms_p50', Number(pct(ms, 50).toFixed(2)), 'ms');
  out('kubelet_metrics_ms_p99', Number(pct(ms, 99).toFixed(2)), 'ms');
  out('kubelet_metrics_ms_max', Number(Math.max(...ms).toFixed(2)), 'ms');

  // The same on one kept-alive connection.
  const kept = await connect(creds);
  const kms = [];
  const k0 = performance.now();
  for (let i = 0; i < N; i++) {
    const a = performance.now();
    const r = await getKept(kept, '/metrics');
    if (!r.startsWith('HTTP/1.1 200')) throw new Error(`bench/kubelet: ${r.slice(0, 200)}`);
    kms.push(performance.now() - a);
  }
  const ktotal = (performance.now() - k0) / 1000;
  kept.destroy();
  out('kubelet_metrics_rps_keepalive', Number((N / ktotal).toFixed(1)), 'requests/s',
    { requests: N, note: 'sequential, one kept-alive TLS connection' });
  out('kubelet_metrics_keepalive_ms_p50', Number(pct(kms, 50).toFixed(2)), 'ms');
  out('kubelet_metrics_keepalive_ms_p99', Number(pct(kms, 99).toFixed(2)), 'ms');
  out('kubelet_metrics_keepalive_ms_max', Number(Math.max(...kms).toFixed(2)), 'ms');

  // Heap per open connection: /metrics with 1 connection, then with 3.
  const one = heapUsed(await get(await connect(creds), '/metrics'));
  const [a, b, c] = [await connect(creds), await connect(creds), await connect(creds)];
  await sleep(500); // the host finishes the handshakes of b and c
  const three = heapUsed(await get(a, '/metrics'));
  b.destroy(); c.destroy();
  out('kubelet_heap_per_connection', Math.round((three - one) / 2), 'bytes',
    { heap_with_1: one, heap_with_3: three, note: 'Mbed TLS heap (device allocator hooks) of the simulator' });

  // Heartbeats idle, then under load.
  let mark = node.logText.length;
  await sleep(LOAD_S * 1000);
  const idle = renewIntervals(node.logText, mark);
  mark = node.logText.length;
  let stop = false;
  let served = 0;
  const loop = async () => {
    while (!stop) { await get(await connect(creds), '/metrics'); served++; }
  };
  const loops = [loop(), loop()];
  await sleep(LOAD_S * 1000);
  stop = true;
  await Promise.all(loops);
  const load = renewIntervals(node.logText, mark);
  out('heartbeat_interval_idle_p50', pct(idle, 50), 'ms', { renewals: idle.length + 1 });
  out('heartbeat_interval_idle_max', Math.max(...idle), 'ms');
  out('heartbeat_interval_load_p50', pct(load, 50), 'ms', { renewals: load.length + 1, metrics_served: served, seconds: LOAD_S });
  out('heartbeat_interval_load_max', Math.max(...load), 'ms');
} finally {
  approver.kill();
  await node?.stop();
  cluster.down();
}
