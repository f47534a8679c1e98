// The kubelet endpoint (assembly/kubelet/) through the agent and the one host
// fake: listening after registration, client-certificate and bearer-token
// authentication, SubjectAccessReview authorization and its cache, routes,
// and the limits (431, 408, 413, 400, connections).
import { Agent } from "../../../assembly/k8s/agent";
import { EV_READABLE } from "../../../assembly/host/imports";
import {
  fake_reset, fake_auto_connect, fake_last_handle, fakeTakeOutbound, fakeIncoming, fake_listen_port, fakePush,
  fake_is_open, fake_listen_enable, fakeConfig, fake_hold_sent,
} from "../../fakes/fake";
import { bodyOf, expectHas, expectLacks, firstLine, sent } from "../../fakes/requests";
import { configure, reply, T0, upAndRunning, WALL0 } from "../../fakes/agent";

const APISERVER = "system:kube-apiserver\nsystem:masters";
const SAR_PATH = "POST /apis/authorization.k8s.io/v1/subjectaccessreviews HTTP/1.1";
const TOKEN_PATH = "POST /apis/authentication.k8s.io/v1/tokenreviews HTTP/1.1";

function allowed(yes: bool): string {
  return '{"kind":"SubjectAccessReview","status":{"allowed":' + (yes ? "true" : "false") + "}}";
}
/** A client connects with `peer` and sends `request`; the agent polls once. */
function ask(a: Agent, peer: string, request: string, now: i64): i32 {
  const h = fakeIncoming(peer);
  fakePush(h, request);
  a.poll(now, WALL0 + now - T0);
  return h;
}
/** As ask(), for a client the host announces (the listener readable, as
 *  port_wait reports it) before the agent polls. */
function announce(a: Agent, peer: string, request: string, now: i64): i32 {
  const h = fakeIncoming(peer);
  fakePush(h, request);
  a.event(a.kubelet.listenHandle, EV_READABLE);
  a.poll(now, WALL0 + now - T0);
  return h;
}

/** The response on `h` so far, with the chunked body decoded. */
function answer(h: i32): string {
  const raw = fakeTakeOutbound(h);
  const i = raw.indexOf("\r\n\r\n");
  if (i < 0) return raw;
  let body = "";
  let p = i + 4;
  for (;;) {
    const e = raw.indexOf("\r\n", p);
    if (e < 0) break;
    const n = I32.parseInt(raw.substring(p, e), 16);
    if (n <= 0) break;
    body += raw.substring(e + 2, e + 2 + n);
    p = e + 2 + n + 2;
  }
  return raw.substring(0, i + 4) + body;
}

describe("kubelet endpoint", () => {
  beforeEach(() => { fake_reset(); fake_auto_connect(1); configure(); });

  it("listens on the advertised port once the Node is registered", () => {
    const a = new Agent();
    a.init();
    a.poll(T0, WALL0);
    expect(fake_listen_port()).toBe(0);
    const a2 = upAndRunning();
    a2.poll(T0 + 4, WALL0 + 4);
    expect(fake_listen_port()).toBe(10250);
  });

  it("a client certificate: one SubjectAccessReview, then /metrics; the answer is cached", () => {
    const a = upAndRunning();
    a.poll(T0 + 4, WALL0 + 4);
    const h = ask(a, APISERVER, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", T0 + 5);
    const r = sent();
    expect(firstLine(r)).toBe(SAR_PATH);
    expectHas(bodyOf(r), '"spec":{"user":"system:kube-apiserver","groups":["system:masters","system:authenticated"]' +
      ',"resourceAttributes":{"verb":"get","resource":"nodes","subresource":"metrics","name":"pico-a"}}');
    reply(201, "Created", allowed(true));
    a.poll(T0 + 6, WALL0 + 6);
    const m = answer(h);
    expectHas(m, "HTTP/1.1 200 OK\r\n");
    expectHas(m, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n");
    expectHas(m, "Transfer-Encoding: chunked\r\n");
    expectHas(m, "\npico_uptime_seconds 1.000000\n");
    expectHas(m, "\nprocess_cpu_seconds_total 0.250000\n");
    expectHas(m, 'rest_client_requests_total{code="201",method="POST"} ');
    expectHas(m, 'pico_tls_handshakes_total{side="client",result="ok"} 3\n');
    expectHas(m, "# TYPE pico_device_memory_byte gauge\n");
    expectLacks(m, "pico_wifi_rssi_dbm"); // unknown to this host: left out
    expectLacks(m, "Connection: close");
    expect(fake_is_open(h)).toBe(1); // kept for its next request
    // The same user and path again: no second review.
    const h2 = ask(a, APISERVER, "GET /metrics/resource HTTP/1.1\r\n\r\n", T0 + 7);
    expect(sent()).toBe("");
    const res = answer(h2);
    expectHas(res, "node_cpu_usage_seconds_total 0.250000 " + (WALL0 + 7).toString() + "\n"); // stamped when measured
    expectHas(res, "node_memory_working_set_bytes 2800000 ");
    expectHas(res, "resource_scrape_error 0\n");
  });

  it("keep-alive: the connection waits for its next request, gives its turn away meanwhile, closes when idle", () => {
    const a = upAndRunning();
    a.poll(T0 + 4, WALL0 + 4);
    const h = ask(a, APISERVER, "GET /healthz HTTP/1.1\r\n\r\n", T0 + 5);
    expectHas(bodyOf(sent()), '"subresource":"healthz"');
    reply(201, "Created", allowed(true));
    a.poll(T0 + 6, WALL0 + 6);
    let r = answer(h);
    expectHas(r, "\r\n\r\nok");
    expectLacks(r, "Connection: close");
    expect(fake_is_open(h)).toBe(1);
    // Another client is served although the idle one came first.
    const h2 = ask(a, APISERVER, "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n", T0 + 7);
    r = answer(h2);
    expectHas(r, "Connection: close\r\n");
    expectHas(r, "\r\n\r\nok");
    expect(fake_is_open(h2)).toBe(0);
    // The kept connection's next request is answered on it.
    fakePush(h, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    a.poll(T0 + 8, WALL0 + 8);
    expectHas(answer(h), "\r\n\r\nok");
    expect(fake_is_open(h)).toBe(1);
    // Idle for KUBELET_IDLE_MS: closed without an answer; the agent wakes for it.
    expect(a.kubelet.dueAtMs).toBe(T0 + 8 + 60000);
    a.poll(T0 + 8 + 60000, WALL0 + 8 + 60000);
    expect(answer(h)).toBe("");
    expect(fake_is_open(h)).toBe(0);
  });

  it("closed after the answer: Connection: close, HTTP/1.0, bytes past the head, a bad request; kept ones yield", () => {
    const a = upAndRunning();
    a.poll(T0 + 4, WALL0 + 4);
    let h = ask(a, APISERVER, "GET /healthz HTTP/1.0\r\n\r\n", T0 + 5);
    reply(201, "Created", allowed(true));
    a.poll(T0 + 6, WALL0 + 6);
    expectHas(answer(h), "Connection: close\r\n");
    expect(fake_is_open(h)).toBe(0);
    h = ask(a, APISERVER, "GET /healthz HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n", T0 + 7);
    expectHas(answer(h), "Connection: close\r\n");
    expect(fake_is_open(h)).toBe(0);
    h = ask(a, APISERVER, "GET /healthz HTTP/1.1\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n", T0 + 8);
    expectHas(answer(h), "Connection: close\r\n");
    expect(fake_is_open(h)).toBe(0);
    h = ask(a, APISERVER, "GET /healthz HTTP/1.1\r\nX-Big: " + "a".repeat(3000) + "\r\n\r\n", T0 + 9);
    expectHas(answer(h), "HTTP/1.1 431 ");
    expect(fake_is_open(h)).toBe(0);
    // Three kept connections fill the slots.
    const k1 = ask(a, APISERVER, "GET /healthz HTTP/1.1\r\n\r\n", T0 + 10);
    const k2 = ask(a, APISERVER, "GET /healthz HTTP/1.1\r\n\r\n", T0 + 11);
    const k3 = ask(a, APISERVER, "GET /healthz HTTP/1.1\r\n\r\n", T0 + 12);
    expectLacks(answer(k1), "Connection: close");
    expectLacks(answer(k2), "Connection: close");
    expectLacks(answer(k3), "Connection: close");
    // A fourth client, once the host says it waits, takes the slot of the
    // one idle longest; the others stay.
    h = announce(a, APISERVER, "GET /healthz HTTP/1.1\r\n\r\n", T0 + 13);
    const r = answer(h);
    expectLacks(r, "Connection: close");
    expectHas(r, "\r\n\r\nok");
    expect(fake_is_open(k1)).toBe(0);
    expect(fake_is_open(k2)).toBe(1);
    expect(fake_is_open(k3)).toBe(1);
    expect(fake_is_open(h)).toBe(1);
  });

  it("a host with one endpoint connection (the device): kept, and given up for a waiting client", () => {
    fakeConfig("platform.kubelet_connections", "1");
    const a = upAndRunning();
    a.poll(T0 + 4, WALL0 + 4);
    const h = ask(a, APISERVER, "GET /healthz HTTP/1.1\r\n\r\n", T0 + 5);
    reply(201, "Created", allowed(true));
    a.poll(T0 + 6, WALL0 + 6);
    const r = answer(h);
    expectLacks(r, "Connection: close");
    expectHas(r, "\r\n\r\nok");
    expect(fake_is_open(h)).toBe(1);
    // Its next request is answered on it: no new handshake.
    fakePush(h, "GET /healthz HTTP/1.1\r\n\r\n");
    a.poll(T0 + 7, WALL0 + 7);
    expectHas(answer(h), "\r\n\r\nok");
    // Polls without news of a client leave it alone.
    a.poll(T0 + 8, WALL0 + 8);
    expect(fake_is_open(h)).toBe(1);
    // A client waits: the idle connection gives it the slot.
    const h1 = announce(a, APISERVER, "GET /healthz HTTP/1.1\r\n", T0 + 9);
    expect(fake_is_open(h)).toBe(0);
    expect(fake_is_open(h1)).toBe(1);
    // Another one while h1's request is under way waits for nothing: refused.
    const h2 = announce(a, APISERVER, "GET /healthz HTTP/1.1\r\n\r\n", T0 + 10);
    expect(fake_is_open(h2)).toBe(0);
    expect(fake_is_open(h1)).toBe(1);
  });

  it("closes a connection only once the host has sent all of the answer", () => {
    fakeConfig("platform.kubelet_connections", "1");
    const a = upAndRunning();
    a.poll(T0 + 4, WALL0 + 4);
    const h = fakeIncoming(APISERVER);
    fake_hold_sent(h, 2); // the last TLS record leaves on the third try
    fakePush(h, "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n");
    a.poll(T0 + 5, WALL0 + 5);
    reply(201, "Created", allowed(true));
    a.poll(T0 + 6, WALL0 + 6);
    expectHas(answer(h), "\r\n\r\nok");
    expect(fake_is_open(h)).toBe(1); // held: not cut by the close
    a.poll(T0 + 7, WALL0 + 7);
    expect(fake_is_open(h)).toBe(1); // asked again: still held
    a.poll(T0 + 8, WALL0 + 8);
    expect(fake_is_open(h)).toBe(0);
  });

  it("denied: 403 with kubelet's message; nothing else answered", () => {
    const a = upAndRunning();
    a.poll(T0 + 4, WALL0 + 4);
    const h = ask(a, "someone\ndev", "GET /stats/summary HTTP/1.1\r\n\r\n", T0 + 5);
    expectHas(bodyOf(sent()), '"subresource":"stats"');
    reply(201, "Created", allowed(false));
    a.poll(T0 + 6, WALL0 + 6);
    const r = answer(h);
    expectHas(r, "HTTP/1.1 403 Forbidden\r\n");
    expectHas(r, "Forbidden (user=someone, verb=get, resource=nodes, subresource(s)=[stats])\n");
  });

  it("no certificate, no token: 401 without asking the API server", () => {
    const a = upAndRunning();
    a.poll(T0 + 4, WALL0 + 4);
    const h = ask(a, "", "GET /healthz HTTP/1.1\r\n\r\n", T0 + 5);
    expect(sent()).toBe("");
    expectHas(answer(h), "HTTP/1.1 401 Unauthorized\r\n");
  });

  it("a bearer token: TokenReview, then SubjectAccessReview for its user; then /pods and /healthz", () => {
    const a = upAndRunning();
    a.poll(T0 + 4, WALL0 + 4);
    const h = ask(a, "", "GET /pods HTTP/1.1\r\nAuthorization: Bearer tok.abc\r\n\r\n", T0 + 5);
    const t = sent();
    expect(firstLine(t)).toBe(TOKEN_PATH);
    expectHas(bodyOf(t), '"spec":{"token":"tok.abc"}');
    reply(201, "Created", '{"status":{"authenticated":true,"user":{"username":"system:serviceaccount:mon:prom",' +
      '"groups":["system:serviceaccounts","system:authenticated"]}}}');
    a.poll(T0 + 6, WALL0 + 6);
    const s = sent();
    expect(firstLine(s)).toBe(SAR_PATH);
    expectHas(bodyOf(s), '"user":"system:serviceaccount:mon:prom","groups":["system:serviceaccounts","system:authenticated"]');
    // kubelet 1.36 asks about the fine-grained nodes/pods first.
    expectHas(bodyOf(s), '"subresource":"pods"');
    reply(201, "Created", allowed(true));
    a.poll(T0 + 7, WALL0 + 7);
    const p = answer(h);
    expectHas(p, "Content-Type: application/json\r\n");
    expectHas(p, '{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]}');
    // The token is cached; /healthz is nodes/healthz, denied, then nodes/proxy, allowed.
    const h2 = ask(a, "", "GET /healthz HTTP/1.1\r\nauthorization: bearer tok.abc\r\n\r\n", T0 + 8);
    expectHas(bodyOf(sent()), '"subresource":"healthz"');
    reply(201, "Created", allowed(false));
    a.poll(T0 + 9, WALL0 + 9);
    expectHas(bodyOf(sent()), '"subresource":"proxy"');
    reply(201, "Created", allowed(true));
    a.poll(T0 + 10, WALL0 + 10);
    expectHas(answer(h2), "\r\n\r\nok");
    // Both answers are cached: the next /healthz asks nothing.
    const h3 = ask(a, "", "GET /healthz HTTP/1.1\r\nAuthorization: Bearer tok.abc\r\n\r\n", T0 + 11);
    expect(sent()).toBe("");
    expectHas(answer(h3), "\r\n\r\nok");
  });

  it("fine-grained and coarse subresource both denied: 403 naming both, as kubelet 1.36 does", () => {
    const a = upAndRunning();
    a.poll(T0 + 4, WALL0 + 4);
    const h = ask(a, "someone\ndev", "GET /runningpods/ HTTP/1.1\r\n\r\n", T0 + 5);
    expectHas(bodyOf(sent()), '"subresource":"pods"');
    reply(201, "Created", allowed(false));
    a.poll(T0 + 6, WALL0 + 6);
    expectHas(bodyOf(sent()), '"subresource":"proxy"');
    reply(201, "Created", allowed(false));
    a.poll(T0 + 7, WALL0 + 7);
    const r = answer(h);
    expectHas(r, "HTTP/1.1 403 Forbidden\r\n");
    expectHas(r, "Forbidden (user=someone, verb=get, resource=nodes, subresource(s)=[pods proxy])\n");
  });

  it("a token the API server does not accept: 401", () => {
    const a = upAndRunning();
    a.poll(T0 + 4, WALL0 + 4);
    const h = ask(a, "", "GET /metrics HTTP/1.1\r\nAuthorization: Bearer nope\r\n\r\n", T0 + 5);
    expect(firstLine(sent())).toBe(TOKEN_PATH);
    reply(201, "Created", '{"status":{"authenticated":false,"error":"invalid"}}');
    a.poll(T0 + 6, WALL0 + 6);
    expectHas(answer(h), "HTTP/1.1 401 Unauthorized\r\n");
  });

  it("containerLogs, exec and unknown paths: 404; another method on /metrics: 405", () => {
    const a = upAndRunning();
    a.poll(T0 + 4, WALL0 + 4);
    let h = ask(a, APISERVER, "GET /containerLogs/default/p/c HTTP/1.1\r\n\r\n", T0 + 5);
    expectHas(bodyOf(sent()), '"subresource":"proxy"');
    reply(201, "Created", allowed(true));
    a.poll(T0 + 6, WALL0 + 6);
    expectHas(answer(h), "HTTP/1.1 404 Not Found\r\n");
    h = ask(a, APISERVER, "GET /nothing/here HTTP/1.1\r\n\r\n", T0 + 7);
    expect(sent()).toBe(""); // same user, verb and subresource: cached
    expectHas(answer(h), "404 page not found");
    h = ask(a, APISERVER, "DELETE /metrics HTTP/1.1\r\n\r\n", T0 + 8);
    expectHas(bodyOf(sent()), '"verb":"delete","resource":"nodes","subresource":"metrics"');
    reply(201, "Created", allowed(true));
    a.poll(T0 + 9, WALL0 + 9);
    expectHas(answer(h), "HTTP/1.1 405 Method Not Allowed\r\n");
  });

  it("bad requests: 400, 413, 431, and 408 for a head that never ends", () => {
    const a = upAndRunning();
    a.poll(T0 + 4, WALL0 + 4);
    let h = ask(a, APISERVER, "BLAH\r\n\r\n", T0 + 5);
    expectHas(answer(h), "HTTP/1.1 400 Bad Request\r\n");
    h = ask(a, APISERVER, "POST /exec/a/b/c HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", T0 + 6);
    expectHas(answer(h), "HTTP/1.1 413 Content Too Large\r\n");
    h = ask(a, APISERVER, "GET /metrics HTTP/1.1\r\nX-Big: " + "a".repeat(3000) + "\r\n\r\n", T0 + 7);
    expectHas(answer(h), "HTTP/1.1 431 Request Header Fields Too Large\r\n");
    h = ask(a, APISERVER, "GET /metrics HTTP/1.1\r\nX-Slow: 1", T0 + 8);
    expect(answer(h)).toBe("");
    a.poll(T0 + 8 + 10000, WALL0 + 8 + 10000);
    expectHas(answer(h), "HTTP/1.1 408 Request Timeout\r\n");
    expect(fake_is_open(h)).toBe(0);
    // The agent's own work went on meanwhile: the Lease renewal is due.
    expectHas(firstLine(sent()), "PUT /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/pico-a");
  });

  it("more connections than it keeps: the extra ones are closed at once", () => {
    const a = upAndRunning();
    a.poll(T0 + 4, WALL0 + 4);
    const hs = new Array<i32>();
    for (let i = 0; i < 5; i++) hs.push(fakeIncoming(APISERVER));
    a.poll(T0 + 5, WALL0 + 5);
    let open = 0;
    for (let i = 0; i < 5; i++) open += fake_is_open(hs[i]);
    expect(open).toBe(3);
  });

  it("a host without a kubelet server (platform.kubelet_server 0): no listening, said once at start", () => {
    fakeConfig("platform.kubelet_server", "0");
    const a = upAndRunning();
    a.poll(T0 + 4, WALL0 + 4);
    expect(fake_listen_port()).toBe(0);
    expect(sent()).toBe("");
  });

  it("a host that cannot listen: the agent says so and goes on", () => {
    fake_listen_enable(0);
    const a = upAndRunning();
    a.poll(T0 + 4, WALL0 + 4);
    expect(fake_listen_port()).toBe(0);
    expect(fake_last_handle()).toBeGreaterThan(0);
  });
});
