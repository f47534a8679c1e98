// Node status: the four node conditions kubelet reports, and the status
// object written into the registration POST and the status PATCH.
//
// Condition types, reasons and messages are kubelet's
// (pkg/kubelet/nodestatus/setters.go: ReadyCondition, MemoryPressureCondition,
// DiskPressureCondition, PIDPressureCondition), except the Ready message names
// this agent. lastTransitionTime moves only when a status really changes
// (setters.go keeps the old transition time otherwise).

import { JsonWriter } from "../json/writer";
import { formatI64, SCRATCH } from "../util/bytes";
import { NodeConfig, Text } from "./config";
import { formatRfc3339 } from "./time";
import { Lit, utf8 } from "../util/lit";
import { L_MESSAGE, L_REASON, L_STATUS, L_TYPE } from "./lits";

// Literals used more than once in this file: one copy each (util/lit.ts).
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

// Numbers and times are formatted in util/bytes.ts SCRATCH.
const TIME: usize = SCRATCH;
const NUM: usize = SCRATCH;

/** Writes key `k` and metav1.Time `wallMs` as a JSON string value. */
export function writeTime(w: JsonWriter, k: Lit, wallMs: i64): void {
  w.keyLit(k);
  const n = formatRfc3339(TIME, 32, wallMs, false);
  if (n < 0) { w.nul(); return; }
  w.strBytes(TIME, n);
}

/** Writes key `k` and `v` as a JSON string (a resource.Quantity in plain decimal). */
export function writeQuantity(w: JsonWriter, k: Lit, v: i64): void {
  w.keyLit(k);
  const n = formatI64(NUM, 24, v);
  w.strBytes(NUM, n < 0 ? 0 : n);
}

/** Writes a byte count as a binary-SI resource.Quantity ("264Ki"), the form
 *  kubelet reports memory in (k8s.io/apimachinery/pkg/api/resource: BinarySI);
 *  counts that are not whole KiB stay plain decimal. */
export function writeBytesQuantity(w: JsonWriter, k: Lit, v: i64): void {
  if (v <= 0 || (v & 1023) != 0) { writeQuantity(w, k, v); return; }
  w.keyLit(k);
  const n = formatI64(NUM, 22, v >> 10);
  if (n < 0) { w.strBytes(NUM, 0); return; }
  store<u8>(NUM + n, 0x4b); // 'K'
  store<u8>(NUM + n + 1, 0x69); // 'i'
  w.strBytes(NUM, n + 2);
}

/** Writes key `k` and config text `t` as a string value. */
export function writeKvText(w: JsonWriter, k: Lit, t: Text): void {
  w.kvBytes(k, t.ptr, t.len);
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
      let type = utf8("PIDPressure");
      let reason = utf8("KubeletHasSufficientPID");
      let message = utf8("kubelet has sufficient PID available");
      if (i == COND_READY) {
        type = utf8("Ready");
        reason = v ? READY_TRUE_REASON : READY_FALSE_REASON;
        message = v ? READY_TRUE_MESSAGE : READY_FALSE_MESSAGE;
      } else if (i == COND_MEMORY_PRESSURE) {
        type = utf8("MemoryPressure");
        reason = utf8("KubeletHasSufficientMemory");
        message = utf8("kubelet has sufficient memory available");
      } else if (i == COND_DISK_PRESSURE) {
        type = utf8("DiskPressure");
        reason = utf8("KubeletHasNoDiskPressure");
        message = utf8("kubelet has no disk pressure");
      }
      w.kvLit(L_TYPE, type);
      w.kvLit(L_STATUS, v ? utf8("True") : utf8("False"));
      writeTime(w, utf8("lastHeartbeatTime"), wallMs);
      writeTime(w, utf8("lastTransitionTime"), load<i64>(this.since + (<usize>(i) << 3)));
      w.kvLit(L_REASON, reason);
      w.kvLit(L_MESSAGE, message);
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
  w.keyObject(utf8("capacity"));
  writeQuantity(w, K_CPU, cfg.cpuCores);
  writeBytesQuantity(w, K_MEMORY, cfg.memoryBytes);
  writeQuantity(w, K_PODS, NODE_MAX_PODS);
  w.endObject();
  w.keyObject(utf8("allocatable"));
  writeQuantity(w, K_CPU, allocCpu);
  writeBytesQuantity(w, K_MEMORY, cfg.memoryAllocatableBytes);
  writeQuantity(w, K_PODS, NODE_MAX_PODS);
  w.endObject();
  w.keyLit(utf8("conditions"));
  cond.write(w, wallMs);
  w.keyArray(utf8("addresses"));
  w.beginObject(); w.kvLit(L_TYPE, utf8("InternalIP")); writeKvText(w, K_ADDRESS, cfg.ip); w.endObject();
  w.beginObject(); w.kvLit(L_TYPE, utf8("Hostname")); writeKvText(w, K_ADDRESS, cfg.hostname); w.endObject();
  w.endArray();
  w.keyObject(utf8("daemonEndpoints"));
  w.keyObject(utf8("kubeletEndpoint")); w.kvInt(utf8("Port"), cfg.kubeletPort); w.endObject();
  w.endObject();
  w.keyObject(utf8("nodeInfo"));
  writeKvText(w, utf8("machineID"), cfg.machineId);
  writeKvText(w, utf8("systemUUID"), cfg.machineId);
  w.kvBytes(utf8("bootID"), bootId, BOOT_ID_LEN);
  writeKvText(w, utf8("kernelVersion"), cfg.kernel);
  writeKvText(w, utf8("osImage"), cfg.osImage);
  writeKvText(w, utf8("containerRuntimeVersion"), cfg.runtime);
  w.kvLit(utf8("kubeletVersion"), KUBELET_VERSION);
  w.kvLit(utf8("kubeProxyVersion"), utf8(""));
  writeKvText(w, utf8("operatingSystem"), cfg.os);
  writeKvText(w, utf8("architecture"), cfg.arch);
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
