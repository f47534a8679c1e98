// UTF-8 literals (util/lit.ts) used by more than one file of the agent,
// named once here and imported: JSON keys of Kubernetes objects, HTTP
// headers, shared log texts. (Identical literals share one copy in static
// data anyway: scripts/lit-transform.mjs.)

import { utf8 } from "../util/lit";

// JSON keys and values of Kubernetes objects (k8s.io/apimachinery ObjectMeta,
// TypeMeta; k8s.io/api/core/v1).
export const L_API_VERSION = utf8("apiVersion");
export const L_KIND = utf8("kind");
export const L_METADATA = utf8("metadata");
export const L_NAME = utf8("name");
export const L_NAMESPACE = utf8("namespace");
export const L_V1 = utf8("v1");
export const L_SPEC = utf8("spec");
export const L_UID = utf8("uid");
export const L_RESOURCE_VERSION = utf8("resourceVersion");
export const L_METADATA_RESOURCE_VERSION = utf8("metadata.resourceVersion");
export const L_ANNOTATIONS = utf8("annotations");
export const L_TYPE = utf8("type");
export const L_REASON = utf8("reason");
export const L_MESSAGE = utf8("message");
export const L_STATUS = utf8("status");
export const L_NODE = utf8("Node");
/** The agent's name: Event source, default hostname. */
export const L_K3S_PICO_NODE = utf8("k3s-pico-node");

// HTTP (RFC 9110): header names, media type (methods: http/request.ts).
export const L_USER_AGENT = utf8("User-Agent");
export const L_ACCEPT = utf8("Accept");
export const L_APPLICATION_JSON = utf8("application/json");

// Log texts.
export const L_RETRYING = utf8("; retrying");
export const L_CANNOT_BE_READ = utf8(" cannot be read");
export const L_BYTES = utf8(" bytes");
