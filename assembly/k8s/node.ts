// The Node object: registration body (POST /api/v1/nodes) and the status-only
// strategic merge patch (PATCH /api/v1/nodes/<name>/status), as kubelet sends
// them (pkg/kubelet/kubelet_node_status.go: initialNode, registerWithAPIServer,
// tryUpdateNodeStatus -> PatchNodeStatus).

import { JsonWriter } from "../json/writer";
import { NodeConfig } from "./config";
import { Conditions, writeStatusMembers, writeText } from "./status";
import { Lit, litLen, utf8 } from "../util/lit";

// Literals used more than once in this file: one copy each (util/lit.ts).
const K_TRUE: Lit = utf8("true");
const K_NOSCHEDULE: Lit = utf8("NoSchedule");
const K_STATUS: Lit = utf8("status");

/** node.kubernetes.io/instance-type label value (allowed by NodeRestriction:
 *  node.kubernetes.io/ is a kubelet-settable prefix). */
export const INSTANCE_TYPE = utf8("rp2040-pico-w");
/** Taint key that keeps ordinary pods and DaemonSets off the microcontroller:
 *  set as NoSchedule and NoExecute at creation (NodeRestriction forbids the
 *  node from changing taints later). Workloads meant for it tolerate it. */
export const MICROCONTROLLER_TAINT_KEY = utf8("pico.k3s.io/microcontroller");
/** The taint kubelet registers with; the node lifecycle controller removes it
 *  once Ready (k8s.io/api/core/v1 well_known_taints.go TaintNodeNotReady). */
export const NOT_READY_TAINT_KEY = utf8("node.kubernetes.io/not-ready");

/** Writes the Node for registration into `w` (reset first). */
export function writeNodeRegistration(w: JsonWriter, cfg: NodeConfig, cond: Conditions, bootId: usize, wallMs: i64): void {
  w.reset();
  w.beginObject();
  w.keyLit(utf8("apiVersion")); w.strLit(utf8("v1"));
  w.keyLit(utf8("kind")); w.strLit(utf8("Node"));
  w.keyLit(utf8("metadata"));
  w.beginObject();
  w.keyLit(utf8("name")); writeText(w, cfg.name);
  // Only labels NodeRestriction lets a node set on itself
  // (plugin/pkg/admission/noderestriction, kubelet's well-known labels).
  w.keyLit(utf8("labels"));
  w.beginObject();
  w.keyLit(utf8("kubernetes.io/hostname")); writeText(w, cfg.hostname);
  w.keyLit(utf8("kubernetes.io/os")); writeText(w, cfg.os);
  w.keyLit(utf8("kubernetes.io/arch")); writeText(w, cfg.arch);
  w.keyLit(utf8("node.kubernetes.io/instance-type")); w.strLit(INSTANCE_TYPE);
  w.endObject();
  // k3s' agent sets these two (pkg/agent/config, node annotations); kubelet
  // sets the ttl annotation (node.alpha.kubernetes.io/ttl, 0 = no TTL caching).
  w.keyLit(utf8("annotations"));
  w.beginObject();
  w.keyLit(utf8("k3s.io/hostname")); writeText(w, cfg.hostname);
  w.keyLit(utf8("k3s.io/internal-ip")); writeText(w, cfg.ip);
  w.keyLit(utf8("node.alpha.kubernetes.io/ttl")); w.strLit(utf8("0"));
  w.endObject();
  w.endObject();
  w.keyLit(utf8("spec"));
  w.beginObject();
  w.keyLit(utf8("taints"));
  w.beginArray();
  writeTaint(w, MICROCONTROLLER_TAINT_KEY, K_TRUE, K_NOSCHEDULE);
  writeTaint(w, MICROCONTROLLER_TAINT_KEY, K_TRUE, utf8("NoExecute"));
  writeTaint(w, NOT_READY_TAINT_KEY, utf8(""), K_NOSCHEDULE);
  w.endArray();
  w.endObject();
  w.keyLit(K_STATUS);
  w.beginObject();
  writeStatusMembers(w, cfg, cond, bootId, wallMs);
  w.endObject();
  w.endObject();
}

function writeTaint(w: JsonWriter, key: Lit, value: Lit, effect: Lit): void {
  w.beginObject();
  w.keyLit(utf8("key")); w.strLit(key);
  if (litLen(value) > 0) { w.keyLit(utf8("value")); w.strLit(value); }
  w.keyLit(utf8("effect")); w.strLit(effect);
  w.endObject();
}

/** Writes the status-only strategic merge patch into `w` (reset first):
 *  conditions merge by type (patchMergeKey "type" in NodeStatus.Conditions). */
export function writeNodeStatusPatch(w: JsonWriter, cfg: NodeConfig, cond: Conditions, bootId: usize, wallMs: i64): void {
  w.reset();
  w.beginObject();
  w.keyLit(K_STATUS);
  w.beginObject();
  writeStatusMembers(w, cfg, cond, bootId, wallMs);
  w.endObject();
  w.endObject();
}
