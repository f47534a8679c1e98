#!/usr/bin/env node
// k3s-pico-node: the human side of joining Pico nodes (issue 6).
//
//   k3s-pico-node token create [--ttl 24h] [--nodes N] [--description TEXT] [--kubeconfig F]
//   k3s-pico-node rbac apply [--kubeconfig F]
//   k3s-pico-node config write --node NAME --server https://HOST:PORT --ca FILE --token T
//       [--node-ip IP] [--wifi-ssid S --wifi-password P] [--country GB] (--uf2 OUT.uf2 | --sim OUT.conf)
//       [--client-ca FILE] (the kubelet endpoint's client CA)
//   k3s-pico-node approver [--kubeconfig F] [--once]
//       approves the nodes' kubelet-serving CSRs by k0s' rule (approver.ts);
//       least-privilege RBAC for it: manifests/pico-serving-approver-rbac.yaml
//
// Progress goes to stderr, results (tokens, file names) to stdout; every
// failure is one sentence on stderr and exit status 1 (2 for usage).
import { parseArgs } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError, explain } from './errors.js';
import { applyManifest, approvePending, createToken, loadKubeConfig, parseDuration, runApprover, serverOf } from './kube.js';
import { NodeSettings, writeConfigUf2, writeSimConfig } from './nodeconfig.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The shipped RBAC manifest (manifests/), from build/cli/ or cli/src/. */
export const RBAC_MANIFEST = path.resolve(HERE, '../../manifests/node-bootstrap-rbac.yaml');

const USAGE = `usage:
  k3s-pico-node token create [--ttl 24h] [--nodes N] [--description TEXT] [--kubeconfig FILE]
  k3s-pico-node rbac apply [--kubeconfig FILE]
  k3s-pico-node config write --node NAME --server https://HOST:PORT --ca FILE --token TOKEN
      [--node-ip IP] [--wifi-ssid SSID --wifi-password PASS] [--country CC] (--uf2 OUT.uf2 | --sim OUT.conf)
      [--client-ca FILE]  (the cluster's client CA, for the node's kubelet endpoint)
  k3s-pico-node approver [--kubeconfig FILE] [--once]
      approve kubelet-serving CSRs of nodes whose SANs are their Node's addresses;
      --once judges the pending ones and exits, otherwise it keeps watching`;

const progress = (s: string) => process.stderr.write(`k3s-pico-node: ${s}\n`);

async function tokenCreate(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: {
    ttl: { type: 'string', default: '24h' }, nodes: { type: 'string', default: '1' },
    description: { type: 'string' }, kubeconfig: { type: 'string' },
  } });
  const ttl = parseDuration(values.ttl!);
  const n = Number(values.nodes);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new CliError(`--nodes ${values.nodes} must be a whole number from 1 to 1000.`);
  const kc = loadKubeConfig(values.kubeconfig);
  const server = serverOf(kc);
  for (let i = 0; i < n; i++) {
    const doing = `creating bootstrap token ${i + 1}/${n} on ${server}`;
    progress(doing);
    try {
      const t = await createToken(kc, ttl, values.description ?? `k3s-pico-node join token ${i + 1}/${n}`);
      process.stdout.write(`${t.token}\n`);
      progress(`token ${t.id} valid until ${t.expires}`);
    } catch (e) {
      throw new CliError(explain(e, doing, server));
    }
  }
}

async function rbacApply(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { kubeconfig: { type: 'string' } } });
  const kc = loadKubeConfig(values.kubeconfig);
  const server = serverOf(kc);
  const doing = `applying the node bootstrap RBAC to ${server}`;
  progress(doing);
  try {
    const n = await applyManifest(kc, RBAC_MANIFEST, progress);
    progress(`${n} objects applied`);
  } catch (e) {
    throw new CliError(explain(e, doing, server));
  }
}

// Decisions go to stderr, one line each; with --once a summary goes to stdout.
async function approver(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { kubeconfig: { type: 'string' }, once: { type: 'boolean', default: false } } });
  const kc = loadKubeConfig(values.kubeconfig);
  const server = serverOf(kc);
  const doing = `judging kubelet-serving CSRs on ${server}`;
  try {
    if (values.once) {
      const n = await approvePending(kc, progress);
      process.stdout.write(`approved ${n.approve}, denied ${n.deny}, pending ${n.wait}\n`);
      return;
    }
    progress(`${doing} (watching; Ctrl-C stops)`);
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      await runApprover(kc, progress, stop.signal);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    progress('stopped');
  } catch (e) {
    throw new CliError(explain(e, doing, server));
  }
}

function configWrite(args: string[]): void {
  const { values } = parseArgs({ args, options: {
    node: { type: 'string' }, server: { type: 'string' }, ca: { type: 'string' }, token: { type: 'string' },
    'client-ca': { type: 'string' }, 'node-ip': { type: 'string' }, 'wifi-ssid': { type: 'string' }, 'wifi-password': { type: 'string' },
    country: { type: 'string' }, uf2: { type: 'string' }, sim: { type: 'string' },
  } });
  for (const k of ['node', 'server', 'ca', 'token'] as const) {
    if (!values[k]) throw new CliError(`config write needs --${k}.`, 2);
  }
  if (!values.uf2 === !values.sim) throw new CliError('config write needs exactly one of --uf2 OUT.uf2 or --sim OUT.conf.', 2);
  const s: NodeSettings = {
    node: values.node!, server: values.server!, caFile: values.ca!, clientCaFile: values['client-ca'], token: values.token,
    nodeIp: values['node-ip'] ?? (values.sim ? '127.0.0.1' : undefined),
    wifiSsid: values['wifi-ssid'], wifiPassword: values['wifi-password'], country: values.country,
  };
  try {
    if (values.sim) {
      const w = writeSimConfig(s, values.sim);
      progress(`wrote ${w.config} and ${w.ca} (run: pico-node-sim --config ${w.config})`);
      process.stdout.write(`${w.config}\n`);
    } else {
      const n = writeConfigUf2(s, values.uf2!);
      progress(`wrote ${values.uf2} (${n} bytes): copy it to the Pico in BOOTSEL mode after the firmware`);
      process.stdout.write(`${values.uf2}\n`);
    }
  } catch (e) {
    throw new CliError(explain(e, 'writing the configuration'));
  }
}

export async function main(argv: string[]): Promise<number> {
  const [a, b, ...rest] = argv;
  try {
    if (a === 'token' && b === 'create') await tokenCreate(rest);
    else if (a === 'rbac' && b === 'apply') await rbacApply(rest);
    else if (a === 'config' && b === 'write') configWrite(rest);
    else if (a === 'approver') await approver(argv.slice(1));
    else {
      process.stderr.write(`${USAGE}\n`);
      return 2;
    }
    return 0;
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`k3s-pico-node: ${e.message}\n`);
      return e.exitCode;
    }
    // parseArgs' own errors (unknown option, missing value) are usage errors.
    const code = (e as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`k3s-pico-node: ${(e as Error).message}\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`k3s-pico-node: ${explain(e, a ? `${a} ${b ?? ''}`.trim() : 'the command')}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
