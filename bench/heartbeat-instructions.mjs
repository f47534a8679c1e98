// Instructions the core spends per heartbeat cycle (10 s of steady state:
// one Lease renewal built, sent and its answer parsed, plus the idle polls),
// counted by callgrind, not timed: under wasm2c (build/sim) and, when built,
// under WAMR's interpreter (build/sim-wamr, as on the device).
//
// Method: run the simulator under `valgrind --tool=callgrind
// --toggle-collect=shim_runtime_poll` for a short and a long window; the
// core's own instructions are poll's inclusive cost minus the host functions
// it calls (Z_hostZ_* for wasm2c, shim_wamr_<import> for WAMR: TLS and
// sockets are the host's cost, not the core's). The per-heartbeat figure is
// the difference between the windows divided by the difference in renewals,
// so registration and start-up cancel out.
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, SimNode, ROOT } from '../tests/e2e/harness.mjs';

const out = (metric, value, unit, extra = {}) => console.log(JSON.stringify({ metric, value, unit, ...extra }));
if (spawnSync('valgrind', ['--version']).status !== 0) {
  console.error('heartbeat-instructions: SKIPPED, valgrind is not installed (apt-get install valgrind)');
  process.exit(0);
}
const SHORT_S = Number(process.env.BENCH_CG_SHORT_S ?? 22);
const LONG_S = Number(process.env.BENCH_CG_LONG_S ?? 52);
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

async function window(sim, node, seconds, tag) {
  const cg = path.join(work, `callgrind.${sim.runtime}.${tag}.out`);
  node.logText = '';
  const p = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${cg}`, '--toggle-collect=shim_runtime_poll',
    sim.bin, '--config', node.config, '--log-level', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
  p.stderr.on('data', (d) => { node.logText += d; });
  const exited = new Promise((res) => p.on('exit', res));
  await sleep(seconds * 1000);
  p.kill('SIGTERM');
  await exited;
  const costs = inclusive(cg);
  const poll = costs.get('shim_runtime_poll') ?? 0;
  const host = sim.boundary.reduce((a, n) => a + (costs.get(n) ?? 0), 0);
  const renewals = (node.logText.match(/lease: renewed/g) ?? []).length;
  return { core: poll - host, renewals };
}

cluster.reset();
cluster.up();
try {
  const creds = cluster.issueNodeCert('pico-cg', path.join(work, 'creds'));
  const node = new SimNode({ name: 'pico-cg', cluster, dir: path.join(work, 'nodes'), ...creds });
  for (const sim of sims) {
    const a = await window(sim, node, SHORT_S, 'short');
    const b = await window(sim, node, LONG_S, 'long');
    const dr = b.renewals - a.renewals;
    if (dr <= 0) { console.error(`heartbeat-instructions: ${sim.runtime}: no extra renewals in the long window`); continue; }
    out(`core_instructions_per_heartbeat_${sim.runtime}`, Math.round((b.core - a.core) / dr), 'instructions',
      { method: 'callgrind, (long - short window) / extra renewals', renewals: [a.renewals, b.renewals] });
  }
  if (!sims.some((s) => s.runtime === 'wamr')) console.error('heartbeat-instructions: WAMR figure SKIPPED (build/sim-wamr missing: set WAMR_ROOT and npm run build:sim)');
} finally {
  cluster.down();
}
