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

/** Condition indexes, in the order kubelet lists them in node status. */
export const COND_MEMORY_PRESSURE: i32 = 0;
export const COND_DISK_PRESSURE: i32 = 1;
export const COND_PID_PRESSURE: i32 = 2;
export const COND_READY: i32 = 3;
export const COND_COUNT: i32 = 4;

/** The agent's version, and the Kubernetes release whose kubelet behaviour it
 *  implements: nodeInfo.kubeletVersion = "<k8s>-pico.<agent>" (a valid semver
 *  pre-release of the k8s version, shown as VERSION by kubectl). */
export const AGENT_VERSION = "0.1.0";
export const KUBELET_VERSION = "v1.36.3-pico.0.1.0";

/** Pods the node runs: none yet (no pod runtime in this version). Reported
 *  honestly as capacity.pods so the scheduler never places a pod here. */
export const NODE_MAX_PODS: i32 = 0;

/** Ready=True (kubelet: "KubeletReady"). */
const READY_TRUE_REASON = "KubeletReady";
const READY_TRUE_MESSAGE = "k3s-pico-node is posting ready status";
const READY_FALSE_REASON = "KubeletNotReady";
const READY_FALSE_MESSAGE = "k3s-pico-node is not ready";

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
export class Conditions {
  /** status per condition: true = "True". */
  private value: StaticArray<bool> = new StaticArray<bool>(COND_COUNT);
  /** lastTransitionTime per condition (Unix ms); 0 until the clock is known. */
  private since: StaticArray<i64> = new StaticArray<i64>(COND_COUNT);

  constructor() {
    // At boot: Ready (the agent is up and talking), no pressure of any kind.
    this.value[COND_READY] = true;
  }

  status(i: i32): bool { return this.value[i]; }
  transitionMs(i: i32): i64 { return this.since[i]; }

  /** Sets transition times still unknown (first wall clock reading) to `wallMs`. */
  stamp(wallMs: i64): void {
    for (let i = 0; i < COND_COUNT; i++) if (this.since[i] == 0) this.since[i] = wallMs;
  }

  /** Sets condition `i`; returns true (and moves lastTransitionTime) only when
   *  the status changed. Only Ready can change in this version: the agent
   *  measures no memory, disk or PID pressure, so those stay False (and
   *  their "True" reasons are not carried). */
  set(i: i32, v: bool, wallMs: i64): bool {
    if (i != COND_READY || this.value[i] == v) return false;
    this.value[i] = v;
    this.since[i] = wallMs;
    return true;
  }

  /** Writes the "conditions" array with lastHeartbeatTime = `wallMs`. */
  write(w: JsonWriter, wallMs: i64): void {
    w.beginArray();
    for (let i = 0; i < COND_COUNT; i++) {
      const v = this.value[i];
      w.beginObject();
      w.key("type");
      if (i == COND_READY) w.str("Ready");
      else if (i == COND_MEMORY_PRESSURE) w.str("MemoryPressure");
      else if (i == COND_DISK_PRESSURE) w.str("DiskPressure");
      else w.str("PIDPressure");
      w.key("status");
      w.str(v ? "True" : "False");
      w.key("lastHeartbeatTime");
      writeTime(w, wallMs);
      w.key("lastTransitionTime");
      writeTime(w, this.since[i]);
      w.key("reason");
      if (i == COND_READY) w.str(v ? READY_TRUE_REASON : READY_FALSE_REASON);
      else if (i == COND_MEMORY_PRESSURE) w.str("KubeletHasSufficientMemory");
      else if (i == COND_DISK_PRESSURE) w.str("KubeletHasNoDiskPressure");
      else w.str("KubeletHasSufficientPID");
      w.key("message");
      if (i == COND_READY) w.str(v ? READY_TRUE_MESSAGE : READY_FALSE_MESSAGE);
      else if (i == COND_MEMORY_PRESSURE) w.str("kubelet has sufficient memory available");
      else if (i == COND_DISK_PRESSURE) w.str("kubelet has no disk pressure");
      else w.str("kubelet has sufficient PID available");
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
  w.key("capacity");
  w.beginObject();
  w.key("cpu"); writeQuantity(w, cfg.cpuCores);
  w.key("memory"); writeBytesQuantity(w, cfg.memoryBytes);
  w.key("pods"); writeQuantity(w, NODE_MAX_PODS);
  w.endObject();
  w.key("allocatable");
  w.beginObject();
  w.key("cpu"); writeQuantity(w, allocCpu);
  w.key("memory"); writeBytesQuantity(w, cfg.memoryAllocatableBytes);
  w.key("pods"); writeQuantity(w, NODE_MAX_PODS);
  w.endObject();
  w.key("conditions");
  cond.write(w, wallMs);
  w.key("addresses");
  w.beginArray();
  w.beginObject(); w.key("type"); w.str("InternalIP"); w.key("address"); writeText(w, cfg.ip); w.endObject();
  w.beginObject(); w.key("type"); w.str("Hostname"); w.key("address"); writeText(w, cfg.hostname); w.endObject();
  w.endArray();
  w.key("daemonEndpoints");
  w.beginObject();
  w.key("kubeletEndpoint");
  w.beginObject(); w.key("Port"); w.int(cfg.kubeletPort); w.endObject();
  w.endObject();
  w.key("nodeInfo");
  w.beginObject();
  w.key("machineID"); writeText(w, cfg.machineId);
  w.key("systemUUID"); writeText(w, cfg.machineId);
  w.key("bootID"); w.strBytes(bootId, BOOT_ID_LEN);
  w.key("kernelVersion"); writeText(w, cfg.kernel);
  w.key("osImage"); writeText(w, cfg.osImage);
  w.key("containerRuntimeVersion"); writeText(w, cfg.runtime);
  w.key("kubeletVersion"); w.str(KUBELET_VERSION);
  w.key("kubeProxyVersion"); w.str("");
  w.key("operatingSystem"); writeText(w, cfg.os);
  w.key("architecture"); writeText(w, cfg.arch);
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
