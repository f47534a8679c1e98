// The ConfigMap watch (assembly/k8s/configmap.ts) against the host fake: a
// scripted API server answers the list, then streams watch events (chunked,
// split anywhere); the fake's device memory shows what was committed.
import { ConfigMaps, REPORT_ANNOTATION, REPORT_EVENT, REPORT_NONE } from "../../../assembly/k8s/configmap";
import { NodeConfig } from "../../../assembly/k8s/config";
import { JsonWriter } from "../../../assembly/json/writer";
import { OK } from "../../../assembly/util/errors";
import { newSharedConn } from "../../../assembly/http/client";
import {
  fake_reset, fakeConfig, fake_auto_connect, fake_last_handle, fakePush, fakeTakeOutbound, fake_devmem_byte,
  fake_devmem_commits, fake_devmem_set, fake_peer_close, fake_connect_count,
} from "../../fakes/fake";
import { expectHas, firstLine, sent } from "../../fakes/requests";

const UA = String.UTF8.encode("k3s-pico-node/test");

function setup(names: string | null = null, restoredAt: i32 = -1): ConfigMaps {
  fake_reset();
  if (restoredAt >= 0) fake_devmem_set(restoredAt, 0x77); // the image the host restored at boot
  fake_auto_connect(1);
  fakeConfig("node.name", "pico-a");
  fakeConfig("server.host", "api.example");
  fakeConfig("node.ip", "192.0.2.10");
  fakeConfig("platform.devmem_bytes", "256");
  if (names != null) fakeConfig("configmap.names", names);
  const cfg = new NodeConfig();
  expect(cfg.load()).toBe(OK);
  const c = new ConfigMaps();
  expect(c.init(cfg, changetype<usize>(UA), UA.byteLength, newSharedConn())).toBe(OK);
  return c;
}

function reply(status: i32, body: string): void {
  fakePush(fake_last_handle(), "HTTP/1.1 " + status.toString() + " X\r\nContent-Type: application/json\r\nContent-Length: " +
    String.UTF8.byteLength(body).toString() + "\r\n\r\n" + body);
}
function item(rv: string, values: string): string {
  return '{"metadata":{"name":"pico-config","namespace":"default","uid":"u-1","resourceVersion":"' + rv +
    '","managedFields":[{"fieldsV1":{"f:data":{".":{},"f:memory_values":{}}}}]},"data":{"memory_values":"' + values + '"}}';
}
function list(rv: string, items: string): string {
  return '{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"' + rv + '"},"items":[' + items + "]}";
}
function watchHead(): void {
  fakePush(fake_last_handle(), "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
}
function chunk(s: string): void {
  fakePush(fake_last_handle(), String.UTF8.byteLength(s).toString(16) + "\r\n" + s + "\r\n");
}
function ev(type: string, obj: string): string { return '{"type":"' + type + '","object":' + obj + "}\n"; }

/** Lists with one item and opens the watch; now = 2. */
function listed(c: ConfigMaps, values: string): void {
  c.poll(0);
  const r = sent();
  expectHas(firstLine(r), "GET /api/v1/namespaces/default/configmaps?fieldSelector=metadata.name%3Dpico-config HTTP/1.1");
  reply(200, list("100", item("90", values)));
  c.poll(1);
  c.poll(2);
  const w = firstLine(sent());
  expectHas(w, "&watch=1&allowWatchBookmarks=true&resourceVersion=100&timeoutSeconds=");
  watchHead();
}

describe("ConfigMaps", () => {
  it("lists, applies, then watches from the list's resourceVersion", () => {
    const c = setup();
    listed(c, "0=0x42,1=0x43,2=0xFF");
    expect(fake_devmem_byte(0)).toBe(0x42);
    expect(fake_devmem_byte(1)).toBe(0x43);
    expect(fake_devmem_byte(2)).toBe(0xff);
    expect(fake_devmem_commits()).toBe(1);
    expect(c.reportWanted).toBe(true);
  });

  it("applies MODIFIED events split at every byte; a BOOKMARK moves the resume point", () => {
    const c = setup();
    listed(c, "0=1");
    const e = ev("MODIFIED", item("101", "0=0x10,7=0x70"));
    for (let i = 0; i < e.length; i++) {
      chunk(e.substring(i, i + 1));
      c.poll(3);
    }
    expect(fake_devmem_byte(0)).toBe(0x10);
    expect(fake_devmem_byte(7)).toBe(0x70);
    chunk(ev("BOOKMARK", '{"kind":"ConfigMap","metadata":{"resourceVersion":"150"}}'));
    c.poll(4);
    // The server ends the watch (timeoutSeconds): renewed at once from 150.
    fakePush(fake_last_handle(), "0\r\n\r\n");
    c.poll(5);
    c.poll(6);
    expectHas(firstLine(sent()), "resourceVersion=150&");
  });

  it("a rejected update changes nothing and queues a Warning event", () => {
    const c = setup();
    listed(c, "0=0x42");
    const commits = fake_devmem_commits();
    chunk(ev("MODIFIED", item("101", "0=0x1FF")));
    c.poll(3);
    expect(fake_devmem_commits()).toBe(commits);
    expect(fake_devmem_byte(0)).toBe(0x42);
    const buf = new ArrayBuffer(2048);
    const w = new JsonWriter(changetype<usize>(buf), 2048);
    const path = new ArrayBuffer(136);
    // Events come first (the latest per ConfigMap), then the annotation.
    expect(c.writeReport(w, changetype<usize>(path), 136, changetype<usize>(UA), 6, 1795871145000)).toBe(REPORT_EVENT);
    const body = String.UTF8.decodeUnsafe(w.ptr, w.len);
    expectHas(body, '"reason":"ConfigRejected"');
    expectHas(body, '"type":"Warning"');
    expectHas(body, "value above 0xFF");
    expectHas(body, '"kind":"ConfigMap","namespace":"default","name":"pico-config","uid":"u-1","resourceVersion":"101"');
    expect(String.UTF8.decodeUnsafe(changetype<usize>(path), c.reportPathLen)).toBe("/api/v1/namespaces/default/events");
    w.reset();
    expect(c.writeReport(w, changetype<usize>(path), 136, changetype<usize>(UA), 6, 1795871145000)).toBe(REPORT_ANNOTATION);
    expectHas(String.UTF8.decodeUnsafe(w.ptr, w.len), '"pico.k3s.io/configmap-applied":"default/pico-config@90"');
    w.reset();
    expect(c.writeReport(w, changetype<usize>(path), 136, changetype<usize>(UA), 6, 1795871145000)).toBe(REPORT_NONE);
  });

  it("an ERROR event with code 410 makes it list again", () => {
    const c = setup();
    listed(c, "0=1");
    chunk(ev("ERROR", '{"kind":"Status","status":"Failure","reason":"Expired","code":410}'));
    c.poll(3);
    c.poll(4);
    expectHas(firstLine(sent()), "GET /api/v1/namespaces/default/configmaps?fieldSelector=metadata.name%3Dpico-config HTTP/1.1");
  });

  it("a stream cut mid-event resumes from the last resourceVersion; the partial event is dropped", () => {
    const c = setup();
    listed(c, "0=1");
    const e = ev("MODIFIED", item("101", "0=0x22"));
    chunk(e.substring(0, 40));
    c.poll(3);
    fake_peer_close(fake_last_handle());
    c.poll(4);
    expect(fake_devmem_byte(0)).toBe(1);
    c.poll(100000);
    expectHas(firstLine(sent()), "&watch=1&allowWatchBookmarks=true&resourceVersion=100&");
  });

  it("garbage from the server: the stream is dropped, it lists again, memory untouched", () => {
    const c = setup();
    listed(c, "0=1");
    chunk("{\"type\":\"MODIFIED\",\"object\":{]]]\n");
    c.poll(3);
    expect(fake_devmem_byte(0)).toBe(1);
    c.poll(100000);
    expectHas(firstLine(sent()), "GET /api/v1/namespaces/default/configmaps?fieldSelector=metadata.name%3Dpico-config HTTP/1.1");
  });

  it("an oversized memory_values is skipped while streaming and rejected", () => {
    const c = setup();
    listed(c, "0=1");
    let big = "";
    for (let i = 0; i < 200; i++) big += "0=0x02,";
    chunk(ev("MODIFIED", item("101", big)));
    c.poll(3);
    expect(fake_devmem_byte(0)).toBe(1);
    const buf = new ArrayBuffer(2048);
    const w = new JsonWriter(changetype<usize>(buf), 2048);
    const path = new ArrayBuffer(136);
    c.writeReport(w, changetype<usize>(path), 136, changetype<usize>(UA), 6, 1795871145000);
    expectHas(String.UTF8.decodeUnsafe(w.ptr, w.len), "memory_values is longer than 512 bytes");
  });

  it("two ConfigMaps: the later one wins; deleting it shows the earlier value again", () => {
    const c = setup("pico-config, pico-config-{node}");
    expect(c.count).toBe(2);
    c.poll(0); // both list: handles 1 and 2
    fakeTakeOutbound(1);
    expectHas(firstLine(fakeTakeOutbound(2)), "metadata.name%3Dpico-config-pico-a ");
    fakePush(1, "HTTP/1.1 200 OK\r\nContent-Length: " + String.UTF8.byteLength(list("100", item("90", "0=1,1=2"))).toString() +
      "\r\n\r\n" + list("100", item("90", "0=1,1=2")));
    const own = list("100", item("95", "1=9"));
    fakePush(2, "HTTP/1.1 200 OK\r\nContent-Length: " + String.UTF8.byteLength(own).toString() + "\r\n\r\n" + own);
    c.poll(1);
    expect(fake_devmem_byte(0)).toBe(1);
    expect(fake_devmem_byte(1)).toBe(9);
    c.poll(2); // both watch
    fakeTakeOutbound(1);
    fakeTakeOutbound(2);
    fakePush(2, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    const del = ev("DELETED", item("120", "1=9"));
    fakePush(2, String.UTF8.byteLength(del).toString(16) + "\r\n" + del + "\r\n");
    c.poll(3);
    expect(fake_devmem_byte(1)).toBe(2);
    expect(fake_devmem_byte(0)).toBe(1);
  });

  it("a restored image is kept for addresses no ConfigMap names; relists of the same version commit nothing", () => {
    const c = setup(null, 200);
    listed(c, "0=1");
    expect(fake_devmem_byte(0)).toBe(1);
    expect(fake_devmem_byte(200)).toBe(0x77);
    const n = fake_devmem_commits();
    chunk(ev("ERROR", '{"kind":"Status","code":410}'));
    c.poll(3);
    c.poll(4);
    sent();
    reply(200, list("130", item("90", "0=1")));
    c.poll(5);
    expect(fake_devmem_commits()).toBe(n);
    expect(c.w0.relists).toBe(2);
  });

  it("does not allocate after init over many poll cycles", () => {
    const c = setup();
    listed(c, "0=1");
    const before = heap.alloc(16);
    heap.free(before);
    for (let i = 0; i < 10000; i++) c.poll(3 + <i64>i);
    const after = heap.alloc(16);
    heap.free(after);
    expect(after).toBe(before);
    expect(fake_connect_count()).toBe(1);
  });
});

describe("ConfigMaps pacing", () => {
  it("a watch the server ends at once is renewed after a backoff, not at once", () => {
    const c = setup();
    listed(c, "0=1");
    fakePush(fake_last_handle(), "0\r\n\r\n"); // ends with no event
    c.poll(3);
    c.poll(4);
    expect(sent()).toBe("");
    c.poll(100000);
    expectHas(firstLine(sent()), "&watch=1&");
  });
});
