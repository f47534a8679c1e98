// An agent brought up against the host fake (fake.ts) by a scripted API
// server: shared by the agent and kubelet endpoint specs.
import { Agent } from "../../assembly/k8s/agent";
import { OK } from "../../assembly/util/errors";
import { fake_last_handle, fakeConfig, fakePush } from "./fake";
import { firstLine, sent } from "./requests";

export const WALL0: i64 = 1795871145000; // 2026-11-28T13:05:45Z
export const T0: i64 = 5000; // monotonic ms at the first poll

export function configure(): void {
  fakeConfig("node.name", "pico-a");
  fakeConfig("server.host", "api.example");
  fakeConfig("node.ip", "192.0.2.10");
  fakeConfig("platform.memory_bytes", "270336");
  fakeConfig("platform.memory_allocatable_bytes", "131072");
  fakeConfig("platform.cpu_cores", "2");
  fakeConfig("platform.machine_id", "e6614c311b2a4d2f");
  fakeConfig("platform.runtime", "wamr://2.4.0");
  // No k3s agent tunnel: its connection would interleave with the API
  // traffic these specs script (tests/assembly/kubelet/tunnel.spec.ts has it).
  fakeConfig("tunnel.port", "0");
}

export function reply(status: i32, reason: string, body: string): void {
  fakePush(fake_last_handle(),
    "HTTP/1.1 " + status.toString() + " " + reason + "\r\nContent-Type: application/json\r\n" +
    "Date: Sat, 28 Nov 2026 13:05:45 GMT\r\nContent-Length: " + String.UTF8.byteLength(body).toString() +
    "\r\n\r\n" + body);
}
export function nodeBody(uid: string): string {
  return '{"kind":"Node","apiVersion":"v1","metadata":{"name":"pico-a","uid":"' + uid +
    '","resourceVersion":"100","labels":{"a":"b"}},"status":{"conditions":[{"type":"Ready"}]}}';
}
export function leaseBody(rv: string): string {
  return '{"kind":"Lease","metadata":{"name":"pico-a","namespace":"kube-node-lease","resourceVersion":"' + rv +
    '"},"spec":{"holderIdentity":"pico-a"}}';
}
/** Boots an agent and brings it to a held Lease; returns it. now = T0 + 3. */
export function upAndRunning(): Agent {
  const a = new Agent();
  expect(a.init()).toBe(OK);
  a.poll(T0, WALL0);
  expect(firstLine(sent())).toBe("POST /api/v1/nodes HTTP/1.1");
  reply(201, "Created", nodeBody("uid-1"));
  a.poll(T0 + 1, WALL0 + 1);
  expect(firstLine(sent())).toBe("PATCH /api/v1/nodes/pico-a/status HTTP/1.1");
  reply(200, "OK", nodeBody("uid-1"));
  a.poll(T0 + 2, WALL0 + 2);
  expect(firstLine(sent())).toBe("GET /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/pico-a HTTP/1.1");
  reply(404, "Not Found", '{"kind":"Status","code":404}');
  a.poll(T0 + 3, WALL0 + 3);
  expect(firstLine(sent())).toBe("POST /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases HTTP/1.1");
  reply(201, "Created", leaseBody("10"));
  a.poll(T0 + 3, WALL0 + 3);
  expect(sent()).toBe("");
  return a;
}

