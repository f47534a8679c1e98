// The node's kubelet endpoint (issue 5): HTTPS on the advertised port
// (daemonEndpoints.kubeletEndpoint), served like a kubelet's.
//
// The host does TCP and TLS (net_listen / net_accept: the serving certificate
// of key slot 1, client certificates requested and verified against the
// client CA); this file does HTTP/1.1 and the kubelet's checks:
//  - authentication (pkg/kubelet/server/auth.go, the apiserver's
//    authenticatorfactory): a verified client certificate is the user CN in
//    the groups O; otherwise `Authorization: Bearer` is checked with a
//    TokenReview (answers cached KUBELET_TOKEN_TTL_MS); otherwise 401;
//  - authorization: a SubjectAccessReview for verb (from the method) on
//    nodes/<subresource> named after this node, the subresources from the
//    path as kubelet 1.36's GetRequestAttributes maps it: first the
//    fine-grained one where there is one (pods, healthz, configz), then,
//    when that is denied, the coarse one (stats, metrics, log, ...,
//    everything else proxy); allowed when one is; answers cached per
//    subresource (allowed 5 min, denied 30 s);
//  - persistent connections (RFC 9112 section 9.3): after a response the
//    connection waits at the back of the queue for its next request (up to
//    KUBELET_IDLE_MS) unless the client asked "Connection: close", spoke
//    HTTP/1.0, sent bytes past its head, the request could not be read, or
//    no slot would be left for a new client; so a scraper or the API
//    server's proxy reuses one TLS session instead of a handshake per
//    request;
//  - served one connection at a time through one KUBELET_BUF buffer: the
//    head is read into it, then the response is written into it chunk by
//    chunk (chunked transfer coding, RFC 9112 section 7.1), so no response
//    size is limited by RAM; a kept connection with no new request yet
//    gives its turn to the next one.
// Limits (util/limits.ts KUBELET_*): connections, head size (431), head and
// send timeouts (408 / close), review timeout (401 / 500). The reviews are
// sent by the agent over its API connection (reviewWanted, writeReview,
// onReviewToken, onReviewDone).

import {
  LOG_DEBUG, LOG_INFO, LOG_WARN, net_accept, net_close, net_listen, net_peer, net_recv, net_send, NET_TLS,
} from "../host/imports";
import { JsonReader, TOK_FALSE, TOK_STRING, TOK_TRUE } from "../json/reader";
import { JsonWriter } from "../json/writer";
import { COUNTERS } from "../metrics/counters";
import { bytesEqualLitNoCase, indexOfHeadEnd, lowerAscii } from "../util/bytes";
import { E_AGAIN, E_NOMEM } from "../util/errors";
import {
  KUBELET_AUTHZ_ALLOWED_TTL_MS, KUBELET_AUTHZ_CACHE, KUBELET_AUTHZ_DENIED_TTL_MS, KUBELET_BUF,
  KUBELET_CONNS_MAX, KUBELET_GROUPS_MAX, KUBELET_HEAD_TIMEOUT_MS, KUBELET_IDLE_MS, KUBELET_LISTEN_RETRY_MS,
  KUBELET_REVIEW_TIMEOUT_MS, KUBELET_SEND_TIMEOUT_MS, KUBELET_TOKEN_TTL_MS, KUBELET_USER_MAX,
} from "../util/limits";
import { bytesEqualLit, Lit, litLen, litPtr, utf8 } from "../util/lit";
import { NodeConfig, newText, Text } from "../k8s/config";
import { L_API_VERSION, L_KIND, L_SPEC } from "../k8s/lits";
import { lineBytes, lineEmit, lineInt, lineLit, lineStart, lineText } from "../k8s/log";
import { fineSubresourceOf, Routes, ROUTE_NOT_FOUND, ROUTE_NO_PODS, routeOf, subresourceOf } from "./routes";

const ST_IDLE: i32 = 0; // no connection being served
const ST_HEAD: i32 = 1; // reading the request head
const ST_AUTHN: i32 = 2; // waiting for a TokenReview
const ST_AUTHZ: i32 = 3; // waiting for a SubjectAccessReview
const ST_SEND: i32 = 4; // sending buf[sent, len), then the next chunk

/** What the agent should send for the server (reviewWanted). */
export const REVIEW_NONE: i32 = 0;
export const REVIEW_TOKEN: i32 = 1;
export const REVIEW_ACCESS: i32 = 2;

// Request methods (kubelet auth.go: GET/HEAD get, POST create, PUT update,
// PATCH patch, DELETE delete).
const VERB_GET: i32 = 0;
const VERB_CREATE: i32 = 1;
const VERB_UPDATE: i32 = 2;
const VERB_PATCH: i32 = 3;
const VERB_DELETE: i32 = 4;

/** Room for a chunk's size line "hhhh\r\n" before its data, and "\r\n" plus
 *  the last-chunk "0\r\n\r\n" after it. */
const CHUNK_HEAD: i32 = 6;
const CHUNK_TAIL: i32 = 7;

const TOKEN_REVIEW_PATH: Lit = utf8("/apis/authentication.k8s.io/v1/tokenreviews");
const ACCESS_REVIEW_PATH: Lit = utf8("/apis/authorization.k8s.io/v1/subjectaccessreviews");
const AUTHENTICATED: Lit = utf8("system:authenticated");
const K_KUBELET: Lit = utf8("kubelet: ");

/** FNV-1a over (ptr, len), continuing from `h` (cache keys; not secret). */
function fnv(h: u32, ptr: usize, len: i32): u32 {
  for (let i = 0; i < len; i++) h = (h ^ <u32>load<u8>(ptr + <usize>i)) * 16777619;
  return h;
}

// @ts-ignore: decorator
@unmanaged
export class KubeletServer {
  /** Listening handle, -1 while not listening. */
  listenH: i32 = -1;
  private listenAtMs: i64 = 0;
  private listenLogged: i32 = 0;
  /** Accepted handles, oldest first; [0] is being served. */
  private readonly queue: usize = heap.alloc(<usize>KUBELET_CONNS_MAX * 4);
  /** Per queue entry: when a kept-alive connection waiting for its next
   *  request is closed; 0 for a connection with no request served yet. */
  private readonly idleUntil: usize = heap.alloc(<usize>KUBELET_CONNS_MAX * 8);
  private queued: i32 = 0;
  /** The request allows its connection to stay open after the response. */
  private keepAlive: bool = false;
  private state: i32 = ST_IDLE;
  private deadlineMs: i64 = 0;
  private readonly buf: usize = heap.alloc(<usize>KUBELET_BUF);
  private len: i32 = 0;
  private sent: i32 = 0;
  // The request being served.
  private verb: i32 = VERB_GET;
  private head: bool = false;
  private route: i32 = ROUTE_NOT_FOUND;
  private sub: Lit = 0;
  /** The fine-grained subresource asked about first, 0 when the path has none. */
  private fine: Lit = 0;
  /** The subresource being authorized now: fine, then sub. */
  private trying: Lit = 0;
  private tokenOff: i32 = 0;
  private tokenLen: i32 = 0;
  private status: i32 = 0;
  /** The body of a fail() answer. */
  private failText: Lit = 0;
  private section: i32 = 0;
  private last: bool = false;
  readonly user: Text = newText(KUBELET_USER_MAX);
  readonly groups: Text = newText(KUBELET_GROUPS_MAX);
  // TokenReview answer cache (one token) and SubjectAccessReview answers.
  private tokenHash: u32 = 0;
  private tokenUntilMs: i64 = 0;
  private readonly tokenUser: Text = newText(KUBELET_USER_MAX);
  private readonly tokenGroups: Text = newText(KUBELET_GROUPS_MAX);
  private readonly authzKey: usize = heap.alloc(<usize>KUBELET_AUTHZ_CACHE * 4);
  private readonly authzUntil: usize = heap.alloc(<usize>KUBELET_AUTHZ_CACHE * 8);
  private readonly authzAllowed: usize = heap.alloc(<usize>KUBELET_AUTHZ_CACHE);
  private authzNext: i32 = 0;
  // Review in progress.
  review: i32 = REVIEW_NONE;
  private reviewSent: bool = false;
  private gotAuthenticated: bool = false;
  private gotAllowed: bool = false;
  private readonly out: Text = newText(0);
  readonly routes: Routes;
  private cfg: NodeConfig;

  constructor(cfg: NodeConfig, routes: Routes) {
    this.cfg = cfg;
    this.routes = routes;
    memory.fill(this.authzKey, 0, <usize>KUBELET_AUTHZ_CACHE * 4);
  }

  // ---- listening and accepting ----

  /** Listens once the serving certificate is there (`ready`); accepts and
   *  serves. Called on every poll and event. */
  step(ready: bool, nowMs: i64): void {
    if (this.listenH < 0) {
      if (!ready || nowMs < this.listenAtMs) return;
      const h = net_listen(this.cfg.kubeletPort, NET_TLS);
      if (h < 0) {
        this.listenAtMs = nowMs + KUBELET_LISTEN_RETRY_MS;
        if (this.listenLogged != h) {
          this.listenLogged = h;
          lineStart(K_KUBELET);
          lineLit(utf8("cannot listen on port "));
          lineInt(this.cfg.kubeletPort);
          lineLit(utf8(" (host error "));
          lineInt(h);
          lineLit(utf8("; see its log above); trying again every 30 s"));
          lineEmit(LOG_WARN);
        }
        return;
      }
      this.listenH = h;
      lineStart(K_KUBELET);
      lineLit(utf8("serving HTTPS on port "));
      lineInt(this.cfg.kubeletPort);
      lineEmit(LOG_INFO);
    }
    if (this.makeRoom()) {
      this.pendingSeen = false;
      for (;;) {
        const h = net_accept(this.listenH);
        if (h == E_NOMEM) continue; // no host slot: the host closed it (and counted it)
        if (h < 0) break; // E_AGAIN: none waiting
        if (this.queued >= this.cfg.kubeletConns) { net_close(h); COUNTERS.kubeletDropped++; continue; }
        this.push(h, 0);
      }
    }
    this.closeIdle(nowMs);
    this.serve(nowMs);
  }

  /** The host reported a client waiting at the listener (agent.event). */
  pendingSeen: bool = false;

  /** The listening handle, -1 before listening. */
  get listenHandle(): i32 { return this.listenH; }

  /** Whether to accept now. With all slots taken and one holding a kept
   *  connection with no new request, that one gives its slot to a client
   *  the host says is waiting (the listener readable, pendingSeen), as
   *  servers close idle HTTP/1.1 connections (RFC 9112 section 9.6); until
   *  that news nothing is accepted, as the host would refuse the client for
   *  want of a slot. With none to give, the accept refuses as before. */
  private makeRoom(): bool {
    if (this.queued < this.cfg.kubeletConns) return true;
    if (!this.pendingSeen) return this.oldestIdle(false) < 0;
    const i = this.oldestIdle(true);
    if (i == 0) this.finish();
    else if (i > 0) net_close(this.take(i));
    return true;
  }

  /** The queue entry of the kept connection idle longest (no new request
   *  yet; with `sent`, also its last answer gone from the host, asked only
   *  when it is to be closed), or -1. */
  private oldestIdle(sent: bool): i32 {
    let best = -1;
    let bestUntil = i64.MAX_VALUE;
    for (let i = 0; i < this.queued; i++) {
      const u = load<i64>(this.idleUntil + <usize>i * 8);
      if (u > 0 && u < bestUntil && (!sent || net_send(load<i32>(this.queue + <usize>i * 4), this.buf, 0) != E_AGAIN)) {
        best = i;
        bestUntil = u;
      }
    }
    return best;
  }

  /** The next deadline: the served connection's, or when a kept one waiting
   *  in the queue is closed; i64.MAX_VALUE when none. */
  get dueAtMs(): i64 {
    let due = this.state == ST_IDLE ? i64.MAX_VALUE : this.deadlineMs;
    for (let i = this.state == ST_IDLE ? 0 : 1; i < this.queued; i++) {
      const u = load<i64>(this.idleUntil + <usize>i * 8);
      if (u > 0 && u < due) due = u;
    }
    return due;
  }

  // ---- the queue ----

  private push(h: i32, idleUntil: i64): void {
    store<i32>(this.queue + <usize>this.queued * 4, h);
    store<i64>(this.idleUntil + <usize>this.queued * 8, idleUntil);
    this.queued++;
  }

  /** Takes entry i out of the queue and returns its handle. */
  private take(i: i32): i32 {
    const h = load<i32>(this.queue + <usize>i * 4);
    this.queued--;
    const n = <usize>(this.queued - i);
    memory.copy(this.queue + <usize>i * 4, this.queue + <usize>(i + 1) * 4, n * 4);
    memory.copy(this.idleUntil + <usize>i * 8, this.idleUntil + <usize>(i + 1) * 8, n * 8);
    return h;
  }

  /** Closes the kept connections waiting in the queue whose idle time is up
   *  (the served one watches its own deadline). */
  private closeIdle(nowMs: i64): void {
    for (let i = this.state == ST_IDLE ? 0 : 1; i < this.queued;) {
      const u = load<i64>(this.idleUntil + <usize>i * 8);
      if (u > 0 && nowMs >= u) net_close(this.take(i));
      else i++;
    }
  }

  /** The served connection, kept and with no new request yet, goes to the
   *  back of the queue with its idle deadline: the next one is served. */
  private rotate(): void {
    const until = this.deadlineMs;
    this.push(this.take(0), until);
    this.state = ST_IDLE;
  }

  // ---- serving ----

  private serve(nowMs: i64): void {
    let rotations = 0;
    for (;;) {
      if (this.state == ST_IDLE) {
        if (this.queued == 0) return;
        this.state = ST_HEAD;
        this.len = 0;
        this.keepAlive = false;
        const idle = load<i64>(this.idleUntil);
        this.deadlineMs = idle > 0 ? idle : nowMs + KUBELET_HEAD_TIMEOUT_MS;
      }
      const h = load<i32>(this.queue);
      const before = this.state;
      const queued = this.queued;
      if (before == ST_HEAD) this.readHead(h, nowMs);
      else if (before == ST_SEND) this.send(h, nowMs);
      else this.waitReview(nowMs);
      if (this.state == before) return; // waiting for the network or a review
      // Its head not started and the queue as long as before: the served
      // connection gave its turn away (rotate); once all did, they are idle.
      if (before == ST_HEAD && this.state == ST_IDLE && this.queued == queued &&
          ++rotations >= this.queued) return;
    }
  }

  private readHead(h: i32, nowMs: i64): void {
    for (;;) {
      if (this.len >= KUBELET_BUF) { this.fail(431, utf8("request header fields too large\n"), nowMs); return; }
      const r = net_recv(h, this.buf + <usize>this.len, KUBELET_BUF - this.len);
      const waiting = this.len == 0 && load<i64>(this.idleUntil) > 0; // kept, no new request yet
      if (r == E_AGAIN) {
        if (waiting) {
          // Idle too long: closed without an answer, as Go's http.Server does.
          if (nowMs >= this.deadlineMs) this.finish();
          else if (this.queued > 1) this.rotate();
          return;
        }
        if (nowMs >= this.deadlineMs) this.fail(408, utf8("request head not received in time\n"), nowMs);
        return;
      }
      if (r <= 0) { this.finish(); return; } // closed, or its handshake failed (the host logged it)
      if (waiting) {
        // A new request on a kept connection: the head timeout applies now.
        store<i64>(this.idleUntil, 0);
        this.deadlineMs = nowMs + KUBELET_HEAD_TIMEOUT_MS;
      }
      const from = this.len > 3 ? this.len - 3 : 0;
      this.len += r;
      const at = indexOfHeadEnd(this.buf, this.len, from);
      if (at >= 0) { this.parse(h, at + 2, nowMs); return; }
    }
  }

  /** The head is buf[0, end) (lines ending CRLF). */
  private parse(h: i32, end: i32, nowMs: i64): void {
    const b = this.buf;
    // Request line: method SP target SP HTTP-version (RFC 9112 section 3).
    let sp1 = 0;
    while (sp1 < end && load<u8>(b + <usize>sp1) != 0x20) sp1++;
    let sp2 = sp1 + 1;
    while (sp2 < end && load<u8>(b + <usize>sp2) != 0x20) sp2++;
    let eol = sp2;
    while (eol < end && load<u8>(b + <usize>eol) != 0x0d) eol++;
    if (sp2 >= end || sp2 == sp1 + 1 || load<u8>(b + <usize>(sp1 + 1)) != 0x2f ||
        !(bytesEqualLit(b + <usize>(sp2 + 1), eol - sp2 - 1, utf8("HTTP/1.1")) ||
          bytesEqualLit(b + <usize>(sp2 + 1), eol - sp2 - 1, utf8("HTTP/1.0")))) {
      this.fail(400, utf8("malformed request line\n"), nowMs);
      return;
    }
    this.head = false;
    // HTTP/1.1 is persistent unless "Connection: close"; HTTP/1.0 is not
    // (RFC 9112 section 9.3); bytes after the head (a pipelined request or a
    // body) are not kept for a next turn, so they end the connection too.
    this.keepAlive = load<u8>(b + <usize>(eol - 1)) == 0x31 && this.len == end + 2;
    if (bytesEqualLit(b, sp1, utf8("GET"))) this.verb = VERB_GET;
    else if (bytesEqualLit(b, sp1, utf8("HEAD"))) { this.verb = VERB_GET; this.head = true; }
    else if (bytesEqualLit(b, sp1, utf8("POST"))) this.verb = VERB_CREATE;
    else if (bytesEqualLit(b, sp1, utf8("PUT"))) this.verb = VERB_UPDATE;
    else if (bytesEqualLit(b, sp1, utf8("PATCH"))) this.verb = VERB_PATCH;
    else if (bytesEqualLit(b, sp1, utf8("DELETE"))) this.verb = VERB_DELETE;
    else { this.fail(405, utf8("method not allowed\n"), nowMs); return; }
    // The path without the query.
    let pathEnd = sp1 + 1;
    while (pathEnd < sp2 && load<u8>(b + <usize>pathEnd) != 0x3f) pathEnd++;
    const path = b + <usize>(sp1 + 1);
    const pathLen = pathEnd - sp1 - 1;
    this.route = routeOf(path, pathLen);
    this.sub = subresourceOf(path, pathLen);
    this.fine = fineSubresourceOf(path, pathLen);
    this.trying = this.fine != 0 ? this.fine : this.sub;
    // Header fields (RFC 9112 section 5): name ":" OWS value OWS CRLF.
    this.tokenLen = 0;
    let p = eol + 2;
    while (p < end) {
      let e = p;
      while (e < end && load<u8>(b + <usize>e) != 0x0d) e++;
      let c = p;
      while (c < e && load<u8>(b + <usize>c) != 0x3a) c++;
      if (c == e || c == p) { this.fail(400, utf8("malformed header field\n"), nowMs); return; }
      let v = c + 1;
      while (v < e && (load<u8>(b + <usize>v) == 0x20 || load<u8>(b + <usize>v) == 0x09)) v++;
      let ve = e;
      while (ve > v && (load<u8>(b + <usize>(ve - 1)) == 0x20 || load<u8>(b + <usize>(ve - 1)) == 0x09)) ve--;
      if (bytesEqualLitNoCase(b + <usize>p, c - p, utf8("authorization"))) {
        if (ve - v > 7 && bytesEqualLitNoCase(b + <usize>v, 7, utf8("bearer "))) {
          this.tokenOff = v + 7;
          this.tokenLen = ve - v - 7;
        }
      } else if (bytesEqualLitNoCase(b + <usize>p, c - p, utf8("connection"))) {
        if (hasCloseToken(b + <usize>v, ve - v)) this.keepAlive = false;
      } else if (bytesEqualLitNoCase(b + <usize>p, c - p, utf8("transfer-encoding")) ||
                 (bytesEqualLitNoCase(b + <usize>p, c - p, utf8("content-length")) &&
                  !(ve - v == 1 && load<u8>(b + <usize>v) == 0x30))) {
        // No endpoint here takes a body; refusing it keeps the framing simple.
        this.fail(413, utf8("request bodies are not accepted\n"), nowMs);
        return;
      }
      p = e + 2;
    }
    this.authenticate(h, nowMs);
  }

  // ---- authentication and authorization ----

  private authenticate(h: i32, nowMs: i64): void {
    // net_peer: "<CN>\n<O>\n<O>..." of a verified client certificate.
    const g = this.groups;
    const n = net_peer(h, g.ptr, g.cap);
    if (n > 0) {
      let i = 0;
      while (i < n && load<u8>(g.ptr + <usize>i) != 0x0a) i++;
      this.user.set(g.ptr, i < KUBELET_USER_MAX ? i : KUBELET_USER_MAX);
      const rest = i < n ? n - i - 1 : 0;
      memory.copy(g.ptr, g.ptr + <usize>(i + 1), <usize>rest);
      g.len = rest;
      this.addAuthenticated();
      this.authorize(nowMs);
      return;
    }
    if (this.tokenLen > 0) {
      const th = fnv(2166136261, this.buf + <usize>this.tokenOff, this.tokenLen);
      if (th == this.tokenHash && nowMs < this.tokenUntilMs) {
        this.user.set(this.tokenUser.ptr, this.tokenUser.len);
        this.groups.set(this.tokenGroups.ptr, this.tokenGroups.len);
        this.authorize(nowMs);
        return;
      }
      this.startReview(REVIEW_TOKEN, nowMs);
      return;
    }
    this.fail(401, utf8("Unauthorized\n"), nowMs);
  }

  private authzKeyNow(): u32 {
    let k = fnv(2166136261, this.user.ptr, this.user.len);
    k = fnv(k ^ 0x0a, this.groups.ptr, this.groups.len);
    k = fnv(k, litPtr(this.trying), litLen(this.trying));
    return (k ^ <u32>this.verb) | 1; // never 0 (= free slot)
  }

  private authorize(nowMs: i64): void {
    const key = this.authzKeyNow();
    for (let i = 0; i < KUBELET_AUTHZ_CACHE; i++) {
      if (load<u32>(this.authzKey + <usize>i * 4) == key && nowMs < load<i64>(this.authzUntil + <usize>i * 8)) {
        this.decide(load<u8>(this.authzAllowed + <usize>i) != 0, nowMs);
        return;
      }
    }
    this.startReview(REVIEW_ACCESS, nowMs);
  }

  private startReview(kind: i32, nowMs: i64): void {
    this.review = kind;
    this.reviewSent = false;
    this.state = kind == REVIEW_TOKEN ? ST_AUTHN : ST_AUTHZ;
    this.deadlineMs = nowMs + KUBELET_REVIEW_TIMEOUT_MS;
  }

  private waitReview(nowMs: i64): void {
    if (nowMs < this.deadlineMs) return;
    // No answer in time: kubelet answers an authn error 401, an authz error 500.
    const authn = this.state == ST_AUTHN;
    this.review = REVIEW_NONE;
    lineStart(K_KUBELET);
    lineLit(authn ? utf8("TokenReview") : utf8("SubjectAccessReview"));
    lineLit(utf8(" not answered in time"));
    lineEmit(LOG_WARN);
    if (authn) this.fail(401, utf8("Unauthorized\n"), nowMs);
    else this.fail(500, utf8("Authorization error\n"), nowMs);
  }

  /** A review is wanted and not yet handed to the agent. */
  get reviewWanted(): bool { return this.review != REVIEW_NONE && !this.reviewSent; }

  get reviewPath(): Lit { return this.review == REVIEW_TOKEN ? TOKEN_REVIEW_PATH : ACCESS_REVIEW_PATH; }

  /** The review's body (authentication.k8s.io/v1 TokenReview or
   *  authorization.k8s.io/v1 SubjectAccessReview, as kubelet's webhook
   *  authenticator / authorizer send them). */
  writeReview(w: JsonWriter): void {
    this.reviewSent = true;
    this.gotAuthenticated = false;
    this.gotAllowed = false;
    w.beginObject();
    if (this.review == REVIEW_TOKEN) {
      w.kvLit(L_API_VERSION, utf8("authentication.k8s.io/v1"));
      w.kvLit(L_KIND, utf8("TokenReview"));
      w.keyObject(L_SPEC);
      w.kvBytes(utf8("token"), this.buf + <usize>this.tokenOff, this.tokenLen);
      w.endObject();
      this.user.len = 0;
      this.groups.len = 0;
    } else {
      w.kvLit(L_API_VERSION, utf8("authorization.k8s.io/v1"));
      w.kvLit(L_KIND, utf8("SubjectAccessReview"));
      w.keyObject(L_SPEC);
      w.kvBytes(utf8("user"), this.user.ptr, this.user.len);
      w.keyArray(utf8("groups"));
      let s = 0;
      const g = this.groups;
      for (let i = 0; i <= g.len; i++) {
        if (i == g.len || load<u8>(g.ptr + <usize>i) == 0x0a) {
          if (i > s) w.strBytes(g.ptr + <usize>s, i - s);
          s = i + 1;
        }
      }
      w.endArray();
      w.keyObject(utf8("resourceAttributes"));
      w.kvLit(utf8("verb"), this.verbLit());
      w.kvLit(utf8("resource"), utf8("nodes"));
      w.kvLit(utf8("subresource"), this.trying);
      w.kvBytes(utf8("name"), this.cfg.name.ptr, this.cfg.name.len);
      w.endObject();
      w.endObject();
    }
    w.endObject();
  }

  private verbLit(): Lit {
    const v = this.verb;
    return v == VERB_GET ? utf8("get") : v == VERB_CREATE ? utf8("create") : v == VERB_UPDATE ? utf8("update")
      : v == VERB_PATCH ? utf8("patch") : utf8("delete");
  }

  /** One token of the review's response. */
  onReviewToken(rd: JsonReader, t: i32): void {
    if (t == TOK_TRUE || t == TOK_FALSE) {
      if (rd.pathIsLit(utf8("status.authenticated"))) this.gotAuthenticated = t == TOK_TRUE;
      else if (rd.pathIsLit(utf8("status.allowed"))) this.gotAllowed = t == TOK_TRUE;
      return;
    }
    if (t != TOK_STRING) return;
    if (rd.pathIsLit(utf8("status.user.username"))) {
      this.user.set(rd.valuePtr, rd.valueLen < KUBELET_USER_MAX ? rd.valueLen : KUBELET_USER_MAX);
    } else if (rd.pathIsLit(utf8("status.user.groups[]"))) {
      const g = this.groups;
      if (g.len + 1 + rd.valueLen > g.cap) return; // more groups than fit: the first ones count
      if (g.len > 0) g.add(litPtr(utf8("\n")), 1);
      g.add(rd.valuePtr, rd.valueLen);
    }
  }

  /** The review's response is complete (`status` 0: no answer at all). */
  onReviewDone(status: i32, nowMs: i64): void {
    const kind = this.review;
    this.review = REVIEW_NONE;
    if (this.state != ST_AUTHN && this.state != ST_AUTHZ) return; // timed out meanwhile
    const ok = status >= 200 && status < 300;
    if (kind == REVIEW_TOKEN) {
      if (!ok || !this.gotAuthenticated || this.user.len == 0) {
        if (!ok) this.logReview(utf8("TokenReview"), status);
        this.fail(401, utf8("Unauthorized\n"), nowMs);
      } else {
        // kubelet's authenticator adds system:authenticated (group adder).
        this.addAuthenticated();
        this.tokenHash = fnv(2166136261, this.buf + <usize>this.tokenOff, this.tokenLen);
        this.tokenUntilMs = nowMs + KUBELET_TOKEN_TTL_MS;
        this.tokenUser.set(this.user.ptr, this.user.len);
        this.tokenGroups.set(this.groups.ptr, this.groups.len);
        this.authorize(nowMs);
      }
    } else {
      if (!ok) {
        this.logReview(utf8("SubjectAccessReview"), status);
        this.fail(500, utf8("Authorization error\n"), nowMs);
      } else {
        const i = this.authzNext;
        this.authzNext = (i + 1) % KUBELET_AUTHZ_CACHE;
        store<u32>(this.authzKey + <usize>i * 4, this.authzKeyNow());
        store<i64>(this.authzUntil + <usize>i * 8,
          nowMs + (this.gotAllowed ? KUBELET_AUTHZ_ALLOWED_TTL_MS : KUBELET_AUTHZ_DENIED_TTL_MS));
        store<u8>(this.authzAllowed + <usize>i, this.gotAllowed ? 1 : 0);
        this.decide(this.gotAllowed, nowMs);
      }
    }
    this.serve(nowMs);
  }

  private logReview(what: Lit, status: i32): void {
    lineStart(K_KUBELET);
    lineLit(what);
    lineLit(utf8(" failed: HTTP "));
    lineInt(status);
    lineEmit(LOG_WARN);
  }

  private addAuthenticated(): void {
    const g = this.groups;
    let s = 0;
    for (let i = 0; i <= g.len; i++) {
      if (i == g.len || load<u8>(g.ptr + <usize>i) == 0x0a) {
        if (bytesEqualLit(g.ptr + <usize>s, i - s, AUTHENTICATED)) return;
        s = i + 1;
      }
    }
    if (g.len + 1 + litLen(AUTHENTICATED) > g.cap) return;
    if (g.len > 0) g.add(litPtr(utf8("\n")), 1);
    g.lit(AUTHENTICATED);
  }

  private decide(allowed: bool, nowMs: i64): void {
    if (!allowed && this.trying == this.fine && this.fine != 0) {
      this.trying = this.sub; // kubelet's next attribute: the coarse subresource
      this.authorize(nowMs);
      return;
    }
    if (!allowed) {
      // kubelet: "Forbidden (user=<u>, verb=<v>, resource=nodes, subresource(s)=[<s>...])".
      this.status = 403;
      this.beginResponse(utf8("text/plain; charset=utf-8"), nowMs);
      return;
    }
    lineStart(K_KUBELET);
    lineBytes(this.user.ptr, this.user.len);
    lineLit(utf8(" "));
    lineLit(this.verbLit());
    lineLit(utf8(" nodes/"));
    lineLit(this.trying);
    lineLit(utf8(" route "));
    lineInt(this.route);
    lineEmit(LOG_DEBUG);
    const r = this.route;
    if (this.verb != VERB_GET && r != ROUTE_NOT_FOUND && r != ROUTE_NO_PODS) {
      this.fail(405, utf8("method not allowed\n"), nowMs);
      return;
    }
    this.status = r == ROUTE_NOT_FOUND || r == ROUTE_NO_PODS ? 404 : 200;
    this.beginResponse(this.routes.contentType(r), nowMs);
  }

  // ---- responses ----

  /** Answers `status` with a short text body, without authentication (a
   *  request that cannot be read, or a refused one). */
  private fail(status: i32, text: Lit, nowMs: i64): void {
    // A request that could not be read (400, 408, 413, 431) leaves the
    // connection's framing unknown: it is closed after the answer.
    if (status == 400 || status == 408 || status == 413 || status == 431) this.keepAlive = false;
    this.status = status;
    this.route = -1; // the body is failText
    this.failText = text;
    this.review = REVIEW_NONE;
    this.beginResponse(utf8("text/plain; charset=utf-8"), nowMs);
  }
  private beginResponse(ctype: Lit, nowMs: i64): void {
    COUNTERS.kubeletRequests++;
    if (this.status >= 400) COUNTERS.kubeletErrors++;
    const o = this.out;
    o.ptr = this.buf;
    o.cap = KUBELET_BUF;
    o.len = 0;
    o.lit(utf8("HTTP/1.1 "));
    o.int(this.status);
    o.lit(utf8(" "));
    o.lit(reason(this.status));
    o.lit(utf8("\r\nContent-Type: "));
    o.lit(ctype);
    o.lit(utf8("\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n"));
    // Kept, and given up when a new client waits (step, KUBELET_IDLE_MS).
    if (!this.keepAlive) o.lit(utf8("Connection: close\r\n"));
    if (this.head) o.lit(utf8("\r\n"));
    else o.lit(utf8("Transfer-Encoding: chunked\r\n\r\n"));
    this.len = o.len;
    this.sent = 0;
    this.section = 0;
    this.last = this.head;
    this.state = ST_SEND;
    this.deadlineMs = nowMs + KUBELET_SEND_TIMEOUT_MS;
  }

  /** Writes the next chunk of the body into buf; false when there was none. */
  private nextChunk(nowMs: i64): bool {
    if (this.last) return false;
    for (;;) {
      const o = this.out;
      o.ptr = this.buf + <usize>CHUNK_HEAD;
      o.cap = KUBELET_BUF - CHUNK_HEAD - CHUNK_TAIL;
      o.len = 0;
      let next = -1;
      const r = this.route;
      if (r < 0) o.lit(this.failText);
      else if (this.status == 403) this.forbiddenText(o);
      else next = this.routes.write(r, this.section, o, nowMs);
      if (o.len >= o.cap) {
        // A section must fit the buffer (routes.ts sizes them): end the body
        // here rather than send a cut one; the client sees a broken chunked
        // body, the log says why.
        lineStart(K_KUBELET);
        lineLit(utf8("response section too large, route "));
        lineInt(r);
        lineEmit(LOG_WARN);
        this.last = true;
        return false;
      }
      this.section = next;
      const n = o.len;
      if (n == 0 && next >= 0) continue; // an empty section: no empty chunk (it would end the body)
      let at = 0;
      if (n > 0) {
        // "hhhh\r\n" (leading zeros are allowed: chunk-size = 1*HEXDIG).
        for (let i = 0; i < 4; i++) {
          const d = (n >> ((3 - i) * 4)) & 15;
          store<u8>(this.buf + <usize>i, <u8>(d < 10 ? 0x30 + d : 0x57 + d));
        }
        store<u16>(this.buf + 4, 0x0a0d);
        at = CHUNK_HEAD + n;
        store<u16>(this.buf + <usize>at, 0x0a0d);
        at += 2;
      }
      if (next < 0) {
        memory.copy(this.buf + <usize>at, litPtr(utf8("0\r\n\r\n")), 5);
        at += 5;
        this.last = true;
      }
      this.len = at;
      this.sent = 0;
      return true;
    }
  }

  private forbiddenText(o: Text): void {
    o.lit(utf8("Forbidden (user="));
    o.add(this.user.ptr, this.user.len);
    o.lit(utf8(", verb="));
    o.lit(this.verbLit());
    // The subresources asked about, as Go prints a []string: "[pods proxy]".
    o.lit(utf8(", resource=nodes, subresource(s)=["));
    if (this.fine != 0) {
      o.lit(this.fine);
      o.lit(utf8(" "));
    }
    o.lit(this.sub);
    o.lit(utf8("])\n"));
  }

  private send(h: i32, nowMs: i64): void {
    for (;;) {
      if (this.sent >= this.len && !this.nextChunk(nowMs)) { this.done(h, nowMs); return; }
      const r = net_send(h, this.buf + <usize>this.sent, this.len - this.sent);
      if (r == E_AGAIN) {
        if (nowMs >= this.deadlineMs) this.finish();
        return;
      }
      if (r <= 0) { this.finish(); return; }
      this.sent += r;
    }
  }

  /** The response is sent: the connection is kept (to the back of the
   *  queue, waiting for its next request) or closed, once the host holds
   *  none of it (a TLS record partly sent would be cut by the close; the
   *  state stays ST_SEND and this is asked again when the host is writable). */
  private done(h: i32, nowMs: i64): void {
    if (!this.keepAlive && net_send(h, this.buf, 0) == E_AGAIN && nowMs < this.deadlineMs) return;
    this.finish(this.keepAlive ? nowMs + KUBELET_IDLE_MS : 0);
  }

  /** Moves the queue on: the served connection goes to its back, kept until
   *  `keepUntilMs`, or (0) is closed. */
  private finish(keepUntilMs: i64 = 0): void {
    const h = this.take(0);
    if (keepUntilMs > 0) this.push(h, keepUntilMs);
    else net_close(h);
    this.state = ST_IDLE;
    this.review = REVIEW_NONE;
    this.len = 0;
  }
}

/** A Connection field value (comma-separated tokens, RFC 9110 section 7.6.1)
 *  names "close", in any case. */
function hasCloseToken(p: usize, n: i32): bool {
  let s = 0;
  for (let i = 0; i <= n; i++) {
    if (i == n || load<u8>(p + <usize>i) == 0x2c) {
      let a = s;
      let e = i;
      while (a < e && (load<u8>(p + <usize>a) == 0x20 || load<u8>(p + <usize>a) == 0x09)) a++;
      while (e > a && (load<u8>(p + <usize>(e - 1)) == 0x20 || load<u8>(p + <usize>(e - 1)) == 0x09)) e--;
      if (bytesEqualLitNoCase(p + <usize>a, e - a, utf8("close"))) return true;
      s = i + 1;
    }
  }
  return false;
}

/** Reason phrases (RFC 9110 section 15) of the statuses sent here. */
function reason(status: i32): Lit {
  if (status == 200) return utf8("OK");
  if (status == 400) return utf8("Bad Request");
  if (status == 401) return utf8("Unauthorized");
  if (status == 403) return utf8("Forbidden");
  if (status == 404) return utf8("Not Found");
  if (status == 405) return utf8("Method Not Allowed");
  if (status == 408) return utf8("Request Timeout");
  if (status == 413) return utf8("Content Too Large");
  if (status == 431) return utf8("Request Header Fields Too Large");
  return utf8("Internal Server Error");
}
