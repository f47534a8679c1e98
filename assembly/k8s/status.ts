// Node status: the four node conditions kubelet reports, and the status
// object written into the registration POST and the status PATCH.
//
// Condition types, reasons and messages are kubelet's
// (pkg/kubelet/nodestatus/setters.go: ReadyCondition, MemoryPressureCondition,
// DiskPressureCondition, PIDPressureCondition), except the Ready message names
// this agent. lastTransitionTime moves only when a status really changes
// (setters.go keeps the old transition time otherwise).

import { JsonWriter } from "../json/writer";
import { formatI64 } from "../util/bytes";
import { NodeConfig, Text } from "./config";
import { formatRfc3339 } from "./time";
import { Lit, utf8 } from "../util/lit";

// Literals used more than once in this file: one copy each (util/lit.ts).
const K_TYPE: Lit = utf8("type");
const K_CPU: Lit = utf8("cpu");
const K_MEMORY: Lit = utf8("memory");
const K_PODS: Lit = utf8("pods");
const K_ADDRESS: Lit = utf8("address");

/** Condition indexes, in the order kubelet lists them in node status. */
export const COND_MEMORY_PRESSURE: i32 = 0;
export const COND_DISK_PRESSURE: i32 = 1;
export const COND_PID_PRESSURE: i32 = 2;
export const COND_READY: i32 = 3;
export const COND_COUNT: i32 = 4;

/** The agent's version, and the Kubernetes release whose kubelet behaviour it
 *  implements: nodeInfo.kubeletVersion = "<k8s>-pico.<agent>" (a valid semver
 *  pre-release of the k8s version, shown as VERSION by kubectl). */
export const AGENT_VERSION: Lit = utf8("0.1.0");
export const KUBELET_VERSION: Lit = utf8("v1.36.3-pico.0.1.0");

/** Pods the node runs: none yet (no pod runtime in this version). Reported
 *  honestly as capacity.pods so the scheduler never places a pod here. */
export const NODE_MAX_PODS: i32 = 0;

/** Ready=True (kubelet: "KubeletReady"). */
const READY_TRUE_REASON = utf8("KubeletReady");
const READY_TRUE_MESSAGE = utf8("k3s-pico-node is posting ready status");
const READY_FALSE_REASON = utf8("KubeletNotReady");
const READY_FALSE_MESSAGE = utf8("k3s-pico-node is not ready");

const TIME: usize = memory.data(32);
const NUM: usize = memory.data(24);

/** Writes metav1.Time `wallMs` as a JSON string value. */
export function writeTime(w: JsonWriter, wallMs: i64): void {
  const n = formatRfc3339(TIME, 32, wallMs, false);
  if (n < 0) { w.nul(); return; }
  w.strBytes(TIME, n);
}

/** Writes `v` as a JSON string (a resource.Quantity in plain decimal). */
export function writeQuantity(w: JsonWriter, v: i64): void {
  const n = formatI64(NUM, 24, v);
  w.strBytes(NUM, n < 0 ? 0 : n);
}

/** Writes a byte count as a binary-SI resource.Quantity ("264Ki"), the form
 *  kubelet reports memory in (k8s.io/apimachinery/pkg/api/resource: BinarySI);
 *  counts that are not whole KiB stay plain decimal. */
export function writeBytesQuantity(w: JsonWriter, v: i64): void {
  if (v <= 0 || (v & 1023) != 0) { writeQuantity(w, v); return; }
  const n = formatI64(NUM, 22, v >> 10);
  if (n < 0) { w.strBytes(NUM, 0); return; }
  store<u8>(NUM + n, 0x4b); // 'K'
  store<u8>(NUM + n + 1, 0x69); // 'i'
  w.strBytes(NUM, n + 2);
}

// @ts-ignore: decorator
@inline export function writeText(w: JsonWriter, t: Text): void {
  w.strBytes(t.ptr, t.len);
}

/** The node's conditions, with their transition times, kept from boot. */
// @ts-ignore: decorator
@unmanaged
export class Conditions {
  /** status per condition: true = "True". */
  private value: usize = heap.alloc(<usize>COND_COUNT);
  /** lastTransitionTime per condition (Unix ms); 0 until the clock is known. */
  private since: usize = heap.alloc(<usize>COND_COUNT << 3);

  constructor() {
    // At boot: Ready (the agent is up and talking), no pressure of any kind.
    // heap.alloc does not clear: transition times start unknown (0).
    memory.fill(this.value, 0, <usize>COND_COUNT);
    memory.fill(this.since, 0, <usize>COND_COUNT << 3);
    store<bool>(this.value + <usize>(COND_READY), true);
  }

  // Indices are the COND_* constants; the public getters check the range
  // (false / 0 outside it) and everything else indexes the plain buffers
  // directly (no bounds-check code, no abort texts for an internal index).
  status(i: i32): bool { return <u32>i < <u32>COND_COUNT && load<bool>(this.value + <usize>(i)); }
  transitionMs(i: i32): i64 { return <u32>i < <u32>COND_COUNT ? load<i64>(this.since + (<usize>(i) << 3)) : 0; }

  /** Sets transition times still unknown (first wall clock reading) to `wallMs`. */
  stamp(wallMs: i64): void {
    for (let i = 0; i < COND_COUNT; i++) if (load<i64>(this.since + (<usize>(i) << 3)) == 0) store<i64>(this.since + (<usize>(i) << 3), wallMs);
  }

  /** Sets condition `i`; returns true (and moves lastTransitionTime) only when
   *  the status changed. Only Ready can change in this version: the agent
   *  measures no memory, disk or PID pressure, so those stay False (and
   *  their "True" reasons are not carried). */
  set(i: i32, v: bool, wallMs: i64): bool {
    if (i != COND_READY || load<bool>(this.value + <usize>(i)) == v) return false;
    store<bool>(this.value + <usize>(i), v);
    store<i64>(this.since + (<usize>(i) << 3), wallMs);
    return true;
  }

  /** Writes the "conditions" array with lastHeartbeatTime = `wallMs`. */
  write(w: JsonWriter, wallMs: i64): void {
    w.beginArray();
    for (let i = 0; i < COND_COUNT; i++) {
      const v = load<bool>(this.value + <usize>(i));
      w.beginObject();
      w.keyLit(K_TYPE);
      if (i == COND_READY) w.strLit(utf8("Ready"));
      else if (i == COND_MEMORY_PRESSURE) w.strLit(utf8("MemoryPressure"));
      else if (i == COND_DISK_PRESSURE) w.strLit(utf8("DiskPressure"));
      else w.strLit(utf8("PIDPressure"));
      w.keyLit(utf8("status"));
      w.strLit(v ? utf8("True") : utf8("False"));
      w.keyLit(utf8("lastHeartbeatTime"));
      writeTime(w, wallMs);
      w.keyLit(utf8("lastTransitionTime"));
      writeTime(w, load<i64>(this.since + (<usize>(i) << 3)));
      w.keyLit(utf8("reason"));
      if (i == COND_READY) w.strLit(v ? READY_TRUE_REASON : READY_FALSE_REASON);
      else if (i == COND_MEMORY_PRESSURE) w.strLit(utf8("KubeletHasSufficientMemory"));
      else if (i == COND_DISK_PRESSURE) w.strLit(utf8("KubeletHasNoDiskPressure"));
      else w.strLit(utf8("KubeletHasSufficientPID"));
      w.keyLit(utf8("message"));
      if (i == COND_READY) w.strLit(v ? READY_TRUE_MESSAGE : READY_FALSE_MESSAGE);
      else if (i == COND_MEMORY_PRESSURE) w.strLit(utf8("kubelet has sufficient memory available"));
      else if (i == COND_DISK_PRESSURE) w.strLit(utf8("kubelet has no disk pressure"));
      else w.strLit(utf8("kubelet has sufficient PID available"));
      w.endObject();
    }
    w.endArray();
  }
}

/** Boot identity: nodeInfo.bootID, a random UUID (version 4 layout, RFC 9562
 *  §5.4) drawn once per boot; kubelet reads /proc/sys/kernel/random/boot_id. */
export const BOOT_ID_LEN: i32 = 36;

/** CPU cores kept by the agent: core 0 runs the shim, Wi-Fi and this agent,
 *  so allocatable cpu = capacity - 1 (kubelet's system-reserved, in spirit). */
export const AGENT_RESERVED_CPU_CORES: i32 = 1;

/** Writes the members of a NodeStatus (inside an open object): capacity,
 *  allocatable, conditions, addresses, daemonEndpoints, nodeInfo.
 *  `bootId` holds BOOT_ID_LEN bytes. */
export function writeStatusMembers(w: JsonWriter, cfg: NodeConfig, cond: Conditions, bootId: usize, wallMs: i64): void {
  const allocCpu = cfg.cpuCores > AGENT_RESERVED_CPU_CORES ? cfg.cpuCores - AGENT_RESERVED_CPU_CORES : 0;
  w.keyLit(utf8("capacity"));
  w.beginObject();
  w.keyLit(K_CPU); writeQuantity(w, cfg.cpuCores);
  w.keyLit(K_MEMORY); writeBytesQuantity(w, cfg.memoryBytes);
  w.keyLit(K_PODS); writeQuantity(w, NODE_MAX_PODS);
  w.endObject();
  w.keyLit(utf8("allocatable"));
  w.beginObject();
  w.keyLit(K_CPU); writeQuantity(w, allocCpu);
  w.keyLit(K_MEMORY); writeBytesQuantity(w, cfg.memoryAllocatableBytes);
  w.keyLit(K_PODS); writeQuantity(w, NODE_MAX_PODS);
  w.endObject();
  w.keyLit(utf8("conditions"));
  cond.write(w, wallMs);
  w.keyLit(utf8("addresses"));
  w.beginArray();
  w.beginObject(); w.keyLit(K_TYPE); w.strLit(utf8("InternalIP")); w.keyLit(K_ADDRESS); writeText(w, cfg.ip); w.endObject();
  w.beginObject(); w.keyLit(K_TYPE); w.strLit(utf8("Hostname")); w.keyLit(K_ADDRESS); writeText(w, cfg.hostname); w.endObject();
  w.endArray();
  w.keyLit(utf8("daemonEndpoints"));
  w.beginObject();
  w.keyLit(utf8("kubeletEndpoint"));
  w.beginObject(); w.keyLit(utf8("Port")); w.int(cfg.kubeletPort); w.endObject();
  w.endObject();
  w.keyLit(utf8("nodeInfo"));
  w.beginObject();
  w.keyLit(utf8("machineID")); writeText(w, cfg.machineId);
  w.keyLit(utf8("systemUUID")); writeText(w, cfg.machineId);
  w.keyLit(utf8("bootID")); w.strBytes(bootId, BOOT_ID_LEN);
  w.keyLit(utf8("kernelVersion")); writeText(w, cfg.kernel);
  w.keyLit(utf8("osImage")); writeText(w, cfg.osImage);
  w.keyLit(utf8("containerRuntimeVersion")); writeText(w, cfg.runtime);
  w.keyLit(utf8("kubeletVersion")); w.strLit(KUBELET_VERSION);
  w.keyLit(utf8("kubeProxyVersion")); w.strLit(utf8(""));
  w.keyLit(utf8("operatingSystem")); writeText(w, cfg.os);
  w.keyLit(utf8("architecture")); writeText(w, cfg.arch);
  w.endObject();
}

/** Fills BOOT_ID_LEN bytes at `dst` with a UUID text made from 16 random
 *  bytes at `rnd` (version 4 and variant bits set, RFC 9562 §5.4). */
export function formatUuid(dst: usize, rnd: usize): void {
  store<u8>(rnd + 6, (load<u8>(rnd + 6) & 0x0f) | 0x40);
  store<u8>(rnd + 8, (load<u8>(rnd + 8) & 0x3f) | 0x80);
  let o: usize = 0;
  for (let i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) { store<u8>(dst + o, 0x2d); o++; }
    const b = <u32>load<u8>(rnd + <usize>i);
    store<u8>(dst + o, hexDigit(b >> 4));
    store<u8>(dst + o + 1, hexDigit(b & 15));
    o += 2;
  }
}

// @ts-ignore: decorator
@inline function hexDigit(v: u32): u32 {
  return v < 10 ? 0x30 + v : 0x61 + v - 10;
}
