// ConfigMaps into device memory: each followed ConfigMap is listed, then
// watched (its own HttpClient and JsonReader; each watch is a stream of the
// agent's one HTTP/2 connection, http/h2.ts), and every change of its `memory_values` is validated whole and
// applied to device memory in one host commit (devmem/).
//
// Watch protocol (Kubernetes API concepts, "Efficient detection of changes";
// client-go tools/cache/reflector.go):
//   list:  GET /api/v1/namespaces/<ns>/configmaps?fieldSelector=metadata.name%3D<n>
//          -> the item (0 or 1) and the list's resourceVersion;
//   watch: ...&watch=1&resourceVersion=<rv>&allowWatchBookmarks=true
//          &timeoutSeconds=<300..600> (reflector: minWatchTimeout 5 min x (1 + rand));
//          each event {"type":..., "object":...} moves rv on; BOOKMARK events
//          only move rv. When the server ends the watch (timeout) it is
//          renewed at once from rv; after a disconnect it resumes from rv
//          after a backoff; 410 Gone (HTTP status or an ERROR event with code
//          410: the rv was compacted away) makes it list again.
// One name per watch because RBAC can only grant list/watch of named objects
// through a metadata.name field selector (resourceNames), see README
// "ConfigMaps"; HTTP/2 lets the watches share the connection all the same.
//
// Changes are reported to the cluster by the agent's main connection
// (writeReport): an Event on the ConfigMap per applied or rejected update,
// and the Node annotation pico.k3s.io/configmap-applied.

import { LOG_DEBUG, LOG_INFO, LOG_WARN, NET_CLIENT_CERT, NET_TLS, config_get, random_fill } from "../host/imports";
import { CFG_CONFIGMAP_NAMES, CFG_CONFIGMAP_NAMESPACE } from "../host/config";
import { HttpClient, HTTP_BODY, HTTP_DONE } from "../http/client";
import { H2Conn } from "../http/h2";
import { METHOD_GET, RequestWriter } from "../http/request";
import { JsonReader, TOK_BEGIN_OBJECT, TOK_END, TOK_END_OBJECT, TOK_STRING, TOK_NUMBER } from "../json/reader";
import { HEX, JsonWriter } from "../json/writer";
import { DeviceMemory } from "../devmem/memory";
import {
  ValueSet, ValuesParser, VE_ADDRESS, VE_ADDRESS_RANGE, VE_DUPLICATE, VE_NEGATIVE, VE_SYNTAX, VE_VALUE, VE_VALUE_RANGE,
} from "../devmem/values";
import { formatI64, memEqual } from "../util/bytes";
import { E_HTTP_STATUS, E_MALFORMED, E_NEED_MORE, E_NOTFOUND, E_TOOLARGE, OK } from "../util/errors";
import {
  CONFIGMAP_JSON_DEPTH_MAX, CONFIGMAP_JSON_PATH_MAX, CONFIGMAP_MAX, CONFIGMAP_MESSAGE_MAX, CONFIGMAP_NAME_MAX, CONFIGMAP_NAMES_MAX, CONFIGMAP_RECV_CAP,
  CONFIGMAP_REQUEST_CAP, K8S_RESOURCE_VERSION_MAX, K8S_UID_MAX, MEMORY_VALUES_MAX, NAMESPACE_MAX,
} from "../util/limits";
import { bytesEqualLit, copyLit, Lit, litLen, litPtr, utf8 } from "../util/lit";
import {
  L_ACCEPT, L_ANNOTATIONS, L_API_VERSION, L_APPLICATION_JSON, L_BYTES, L_CANNOT_BE_READ, L_K3S_PICO_NODE,
  L_KIND, L_MESSAGE, L_METADATA, L_METADATA_RESOURCE_VERSION, L_NAME, L_NAMESPACE, L_REASON,
  L_RESOURCE_VERSION, L_TYPE, L_UID, L_USER_AGENT, L_V1,
} from "./lits";
import { Backoff } from "./backoff";
import { newText, NodeConfig, Text } from "./config";
import { lineEmit, lineInt, lineLit, lineStart, lineText, logText } from "./log";
import { writeTime } from "./status";
import { COUNTERS, M_GET } from "../metrics/counters";

// Literals used more than once in this file: one copy each (util/lit.ts).
const K_API_V1_NAMESPACES: Lit = utf8("/api/v1/namespaces/");
const K_LIST_WITHOUT_A_RESOURCEVERSION: Lit = utf8("list without a resourceVersion");
const K_CONFIGMAP: Lit = utf8("configmap: ");
const K_COLON_SP: Lit = utf8(": ");
const K_SP_AT: Lit = utf8(" @");

/** The data key holding the bytes to write. */
export const MEMORY_VALUES_KEY: Lit = utf8("memory_values");
/** Node annotation with what was applied: "<ns>/<name>@<rv>,...". */
export const APPLIED_ANNOTATION: Lit = utf8("pico.k3s.io/configmap-applied");
/** Event source / reporting component. */
export const EVENT_COMPONENT: Lit = L_K3S_PICO_NODE;
/** Watch timeout: reflector's minWatchTimeout (5 min), times 1 + rand. */
export const WATCH_TIMEOUT_MIN_S: i32 = 300;
/** A watch the server ends sooner than this without an event is renewed
 *  after a backoff, not at once (no request storm against a server that
 *  closes watches immediately). */
const WATCH_MIN_LIFETIME_MS: i64 = 1000;
/** A watch silent this long past its timeout is considered dead (no FIN seen). */
const WATCH_GRACE_MS: i64 = 30000;
const DEFAULT_NAMESPACE = utf8("default");
const DEFAULT_NAMES = utf8("pico-config");

// Watch states.
const WS_LIST_DUE: i32 = 0;
const WS_LISTING: i32 = 1;
const WS_WATCH_DUE: i32 = 2;
const WS_WATCHING: i32 = 3;

// Event types of one watch document.
const EV_NONE: i32 = 0;
const EV_ADDED: i32 = 1;
const EV_MODIFIED: i32 = 2;
const EV_DELETED: i32 = 3;
const EV_BOOKMARK: i32 = 4;
const EV_ERROR: i32 = 5;

/** writeReport(): nothing to send. */
export const REPORT_NONE: i32 = 0;
/** writeReport(): POST the Event written (path: the namespace's events). */
export const REPORT_EVENT: i32 = 1;
/** writeReport(): merge-PATCH the Node with the annotation written. */
export const REPORT_ANNOTATION: i32 = 2;

/** Bytes of memory_values shown in the "update detected" log line. */
const RAW_SHOWN_MAX: i32 = 96;

/** Appends "0x" and two upper-case hex digits of byte `v`. */
function addHex2(t: Text, v: i32): void {
  const H = utf8("0123456789ABCDEF");
  t.lit(utf8("0x"));
  t.add(litPtr(H) + <usize>((v >> 4) & 15), 1);
  t.add(litPtr(H) + <usize>(v & 15), 1);
}

/** Appends literal `l` to the request target (RequestWriter.appendTargetBytes). */
function appendLit(q: RequestWriter, l: Lit): void {
  q.appendTargetBytes(litPtr(l), litLen(l));
}

/** Writes (p, n) at `at` in (dst, cap); returns the new length, or -1 when it
 *  does not fit or `at` is already -1. */
function putBytes(dst: usize, cap: i32, at: i32, p: usize, n: i32): i32 {
  if (at < 0 || n > cap - at) return -1;
  memory.copy(dst + <usize>at, p, <usize>n);
  return at + n;
}

/** putBytes() of a literal. */
function putLit(dst: usize, cap: i32, at: i32, l: Lit): i32 {
  return putBytes(dst, cap, at, litPtr(l), litLen(l));
}

/** One followed ConfigMap: its watch and what was last applied from it. */
// @ts-ignore: decorator
@unmanaged
export class ConfigMapWatch {
  readonly name: Text = newText(CONFIGMAP_NAME_MAX);
  readonly client: HttpClient = new HttpClient(CONFIGMAP_REQUEST_CAP, CONFIGMAP_RECV_CAP);
  readonly reader: JsonReader = new JsonReader(MEMORY_VALUES_MAX, CONFIGMAP_JSON_PATH_MAX, CONFIGMAP_JSON_DEPTH_MAX);
  readonly backoff: Backoff = new Backoff();
  /** resourceVersion to resume from (list rv, then each event's). */
  readonly rv: Text = newText(K8S_RESOURCE_VERSION_MAX);
  state: i32 = WS_LIST_DUE;
  listing: bool = false;
  retryAtMs: i64 = 0;
  watchEndMs: i64 = 0;
  watchStartMs: i64 = 0;
  eventsAtStart: i32 = 0;

  // The document being read.
  docType: i32 = EV_NONE;
  readonly docRv: Text = newText(K8S_RESOURCE_VERSION_MAX);
  readonly docUid: Text = newText(K8S_UID_MAX);
  docCode: i64 = 0;
  docItems: i32 = 0;
  dataLevel: i32 = -1;
  hasValues: bool = false;
  valuesTooLarge: bool = false;
  valuesError: i32 = OK;
  valuesErrorKind: i32 = 0;
  readonly valuesErrorText: Text = newText(32);
  unknownKeys: i32 = 0;
  binaryData: bool = false;
  readonly raw: Text = newText(RAW_SHOWN_MAX);
  rawLen: i32 = 0;
  readonly pending: ValueSet = new ValueSet();

  // What was last applied from this ConfigMap.
  readonly applied: ValueSet = new ValueSet();
  readonly appliedRv: Text = newText(K8S_RESOURCE_VERSION_MAX);
  /** Object rv last evaluated (applied or rejected): a relist or resume
   *  that returns it again changes and reports nothing. */
  readonly seenRv: Text = newText(K8S_RESOURCE_VERSION_MAX);
  exists: bool = false;

  // The Event to report (the latest one wins when several queue up).
  eventPending: bool = false;
  eventWarning: bool = false;
  readonly eventReason: Text = newText(16);
  readonly eventMessage: Text = newText(CONFIGMAP_MESSAGE_MAX);
  readonly eventUid: Text = newText(K8S_UID_MAX);
  readonly eventRv: Text = newText(K8S_RESOURCE_VERSION_MAX);

  // Counters (benchmarks, tests).
  events: i32 = 0;
  relists: i32 = 0;
  /** Watches started (the first is not a restart). */
  watches: i32 = 0;
}

/** The followed ConfigMaps of this node and the device memory they write. */
// @ts-ignore: decorator
@unmanaged
export class ConfigMaps {
  readonly mem: DeviceMemory = new DeviceMemory();
  readonly parser: ValuesParser = new ValuesParser();
  readonly w0: ConfigMapWatch = new ConfigMapWatch();
  /** The second slot exists only when CONFIGMAP_MAX > 1 (~6 KB of memory). */
  readonly w1: ConfigMapWatch = CONFIGMAP_MAX > 1 ? new ConfigMapWatch() : this.w0;
  readonly namespace: Text = newText(NAMESPACE_MAX);
  private readonly msg: Text = newText(CONFIGMAP_MESSAGE_MAX);
  count: i32 = 0;
  annotationPending: bool = false;
  private userAgentPtr: usize = 0;
  private userAgentLen: i32 = 0;
  private lastNowMs: i64 = 0;

  watch(i: i32): ConfigMapWatch { return i == 0 ? this.w0 : this.w1; }

  /** Reads configmap.namespace / configmap.names and the device memory.
   *  Returns OK or an error (logged); a node without device memory
   *  (platform.devmem_bytes unknown) follows no ConfigMap. */
  init(cfg: NodeConfig, userAgentPtr: usize, userAgentLen: i32, conn: H2Conn): i32 {
    this.userAgentPtr = userAgentPtr;
    this.userAgentLen = userAgentLen;
    const m = this.mem.init();
    if (m != OK) {
      lineStart(utf8("configmap: no device memory (platform.devmem_bytes: error "));
      lineInt(m);
      lineLit(utf8("); following no ConfigMap"));
      lineEmit(LOG_WARN);
      return OK;
    }
    const ns = this.namespace;
    let r = this.readKey(CFG_CONFIGMAP_NAMESPACE, ns.ptr, ns.cap, DEFAULT_NAMESPACE);
    if (r < 0) return r;
    ns.len = r;
    // configmap.names is needed only here: it is read into the first watch's
    // request buffer (idle until the first request), not a buffer of its own.
    const q = this.w0.client.req;
    const p = q.ptr;
    const n = this.readKey(CFG_CONFIGMAP_NAMES, p, q.capacity < CONFIGMAP_NAMES_MAX ? q.capacity : CONFIGMAP_NAMES_MAX, DEFAULT_NAMES);
    if (n < 0) return n;
    // Split on ',' (blanks trimmed); "{node}" expands to the node name.
    let i = 0;
    while (i < n) {
      let e = i;
      while (e < n && load<u8>(p + <usize>e) != 0x2c) e++;
      let a = i;
      let b = e;
      while (a < b && load<u8>(p + <usize>a) == 0x20) a++;
      while (b > a && load<u8>(p + <usize>(b - 1)) == 0x20) b--;
      if (b > a) {
        if (this.count == CONFIGMAP_MAX) {
          lineStart(utf8("configmap: configmap.names lists more than "));
          lineInt(CONFIGMAP_MAX);
          lineLit(utf8(" ConfigMaps"));
          lineEmit(LOG_WARN);
          return E_TOOLARGE;
        }
        const w = this.watch(this.count);
        w.name.len = 0;
        for (let k = a; k < b; k++) {
          if (k + 6 <= b && memEqual(p + <usize>k, litPtr(utf8("{node}")), 6)) {
            w.name.add(cfg.name.ptr, cfg.name.len);
            k += 5;
          } else {
            w.name.add(p + <usize>k, 1);
          }
        }
        const sh = w.client.share(conn);
        if (sh != OK) return sh;
        w.client.configureBytes(cfg.serverHost.ptr, cfg.serverHost.len, cfg.serverPort, NET_TLS | NET_CLIENT_CERT);
        this.count++;
        lineStart(utf8("configmap: following "));
        this.lineName(w);
        lineLit(utf8(" (precedence "));
        lineInt(this.count);
        lineLit(utf8(")"));
        lineEmit(LOG_INFO);
      }
      i = e + 1;
    }
    return OK;
  }

  /** Reads config `key` into (ptr, cap), or `dflt` when it is absent;
   *  returns the length or the (logged) error. */
  private readKey(key: Lit, ptr: usize, cap: i32, dflt: Lit): i32 {
    const n = config_get(litPtr(key), litLen(key), ptr, cap);
    if (n == E_NOTFOUND) return copyLit(ptr, cap, dflt);
    if (n < 0) {
      lineStart(utf8("configmap: config key "));
      lineLit(key);
      lineLit(n == E_TOOLARGE ? utf8(" is too long") : L_CANNOT_BE_READ);
      lineEmit(LOG_WARN);
      return n;
    }
    return n;
  }

  /** Starts a line with "configmap: <ns>/<name>". */
  private lineWatch(w: ConfigMapWatch): void {
    lineStart(K_CONFIGMAP);
    this.lineName(w);
  }

  private lineName(w: ConfigMapWatch): void {
    lineText(this.namespace);
    lineLit(utf8("/"));
    lineText(w.name);
  }

  // ---- driving ----

  /** Drives every watch; call from the agent's poll. */
  poll(nowMs: i64): void {
    this.lastNowMs = nowMs;
    for (let i = 0; i < this.count; i++) this.drive(this.watch(i), i, nowMs);
  }

  /** A host readiness event: read what arrived. */
  event(): void {
    for (let i = 0; i < this.count; i++) this.pump(this.watch(i), i, this.lastNowMs);
  }

  /** ms until a watch wants a poll (a retry time), at most `max`. */
  nextWait(nowMs: i64, max: i32): i32 {
    let w = max;
    for (let i = 0; i < this.count; i++) {
      const c = this.watch(i);
      if (c.client.busy) continue;
      const d = c.retryAtMs - nowMs;
      if (d <= 0) return 0;
      if (d < <i64>w) w = <i32>d;
    }
    return w;
  }

  private drive(w: ConfigMapWatch, idx: i32, nowMs: i64): void {
    this.pump(w, idx, nowMs);
    if (w.client.busy) {
      // A watch silent past its timeout: the connection died without a FIN
      // (or the server lost the stream).
      if (w.state == WS_WATCHING && nowMs > w.watchEndMs + WATCH_GRACE_MS) {
        w.client.close();
        this.failed(w, utf8("watch silent past its timeout"), 0, nowMs);
      }
      return;
    }
    if (nowMs < w.retryAtMs) return;
    if (w.state == WS_LIST_DUE || w.rv.len == 0) this.start(w, true, nowMs);
    else if (w.state == WS_WATCH_DUE) this.start(w, false, nowMs);
    else return;
    this.pump(w, idx, nowMs); // send it now
  }

  private start(w: ConfigMapWatch, list: bool, nowMs: i64): void {
    // The target is written in pieces straight into the request buffer (no
    // staging copy); an overflow is the request's sticky E_TOOLARGE.
    const c = w.client;
    const q = c.req;
    const base = K_API_V1_NAMESPACES;
    q.startLit(METHOD_GET, litPtr(base), litLen(base));
    q.appendTargetBytes(this.namespace.ptr, this.namespace.len);
    appendLit(q, utf8("/configmaps?fieldSelector=metadata.name%3D"));
    q.appendTargetBytes(w.name.ptr, w.name.len);
    let timeoutS = 0;
    if (!list) {
      appendLit(q, utf8("&watch=1&allowWatchBookmarks=true&resourceVersion="));
      q.appendTargetBytes(w.rv.ptr, w.rv.len);
      const rnd = memory.data(4);
      store<u32>(rnd, 0);
      random_fill(rnd, 4);
      timeoutS = WATCH_TIMEOUT_MIN_S + <i32>(load<u32>(rnd) % <u32>WATCH_TIMEOUT_MIN_S);
      appendLit(q, utf8("&timeoutSeconds="));
      const num = memory.data(12);
      q.appendTargetBytes(num, formatI64(num, 12, timeoutS));
    }
    c.hostHeader();
    c.req.headerLitBytes(L_USER_AGENT, this.userAgentPtr, this.userAgentLen);
    c.req.headerLit(L_ACCEPT, L_APPLICATION_JSON);
    const f = c.req.finish(0, 0);
    if (f < 0) { this.failed(w, utf8("request too large"), 0, nowMs); return; }
    w.reader.reset();
    this.resetDoc(w);
    const s = c.send(nowMs, !list);
    if (s < 0) { this.failed(w, utf8("cannot connect"), s, nowMs); return; }
    w.listing = list;
    w.state = list ? WS_LISTING : WS_WATCHING;
    w.watchEndMs = nowMs + <i64>timeoutS * 1000;
    w.watchStartMs = nowMs;
    w.eventsAtStart = w.events;
    if (list) w.relists++;
    // Every watch after a watch or list already ran is a restart.
    if (!list && w.watches++ > 0) COUNTERS.watchRestarts++;
  }

  private pump(w: ConfigMapWatch, idx: i32, nowMs: i64): void {
    if (w.state != WS_LISTING && w.state != WS_WATCHING) return;
    const c = w.client;
    for (;;) {
      const r = c.poll(nowMs);
      if (w.backoff.failures > 0 && w.state == WS_WATCHING && c.headersDone && c.status == 200) {
        // The watch is up again: later failures are logged afresh.
        w.backoff.reset();
        lineStart(utf8("configmap: watching "));
        this.lineName(w);
        lineLit(utf8(" again from resourceVersion "));
        lineText(w.rv);
        lineEmit(LOG_INFO);
      }
      if (r == HTTP_BODY) {
        if (c.status == 200) {
          if (!this.read(w, idx, c.bodyPtr, c.bodyLen, nowMs)) return;
        }
        continue;
      }
      if (r == HTTP_DONE) {
        COUNTERS.api(M_GET, c.status);
        this.done(w, c.status, nowMs);
        return;
      }
      if (r < 0) {
        COUNTERS.api(M_GET, c.headersDone ? c.status : 0);
        this.failed(w, w.state == WS_WATCHING ? utf8("watch connection lost") : utf8("list failed"), r, nowMs);
        return;
      }
      return;
    }
  }

  /** The response ended. */
  private done(w: ConfigMapWatch, status: i32, nowMs: i64): void {
    const wasList = w.state == WS_LISTING;
    if (status == 200 && wasList && w.rv.len == 0) {
      w.state = WS_LIST_DUE;
      this.failed(w, K_LIST_WITHOUT_A_RESOURCEVERSION, E_MALFORMED, nowMs);
      return;
    }
    if (status == 200 && !wasList && nowMs - w.watchStartMs < WATCH_MIN_LIFETIME_MS && w.events == w.eventsAtStart) {
      w.state = WS_WATCH_DUE;
      this.failed(w, utf8("watch ended at once"), 0, nowMs);
      return;
    }
    if (status == 200) {
      w.backoff.reset();
      w.retryAtMs = 0;
      // A list leads to the watch; a watch the server ended (timeoutSeconds)
      // is renewed at once from the last resourceVersion.
      w.state = WS_WATCH_DUE;
      if (!wasList) { lineStart(utf8("configmap: watch of ")); this.lineName(w); lineLit(utf8(" renewed")); lineEmit(LOG_DEBUG); }
      return;
    }
    if (status == 410) { this.gone(w); return; }
    w.state = WS_LIST_DUE;
    this.failed(w, status == 403 ? utf8("forbidden: RBAC must grant this node get/list/watch on it") : utf8("HTTP"),
      status == 403 ? 0 : status, nowMs);
  }

  private gone(w: ConfigMapWatch): void {
    this.lineWatch(w);
    lineLit(utf8(": resourceVersion "));
    lineText(w.rv);
    lineLit(utf8(" is gone (410); listing again"));
    lineEmit(LOG_INFO);
    w.client.close();
    w.rv.len = 0;
    w.state = WS_LIST_DUE;
    w.retryAtMs = 0;
  }

  private failed(w: ConfigMapWatch, why: Lit, code: i32, nowMs: i64): void {
    const d = w.backoff.next();
    w.retryAtMs = nowMs + d;
    // Resume the watch from the last resourceVersion when there is one.
    if (w.state == WS_LISTING || w.rv.len == 0) w.state = WS_LIST_DUE;
    else if (w.state == WS_WATCHING) w.state = WS_WATCH_DUE;
    if (w.backoff.failures > 1 && w.backoff.failures % 20 != 0) return; // the first, then every 20th
    this.lineWatch(w);
    lineLit(K_COLON_SP);
    lineLit(why);
    if (code != 0) { lineLit(utf8(" ")); lineInt(code); }
    lineLit(utf8("; retrying in "));
    lineInt(d);
    lineLit(utf8(" ms"));
    lineEmit(LOG_WARN);
  }

  private resetDoc(w: ConfigMapWatch): void {
    w.docType = EV_NONE;
    w.docRv.len = 0;
    w.docUid.len = 0;
    w.docCode = 0;
    w.docItems = 0;
    w.dataLevel = -1;
    w.hasValues = false;
    w.valuesTooLarge = false;
    w.valuesError = OK;
    w.unknownKeys = 0;
    w.binaryData = false;
    w.raw.len = 0;
    w.rawLen = 0;
  }

  /** Feeds body bytes; false when the stream was abandoned (garbage). */
  private read(w: ConfigMapWatch, idx: i32, ptr: usize, len: i32, nowMs: i64): bool {
    const rd = w.reader;
    rd.feed(ptr, len);
    for (;;) {
      const t = rd.next();
      if (t == E_NEED_MORE) return true;
      if (t < 0) {
        // Garbage from the server: drop the connection, list again later.
        w.client.close();
        w.state = WS_LIST_DUE;
        this.failed(w, utf8("malformed JSON from the server"), t, nowMs);
        return false;
      }
      if (t == TOK_END) {
        if (!this.endDoc(w, idx, nowMs)) return false;
        this.resetDoc(w);
        continue;
      }
      this.token(w, t);
    }
    return true;
  }

  private token(w: ConfigMapWatch, t: i32): void {
    const rd = w.reader;
    if (t == TOK_BEGIN_OBJECT) {
      if (rd.pathIsLit(utf8("items[]"))) w.docItems++;
      else if (rd.pathIsLit(utf8("items[].data")) || rd.pathIsLit(utf8("object.data"))) w.dataLevel = rd.depth;
      else if (rd.pathIsLit(utf8("items[].binaryData")) || rd.pathIsLit(utf8("object.binaryData"))) w.binaryData = true;
      return;
    }
    if (t == TOK_END_OBJECT) {
      if (w.dataLevel >= 0 && rd.depth < w.dataLevel) w.dataLevel = -1;
      return;
    }
    if (w.dataLevel >= 0 && rd.depth == w.dataLevel) {
      // A key of the ConfigMap's data.
      const kl = rd.keyLen;
      if (bytesEqualLit(rd.keyPtr, kl, MEMORY_VALUES_KEY) && t == TOK_STRING) {
        w.hasValues = true;
        if (rd.truncated) { w.valuesTooLarge = true; return; }
        const n = rd.valueLen;
        w.rawLen = n;
        w.raw.set(rd.valuePtr, n < RAW_SHOWN_MAX ? n : RAW_SHOWN_MAX);
        w.valuesError = this.parser.parse(rd.valuePtr, n, this.mem.size, w.pending);
        if (w.valuesError != OK) {
          w.valuesErrorKind = this.parser.errorKind;
          const el = this.parser.errorLen < 32 ? this.parser.errorLen : 32;
          w.valuesErrorText.set(rd.valuePtr + <usize>this.parser.errorAt, el);
        }
      } else {
        w.unknownKeys++;
      }
      return;
    }
    if (t == TOK_STRING) {
      if (rd.pathIsLit(L_TYPE)) {
        if (rd.valueIsLit(utf8("ADDED"))) w.docType = EV_ADDED;
        else if (rd.valueIsLit(utf8("MODIFIED"))) w.docType = EV_MODIFIED;
        else if (rd.valueIsLit(utf8("DELETED"))) w.docType = EV_DELETED;
        else if (rd.valueIsLit(utf8("BOOKMARK"))) w.docType = EV_BOOKMARK;
        else if (rd.valueIsLit(utf8("ERROR"))) w.docType = EV_ERROR;
      } else if (rd.pathIsLit(L_METADATA_RESOURCE_VERSION) || rd.pathIsLit(utf8("object.metadata.resourceVersion"))) {
        if (!w.docRv.set(rd.valuePtr, rd.valueLen)) w.docRv.len = 0;
      } else if (rd.pathIsLit(utf8("items[].metadata.resourceVersion"))) {
        // The item's own rv: the Event's involvedObject.
        w.eventRv.set(rd.valuePtr, rd.valueLen);
      } else if (rd.pathIsLit(utf8("items[].metadata.uid")) || rd.pathIsLit(utf8("object.metadata.uid"))) {
        if (!w.docUid.set(rd.valuePtr, rd.valueLen)) w.docUid.len = 0;
      }
      return;
    }
    if (t == TOK_NUMBER && rd.pathIsLit(utf8("object.code"))) w.docCode = rd.valueInt();
  }

  /** One whole document (the list, or one watch event). False: stop reading. */
  private endDoc(w: ConfigMapWatch, idx: i32, nowMs: i64): bool {
    if (w.listing) {
      if (w.docRv.len == 0) {
        w.client.close();
        w.state = WS_LIST_DUE;
        this.failed(w, K_LIST_WITHOUT_A_RESOURCEVERSION, E_MALFORMED, nowMs);
        return false;
      }
      w.rv.set(w.docRv.ptr, w.docRv.len);
      // The item's rv was kept in eventRv while reading.
      if (w.docItems > 0) this.update(w, idx, w.eventRv);
      else this.absent(w, idx);
      return true;
    }
    const ty = w.docType;
    if (ty == EV_ERROR) {
      if (w.docCode == 410) { this.gone(w); return false; }
      w.client.close();
      this.failed(w, utf8("watch ERROR event, code"), <i32>w.docCode, nowMs);
      return false;
    }
    if (ty == EV_NONE || w.docRv.len == 0) {
      w.client.close();
      w.state = WS_LIST_DUE;
      this.failed(w, utf8("unexpected watch event"), E_MALFORMED, nowMs);
      return false;
    }
    w.rv.set(w.docRv.ptr, w.docRv.len);
    w.events++;
    if (ty == EV_ADDED || ty == EV_MODIFIED) this.update(w, idx, w.docRv);
    else if (ty == EV_DELETED) this.absent(w, idx);
    return true;
  }

  // ---- applying ----

  /** The ConfigMap as it is now (object rv `rv`). */
  private update(w: ConfigMapWatch, idx: i32, rv: Text): void {
    if (w.exists && rv.len > 0 && w.seenRv.eq(rv)) return; // seen (relist, resume)
    w.seenRv.set(rv.ptr, rv.len);
    w.exists = true;
    w.eventUid.set(w.docUid.ptr, w.docUid.len);
    if (rv != w.eventRv) w.eventRv.set(rv.ptr, rv.len);
    const m = this.msg;
    m.len = 0;
    if (w.valuesTooLarge) {
      this.reject(w, rv, utf8("memory_values is longer than "), MEMORY_VALUES_MAX, L_BYTES);
      return;
    }
    if (w.hasValues) {
      lineStart(utf8("ConfigMap update detected: "));
      lineText(w.raw);
      if (w.rawLen > w.raw.len) lineLit(utf8("..."));
      lineEmit(LOG_INFO);
      if (w.valuesError != OK) {
        this.reject(w, rv, this.kindText(w.valuesErrorKind), -1, utf8(""));
        return;
      }
    } else {
      w.pending.clear();
    }
    // Compose: current image, then every ConfigMap in precedence order with
    // this one's new values in its place.
    const mem = this.mem;
    mem.begin();
    for (let i = 0; i < this.count; i++) mem.overlay(i == idx ? w.pending : this.watch(i).applied);
    if (mem.changed) {
      const r = mem.commit();
      if (r < 0) { this.reject(w, rv, utf8("device memory could not be saved (host error "), r, utf8(")")); return; }
    }
    w.applied.copyFrom(w.pending);
    w.appliedRv.set(rv.ptr, rv.len);
    for (let a = 0; a < mem.size; a++) {
      if (!w.pending.has(a)) continue;
      lineStart(utf8("Memory["));
      lineInt(a);
      lineLit(utf8("] = "));
      m.len = 0;
      addHex2(m, mem.byte(a));
      lineText(m);
      if (mem.byte(a) != w.pending.get(a)) lineLit(utf8(" (a higher-precedence ConfigMap sets it)"));
      lineEmit(LOG_INFO);
    }
    m.len = 0;
    m.lit(utf8("applied "));
    m.int(w.pending.count);
    m.lit(utf8(" address(es) to device memory"));
    if (!w.hasValues) m.lit(utf8(" (no memory_values key)"));
    if (w.binaryData) m.lit(utf8("; binaryData ignored"));
    if (w.unknownKeys > 0) { m.lit(utf8("; ")); m.int(w.unknownKeys); m.lit(utf8(" unknown key(s) ignored")); }
    COUNTERS.configmapApplied++;
    this.queueEvent(w, rv, false, utf8("ConfigApplied"));
    this.annotationPending = true;
  }

  private reject(w: ConfigMapWatch, rv: Text, what: Lit, num: i32, tail: Lit): void {
    const m = this.msg;
    m.len = 0;
    COUNTERS.configmapRejected++;
    m.lit(utf8("rejected, device memory unchanged: "));
    m.lit(what);
    if (num >= 0 || num < -1) m.int(num);
    m.lit(tail);
    if (w.valuesError != OK && !w.valuesTooLarge) {
      m.lit(utf8(" in \""));
      m.add(w.valuesErrorText.ptr, w.valuesErrorText.len);
      m.lit(utf8("\""));
    }
    this.queueEvent(w, rv, true, utf8("ConfigRejected"));
  }

  private kindText(k: i32): Lit {
    if (k == VE_SYNTAX) return utf8("an entry is not address=value");
    if (k == VE_ADDRESS) return utf8("an address is not a decimal or 0x-hex number");
    if (k == VE_VALUE) return utf8("a value is not a decimal or 0x-hex number");
    if (k == VE_NEGATIVE) return utf8("negative number");
    if (k == VE_VALUE_RANGE) return utf8("value above 0xFF");
    if (k == VE_ADDRESS_RANGE) return utf8("address outside the device memory region");
    if (k == VE_DUPLICATE) return utf8("address named twice with different values");
    return utf8("malformed memory_values");
  }

  /** The ConfigMap does not exist (list without it, or DELETED). */
  private absent(w: ConfigMapWatch, idx: i32): void {
    if (!w.exists) {
      if (w.seenRv.len == 0) {
        this.lineWatch(w);
        lineLit(utf8(" does not exist yet; watching for it"));
        lineEmit(LOG_INFO);
        w.seenRv.set(litPtr(utf8("-")), 1); // said once
      }
      return;
    }
    w.exists = false;
    w.appliedRv.len = 0;
    w.seenRv.set(litPtr(utf8("-")), 1);
    w.applied.clear();
    // Its addresses keep their last values unless another followed
    // ConfigMap names them: recompose without it.
    const mem = this.mem;
    mem.begin();
    for (let i = 0; i < this.count; i++) mem.overlay(this.watch(i).applied);
    if (mem.changed) mem.commit();
    this.lineWatch(w);
    lineLit(utf8(" was deleted; its addresses keep their last values"));
    lineEmit(LOG_INFO);
    this.annotationPending = true;
  }

  /** Logs the outcome in `msg` ("configmap: ns/name @rv: ...") and queues
   *  it as the Event to report. */
  private queueEvent(w: ConfigMapWatch, rv: Text, warning: bool, reason: Lit): void {
    this.lineWatch(w);
    lineLit(K_SP_AT);
    lineText(rv);
    lineLit(K_COLON_SP);
    lineText(this.msg);
    lineEmit(warning ? LOG_WARN : LOG_INFO);
    w.eventPending = true;
    w.eventWarning = warning;
    w.eventReason.len = copyLit(w.eventReason.ptr, w.eventReason.cap, reason);
    w.eventMessage.set(this.msg.ptr, this.msg.len);
  }

  // ---- reports over the agent's connection ----

  /** Something waits to be reported. */
  get reportWanted(): bool {
    if (this.annotationPending) return true;
    for (let i = 0; i < this.count; i++) if (this.watch(i).eventPending) return true;
    return false;
  }

  /** Writes the next report's body into `body` and its path into (path,
   *  pathCap); returns REPORT_* with the path length in reportPathLen. */
  writeReport(body: JsonWriter, path: usize, pathCap: i32, nodeName: usize, nodeNameLen: i32, wallMs: i64): i32 {
    for (let i = 0; i < this.count; i++) {
      const w = this.watch(i);
      if (!w.eventPending) continue;
      w.eventPending = false;
      let n = putLit(path, pathCap, 0, K_API_V1_NAMESPACES);
      n = putBytes(path, pathCap, n, this.namespace.ptr, this.namespace.len);
      n = putLit(path, pathCap, n, utf8("/events"));
      if (n < 0) return REPORT_NONE;
      this.reportPathLen = n;
      this.writeEvent(body, w, nodeName, nodeNameLen, wallMs);
      return REPORT_EVENT;
    }
    if (!this.annotationPending) return REPORT_NONE;
    this.annotationPending = false;
    let n = putLit(path, pathCap, 0, utf8("/api/v1/nodes/"));
    n = putBytes(path, pathCap, n, nodeName, nodeNameLen);
    if (n < 0) return REPORT_NONE;
    this.reportPathLen = n;
    // {"metadata":{"annotations":{"pico.k3s.io/configmap-applied":"ns/name@rv,..."}}}
    const m = this.msg;
    m.len = 0;
    for (let i = 0; i < this.count; i++) {
      const w = this.watch(i);
      if (!w.exists || w.appliedRv.len == 0) continue;
      if (m.len > 0) m.lit(utf8(","));
      m.add(this.namespace.ptr, this.namespace.len);
      m.lit(utf8("/"));
      m.add(w.name.ptr, w.name.len);
      m.lit(utf8("@"));
      m.add(w.appliedRv.ptr, w.appliedRv.len);
    }
    body.beginObject();
    body.keyObject(L_METADATA);
    body.keyObject(L_ANNOTATIONS);
    body.keyLit(APPLIED_ANNOTATION);
    if (m.len > 0) body.strBytes(m.ptr, m.len);
    else body.nul(); // merge patch: null removes it
    body.endObject();
    body.endObject();
    body.endObject();
    return REPORT_ANNOTATION;
  }

  /** Length of the path writeReport() wrote. */
  reportPathLen: i32 = 0;

  /** core/v1 Event about the ConfigMap (k8s.io/api/core/v1 types.go Event). */
  private writeEvent(b: JsonWriter, w: ConfigMapWatch, nodeName: usize, nodeNameLen: i32, wallMs: i64): void {
    const rnd = memory.data(8);
    random_fill(rnd, 8);
    const nm = this.msg;
    nm.len = 0;
    nm.add(w.name.ptr, w.name.len < 200 ? w.name.len : 200);
    nm.lit(utf8("."));
    for (let i = 0; i < 8; i++) {
      const v = load<u8>(rnd + <usize>i);
      nm.add(litPtr(HEX) + <usize>(v >> 4), 1);
      nm.add(litPtr(HEX) + <usize>(v & 15), 1);
    }
    b.beginObject();
    b.kvLit(L_API_VERSION, L_V1);
    b.kvLit(L_KIND, utf8("Event"));
    b.keyObject(L_METADATA);
    b.kvBytes(L_NAME, nm.ptr, nm.len);
    b.kvBytes(L_NAMESPACE, this.namespace.ptr, this.namespace.len);
    b.endObject();
    b.keyObject(utf8("involvedObject"));
    b.kvLit(L_API_VERSION, L_V1);
    b.kvLit(L_KIND, utf8("ConfigMap"));
    b.kvBytes(L_NAMESPACE, this.namespace.ptr, this.namespace.len);
    b.kvBytes(L_NAME, w.name.ptr, w.name.len);
    if (w.eventUid.len > 0) { b.kvBytes(L_UID, w.eventUid.ptr, w.eventUid.len); }
    if (w.eventRv.len > 0) { b.kvBytes(L_RESOURCE_VERSION, w.eventRv.ptr, w.eventRv.len); }
    b.endObject();
    b.kvBytes(L_REASON, w.eventReason.ptr, w.eventReason.len);
    b.kvBytes(L_MESSAGE, w.eventMessage.ptr, w.eventMessage.len);
    b.kvLit(L_TYPE, w.eventWarning ? utf8("Warning") : utf8("Normal"));
    b.keyObject(utf8("source"));
    b.kvLit(utf8("component"), EVENT_COMPONENT);
    b.kvBytes(utf8("host"), nodeName, nodeNameLen);
    b.endObject();
    b.kvLit(utf8("reportingComponent"), EVENT_COMPONENT);
    b.kvBytes(utf8("reportingInstance"), nodeName, nodeNameLen);
    writeTime(b, utf8("firstTimestamp"), wallMs);
    writeTime(b, utf8("lastTimestamp"), wallMs);
    b.kvInt(utf8("count"), 1);
    b.endObject();
  }
}
