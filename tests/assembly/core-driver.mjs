// Runs build/core.wasm against the one host fake (tests/fakes/host.js) and a
// scripted API server, for the heap-growth test and benchmark. The fake's
// control functions are called from JS directly; strings travel through a
// scratch area at the top of linear memory, above everything the core uses
// (checked against __heap_base).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createFakeHost, OP_CONNECT } from "../fakes/host.js";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CORE_WASM = path.join(root, "build", "core.wasm");
const SCRATCH = 56 * 1024; // 8 KiB scratch below the 64 KiB page
const SCRATCH_CAP = 8 * 1024;
const E_CONNECT = -8;
const WALL0 = 1795871145000; // 2026-11-28T13:05:45Z

/** Instantiates the core; returns helpers to drive it. */
export async function loadCore() {
  const fake = createFakeHost();
  const bytes = fs.readFileSync(CORE_WASM);
  const { instance } = await WebAssembly.instantiate(bytes, { host: fake.hostImports() });
  const ex = instance.exports;
  fake.attach(ex.memory);
  const ctl = fake.controlImports();
  if (ex.__heap_base.value > SCRATCH) throw new Error("core memory reaches the test scratch area");
  const mem = () => new Uint8Array(ex.memory.buffer);
  const put = (s, at) => {
    const b = Buffer.from(s, "utf8");
    if (at + b.length > SCRATCH + SCRATCH_CAP) throw new Error("scratch overflow");
    mem().set(b, at);
    return b.length;
  };
  return {
    ex,
    ctl,
    config(k, v) {
      const kl = put(k, SCRATCH);
      const vl = put(v, SCRATCH + kl);
      ctl.fake_config_set(SCRATCH, kl, SCRATCH + kl, vl);
    },
    push(h, s) {
      const n = put(s, SCRATCH);
      ctl.fake_push_inbound(h, SCRATCH, n);
    },
    take(h) {
      let out = "";
      for (;;) {
        const n = ctl.fake_outbound_take(h, SCRATCH, SCRATCH_CAP);
        if (n <= 0) return out;
        out += Buffer.from(mem().subarray(SCRATCH, SCRATCH + n)).toString("utf8");
      }
    },
  };
}

function response(status, reason, body) {
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nDate: Sat, 28 Nov 2026 13:05:45 GMT\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** Runs `cycles` poll cycles (1 s of fake time each) against a scripted API
 *  server that also injects failures: connect errors, a 409 on a Lease
 *  update, a server restart (peer close), a deleted Node. Calls
 *  onCycle(i, heapOffset) after each cycle. Returns request counts. */
export async function runCore(cycles, onCycle) {
  const core = await loadCore();
  const { ex, ctl } = core;
  ctl.fake_auto_connect(1);
  core.config("node.name", "pico-a");
  core.config("server.host", "api.example");
  core.config("node.ip", "192.0.2.10");
  core.config("platform.memory_bytes", "270336");
  core.config("platform.memory_allocatable_bytes", "131072");
  // This scripted server answers the newest connection only: no k3s agent
  // tunnel beside it (tests/assembly/kubelet/tunnel.spec.ts, e2e tunnel).
  core.config("tunnel.port", "0");
  const rc = ex.init();
  if (rc !== 0) throw new Error(`init() returned ${rc}`);
  let rv = 1;
  let uid = 1;
  let leaseExists = false;
  let nodeDeleted = false;
  const counts = { requests: 0, POST: 0, PATCH: 0, PUT: 0, GET: 0, failures: 0 };
  for (let i = 1; i <= cycles; i++) {
    const now = 1000 * i;
    // Scripted failures, repeated every 1000 cycles so they happen after the 10th poll.
    if (i % 1000 === 500) { ctl.fake_fail_next(0, OP_CONNECT, E_CONNECT); counts.failures++; }
    if (i % 1000 === 700) { ctl.fake_peer_close(ctl.fake_last_handle()); counts.failures++; }
    if (i % 3000 === 0) { nodeDeleted = true; leaseExists = false; } // kubectl delete node (Lease GC'd)
    ex.poll(BigInt(now), BigInt(WALL0 + now));
    for (let n = 0; n < 4; n++) {
      const h = ctl.fake_last_handle();
      const req = core.take(h);
      if (!req) break;
      counts.requests++;
      const [method, target] = req.slice(0, req.indexOf("\r\n")).split(" ");
      counts[method] = (counts[method] || 0) + 1;
      let out;
      if (method === "POST" && target === "/api/v1/nodes") {
        out = response(201, "Created", `{"metadata":{"name":"pico-a","uid":"uid-${uid}"}}`);
      } else if (method === "GET" && target.startsWith("/api/v1/nodes/")) {
        out = response(200, "OK", `{"metadata":{"name":"pico-a","uid":"uid-${uid}"}}`);
      } else if (method === "PATCH") {
        if (nodeDeleted) { nodeDeleted = false; uid++; out = response(404, "Not Found", `{"kind":"Status","code":404}`); counts.failures++; }
        else out = response(200, "OK", `{"metadata":{"name":"pico-a","uid":"uid-${uid}"},"status":{}}`);
      } else if (method === "GET") {
        out = leaseExists
          ? response(200, "OK", `{"metadata":{"resourceVersion":"${rv}"}}`)
          : response(404, "Not Found", `{"kind":"Status","code":404}`);
      } else if (method === "POST") {
        leaseExists = true;
        out = response(201, "Created", `{"metadata":{"resourceVersion":"${++rv}"}}`);
      } else if (method === "PUT") {
        if (!leaseExists) out = response(404, "Not Found", `{"kind":"Status","code":404}`);
        else if (i % 1000 === 900) { out = response(409, "Conflict", `{"kind":"Status","code":409}`); counts.failures++; }
        else out = response(200, "OK", `{"metadata":{"resourceVersion":"${++rv}"}}`);
      } else {
        out = response(400, "Bad Request", "{}");
      }
      core.push(h, out);
      ex.poll(BigInt(now), BigInt(WALL0 + now));
    }
    if (onCycle) onCycle(i, ex.heap_offset() >>> 0);
  }
  return counts;
}
