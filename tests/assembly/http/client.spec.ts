import { HttpClient, HTTP_BODY, HTTP_DONE, HTTP_IDLE, HTTP_PENDING } from "../../../assembly/http/client";
import { NET_CLIENT_CERT, NET_TLS } from "../../../assembly/host/imports";
import { E_CLOSED, E_CONNECT, E_INVAL, E_IO, E_MALFORMED, E_NOMEM, E_TIMEOUT, E_TLS, OK } from "../../../assembly/util/errors";
import { HTTP_RESPONSE_DEADLINE_MS } from "../../../assembly/util/limits";
import {
  fake_reset, fake_last_handle, fake_connect_complete, fakePush, fakePushPart, fake_peer_close, fake_fail_next,
  fakeTakeOutbound, fake_open_handles, fake_connect_count, fake_connect_port, fake_connect_flags, fakeConnectHost,
  fake_auto_connect, fake_send_limit, fake_is_open, FAKE_OP_CONNECT, FAKE_OP_RECV, FAKE_OP_SEND,
} from "../../fakes/fake";
import { settle } from "../../fakes/requests";

const OK_RESP = "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 5\r\n\r\nhello";


function get(c: HttpClient, path: string, now: i64): i32 {
  c.begin("GET", path);
  c.req.finish(0, 0);
  return c.send(now);
}

describe("HttpClient", () => {
  beforeEach(() => { fake_reset(); });

  it("connects, sends, reads a split response and reuses the connection", () => {
    const c = new HttpClient(1024, 64);
    expect(c.configure("k3s.example", 6443, NET_TLS | NET_CLIENT_CERT)).toBe(OK);
    expect(get(c, "/api/v1/nodes/a", 0)).toBe(OK);
    expect(c.busy).toBe(true);
    expect(get(c, "/x", 0)).toBe(E_INVAL); // busy: the queued request is untouched
    expect(c.req.error).toBe(E_INVAL);
    const h = fake_last_handle();
    expect(fakeConnectHost(h)).toBe("k3s.example");
    expect(fake_connect_port(h)).toBe(6443);
    expect(fake_connect_flags(h)).toBe(NET_TLS | NET_CLIENT_CERT);
    // The connect is pending: nothing goes out.
    expect(c.poll(1)).toBe(HTTP_PENDING);
    expect(fakeTakeOutbound(h)).toBe("");
    fake_connect_complete(h, 0);
    fake_send_limit(7); // partial sends
    expect(settle(c, 2, 3)).toBe("pending ");
    expect(fakeTakeOutbound(h)).toBe("GET /api/v1/nodes/a HTTP/1.1\r\nHost: k3s.example:6443\r\n\r\n");
    // The response arrives in pieces, split at odd places.
    for (let i = 0; i < OK_RESP.length; i += 9) fakePushPart(h, OK_RESP, i, min(i + 9, OK_RESP.length));
    expect(settle(c, 3)).toBe("done 200 hello");
    expect(c.dateUnixMs).toBe(784111777000);
    expect(c.busy).toBe(false);
    expect(c.connected).toBe(true);
    expect(c.poll(4)).toBe(HTTP_IDLE);
    // Second request on the same connection.
    expect(get(c, "/two", 5)).toBe(OK);
    fakePush(h, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    expect(settle(c, 6)).toBe("done 404 ");
    expect(fakeTakeOutbound(h)).toBe("GET /two HTTP/1.1\r\nHost: k3s.example:6443\r\n\r\n");
    expect(fake_connect_count()).toBe(1);
    expect(fake_open_handles()).toBe(1);
  });

  it("closes after Connection: close and reconnects for the next request", () => {
    const c = new HttpClient(1024, 256);
    fake_auto_connect(1);
    c.configure("s", 443, NET_TLS);
    expect(get(c, "/", 0)).toBe(OK);
    const h = fake_last_handle();
    fakePush(h, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
    expect(settle(c, 1)).toBe("done 200 ok");
    expect(fakeTakeOutbound(h)).toBe("GET / HTTP/1.1\r\nHost: s\r\n\r\n"); // default port omitted
    expect(c.connected).toBe(false);
    expect(fake_is_open(h)).toBe(0);
    expect(get(c, "/", 2)).toBe(OK);
    expect(fake_connect_count()).toBe(2);
  });

  it("reads a close-delimited body until the peer closes", () => {
    const c = new HttpClient(1024, 256);
    fake_auto_connect(1);
    c.configure("s", 80, 0);
    get(c, "/", 0);
    expect(c.poll(0)).toBe(HTTP_PENDING); // request sent
    const h = fake_last_handle();
    fakePush(h, "HTTP/1.1 200 OK\r\n\r\nabc");
    fakePush(h, "def");
    fake_peer_close(h);
    expect(settle(c, 1)).toBe("done 200 abcdef");
    expect(c.connected).toBe(false);
  });

  it("replaces a kept-alive connection the server closed while idle", () => {
    const c = new HttpClient(1024, 256);
    fake_auto_connect(1);
    c.configure("s", 6443, NET_TLS);
    get(c, "/1", 0);
    const h1 = fake_last_handle();
    fakePush(h1, OK_RESP);
    expect(settle(c, 1)).toBe("done 200 hello");
    fake_peer_close(h1);
    expect(get(c, "/2", 2)).toBe(OK);
    const h2 = fake_last_handle();
    expect(h2).not.toBe(h1);
    expect(fake_is_open(h1)).toBe(0);
    fakePush(h2, OK_RESP);
    expect(settle(c, 3)).toBe("done 200 hello");
    expect(fakeTakeOutbound(h1)).toBe("GET /1 HTTP/1.1\r\nHost: s:6443\r\n\r\n");
    expect(fakeTakeOutbound(h2)).toBe("GET /2 HTTP/1.1\r\nHost: s:6443\r\n\r\n");
    expect(fake_connect_count()).toBe(2);
  });

  it("retries once when a reused connection fails on send or closes unanswered", () => {
    const c = new HttpClient(1024, 256);
    fake_auto_connect(1);
    c.configure("s", 6443, NET_TLS);
    get(c, "/1", 0);
    fakePush(fake_last_handle(), OK_RESP);
    expect(settle(c, 1)).toBe("done 200 hello");
    // Send fails on the reused connection: nothing went out, so resend.
    fake_fail_next(fake_last_handle(), FAKE_OP_SEND, E_IO);
    get(c, "/2", 2);
    expect(c.poll(2)).toBe(HTTP_PENDING);
    expect(fake_connect_count()).toBe(2);
    expect(fakeTakeOutbound(fake_last_handle())).toBe("GET /2 HTTP/1.1\r\nHost: s:6443\r\n\r\n");
    fakePush(fake_last_handle(), OK_RESP);
    expect(settle(c, 3)).toBe("done 200 hello");
    // Closed after our GET without a byte of answer: idempotent, retried once.
    const h = fake_last_handle();
    get(c, "/3", 4);
    expect(c.poll(4)).toBe(HTTP_PENDING);
    fake_peer_close(h);
    expect(c.poll(5)).toBe(HTTP_PENDING);
    expect(fake_connect_count()).toBe(3);
    fake_peer_close(fake_last_handle()); // the retry fails too: reported
    expect(settle(c, 6)).toBe("error " + E_CLOSED.toString() + " ");
    expect(c.lastError).toBe(E_CLOSED);
    expect(fake_open_handles()).toBe(0);
  });

  it("does not retry a POST the server may have processed", () => {
    const c = new HttpClient(1024, 256);
    fake_auto_connect(1);
    c.configure("s", 6443, NET_TLS);
    get(c, "/1", 0);
    fakePush(fake_last_handle(), OK_RESP);
    settle(c, 1);
    c.begin("POST", "/api/v1/nodes");
    c.req.finish(0, 0);
    expect(c.send(2)).toBe(OK);
    expect(c.poll(2)).toBe(HTTP_PENDING);
    fake_peer_close(fake_last_handle());
    expect(settle(c, 3)).toBe("error " + E_CLOSED.toString() + " ");
    expect(fake_connect_count()).toBe(1);
  });

  it("surfaces connection errors and closes", () => {
    const c = new HttpClient(1024, 256);
    c.configure("s", 6443, NET_TLS);
    get(c, "/", 0);
    fake_connect_complete(fake_last_handle(), E_TLS);
    expect(c.poll(1)).toBe(E_TLS);
    expect(c.lastError).toBe(E_TLS);
    expect(c.connected).toBe(false);
    expect(c.busy).toBe(false);
    expect(fake_open_handles()).toBe(0);

    fake_fail_next(0, FAKE_OP_CONNECT, E_NOMEM);
    expect(get(c, "/", 2)).toBe(E_NOMEM);
    expect(c.busy).toBe(false);

    fake_auto_connect(1);
    get(c, "/", 3);
    fake_fail_next(fake_last_handle(), FAKE_OP_RECV, E_IO);
    expect(settle(c, 4)).toBe("error " + E_IO.toString() + " ");
    expect(fake_open_handles()).toBe(0);

    get(c, "/", 5);
    fakePush(fake_last_handle(), "HTTP/1.1 200 OK\r\nContent-Length: zz\r\n\r\n");
    expect(settle(c, 6)).toBe("error " + E_MALFORMED.toString() + " ");
    expect(fake_open_handles()).toBe(0);

    get(c, "/", 7);
    fake_connect_complete(fake_last_handle(), E_CONNECT);
    expect(settle(c, 8)).toBe("error " + E_CONNECT.toString() + " ");
  });

  it("times out a response at the deadline", () => {
    const c = new HttpClient(1024, 256);
    c.configure("s", 6443, NET_TLS);
    get(c, "/", 1000);
    // Connect never completes.
    expect(c.poll(1000 + HTTP_RESPONSE_DEADLINE_MS - 1)).toBe(HTTP_PENDING);
    expect(c.poll(1000 + HTTP_RESPONSE_DEADLINE_MS)).toBe(E_TIMEOUT);
    expect(fake_open_handles()).toBe(0);
    // Connected, request sent, headers started but never finished.
    fake_auto_connect(1);
    get(c, "/", 50000);
    fakePush(fake_last_handle(), "HTTP/1.1 200 OK\r\n");
    expect(c.poll(50001)).toBe(HTTP_PENDING);
    expect(c.poll(50000 + HTTP_RESPONSE_DEADLINE_MS)).toBe(E_TIMEOUT);
    expect(c.lastError).toBe(E_TIMEOUT);
  });

  it("streams an endless chunked body without a deadline once headers arrived", () => {
    const c = new HttpClient(1024, 64);
    fake_auto_connect(1);
    c.configure("s", 6443, NET_TLS);
    c.begin("GET", "/api/v1/configmaps?watch=1");
    c.req.finish(0, 0);
    expect(c.send(0, true)).toBe(OK);
    const h = fake_last_handle();
    fakePush(h, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    expect(settle(c, 1)).toBe("pending ");
    expect(c.headersDone).toBe(true);
    expect(c.status).toBe(200);
    let got = "";
    for (let i = 0; i < 50; i++) {
      fakePush(h, "10\r\n{\"type\":\"ADDED\"}\r\n");
      const now: i64 = <i64>i * HTTP_RESPONSE_DEADLINE_MS; // far past any deadline
      const s = settle(c, now, 1);
      expect(s.startsWith("pending ")).toBe(true, s);
      got += s.substr(8);
    }
    expect(got.length).toBe(50 * 16);
    expect(c.busy).toBe(true);
    c.close();
    expect(c.busy).toBe(false);
    expect(fake_open_handles()).toBe(0);
  });

  it("reports a HEAD response without waiting for a body", () => {
    const c = new HttpClient(1024, 256);
    fake_auto_connect(1);
    c.configure("s", 6443, NET_TLS);
    c.begin("HEAD", "/");
    c.req.finish(0, 0);
    c.send(0);
    fakePush(fake_last_handle(), "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n");
    expect(settle(c, 1)).toBe("done 200 ");
    expect(c.connected).toBe(true);
  });

  it("rejects bad configuration and unfinished requests", () => {
    const c = new HttpClient(64, 64);
    expect(c.configure("", 6443, 0)).toBe(E_INVAL);
    expect(c.configure("s", 0, 0)).toBe(E_INVAL);
    expect(c.configure("s", 70000, 0)).toBe(E_INVAL);
    c.configure("s", 6443, 0);
    c.begin("GET", "/");
    expect(c.send(0)).toBe(E_INVAL); // not finished
    c.begin("GET", "/a-very-long-path-that-does-not-fit-into-sixty-four-bytes-of-buffer");
    expect(c.req.finish(0, 0)).toBeLessThan(0);
    expect(c.send(0)).toBe(E_INVAL);
  });
});
