// The node agent (assembly/k8s/agent.ts) against the one host fake: a
// scripted API server answers each request; the clock is driven by hand.
import { Agent, REQ_NONE } from "../../../assembly/k8s/agent";
import { BACKOFF_MAX_MS } from "../../../assembly/k8s/backoff";
import { COND_READY } from "../../../assembly/k8s/status";
import { JsonReader, TOK_END } from "../../../assembly/json/reader";
import { E_CERT, E_CONNECT, E_NOTFOUND, OK } from "../../../assembly/util/errors";
import { LOG_WARN } from "../../../assembly/host/imports";
import {
  fake_reset, fakeConfig, fake_auto_connect, fake_last_handle, fakePush, fakeTakeOutbound, fakeLastLog,
  fake_log_count, fake_fail_next, FAKE_OP_CONNECT, fake_peer_close, fake_connect_count, fake_config_unset,
  fake_log_last_level, fake_connect_flags,
} from "../../fakes/fake";
import { bodyOf, expectHas, expectLacks, firstLine, sent } from "../../fakes/requests";
import { configure, leaseBody, nodeBody, reply, T0, upAndRunning, WALL0 } from "../../fakes/agent";

/** True when `s` is one complete JSON document. */
function validJson(s: string): bool {
  const b = String.UTF8.encode(s);
  const r = new JsonReader();
  r.feed(changetype<usize>(b), b.byteLength);
  for (let i = 0; i < 100000; i++) {
    const t = r.next();
    if (t == TOK_END) return true;
    if (t < 0) return false;
  }
  return false;
}

describe("agent init", () => {
  beforeEach(() => { fake_reset(); fake_auto_connect(1); configure(); });

  it("fails with E_NOTFOUND and names the missing key", () => {
    fake_config_unset(changetype<usize>(String.UTF8.encode("node.ip")), 7);
    const a = new Agent();
    expect(a.init()).toBe(E_NOTFOUND);
    expectHas(fakeLastLog(), "node.ip");
    expect(a.poll(T0, WALL0)).toBeGreaterThan(0);
    expect(fake_connect_count()).toBe(0); // never talks to anyone
  });

  it("logs the start line and uses mutual TLS", () => {
    const a = new Agent();
    expect(a.init()).toBe(OK);
    expect(fakeLastLog()).toBe("node: starting pico-a, API server api.example:6443");
    a.poll(T0, WALL0);
    expect(fake_connect_flags(fake_last_handle())).toBe(3); // NET_TLS | NET_CLIENT_CERT
  });
});

describe("registration", () => {
  beforeEach(() => { fake_reset(); fake_auto_connect(1); configure(); });

  it("POSTs a complete Node", () => {
    const a = new Agent();
    a.init();
    a.poll(T0, WALL0);
    const r = sent();
    expect(firstLine(r)).toBe("POST /api/v1/nodes HTTP/1.1");
    expectHas(r, "\r\nHost: api.example:6443\r\n");
    expectHas(r, "\r\nUser-Agent: k3s-pico-node/0.1.0 (none/arm) kubelet/v1.36.3-pico.0.1.0\r\n");
    expectHas(r, "\r\nAccept: application/json\r\n");
    expectHas(r, "\r\nContent-Type: application/json\r\n");
    const b = bodyOf(r);
    expectHas(r, "\r\nContent-Length: " + String.UTF8.byteLength(b).toString() + "\r\n");
    expect(validJson(b)).toBe(true);
    expectHas(b, '"apiVersion":"v1","kind":"Node","metadata":{"name":"pico-a"');
    expectHas(b, '"labels":{"kubernetes.io/hostname":"pico-a","kubernetes.io/os":"none","kubernetes.io/arch":"arm","node.kubernetes.io/instance-type":"rp2040-pico-w"}');
    expectHas(b, '"annotations":{"k3s.io/hostname":"pico-a","k3s.io/internal-ip":"192.0.2.10","node.alpha.kubernetes.io/ttl":"0"}');
    expectHas(b, '{"key":"pico.k3s.io/microcontroller","value":"true","effect":"NoSchedule"}');
    expectHas(b, '{"key":"pico.k3s.io/microcontroller","value":"true","effect":"NoExecute"}');
    expectHas(b, '{"key":"node.kubernetes.io/not-ready","effect":"NoSchedule"}');
    expectHas(b, '"capacity":{"cpu":"2","memory":"264Ki","pods":"0"}');
    expectHas(b, '"allocatable":{"cpu":"1","memory":"128Ki","pods":"0"}');
    expectHas(b, '{"type":"Ready","status":"True","lastHeartbeatTime":"2026-11-28T13:05:45Z","lastTransitionTime":"2026-11-28T13:05:45Z","reason":"KubeletReady","message":"k3s-pico-node is posting ready status"}');
    expectHas(b, '{"type":"MemoryPressure","status":"False"');
    expectHas(b, '"reason":"KubeletHasSufficientMemory"');
    expectHas(b, '{"type":"DiskPressure","status":"False"');
    expectHas(b, '"reason":"KubeletHasNoDiskPressure"');
    expectHas(b, '{"type":"PIDPressure","status":"False"');
    expectHas(b, '"reason":"KubeletHasSufficientPID"');
    expectHas(b, '"addresses":[{"type":"InternalIP","address":"192.0.2.10"},{"type":"Hostname","address":"pico-a"}]');
    expectHas(b, '"daemonEndpoints":{"kubeletEndpoint":{"Port":10250}}');
    expectHas(b, '"machineID":"e6614c311b2a4d2f","systemUUID":"e6614c311b2a4d2f","bootID":"');
    expectHas(b, '"kubeletVersion":"v1.36.3-pico.0.1.0","kubeProxyVersion":"","operatingSystem":"none","architecture":"arm"');
    expectHas(b, '"containerRuntimeVersion":"wamr://2.4.0"');
    // bootID: a version-4 UUID text
    const i = b.indexOf('"bootID":"') + 10;
    const id = b.substring(i, i + 36);
    expect(id.charAt(8)).toBe("-");
    expect(id.charAt(14)).toBe("4");
    expect(id.charAt(23)).toBe("-");
    expect(b.charAt(i + 36)).toBe('"');
  });

  it("fits the body when every config value is at its limit", () => {
    const long63 = "a".repeat(63);
    fakeConfig("node.name", long63);
    fakeConfig("server.host", "h".repeat(253));
    fakeConfig("node.ip", "0".repeat(45));
    fakeConfig("platform.os", long63);
    fakeConfig("platform.arch", long63);
    fakeConfig("platform.os_image", long63);
    fakeConfig("platform.kernel_version", long63);
    fakeConfig("platform.runtime", long63);
    fakeConfig("platform.machine_id", long63);
    fakeConfig("server.port", "65535");
    const a = new Agent();
    expect(a.init()).toBe(OK);
    a.poll(T0, WALL0);
    const r = sent();
    expect(firstLine(r)).toBe("POST /api/v1/nodes HTTP/1.1");
    expect(validJson(bodyOf(r))).toBe(true);
    reply(201, "Created", nodeBody("uid-1"));
    a.poll(T0 + 1, WALL0 + 1);
    const p = sent();
    expect(firstLine(p)).toBe("PATCH /api/v1/nodes/" + long63 + "/status HTTP/1.1");
    expect(validJson(bodyOf(p))).toBe(true);
  });

  it("logs the uid, reports status once, says Ready, then makes the Lease", () => {
    const a = new Agent();
    a.init();
    a.poll(T0, WALL0);
    sent();
    reply(201, "Created", nodeBody("8c2a1f4e-0000-4000-8000-000000000001"));
    a.poll(T0 + 1, WALL0 + 1);
    expect(fakeLastLog()).toBe("node: registered pico-a (uid 8c2a1f4e-0000-4000-8000-000000000001)");
    const p = sent();
    expect(firstLine(p)).toBe("PATCH /api/v1/nodes/pico-a/status HTTP/1.1");
    expectHas(p, "\r\nContent-Type: application/strategic-merge-patch+json\r\n");
    const b = bodyOf(p);
    expect(b.startsWith('{"status":{"capacity":')).toBe(true);
    expectLacks(b, '"metadata"');
    expectLacks(b, '"spec"');
    expectHas(b, '"conditions":[');
    expectHas(b, '"nodeInfo":{');
    reply(200, "OK", nodeBody("8c2a1f4e-0000-4000-8000-000000000001"));
    a.poll(T0 + 2, WALL0 + 2);
    expect(fakeLastLog()).toBe("node: Ready");
    expect(firstLine(sent())).toBe("GET /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/pico-a HTTP/1.1");
    reply(404, "Not Found", '{"kind":"Status","code":404}');
    a.poll(T0 + 3, WALL0 + 3);
    const l = sent();
    expect(firstLine(l)).toBe("POST /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases HTTP/1.1");
    const lb = bodyOf(l);
    expect(validJson(lb)).toBe(true);
    expectHas(lb, '"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"pico-a","namespace":"kube-node-lease","ownerReferences":[{"apiVersion":"v1","kind":"Node","name":"pico-a","uid":"8c2a1f4e-0000-4000-8000-000000000001"}]}');
    expectHas(lb, '"spec":{"holderIdentity":"pico-a","leaseDurationSeconds":40,"renewTime":"2026-11-28T13:05:45.003000Z"}');
    expectLacks(lb, "resourceVersion");
    reply(201, "Created", leaseBody("10"));
    a.poll(T0 + 4, WALL0 + 4);
    expect(fakeLastLog()).toBe("lease: created kube-node-lease/pico-a");
  });

  it("on 409 AlreadyExists GETs the Node, then PATCHes its status, never POSTs twice", () => {
    const a = new Agent();
    a.init();
    a.poll(T0, WALL0);
    expect(firstLine(sent())).toBe("POST /api/v1/nodes HTTP/1.1");
    reply(409, "Conflict", '{"kind":"Status","reason":"AlreadyExists","code":409}');
    a.poll(T0 + 1, WALL0 + 1);
    expect(firstLine(sent())).toBe("GET /api/v1/nodes/pico-a HTTP/1.1");
    reply(200, "OK", nodeBody("uid-old"));
    a.poll(T0 + 2, WALL0 + 2);
    expect(fakeLastLog()).toBe("node: found existing Node pico-a (uid uid-old)");
    expect(firstLine(sent())).toBe("PATCH /api/v1/nodes/pico-a/status HTTP/1.1");
    reply(200, "OK", nodeBody("uid-old"));
    a.poll(T0 + 3, WALL0 + 3);
    expectHas(firstLine(sent()), "GET /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/pico-a");
    reply(200, "OK", leaseBody("77"));
    a.poll(T0 + 4, WALL0 + 4);
    // An existing Lease is renewed at once with its resourceVersion and our owner.
    const put = sent();
    expect(firstLine(put)).toBe("PUT /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/pico-a HTTP/1.1");
    expectHas(bodyOf(put), '"resourceVersion":"77"');
    expectHas(bodyOf(put), '"uid":"uid-old"');
  });

  it("waits for a wall clock: GETs the Node first and takes the time from Date", () => {
    const a = new Agent();
    a.init();
    a.poll(T0, 0);
    expect(firstLine(sent())).toBe("GET /api/v1/nodes/pico-a HTTP/1.1");
    reply(404, "Not Found", '{"kind":"Status","code":404}');
    a.poll(T0 + 250, 0);
    const r = sent();
    expect(firstLine(r)).toBe("POST /api/v1/nodes HTTP/1.1");
    expect(a.wallNow(T0 + 250)).toBe(WALL0); // Date: 13:05:45 at monotonic T0 + 250
    expectHas(bodyOf(r), '"lastHeartbeatTime":"2026-11-28T13:05:45Z"');
  });
});

describe("heartbeats", () => {
  beforeEach(() => { fake_reset(); fake_auto_connect(1); configure(); });

  it("renews the Lease every 10 s with the last resourceVersion", () => {
    const a = upAndRunning();
    let rv = 10;
    for (let k = 1; k <= 5; k++) {
      const due = T0 + 3 + <i64>k * 10000;
      expect(a.poll(due - 1, WALL0 + due - 1 - T0)).toBeLessThanOrEqual(1);
      expect(sent()).toBe("");
      a.poll(due, WALL0 + due - T0);
      const r = sent();
      expect(firstLine(r)).toBe("PUT /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/pico-a HTTP/1.1");
      expectHas(bodyOf(r), '"resourceVersion":"' + rv.toString() + '"');
      expectHas(bodyOf(r), '"uid":"uid-1"');
      rv++;
      reply(200, "OK", leaseBody(rv.toString()));
      a.poll(due, WALL0 + due - T0);
      expect(sent()).toBe("");
    }
  });

  it("on 409 Conflict re-reads the Lease, then PUTs with the fresh resourceVersion", () => {
    const a = upAndRunning();
    const due = T0 + 3 + 10000;
    a.poll(due, WALL0 + 10003);
    expectHas(firstLine(sent()), "PUT ");
    reply(409, "Conflict", '{"kind":"Status","reason":"Conflict","code":409}');
    a.poll(due + 1, WALL0 + 10004);
    expect(firstLine(sent())).toBe("GET /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/pico-a HTTP/1.1");
    reply(200, "OK", leaseBody("55"));
    a.poll(due + 2, WALL0 + 10005);
    const r = sent();
    expectHas(firstLine(r), "PUT ");
    expectHas(bodyOf(r), '"resourceVersion":"55"');
  });

  it("a renewal answered 201 (Lease recreated: the Node was deleted) re-checks the Node and re-registers", () => {
    const a = upAndRunning();
    const due = T0 + 3 + 10000;
    a.poll(due, WALL0 + 10003);
    expectHas(firstLine(sent()), "PUT ");
    reply(201, "Created", leaseBody("70"));
    a.poll(due + 1, WALL0 + 10004);
    expect(fake_log_last_level()).toBe(LOG_WARN);
    expect(firstLine(sent())).toBe("GET /api/v1/nodes/pico-a HTTP/1.1");
    reply(404, "Not Found", '{"kind":"Status","reason":"NotFound","code":404}');
    a.poll(due + 2, WALL0 + 10005);
    expect(firstLine(sent())).toBe("POST /api/v1/nodes HTTP/1.1");
    reply(201, "Created", nodeBody("uid-2"));
    // Registration is followed by a status report and, when due, a renewal
    // that names the new owner.
    for (let i = 0; i < 4; i++) {
      const t = due + 3 + <i64>i * 10000;
      a.poll(t, WALL0 + t - T0);
      const r = sent();
      if (firstLine(r).startsWith("PATCH ")) { reply(200, "OK", nodeBody("uid-2")); continue; }
      if (firstLine(r).startsWith("PUT ")) {
        expectHas(bodyOf(r), '"uid":"uid-2"');
        expectHas(bodyOf(r), '"resourceVersion":"70"');
        return;
      }
    }
    expect(false).toBe(true, "no renewal with the new owner uid");
  });

  it("re-registers when the status PATCH finds the Node deleted, and recreates the Lease with the new uid", () => {
    const a = upAndRunning();
    const t = T0 + 300003; // 5 min later: status report due (and a renewal)
    a.poll(t, WALL0 + 300003);
    expect(firstLine(sent())).toBe("PATCH /api/v1/nodes/pico-a/status HTTP/1.1");
    reply(404, "Not Found", '{"kind":"Status","code":404}');
    a.poll(t + 1, WALL0 + 300004);
    expect(fake_log_last_level()).toBe(LOG_WARN);
    expect(firstLine(sent())).toBe("POST /api/v1/nodes HTTP/1.1");
    reply(201, "Created", nodeBody("uid-2"));
    a.poll(t + 2, WALL0 + 300005);
    expect(fakeLastLog()).toBe("node: registered pico-a (uid uid-2)");
    expectHas(firstLine(sent()), "PATCH ");
    reply(200, "OK", nodeBody("uid-2"));
    a.poll(t + 3, WALL0 + 300006);
    expectHas(firstLine(sent()), "GET /apis/coordination.k8s.io/");
    reply(404, "Not Found", "{}");
    a.poll(t + 4, WALL0 + 300007);
    const l = sent();
    expectHas(firstLine(l), "POST /apis/coordination.k8s.io/");
    expectHas(bodyOf(l), '"uid":"uid-2"');
  });

  it("reports status every 5 minutes; lastTransitionTime stays, lastHeartbeatTime moves", () => {
    const a = upAndRunning();
    let patches = 0;
    let rv = 10;
    for (let t: i64 = T0 + 4; t <= T0 + 650000; t += 1000) {
      a.poll(t, WALL0 + t - T0);
      // Answer every request this tick brings (a status report and a renewal can fall together).
      for (let n = 0; n < 3; n++) {
        const r = sent();
        if (r.length == 0) break;
        if (firstLine(r).startsWith("PATCH ")) {
          patches++;
          const b = bodyOf(r);
          expectHas(b, '"type":"Ready","status":"True","lastHeartbeatTime":"2026-11-28T13:1');
          expectHas(b, '"lastTransitionTime":"2026-11-28T13:05:45Z"');
          expectLacks(b, '"lastHeartbeatTime":"2026-11-28T13:05:45Z"');
          reply(200, "OK", nodeBody("uid-1"));
        } else {
          expectHas(firstLine(r), "PUT ");
          rv++;
          reply(200, "OK", leaseBody(rv.toString()));
        }
        a.poll(t, WALL0 + t - T0);
      }
      expect(sent()).toBe("");
    }
    expect(patches).toBe(2); // at +5 min and +10 min
    expect(rv - 10).toBeGreaterThanOrEqual(60);
  });

  it("a Ready change is reported at once and moves only that condition's transition time", () => {
    const a = upAndRunning();
    a.setCondition(COND_READY, false, T0 + 60000);
    a.poll(T0 + 60000, WALL0 + 60000);
    const b = bodyOf(sent());
    expectHas(b, '"type":"Ready","status":"False","lastHeartbeatTime":"2026-11-28T13:06:45Z","lastTransitionTime":"2026-11-28T13:06:45Z","reason":"KubeletNotReady"');
    expectHas(b, '"type":"MemoryPressure","status":"False","lastHeartbeatTime":"2026-11-28T13:06:45Z","lastTransitionTime":"2026-11-28T13:05:45Z"');
  });
});

describe("failures", () => {
  beforeEach(() => { fake_reset(); fake_auto_connect(1); configure(); });

  it("backs off 200 ms doubling to a 7 s cap on connect errors, logging once", () => {
    const a = new Agent();
    a.init();
    let now: i64 = T0;
    let base: i64 = 200;
    const logsBefore = fake_log_count();
    for (let i = 0; i < 10; i++) {
      fake_fail_next(0, FAKE_OP_CONNECT, E_CONNECT);
      a.poll(now, WALL0 + now - T0);
      expect(a.inFlight).toBe(REQ_NONE);
      const d = a.retryAtMs - now;
      expect(d).toBeLessThanOrEqual(base);
      expect(d).toBeGreaterThanOrEqual(base - base / 5);
      // Nothing happens before the deadline.
      a.poll(a.retryAtMs - 1, WALL0 + a.retryAtMs - 1 - T0);
      now = a.retryAtMs;
      base = base * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : base * 2;
    }
    expect(base).toBe(BACKOFF_MAX_MS);
    expect(fake_log_count() - logsBefore).toBe(1); // the same error is not repeated
    expect(fakeLastLog()).toBe("node: registration failed: cannot connect to api.example:6443; retrying");
    // Recovery: the next try goes through and the backoff is forgotten.
    a.poll(now, WALL0 + now - T0);
    expect(firstLine(sent())).toBe("POST /api/v1/nodes HTTP/1.1");
    reply(201, "Created", nodeBody("uid-1"));
    a.poll(now + 1, WALL0 + now + 1 - T0);
    expect(a.backoff.failures).toBe(0);
  });

  it("explains a rejected server certificate", () => {
    fake_auto_connect(0);
    const a = new Agent();
    a.init();
    a.poll(T0, WALL0);
    // Fail the pending handshake with E_CERT.
    const h = fake_last_handle();
    fake_connect_completeCert(h);
    a.poll(T0 + 10, WALL0 + 10);
    expectHas(fakeLastLog(), "server certificate rejected: see the shim's log line above; check tls.ca_file");
    expect(a.retryAtMs).toBeGreaterThan(T0 + 10);
  });

  it("survives an API server restart: reconnects, keeps the uid, no duplicate Node", () => {
    const a = upAndRunning();
    const h1 = fake_last_handle();
    fake_peer_close(h1);
    const due = T0 + 3 + 10000;
    a.poll(due, WALL0 + 10003);
    const h2 = fake_last_handle();
    expect(h2).not.toBe(h1);
    const r = sent();
    expectHas(firstLine(r), "PUT /apis/coordination.k8s.io/");
    expectHas(bodyOf(r), '"uid":"uid-1"');
    reply(200, "OK", leaseBody("11"));
    a.poll(due + 1, WALL0 + 10004);
    expect(sent()).toBe("");
    expect(a.backoff.failures).toBe(0);
  });

  it("backs off on server errors and logs the status", () => {
    const a = new Agent();
    a.init();
    a.poll(T0, WALL0);
    sent();
    reply(503, "Service Unavailable", "{}");
    a.poll(T0 + 1, WALL0 + 1);
    expect(fakeLastLog()).toBe("node: registration failed: HTTP 503; retrying");
    expect(sent()).toBe("");
    expect(a.retryAtMs).toBeGreaterThan(T0 + 1);
    a.poll(a.retryAtMs, WALL0 + a.retryAtMs - T0);
    expect(firstLine(sent())).toBe("POST /api/v1/nodes HTTP/1.1");
  });
});

import { fake_connect_complete } from "../../fakes/fake";
function fake_connect_completeCert(h: i32): void {
  fake_connect_complete(h, E_CERT);
}
