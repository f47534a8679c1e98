// Kubernetes access for the tool: @kubernetes/client-node with the usual
// kubeconfig rules (--kubeconfig, then $KUBECONFIG, then ~/.kube/config).
// Bootstrap tokens are Secrets as the API server's bootstrap authenticator
// reads them (k8s.io/cluster-bootstrap/token/api: type
// bootstrap.kubernetes.io/token in kube-system, named bootstrap-token-<id>).
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { CliError } from './errors.js';

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
