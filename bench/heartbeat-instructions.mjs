// Instructions the core spends per heartbeat cycle (10 s of steady state:
// one Lease renewal built, sent and its answer parsed, plus the idle polls),
// counted by callgrind, not timed: under wasm2c (build/sim) and, when built,
// under WAMR's interpreter (build/sim-wamr, as on the device).
//
// Method: one run under `valgrind --tool=callgrind
// --toggle-collect=shim_runtime_poll` with the node following no ConfigMap;
// after a warm-up (registration, first status, Lease created) the counters
// are dumped and zeroed (`callgrind_control --dump`), and dumped again after
// the measuring window, so the second dump holds only steady-state polls.
// The core's own instructions are poll's inclusive cost minus the host
// functions it calls (Z_hostZ_* for wasm2c, shim_wamr_<import> for WAMR: TLS
// and sockets are the host's cost, not the core's), divided by the Lease
// renewals the log shows inside the window.
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, SimNode, ROOT } from '../tests/e2e/harness.mjs';
import { out } from './lib.mjs';

if (spawnSync('valgrind', ['--version']).status !== 0) {
  console.error('heartbeat-instructions: SKIPPED, valgrind is not installed (apt-get install valgrind)');
  process.exit(0);
}
const WINDOW_S = Number(process.env.BENCH_CG_WINDOW_S ?? 41);
const IMPORTS = ['log', 'config_get', 'random_fill', 'net_connect', 'net_send', 'net_recv', 'net_close'];
const sims = [
  { runtime: 'wasm2c', bin: path.join(ROOT, 'build/sim/pico-node-sim'), boundary: IMPORTS.map((n) => `Z_hostZ_${n}`) },
  { runtime: 'wamr', bin: path.join(ROOT, 'build/sim-wamr/pico-node-sim'), boundary: IMPORTS.map((n) => `shim_wamr_${n}`) },
].filter((s) => existsSync(s.bin));

const cluster = new Cluster({ name: 'bench-cg', port: 17445 });
const work = path.join(ROOT, 'build/e2e/bench-cg');
mkdirSync(work, { recursive: true });

/** Inclusive Ir per function name from a callgrind output file. */
function inclusive(file) {
  const r = spawnSync('callgrind_annotate', ['--inclusive=yes', '--threshold=100', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const costs = new Map();
  for (const line of r.stdout.split('\n')) {
    const m = /^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(?:\S+:)?([A-Za-z_][\w.]*)/.exec(line);
    if (m) costs.set(m[2], (costs.get(m[2]) ?? 0) + Number(m[1].replace(/,/g, '')));
  }
  return costs;
}

const renewals = (text) => (text.match(/lease: renewed/g) ?? []).length;

async function measure(sim, node) {
  const cg = path.join(work, `callgrind.${sim.runtime}.out`);
  for (const f of readdirSync(work)) if (f.startsWith(`callgrind.${sim.runtime}.out`)) rmSync(path.join(work, f));
  node.logText = '';
  const p = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${cg}`, '--toggle-collect=shim_runtime_poll',
    sim.bin, '--config', node.config, '--log-level', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
  p.stderr.on('data', (d) => { node.logText += d; });
  const exited = new Promise((res) => p.on('exit', res));
  try {
    await node.waitForLog(/lease: (created|renewed)/, 120000);
    await sleep(3000);
    spawnSync('callgrind_control', ['--dump=warmup', String(p.pid)]);
    const before = renewals(node.logText);
    await sleep(WINDOW_S * 1000);
    spawnSync('callgrind_control', ['--dump=window', String(p.pid)]);
    const n = renewals(node.logText) - before;
    const dumps = readdirSync(work).filter((f) => f.startsWith(`callgrind.${sim.runtime}.out.`)).sort();
    const costs = inclusive(path.join(work, dumps[dumps.length - 1]));
    const poll = costs.get('shim_runtime_poll') ?? 0;
    const host = sim.boundary.reduce((a, f) => a + (costs.get(f) ?? 0), 0);
    return { core: poll - host, renewals: n };
  } finally {
    p.kill('SIGTERM');
    await exited;
  }
}

cluster.reset();
cluster.up();
try {
  const creds = cluster.issueNodeCert('pico-cg', path.join(work, 'creds'));
  const node = new SimNode({ name: 'pico-cg', cluster, dir: path.join(work, 'nodes'), ...creds, extra: { 'configmap.names': '' } });
  for (const sim of sims) {
    let r;
    try { r = await measure(sim, node); } catch (e) { console.error(`heartbeat-instructions: ${sim.runtime}: ${e.message.split('\n')[0]}`); continue; }
    if (r.renewals <= 0) { console.error(`heartbeat-instructions: ${sim.runtime}: no renewal inside the window`); continue; }
    out(`core_instructions_per_heartbeat_${sim.runtime}`, Math.round(r.core / r.renewals), 'instructions',
      { method: 'callgrind, steady-state window / Lease renewals in it (one renewal + ~10 idle polls each)', renewals: r.renewals, window_s: WINDOW_S });
  }
  if (!sims.some((s) => s.runtime === 'wamr')) console.error('heartbeat-instructions: WAMR figure SKIPPED (build/sim-wamr missing: set WAMR_ROOT and npm run build:sim)');
} finally {
  cluster.down();
}
