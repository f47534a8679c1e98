// Node identity (assembly/k8s/identity.ts) through the agent and the one host
// fake: bootstrap-token join by CSR, denied CSR, rejected token, renewal with
// the current certificate, expiry with and without a token.
import { Agent } from "../../../assembly/k8s/agent";
import { OK } from "../../../assembly/util/errors";
import {
  fake_reset, fakeConfig, fake_auto_connect, fake_last_handle, fakePush, fakeTakeOutbound, fakeLastLog,
  fake_connect_count, fake_connect_flags, fake_cert_set, fake_cert_installs, fake_cert_issue, fakeCertStaged,
  fake_cert_install_result, fake_log_last_level,
} from "../../fakes/fake";
import { expectHas, firstLine, sent } from "../../fakes/requests";

const WALL0: i64 = 1795871145000; // 2026-11-28T13:05:45Z
const T0: i64 = 5000;
const TOKEN = "abcdef.0123456789abcdef";
const CSR_B64 = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0KQ049c3lzdGVtOm5vZGU6cGljby1hLE89c3lzdGVtOm5vZGVzCi0tLS0tRU5EIENFUlRJRklDQVRFIFJFUVVFU1QtLS0tLQo=";
const CSR_PATH = "/apis/certificates.k8s.io/v1/certificatesigningrequests";

function configure(token: bool): void {
  fakeConfig("node.name", "pico-a");
  fakeConfig("server.host", "api.example");
  fakeConfig("node.ip", "192.0.2.10");
  fakeConfig("tunnel.port", "0"); // the API traffic alone (tunnel.spec.ts has the tunnel)
  if (token) fakeConfig("bootstrap.token", TOKEN);
}
function reply(status: i32, body: string): void {
  fakePush(fake_last_handle(),
    "HTTP/1.1 " + status.toString() + " X\r\nContent-Type: application/json\r\n" +
    "Date: Sat, 28 Nov 2026 13:05:45 GMT\r\nContent-Length: " + String.UTF8.byteLength(body).toString() +
    "\r\n\r\n" + body);
}
function csrBody(status: string): string {
  return '{"kind":"CertificateSigningRequest","metadata":{"name":"node-csr-x7k2q","managedFields":[{"f":"' +
    "m".repeat(400) + '"}]},"spec":{"request":"' + CSR_B64 + '"},"status":' + status + "}";
}
/** A long base64 "certificate" (the fake installs any non-empty text). */
function longCert(): string {
  let s = "";
  for (let i = 0; i < 30; i++) s += "TUlJQmhEQ0NBU3VnQXdJQkFnSVFJUk";
  return s;
}

/** Boots with no certificate and a token; answers the CSR POST. */
function submitted(): Agent {
  fake_cert_set(0, 0, 0);
  const a = new Agent();
  expect(a.init()).toBe(OK);
  a.poll(T0, WALL0);
  const r = sent();
  expect(firstLine(r)).toBe("POST " + CSR_PATH + " HTTP/1.1");
  reply(201, csrBody("{}"));
  a.poll(T0 + 1, WALL0 + 1);
  return a;
}

describe("bootstrap join", () => {
  beforeEach(() => { fake_reset(); fake_auto_connect(1); configure(true); });

  it("submits a CSR with the token and no client certificate", () => {
    fake_cert_set(0, 0, 0);
    const a = new Agent();
    expect(a.init()).toBe(OK);
    a.poll(T0, WALL0);
    expect(fake_connect_flags(fake_last_handle())).toBe(1); // NET_TLS only
    const r = sent();
    expect(firstLine(r)).toBe("POST " + CSR_PATH + " HTTP/1.1");
    expectHas(r, "\r\nAuthorization: Bearer " + TOKEN + "\r\n");
    expectHas(r, '"generateName":"node-csr-"');
    expectHas(r, '"request":"' + CSR_B64 + '"');
    expectHas(r, '"signerName":"kubernetes.io/kube-apiserver-client-kubelet"');
    expectHas(r, '"usages":["digital signature","client auth"]');
    // No Node request before the identity exists.
    reply(201, csrBody("{}"));
    a.poll(T0 + 1, WALL0 + 1);
    expect(sent()).toBe("");
    expectHas(fakeLastLog(), "submitted CSR node-csr-x7k2q");
  });

  it("polls until signed, installs the certificate, then registers as itself", () => {
    const a = submitted();
    a.poll(T0 + 1001, WALL0 + 1001);
    let r = sent();
    expect(firstLine(r)).toBe("GET " + CSR_PATH + "/node-csr-x7k2q HTTP/1.1");
    expectHas(r, "Authorization: Bearer ");
    reply(200, csrBody('{"conditions":[{"type":"Approved","status":"True"}]}'));
    a.poll(T0 + 1002, WALL0 + 1002);
    expect(sent()).toBe("");
    expect(fake_cert_installs()).toBe(0);
    // Still pending: the next poll waits twice as long (2 s).
    a.poll(T0 + 2003, WALL0 + 2003);
    expect(sent()).toBe("");
    a.poll(T0 + 3003, WALL0 + 3003);
    expect(firstLine(sent())).toBe("GET " + CSR_PATH + "/node-csr-x7k2q HTTP/1.1");
    const cert = longCert();
    fake_cert_issue(WALL0, 3600000);
    reply(200, csrBody('{"conditions":[{"type":"Approved","status":"True"}],"certificate":"' + cert + '"}'));
    a.poll(T0 + 3004, WALL0 + 3004);
    expect(fake_cert_installs()).toBe(1);
    expect(fakeCertStaged()).toBe(cert);
    expectHas(fakeLastLog(), "installed the certificate issued for CSR node-csr-x7k2q");
    // Reconnects with the certificate and goes on as a node, without the token.
    a.poll(T0 + 3005, WALL0 + 3005);
    expect(fake_connect_flags(fake_last_handle())).toBe(3);
    r = sent();
    expect(firstLine(r)).toBe("POST /api/v1/nodes HTTP/1.1");
    expect(r.includes("Authorization")).toBe(false);
  });

  it("a denied CSR: says so with the reason and stops asking", () => {
    const a = submitted();
    a.poll(T0 + 1001, WALL0 + 1001);
    sent();
    reply(200, csrBody('{"conditions":[{"type":"Denied","status":"True","reason":"Nope","message":"not a known device"}]}'));
    a.poll(T0 + 1002, WALL0 + 1002);
    expectHas(fakeLastLog(), "CSR node-csr-x7k2q was denied: not a known device");
    expect(fake_log_last_level()).toBe(0);
    const n = fake_connect_count();
    for (let i = 0; i < 50; i++) a.poll(T0 + 2000 + i * 10000, WALL0 + 2000 + i * 10000);
    expect(sent()).toBe("");
    expect(fake_connect_count()).toBe(n);
  });

  it("a rejected token: says to create a new one and stops", () => {
    fake_cert_set(0, 0, 0);
    const a = new Agent();
    expect(a.init()).toBe(OK);
    a.poll(T0, WALL0);
    sent();
    reply(401, '{"kind":"Status","code":401}');
    a.poll(T0 + 1, WALL0 + 1);
    expectHas(fakeLastLog(), "rejected the bootstrap token (wrong or expired)");
    for (let i = 0; i < 20; i++) a.poll(T0 + 2000 + i * 10000, WALL0 + 2000 + i * 10000);
    expect(sent()).toBe("");
  });

  it("a certificate the host refuses: no fallback, stops", () => {
    const a = submitted();
    fake_cert_install_result(-10);
    a.poll(T0 + 1001, WALL0 + 1001);
    sent();
    reply(200, csrBody('{"certificate":"' + longCert() + '"}'));
    a.poll(T0 + 1002, WALL0 + 1002);
    expectHas(fakeLastLog(), "host refused the certificate (error -10)");
    for (let i = 0; i < 20; i++) a.poll(T0 + 2000 + i * 10000, WALL0 + 2000 + i * 10000);
    expect(sent()).toBe("");
  });
});

describe("without a token", () => {
  beforeEach(() => { fake_reset(); fake_auto_connect(1); configure(false); });

  it("no certificate: says a bootstrap token is needed, connects to nobody", () => {
    fake_cert_set(0, 0, 0);
    const a = new Agent();
    expect(a.init()).toBe(OK);
    expectHas(fakeLastLog(), "no certificate, no bootstrap.token");
    for (let i = 0; i < 10; i++) a.poll(T0 + i * 1000, WALL0 + i * 1000);
    expect(fake_connect_count()).toBe(0);
  });

  it("an expired certificate: says it needs a new bootstrap token", () => {
    fake_cert_set(2, WALL0 - 2000, WALL0 - 1000);
    const a = new Agent();
    expect(a.init()).toBe(OK);
    a.poll(T0, WALL0);
    expectHas(fakeLastLog(), "certificate expired, no bootstrap.token: npm run pico -- token create");
    for (let i = 0; i < 10; i++) a.poll(T0 + i * 1000, WALL0 + i * 1000);
    expect(fake_connect_count()).toBe(0);
  });
});

describe("renewal and expiry", () => {
  beforeEach(() => { fake_reset(); fake_auto_connect(1); configure(true); });

  it("an expired certificate with a token joins again with the token", () => {
    fake_cert_set(2, WALL0 - 2000, WALL0 - 1000);
    const a = new Agent();
    expect(a.init()).toBe(OK);
    a.poll(T0, WALL0);
    expectHas(sent(), "Authorization: Bearer " + TOKEN);
    expect(fake_connect_flags(fake_last_handle())).toBe(1);
  });

  it("renews at 70-90% of the lifetime with the current certificate, heartbeats go on", () => {
    // Lifetime 1000 s, 700 s gone: renewal falls due within the next 200 s.
    fake_cert_set(2, WALL0 - 700000, WALL0 + 300000);
    const a = new Agent();
    expect(a.init()).toBe(OK);
    a.poll(T0, WALL0);
    expect(firstLine(sent())).toBe("POST /api/v1/nodes HTTP/1.1");
    reply(201, '{"metadata":{"name":"pico-a","uid":"u1","resourceVersion":"1"}}');
    let csrAt: i64 = -1;
    let leases = 0;
    for (let t: i64 = 1; t <= 200001 && csrAt < 0; t += 500) {
      a.poll(T0 + t, WALL0 + t);
      const r = sent();
      const line = firstLine(r);
      if (line.startsWith("POST " + CSR_PATH)) {
        csrAt = t;
        expect(r.includes("Authorization")).toBe(false);
        expect(fake_connect_flags(fake_last_handle())).toBe(3);
      } else if (line.startsWith("PATCH") || line.startsWith("GET /api/v1/nodes")) {
        reply(200, '{"metadata":{"name":"pico-a","uid":"u1","resourceVersion":"2"}}');
      } else if (line.startsWith("GET /apis/coordination")) {
        reply(404, "{}");
      } else if (line.startsWith("POST /apis/coordination")) {
        reply(201, '{"metadata":{"name":"pico-a","resourceVersion":"3"}}');
      } else if (line.startsWith("PUT")) {
        leases++;
        reply(200, '{"metadata":{"name":"pico-a","resourceVersion":"3"}}');
      } else if (line.length > 0) {
        log(line);
        expect(false).toBe(true);
      }
    }
    expect(csrAt).toBeGreaterThan(0);
    expect(leases).toBeGreaterThan(0);
    reply(201, csrBody("{}"));
    a.poll(T0 + csrAt + 1, WALL0 + csrAt + 1);
    // The signed certificate: installed, reconnect with it.
    a.poll(T0 + csrAt + 1100, WALL0 + csrAt + 1100);
    let r = sent();
    if (firstLine(r).startsWith("PUT")) { // a lease renewal came first
      reply(200, '{"metadata":{"name":"pico-a","resourceVersion":"4"}}');
      a.poll(T0 + csrAt + 1101, WALL0 + csrAt + 1101);
      r = sent();
    }
    expect(firstLine(r)).toBe("GET " + CSR_PATH + "/node-csr-x7k2q HTTP/1.1");
    fake_cert_issue(WALL0 + csrAt, 1000000);
    reply(200, csrBody('{"certificate":"' + longCert() + '"}'));
    a.poll(T0 + csrAt + 1102, WALL0 + csrAt + 1102);
    expect(fake_cert_installs()).toBe(1);
  });
});
