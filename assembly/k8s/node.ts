// The Node object: registration body (POST /api/v1/nodes) and the status-only
// strategic merge patch (PATCH /api/v1/nodes/<name>/status), as kubelet sends
// them (pkg/kubelet/kubelet_node_status.go: initialNode, registerWithAPIServer,
// tryUpdateNodeStatus -> PatchNodeStatus).

import { JsonWriter } from "../json/writer";
import { NodeConfig } from "./config";
import { Conditions, writeStatusMembers, writeText } from "./status";

/** node.kubernetes.io/instance-type label value (allowed by NodeRestriction:
 *  node.kubernetes.io/ is a kubelet-settable prefix). */
export const INSTANCE_TYPE = "rp2040-pico-w";
/** Taint key that keeps ordinary pods and DaemonSets off the microcontroller:
 *  set as NoSchedule and NoExecute at creation (NodeRestriction forbids the
 *  node from changing taints later). Workloads meant for it tolerate it. */
export const MICROCONTROLLER_TAINT_KEY = "pico.k3s.io/microcontroller";
/** The taint kubelet registers with; the node lifecycle controller removes it
 *  once Ready (k8s.io/api/core/v1 well_known_taints.go TaintNodeNotReady). */
export const NOT_READY_TAINT_KEY = "node.kubernetes.io/not-ready";

/** Writes the Node for registration into `w` (reset first). */
export function writeNodeRegistration(w: JsonWriter, cfg: NodeConfig, cond: Conditions, bootId: usize, wallMs: i64): void {
  w.reset();
  w.beginObject();
  w.key("apiVersion"); w.str("v1");
  w.key("kind"); w.str("Node");
  w.key("metadata");
  w.beginObject();
  w.key("name"); writeText(w, cfg.name);
  // Only labels NodeRestriction lets a node set on itself
  // (plugin/pkg/admission/noderestriction, kubelet's well-known labels).
  w.key("labels");
  w.beginObject();
  w.key("kubernetes.io/hostname"); writeText(w, cfg.hostname);
  w.key("kubernetes.io/os"); writeText(w, cfg.os);
  w.key("kubernetes.io/arch"); writeText(w, cfg.arch);
  w.key("node.kubernetes.io/instance-type"); w.str(INSTANCE_TYPE);
  w.endObject();
  // k3s' agent sets these two (pkg/agent/config, node annotations); kubelet
  // sets the ttl annotation (node.alpha.kubernetes.io/ttl, 0 = no TTL caching).
  w.key("annotations");
  w.beginObject();
  w.key("k3s.io/hostname"); writeText(w, cfg.hostname);
  w.key("k3s.io/internal-ip"); writeText(w, cfg.ip);
  w.key("node.alpha.kubernetes.io/ttl"); w.str("0");
  w.endObject();
  w.endObject();
  w.key("spec");
  w.beginObject();
  w.key("taints");
  w.beginArray();
  writeTaint(w, MICROCONTROLLER_TAINT_KEY, "true", "NoSchedule");
  writeTaint(w, MICROCONTROLLER_TAINT_KEY, "true", "NoExecute");
  writeTaint(w, NOT_READY_TAINT_KEY, "", "NoSchedule");
  w.endArray();
  w.endObject();
  w.key("status");
  w.beginObject();
  writeStatusMembers(w, cfg, cond, bootId, wallMs);
  w.endObject();
  w.endObject();
}

function writeTaint(w: JsonWriter, key: string, value: string, effect: string): void {
  w.beginObject();
  w.key("key"); w.str(key);
  if (value.length > 0) { w.key("value"); w.str(value); }
  w.key("effect"); w.str(effect);
  w.endObject();
}

/** Writes the status-only strategic merge patch into `w` (reset first):
 *  conditions merge by type (patchMergeKey "type" in NodeStatus.Conditions). */
export function writeNodeStatusPatch(w: JsonWriter, cfg: NodeConfig, cond: Conditions, bootId: usize, wallMs: i64): void {
  w.reset();
  w.beginObject();
  w.key("status");
  w.beginObject();
  writeStatusMembers(w, cfg, cond, bootId, wallMs);
  w.endObject();
  w.endObject();
}
