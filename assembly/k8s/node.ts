// The Node object: registration body (POST /api/v1/nodes) and the status-only
// strategic merge patch (PATCH /api/v1/nodes/<name>/status), as kubelet sends
// them (pkg/kubelet/kubelet_node_status.go: initialNode, registerWithAPIServer,
// tryUpdateNodeStatus -> PatchNodeStatus).

import { JsonWriter, LIT_TRUE } from "../json/writer";
import { NodeConfig } from "./config";
import { Conditions, writeKvText, writeStatusMembers } from "./status";
import { Lit, litLen, utf8 } from "../util/lit";
import { L_ANNOTATIONS, L_API_VERSION, L_KIND, L_METADATA, L_NAME, L_NODE, L_SPEC, L_STATUS, L_V1 } from "./lits";

// Literals used more than once in this file: one copy each (util/lit.ts).
const K_NOSCHEDULE: Lit = utf8("NoSchedule");

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
  w.kvLit(L_API_VERSION, L_V1);
  w.kvLit(L_KIND, L_NODE);
  w.keyObject(L_METADATA);
  writeKvText(w, L_NAME, cfg.name);
  // Only labels NodeRestriction lets a node set on itself
  // (plugin/pkg/admission/noderestriction, kubelet's well-known labels).
  w.keyObject(utf8("labels"));
  writeKvText(w, utf8("kubernetes.io/hostname"), cfg.hostname);
  writeKvText(w, utf8("kubernetes.io/os"), cfg.os);
  writeKvText(w, utf8("kubernetes.io/arch"), cfg.arch);
  w.kvLit(utf8("node.kubernetes.io/instance-type"), INSTANCE_TYPE);
  w.endObject();
  // k3s' agent sets these two (pkg/agent/config, node annotations); kubelet
  // sets the ttl annotation (node.alpha.kubernetes.io/ttl, 0 = no TTL caching).
  w.keyObject(L_ANNOTATIONS);
  writeKvText(w, utf8("k3s.io/hostname"), cfg.hostname);
  writeKvText(w, utf8("k3s.io/internal-ip"), cfg.ip);
  w.kvLit(utf8("node.alpha.kubernetes.io/ttl"), utf8("0"));
  w.endObject();
  w.endObject();
  w.keyObject(L_SPEC);
  w.keyArray(utf8("taints"));
  writeTaint(w, MICROCONTROLLER_TAINT_KEY, LIT_TRUE, K_NOSCHEDULE);
  writeTaint(w, MICROCONTROLLER_TAINT_KEY, LIT_TRUE, utf8("NoExecute"));
  writeTaint(w, NOT_READY_TAINT_KEY, utf8(""), K_NOSCHEDULE);
  w.endArray();
  w.endObject();
  w.keyObject(L_STATUS);
  writeStatusMembers(w, cfg, cond, bootId, wallMs);
  w.endObject();
  w.endObject();
}

function writeTaint(w: JsonWriter, key: Lit, value: Lit, effect: Lit): void {
  w.beginObject();
  w.kvLit(utf8("key"), key);
  if (litLen(value) > 0) { w.kvLit(utf8("value"), value); }
  w.kvLit(utf8("effect"), effect);
  w.endObject();
}

/** Writes the status-only strategic merge patch into `w` (reset first):
 *  conditions merge by type (patchMergeKey "type" in NodeStatus.Conditions). */
export function writeNodeStatusPatch(w: JsonWriter, cfg: NodeConfig, cond: Conditions, bootId: usize, wallMs: i64): void {
  w.reset();
  w.beginObject();
  w.keyObject(L_STATUS);
  writeStatusMembers(w, cfg, cond, bootId, wallMs);
  w.endObject();
  w.endObject();
}
