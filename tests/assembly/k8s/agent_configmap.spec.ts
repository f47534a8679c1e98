// The agent with ConfigMaps followed: watches run on their own connection;
// the Event and the Node annotation go over the main connection, after the
// Lease is held, and a due Lease renewal always goes before a report.
import { Agent } from "../../../assembly/k8s/agent";
import { OK } from "../../../assembly/util/errors";
import {
  fake_reset, fakeConfig, fake_auto_connect, fakePush, fakeTakeOutbound, fake_devmem_byte,
} from "../../fakes/fake";
import { expectHas, firstLine } from "../../fakes/requests";

const WALL0: i64 = 1795871145000;
const T0: i64 = 5000;
const MAIN: i32 = 1; // the agent connects first
const WATCH: i32 = 2;

function reply(h: i32, status: i32, body: string): void {
  fakePush(h, "HTTP/1.1 " + status.toString() + " X\r\nContent-Type: application/json\r\n" +
    "Date: Sat, 28 Nov 2026 13:05:45 GMT\r\nContent-Length: " + String.UTF8.byteLength(body).toString() + "\r\n\r\n" + body);
}
const NODE = '{"kind":"Node","metadata":{"name":"pico-a","uid":"uid-1","resourceVersion":"5"}}';
const LEASE = '{"kind":"Lease","metadata":{"name":"pico-a","resourceVersion":"10"}}';
function cmList(rv: string, values: string): string {
  return '{"kind":"ConfigMapList","metadata":{"resourceVersion":"' + rv + '"},"items":[{"metadata":{"name":"pico-config",' +
    '"uid":"cm-1","resourceVersion":"' + rv + '"},"data":{"memory_values":"' + values + '"}}]}';
}

describe("agent with ConfigMaps", () => {
  beforeEach(() => {
    fake_reset();
    fake_auto_connect(1);
    fakeConfig("node.name", "pico-a");
    fakeConfig("server.host", "api.example");
    fakeConfig("node.ip", "192.0.2.10");
    fakeConfig("platform.devmem_bytes", "256");
  });

  it("reports after the Lease is held: Event, then the annotation; renewals first", () => {
    const a = new Agent();
    expect(a.init()).toBe(OK);
    a.poll(T0, WALL0);
    expect(firstLine(fakeTakeOutbound(MAIN))).toBe("POST /api/v1/nodes HTTP/1.1");
    expectHas(firstLine(fakeTakeOutbound(WATCH)), "GET /api/v1/namespaces/default/configmaps?fieldSelector=metadata.name%3Dpico-config ");
    reply(WATCH, 200, cmList("50", "0=0x42"));
    a.event(WATCH, 1);
    expect(fake_devmem_byte(0)).toBe(0x42);
    // Registration and Lease come first.
    reply(MAIN, 201, NODE);
    a.poll(T0 + 1, WALL0 + 1);
    expect(firstLine(fakeTakeOutbound(MAIN))).toBe("PATCH /api/v1/nodes/pico-a/status HTTP/1.1");
    reply(MAIN, 200, NODE);
    a.poll(T0 + 2, WALL0 + 2);
    expectHas(firstLine(fakeTakeOutbound(MAIN)), "GET /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/pico-a");
    reply(MAIN, 404, '{"kind":"Status","code":404}');
    a.poll(T0 + 3, WALL0 + 3);
    expectHas(firstLine(fakeTakeOutbound(MAIN)), "POST /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases ");
    reply(MAIN, 201, LEASE);
    a.poll(T0 + 4, WALL0 + 4);
    const ev = fakeTakeOutbound(MAIN);
    expect(firstLine(ev)).toBe("POST /api/v1/namespaces/default/events HTTP/1.1");
    expectHas(ev, '"reason":"ConfigApplied"');
    expectHas(ev, '"involvedObject":{"apiVersion":"v1","kind":"ConfigMap","namespace":"default","name":"pico-config","uid":"cm-1"');
    // The Lease falls due while the Event is in flight: it goes next, then the annotation.
    const due = T0 + 4 + 10000;
    reply(MAIN, 201, "{}");
    a.poll(due, WALL0 + 10004);
    expectHas(firstLine(fakeTakeOutbound(MAIN)), "PUT /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/pico-a ");
    reply(MAIN, 200, LEASE);
    a.poll(due + 1, WALL0 + 10005);
    const patch = fakeTakeOutbound(MAIN);
    expect(firstLine(patch)).toBe("PATCH /api/v1/nodes/pico-a HTTP/1.1");
    expectHas(patch, "Content-Type: application/merge-patch+json");
    expectHas(patch, '{"metadata":{"annotations":{"pico.k3s.io/configmap-applied":"default/pico-config@50"}}}');
    reply(MAIN, 200, NODE);
    a.poll(due + 2, WALL0 + 10006);
    expect(fakeTakeOutbound(MAIN)).toBe("");
  });
});
