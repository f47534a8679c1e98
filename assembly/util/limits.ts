// Every limit of the core, named once, with what it must fit (STYLE.md habit 3).
// Exceeding one returns E_TOOLARGE (or E_DEPTH for nesting); nothing grows.

// ---- HTTP (assembly/http/) ----

/** Request buffer of the API client: request line + headers + body. Must fit
 *  the largest request the agent sends (Node registration POST, ~1.5 KB of
 *  JSON, plus ~300 bytes of headers). */
export const HTTP_REQUEST_CAP: i32 = 4096;
/** Receive buffer of the API client: bytes read from the host per net_recv.
 *  Any size works (the parser is push-style and nothing must fit in it whole);
 *  larger means fewer calls. 1 KB holds a whole Lease or status response
 *  header block; a Node response (~5 KB with managedFields) takes ~6 reads.
 *  The TLS record itself is buffered by the host, not here. */
export const HTTP_RECV_CAP: i32 = 1024;
/** Cap on a response's header block (status line + headers + blank line),
 *  counted across feeds, and separately on a chunked body's trailer section.
 *  The API server sends ~300 bytes of headers; 8 KB is what many servers allow
 *  for requests, 4 KB is ample for responses we read. Headers are never stored. */
export const HTTP_HEADER_MAX: i32 = 4096;
/** Longest Date header value kept: an IMF-fixdate is exactly 29 bytes
 *  (RFC 9110 §5.6.7); obsolete formats are longer and not parsed. */
export const HTTP_DATE_MAX: i32 = 32;
/** Hex digits accepted in one chunk-size (RFC 9112 §7.1); 15 keep it below 2^60. */
export const HTTP_CHUNK_SIZE_DIGITS_MAX: i32 = 15;
/** Time from send() until the response headers are complete. Generous for a
 *  TLS handshake on a Cortex-M0+ (~1 s of CPU, DESIGN.md) plus server latency. */
export const HTTP_RESPONSE_DEADLINE_MS: i64 = 15000;
/** Longest server host name kept by the client (a DNS name is <= 253 bytes, RFC 1035 §2.3.4). */
export const HTTP_HOST_MAX: i32 = 256;

// ---- JSON (assembly/json/) ----

/** Nesting depth the reader and writer accept. Kubernetes objects nest about
 *  10 deep; managedFields' fieldsV1 nests deeper (one level per field path
 *  element) and is skipped, but still parsed, so leave headroom. */
export const JSON_DEPTH_MAX: i32 = 48;
/** Longest string/number value the reader keeps in its scratch: Kubernetes
 *  names are DNS subdomains (<= 253 bytes), resourceVersions and RFC 3339
 *  timestamps are short. Longer values are skipped and flagged `truncated`. */
export const JSON_VALUE_MAX: i32 = 256;
/** Longest object key the reader keeps for path matching; longer keys are
 *  parsed but make the path match nothing. Field names are short camelCase;
 *  label/annotation keys (prefix/name) can reach 316 bytes but are matched as
 *  keys of a map, not as path elements we look for. */
export const JSON_KEY_MAX: i32 = 64;
/** Bytes of the reader's path stack (all keys of the current path, together). */
export const JSON_PATH_MAX: i32 = 512;

// ---- k8s limits ----

/** One log line of the agent (k8s/log.ts); longer lines are cut. Fits the
 *  longest line we write: a prefix, a 253-byte host name and a reason. */
export const LOG_LINE_CAP: i32 = 320;
/** Node name (config node.name). It is also the `kubernetes.io/hostname`
 *  label value and the Lease name, and label values are at most 63 bytes
 *  (k8s.io/apimachinery validation, IsValidLabelValue). */
export const NODE_NAME_MAX: i32 = 63;
/** API server host name (config server.host): a DNS name is <= 253 bytes (RFC 1035 §2.3.4). */
export const SERVER_HOST_MAX: i32 = 253;
/** Node IP text (config node.ip): the longest IPv6 text form is 45 bytes (RFC 4291 §2.2). */
export const NODE_IP_MAX: i32 = 45;
/** One platform.* fact (os, arch, os image, kernel, runtime, machine id):
 *  os/arch become label values, hence the label-value limit of 63 bytes. */
export const PLATFORM_TEXT_MAX: i32 = 63;
/** A decimal config value (ports, core count, byte counts): an i64 has <= 19 digits. */
export const CONFIG_NUMBER_MAX: i32 = 20;
/** metadata.uid kept from the API server: a UUID is 36 bytes; headroom for
 *  other servers' formats. A longer uid is treated as a malformed response. */
export const K8S_UID_MAX: i32 = 64;
/** metadata.resourceVersion kept for Lease updates: opaque, in practice a
 *  decimal etcd/kine revision (<= 20 bytes). Longer is a malformed response. */
export const K8S_RESOURCE_VERSION_MAX: i32 = 64;
/** Request path buffer: the Lease path
 *  "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/" (63 bytes)
 *  plus a NODE_NAME_MAX name. */
export const K8S_PATH_MAX: i32 = 136;
/** Head of the API client's request buffer kept for the request line and
 *  headers: the agent writes a request's JSON body into the same buffer right
 *  after it (no second buffer), and finish() moves it down behind the headers.
 *  Must fit the longest head: "PATCH " + K8S_PATH_MAX target + " HTTP/1.1",
 *  Host (HTTP_HOST_MAX + port), User-Agent (USER_AGENT_MAX), Accept,
 *  Content-Type, Content-Length and CRLFs: 741 bytes worst case. The body then
 *  has HTTP_REQUEST_CAP - K8S_HEAD_RESERVE bytes, which must fit the Node
 *  registration with every config value at its limit (~1.9 KB; checked by
 *  tests/assembly/k8s/node.spec.ts). */
export const K8S_HEAD_RESERVE: i32 = 768;
/** User-Agent value "k3s-pico-node/<v> (<os>/<arch>) kubelet/<v>": two platform texts + ~60 bytes. */
export const USER_AGENT_MAX: i32 = 200;
