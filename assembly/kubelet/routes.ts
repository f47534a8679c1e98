// What the kubelet endpoint answers (issue 5), written section by section
// into the server's chunk buffer (server.ts): each section fits
// KUBELET_BUF - 13 bytes. Figures are measured by the host (stats_read) or
// counted by the core (metrics/counters.ts), never made up; a figure the
// host does not know is left out rather than reported as 0.

import { stats_read } from "../host/imports";
import {
  STAT_BYTES_RECEIVED, STAT_BYTES_SENT, STAT_CHIP_TEMP_MC, STAT_CONNS_ACCEPTED, STAT_CONNS_REFUSED, STAT_COUNT,
  STAT_CPU_US, STAT_HEAP_PEAK, STAT_HEAP_TOTAL, STAT_HEAP_USED, STAT_RSS_BYTES, STAT_TLS_CLIENT_FAILED,
  STAT_TLS_CLIENT_MS, STAT_TLS_CLIENT_OK, STAT_TLS_SERVER_FAILED, STAT_TLS_SERVER_MS, STAT_TLS_SERVER_OK,
  STAT_UNKNOWN_SIGNED, STAT_UPTIME_MS, STAT_WIFI_RSSI_DBM,
} from "../host/stats";
import { DeviceMemory } from "../devmem/memory";
import { JsonWriter } from "../json/writer";
import { COUNTERS } from "../metrics/counters";
import { memEqual, SCRATCH, SCRATCH_CAP } from "../util/bytes";
import { API_COUNTER_SLOTS } from "../util/limits";
import { bytesEqualLit, Lit, litLen, litPtr, utf8 } from "../util/lit";
import { NodeConfig, Text } from "../k8s/config";
import { AGENT_VERSION, KUBELET_VERSION } from "../k8s/status";
import { formatRfc3339 } from "../k8s/time";

export const ROUTE_NOT_FOUND: i32 = 0;
export const ROUTE_HEALTHZ: i32 = 1;
export const ROUTE_METRICS: i32 = 2;
export const ROUTE_METRICS_RESOURCE: i32 = 3;
/** /metrics/cadvisor, /metrics/probes: no containers, no probes; an empty
 *  200 keeps Prometheus from raising target-down. */
export const ROUTE_METRICS_EMPTY: i32 = 4;
export const ROUTE_STATS_SUMMARY: i32 = 5;
export const ROUTE_PODS: i32 = 6;
/** /containerLogs, /exec, /attach, /portForward, /run: this node runs no
 *  pods, so every pod named is not found (kubelet answers 404 for an unknown
 *  pod). */
export const ROUTE_NO_PODS: i32 = 7;

const TEXT_PLAIN: Lit = utf8("text/plain; charset=utf-8");
/** Prometheus text exposition format 0.0.4 (what kubelet serves). */
const PROM_TEXT: Lit = utf8("text/plain; version=0.0.4; charset=utf-8");
const JSON_TYPE: Lit = utf8("application/json");

/** Device memory addresses per /metrics section (~42 bytes each). */
const DEVMEM_PER_SECTION: i32 = 32;
const DEVMEM_FIRST_SECTION: i32 = 3;
const DEVMEM_BYTE: Lit = utf8("pico_device_memory_byte");

function hasPrefix(p: usize, n: i32, l: Lit): bool {
  return n >= litLen(l) && memEqual(p, litPtr(l), litLen(l));
}

/** The route of a request path (no query). */
export function routeOf(p: usize, n: i32): i32 {
  if (bytesEqualLit(p, n, utf8("/healthz"))) return ROUTE_HEALTHZ;
  if (bytesEqualLit(p, n, utf8("/metrics"))) return ROUTE_METRICS;
  if (bytesEqualLit(p, n, utf8("/metrics/resource"))) return ROUTE_METRICS_RESOURCE;
  if (bytesEqualLit(p, n, utf8("/metrics/cadvisor")) || bytesEqualLit(p, n, utf8("/metrics/probes"))) return ROUTE_METRICS_EMPTY;
  if (bytesEqualLit(p, n, utf8("/stats/summary"))) return ROUTE_STATS_SUMMARY;
  if (bytesEqualLit(p, n, utf8("/pods")) || bytesEqualLit(p, n, utf8("/pods/"))) return ROUTE_PODS;
  if (hasPrefix(p, n, utf8("/containerLogs/")) || hasPrefix(p, n, utf8("/exec/")) || hasPrefix(p, n, utf8("/attach/")) ||
      hasPrefix(p, n, utf8("/portForward/")) || hasPrefix(p, n, utf8("/run/"))) return ROUTE_NO_PODS;
  return ROUTE_NOT_FOUND;
}

/** kubelet's isSubpath: the path is `l` or starts with `l` + "/". */
function isSubpath(p: usize, n: i32, l: Lit): bool {
  const k = litLen(l);
  return hasPrefix(p, n, l) && (n == k || load<u8>(p + <usize>k) == 0x2f);
}

/** The nodes/<subresource> a request path is authorized as, last: kubelet's
 *  GetRequestAttributes (pkg/kubelet/server/auth.go, v1.36) maps /stats to
 *  stats, /metrics to metrics, /logs to log, /checkpoint to checkpoint,
 *  /statusz to statusz, /flagz to configz and everything else to proxy. */
export function subresourceOf(p: usize, n: i32): Lit {
  if (isSubpath(p, n, utf8("/stats"))) return utf8("stats");
  if (isSubpath(p, n, utf8("/metrics"))) return utf8("metrics");
  if (isSubpath(p, n, utf8("/logs"))) return utf8("log");
  if (isSubpath(p, n, utf8("/checkpoint"))) return utf8("checkpoint");
  if (isSubpath(p, n, utf8("/statusz"))) return utf8("statusz");
  if (isSubpath(p, n, utf8("/flagz"))) return utf8("configz");
  return utf8("proxy");
}

/** The fine-grained nodes/<subresource> kubelet asks about first, before
 *  subresourceOf's (KubeletFineGrainedAuthz: beta in 1.33, GA and locked on
 *  in 1.36, the version this node reports; same function): /pods and
 *  /runningpods pods, /healthz healthz, /configz configz; 0 for any other
 *  path. */
export function fineSubresourceOf(p: usize, n: i32): Lit {
  if (isSubpath(p, n, utf8("/pods"))) return utf8("pods");
  if (isSubpath(p, n, utf8("/healthz"))) return utf8("healthz");
  if (isSubpath(p, n, utf8("/configz"))) return utf8("configz");
  if (isSubpath(p, n, utf8("/runningpods"))) return utf8("pods");
  return 0;
}

// @ts-ignore: decorator
@unmanaged
export class Routes {
  /** Unix ms now (the agent's clock), -1 while unknown; set before serving. */
  wallMs: i64 = -1;
  /** Bytes of linear memory the core uses (its heap end: fixed after start). */
  coreMemory: i64 = 0;
  private readonly stats: usize = heap.alloc(<usize>STAT_COUNT * 8);
  private readonly json: JsonWriter = new JsonWriter(0, 0);
  // The previous CPU sample for usageNanoCores.
  private lastCpuUs: i64 = -1;
  private lastUptimeMs: i64 = 0;
  private nanoCores: i64 = -1;
  private cfg: NodeConfig;
  private mem: DeviceMemory;

  constructor(cfg: NodeConfig, mem: DeviceMemory) {
    this.cfg = cfg;
    this.mem = mem;
  }

  contentType(route: i32): Lit {
    if (route == ROUTE_METRICS || route == ROUTE_METRICS_RESOURCE || route == ROUTE_METRICS_EMPTY) return PROM_TEXT;
    if (route == ROUTE_STATS_SUMMARY || route == ROUTE_PODS) return JSON_TYPE;
    return TEXT_PLAIN;
  }

  /** Writes section `s` of `route`'s body into `o`; returns the next
   *  section, or -1 after the last. */
  write(route: i32, s: i32, o: Text, nowMs: i64): i32 {
    if (route == ROUTE_HEALTHZ) { o.lit(utf8("ok")); return -1; }
    if (route == ROUTE_METRICS) return this.metrics(s, o);
    if (route == ROUTE_METRICS_RESOURCE) { this.resource(o); return -1; }
    if (route == ROUTE_STATS_SUMMARY) { this.summary(o); return -1; }
    if (route == ROUTE_PODS) {
      // No pods are bound to this node (its taints keep them off).
      o.lit(utf8("{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":[]}"));
      return -1;
    }
    if (route == ROUTE_NO_PODS) { o.lit(utf8("pod not found: this node runs no pods\n")); return -1; }
    if (route == ROUTE_METRICS_EMPTY) return -1;
    o.lit(utf8("404 page not found\n"));
    return -1;
  }

  /** Reads the host's counters; false when the host gives none. */
  private readStats(): bool {
    const n = stats_read(this.stats, STAT_COUNT * 8);
    for (let i = n < 0 ? 0 : n; i < STAT_COUNT; i++) store<i64>(this.stats + <usize>i * 8, -1);
    const cpu = this.stat(STAT_CPU_US);
    const up = this.stat(STAT_UPTIME_MS);
    // usageNanoCores over the time since the previous sample (>= 1 s).
    if (cpu >= 0 && this.lastCpuUs >= 0 && up - this.lastUptimeMs >= 1000) {
      this.nanoCores = (cpu - this.lastCpuUs) * 1000000 / (up - this.lastUptimeMs);
    }
    if (cpu >= 0 && (this.lastCpuUs < 0 || up - this.lastUptimeMs >= 1000)) {
      this.lastCpuUs = cpu;
      this.lastUptimeMs = up;
    }
    return n > 0;
  }

  private stat(i: i32): i64 { return load<i64>(this.stats + <usize>i * 8); }

  /** Working set: the host's resident memory where it knows it (simulator),
   *  else its heap in use plus the core's linear memory (device). */
  private workingSet(): i64 {
    const rss = this.stat(STAT_RSS_BYTES);
    if (rss > 0) return rss;
    const heap = this.stat(STAT_HEAP_USED);
    return heap >= 0 ? heap + this.coreMemory : -1;
  }

  // ---- Prometheus text ----

  private family(o: Text, name: Lit, type: Lit, help: Lit): void {
    o.lit(utf8("# HELP ")); o.lit(name); o.lit(utf8(" ")); o.lit(help);
    o.lit(utf8("\n# TYPE ")); o.lit(name); o.lit(utf8(" ")); o.lit(type); o.lit(utf8("\n"));
  }

  /** One family with one unlabelled sample; nothing when v is unknown (< 0). */
  private gauge(o: Text, name: Lit, type: Lit, help: Lit, v: i64): void {
    if (v < 0) return;
    this.family(o, name, type, help);
    this.sample(o, name); o.int(v); o.lit(utf8("\n"));
  }

  /** Starts an unlabelled sample line: "<name> " (the name literal is not
   *  repeated with a trailing space: one copy of each text). */
  private sample(o: Text, name: Lit): void {
    o.lit(name); o.lit(utf8(" "));
  }

  /** `micro` millionths as a decimal ("12.000345"). */
  private decimal(o: Text, micro: i64): void {
    o.int(micro / 1000000);
    o.lit(utf8("."));
    const f = micro % 1000000;
    for (let d: i64 = 100000; d > 0; d /= 10) {
      o.add(litPtr(utf8("0123456789")) + <usize>((f / d) % 10), 1);
    }
  }

  private labelled(o: Text, name: Lit, label: Lit, value: Lit, v: i64): void {
    o.lit(name); o.lit(utf8("{")); o.lit(label); o.lit(utf8("=\"")); o.lit(value); o.lit(utf8("\"} ")); o.int(v); o.lit(utf8("\n"));
  }

  private metrics(s: i32, o: Text): i32 {
    const c = COUNTERS;
    const C: Lit = utf8("counter");
    const G: Lit = utf8("gauge");
    if (s == 0) {
      this.readStats();
      const info: Lit = utf8("pico_node_info");
      this.family(o, info, G, utf8("Agent and reported kubelet version; always 1."));
      o.lit(info); o.lit(utf8("{agent_version=\"")); o.lit(AGENT_VERSION);
      o.lit(utf8("\",kubelet_version=\"")); o.lit(KUBELET_VERSION); o.lit(utf8("\"} 1\n"));
      const up = this.stat(STAT_UPTIME_MS);
      if (up >= 0) {
        const n: Lit = utf8("pico_uptime_seconds");
        this.family(o, n, G, utf8("Time since the device (simulator: process) started."));
        this.sample(o, n); this.decimal(o, up * 1000); o.lit(utf8("\n"));
      }
      const cpu = this.stat(STAT_CPU_US);
      if (cpu >= 0) {
        const n: Lit = utf8("process_cpu_seconds_total");
        this.family(o, n, C, utf8("Total user and system CPU time spent in seconds."));
        this.sample(o, n); this.decimal(o, cpu); o.lit(utf8("\n"));
      }
      this.gauge(o, utf8("pico_heap_used_bytes"), G, utf8("Host heap in use (TLS, network buffers)."), this.stat(STAT_HEAP_USED));
      this.gauge(o, utf8("pico_heap_peak_bytes"), G, utf8("Peak host heap use."), this.stat(STAT_HEAP_PEAK));
      const total = this.stat(STAT_HEAP_TOTAL);
      const used = this.stat(STAT_HEAP_USED);
      this.gauge(o, utf8("pico_heap_free_bytes"), G, utf8("Host heap still free."), total >= 0 && used >= 0 ? total - used : -1);
      this.gauge(o, utf8("pico_wasm_memory_bytes"), G, utf8("Linear memory of core.wasm."), this.coreMemory);
      this.gauge(o, utf8("pico_resident_memory_bytes"), G, utf8("Resident memory of the simulator."), this.stat(STAT_RSS_BYTES));
      const rssi = this.stat(STAT_WIFI_RSSI_DBM);
      if (rssi != STAT_UNKNOWN_SIGNED) {
        // Negative (dBm): not gauge(), which leaves out values below 0.
        const n: Lit = utf8("pico_wifi_rssi_dbm");
        this.family(o, n, G, utf8("Wi-Fi signal strength."));
        this.sample(o, n); o.int(rssi); o.lit(utf8("\n"));
      }
      const temp = this.stat(STAT_CHIP_TEMP_MC);
      if (temp != STAT_UNKNOWN_SIGNED) {
        const n: Lit = utf8("pico_chip_temperature_celsius");
        this.family(o, n, G, utf8("RP2040 sensor temperature."));
        this.sample(o, n); o.int(temp / 1000); o.lit(utf8("."));
        o.int(((temp < 0 ? -temp : temp) % 1000) / 100); o.lit(utf8("\n"));
      }
      return 1;
    }
    if (s == 1) {
      const hs: Lit = utf8("pico_tls_handshakes_total");
      this.family(o, hs, C, utf8("TLS handshakes by side (client: API server, server: kubelet endpoint) and result."));
      this.tlsLine(o, hs, utf8("client"), utf8("ok"), this.stat(STAT_TLS_CLIENT_OK));
      this.tlsLine(o, hs, utf8("client"), utf8("failed"), this.stat(STAT_TLS_CLIENT_FAILED));
      this.tlsLine(o, hs, utf8("server"), utf8("ok"), this.stat(STAT_TLS_SERVER_OK));
      this.tlsLine(o, hs, utf8("server"), utf8("failed"), this.stat(STAT_TLS_SERVER_FAILED));
      const hd: Lit = utf8("pico_tls_handshake_seconds_total");
      this.family(o, hd, C, utf8("Time in completed TLS handshakes, by side."));
      for (let i = 0; i < 2; i++) {
        const ms = this.stat(i == 0 ? STAT_TLS_CLIENT_MS : STAT_TLS_SERVER_MS);
        if (ms < 0) continue;
        o.lit(hd); o.lit(i == 0 ? utf8("{side=\"client\"} ") : utf8("{side=\"server\"} "));
        this.decimal(o, ms * 1000); o.lit(utf8("\n"));
      }
      const nb: Lit = utf8("pico_network_bytes_total");
      this.family(o, nb, C, utf8("Bytes on the wire (TLS included), by direction."));
      this.labelled(o, nb, utf8("direction"), utf8("sent"), this.stat(STAT_BYTES_SENT));
      this.labelled(o, nb, utf8("direction"), utf8("received"), this.stat(STAT_BYTES_RECEIVED));
      const kc: Lit = utf8("pico_kubelet_connections_total");
      this.family(o, kc, C, utf8("Kubelet endpoint connections: accepted, or refused (no free slot)."));
      this.labelled(o, kc, utf8("result"), utf8("accepted"), this.stat(STAT_CONNS_ACCEPTED));
      const refused = this.stat(STAT_CONNS_REFUSED);
      this.labelled(o, kc, utf8("result"), utf8("refused"), (refused > 0 ? refused : 0) + c.kubeletDropped);
      const kr: Lit = utf8("pico_kubelet_requests_total");
      this.family(o, kr, C, utf8("Kubelet endpoint requests, by status class."));
      this.labelled(o, kr, utf8("class"), utf8("ok"), c.kubeletRequests - c.kubeletErrors);
      this.labelled(o, kr, utf8("class"), utf8("error"), c.kubeletErrors);
      return 2;
    }
    if (s == 2) {
      const rr: Lit = utf8("rest_client_requests_total");
      this.family(o, rr, C, utf8("API server requests by method and code (0: no answer)."));
      for (let i = 0; i < API_COUNTER_SLOTS; i++) {
        const k = load<u32>(c.apiKey + <usize>i * 4);
        if (k == 0) continue;
        o.lit(rr); o.lit(utf8("{code=\"")); o.int(<i64>(k & 0xffff));
        o.lit(utf8("\",method=\"")); o.lit(methodName(<i32>(k >> 16) - 1)); o.lit(utf8("\"} "));
        o.int(load<i64>(c.apiCount + <usize>i * 8)); o.lit(utf8("\n"));
      }
      if (c.apiOther > 0) { o.lit(rr); o.lit(utf8("{code=\"other\",method=\"other\"} ")); o.int(c.apiOther); o.lit(utf8("\n")); }
      this.gauge(o, utf8("pico_watch_restarts_total"), C, utf8("ConfigMap watches restarted (disconnect, timeout, 410)."), c.watchRestarts);
      const cu: Lit = utf8("pico_configmap_updates_total");
      this.family(o, cu, C, utf8("ConfigMap updates applied to device memory or rejected."));
      this.labelled(o, cu, utf8("result"), utf8("applied"), c.configmapApplied);
      this.labelled(o, cu, utf8("result"), utf8("rejected"), c.configmapRejected);
      this.gauge(o, utf8("pico_device_memory_size_bytes"), G, utf8("Size of the device memory region."), this.mem.size);
      this.family(o, DEVMEM_BYTE, G, utf8("Each byte of device memory, by address."));
      return DEVMEM_FIRST_SECTION;
    }
    const from = (s - DEVMEM_FIRST_SECTION) * DEVMEM_PER_SECTION;
    const size = this.mem.size;
    for (let a = from; a < from + DEVMEM_PER_SECTION && a < size; a++) {
      o.lit(DEVMEM_BYTE); o.lit(utf8("{address=\"")); o.int(a); o.lit(utf8("\"} ")); o.int(this.mem.byte(a)); o.lit(utf8("\n"));
    }
    return from + DEVMEM_PER_SECTION < size ? s + 1 : -1;
  }

  private tlsLine(o: Text, name: Lit, side: Lit, result: Lit, v: i64): void {
    if (v < 0) return;
    o.lit(name); o.lit(utf8("{side=\"")); o.lit(side); o.lit(utf8("\",result=\"")); o.lit(result); o.lit(utf8("\"} "));
    o.int(v); o.lit(utf8("\n"));
  }

  /** /metrics/resource as kubelet writes it (pkg/kubelet/metrics/collectors/
   *  resource_metrics.go): the node's CPU seconds and working set, stamped
   *  with the time they were measured; metrics-server reads these two and
   *  drops a node whose values are 0. */
  private resource(o: Text): void {
    this.readStats();
    const ts = this.wallMs;
    const cpu = this.stat(STAT_CPU_US);
    const ws = this.workingSet();
    if (cpu > 0) {
      const n: Lit = utf8("node_cpu_usage_seconds_total");
      this.family(o, n, utf8("counter"), utf8("[STABLE] Cumulative cpu time consumed by the node in core-seconds"));
      this.sample(o, n); this.decimal(o, cpu);
      if (ts > 0) { o.lit(utf8(" ")); o.int(ts); }
      o.lit(utf8("\n"));
    }
    if (ws > 0) {
      const n: Lit = utf8("node_memory_working_set_bytes");
      this.family(o, n, utf8("gauge"), utf8("[STABLE] Current working set of the node in bytes"));
      this.sample(o, n); o.int(ws);
      if (ts > 0) { o.lit(utf8(" ")); o.int(ts); }
      o.lit(utf8("\n"));
    }
    const se: Lit = utf8("resource_scrape_error");
    this.family(o, se, utf8("gauge"), utf8("[STABLE] 1 if there was an error while getting container metrics, 0 otherwise"));
    this.sample(o, se); o.lit(cpu > 0 && ws > 0 ? utf8("0\n") : utf8("1\n"));
  }

  private putTime(w: JsonWriter, key: Lit, ms: i64): void {
    const n = formatRfc3339(SCRATCH, SCRATCH_CAP, ms, false);
    if (n > 0) w.kvBytes(key, SCRATCH, n);
  }

  /** /stats/summary (k8s.io/kubelet/pkg/apis/stats/v1alpha1 Summary): the
   *  node's CPU and memory; no pods. */
  private summary(o: Text): void {
    this.readStats();
    const w = this.json;
    w.setBuffer(o.ptr, o.cap);
    const now = this.wallMs;
    const cpu = this.stat(STAT_CPU_US);
    const ws = this.workingSet();
    w.beginObject();
    w.keyObject(utf8("node"));
    w.kvBytes(utf8("nodeName"), this.cfg.name.ptr, this.cfg.name.len);
    const up = this.stat(STAT_UPTIME_MS);
    if (now > 0 && up >= 0) this.putTime(w, utf8("startTime"), now - up);
    w.keyObject(utf8("cpu"));
    if (now > 0) this.putTime(w, utf8("time"), now);
    if (this.nanoCores >= 0) w.kvInt(utf8("usageNanoCores"), this.nanoCores);
    if (cpu >= 0) w.kvInt(utf8("usageCoreNanoSeconds"), cpu * 1000);
    w.endObject();
    w.keyObject(utf8("memory"));
    if (now > 0) this.putTime(w, utf8("time"), now);
    if (ws > 0) {
      const total = this.cfg.memoryBytes;
      if (total > ws) w.kvInt(utf8("availableBytes"), total - ws);
      w.kvInt(utf8("usageBytes"), ws);
      w.kvInt(utf8("workingSetBytes"), ws);
    }
    w.endObject();
    w.endObject();
    w.keyArray(utf8("pods"));
    w.endArray();
    w.endObject();
    o.len = w.error == 0 ? w.len : o.cap;
  }
}

function methodName(m: i32): Lit {
  return m == 1 ? utf8("POST") : m == 2 ? utf8("PUT") : m == 3 ? utf8("PATCH") : m == 4 ? utf8("DELETE") : utf8("GET");
}
