// The node Lease (coordination.k8s.io/v1, kube-node-lease/<node>), as
// kubelet's lease controller writes it
// (k8s.io/component-helpers/apimachinery/lease/controller.go newLease;
// pkg/kubelet/util/nodelease.go SetNodeOwnerFunc for the owner reference).

import { JsonWriter } from "../json/writer";
import { SCRATCH } from "../util/bytes";
import { NodeConfig } from "./config";
import { formatRfc3339 } from "./time";
import { writeKvText } from "./status";
import { Lit, utf8 } from "../util/lit";
import {
  L_API_VERSION, L_KIND, L_METADATA, L_NAME, L_NAMESPACE, L_NODE, L_RESOURCE_VERSION, L_SPEC, L_UID, L_V1,
} from "./lits";

/** Namespace of node leases (corev1.NamespaceNodeLease). */
export const LEASE_NAMESPACE = utf8("kube-node-lease");
/** Path of the Lease collection (create); "/<name>" appended names ours. */
export const LEASE_COLLECTION_PATH = utf8("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases");
/** spec.leaseDurationSeconds: kubelet's nodeLeaseDurationSeconds default (40). */
export const LEASE_DURATION_SECONDS: i32 = 40;
/** Renewal interval: 0.25 x the duration = 10 s (kubelet's
 *  nodeLeaseRenewIntervalFraction, pkg/kubelet/kubelet.go). */
export const LEASE_RENEW_INTERVAL_MS: i64 = 10000;

/** renewTime is formatted in the shared scratch (util/bytes.ts). */
const TIME: usize = SCRATCH;

/** Writes the whole Lease into `w` (reset first). `rvLen` 0 omits
 *  metadata.resourceVersion (create); `uidLen` 0 omits the owner reference
 *  (Node uid not known yet). renewTime is a MicroTime of `wallMs`. */
export function writeLease(
  w: JsonWriter, cfg: NodeConfig, uid: usize, uidLen: i32, rv: usize, rvLen: i32, wallMs: i64,
): void {
  w.reset();
  w.beginObject();
  w.kvLit(L_API_VERSION, utf8("coordination.k8s.io/v1"));
  w.kvLit(L_KIND, utf8("Lease"));
  w.keyObject(L_METADATA);
  writeKvText(w, L_NAME, cfg.name);
  w.kvLit(L_NAMESPACE, LEASE_NAMESPACE);
  if (rvLen > 0) { w.kvBytes(L_RESOURCE_VERSION, rv, rvLen); }
  if (uidLen > 0) {
    w.keyArray(utf8("ownerReferences"));
    w.beginObject();
    w.kvLit(L_API_VERSION, L_V1);
    w.kvLit(L_KIND, L_NODE);
    writeKvText(w, L_NAME, cfg.name);
    w.kvBytes(L_UID, uid, uidLen);
    w.endObject();
    w.endArray();
  }
  w.endObject();
  w.keyObject(L_SPEC);
  writeKvText(w, utf8("holderIdentity"), cfg.name);
  w.kvInt(utf8("leaseDurationSeconds"), LEASE_DURATION_SECONDS);
  w.keyLit(utf8("renewTime"));
  const n = formatRfc3339(TIME, 32, wallMs, true);
  if (n > 0) w.strBytes(TIME, n); else w.nul();
  w.endObject();
  w.endObject();
}
