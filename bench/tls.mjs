// TLS figures of the simulator built with the device's Mbed TLS
// (build/sim-devtls/pico-node-sim: Mbed TLS 3.x from source with
// firmware-shim/port/pico/mbedtls_config.h, scripts/build-sim.sh with
// MBEDTLS_SOURCE_DIR or PICO_SDK_PATH set), joined to the real control plane:
//  - tls_heap_peak_one_connection / _default: peak Mbed TLS heap (the sim's
//    --stats line) of a joined node, counted through MBEDTLS_PLATFORM_MEMORY
//    (the device's allocator hooks), with the API connection only and with
//    the default configuration (connection count printed with it);
//  - tls_heap_peak_api_and_endpoint: the device's worst case, the API
//    connection plus the kubelet endpoint serving one client at a time
//    (serving certificate from an approved CSR, no agent tunnel, clients
//    fetching /metrics with their own handshake each);
//  - tls_handshake_sim_p50/max: mutual-TLS handshake wall time on this host,
//    from the sim's log ("node: starting" -> "tls: ... up"), N restarts;
//  - tls_handshake_m0plus_est: the public-key work of one handshake on a
//    133 MHz Cortex-M0+, from the operation count and DESIGN.md's measured
//    M0+ cycle costs (method in the JSON line).
// Prints one JSON object per figure per line; asserts nothing. Without the
// devtls simulator it says so on stderr and prints no figures.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { kubeletConnect, kubeletGet, out, pct } from './lib.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SIM_DEVTLS = path.join(ROOT, 'build/sim-devtls/pico-node-sim');
if (!existsSync(SIM_DEVTLS)) {
  console.error('bench/tls: SKIPPED, no figures: build/sim-devtls/pico-node-sim is missing '
    + '(set MBEDTLS_SOURCE_DIR=<Mbed TLS 3.x tree> or PICO_SDK_PATH, then scripts/build-sim.sh)');
  process.exit(0);
}
process.env.PICO_SIM = SIM_DEVTLS; // read by the harness when it is loaded
/** 32 or 64: the simulator's word size (ELF header EI_CLASS); the device's is
 *  32, and Mbed TLS's structures hold pointers. */
const SIM_BITS = readFileSync(SIM_DEVTLS)[4] === 1 ? 32 : 64;
const { Cluster, SimNode } = await import('../tests/e2e/harness.mjs');

const RUNS = Number(process.env.BENCH_TLS_RUNS ?? 20);
const HOLD_S = Number(process.env.BENCH_TLS_HOLD_S ?? 20);
const CPU_HZ = 133e6;
const cluster = new Cluster({ name: 'bench-tls', port: Number(process.env.BENCH_TLS_PORT ?? 17460) });
const work = path.join(ROOT, 'build/e2e/bench-tls');

// Log lines start "[   s.mmm] L " (firmware-shim/src/log.c).
const stamp = (line) => {
  const m = /^\[\s*(\d+)\.(\d{3})\]/.exec(line);
  return m ? Number(m[1]) * 1000 + Number(m[2]) : NaN;
};

/** Wall time of the first handshake in a log: from the line logged just
 *  before the core opens its API connection ("node: starting ..., API server
 *  host:port") to "tls: host:port up" (TCP connect on localhost + handshake). */
function firstHandshakeMs(log, port) {
  const lines = log.split('\n');
  const up = lines.findIndex((l) => l.includes(`tls: 127.0.0.1:${port} up`));
  const start = lines.findIndex((l) => / node: starting .*API server /.test(l));
  if (up < 0 || start < 0 || start > up) return null;
  return { ms: stamp(lines[up]) - stamp(lines[start]), line: lines[up] };
}

cluster.reset();
cluster.up();
try {
  const creds = cluster.issueNodeCert('pico-tls', path.join(work, 'creds'));
  const node = new SimNode({ name: 'pico-tls', cluster, dir: path.join(work, 'nodes'), ...creds });

  // Handshake wall time on the simulator, one per restart.
  const hs = [];
  let upLine = '';
  for (let i = 0; i < RUNS; i++) {
    node.logText = '';
    node.start(['--log-level', '3']);
    await node.waitForLog(/tls: \S+ up, /, 30000);
    const h = firstHandshakeMs(node.logText, cluster.port);
    if (h) { hs.push(h.ms); upLine = h.line; }
    await node.stop();
  }
  const suite = /up, ([^,]+), (\S+)/.exec(upLine);
  if (hs.length > 0) {
    out('tls_handshake_sim_p50', pct(hs, 50), 'ms', { runs: hs.length, version: suite?.[1], ciphersuite: suite?.[2], host: `x86 simulator (${SIM_BITS}-bit), localhost, log-timestamp resolution 1 ms` });
    out('tls_handshake_sim_max', Math.max(...hs), 'ms', { runs: hs.length });
  } else {
    console.error('bench/tls: no handshake timing found in the simulator log');
  }

  // Peak Mbed TLS heap of a joined node: with only its API connection
  // (configmap.names empty: no ConfigMap watch), then as configured by
  // default (API connection + ConfigMap watch connection).
  const heap = async (metric, extra, note) => {
    const n = new SimNode({ name: 'pico-tls', cluster, dir: path.join(work, metric), ...creds, extra });
    n.start(['--log-level', '3', '--stats']);
    await n.waitForLog(/node: registered|found existing Node/, 30000);
    await sleep(HOLD_S * 1000);
    await n.stop();
    await sleep(200);
    const stats = n.stats();
    if (!stats.tls_heap_counted) {
      console.error(`bench/tls: ${metric}: the simulator did not count the TLS heap (stats: ${JSON.stringify(stats)})`);
      return;
    }
    out(metric, stats.tls_heap_peak_bytes, 'bytes', {
      connects: stats.connects, handshakes_ok: stats.handshakes_ok, held_s: HOLD_S, sim_bits: SIM_BITS, note,
    });
  };
  await heap('tls_heap_peak_one_connection', { 'configmap.names': '' },
    'joined, API connection only; includes CA/client cert/key; device mbedtls_config.h (4 KiB in / 2 KiB out records)');
  await heap('tls_heap_peak_default', {},
    'joined, default config (API connection + ConfigMap watch connection)');

  // The device's worst case: API connection + one kubelet endpoint session.
  const approver = cluster.startApprover(work);
  let n = null;
  try {
    const kubeletPort = Number(process.env.BENCH_TLS_KUBELET_PORT ?? 17463);
    // Node state of an earlier run holds certificates of a cluster that is gone.
    rmSync(path.join(work, 'endpoint'), { recursive: true, force: true });
    n = new SimNode({ name: 'pico-tls-kubelet', cluster, dir: path.join(work, 'endpoint'),
      token: cluster.bootstrapToken(), ip: '127.0.0.1', extra: {
        'kubelet.port': String(kubeletPort), 'tunnel.port': '0', 'configmap.names': '',
        'tls.client_ca_file': path.join(cluster.dir, 'data/tls/client-ca.crt') } });
    n.start(['--log-level', '3', '--stats']);
    await n.waitForLog(/kubelet: serving HTTPS on port/, 60000);
    const admin = cluster.adminTls();
    const fetches = 5;
    for (let i = 0; i < fetches; i++) {
      const r = await kubeletGet(await kubeletConnect('127.0.0.1', kubeletPort, admin), '/metrics');
      if (!r.startsWith('HTTP/1.1 200')) throw new Error(`bench/tls: /metrics: ${r.slice(0, 200)}`);
    }
    await n.stop();
    await sleep(200);
    const stats = n.stats();
    n = null;
    out('tls_heap_peak_api_and_endpoint', stats.tls_heap_peak_bytes, 'bytes', {
      server_handshakes_ok: stats.server_handshakes_ok, fetches, handshakes_ok: stats.handshakes_ok,
      sim_bits: SIM_BITS, note: 'joined with its own certificates; API connection + the kubelet endpoint serving one client at a time (the device: SHIM_KUBELET_MAX_CONNS 1; its worst case with the tunnel: bench/hosted.mjs)',
    });
  } finally {
    if (n !== null) await n.stop(); // a failed run leaves no simulator behind
    approver.kill();
  }
} finally {
  cluster.down();
}

// Public-key work of one mutual-TLS 1.2 ECDHE-ECDSA P-256 handshake as the
// device runs it (Mbed TLS client, k3s: server cert signed by the server CA,
// no intermediate; RFC 5246 section 7.4, RFC 8422 section 5.4):
//   - verify the server certificate's signature against the CA: 1 ECDSA verify
//   - verify ServerKeyExchange's signature over the ECDHE params: 1 ECDSA verify
//   - ECDHE: generate an ephemeral key (1 fixed-base mult) and compute the
//     shared secret (1 variable-base mult): 1 ECDH keygen + 1 ECDH compute
//   - CertificateVerify with the node's key: 1 ECDSA sign
// The CA certificate itself is trusted as configured (no signature check).
// M0+ cycles per operation: DESIGN.md "Device facts" (pico-sdk Mbed TLS on an
// emulated RP2040, code in RAM: a lower bound within ~10%): ECDSA P-256 sign
// 9.9 M, verify 35.7 M, ECDH keygen + shared secret 34.1 M (the pair).
// Hashing and AES-GCM of the few KB of handshake messages (0.13 M / 0.45 M
// cycles per KB) are left out: under 2% of the total.
const M0_CYCLES = { ecdsa_verify: 35.7e6, ecdsa_sign: 9.9e6, ecdh_keygen_and_shared: 34.1e6 };
const ops = { ecdsa_verify: 2, ecdsa_sign: 1, ecdh_keygen_and_shared: 1 };
const cycles = Object.keys(ops).reduce((sum, k) => sum + ops[k] * M0_CYCLES[k], 0);
out('tls_handshake_m0plus_est', Math.round((cycles / CPU_HZ) * 1000), 'ms', {
  cpu_hz: CPU_HZ, ops, cycles_per_op: M0_CYCLES, cycles_total: cycles,
  method: 'sum of P-256 operations in one mutual-TLS ECDHE-ECDSA handshake x measured M0+ cycles / 133 MHz; excludes SHA/AES-GCM and Wi-Fi round trips',
});
