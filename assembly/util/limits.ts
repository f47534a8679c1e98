// Every limit of the core, named once, with what it must fit (STYLE.md habit 3).
// Exceeding one returns E_TOOLARGE (or E_DEPTH for nesting); nothing grows.

// ---- HTTP (assembly/http/) ----

/** Request buffer of the API client: request line + headers + body. Must fit
 *  the largest request the agent sends: the Node registration POST, whose
 *  body is 2.6-2.8 KB with every config value at its limit (3328 fails),
 *  behind the K8S_HEAD_RESERVE head (checked by tests/assembly/k8s/agent.spec.ts
 *  "fits the body when every config value is at its limit"). */
export const HTTP_REQUEST_CAP: i32 = 3584;
/** The receive buffer every HTTP client shares (the API client and the
 *  ConfigMap watches; see HttpClient's constructor): bytes read from the host
 *  per net_recv.
 *  Any size works (the parser is push-style and nothing must fit in it whole);
 *  larger means fewer calls (each net_recv copies out of the host's TLS
 *  buffer; the agent polls the client again at once while body bytes come).
 *  256 bytes: a Lease response takes a few reads, a Node response (~5 KB
 *  with managedFields) ~20. The TLS record itself is buffered by the host. */
export const HTTP_RECV_CAP: i32 = 256;
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
/** HTTP/2 (assembly/http/h2.ts): stream slots on the shared connection, one
 *  per client that uses it: the API client and CONFIGMAP_MAX watches. */
export const H2_STREAMS_MAX: i32 = 4;
/** Largest response header block kept for decoding (HEADERS + CONTINUATION),
 *  also the largest control-frame payload read (SETTINGS). The API server's
 *  ~7 response fields take ~250 bytes with Huffman coding; a larger block
 *  fails its stream only (E_TOOLARGE). */
export const H2_BLOCK_CAP: i32 = 512;
/** Control frames queued by the connection: the preface and SETTINGS (51
 *  bytes) at start, later ACKs, window updates and resets (<= 17 bytes each). */
export const H2_CTL_CAP: i32 = 96;
/** After a GOAWAY, how long new requests wait for the streams the server
 *  still serves before the connection is renewed anyway (a watch stream
 *  would keep it forever; a Lease renewal must not wait that long). */
export const H2_DRAIN_MS: i64 = 2000;
/** The flow-control window each stream announces (SETTINGS_INITIAL_WINDOW_SIZE,
 *  RFC 9113 §6.9.2): it bounds what a server may send on a stream before we
 *  give bytes back, and so the size of its DATA frames. Go's HTTP/2 server
 *  writes a frame larger than its 4 KiB write buffer in one write, and one
 *  write becomes one TLS record at most that long (x/net/http2
 *  bufWriterPoolBufferSize = 4 << 10; crypto/tls splits a write, it never
 *  joins two): with frames of <= 9 + 4087 bytes no record the API server sends
 *  exceeds 4096 bytes, which lets the device keep a 4 KiB TLS input buffer
 *  instead of 16 KiB per session (port/pico/mbedtls_config.h). */
export const H2_STREAM_WINDOW: i32 = 4087;
/** A stream's consumed DATA bytes are given back (WINDOW_UPDATE) from half
 *  its window, so the server always has room to send. */
export const H2_STREAM_WINDOW_UPDATE_AT: i32 = H2_STREAM_WINDOW / 2;
/** The connection's window stays the protocol's 65,535 bytes (it cannot be
 *  set by SETTINGS, §6.9.2); consumed bytes go back from a quarter of it. */
export const H2_CONN_WINDOW_UPDATE_AT: i32 = 16384;
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
/** Bytes of the reader's path stack (all keys of the current path, together).
 *  Must fit the longest path the agent matches plus the key being read under
 *  it: "status.conditions[].message" is 27 bytes of keys; 192 fits six levels
 *  of 32-byte keys. A key that does not fit is not kept (that path matches
 *  nothing, e.g. deep in managedFields); parsing goes on. */
export const JSON_PATH_MAX: i32 = 192;

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
/** metadata.uid kept from the API server: a UUID is 36 bytes (RFC 9562 §4;
 *  what the API server generates). A longer uid is treated as a malformed
 *  response. 40 costs the same heap granule as 36. */
export const K8S_UID_MAX: i32 = 40;
/** metadata.resourceVersion kept for Lease updates and watches: opaque, in
 *  practice a decimal etcd/kine revision (an int64: <= 20 digits). Longer is a
 *  malformed response. 40 leaves headroom at the same heap granule as 36. */
export const K8S_RESOURCE_VERSION_MAX: i32 = 40;
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
 *  registration with every config value at its limit (see HTTP_REQUEST_CAP). */
export const K8S_HEAD_RESERVE: i32 = 768;
/** User-Agent value "k3s-pico-node/<v> (<os>/<arch>) kubelet/<v>": two platform texts + ~60 bytes. */
export const USER_AGENT_MAX: i32 = 200;

// ---- device memory and ConfigMaps (assembly/devmem/, k8s/configmap.ts) ----

/** Largest device memory region the core handles (the host says how large
 *  its region is: platform.devmem_bytes, shim SHIM_DEVMEM_BYTES = 256). The
 *  core keeps the image, a shadow and one value set per followed ConfigMap. */
export const DEVMEM_MAX: i32 = 256;
/** Longest memory_values string accepted: the JSON reader's scratch of each
 *  ConfigMap watch. 512 bytes hold ~70 "a=0xVV," entries (~100 in decimal);
 *  longer values are skipped while streaming (a 1 MB ConfigMap costs nothing
 *  more) and the update is rejected as too large. Bounded by the core's
 *  memory budget (24 KB): each followed ConfigMap has its own reader. */
export const MEMORY_VALUES_MAX: i32 = 512;
/** ConfigMaps one node follows: each is one watch, an HTTP/2 stream on the
 *  agent's connection (a connection of its own, one more TLS session of
 *  ~21 KB on the device, with a server that only speaks HTTP/1.1). 2: a
 *  fleet-wide and a per-node one. Each costs a watch client and reader. */
export const CONFIGMAP_MAX: i32 = 2;
/** configmap.names value: CONFIGMAP_MAX names of up to 253 bytes plus commas.
 *  Read at init into the first watch's request buffer (CONFIGMAP_REQUEST_CAP
 *  bytes, idle then), so it must not exceed CONFIGMAP_REQUEST_CAP. */
export const CONFIGMAP_NAMES_MAX: i32 = 256;
/** A ConfigMap name: a DNS subdomain (<= 253 bytes, k8s.io/apimachinery IsDNS1123Subdomain). */
export const CONFIGMAP_NAME_MAX: i32 = 253;
/** A namespace name: a DNS label (<= 63 bytes). */
export const NAMESPACE_MAX: i32 = 63;
/** Watch request buffer: "GET " + target + " HTTP/1.1", Host, User-Agent
 *  (USER_AGENT_MAX) and Accept. The target
 *  /api/v1/namespaces/<ns>/configmaps?fieldSelector=metadata.name%3D<name>
 *  &watch=1&allowWatchBookmarks=true&resourceVersion=<rv>&timeoutSeconds=<3>
 *  is ~190 bytes plus the three names; 640 fits a 40-byte server name, a
 *  63-byte namespace, a 100-byte ConfigMap name and a 20-digit rv. Longer
 *  requests fail with a log line (E_TOOLARGE), nothing is cut. The target is
 *  written straight into this buffer (no staging copy). */
export const CONFIGMAP_REQUEST_CAP: i32 = 640;
/** Bytes a watch reads per net_recv, into the shared receive buffer: at most
 *  HTTP_RECV_CAP; any size works (the parser streams). */
export const CONFIGMAP_RECV_CAP: i32 = 256;
/** Nesting depth of a ConfigMap watch document. The deepest part is
 *  metadata.managedFields[].fieldsV1 ("object.metadata.managedFields[]
 *  .fieldsV1.f:metadata.f:annotations.f:<key>": 9 levels); 16 leaves room.
 *  Deeper is E_DEPTH: the stream is dropped and the ConfigMap listed again. */
export const CONFIGMAP_JSON_DEPTH_MAX: i32 = 16;
/** Key bytes of the current path in a ConfigMap watch document. Must fit
 *  the longest path matched, "items[].metadata.resourceVersion" (~30 bytes of
 *  keys), and a data key (<= JSON_KEY_MAX) under "object.data". Deeper
 *  managedFields keys (~150 bytes of path) are simply not kept. */
export const CONFIGMAP_JSON_PATH_MAX: i32 = 128;
/** One Event message / the reason a memory_values update was rejected. */
export const CONFIGMAP_MESSAGE_MAX: i32 = 128;

// ---- node identity (k8s/identity.ts) ----

/** A PEM CSR from the host (csr_create): a P-256 PKCS#10 with subject
 *  CN=system:node:<NODE_NAME_MAX>, O=system:nodes is ~300 bytes DER, ~480 as
 *  PEM; headroom for the line breaks. */
export const CSR_PEM_MAX: i32 = 640;
/** bootstrap.token: a kubeadm bootstrap token is 23 bytes ("abcdef.0123456789abcdef");
 *  headroom for other bearer token formats. */
export const BOOTSTRAP_TOKEN_MAX: i32 = 64;
/** A CSR's metadata.name kept to poll it: generateName "node-csr-" plus 5
 *  characters; a name up to a node name's length is accepted. */
export const CSR_NAME_MAX: i32 = 63;
/** A denied/failed CSR condition's message kept for the log line. */
export const CSR_MESSAGE_MAX: i32 = 120;

// ---- kubelet endpoint (kubelet/, issue 5): every limit named once ----
/** (method, status) pairs counted for rest_client_requests_total. */
export const API_COUNTER_SLOTS: i32 = 12;
/** Connections the core keeps (one served at a time, the others wait their
 *  turn); must not exceed the host's SHIM_KUBELET_MAX_CONNS. More are
 *  accepted and closed at once. */
export const KUBELET_CONNS_MAX: i32 = 3;
/** The one request/response buffer: a request head (request line + headers,
 *  a ~1 KB bearer token included) must fit, else 431; responses are sent as
 *  chunks of at most this size. */
export const KUBELET_BUF: i32 = 2048;
/** A served connection must deliver its whole head within this time (slow
 *  clients cannot hold the device; Go's ReadHeaderTimeout idea), else 408. */
export const KUBELET_HEAD_TIMEOUT_MS: i64 = 10000;
/** The whole response must be taken by the client within this time. */
export const KUBELET_SEND_TIMEOUT_MS: i64 = 10000;
/** A kept-alive connection (HTTP/1.1 persistent, RFC 9112 section 9.3) may
 *  wait this long for its next request, then it is closed. Longer than
 *  metrics-server's 15 s scrape interval, shorter than client-go's 90 s
 *  IdleConnTimeout: a scraper reuses its connection (no new TLS handshake,
 *  ~0.9 s of CPU on the device), and an idle one gives its TLS session back
 *  within a minute. Every slot may hold a kept connection: the oldest idle
 *  one is closed at once when a new client waits (kubelet/server.ts), so a
 *  host with one slot (the device) keeps its one connection too. */
export const KUBELET_IDLE_MS: i64 = 60000;
/** A TokenReview or SubjectAccessReview must be answered within this time
 *  (else 401 / 500, as kubelet answers an authn / authz error). */
export const KUBELET_REVIEW_TIMEOUT_MS: i64 = 10000;
/** A failed net_listen is tried again after this. */
export const KUBELET_LISTEN_RETRY_MS: i64 = 30000;
/** Authenticated user name and groups (newline-separated) of a request. */
export const KUBELET_USER_MAX: i32 = 160;
export const KUBELET_GROUPS_MAX: i32 = 256;
/** SubjectAccessReview answers kept (user, groups, verb, subresource). */
export const KUBELET_AUTHZ_CACHE: i32 = 4;
/** kubelet's defaults: --authorization-webhook-cache-authorized-ttl 5m,
 *  --authorization-webhook-cache-unauthorized-ttl 30s,
 *  --authentication-token-webhook-cache-ttl 2m
 *  (pkg/kubelet/apis/config/v1beta1/defaults.go). */
export const KUBELET_AUTHZ_ALLOWED_TTL_MS: i64 = 300000;
export const KUBELET_AUTHZ_DENIED_TTL_MS: i64 = 30000;
export const KUBELET_TOKEN_TTL_MS: i64 = 120000;

// ---- k3s agent tunnel (assembly/kubelet/tunnel.ts) ----

/** Bytes read from the tunnel per net_recv; also the largest upgrade answer
 *  head (a 101 from k3s is ~200 bytes). Frames are streamed through it. */
export const TUNNEL_RX_CAP: i32 = 512;
/** Bytes of a piped connection sent per Data message. */
export const TUNNEL_CHUNK: i32 = 1024;
/** Connections the server may pipe through the tunnel at once: each is one
 *  of the kubelet endpoint's KUBELET_CONNS_MAX connections. */
export const TUNNEL_CONNS_MAX: i32 = 3;
/** A Connect message's address, remotedialer's own cap (message.go reads at
 *  most 266 bytes); also the most kept of an Error message. */
export const TUNNEL_ADDR_MAX: i32 = 266;
/** Ping interval: remotedialer's server drops a session silent for 60 s
 *  (K8S-NOTES "k3s' agent tunnel": ping at least every 30 s). */
export const TUNNEL_PING_MS: i64 = 15000;
/** No byte from the server for this long: the tunnel is dead, reconnect. */
export const TUNNEL_SILENT_MS: i64 = 60000;
/** Connect + TLS + upgrade answer must take no longer. */
export const TUNNEL_HANDSHAKE_MS: i64 = 15000;
/** A server without the tunnel (404) is asked again after this long. */
export const TUNNEL_ABSENT_RETRY_MS: i64 = 600000;
