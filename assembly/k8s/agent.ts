// The node agent: registers the Node, keeps its Lease renewed and its status
// reported, over one HTTPS connection to the API server, one request at a
// time. Every timer is computed from poll(nowMs); nothing here allocates after
// the constructor (all buffers are made when the module starts).
//
// Schedule, highest priority first, whenever no request is in flight and no
// backoff is running:
//   1. Node unknown: GET it (clock unknown, or after 409 AlreadyExists) or
//      POST it (kubelet: registerWithAPIServer, then GET on AlreadyExists).
//   2. Status due (just registered, a condition changed, or 5 min since the
//      last report: kubelet's nodeStatusReportFrequency): PATCH .../status.
//   3. Lease unknown: GET it; absent: POST it; due (10 s after the last
//      renewal): PUT the whole Lease with the cached resourceVersion.
//   4. A TokenReview / SubjectAccessReview the kubelet endpoint waits for.
//   5. ConfigMap reports, then the client and serving certificates' CSRs.
//
// The kubelet endpoint (kubelet/) listens once the serving certificate is
// there and is driven from poll and event like the watches.

import { EV_READABLE, KEY_SLOT_CLIENT, KEY_SLOT_SERVING, LOG_DEBUG, LOG_INFO, LOG_WARN, random_fill } from "../host/imports";
import { HttpClient, HTTP_BODY, HTTP_DONE, HTTP_PENDING, newSharedConn } from "../http/client";
import { H2Conn } from "../http/h2";
import { Tunnel } from "../kubelet/tunnel";
import { JsonReader, TOK_STRING } from "../json/reader";
import { JsonWriter } from "../json/writer";
import { copyLit, Lit, litLen, utf8 } from "../util/lit";
import { bytesEqual } from "../util/bytes";
import { L_ACCEPT, L_APPLICATION_JSON, L_METADATA_RESOURCE_VERSION, L_RETRYING, L_USER_AGENT } from "./lits";
import { METHOD_GET, METHOD_PATCH, METHOD_POST, METHOD_PUT } from "../http/request";
import {
  E_CERT, E_CLOSED, E_CONNECT, E_HTTP_STATUS, E_IO, E_MALFORMED, E_NEED_MORE, E_TIMEOUT, E_TLS, E_TOOLARGE, OK,
} from "../util/errors";
import {
  HTTP_RECV_CAP, HTTP_REQUEST_CAP, K8S_HEAD_RESERVE, K8S_PATH_MAX, K8S_RESOURCE_VERSION_MAX,
  K8S_UID_MAX, USER_AGENT_MAX, CSR_PEM_MAX,
} from "../util/limits";
import { Backoff } from "./backoff";
import { NodeConfig } from "./config";
import { LEASE_COLLECTION_PATH, LEASE_RENEW_INTERVAL_MS, writeLease } from "./lease";
import { lineBytes, lineEmit, lineInt, lineLit, lineStart, lineText, logText } from "./log";
import { writeNodeRegistration, writeNodeStatusPatch } from "./node";
import { AGENT_VERSION, BOOT_ID_LEN, Conditions, COND_READY, formatUuid, KUBELET_VERSION } from "./status";
import { ConfigMaps, REPORT_EVENT, REPORT_NONE } from "./configmap";
import { Identity, REQ_CSR_CREATE, REQ_CSR_GET, REQ_SERVING_CSR_CREATE, REQ_SERVING_CSR_GET } from "./identity";
import { KubeletServer } from "../kubelet/server";
import { Routes } from "../kubelet/routes";
import { COUNTERS, Counters } from "../metrics/counters";

// Literals used more than once in this file: one copy each (util/lit.ts).
const K_LEASE_KUBE_NODE_LEASE: Lit = utf8("lease: kube-node-lease/");

/** Status report interval without changes: kubelet's nodeStatusReportFrequency
 *  default, 5 min (pkg/kubelet/apis/config/v1beta1/defaults.go). */
export const STATUS_REPORT_INTERVAL_MS: i64 = 300000;
/** Longest poll() asks the host to wait: keeps HTTP deadlines checked while a
 *  request is in flight and bounds the delay of a missed socket event. */
export const POLL_MAX_WAIT_MS: i32 = 1000;
/** An identical error is logged again at most this often (the first
 *  occurrence, and every change, is logged at once). */
export const ERROR_LOG_REPEAT_MS: i64 = 60000;
/** 409 answers in a row answered at once (GET + retry, as kubelet does); more
 *  than this and the agent backs off like after a failure. */
const CONFLICT_RETRIES_IMMEDIATE: i32 = 1;

// Requests (one in flight at a time).
export const REQ_NONE: i32 = 0;
export const REQ_NODE_CREATE: i32 = 1;
export const REQ_NODE_GET: i32 = 2;
export const REQ_NODE_STATUS: i32 = 3;
export const REQ_LEASE_GET: i32 = 4;
export const REQ_LEASE_CREATE: i32 = 5;
export const REQ_LEASE_RENEW: i32 = 6;
/** An Event or the Node annotation about applied ConfigMaps (k8s/configmap.ts). */
export const REQ_CONFIGMAP_REPORT: i32 = 20;
/** A TokenReview or SubjectAccessReview for the kubelet endpoint. */
export const REQ_REVIEW: i32 = 40;

/** A CSR request of either identity (identity.ts REQ_*CSR_*). */
function isCsr(req: i32): bool { return req >= REQ_CSR_CREATE && req <= REQ_SERVING_CSR_GET; }

// What the agent knows about its Node.
const NODE_UNKNOWN: i32 = 0; // not registered by this boot yet: POST (or GET first)
const NODE_NEEDS_GET: i32 = 1; // exists (409) or must be checked (Lease vanished): GET
const NODE_REGISTERED: i32 = 2; // uid known

// What the agent knows about its Lease.
const LEASE_UNKNOWN: i32 = 0; // GET it
const LEASE_ABSENT: i32 = 1; // POST it
const LEASE_HELD: i32 = 2; // resourceVersion cached: PUT to renew

const NODES_PATH = utf8("/api/v1/nodes");
const USER_AGENT_PRODUCT = utf8("k3s-pico-node/");
const CT_JSON = L_APPLICATION_JSON;
const CT_SMP = utf8("application/strategic-merge-patch+json");
/** "Content-Length: " + up to 10 digits + CRLF + the blank line's CRLF. */
const CONTENT_LENGTH_LINE_MAX: i32 = 30;

// @ts-ignore: decorator
@unmanaged
export class Agent {
  readonly cfg: NodeConfig = new NodeConfig();
  readonly cond: Conditions = new Conditions();
  /** The one connection to the API server: HTTP/2 streams for the client
   *  below and every ConfigMap watch (h2.ts); HTTP/1.1 connections of their
   *  own with a server that does not speak HTTP/2. */
  readonly conn: H2Conn = newSharedConn();
  /** Protocol last logged by logProtocol: 0 none yet, 1 HTTP/2, 2 HTTP/1.1. */
  private connProtocol: i32 = 0;
  readonly client: HttpClient = new HttpClient(HTTP_REQUEST_CAP, HTTP_RECV_CAP);
  /** Bodies are written into the client's request buffer behind the head
   *  reserve (K8S_HEAD_RESERVE), saving a second buffer. */
  private readonly body: JsonWriter = new JsonWriter(
    this.client.req.ptr + <usize>K8S_HEAD_RESERVE, this.client.req.capacity - K8S_HEAD_RESERVE,
  );
  private readonly reader: JsonReader = new JsonReader();
  readonly backoff: Backoff = new Backoff();
  /** Followed ConfigMaps: watches on `conn`; reports go through `client`. */
  readonly configmaps: ConfigMaps = new ConfigMaps();
  /** The node's client certificate: bootstrap-token join and renewal (k8s/identity.ts). */
  readonly identity: Identity = new Identity(
    KEY_SLOT_CLIENT, this.client.req.ptr + <usize>(this.client.req.capacity - CSR_PEM_MAX), this.cfg,
  );
  /** The kubelet serving certificate: the same machine with key slot 1 and
   *  the same scratch (one request at a time). */
  readonly serving: Identity = new Identity(
    KEY_SLOT_SERVING, this.client.req.ptr + <usize>(this.client.req.capacity - CSR_PEM_MAX), this.cfg,
  );
  readonly kubelet: KubeletServer = new KubeletServer(this.cfg, new Routes(this.cfg, this.configmaps.mem));
  /** k3s' agent tunnel to the kubelet endpoint (kubelet/tunnel.ts). */
  readonly tunnel: Tunnel = new Tunnel(this.cfg);

  private readonly path: usize = heap.alloc(<usize>K8S_PATH_MAX);
  private pathLen: i32 = 0;
  private readonly userAgent: usize = heap.alloc(<usize>USER_AGENT_MAX);
  private userAgentLen: i32 = 0;
  readonly bootId: usize = heap.alloc(<usize>BOOT_ID_LEN);

  /** metadata.uid of our Node, as the API server assigned it. */
  readonly uid: usize = heap.alloc(<usize>K8S_UID_MAX);
  uidLen: i32 = 0;
  /** metadata.resourceVersion of our Lease from the last response. */
  readonly rv: usize = heap.alloc(<usize>K8S_RESOURCE_VERSION_MAX);
  rvLen: i32 = 0;
  // Values captured from the response being read.
  private readonly gotUid: usize = heap.alloc(<usize>K8S_UID_MAX);
  private gotUidLen: i32 = 0;
  private readonly gotRv: usize = heap.alloc(<usize>K8S_RESOURCE_VERSION_MAX);
  private gotRvLen: i32 = 0;
  private bodyError: i32 = OK;

  nodeState: i32 = NODE_UNKNOWN;
  leaseState: i32 = LEASE_UNKNOWN;
  statusWanted: bool = false;
  lastStatusMs: i64 = 0;
  leaseDueMs: i64 = 0;
  retryAtMs: i64 = 0;
  inFlight: i32 = REQ_NONE;
  private conflicts: i32 = 0;
  private readyLogged: bool = false;
  private configured: bool = false;

  // Wall clock: Unix ms = nowMs + wallOffsetMs once known.
  private wallKnown: bool = false;
  private wallFromHost: bool = false;
  private wallOffsetMs: i64 = 0;
  private lastNowMs: i64 = 0;

  // Error log rate limiting: key = request * 1000 - code (codes are negative or HTTP statuses).
  private lastErrKey: i64 = 0;
  private lastErrLogMs: i64 = 0;
  private failing: bool = false;

  /** Reads the configuration and prepares the fixed texts. Returns OK or the
   *  config error (E_NOTFOUND for a missing required key, logged). */
  init(): i32 {
    const r = this.cfg.load();
    if (r != OK) return r;
    const cfg = this.cfg;
    let n = 0;
    // User-Agent: "k3s-pico-node/<v> (<os>/<arch>) kubelet/<kubelet version>",
    // shaped like kubelet's ("kubelet/v1.x (linux/amd64) kubernetes/<commit>").
    // USER_AGENT_MAX fits the literals plus two PLATFORM_TEXT_MAX texts.
    n = copyLit(this.userAgent, USER_AGENT_MAX, USER_AGENT_PRODUCT);
    n += copyLit(this.userAgent + <usize>n, USER_AGENT_MAX - n, AGENT_VERSION);
    n += copyLit(this.userAgent + <usize>n, USER_AGENT_MAX - n, utf8(" ("));
    memory.copy(this.userAgent + <usize>n, cfg.os.ptr, <usize>cfg.os.len);
    n += cfg.os.len;
    store<u8>(this.userAgent + <usize>n, 0x2f);
    n++;
    memory.copy(this.userAgent + <usize>n, cfg.arch.ptr, <usize>cfg.arch.len);
    n += cfg.arch.len;
    n += copyLit(this.userAgent + <usize>n, USER_AGENT_MAX - n, utf8(") kubelet/"));
    n += copyLit(this.userAgent + <usize>n, USER_AGENT_MAX - n, KUBELET_VERSION);
    this.userAgentLen = n;
    // Boot ID: random per boot (nodeInfo.bootID).
    const rnd = this.gotUid; // 16 scratch bytes, unused until the first response
    memory.fill(rnd, 0, 16);
    random_fill(rnd, 16);
    formatUuid(this.bootId, rnd);

    const sh = this.client.share(this.conn);
    if (sh != OK) return sh;
    const cm = this.configmaps.init(cfg, this.userAgent, this.userAgentLen, this.conn);
    if (cm != OK) return cm;
    this.configured = true;
    lineStart(utf8("node: starting "));
    lineText(cfg.name);
    lineLit(utf8(", API server "));
    lineText(cfg.serverHost);
    lineLit(utf8(":"));
    lineInt(cfg.serverPort);
    lineEmit(LOG_INFO);
    // After the start line, so the identity's own line says how it joins.
    this.identity.init(cfg);
    this.serving.init(cfg);
    if (!cfg.kubeletServer) logText(LOG_INFO, utf8("kubelet: this host cannot serve the endpoint (no TLS server or no client CA): no serving certificate asked for"));
    this.client.configureBytes(cfg.serverHost.ptr, cfg.serverHost.len, cfg.serverPort, this.identity.flags);
    return OK;
  }

  /** Unix time in ms now, or -1 while unknown. */
  wallNow(nowMs: i64): i64 {
    return this.wallKnown ? nowMs + this.wallOffsetMs : -1;
  }

  /** Drives the agent; returns the ms until it wants the next poll. */
  poll(nowMs: i64, wallMs: i64): i32 {
    this.lastNowMs = nowMs;
    if (!this.configured) return POLL_MAX_WAIT_MS;
    if (wallMs > 0) {
      this.wallOffsetMs = wallMs - nowMs;
      this.wallKnown = true;
      this.wallFromHost = true;
    }
    if (this.wallKnown) this.cond.stamp(this.wallNow(nowMs));
    // Before the API responses of this poll: a response that registers the
    // Node lets the endpoint listen from the next poll on.
    this.serveKubelet(nowMs);
    this.identity.tick(nowMs, this.wallNow(nowMs));
    this.serving.tick(nowMs, this.wallNow(nowMs));
    this.pump(nowMs);
    this.switchIdentity();
    if (!this.client.busy) {
      this.schedule(nowMs);
      if (this.client.busy) this.pump(nowMs);
    }
    // Watches need the node's identity: none while it joins with a token.
    if (!this.identity.blocking) this.configmaps.poll(nowMs);
    this.kick(nowMs);
    this.logProtocol();
    // Frames already read wait for a client that polls after the one that
    // read them: come back at once (h2.ts, "no buffering per stream").
    if (this.conn.backlog) return 0;
    // Unpolled watches (joining) have nothing due: their start time, already
    // past, would make every poll come back at once.
    const wait = this.nextWait(nowMs);
    return this.identity.blocking ? wait : this.configmaps.nextWait(nowMs, wait);
  }

  /** A new certificate (or back to the token): the next request connects with
   *  it, before any watch starts (a watch on the token's connection gets
   *  401). On HTTP/2 the shared connection is renewed too (its watches resume
   *  on the new one), as client-go does when a kubelet's certificate rotates.
   *  The certificate arrives with a response, so the API client is idle. */
  private switchIdentity(): void {
    const id = this.identity;
    if (!id.switched) return;
    id.switched = false;
    this.client.configureBytes(this.cfg.serverHost.ptr, this.cfg.serverHost.len, this.cfg.serverPort, id.flags);
    this.client.reconnect();
  }

  /** Says which protocol the API connection speaks: at the first one, and
   *  when a new connection speaks another. */
  private logProtocol(): void {
    const c = this.conn;
    if (!c.settled) return;
    const p = c.http1 ? 2 : 1;
    if (p == this.connProtocol) return;
    this.connProtocol = p;
    if (c.http1) logText(LOG_INFO, utf8("api: the server speaks HTTP/1.1 only: one connection per watch"));
    else logText(LOG_INFO, utf8("api: HTTP/2: requests and watches share one connection"));
  }

  private serveKubelet(nowMs: i64): void {
    this.kubelet.routes.wallMs = this.wallNow(nowMs);
    // Listening starts once the Node that advertises the port is registered.
    const serve = this.cfg.kubeletServer && this.serving.source != 0 && this.nodeState == NODE_REGISTERED;
    this.kubelet.step(serve, nowMs);
    this.tunnel.step(serve && !this.identity.blocking, this.identity.flags, nowMs);
  }

  /** A host readiness event: drive the connection with the last known time. */
  event(handle: i32, flags: i32): void {
    if (!this.configured) return;
    if (handle == this.kubelet.listenHandle && (flags & EV_READABLE) != 0) this.kubelet.pendingSeen = true;
    this.pump(this.lastNowMs);
    this.configmaps.event();
    this.serveKubelet(this.lastNowMs);
    this.kick(this.lastNowMs);
  }

  /** A review the kubelet endpoint just asked for goes out now when the API
   *  connection is free. */
  private kick(nowMs: i64): void {
    if (this.client.busy || !this.kubelet.reviewWanted) return;
    this.schedule(nowMs);
    if (this.client.busy) this.pump(nowMs);
  }

  // ---- I/O ----

  /** Reads whatever the in-flight request has produced. With none, the
   *  idle client still services the connection (HTTP/2 control frames,
   *  closed streams' data, the server closing it): otherwise, with no watch
   *  either (joining, or stopped after a denied CSR), bytes nobody reads
   *  keep the handle readable and the loop spinning at full CPU. */
  private pump(nowMs: i64): void {
    if (this.inFlight == REQ_NONE) {
      this.client.poll(nowMs);
      return;
    }
    for (;;) {
      const r = this.client.poll(nowMs);
      if (r == HTTP_BODY) {
        this.readBody(this.client.bodyPtr, this.client.bodyLen);
        continue;
      }
      if (r == HTTP_DONE) {
        this.learnDate(nowMs);
        this.logRequest(this.client.status);
        const req = this.inFlight;
        this.inFlight = REQ_NONE;
        this.onResponse(req, this.client.status, nowMs);
        return;
      }
      if (r < 0) {
        const req = this.inFlight;
        this.inFlight = REQ_NONE;
        const q = this.client.req;
        COUNTERS.api(Counters.methodOf(q.methodPtr, q.methodLen), 0);
        this.onFailure(req, r, 0, nowMs);
        return;
      }
      return; // HTTP_PENDING / HTTP_IDLE: wait for I/O
    }
  }

  private readBody(ptr: usize, len: i32): void {
    const rd = this.reader;
    rd.feed(ptr, len);
    for (;;) {
      const t = rd.next();
      if (t == E_NEED_MORE || t == 0) return;
      if (t < 0) { this.bodyError = t; return; }
      if (isCsr(this.inFlight)) { this.idOf(this.inFlight).onToken(rd, t); continue; }
      if (this.inFlight == REQ_REVIEW) { this.kubelet.onReviewToken(rd, t); continue; }
      if (t != TOK_STRING) continue;
      if (rd.pathIsLit(utf8("metadata.uid"))) {
        const n = rd.valueLen;
        if (n > 0 && n <= K8S_UID_MAX) { memory.copy(this.gotUid, rd.valuePtr, <usize>n); this.gotUidLen = n; }
      } else if (rd.pathIsLit(L_METADATA_RESOURCE_VERSION)) {
        const n = rd.valueLen;
        if (n > 0 && n <= K8S_RESOURCE_VERSION_MAX) { memory.copy(this.gotRv, rd.valuePtr, <usize>n); this.gotRvLen = n; }
      }
    }
  }

  /** Learns the wall clock from the response's Date header when the host has none. */
  private learnDate(nowMs: i64): void {
    if (this.wallFromHost) return;
    const d = this.client.dateUnixMs;
    if (d <= 0) return;
    this.wallOffsetMs = d - nowMs;
    if (!this.wallKnown) {
      this.wallKnown = true;
      this.cond.stamp(d);
      logText(LOG_INFO, utf8("node: wall clock from the Date header"));
    }
  }

  // ---- scheduling ----

  private schedule(nowMs: i64): void {
    if (nowMs < this.retryAtMs) return;
    const id = this.identity;
    if (id.blocking) {
      if (id.due(nowMs)) this.startIdentity(nowMs);
      return;
    }
    if (this.nodeState != NODE_REGISTERED) {
      // Without a wall clock there are no timestamps to send: a GET learns
      // the clock from the Date header (and whether the Node exists).
      if (!this.wallKnown || this.nodeState == NODE_NEEDS_GET) this.start(REQ_NODE_GET, nowMs);
      else this.start(REQ_NODE_CREATE, nowMs);
      return;
    }
    if (!this.wallKnown) return;
    if (this.statusWanted || nowMs - this.lastStatusMs >= STATUS_REPORT_INTERVAL_MS) {
      this.start(REQ_NODE_STATUS, nowMs);
      return;
    }
    if (this.leaseState == LEASE_UNKNOWN) this.start(REQ_LEASE_GET, nowMs);
    else if (this.leaseState == LEASE_ABSENT) this.start(REQ_LEASE_CREATE, nowMs);
    else if (nowMs >= this.leaseDueMs) this.start(REQ_LEASE_RENEW, nowMs);
    else if (this.kubelet.reviewWanted) this.start(REQ_REVIEW, nowMs);
    else if (this.configmaps.reportWanted) this.start(REQ_CONFIGMAP_REPORT, nowMs);
    else if (id.due(nowMs)) this.startIdentity(nowMs);
    else if (this.serving.due(nowMs)) {
      const req = this.serving.request();
      if (req != 0) this.start(req, nowMs);
    }
  }

  private startIdentity(nowMs: i64): void {
    const req = this.identity.request();
    if (req != 0) this.start(req, nowMs);
  }

  /** The identity a CSR request belongs to. */
  private idOf(req: i32): Identity {
    return req >= REQ_SERVING_CSR_CREATE ? this.serving : this.identity;
  }

  private nextWait(nowMs: i64): i32 {
    let due: i64 = nowMs + POLL_MAX_WAIT_MS;
    if (!this.client.busy) {
      if (this.retryAtMs > nowMs && this.retryAtMs < due) due = this.retryAtMs;
      if (this.identity.dueAtMs < due) due = this.identity.dueAtMs;
      if (this.serving.dueAtMs < due) due = this.serving.dueAtMs;
      if (this.nodeState == NODE_REGISTERED && this.leaseState == LEASE_HELD && this.retryAtMs <= nowMs) {
        if (this.leaseDueMs < due) due = this.leaseDueMs;
        const s = this.lastStatusMs + STATUS_REPORT_INTERVAL_MS;
        if (s < due) due = s;
      }
    }
    if (this.kubelet.dueAtMs < due) due = this.kubelet.dueAtMs;
    const t = nowMs + <i64>this.tunnel.nextWait(nowMs, POLL_MAX_WAIT_MS);
    if (t < due) due = t;
    const w = due - nowMs;
    return w < 0 ? 0 : <i32>w;
  }

  /** Marks condition `i` and asks for a status report when it changed. */
  setCondition(i: i32, v: bool, nowMs: i64): void {
    const wall = this.wallNow(nowMs);
    if (this.cond.set(i, v, wall > 0 ? wall : 0)) this.statusWanted = true;
  }

  // ---- requests ----

  private setPath(prefix: Lit, withName: bool, suffix: Lit): void {
    // K8S_PATH_MAX fits the longest prefix + "/" + name + suffix (limits.ts).
    let n = copyLit(this.path, K8S_PATH_MAX, prefix);
    if (withName) {
      store<u8>(this.path + <usize>n, 0x2f);
      n++;
      memory.copy(this.path + <usize>n, this.cfg.name.ptr, <usize>this.cfg.name.len);
      n += this.cfg.name.len;
    }
    n += copyLit(this.path + <usize>n, K8S_PATH_MAX - n, suffix);
    this.pathLen = n;
  }

  private start(req: i32, nowMs: i64): void {
    const wall = this.wallNow(nowMs);
    const w = this.body;
    let method = METHOD_GET;
    let ctype = utf8("");
    w.reset();
    if (req == REQ_NODE_CREATE) {
      method = METHOD_POST; ctype = CT_JSON;
      this.setPath(NODES_PATH, false, utf8(""));
      writeNodeRegistration(w, this.cfg, this.cond, this.bootId, wall);
    } else if (req == REQ_NODE_GET) {
      this.setPath(NODES_PATH, true, utf8(""));
    } else if (req == REQ_NODE_STATUS) {
      method = METHOD_PATCH; ctype = CT_SMP;
      this.setPath(NODES_PATH, true, utf8("/status"));
      writeNodeStatusPatch(w, this.cfg, this.cond, this.bootId, wall);
    } else if (req == REQ_LEASE_GET) {
      this.setPath(LEASE_COLLECTION_PATH, true, utf8(""));
    } else if (req == REQ_LEASE_CREATE) {
      method = METHOD_POST; ctype = CT_JSON;
      this.setPath(LEASE_COLLECTION_PATH, false, utf8(""));
      writeLease(w, this.cfg, this.uid, this.uidLen, 0, 0, wall);
    } else if (isCsr(req)) {
      const id = this.idOf(req);
      if (req == REQ_CSR_CREATE || req == REQ_SERVING_CSR_CREATE) { method = METHOD_POST; ctype = CT_JSON; id.writeCsr(w); }
      this.pathLen = id.path(req, this.path, K8S_PATH_MAX);
    } else if (req == REQ_REVIEW) {
      method = METHOD_POST; ctype = CT_JSON;
      this.setPath(this.kubelet.reviewPath, false, utf8(""));
      this.kubelet.writeReview(w);
    } else if (req == REQ_CONFIGMAP_REPORT) {
      const kind = this.configmaps.writeReport(w, this.path, K8S_PATH_MAX, this.cfg.name.ptr, this.cfg.name.len, wall);
      if (kind == REPORT_NONE) return;
      this.pathLen = this.configmaps.reportPathLen;
      method = kind == REPORT_EVENT ? METHOD_POST : METHOD_PATCH;
      ctype = kind == REPORT_EVENT ? CT_JSON : utf8("application/merge-patch+json");
    } else {
      method = METHOD_PUT; ctype = CT_JSON;
      this.setPath(LEASE_COLLECTION_PATH, true, utf8(""));
      writeLease(w, this.cfg, this.uid, this.uidLen, this.rv, this.rvLen, wall);
    }
    if (w.error != OK) { this.onFailure(req, w.error, 0, nowMs); return; }
    const q = this.client.req;
    this.client.beginLit(method, this.path, this.pathLen); // request line + Host
    q.headerLitBytes(L_USER_AGENT, this.userAgent, this.userAgentLen);
    q.headerLit(L_ACCEPT, CT_JSON);
    if (litLen(ctype) > 0) q.headerLit(utf8("Content-Type"), ctype);
    // The bootstrap token, only on CSR requests made without a certificate.
    const csr = isCsr(req);
    if (csr && req <= REQ_CSR_GET && this.identity.bootstrapping) q.headerLitBytes(utf8("Authorization"), this.identity.authPtr, this.identity.authBytes);
    // The head must end before the body it is about to be joined with
    // (finish() adds Content-Length and CRLF; memory.copy moves the body down).
    if (w.len > 0 && q.len + CONTENT_LENGTH_LINE_MAX > K8S_HEAD_RESERVE) {
      this.onFailure(req, E_TOOLARGE, 0, nowMs);
      return;
    }
    const total = q.finish(w.ptr, w.len);
    if (total < 0) { this.onFailure(req, total, 0, nowMs); return; }
    this.reader.reset();
    // status.certificate is ~1.3 KB of base64
    this.reader.streamStrings = req == REQ_CSR_GET || req == REQ_SERVING_CSR_GET;
    if (csr) this.idOf(req).beginResponse();
    this.gotUidLen = 0;
    this.gotRvLen = 0;
    this.bodyError = OK;
    const s = this.client.send(nowMs);
    if (s < 0) { this.onFailure(req, s, 0, nowMs); return; }
    this.inFlight = req;
  }

  // ---- responses ----

  /** One debug line per API request ("api: PUT /apis/... -> 200"): what an
   *  operator reads to see the node's traffic, and what bench/node.mjs counts. */
  private logRequest(status: i32): void {
    const rq = this.client.req;
    lineStart(utf8("api: "));
    lineBytes(rq.methodPtr, rq.methodLen);
    lineLit(utf8(" "));
    lineBytes(this.client.targetPtr, this.client.targetLen);
    lineLit(utf8(" -> "));
    lineInt(status);
    lineEmit(LOG_DEBUG);
    COUNTERS.api(Counters.methodOf(rq.methodPtr, rq.methodLen), status);
  }

  private onResponse(req: i32, status: i32, nowMs: i64): void {
    const ok = status >= 200 && status < 300;
    if (req == REQ_REVIEW) {
      this.succeeded();
      this.kubelet.onReviewDone(this.bodyError != OK ? 0 : status, nowMs);
      return;
    }
    if (isCsr(req)) {
      const r = this.bodyError != OK ? this.bodyError : this.idOf(req).onResponse(req, status, nowMs);
      if (r == OK) this.succeeded();
      else this.onFailure(req, r, status, nowMs);
      return;
    }
    if (req == REQ_NODE_CREATE) {
      if (ok) { if (this.takeUid(req, status, nowMs)) this.registered(utf8("node: registered "), nowMs); return; }
      if (status == 409) { this.conflict(nowMs); this.nodeState = NODE_NEEDS_GET; return; }
    } else if (req == REQ_NODE_GET) {
      if (ok) { if (this.takeUid(req, status, nowMs)) this.registered(utf8("node: found existing Node "), nowMs); return; }
      if (status == 404) {
        this.succeeded();
        this.nodeState = NODE_UNKNOWN;
        if (this.wallKnown) return;
        logText(LOG_WARN, utf8("node: no wall clock yet (no SNTP, no Date header)"));
        this.retryAtMs = nowMs + this.backoff.next();
        return;
      }
    } else if (req == REQ_NODE_STATUS) {
      if (ok) {
        this.succeeded();
        this.statusWanted = false;
        this.lastStatusMs = nowMs;
        if (this.gotUidLen > 0) this.keepUid();
        const ready = this.cond.status(COND_READY);
        if (ready != this.readyLogged) {
          this.readyLogged = ready;
          logText(LOG_INFO, ready ? utf8("node: Ready") : utf8("node: NotReady"));
        }
        return;
      }
      if (status == 404) {
        // The Node was deleted: register again; its Lease went with it
        // (garbage collected through the owner reference) and is recreated
        // with the new uid.
        this.succeeded();
        lineStart(utf8("node: Node "));
        lineText(this.cfg.name);
        lineLit(utf8(" was deleted; registering again"));
        lineEmit(LOG_WARN);
        this.nodeState = NODE_UNKNOWN;
        this.uidLen = 0;
        this.leaseState = LEASE_UNKNOWN;
        this.rvLen = 0;
        this.readyLogged = false;
        return;
      }
    } else if (req == REQ_LEASE_GET) {
      if (ok) {
        if (!this.takeRv(req, status, nowMs)) return;
        // Renew at once: the holder, duration or owner may be stale (kubelet:
        // ensureLease then retryUpdateLease).
        this.leaseState = LEASE_HELD;
        this.leaseDueMs = nowMs;
        return;
      }
      if (status == 404) { this.succeeded(); this.leaseState = LEASE_ABSENT; return; }
    } else if (req == REQ_LEASE_CREATE) {
      if (ok) {
        if (!this.takeRv(req, status, nowMs)) return;
        this.leaseState = LEASE_HELD;
        this.leaseDueMs = nowMs + LEASE_RENEW_INTERVAL_MS;
        lineStart(utf8("lease: created kube-node-lease/"));
        lineText(this.cfg.name);
        lineEmit(LOG_INFO);
        return;
      }
      if (status == 409) { this.conflict(nowMs); this.leaseState = LEASE_UNKNOWN; return; }
    } else if (req == REQ_LEASE_RENEW) {
      if (ok) {
        if (!this.takeRv(req, status, nowMs)) return;
        this.leaseDueMs = nowMs + LEASE_RENEW_INTERVAL_MS;
        if (status == 201) {
          // Leases allow create-on-update: 201 means the Lease had been
          // deleted, most likely by the garbage collector because its owner,
          // our Node, was deleted. Check the Node (GET, then POST on 404) and
          // the next renewal carries the new owner uid.
          lineStart(K_LEASE_KUBE_NODE_LEASE);
          lineText(this.cfg.name);
          lineLit(utf8(" had been deleted and was recreated; checking the Node"));
          lineEmit(LOG_WARN);
          this.nodeState = NODE_NEEDS_GET;
          return;
        }
        logText(LOG_DEBUG, utf8("lease: renewed"));
        return;
      }
      // Conflict: someone else wrote it; re-read, then renew (kubelet:
      // controller.go retryUpdateLease drops latestLease on conflict).
      if (status == 409) { this.conflict(nowMs); this.leaseState = LEASE_UNKNOWN; return; }
      if (status == 404) {
        // Gone: recreate it, after checking that the Node itself still exists.
        this.succeeded();
        lineStart(K_LEASE_KUBE_NODE_LEASE);
        lineText(this.cfg.name);
        lineLit(utf8(" was deleted; recreating"));
        lineEmit(LOG_WARN);
        this.leaseState = LEASE_ABSENT;
        this.rvLen = 0;
        this.nodeState = NODE_NEEDS_GET;
        return;
      }
    } else if (req == REQ_CONFIGMAP_REPORT) {
      // Best effort: any answer ends the report (a retry cannot fix a 4xx);
      // only an outage (5xx, connection) backs off and loses it.
      if (ok || (status >= 400 && status < 500)) {
        this.succeeded();
        if (!ok) {
          lineStart(utf8("configmap: report refused: HTTP "));
          lineInt(status);
          lineEmit(LOG_WARN);
        }
        return;
      }
    }
    this.onFailure(req, E_HTTP_STATUS, status, nowMs);
  }

  /** Keeps metadata.uid of a Node response; false (and a failure) without one. */
  private takeUid(req: i32, status: i32, nowMs: i64): bool {
    if (this.gotUidLen == 0) { this.onFailure(req, E_MALFORMED, status, nowMs); return false; }
    this.keepUid();
    return true;
  }

  private keepUid(): void {
    const same = bytesEqual(this.uid, this.uidLen, this.gotUid, this.gotUidLen);
    if (!same) {
      memory.copy(this.uid, this.gotUid, <usize>this.gotUidLen);
      this.uidLen = this.gotUidLen;
    }
  }

  private takeRv(req: i32, status: i32, nowMs: i64): bool {
    if (this.gotRvLen == 0) { this.onFailure(req, E_MALFORMED, status, nowMs); return false; }
    memory.copy(this.rv, this.gotRv, <usize>this.gotRvLen);
    this.rvLen = this.gotRvLen;
    this.succeeded();
    return true;
  }

  private registered(what: Lit, nowMs: i64): void {
    this.succeeded();
    this.nodeState = NODE_REGISTERED;
    if (this.cfg.kubeletServer) this.serving.wantServing(nowMs);
    this.statusWanted = true;
    lineStart(what);
    lineText(this.cfg.name);
    lineLit(utf8(" (uid "));
    lineBytes(this.uid, this.uidLen);
    lineLit(utf8(")"));
    lineEmit(LOG_INFO);
  }

  /** A request went through: forget the backoff; say so once after failures. */
  private succeeded(): void {
    this.backoff.reset();
    this.conflicts = 0;
    this.retryAtMs = 0;
    if (this.failing) {
      this.failing = false;
      this.lastErrKey = 0;
      logText(LOG_INFO, utf8("node: API server reachable again"));
    }
  }

  private conflict(nowMs: i64): void {
    this.conflicts++;
    if (this.conflicts > CONFLICT_RETRIES_IMMEDIATE) this.retryAtMs = nowMs + this.backoff.next();
  }

  /** A request failed (`code`: connection/limit error, or E_HTTP_STATUS with
   *  `status`): back off, and log it unless it is a repeat. */
  private onFailure(req: i32, code: i32, status: i32, nowMs: i64): void {
    if (req == REQ_REVIEW) this.kubelet.onReviewDone(0, nowMs);
    this.failing = true;
    this.retryAtMs = nowMs + this.backoff.next();
    const key: i64 = <i64>req * 100000 + (code == E_HTTP_STATUS ? <i64>status : <i64>(-code) + 1000);
    if (key == this.lastErrKey && nowMs - this.lastErrLogMs < ERROR_LOG_REPEAT_MS) return;
    this.lastErrKey = key;
    this.lastErrLogMs = nowMs;
    const lease = req >= REQ_LEASE_GET && req <= REQ_LEASE_RENEW;
    lineStart(lease ? utf8("lease: ") : utf8("node: "));
    this.describe(req);
    lineLit(utf8(" failed: "));
    const cfg = this.cfg;
    if (code == E_HTTP_STATUS) {
      lineLit(utf8("HTTP "));
      lineInt(status);
      if (status == 401) lineLit(utf8(" (client certificate not accepted)"));
      else if (status == 403) lineLit(utf8(" (forbidden: check the node name matches the certificate CN system:node:<name>)"));
    } else if (code == E_CERT) {
      lineLit(utf8("server certificate rejected: see the shim's log line above; check tls.ca_file"));
    } else if (code == E_CONNECT || code == E_TLS || code == E_TIMEOUT) {
      lineLit(code == E_CONNECT ? utf8("cannot connect to ") : code == E_TLS ? utf8("TLS error with ") : utf8("no answer in time from "));
      lineText(cfg.serverHost);
      if (code == E_CONNECT) {
        lineLit(utf8(":"));
        lineInt(cfg.serverPort);
      }
    } else if (code == E_CLOSED) {
      lineLit(utf8("connection closed by the API server"));
    } else if (code == E_IO) {
      lineLit(utf8("connection error"));
    } else if (code == E_MALFORMED) {
      lineLit(utf8("malformed response"));
    } else if (code == E_TOOLARGE) {
      lineLit(utf8("exceeds a size limit"));
    } else {
      lineLit(utf8("error "));
      lineInt(code);
    }
    lineLit(L_RETRYING);
    lineEmit(LOG_WARN);
  }

  private describe(req: i32): void {
    if (req == REQ_NODE_CREATE) lineLit(utf8("registration"));
    else if (req == REQ_NODE_GET) lineLit(utf8("GET Node"));
    else if (req == REQ_NODE_STATUS) lineLit(utf8("status update"));
    else if (req == REQ_LEASE_GET) lineLit(METHOD_GET);
    else if (req == REQ_LEASE_CREATE) lineLit(utf8("create"));
    else if (req == REQ_CONFIGMAP_REPORT) lineLit(utf8("ConfigMap report"));
    else if (req == REQ_CSR_CREATE || req == REQ_SERVING_CSR_CREATE) lineLit(utf8("CSR submission"));
    else if (req == REQ_CSR_GET || req == REQ_SERVING_CSR_GET) lineLit(utf8("CSR status"));
    else if (req == REQ_REVIEW) lineLit(utf8("kubelet review"));
    else lineLit(utf8("renewal"));
  }
}
