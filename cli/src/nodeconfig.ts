// A node's configuration: the simulator's `key = value` file (firmware-shim
// src/config.c) and the same text as a UF2 for the device's config region
// (tools/uf2/uf2.mjs builds the image from that file; the Wi-Fi password and
// the CA bundle go into TLV records the core cannot read).
import { createHash, X509Certificate } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
// @ts-ignore: a JavaScript module of this repository (tools/uf2/uf2.mjs)
import { configImageFromText, configUf2 } from '../../tools/uf2/uf2.mjs';
import { CliError } from './errors.js';
import { TOKEN_PATTERN } from './kube.js';

export interface NodeSettings {
  node: string;
  server: string;
  caFile: string;
  /** The cluster's client CA: the kubelet endpoint trusts client
   *  certificates it signed (the API server's, metrics-server's). */
  clientCaFile?: string;
  token?: string;
  nodeIp?: string;
  wifiSsid?: string;
  wifiPassword?: string;
  country?: string;
}

// A node name is a DNS subdomain and a label value (<= 63 bytes): the Lease
// and the kubernetes.io/hostname label carry it.
const NODE_NAME = /^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/;

/** Validates a CA bundle (PEM certificates); returns "sha256:<hex>" of its bytes,
 *  the form server.ca_hash takes (kubeadm's discovery-token-ca-cert-hash hashes
 *  the public key instead; the device hashes the file it has, so this does too). */
export function caHash(caFile: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(caFile);
  } catch (e) {
    throw new CliError(`cannot read the CA bundle ${caFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
  }
  const pems = bytes.toString('utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!pems) throw new CliError(`${caFile} holds no PEM certificate; pass the cluster's server CA bundle.`);
  for (const p of pems) {
    try {
      const c = new X509Certificate(p);
      if (!c.ca) throw new CliError(`${caFile} holds a certificate that is not a CA (${c.subject.replace(/\n/g, ', ')}).`);
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new CliError(`${caFile} holds a certificate that does not parse: ${(e as Error).message}.`);
    }
  }
  return 'sha256:' + createHash('sha256').update(bytes).digest('hex');
}

function parseServer(url: string): { host: string; port: number } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CliError(`--server ${url} is not a URL such as https://192.168.1.10:6443.`);
  }
  if (u.protocol !== 'https:') throw new CliError(`--server must be https:// (the node always verifies the server), not ${u.protocol}//.`);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : 6443 };
}

/** The config text; `caPath` is what tls.ca_file names, `clientCaPath`
 *  what tls.client_ca_file names (none without one). */
export function configText(s: NodeSettings, caPath: string, clientCaPath?: string): string {
  if (!NODE_NAME.test(s.node)) throw new CliError(`--node ${s.node} is not a valid node name (lowercase letters, digits, '-' and '.', at most 63).`);
  if (s.token !== undefined && !TOKEN_PATTERN.test(s.token)) {
    throw new CliError('--token is not a bootstrap token of the form abcdef.0123456789abcdef (create one with `token create`).');
  }
  if ((s.wifiSsid === undefined) !== (s.wifiPassword === undefined)) throw new CliError('--wifi-ssid and --wifi-password go together.');
  if (s.wifiPassword !== undefined && !/^[\x20-\x7e]{8,63}$/.test(s.wifiPassword)) {
    throw new CliError('--wifi-password must be 8 to 63 printable ASCII characters (WPA2 passphrase).');
  }
  if (s.country !== undefined && !/^[A-Z]{2}$/.test(s.country)) throw new CliError(`--country ${s.country} is not a two-letter country code such as GB.`);
  const { host, port } = parseServer(s.server);
  const hash = caHash(s.caFile);
  if (s.clientCaFile !== undefined) caHash(s.clientCaFile); // the same checks: PEM CA certificates
  const lines: [string, string | undefined][] = [
    ['node.name', s.node],
    ['server.host', host],
    ['server.port', String(port)],
    ['node.ip', s.nodeIp],
    ['tls.ca_file', caPath],
    ['tls.client_ca_file', clientCaPath],
    ['server.ca_hash', hash],
    ['bootstrap.token', s.token],
    ['wifi.ssid', s.wifiSsid],
    ['wifi.password', s.wifiPassword],
    ['wifi.country', s.country],
  ];
  for (const [k, v] of lines) {
    if (v !== undefined && (/[\r\n]/.test(v) || v.length > 255)) throw new CliError(`the value for ${k} must be one line of at most 255 bytes.`);
  }
  return '# k3s-pico-node configuration, written by `k3s-pico-node config write`.\n' +
    '# It holds a bootstrap token and maybe a Wi-Fi password: keep it private.\n' +
    lines.filter(([, v]) => v !== undefined).map(([k, v]) => `${k} = ${v}`).join('\n') + '\n';
}

/** Writes the simulator's config file and the CA bundle beside it. */
export function writeSimConfig(s: NodeSettings, out: string): { config: string; ca: string } {
  const dir = path.dirname(path.resolve(out));
  const caName = `${path.basename(out).replace(/\.[^.]*$/, '')}-ca.pem`;
  const clientCaName = s.clientCaFile === undefined ? undefined : `${path.basename(out).replace(/\.[^.]*$/, '')}-client-ca.pem`;
  const text = configText(s, caName, clientCaName);
  copyFileSync(s.caFile, path.join(dir, caName));
  if (clientCaName !== undefined) copyFileSync(s.clientCaFile!, path.join(dir, clientCaName));
  writeFileSync(out, text, { mode: 0o600 });
  return { config: out, ca: path.join(dir, caName) };
}

/** Writes the UF2 for the device's config region: the text the simulator
 *  gets, the CA bundles (named where they are) as TLV records. */
export function writeConfigUf2(s: NodeSettings, out: string): number {
  const caPath = path.resolve(s.caFile);
  const clientCaPath = s.clientCaFile === undefined ? undefined : path.resolve(s.clientCaFile);
  const uf2: Uint8Array = configUf2(configImageFromText(configText(s, caPath, clientCaPath), path.dirname(caPath)));
  writeFileSync(out, uf2);
  return uf2.length;
}
