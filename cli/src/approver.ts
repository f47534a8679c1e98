// The rule for approving kubelet-serving CSRs (K8S-NOTES "Serving
// certificates", the k0s-style rule). Upstream Kubernetes never approves
// kubernetes.io/kubelet-serving CSRs itself. Here the CSR must be of the
// shape the signer accepts (k8s.io/kubernetes pkg/apis/certificates/
// helpers.go ValidateKubeletServingCSR: O=system:nodes, CN=system:node:<n>,
// DNS/IP SANs only, at least one), it must come from that very node, and
// every name it asks for must already be one of the Node's status.addresses.
//
// judgeServingCsr is pure: no API calls, no clock. The watch loop that feeds
// it and writes its verdicts lives in kube.ts.
import 'reflect-metadata'; // @peculiar/x509 (through tsyringe) needs it loaded first
import { createPublicKey, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

/** The signer whose CSRs this approver judges (certificates.k8s.io/v1 KubeletServingSignerName). */
export const SERVING_SIGNER = 'kubernetes.io/kubelet-serving';
export const APPROVED_REASON = 'PicoServingCSRApproved';
export const DENIED_REASON = 'PicoServingCSRDenied';

const NODE_USER_PREFIX = 'system:node:';
const NODES_GROUP = 'system:nodes';
// Usages the kubelet-serving signer can issue (ValidateKubeletServingCSR's
// kubeletServingRequiredUsages); server auth is what makes it a serving cert.
const ALLOWED_USAGES = ['digital signature', 'key encipherment', 'server auth'];
const REQUIRED_USAGE = 'server auth';
const MIN_RSA_BITS = 2048;
const OID_SUBJECT_ALT_NAME = '2.5.29.17'; // RFC 5280 4.2.1.6

/** The parts of a certificates.k8s.io/v1 CertificateSigningRequest the rule reads. */
export interface CsrLike {
  metadata?: { name?: string };
  spec: { signerName?: string; username?: string; groups?: string[]; usages?: string[]; request: string };
  status?: { conditions?: { type: string }[] };
}

/** The parts of a v1 Node the rule reads. */
export interface NodeLike {
  metadata?: { name?: string };
  status?: { addresses?: { type: string; address: string }[] };
}

/** approve / deny: write that condition; wait: leave pending and re-check
 *  when the Node changes; ignore: not ours (other signer, already decided). */
export type Verdict = 'approve' | 'deny' | 'wait' | 'ignore';
export interface Judgement { verdict: Verdict; reason: string }

/** True when the CSR is for the kubelet-serving signer and nobody has approved or denied it. */
export function isPendingServingCsr(csr: CsrLike): boolean {
  return csr.spec.signerName === SERVING_SIGNER &&
    !(csr.status?.conditions ?? []).some((c) => c.type === 'Approved' || c.type === 'Denied');
}

/** The node name a CSR was requested by ("" when the requester is not a node). */
export function requestingNode(csr: CsrLike): string {
  const user = csr.spec.username ?? '';
  return user.startsWith(NODE_USER_PREFIX) ? user.slice(NODE_USER_PREFIX.length) : '';
}

/** Judges a kubelet-serving CSR against the Node its requester names (null:
 *  no such Node). Async only because the signature check uses WebCrypto. */
export async function judgeServingCsr(csr: CsrLike, node: NodeLike | null): Promise<Judgement> {
  const deny = (reason: string): Judgement => ({ verdict: 'deny', reason });
  if (csr.spec.signerName !== SERVING_SIGNER) return { verdict: 'ignore', reason: `signer ${csr.spec.signerName ?? '(none)'} is not ${SERVING_SIGNER}` };
  if (!isPendingServingCsr(csr)) return { verdict: 'ignore', reason: 'already approved or denied' };

  // Who asked: a node (the API server fills in spec.username and groups).
  const name = requestingNode(csr);
  if (!name) return deny(`requested by ${csr.spec.username ?? '(nobody)'}, not by a node (system:node:<name>)`);

  // What was asked: a well-formed, self-signed PKCS#10 request.
  let req: x509.Pkcs10CertificateRequest;
  try {
    req = parseRequest(csr.spec.request);
  } catch (e) {
    return deny(`spec.request is not a PEM certificate request (${(e as Error).message})`);
  }
  let signed = false;
  try {
    signed = await req.verify();
  } catch { /* an algorithm WebCrypto cannot check counts as not verified */ }
  if (!signed) return deny('the request\'s signature does not verify with its own public key');

  // Subject: exactly CN=system:node:<name>, O=system:nodes, nothing else.
  // (NodeRestriction's admitCSR already refuses another node's CN when a
  // real node creates the CSR; it does not look at requesters outside
  // system:nodes, such as a user merely named system:node:x.)
  const subject = subjectAttributes(req);
  const want = `${NODE_USER_PREFIX}${name}`;
  const cn = subject.filter(([t]) => t === 'CN').map(([, v]) => v);
  const o = subject.filter(([t]) => t === 'O').map(([, v]) => v);
  if (subject.length !== 2 || cn.length !== 1 || o.length !== 1 || cn[0] !== want || o[0] !== NODES_GROUP) {
    return deny(`the subject is "${req.subject}" but must be exactly CN=${want}, O=${NODES_GROUP} (the requesting node)`);
  }
  // The requester is in the nodes group, as a node's credential puts it.
  if (!(csr.spec.groups ?? []).includes(NODES_GROUP)) return deny(`the requester ${csr.spec.username} is not in group ${NODES_GROUP}`);

  // Key: what the device makes (P-256) or a strong RSA key.
  const key = keyDescription(req);
  if (!key.ok) return deny(`the key is ${key.text}; only ECDSA P-256 or RSA of at least ${MIN_RSA_BITS} bits is accepted`);

  // Usages (spec.usages is what the signer issues).
  const usages = csr.spec.usages ?? [];
  const extra = usages.filter((u) => !ALLOWED_USAGES.includes(u));
  if (extra.length) return deny(`usage ${extra.join(', ')} is not allowed in a serving certificate (allowed: ${ALLOWED_USAGES.join(', ')})`);
  if (!usages.includes(REQUIRED_USAGE)) return deny(`the usages (${usages.join(', ') || 'none'}) lack ${REQUIRED_USAGE}`);

  // SANs: DNS and IP only, at least one.
  let sans: { type: string; value: string }[];
  try {
    sans = subjectAltNames(req);
  } catch (e) {
    return deny(`the subjectAltName extension cannot be read (${(e as Error).message})`);
  }
  const forbidden = sans.filter((s) => s.type !== 'dns' && s.type !== 'ip');
  if (forbidden.length) return deny(`subjectAltName ${forbidden.map(sanText).join(', ')} is not allowed (only DNS and IP names)`);
  if (!sans.length) return deny('the request has no DNS or IP subjectAltName');
  // An IP SAN is 4 or 16 bytes (RFC 5280 4.2.1.6); @peculiar/x509 renders
  // other lengths as text such as "a.b.c.d/n", which Go's parser refuses.
  const badIp = sans.filter((s) => s.type === 'ip' && !ipBytes(s.value));
  if (badIp.length) return deny(`subjectAltName ${badIp.map(sanText).join(', ')} is not a single IP address`);

  // The Node: it must exist and already carry every name asked for. Both
  // may still change (registration, a status update), so these wait.
  if (!node) return { verdict: 'wait', reason: `Node ${name} does not exist yet (it may still be registering)` };
  const addresses = node.status?.addresses ?? [];
  const missing = sans.filter((s) => !addresses.some((a) => sanMatches(s, a.address)));
  if (missing.length) {
    const have = addresses.map((a) => a.address).join(', ') || 'none';
    return { verdict: 'wait', reason: `${missing.map(sanText).join(', ')} not among Node ${name}'s status.addresses (${have})` };
  }

  return {
    verdict: 'approve',
    reason: `requested by node ${name} (group ${NODES_GROUP}); signature valid; subject CN=${want}, O=${NODES_GROUP}; ` +
      `${key.text} key; usages ${usages.join(', ')}; ${sans.map(sanText).join(', ')} all in Node ${name}'s status.addresses`,
  };
}

/** spec.request: base64 (as JSON carries []byte) of one PEM CERTIFICATE REQUEST block. */
function parseRequest(request: string): x509.Pkcs10CertificateRequest {
  const pem = Buffer.from(request ?? '', 'base64').toString('latin1');
  // Like Go's pem.Decode + the type check in upstream approvers: the first
  // block must be a CERTIFICATE REQUEST.
  const m = /-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\s]*)-----END \1-----/.exec(pem);
  if (!m) throw new Error('no PEM block');
  if (m[1] !== 'CERTIFICATE REQUEST') throw new Error(`the PEM block is a ${m[1]}`);
  return new x509.Pkcs10CertificateRequest(Buffer.from(m[2].replace(/\s+/g, ''), 'base64'));
}

/** The subject as [type, value] pairs, every attribute of every RDN. */
function subjectAttributes(req: x509.Pkcs10CertificateRequest): [string, string][] {
  const out: [string, string][] = [];
  for (const rdn of req.subjectName.toJSON()) {
    for (const [type, values] of Object.entries(rdn)) for (const v of values) out.push([type, v]);
  }
  return out;
}

function keyDescription(req: x509.Pkcs10CertificateRequest): { ok: boolean; text: string } {
  let k: KeyObject;
  try {
    k = createPublicKey({ key: Buffer.from(req.publicKey.rawData), format: 'der', type: 'spki' });
  } catch {
    return { ok: false, text: 'of a kind that cannot be read' };
  }
  const d = k.asymmetricKeyDetails ?? {};
  if (k.asymmetricKeyType === 'ec') {
    // Node names P-256 by its OpenSSL name.
    const curve = d.namedCurve === 'prime256v1' ? 'P-256' : d.namedCurve ?? 'unknown curve';
    return { ok: curve === 'P-256', text: `ECDSA ${curve}` };
  }
  if (k.asymmetricKeyType === 'rsa') {
    const bits = d.modulusLength ?? 0;
    return { ok: bits >= MIN_RSA_BITS, text: `RSA ${bits}-bit` };
  }
  return { ok: false, text: k.asymmetricKeyType ?? 'unknown' };
}

/** Every subjectAltName of the request (all SAN extensions, in order). */
function subjectAltNames(req: x509.Pkcs10CertificateRequest): { type: string; value: string }[] {
  const out: { type: string; value: string }[] = [];
  for (const ext of req.extensions) {
    if (ext.type !== OID_SUBJECT_ALT_NAME) continue;
    const san = ext instanceof x509.SubjectAlternativeNameExtension ? ext : new x509.SubjectAlternativeNameExtension(ext.rawData);
    for (const n of san.names.items) out.push({ type: n.type, value: n.value });
  }
  return out;
}

function sanText(s: { type: string; value: string }): string {
  const label: Record<string, string> = { dns: 'DNS', ip: 'IP', email: 'email', url: 'URI' };
  return `${label[s.type] ?? s.type}:${s.value}`;
}

/** DNS names compare case-insensitively (RFC 4343); IPs as addresses, so
 *  2001:db8::1 equals 2001:0db8:0:0:0:0:0:1 and 1.2.3.4 equals ::ffff:1.2.3.4
 *  (as Go's net.IP.Equal). Any address type may match. */
function sanMatches(san: { type: string; value: string }, address: string): boolean {
  if (san.type === 'dns') return san.value.toLowerCase() === address.toLowerCase();
  const a = ipBytes(san.value);
  const b = ipBytes(address);
  return a !== null && b !== null && a.equals(b);
}

/** An IPv4 or IPv6 address as its 16-byte form (IPv4 mapped into ::ffff:0:0/96), or null. */
export function ipBytes(text: string): Buffer | null {
  const kind = isIP(text);
  if (kind === 4) return Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...text.split('.').map(Number)]);
  if (kind !== 6 || text.includes('%')) return null; // zones never name a Node address
  let t = text;
  // A trailing dotted quad (::ffff:1.2.3.4) becomes two groups.
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(t);
  if (v4) {
    const q = v4[2].split('.').map(Number);
    t = `${v4[1]}${((q[0] << 8) | q[1]).toString(16)}:${((q[2] << 8) | q[3]).toString(16)}`;
  }
  const [head, tail] = t.split('::');
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const h = groups(head);
  const tl = groups(tail);
  const all = tail === undefined ? h : [...h, ...Array(8 - h.length - tl.length).fill('0'), ...tl];
  if (all.length !== 8) return null;
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}
