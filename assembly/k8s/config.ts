// The node's configuration (host/config.ts keys), read once by init() into
// fixed buffers. Required keys missing -> E_NOTFOUND with a clear log line.

import { config_get, LOG_ERROR } from "../host/imports";
import {
  CFG_KUBELET_PORT, CFG_NODE_HOSTNAME, CFG_NODE_IP, CFG_NODE_NAME, CFG_PLATFORM_ARCH, CFG_PLATFORM_CPUS,
  CFG_PLATFORM_KERNEL, CFG_PLATFORM_MACHINE_ID, CFG_PLATFORM_MEMORY, CFG_PLATFORM_MEMORY_ALLOCATABLE, CFG_PLATFORM_KUBELET_CONNS, CFG_PLATFORM_KUBELET_SERVER,
  CFG_PLATFORM_OS, CFG_PLATFORM_OS_IMAGE, CFG_PLATFORM_RUNTIME, CFG_SERVER_HOST, CFG_SERVER_PORT, CFG_TUNNEL_PORT,
} from "../host/config";
import { E_INVAL, E_MALFORMED, E_NOTFOUND, E_TOOLARGE, OK } from "../util/errors";
import { bytesEqual, formatI64, parseDec, SCRATCH } from "../util/bytes";
import { copyLit, Lit, litLen, litPtr, utf8 } from "../util/lit";
import { L_BYTES, L_CANNOT_BE_READ, L_K3S_PICO_NODE } from "./lits";
import {
  CONFIG_NUMBER_MAX, KUBELET_CONNS_MAX, NODE_IP_MAX, NODE_NAME_MAX, PLATFORM_TEXT_MAX, SERVER_HOST_MAX,
} from "../util/limits";
import { lineEmit, lineInt, lineLit, lineStart } from "./log";

// Literals used more than once in this file: one copy each (util/lit.ts).
const K_NODE_CONFIG_KEY: Lit = utf8("node: config key ");
const K_IS_NOT_A_NUMBER_IN_RANGE: Lit = utf8(" is not a number in range");

/** Default API server port: k3s serves the API on 6443 (supervisor and apiserver share it). */
export const DEFAULT_SERVER_PORT: i32 = 6443;
/** Default kubelet port (kubelet's --port default, KubeletConfiguration.port 10250). */
export const DEFAULT_KUBELET_PORT: i32 = 10250;
/** RP2040: two Cortex-M0+ cores (RP2040 datasheet §1). */
export const DEFAULT_CPU_CORES: i32 = 2;
/** Pico W SRAM: 264 KiB (RP2040 datasheet §2.6). */
export const DEFAULT_MEMORY_BYTES: i64 = 270336;
/** GOOS-style OS when the host does not say: bare metal (thumbv6m-none-eabi). */
const DEFAULT_OS = utf8("none");
/** GOARCH of the RP2040's Cortex-M0+. */
const DEFAULT_ARCH = utf8("arm");
const DEFAULT_OS_IMAGE = L_K3S_PICO_NODE;
const DEFAULT_KERNEL = utf8("unknown");
const DEFAULT_RUNTIME = utf8("wamr://unknown");

/** A text value in a fixed buffer (the config's values, the ConfigMap
 *  watches' names, versions and messages). Unmanaged and allocated together
 *  with its bytes (newText): one heap block, not an object header plus a
 *  second block. Treat ptr and cap as read-only. */
// @ts-ignore: decorator
@unmanaged
export class Text {
  ptr: usize;
  cap: i32;
  len: i32;
  /** Copies literal `s`; false when it does not fit. */
  setLit(s: Lit): bool {
    const n = copyLit(this.ptr, this.cap, s);
    if (n < 0) return false;
    this.len = n;
    return true;
  }
  set(ptr: usize, len: i32): bool {
    if (len < 0 || len > this.cap) return false;
    memory.copy(this.ptr, ptr, <usize>len);
    this.len = len;
    return true;
  }
  /** Appends bytes, cut at the cap. */
  add(p: usize, n: i32): void {
    const room = this.cap - this.len;
    const k = n < room ? n : room;
    if (k <= 0) return;
    memory.copy(this.ptr + <usize>this.len, p, <usize>k);
    this.len += k;
  }
  /** Appends literal `l`, cut at the cap. */
  lit(l: Lit): void { this.add(litPtr(l), litLen(l)); }
  /** Appends a decimal integer (nothing when it does not fit). */
  int(v: i64): void {
    const n = formatI64(this.ptr + <usize>this.len, this.cap - this.len, v);
    if (n > 0) this.len += n;
  }
  eq(o: Text): bool { return bytesEqual(this.ptr, this.len, o.ptr, o.len); }
}

/** A Text of `cap` bytes (init time only). */
export function newText(cap: i32): Text {
  const at = heap.alloc(offsetof<Text>() + <usize>cap);
  const t = changetype<Text>(at);
  t.ptr = at + offsetof<Text>();
  t.cap = cap;
  t.len = 0;
  return t;
}

/** Numbers are read into the shared scratch (util/bytes.ts). */
const NUM: usize = SCRATCH;

function cfgGet(key: Lit, optr: usize, ocap: i32): i32 {
  return config_get(litPtr(key), litLen(key), optr, ocap);
}

function logKey(what: Lit, key: Lit): void {
  lineStart(K_NODE_CONFIG_KEY);
  lineLit(key);
  lineLit(what);
  lineEmit(LOG_ERROR);
}

// @ts-ignore: decorator
@unmanaged
export class NodeConfig {
  readonly name: Text = newText(NODE_NAME_MAX);
  readonly serverHost: Text = newText(SERVER_HOST_MAX);
  readonly ip: Text = newText(NODE_IP_MAX);
  readonly hostname: Text = newText(NODE_NAME_MAX);
  readonly os: Text = newText(PLATFORM_TEXT_MAX);
  readonly arch: Text = newText(PLATFORM_TEXT_MAX);
  readonly osImage: Text = newText(PLATFORM_TEXT_MAX);
  readonly kernel: Text = newText(PLATFORM_TEXT_MAX);
  readonly runtime: Text = newText(PLATFORM_TEXT_MAX);
  readonly machineId: Text = newText(PLATFORM_TEXT_MAX);
  serverPort: i32 = DEFAULT_SERVER_PORT;
  kubeletPort: i32 = DEFAULT_KUBELET_PORT;
  cpuCores: i32 = DEFAULT_CPU_CORES;
  memoryBytes: i64 = DEFAULT_MEMORY_BYTES;
  /** Allocatable memory; defaults to 0 (nothing promised) when the host does not say. */
  memoryAllocatableBytes: i64 = 0;
  /** The host can serve the kubelet endpoint (platform.kubelet_server). */
  kubeletServer: bool = true;
  /** Endpoint connections held at once: the host's, at most KUBELET_CONNS_MAX. */
  kubeletConns: i32 = KUBELET_CONNS_MAX;
  /** k3s agent tunnel port (tunnel.port; default server.port, 0 = off). */
  tunnelPort: i32 = DEFAULT_SERVER_PORT;

  /** Reads every key. Returns OK, E_NOTFOUND (a required key is missing),
   *  E_TOOLARGE (a value exceeds its limit) or E_MALFORMED (a number is not
   *  decimal or out of range); each logged with the key's name. */
  load(): i32 {
    let r = this.text(this.name, CFG_NODE_NAME, true, utf8(""));
    if (r == OK) r = this.text(this.serverHost, CFG_SERVER_HOST, true, utf8(""));
    if (r == OK) r = this.text(this.ip, CFG_NODE_IP, true, utf8(""));
    if (r == OK) r = this.text(this.hostname, CFG_NODE_HOSTNAME, false, utf8(""));
    if (r == OK && this.hostname.len == 0) this.hostname.set(this.name.ptr, this.name.len);
    if (r == OK) r = this.text(this.os, CFG_PLATFORM_OS, false, DEFAULT_OS);
    if (r == OK) r = this.text(this.arch, CFG_PLATFORM_ARCH, false, DEFAULT_ARCH);
    if (r == OK) r = this.text(this.osImage, CFG_PLATFORM_OS_IMAGE, false, DEFAULT_OS_IMAGE);
    if (r == OK) r = this.text(this.kernel, CFG_PLATFORM_KERNEL, false, DEFAULT_KERNEL);
    if (r == OK) r = this.text(this.runtime, CFG_PLATFORM_RUNTIME, false, DEFAULT_RUNTIME);
    if (r == OK) r = this.text(this.machineId, CFG_PLATFORM_MACHINE_ID, false, utf8(""));
    // Without a board id, the node name is the most stable identity we have.
    if (r == OK && this.machineId.len == 0) this.machineId.set(this.name.ptr, this.name.len);
    if (r != OK) return r;

    let v = this.number(CFG_SERVER_PORT, DEFAULT_SERVER_PORT, 1, 65535);
    if (v < 0) return <i32>v;
    this.serverPort = <i32>v;
    v = this.number(CFG_KUBELET_PORT, DEFAULT_KUBELET_PORT, 1, 65535);
    if (v < 0) return <i32>v;
    this.kubeletPort = <i32>v;
    v = this.number(CFG_TUNNEL_PORT, this.serverPort, 0, 65535);
    if (v < 0) return <i32>v;
    this.tunnelPort = <i32>v;
    v = this.number(CFG_PLATFORM_CPUS, DEFAULT_CPU_CORES, 1, 1024);
    if (v < 0) return <i32>v;
    this.cpuCores = <i32>v;
    v = this.number(CFG_PLATFORM_MEMORY, DEFAULT_MEMORY_BYTES, 0, i64.MAX_VALUE);
    if (v < 0) return <i32>v;
    this.memoryBytes = v;
    v = this.number(CFG_PLATFORM_MEMORY_ALLOCATABLE, 0, 0, this.memoryBytes);
    if (v < 0) return <i32>v;
    this.memoryAllocatableBytes = v;
    v = this.number(CFG_PLATFORM_KUBELET_SERVER, 1, 0, 1);
    if (v < 0) return <i32>v;
    this.kubeletServer = v == 1;
    v = this.number(CFG_PLATFORM_KUBELET_CONNS, KUBELET_CONNS_MAX, 0, 65535);
    if (v < 0) return <i32>v;
    this.kubeletConns = v < KUBELET_CONNS_MAX ? <i32>v : KUBELET_CONNS_MAX;
    return OK;
  }

  private text(t: Text, key: Lit, required: bool, dflt: Lit): i32 {
    const n = cfgGet(key, t.ptr, t.cap);
    if (n >= 0) {
      if (n == 0 && required) { logKey(utf8(" is empty"), key); return E_NOTFOUND; }
      t.len = n;
      return OK;
    }
    if (n == E_NOTFOUND) {
      if (required) { logKey(utf8(" is missing (required)"), key); return E_NOTFOUND; }
      t.setLit(dflt);
      return OK;
    }
    if (n == E_TOOLARGE) {
      lineStart(K_NODE_CONFIG_KEY);
      lineLit(key);
      lineLit(utf8(" is longer than "));
      lineInt(t.cap);
      lineLit(L_BYTES);
      lineEmit(LOG_ERROR);
      return E_TOOLARGE;
    }
    logKey(L_CANNOT_BE_READ, key);
    return n;
  }

  /** A decimal value in [lo, hi], `dflt` when unset; < 0 on error. */
  private number(key: Lit, dflt: i64, lo: i64, hi: i64): i64 {
    const n = cfgGet(key, NUM, CONFIG_NUMBER_MAX);
    if (n == E_NOTFOUND) return dflt;
    if (n < 0) {
      logKey(n == E_TOOLARGE ? K_IS_NOT_A_NUMBER_IN_RANGE : L_CANNOT_BE_READ, key);
      return n == E_TOOLARGE ? E_MALFORMED : n;
    }
    const v = parseDec(NUM, n);
    if (v < lo || v > hi) {
      logKey(K_IS_NOT_A_NUMBER_IN_RANGE, key);
      return E_MALFORMED;
    }
    return v;
  }
}
