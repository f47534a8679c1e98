// The node's own identity (issue 6), the way kubelets get theirs:
//  - join: with no usable client certificate and a bootstrap token, the node
//    asks the host for its key (made on first boot, never leaves the host),
//    POSTs a CSR (signer kubernetes.io/kube-apiserver-client-kubelet,
//    CN=system:node:<name>, O=system:nodes) with the token as a Bearer
//    credential, polls it by name until it is signed, hands the certificate
//    to the host, and reconnects as itself;
//  - renewal: at a jittered 70-90% of the certificate's lifetime it does the
//    same with its current certificate, while Lease and status go on;
//  - expiry: an expired certificate falls back to the token when one is
//    configured, and otherwise says that a new token is needed.
// Denied or failed CSRs stop the requests until restart (the config must
// change first). Static tls.cert_file certificates (operator-provisioned)
// are used as they are and never renewed here.
//
// The same machine, with key slot 1, gets and renews the kubelet serving
// certificate (issue 5): signer kubernetes.io/kubelet-serving, usages
// "digital signature" + "server auth", SANs added by the host (node.name as
// DNS, node.ip as IP); it starts once the Node is registered (an approver
// compares the SANs with the Node's addresses), always authenticates with the
// client certificate, and an installed certificate needs no reconnect (the
// host's listener uses it for new handshakes).

import {
  CERT_SOURCE_NODE, CERT_SOURCE_STATIC, cert_info, cert_install, cert_stage, config_get, csr_create, key_ensure,
  KEY_SLOT_CLIENT, LOG_ERROR, LOG_INFO, LOG_WARN, NET_CLIENT_CERT, NET_TLS, random_fill,
} from "../host/imports";
import { CFG_BOOTSTRAP_TOKEN } from "../host/config";
import { JsonReader, TOK_STRING, TOK_STRING_PART } from "../json/reader";
import { JsonWriter } from "../json/writer";
import { E_MALFORMED, E_TOOLARGE, OK } from "../util/errors";
import { BOOTSTRAP_TOKEN_MAX, CSR_MESSAGE_MAX, CSR_NAME_MAX, CSR_PEM_MAX, NODE_NAME_MAX } from "../util/limits";
import { copyLit, Lit, litLen, litPtr, utf8 } from "../util/lit";
import { L_API_VERSION, L_KIND, L_METADATA, L_RETRYING, L_SPEC } from "./lits";
import { Backoff } from "./backoff";
import { NodeConfig } from "./config";
import { lineBytes, lineEmit, lineInt, lineLit, lineStart, lineText } from "./log";

// Literals used more than once in this file: one copy each (util/lit.ts).
const K_CSR: Lit = utf8("CSR ");

// Requests the agent sends on the identities' behalf (agent.ts REQ_*): the
// client identity's, then the serving identity's (REQ_CSR_* + 2).
export const REQ_CSR_CREATE: i32 = 30;
export const REQ_CSR_GET: i32 = 31;
export const REQ_SERVING_CSR_CREATE: i32 = 32;
export const REQ_SERVING_CSR_GET: i32 = 33;

/** certificates.k8s.io/v1 collection (k8s.io/api/certificates/v1). */
const CSR_PATH: Lit = utf8("/apis/certificates.k8s.io/v1/certificatesigningrequests");
/** The signer whose CSRs the csrapproving controller auto-approves for
 *  bootstrap tokens and nodes (pkg/controller/certificates/approver/sarapprove.go,
 *  isNodeClientCert / isSelfNodeClientCert). */
const SIGNER: Lit = utf8("kubernetes.io/kube-apiserver-client-kubelet");
/** Kubelet serving certificates (k8s.io/api/certificates/v1
 *  KubeletServingSignerName); upstream never auto-approves them. */
const SERVING_SIGNER: Lit = utf8("kubernetes.io/kubelet-serving");
const NODE_CN_PREFIX: Lit = utf8("system:node:");
const NODES_GROUP: Lit = utf8("system:nodes");
const BEARER: Lit = utf8("Bearer ");

/** First poll interval while the CSR waits for approval and signing: one
 *  small GET; auto-approved CSRs are signed within a second or two. It
 *  doubles while the CSR stays pending, up to CSR_POLL_MAX_MS (the status
 *  report's 5 min), so a CSR nobody approves (a serving CSR without an
 *  approver) costs 0.2 requests a minute, not 60 (kubelet watches instead);
 *  a late approval is seen within 5 min. */
export const CSR_POLL_MS: i64 = 1000;
export const CSR_POLL_MAX_MS: i64 = 300000;
/** Give up on one CSR and submit a new one after this long: kubelet's
 *  certificate manager waits 15 min (client-go/util/certificate,
 *  certificateWaitTimeout). */
export const CSR_WAIT_MAX_MS: i64 = 900000;
/** Renewal failed but the certificate is still valid: try again after this. */
export const RENEW_RETRY_MS: i64 = 60000;

const ID_READY: i32 = 0; // a usable certificate (or stopped renewing); renewal timed by renewAtMs
const ID_SUBMIT: i32 = 1; // POST a CSR at nextMs
const ID_WAIT: i32 = 2; // GET the CSR at nextMs until it is signed
const ID_STOPPED: i32 = 3; // nothing more to try until restart (logged why)

// @ts-ignore: decorator
@unmanaged
export class Identity {
  state: i32 = ID_READY;
  /** No usable client certificate: CSRs go with the bootstrap token and
   *  without a client certificate; Node and Lease requests wait. */
  bootstrapping: bool = false;
  /** CERT_SOURCE_* of the certificate in use, 0 for none. */
  source: i32 = 0;
  notBeforeMs: i64 = 0;
  notAfterMs: i64 = 0;
  /** Wall time to start renewing; 0 = not computed yet, -1 = never this boot. */
  renewAtMs: i64 = 0;
  nextMs: i64 = 0;
  /** A new certificate was installed or the identity fell back to the
   *  token: the agent reconnects with `flags` once it is idle. */
  switched: bool = false;
  readonly backoff: Backoff = new Backoff();

  private cfg: NodeConfig;
  /** KEY_SLOT_CLIENT or KEY_SLOT_SERVING. */
  readonly slot: i32;
  /** "identity: " or "serving: ": every log line of this identity. */
  private readonly tag: Lit;
  private waitUntilMs: i64 = 0;
  /** The current poll interval of a pending CSR (CSR_POLL_MS doubling). */
  private pollMs: i64 = CSR_POLL_MS;
  private lastWallMs: i64 = -1;
  /** CSR_PEM_MAX bytes lent by the agent (see the constructor). */
  private readonly pem: usize;
  private pemLen: i32 = 0;
  /** "Bearer <token>": the client identity's only (the serving certificate
   *  is asked for with the client certificate), 0 for the serving one. */
  private readonly auth: usize;
  private authLen: i32 = 0;
  private readonly name: usize = heap.alloc(<usize>CSR_NAME_MAX);
  private nameLen: i32 = 0;
  private readonly gotName: usize = heap.alloc(<usize>CSR_NAME_MAX);
  private readonly msg: usize = heap.alloc(<usize>CSR_MESSAGE_MAX);
  private msgLen: i32 = 0;
  private readonly info: usize = heap.alloc(16);
  // Captured from the response being read.
  private gotNameLen: i32 = 0;
  private denied: bool = false;
  private failed: bool = false;

  /** `pemScratch`: CSR_PEM_MAX bytes where csr_create puts the PEM CSR until
   *  writeCsr() has base64-encoded it into the request body. The agent lends
   *  the tail of its request buffer: a CSR body (~1.2 KB: ~300 bytes of JSON
   *  plus the base64 of <= CSR_PEM_MAX bytes) written behind the head reserve
   *  ends far before it, and nothing else uses the buffer in between. `cfg`: the
   *  agent's config (init() reads it). */
  constructor(slot: i32, pemScratch: usize, cfg: NodeConfig) {
    this.slot = slot;
    this.tag = slot == KEY_SLOT_CLIENT ? utf8("identity: ") : utf8("serving: ");
    this.auth = slot == KEY_SLOT_CLIENT ? heap.alloc(<usize>(BOOTSTRAP_TOKEN_MAX + 7)) : 0;
    this.pem = pemScratch;
    this.cfg = cfg;
  }

  private say(level: i32, s: Lit): void {
    lineStart(this.tag);
    lineLit(s);
    lineEmit(level);
  }

  /** say() for a missing or refused token, with the command that makes one. */
  private sayNoToken(level: i32, s: Lit): void {
    lineStart(this.tag);
    lineLit(s);
    lineLit(utf8(": npm run pico -- token create"));
    lineEmit(level);
  }

  /** "<tag><a><n><b>": a host error or an HTTP status. */
  private sayNum(level: i32, a: Lit, n: i32, b: Lit): void {
    lineStart(this.tag);
    lineLit(a);
    lineInt(n);
    lineLit(b);
    lineEmit(level);
  }

  /** "<tag>CSR <name><s>". */
  private sayCsr(level: i32, s: Lit): void {
    lineStart(this.tag);
    lineLit(K_CSR);
    lineBytes(this.name, this.nameLen);
    lineLit(s);
    lineEmit(level);
  }
  private certBytes: i32 = 0;
  private stageErr: i32 = OK;

  /** Reads the token and the host's certificate; decides how to start. */
  init(cfg: NodeConfig): void {
    this.cfg = cfg;
    if (this.slot != KEY_SLOT_CLIENT) {
      // The serving certificate waits for the Node (wantServing).
      this.readInfo();
      if (this.source == CERT_SOURCE_NODE) this.say(LOG_INFO, utf8("own kubelet serving certificate"));
      return;
    }
    copyLit(this.auth, 7, BEARER);
    const n = config_get(litPtr(CFG_BOOTSTRAP_TOKEN), litLen(CFG_BOOTSTRAP_TOKEN), this.auth + 7, BOOTSTRAP_TOKEN_MAX);
    this.authLen = n > 0 ? n + 7 : 0;
    if (n == E_TOOLARGE) this.say(LOG_ERROR, utf8("bootstrap.token too long; ignored"));
    this.readInfo();
    // A static tls.cert_file certificate (operator-provisioned) is used as
    // it is: nothing to say, nothing to renew.
    if (this.source == CERT_SOURCE_STATIC) return;
    if (this.source == CERT_SOURCE_NODE) {
      this.say(LOG_INFO, utf8("own client certificate"));
    } else if (this.authLen > 0) {
      this.say(LOG_INFO, utf8("no certificate yet: joining with bootstrap.token"));
      this.startBootstrap(0);
    } else {
      this.state = ID_STOPPED;
      this.sayNoToken(LOG_ERROR, utf8("no certificate, no bootstrap.token"));
    }
  }

  /** The Node is registered: ask for a serving certificate when there is
   *  none and none is being asked for (serving identity only). */
  wantServing(nowMs: i64): void {
    if (this.source != 0 || this.state != ID_READY) return;
    this.say(LOG_INFO, utf8("no kubelet serving certificate yet: submitting a CSR"));
    this.state = ID_SUBMIT;
    this.nextMs = nowMs;
  }

  /** net_connect flags for the API connection now. */
  get flags(): i32 { return this.bootstrapping ? NET_TLS : NET_TLS | NET_CLIENT_CERT; }

  /** Node and Lease requests must wait: there is no identity to send them with. */
  get blocking(): bool { return this.bootstrapping || this.source == 0; }

  /** Bearer header value "Bearer <token>" for bootstrap requests. */
  get authPtr(): usize { return this.auth; }
  get authBytes(): i32 { return this.authLen; }

  /** Each poll: expiry and renewal timing against the wall clock (-1 unknown). */
  tick(nowMs: i64, wallMs: i64): void {
    if (wallMs < 0) return;
    this.lastWallMs = wallMs;
    if (this.source != CERT_SOURCE_NODE || this.state != ID_READY) return;
    if (wallMs >= this.notAfterMs) {
      this.source = 0;
      if (this.slot != KEY_SLOT_CLIENT) {
        this.say(LOG_WARN, utf8("certificate expired: submitting a new CSR"));
        this.state = ID_SUBMIT;
        this.nextMs = nowMs;
      } else if (this.authLen > 0) {
        this.say(LOG_WARN, utf8("certificate expired: joining with bootstrap.token"));
        this.startBootstrap(nowMs);
        this.switched = true;
      } else {
        this.state = ID_STOPPED;
        this.sayNoToken(LOG_ERROR, utf8("certificate expired, no bootstrap.token"));
      }
      return;
    }
    if (this.renewAtMs == 0) this.renewAtMs = this.rotationDeadline();
    if (this.renewAtMs > 0 && wallMs >= this.renewAtMs) {
      this.say(LOG_INFO, utf8("renewing the certificate"));
      this.state = ID_SUBMIT;
      this.nextMs = nowMs;
    }
  }

  /** A CSR request is due now. */
  due(nowMs: i64): bool {
    return (this.state == ID_SUBMIT || this.state == ID_WAIT) && nowMs >= this.nextMs;
  }

  /** Monotonic time of the next CSR request, or i64.MAX_VALUE. */
  get dueAtMs(): i64 {
    return this.state == ID_SUBMIT || this.state == ID_WAIT ? this.nextMs : i64.MAX_VALUE;
  }

  /** The request to send now (REQ_CSR_*), or 0 when none can be made (logged). */
  request(): i32 {
    const base = this.slot == KEY_SLOT_CLIENT ? REQ_CSR_CREATE : REQ_SERVING_CSR_CREATE;
    if (this.state == ID_WAIT) return base + 1;
    const cfg = this.cfg;
    const k = key_ensure(this.slot);
    if (k < 0) {
      this.sayNum(LOG_ERROR, utf8("no node key (host error "), k, utf8("); see its log above"));
      this.stop();
      return 0;
    }
    // CN=system:node:<name>: the Node authorizer's identity for this node.
    const cn = memory.data(12 + NODE_NAME_MAX);
    let n = copyLit(cn, 12, NODE_CN_PREFIX);
    memory.copy(cn + <usize>n, cfg.name.ptr, <usize>cfg.name.len);
    n += cfg.name.len;
    const r = csr_create(this.slot, cn, n, litPtr(NODES_GROUP), litLen(NODES_GROUP), this.pem, CSR_PEM_MAX);
    if (r <= 0) {
      this.sayNum(LOG_ERROR, utf8("CSR not made (host error "), r, utf8(")"));
      this.stop();
      return 0;
    }
    this.pemLen = r;
    return base;
  }

  /** The CertificateSigningRequest object for the CSR made by request(). */
  writeCsr(w: JsonWriter): void {
    w.beginObject();
    w.kvLit(L_API_VERSION, utf8("certificates.k8s.io/v1"));
    w.kvLit(L_KIND, utf8("CertificateSigningRequest"));
    w.keyObject(L_METADATA);
    w.kvLit(utf8("generateName"), this.slot == KEY_SLOT_CLIENT ? utf8("node-csr-") : utf8("node-serving-csr-"));
    w.endObject();
    w.keyObject(L_SPEC);
    w.keyLit(utf8("request")); w.strBase64(this.pem, this.pemLen);
    w.kvLit(utf8("signerName"), this.slot == KEY_SLOT_CLIENT ? SIGNER : SERVING_SIGNER);
    // The approver accepts exactly these for an ECDSA key: "digital
    // signature" and "client auth" (key encipherment only for RSA), as in
    // sarapprove.go isNodeClientCert / k8s.io/api/certificates/v1 usages;
    // the kubelet-serving signer wants "server auth" instead (kubelet's
    // certificate manager asks for these two for an ECDSA serving key).
    w.keyArray(utf8("usages"));
    w.strLit(utf8("digital signature"));
    w.strLit(this.slot == KEY_SLOT_CLIENT ? utf8("client auth") : utf8("server auth"));
    w.endArray();
    w.endObject();
    w.endObject();
  }

  /** Writes the request target for `req` into (dst, cap); returns its length. */
  path(req: i32, dst: usize, cap: i32): i32 {
    let n = copyLit(dst, cap, CSR_PATH);
    if ((req == REQ_CSR_GET || req == REQ_SERVING_CSR_GET) && n + 1 + this.nameLen <= cap) {
      store<u8>(dst + <usize>n, 0x2f);
      memory.copy(dst + <usize>n + 1, this.name, <usize>this.nameLen);
      n += 1 + this.nameLen;
    }
    return n;
  }

  /** Before a response is read. */
  beginResponse(): void {
    this.gotNameLen = 0;
    this.denied = false;
    this.failed = false;
    this.certBytes = 0;
    this.stageErr = OK;
    this.msgLen = 0;
    cert_stage(this.slot, 0, 0);
  }

  /** One token of a CSR response (the reader streams long strings). */
  onToken(rd: JsonReader, t: i32): void {
    if (t != TOK_STRING && t != TOK_STRING_PART) return;
    if (rd.pathIsLit(utf8("status.certificate"))) {
      const len = rd.valueLen;
      if (len <= 0 || this.stageErr != OK) return;
      const r = cert_stage(this.slot, rd.valuePtr, len);
      if (r < 0) this.stageErr = r;
      else this.certBytes = r;
      return;
    }
    if (t != TOK_STRING) return;
    if (rd.pathIsLit(utf8("metadata.name"))) {
      const n = rd.valueLen;
      if (n > 0 && n <= CSR_NAME_MAX) {
        memory.copy(this.gotName, rd.valuePtr, <usize>n);
        this.gotNameLen = n;
      }
    } else if (rd.pathIsLit(utf8("status.conditions[].type"))) {
      if (rd.valueIsLit(utf8("Denied"))) this.denied = true;
      else if (rd.valueIsLit(utf8("Failed"))) this.failed = true;
    } else if (rd.pathIsLit(utf8("status.conditions[].message"))) {
      const n = rd.valueLen < CSR_MESSAGE_MAX ? rd.valueLen : CSR_MESSAGE_MAX;
      memory.copy(this.msg, rd.valuePtr, <usize>n);
      this.msgLen = n;
    }
  }

  /** A CSR response is complete. Returns OK when handled here (including
   *  HTTP errors, logged, retried with the identity's backoff or stopped),
   *  or E_MALFORMED for the agent to treat as a failed request. */
  onResponse(req: i32, status: i32, nowMs: i64): i32 {
    const ok = status >= 200 && status < 300;
    if (req == REQ_CSR_CREATE || req == REQ_SERVING_CSR_CREATE) {
      if (ok) {
        if (this.gotNameLen == 0) return E_MALFORMED;
        memory.copy(this.name, this.gotName, <usize>this.gotNameLen);
        this.nameLen = this.gotNameLen;
        this.state = ID_WAIT;
        this.waitUntilMs = nowMs + CSR_WAIT_MAX_MS;
        this.pollMs = CSR_POLL_MS;
        this.nextMs = nowMs + CSR_POLL_MS;
        this.backoff.reset();
        lineStart(this.tag);
        lineLit(utf8("submitted CSR "));
        lineBytes(this.name, this.nameLen);
        lineLit(utf8(" for system:node:"));
        lineText(this.cfg.name);
        lineLit(utf8("; waiting for approval"));
        lineEmit(LOG_INFO);
        return OK;
      }
      if (status == 401 && this.bootstrapping) {
        this.sayNoToken(LOG_ERROR, utf8("the API server rejected the bootstrap token (wrong or expired)"));
        this.stop();
        return OK;
      }
      if (status == 403) {
        this.say(LOG_WARN, utf8("CSR create forbidden (403): npm run pico -- rbac apply; retrying"));
      } else {
        this.sayNum(LOG_WARN, utf8("CSR submission failed: HTTP "), status, L_RETRYING);
      }
      this.nextMs = nowMs + this.backoff.next();
      return OK;
    }
    // REQ_CSR_GET
    if (status == 404) {
      this.sayCsr(LOG_WARN, utf8(" is gone; submitting a new one"));
      this.state = ID_SUBMIT;
      this.nextMs = nowMs + this.backoff.next();
      return OK;
    }
    if (!ok) {
      if (status == 401 && this.bootstrapping) {
        this.sayNoToken(LOG_ERROR, utf8("bootstrap.token expired while the CSR waited"));
        this.stop();
        return OK;
      }
      this.sayNum(LOG_WARN, utf8("reading the CSR failed: HTTP "), status, L_RETRYING);
      this.nextMs = nowMs + this.backoff.next();
      return OK;
    }
    this.backoff.reset();
    if (this.denied || this.failed) {
      lineStart(this.tag);
      lineLit(K_CSR);
      lineBytes(this.name, this.nameLen);
      lineLit(this.denied ? utf8(" was denied") : utf8(" failed"));
      if (this.msgLen > 0) { lineLit(utf8(": ")); lineBytes(this.msg, this.msgLen); }
      lineLit(utf8("; not asking again until restart"));
      lineEmit(LOG_ERROR);
      this.stop();
      return OK;
    }
    if (this.stageErr != OK) {
      this.say(LOG_ERROR, utf8("issued certificate > SHIM_CERT_STAGE_MAX"));
      this.stop();
      return OK;
    }
    if (this.certBytes == 0) {
      if (nowMs >= this.waitUntilMs) {
        this.sayCsr(LOG_WARN, utf8(" unsigned after 15 min; submitting a new one"));
        this.state = ID_SUBMIT;
      }
      this.pollMs = this.pollMs * 2 < CSR_POLL_MAX_MS ? this.pollMs * 2 : CSR_POLL_MAX_MS;
      this.nextMs = nowMs + this.pollMs;
      return OK;
    }
    const r = cert_install(this.slot);
    if (r != OK) {
      this.sayNum(LOG_ERROR, utf8("host refused the certificate (error "), r, utf8("); see its reason above"));
      this.stop();
      return OK;
    }
    this.readInfo();
    this.bootstrapping = false;
    this.state = ID_READY;
    this.renewAtMs = 0;
    lineStart(this.tag);
    lineLit(utf8("installed the certificate issued for CSR "));
    lineBytes(this.name, this.nameLen);
    if (this.slot == KEY_SLOT_CLIENT) {
      this.switched = true;
      lineLit(utf8("; reconnecting as system:node:"));
      lineText(this.cfg.name);
    }
    lineEmit(LOG_INFO);
    return OK;
  }

  // ---- internals ----

  private startBootstrap(nowMs: i64): void {
    this.bootstrapping = true;
    this.state = ID_SUBMIT;
    this.nextMs = nowMs;
  }

  /** Nothing more to try: while a valid certificate is in use keep it (and
   *  try renewing again later); without one, stop until restart. */
  private stop(): void {
    if (!this.bootstrapping && this.source == CERT_SOURCE_NODE) {
      this.state = ID_READY;
      this.renewAtMs = this.lastWallMs > 0 ? this.lastWallMs + RENEW_RETRY_MS : 0;
      return;
    }
    this.state = ID_STOPPED;
  }

  private readInfo(): void {
    const r = cert_info(this.slot, this.info, 16);
    if (r == CERT_SOURCE_STATIC || r == CERT_SOURCE_NODE) {
      this.source = r;
      this.notBeforeMs = load<i64>(this.info);
      this.notAfterMs = load<i64>(this.info + 8);
    } else {
      this.source = 0;
    }
  }

  /** notBefore + a jittered 70-90% of the lifetime: kubelet's
   *  nextRotationDeadline (client-go/util/certificate/certificate_manager.go:
   *  wait.Jitter(total, 0.2) - 0.3 * total). */
  private rotationDeadline(): i64 {
    const total = this.notAfterMs - this.notBeforeMs;
    if (total <= 0) return -1;
    const rnd = memory.data(4);
    store<u32>(rnd, 0);
    random_fill(rnd, 4);
    const frac = <f64>load<u32>(rnd) / 4294967296.0;
    return this.notBeforeMs + <i64>(<f64>total * (0.7 + 0.2 * frac));
  }
}
