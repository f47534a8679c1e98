// Issue 5 on a k3s-like server: the API server reaches the node's kubelet
// endpoint only through k3s' agent tunnel (a websocket the node opens to
// /v1-k3s/connect, rancher/remotedialer; the control plane's egress selector
// sends kubelet connections into it, tests/cluster tunnel). The node
// advertises an address nothing can dial (TEST-NET-1, RFC 5737) and listens
// on loopback only, so every answer below came through the tunnel; the API
// server's TLS to the kubelet (--kubelet-certificate-authority) runs inside it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Cluster, HOSTED, SimNode, ROOT, until } from './harness.mjs';

const PORT = Number(process.env.PICO_E2E_TUNNEL_PORT || 17453);
const cluster = new Cluster({ name: 'tunnel', port: PORT, agentTunnel: true });
const work = path.join(ROOT, 'build/e2e/tunnel');
const NODE = 'pico-tunnel-a';
const NODE_IP = '192.0.2.77'; // RFC 5737: documentation only, never routed
const KUBELET_PORT = 17454;
/** Connections the endpoint serves at once: 3 in the simulator, 1 on the
 *  hosted board (the device's SHIM_KUBELET_MAX_CONNS). */
const CONNS = HOSTED ? 1 : 3;
let node;
let approver;

function proxied(p) {
  return cluster.kubectl('get', '--raw', `/api/v1/nodes/${NODE}/proxy${p}`);
}

before(async () => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  cluster.reset();
  cluster.up();
  approver = cluster.startApprover(work);
  node = new SimNode({ name: NODE, cluster, dir: path.join(work, 'nodes'), token: cluster.bootstrapToken(), ip: NODE_IP, extra: {
    'kubelet.port': String(KUBELET_PORT),
    'kubelet.address': '127.0.0.1',
    'tunnel.port': String(cluster.tunnelPort),
    'tls.client_ca_file': path.join(cluster.dir, 'data/tls/client-ca.crt'),
  } }).start();
  await cluster.waitReady(NODE, 30000);
  await node.waitForLog(/kubelet: serving HTTPS on port/, 30000);
  await node.waitForLog(/tunnel: open to [\d.]+:\d+ \(k3s agent tunnel\)/, 30000);
});

after(async () => {
  approver?.kill();
  if (node) {
    await node.stop();
    writeFileSync(path.join(work, `${NODE}.log`), node.logText);
  }
  cluster.down();
});

test('node proxy reaches the kubelet endpoint through the tunnel: healthz, pods, metrics', () => {
  assert.equal(proxied('/healthz'), 'ok');
  assert.equal(JSON.parse(proxied('/pods')).kind, 'PodList');
  assert.match(proxied('/metrics'), /^# (HELP|TYPE) /m);
  // The kubelet's own checks still apply inside the tunnel: the API server
  // authenticated with its kubelet client certificate.
  const stats = JSON.parse(proxied('/stats/summary'));
  assert.equal(stats.node.nodeName, NODE);
});

/** `n` kubectl get --raw of healthz at once: [{ ok, out }]. */
function atOnce(n) {
  return Promise.all(Array.from({ length: n }, () => new Promise((res) => {
    const p = spawn('kubectl', ['--kubeconfig', cluster.kubeconfig, 'get', '--raw', `/api/v1/nodes/${NODE}/proxy/healthz`]);
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('exit', (code) => res({ ok: code === 0 && out === 'ok', out }));
  })));
}

test('many requests, one after another and at once, through one tunnel session', async () => {
  for (let i = 0; i < 20; i++) assert.equal(proxied('/healthz'), 'ok');
  // Within the endpoint's connections: all answered.
  for (const r of await atOnce(CONNS)) assert.ok(r.ok, r.out);
  // Beyond them: the rest are refused at once with a clear error (remotedialer
  // Error "too many connections"), nothing hangs, and the tunnel stays up.
  const t0 = Date.now();
  const many = await atOnce(8);
  assert.ok(many.filter((r) => r.ok).length >= CONNS, many.map((r) => r.out).join('\n'));
  for (const r of many.filter((x) => !x.ok)) assert.match(r.out, /too many connections|error|unavailable/i, r.out);
  assert.ok(Date.now() - t0 < 15000, 'refusals are quick');
  assert.equal(proxied('/healthz'), 'ok');
  assert.equal((node.logText.match(/tunnel: open to/g) ?? []).length, 1, 'the tunnel was not reopened');
});

test('without the tunnel the API server cannot reach the node (502), and the node reopens it', async () => {
  // Stop the node: its session ends; node proxy then fails as on k3s.
  await node.stop();
  let failed = '';
  try { proxied('/healthz'); } catch (e) { failed = String(e.stderr ?? e.message); }
  assert.match(failed, /502|Bad Gateway|error dialing|no tunnel|unavailable/i, failed);
  node.start();
  await node.waitForLog(/tunnel: open to .*\n[\s\S]*tunnel: open to/, 30000);
  await until('healthz through the new tunnel', () => { try { return proxied('/healthz') === 'ok'; } catch { return false; } }, 30000);
});
