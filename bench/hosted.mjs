// RAM of the firmware's own code at work, on the hosted board
// (firmware-shim/port/pico/hosted: port/pico, lwIP with lwipopts.h, Mbed TLS
// with mbedtls_config.h, WAMR with the device's pool, 32-bit, a C heap of
// the firmware's size) against the real control plane. The node joins with
// a bootstrap token (key made on the board, CSR, certificate kept in its
// flash), gets its serving certificate from the shipped approver, then for
// BENCH_HOSTED_HOLD_S seconds takes ConfigMap updates and serves /metrics
// through the API server's node proxy (k3s' agent tunnel, as on k3s) and to
// a direct client while its API connection stays up: the device's worst case
// of three TLS sessions (API, tunnel, the one it serves). Then the
// board prints its high-water marks (SIGUSR1, cyw43.c):
//   hosted_heap_peak             C heap high-water mark (of heap_bytes)
//   hosted_lwip_mem_peak         lwIP's heap (MEM_SIZE) high-water mark
//   hosted_pool_peak_<pool>      each lwIP pool's high-water mark (of avail)
//   hosted_rx_frames_dropped     received frames dropped for want of a PBUF_POOL pbuf
//   hosted_wamr_pool_peak        WAMR pool peak the board logs at start
//   hosted_endpoint_handshakes_* the endpoint's TLS handshakes: requests
//                                alternating with a direct client, and 10
//                                through the node proxy in a row
// Needs root and build/sim-pico (PICO_SDK_PATH=... WAMR_ROOT=...
// scripts/build-sim.sh); without them it says so and prints nothing.
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { kubeletConnect, kubeletGet, out } from './lib.mjs';
import { GATEWAY, setupNetwork } from '../scripts/pico-hosted.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BOARD = path.join(ROOT, 'build/sim-pico/k3s_pico_hosted');
if (!existsSync(BOARD) || process.getuid() !== 0) {
  console.error('bench/hosted: SKIPPED, no figures: needs root and build/sim-pico/k3s_pico_hosted '
    + '(PICO_SDK_PATH=... WAMR_ROOT=... bash scripts/build-sim.sh)');
  process.exit(0);
}
// Read by the harness when it is loaded.
process.env.PICO_SIM = path.join(ROOT, 'scripts/pico-hosted.mjs');
process.env.PICO_CLUSTER_EXTRA_ADDRESS = GATEWAY;
setupNetwork();
const { Cluster, SimNode } = await import('../tests/e2e/harness.mjs');

const HOLD_S = Number(process.env.BENCH_HOSTED_HOLD_S ?? 30);
const cluster = new Cluster({ name: 'bench-hosted', port: Number(process.env.BENCH_HOSTED_PORT ?? 17470), agentTunnel: true });
const work = path.join(ROOT, 'build/e2e/bench-hosted');
const cm = (v) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'pico-config', namespace: 'default' }, data: { memory_values: v } });

cluster.reset();
cluster.up();
const approver = cluster.startApprover(work);
let n = null;
try {
  cluster.kubectl('apply', '-f', path.join(ROOT, 'manifests/pico-configmap-rbac.yaml'));
  cluster.apply(cm('0=1'));
  rmSync(path.join(work, 'node'), { recursive: true, force: true }); // flash of a cluster that is gone
  n = new SimNode({ name: 'pico-hosted-bench', cluster, dir: path.join(work, 'node'), token: cluster.bootstrapToken(),
    extra: { 'configmap.names': 'pico-config', 'tls.client_ca_file': path.join(cluster.dir, 'data/tls/client-ca.crt'),
      'tunnel.port': String(cluster.tunnelPort) } });
  n.start(['--log-level', '2']);
  await n.waitForLog(/kubelet: serving HTTPS on port/, 90000);
  await n.waitForLog(/tunnel: open to /, 30000);
  const admin = cluster.adminTls();
  const t0 = Date.now();
  let updates = 0;
  let proxied = 0;
  let direct = 0;
  while (Date.now() - t0 < HOLD_S * 1000) {
    cluster.apply(cm(`0=${(updates % 250) + 2}`));
    updates++;
    cluster.kubectl('get', '--raw', `/api/v1/nodes/${n.name}/proxy/metrics`);
    proxied++;
    const r = await kubeletGet(await kubeletConnect(n.address(), 10250, admin), '/metrics/resource');
    if (!r.startsWith('HTTP/1.1 200')) throw new Error(`bench/hosted: /metrics/resource: ${r.slice(0, 200)}`);
    direct++;
    await sleep(500);
  }
  // Handshakes the endpoint made: above, each direct request takes the one
  // slot from the proxy's kept connection; then the proxy alone, in a row.
  const handshakes = () => Number(/^pico_tls_handshakes_total\{side="server",result="ok"\} (\d+)/m
    .exec(cluster.kubectl('get', '--raw', `/api/v1/nodes/${n.name}/proxy/metrics`))[1]);
  const served = handshakes();
  for (let i = 0; i < 9; i++) cluster.kubectl('get', '--raw', `/api/v1/nodes/${n.name}/proxy/healthz`);
  const inRow = handshakes() - served;
  n.proc.kill('SIGUSR1'); // the wrapper passes it to the board
  const report = JSON.parse((await n.waitForLog(/^\{"hosted":.*\}$/m, 10000))[0]).hosted;
  const scene = { held_s: HOLD_S, configmap_updates: updates, proxied_metrics: proxied, direct_requests: direct };
  out('hosted_heap_peak', report.heap_peak_bytes, 'bytes', { heap_bytes: report.heap_bytes, ...scene,
    note: 'C heap of the firmware\'s size: Mbed TLS (API session + tunnel session + endpoint session), the shim, stdio' });
  out('hosted_lwip_mem_peak', report.lwip_mem_max_bytes, 'bytes', { mem_size: report.lwip_mem_bytes, err: report.lwip_mem_err });
  for (const [pool, s] of Object.entries(report)) {
    if (typeof s === 'object') out(`hosted_pool_peak_${pool}`, s.max, 'buffers', { avail: s.avail, err: s.err });
  }
  out('hosted_rx_frames_dropped', report.rx_frames_dropped, 'frames');
  out('hosted_endpoint_handshakes_alternating', served, 'handshakes', { requests: proxied + direct + 1,
    note: 'proxied and direct requests in turn: the direct client connects anew each time and takes the one slot' });
  out('hosted_endpoint_handshakes_proxied_in_row', inRow, 'handshakes', { requests: 10,
    note: 'node proxy (through the tunnel) alone: its connection is kept' });
  const wamr = / mem: WAMR pool peak (\d+) of (\d+) bytes/.exec(n.logText);
  if (wamr) out('hosted_wamr_pool_peak', Number(wamr[1]), 'bytes', { pool_bytes: Number(wamr[2]) });
} finally {
  if (n !== null) await n.stop();
  approver.kill();
  cluster.down();
}
