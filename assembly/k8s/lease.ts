// The node Lease (coordination.k8s.io/v1, kube-node-lease/<node>), as
// kubelet's lease controller writes it
// (k8s.io/component-helpers/apimachinery/lease/controller.go newLease;
// pkg/kubelet/util/nodelease.go SetNodeOwnerFunc for the owner reference).

import { JsonWriter } from "../json/writer";
import { NodeConfig } from "./config";
import { formatRfc3339 } from "./time";
import { writeText } from "./status";
import { Lit, utf8 } from "../util/lit";

// Literals used more than once in this file: one copy each (util/lit.ts).
const K_APIVERSION: Lit = utf8("apiVersion");
const K_KIND: Lit = utf8("kind");
const K_NAME: Lit = utf8("name");

/** Namespace of node leases (corev1.NamespaceNodeLease). */
export const LEASE_NAMESPACE = utf8("kube-node-lease");
/** Path of the Lease collection (create); "/<name>" appended names ours. */
export const LEASE_COLLECTION_PATH = utf8("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases");
/** spec.leaseDurationSeconds: kubelet's nodeLeaseDurationSeconds default (40). */
export const LEASE_DURATION_SECONDS: i32 = 40;
/** Renewal interval: 0.25 x the duration = 10 s (kubelet's
 *  nodeLeaseRenewIntervalFraction, pkg/kubelet/kubelet.go). */
export const LEASE_RENEW_INTERVAL_MS: i64 = 10000;

const TIME: usize = memory.data(32);

/** Writes the whole Lease into `w` (reset first). `rvLen` 0 omits
 *  metadata.resourceVersion (create); `uidLen` 0 omits the owner reference
 *  (Node uid not known yet). renewTime is a MicroTime of `wallMs`. */
export function writeLease(
  w: JsonWriter, cfg: NodeConfig, uid: usize, uidLen: i32, rv: usize, rvLen: i32, wallMs: i64,
): void {
  w.reset();
  w.beginObject();
  w.keyLit(K_APIVERSION); w.strLit(utf8("coordination.k8s.io/v1"));
  w.keyLit(K_KIND); w.strLit(utf8("Lease"));
  w.keyLit(utf8("metadata"));
  w.beginObject();
  w.keyLit(K_NAME); writeText(w, cfg.name);
  w.keyLit(utf8("namespace")); w.strLit(LEASE_NAMESPACE);
  if (rvLen > 0) { w.keyLit(utf8("resourceVersion")); w.strBytes(rv, rvLen); }
  if (uidLen > 0) {
    w.keyLit(utf8("ownerReferences"));
    w.beginArray();
    w.beginObject();
    w.keyLit(K_APIVERSION); w.strLit(utf8("v1"));
    w.keyLit(K_KIND); w.strLit(utf8("Node"));
    w.keyLit(K_NAME); writeText(w, cfg.name);
    w.keyLit(utf8("uid")); w.strBytes(uid, uidLen);
    w.endObject();
    w.endArray();
  }
  w.endObject();
  w.keyLit(utf8("spec"));
  w.beginObject();
  w.keyLit(utf8("holderIdentity")); writeText(w, cfg.name);
  w.keyLit(utf8("leaseDurationSeconds")); w.int(LEASE_DURATION_SECONDS);
  w.keyLit(utf8("renewTime"));
  const n = formatRfc3339(TIME, 32, wallMs, true);
  if (n > 0) w.strBytes(TIME, n); else w.nul();
  w.endObject();
  w.endObject();
}
