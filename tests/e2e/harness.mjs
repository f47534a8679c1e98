// End-to-end harness: the real control plane (tests/cluster), real kubectl
// built from the same Kubernetes version, and the real simulator
// (build/sim/pico-node-sim) running build/core.wasm. Nothing is mocked.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { crc32, readLayout } from '../../tools/uf2/uf2.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The simulator under test: wasm2c by default; PICO_SIM picks another build
 *  (build/sim-wamr/pico-node-sim runs the core under WAMR, as the device). */
export const SIM = process.env.PICO_SIM ? path.resolve(process.env.PICO_SIM) : path.join(ROOT, 'build/sim/pico-node-sim');
const CLUSTER_SH = path.join(ROOT, 'tests/cluster/cluster.sh');
const LAYOUT = readLayout();
/** The hosted board (scripts/test-hosted.sh: the firmware's code, PICO_SIM
 *  scripts/pico-hosted.mjs) reaches the API server at the cluster's extra
 *  address and takes its own address from its lease, not from node.ip. */
export const HOSTED = path.basename(SIM) === 'pico-hosted.mjs' && Boolean(process.env.PICO_CLUSTER_EXTRA_ADDRESS);
/** Where nodes reach the API server. */
export const API_HOST = HOSTED ? process.env.PICO_CLUSTER_EXTRA_ADDRESS : '127.0.0.1';

/** A control plane of its own for a test file: own data dir and port, so the
 *  demo's cluster (.cluster/) is never touched. */
export class Cluster {
  /** `agentTunnel`: k3s' agent tunnel on `tunnelPort` (port + 4000), the
   *  API server's only way to kubelets, as on k3s (tests/cluster/README.md);
   *  without it, the API server dials kubelets directly. */
  constructor({ name, port, env = {}, agentTunnel = false }) {
    this.dir = path.join(ROOT, 'build/e2e', name, 'cluster');
    this.port = port;
    this.agentTunnel = agentTunnel;
    this.env = { ...process.env, PICO_CLUSTER_DIR: this.dir, PICO_CLUSTER_PORT: String(port), ...env };
    this.env.PICO_CLUSTER_AGENT_TUNNEL_PORT = String(this.tunnelPort ?? 0);
  }
  /** wss://127.0.0.1:<tunnelPort>/v1-k3s/connect; undefined without the tunnel. */
  get tunnelPort() { return this.agentTunnel ? this.port + 4000 : undefined; }
  get kubeconfig() { return path.join(this.dir, 'admin.kubeconfig'); }
  /** Client certificate, key and server CA of the admin kubeconfig (embedded data). */
  adminTls() {
    const kc = readFileSync(this.kubeconfig, 'utf8');
    const field = (k) => Buffer.from(new RegExp(`${k}:\\s*(\\S+)`).exec(kc)[1], 'base64');
    return { cert: field('client-certificate-data'), key: field('client-key-data'), ca: readFileSync(this.serverCA) };
  }
  get serverCA() { return path.join(this.dir, 'server-ca.crt'); }
  /** Builds the CLI and starts `k3s-pico-node approver` as the shipped ServiceAccount
   *  (manifests/pico-serving-approver-rbac.yaml, least privilege), its
   *  kubeconfig written into `dir`; returns the process, stderr in `.log`. */
  startApprover(dir) {
    execFileSync('npx', ['tsc', '-p', 'cli'], { cwd: ROOT, stdio: 'inherit' });
    this.kubectl('apply', '-f', path.join(ROOT, 'manifests/pico-serving-approver-rbac.yaml'));
    const token = this.kubectl('create', 'token', 'k3s-pico-node-approver', '-n', 'kube-system', '--duration', '1h').trim();
    const kc = path.join(dir, 'approver.kubeconfig');
    writeFileSync(kc, [
      'apiVersion: v1', 'kind: Config',
      `clusters: [{name: c, cluster: {server: "https://127.0.0.1:${this.port}", certificate-authority: "${this.serverCA}"}}]`,
      `users: [{name: u, user: {token: "${token}"}}]`,
      'contexts: [{name: x, context: {cluster: c, user: u}}]', 'current-context: x', '',
    ].join('\n'));
    const p = spawn('node', [path.join(ROOT, 'build/cli/main.js'), 'approver', '--kubeconfig', kc], { stdio: ['ignore', 'ignore', 'pipe'] });
    p.log = '';
    p.stderr.on('data', (d) => { p.log += d.toString(); });
    return p;
  }
  sh(...args) {
    const r = spawnSync('bash', [CLUSTER_SH, ...args], { env: this.env, encoding: 'utf8', timeout: 20 * 60 * 1000 });
    if (r.status !== 0) throw new Error(`cluster.sh ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }
  /** Starts the control plane; when its port is taken (another suite or
   *  a developer's cluster), moves to the next free one, so SimNodes must be
   *  made after up(). */
  up() {
    for (let i = 0; ; i++) {
      try {
        return this.sh('up');
      } catch (e) {
        if (i >= 20 || !/already in use/.test(e.message)) throw e;
        this.port += 1;
        this.env.PICO_CLUSTER_PORT = String(this.port);
        this.env.PICO_CLUSTER_AGENT_TUNNEL_PORT = String(this.tunnelPort ?? 0);
      }
    }
  }
  down() { return this.sh('down'); }
  reset() { return this.sh('reset'); }
  /** Runs kubectl as system:admin; returns stdout, throws with stderr on failure. */
  kubectl(...args) {
    return execFileSync('bash', [CLUSTER_SH, 'kubectl', ...args], { env: this.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }
  kubectlJSON(...args) { return JSON.parse(this.kubectl(...args, '-o', 'json')); }
  tryKubectlJSON(...args) {
    try { return this.kubectlJSON(...args); } catch { return null; }
  }
  /** Waits until Node <name> is Ready=True; returns the Node. */
  waitReady(name, timeoutMs = 30000) {
    return until(`${name} Ready=True`, () => {
      const node = this.tryKubectlJSON('get', 'node', name);
      return readyCondition(node)?.status === 'True' ? node : null;
    }, timeoutMs);
  }
  /** Creates a bootstrap token (a `bootstrap-token-<id>` Secret in
   *  kube-system, the format kubeadm and `k3s-pico-node token create` write)
   *  that may authenticate and sign nothing else; returns "<id>.<secret>". */
  bootstrapToken(ttlSeconds = 3600) {
    const rnd = (n) => Array.from(randomBytes(n), (b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('');
    const id = rnd(6);
    const secret = rnd(16);
    const expiration = new Date(Date.now() + ttlSeconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    const manifest = {
      apiVersion: 'v1', kind: 'Secret', type: 'bootstrap.kubernetes.io/token',
      metadata: { name: `bootstrap-token-${id}`, namespace: 'kube-system' },
      stringData: { 'token-id': id, 'token-secret': secret, expiration, 'usage-bootstrap-authentication': 'true' },
    };
    this.apply(manifest);
    return `${id}.${secret}`;
  }
  /** kubectl apply of one object (as JSON) as system:admin. */
  apply(object) {
    execFileSync('bash', [CLUSTER_SH, 'kubectl', 'apply', '-f', '-'], { env: this.env, input: JSON.stringify(object), stdio: ['pipe', 'ignore', 'pipe'] });
  }
  /** Issues a client certificate for system:node:<name> from the client CA
   *  (test tooling standing in for the join of issue 6). */
  issueNodeCert(name, outDir, ...extra) {
    mkdirSync(outDir, { recursive: true });
    this.sh('issue-node-cert', name, outDir, ...extra);
    return { cert: path.join(outDir, `${name}.crt`), key: path.join(outDir, `${name}.key`) };
  }
}

/** This machine's first IPv4 address that is neither loopback nor
 *  link-local, or undefined: a simulated node the API server's node proxy
 *  must reach needs one (k8s.io/apimachinery/pkg/util/proxy IsProxyableIP
 *  refuses those two). */
export function hostAddress() {
  return Object.values(os.networkInterfaces()).flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal && !a.address.startsWith('169.254.'))?.address;
}

/** One simulated Pico: a config file and a running pico-node-sim process. */
export class SimNode {
  /** With `token` the node joins as a real one does: its own key, a CSR
   *  authenticated by the bootstrap token (state in <dir>/<name>.state);
   *  with `cert`/`key` it uses an identity made beforehand. */
  constructor({ name, cluster, dir, ca, cert, key, token, ip = '127.0.0.1', extra = {}, env = {} }) {
    this.name = name;
    this.ip = ip;
    this.env = env;
    this.dir = dir;
    this.logText = '';
    mkdirSync(dir, { recursive: true });
    const lines = {
      'node.name': name,
      'server.host': API_HOST,
      'server.port': String(cluster.port),
      'node.ip': ip,
      'tls.ca_file': ca ?? cluster.serverCA,
      ...(token ? { 'bootstrap.token': token } : { 'tls.cert_file': cert, 'tls.key_file': key }),
      ...extra,
    };
    this.config = path.join(dir, `${name}.conf`);
    writeFileSync(this.config, Object.entries(lines).map(([k, v]) => `${k} = ${v}`).join('\n') + '\n');
  }
  /** The address the node advertises: node.ip, or on the hosted board its
   *  lease (scripts/pico-hosted.mjs writes it next to the config). */
  address() {
    return HOSTED ? readFileSync(`${this.config}.lease`, 'utf8').trim() : this.ip;
  }
  start(args = []) {
    if (!existsSync(SIM)) throw new Error(`${SIM} missing: run npm run build:sim`);
    this.proc = spawn(SIM, ['--config', this.config, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...this.env } });
    this.exited = new Promise((res) => this.proc.on('exit', (code, sig) => res({ code, sig })));
    const onData = (d) => {
      this.logText += d.toString();
      if (process.env.E2E_VERBOSE) process.stderr.write(d.toString().replace(/^/gm, `${this.name}| `));
    };
    this.proc.stdout.on('data', onData);
    this.proc.stderr.on('data', onData);
    return this;
  }
  async stop(signal = 'SIGTERM') {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode) return this.exited;
    this.proc.kill(signal);
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    const r = await this.exited;
    clearTimeout(t);
    return r;
  }
  /** The last `--stats` JSON line the simulator printed ({} if none). */
  stats() {
    return JSON.parse(this.logText.split('\n').filter((l) => l.startsWith('{')).pop() ?? '{}');
  }
  /** CPU seconds (user + system) the running node has used: the simulator,
   *  or the hosted board under its wrapper (proc(5): /proc/PID/stat fields
   *  14 and 15 in clock ticks, 100 a second on Linux; .../children). */
  cpuSeconds() {
    const ticks = (pid) => {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return Number(f[11]) + Number(f[12]);
    };
    const pid = this.proc.pid;
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return [pid, ...kids].reduce((t, p) => t + ticks(p), 0) / 100;
  }
  /** Peak resident memory of the running simulator (VmHWM), in bytes. */
  peakRss() {
    return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.proc.pid}/status`, 'utf8'))[1]) * 1024;
  }
  /** Established TCP connections from the node to `port` on any address:
   *  the simulator's sockets (its fds matched by inode), or, the hosted
   *  board's living in its lwIP, this machine's sockets on `port` whose peer
   *  is the board's address. */
  tcpConnectionsTo(port) {
    if (HOSTED) {
      const board = Buffer.from(this.address().split('.').map(Number)).readUInt32LE(0).toString(16).toUpperCase().padStart(8, '0');
      return establishedTcp().filter((c) => c.localPort === port && c.remoteAddr === board).length;
    }
    const inodes = new Set();
    const fdDir = `/proc/${this.proc.pid}/fd`;
    for (const fd of readdirSync(fdDir)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(path.join(fdDir, fd)));
        if (m) inodes.add(m[1]);
      } catch { /* closed meanwhile */ }
    }
    return establishedTcp().filter((c) => c.remotePort === port && inodes.has(c.inode)).length;
  }
  /** The device memory the node saved: the simulator's file, or on the
   *  hosted board the newest valid slot in its flash (port/pico/devmem.c). */
  devmem() {
    if (HOSTED) return hostedDevmem(`${this.config}.flash`);
    const f = path.join(this.dir, `${this.name}.devmem`);
    return existsSync(f) ? readFileSync(f) : null;
  }
  async waitForLog(re, timeoutMs = 30000) {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const m = this.logText.match(re);
      if (m) return m;
      await sleep(100);
    }
    throw new Error(`${this.name}: no log line matching ${re} within ${timeoutMs} ms; log:\n${this.logText.slice(-3000)}`);
  }
}

/** This machine's ESTABLISHED TCP sockets from /proc/net/tcp{,6} (proc(5):
 *  sl local_address rem_address st ... inode; addresses as hex, IPv4 in
 *  little-endian order; st 01 = ESTABLISHED). */
function establishedTcp() {
  const rows = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '01') continue;
      const [local, remote] = [f[1].split(':'), f[2].split(':')];
      rows.push({ localPort: parseInt(local[1], 16), remoteAddr: remote[0], remotePort: parseInt(remote[1], 16), inode: f[9] });
    }
  }
  return rows;
}

/** The image of the newest valid device-memory slot in a flash image
 *  (flash_layout.h FLASH_DEVMEM_*), or null. */
function hostedDevmem(flashPath) {
  if (!existsSync(flashPath)) return null;
  const flash = readFileSync(flashPath);
  let best = null;
  for (let slot = 0; slot < 2; slot++) {
    const p = LAYOUT.DEVMEM_OFFSET + slot * LAYOUT.SECTOR_BYTES;
    const h = (i) => flash.readUInt32LE(p + 4 * i);
    const len = h(2);
    if (h(0) !== LAYOUT.DEVMEM_MAGIC || len > LAYOUT.SECTOR_BYTES - LAYOUT.DEVMEM_HEADER_BYTES) continue;
    const img = flash.subarray(p + LAYOUT.DEVMEM_HEADER_BYTES, p + LAYOUT.DEVMEM_HEADER_BYTES + len);
    if (crc32(img) !== h(3)) continue;
    if (best === null || ((h(1) - best.seq) | 0) > 0) best = { seq: h(1), img: Buffer.from(img) };
  }
  return best?.img ?? null;
}

export function readyCondition(node) {
  return node?.status?.conditions?.find((c) => c.type === 'Ready');
}

/** Polls fn until it returns a truthy value or the timeout passes. */
export async function until(what, fn, timeoutMs = 60000, stepMs = 250) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    await sleep(stepMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)?.slice(0, 500)}`);
}

export function readFile(p) { return readFileSync(p, 'utf8'); }
