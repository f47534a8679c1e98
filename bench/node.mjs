// Node benchmarks on the simulator against the real control plane
// (DESIGN.md budgets): process start -> Node Ready, steady-state API requests
// and wire bytes per minute, peak resident memory of one simulator, TCP
// connections it holds to the API server in steady state (the default
// configuration: its requests and one ConfigMap watch).
// Prints one JSON object per figure per line; asserts nothing.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, SimNode, ROOT } from '../tests/e2e/harness.mjs';
import { out, pct } from './lib.mjs';

const RUNS = Number(process.env.BENCH_READY_RUNS ?? 7);
const STEADY_S = Number(process.env.BENCH_STEADY_S ?? 60);
const cluster = new Cluster({ name: 'bench', port: 17444 });
const work = path.join(ROOT, 'build/e2e/bench');

cluster.reset();
cluster.up();
try {
  const creds = cluster.issueNodeCert('pico-bench', path.join(work, 'creds'));
  const node = new SimNode({ name: 'pico-bench', cluster, dir: path.join(work, 'nodes'), ...creds });

  // Process start -> Node Ready: from spawn to the agent's "registered" line
  // (the Node is created with Ready=True), confirmed through the API.
  const ready = [];
  for (let i = 0; i < RUNS; i++) {
    cluster.kubectl('delete', 'node', 'pico-bench', '--ignore-not-found', '--wait=true');
    cluster.kubectl('-n', 'kube-node-lease', 'delete', 'lease', 'pico-bench', '--ignore-not-found');
    node.logText = '';
    const t0 = performance.now();
    node.start();
    await node.waitForLog(/node: registered pico-bench/, 30000);
    ready.push(performance.now() - t0);
    await cluster.waitReady('pico-bench', 10000);
    await node.stop();
  }
  out('start_to_ready_p50', Math.round(pct(ready, 50)), 'ms', { runs: RUNS });
  out('start_to_ready_max', Math.round(Math.max(...ready)), 'ms', { runs: RUNS });

  // Steady state: skip the first 15 s (registration, first status), then
  // count for STEADY_S seconds. Requests are the agent's debug "api:" lines.
  node.logText = '';
  node.start(['--log-level', '3', '--stats']);
  await node.waitForLog(/node: registered|found existing Node/, 30000);
  await sleep(15000);
  const mark = node.logText.length;
  await sleep(STEADY_S * 1000);
  const window = node.logText.slice(mark);
  const conns = node.tcpConnectionsTo(cluster.port);
  const http2 = /api: HTTP\/2: requests and watches share one connection/.test(node.logText);
  const requests = (window.match(/ D api: /g) ?? []).length;
  const renewals = (window.match(/ D api: PUT \/apis\/coordination\.k8s\.io/g) ?? []).length;
  const hwm = node.peakRss();
  await node.stop();
  await sleep(200);
  const stats = node.stats();
  const perMin = (x) => Math.round((x * 600) / STEADY_S) / 10;
  out('api_requests_per_min', perMin(requests), 'requests/min', { kubelet: 6.2, window_s: STEADY_S });
  out('lease_renewals_per_min', perMin(renewals), 'requests/min', { kubelet: 6 });
  out('api_tcp_connections', conns, 'connections', { http2, method: '/proc/<pid>/fd sockets in /proc/net/tcp, established, to the API port' });
  out('sim_peak_rss', hwm, 'bytes');
  if (stats.tls_heap_peak_bytes !== undefined) out('tls_heap_peak', stats.tls_heap_peak_bytes, 'bytes');
  if (stats.bytes_sent !== undefined) out('wire_bytes_sent_total', stats.bytes_sent, 'bytes', { note: 'whole run incl. registration' });
} finally {
  cluster.down();
}
