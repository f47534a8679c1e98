// Kubernetes access for the tool: @kubernetes/client-node with the usual
// kubeconfig rules (--kubeconfig, then $KUBECONFIG, then ~/.kube/config).
// Bootstrap tokens are Secrets as the API server's bootstrap authenticator
// reads them (k8s.io/cluster-bootstrap/token/api: type
// bootstrap.kubernetes.io/token in kube-system, named bootstrap-token-<id>).
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { CliError, explain } from './errors.js';
import { APPROVED_REASON, DENIED_REASON, SERVING_SIGNER, isPendingServingCsr, judgeServingCsr, requestingNode, type Judgement, type Verdict } from './approver.js';

export function loadKubeConfig(file?: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  try {
    if (file) kc.loadFromFile(file);
    else kc.loadFromDefault();
  } catch (e) {
    throw new CliError(`cannot read the kubeconfig ${file ?? '(default)'}: ${(e as Error).message}`);
  }
  if (!kc.getCurrentCluster()) throw new CliError(`the kubeconfig ${file ?? '(default)'} has no current cluster; pass --kubeconfig FILE.`);
  return kc;
}

export function serverOf(kc: k8s.KubeConfig): string {
  return kc.getCurrentCluster()?.server ?? '(unknown server)';
}

// Token format (k8s.io/cluster-bootstrap/token/api BootstrapTokenPattern):
// [a-z0-9]{6}.[a-z0-9]{16}.
export const TOKEN_PATTERN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomText(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

/** Parses "90s", "30m", "24h", "7d" into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(text);
  if (!m) throw new CliError(`--ttl ${text} is not a duration such as 30m, 24h or 7d.`);
  const unit = { s: 1000, m: 60000, h: 3600000, d: 86400000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  const ms = Number(m[1]) * unit;
  if (ms <= 0) throw new CliError('--ttl must be longer than zero.');
  return ms;
}

/** Extra group every pico token carries (must start with system:bootstrappers:). */
export const TOKEN_GROUP = 'system:bootstrappers:k3s-pico-node';

export interface CreatedToken { token: string; id: string; expires: string }

export async function createToken(kc: k8s.KubeConfig, ttlMs: number, description: string): Promise<CreatedToken> {
  const api = kc.makeApiClient(k8s.CoreV1Api);
  const id = randomText(6);
  const secret = randomText(16);
  const expires = new Date(Date.now() + ttlMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  await api.createNamespacedSecret({
    namespace: 'kube-system',
    body: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `bootstrap-token-${id}`, namespace: 'kube-system', labels: { 'app.kubernetes.io/managed-by': 'k3s-pico-node' } },
      type: 'bootstrap.kubernetes.io/token',
      stringData: {
        'token-id': id,
        'token-secret': secret,
        expiration: expires,
        description,
        'usage-bootstrap-authentication': 'true',
        'auth-extra-groups': TOKEN_GROUP,
      },
    },
  });
  return { token: `${id}.${secret}`, id, expires };
}

/** Applies every object of a YAML manifest (create, or replace when it exists). */
export async function applyManifest(kc: k8s.KubeConfig, file: string, progress: (s: string) => void): Promise<number> {
  const client = k8s.KubernetesObjectApi.makeApiClient(kc);
  const docs = k8s.loadAllYaml(readFileSync(file, 'utf8')) as k8s.KubernetesObject[];
  let n = 0;
  for (const spec of docs) {
    if (!spec?.kind || !spec.metadata?.name) continue;
    const ref = { apiVersion: spec.apiVersion!, kind: spec.kind, metadata: { name: spec.metadata.name, namespace: spec.metadata.namespace } };
    let exists = true;
    try {
      await client.read(ref as any);
    } catch (e) {
      if ((e as { code?: number }).code === 404) exists = false;
      else throw e;
    }
    if (exists) await client.replace(spec);
    else await client.create(spec);
    progress(`${exists ? 'updated' : 'created'} ${spec.kind} ${spec.metadata.name}`);
    n++;
  }
  return n;
}

// --- kubelet-serving CSR approver: reads CSRs and Nodes, writes verdicts ---
// The rule itself is approver.ts (pure); this part only fetches, reacts to
// changes and writes conditions through the approval subresource.

/** One line per decision ("approved csr-x: ...") to the caller's log. */
export type DecisionLog = (line: string) => void;

const SERVING_FIELD_SELECTOR = `spec.signerName=${SERVING_SIGNER}`;
/** Pending CSRs are judged again at least this often (k0s' approver polls every 10 s). */
export const APPROVER_RECHECK_MS = 10000;
/** Wait before restarting a watch that failed. */
const APPROVER_REWATCH_MS = 5000;
const CONFLICT_RETRIES = 3;

const apiCode = (e: unknown) => (e as { code?: unknown }).code;

async function readNodeOrNull(core: k8s.CoreV1Api, name: string): Promise<k8s.V1Node | null> {
  try {
    return await core.readNode({ name });
  } catch (e) {
    if (apiCode(e) === 404) return null;
    throw e;
  }
}

/** Reads the CSR and its Node afresh, judges, and writes an approve/deny
 *  verdict as a condition through the approval subresource (which needs
 *  the signer's `approve` verb, see the RBAC manifest). A conflict (the CSR
 *  changed meanwhile) is judged again. */
async function decide(certs: k8s.CertificatesV1Api, core: k8s.CoreV1Api, name: string): Promise<Judgement> {
  for (let attempt = 0; ; attempt++) {
    let csr: k8s.V1CertificateSigningRequest;
    try {
      csr = await certs.readCertificateSigningRequest({ name });
    } catch (e) {
      if (apiCode(e) === 404) return { verdict: 'ignore', reason: 'deleted' };
      throw e;
    }
    const nodeName = requestingNode(csr);
    const j = await judgeServingCsr(csr, nodeName ? await readNodeOrNull(core, nodeName) : null);
    if (j.verdict !== 'approve' && j.verdict !== 'deny') return j;
    const approve = j.verdict === 'approve';
    csr.status = { ...csr.status, conditions: [...(csr.status?.conditions ?? []), {
      type: approve ? 'Approved' : 'Denied', status: 'True',
      reason: approve ? APPROVED_REASON : DENIED_REASON,
      message: approve ? `k3s-pico-node approver checked: ${j.reason}.` : `k3s-pico-node approver: ${j.reason}.`,
      lastUpdateTime: new Date(),
    }] };
    try {
      await certs.replaceCertificateSigningRequestApproval({ name, body: csr });
      return j;
    } catch (e) {
      if (apiCode(e) !== 409 || attempt >= CONFLICT_RETRIES) throw e;
    }
  }
}

function decisionLine(name: string, j: Judgement): string {
  const what = { approve: 'approved', deny: 'denied', wait: 'left pending', ignore: 'skipped' }[j.verdict];
  return `${what} ${name}: ${j.reason}`;
}

/** Judges every pending kubelet-serving CSR once, in list order. */
async function judgeAllPending(certs: k8s.CertificatesV1Api, core: k8s.CoreV1Api, onDecision: (name: string, j: Judgement) => void): Promise<void> {
  const list = await certs.listCertificateSigningRequest({ fieldSelector: SERVING_FIELD_SELECTOR });
  for (const csr of list.items) {
    if (!isPendingServingCsr(csr)) continue;
    const name = csr.metadata!.name!;
    onDecision(name, await decide(certs, core, name));
  }
}

/** Judges every pending kubelet-serving CSR once, logs each decision, and
 *  returns how many got each verdict. */
export async function approvePending(kc: k8s.KubeConfig, log: DecisionLog): Promise<Record<Verdict, number>> {
  const counts: Record<Verdict, number> = { approve: 0, deny: 0, wait: 0, ignore: 0 };
  await judgeAllPending(kc.makeApiClient(k8s.CertificatesV1Api), kc.makeApiClient(k8s.CoreV1Api), (name, j) => {
    counts[j.verdict]++;
    log(decisionLine(name, j));
  });
  return counts;
}

/** Runs until `stop` is aborted: one pass over the pending CSRs (so a wrong
 *  kubeconfig fails at once), then watches CSRs and Nodes. A new or changed
 *  CSR is judged at once; a Node change re-judges the pending CSRs of that
 *  node; every APPROVER_RECHECK_MS all pending ones are judged again. A
 *  CSR left pending is logged again only when the reason changes. */
export async function runApprover(kc: k8s.KubeConfig, log: DecisionLog, stop: AbortSignal): Promise<void> {
  const certs = kc.makeApiClient(k8s.CertificatesV1Api);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const waiting = new Map<string, string>(); // CSR name -> last logged wait reason
  const report = (name: string, j: Judgement) => {
    if (j.verdict === 'wait') {
      if (waiting.get(name) === j.reason) return;
      waiting.set(name, j.reason);
    } else {
      waiting.delete(name);
      if (j.verdict === 'ignore') return;
    }
    log(decisionLine(name, j));
  };
  await judgeAllPending(certs, core, report);

  // One CSR at a time, each name queued at most once.
  const queue = new Set<string>();
  let draining = false;
  const enqueue = (name: string) => {
    queue.add(name);
    if (!draining) void drain();
  };
  const drain = async () => {
    draining = true;
    while (queue.size && !stop.aborted) {
      const name = queue.values().next().value as string;
      queue.delete(name);
      try {
        report(name, await decide(certs, core, name));
      } catch (e) {
        log(explain(e, `judging ${name}`, serverOf(kc)));
      }
    }
    draining = false;
  };

  const csrs = new k8s.ListWatch<k8s.V1CertificateSigningRequest>('/apis/certificates.k8s.io/v1/certificatesigningrequests',
    new k8s.Watch(kc), () => certs.listCertificateSigningRequest({ fieldSelector: SERVING_FIELD_SELECTOR }), false, undefined, SERVING_FIELD_SELECTOR);
  const nodes = new k8s.ListWatch<k8s.V1Node>('/api/v1/nodes', new k8s.Watch(kc), () => core.listNode(), false);
  const pending = () => csrs.list().filter((c) => isPendingServingCsr(c));
  const onCsr = (c: k8s.V1CertificateSigningRequest) => {
    if (isPendingServingCsr(c)) enqueue(c.metadata!.name!);
    else waiting.delete(c.metadata!.name!);
  };
  const onNode = (n: k8s.V1Node) => {
    for (const c of pending()) if (requestingNode(c) === n.metadata?.name) enqueue(c.metadata!.name!);
  };
  csrs.on('add', onCsr);
  csrs.on('update', onCsr);
  csrs.on('delete', (c) => waiting.delete(c.metadata!.name!));
  nodes.on('add', onNode);
  nodes.on('update', onNode);
  // A watch that fails (API server restarting, network) stops; start it again.
  const timers = new Set<NodeJS.Timeout>();
  for (const [what, inf] of [['CSRs', csrs], ['Nodes', nodes]] as const) {
    inf.on('error', (e) => {
      if (stop.aborted) return;
      log(`${explain(e, `watching ${what}`, serverOf(kc))} (retrying in ${APPROVER_REWATCH_MS / 1000} s)`);
      const t = setTimeout(() => { timers.delete(t); if (!stop.aborted) void inf.start(); }, APPROVER_REWATCH_MS);
      timers.add(t);
    });
  }
  const tick = setInterval(() => { for (const c of pending()) enqueue(c.metadata!.name!); }, APPROVER_RECHECK_MS);

  await new Promise<void>((resolve) => {
    if (stop.aborted) return resolve();
    stop.addEventListener('abort', () => resolve(), { once: true });
    void csrs.start();
    void nodes.start();
  });
  clearInterval(tick);
  for (const t of timers) clearTimeout(t);
  await csrs.stop();
  await nodes.stop();
}
