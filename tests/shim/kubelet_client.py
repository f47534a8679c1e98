#!/usr/bin/env python3
"""Clients of the kubelet endpoint test (tests/shim/kubelet.sh), each bounded.

  tls PORT CA [CERT KEY]  TLS to 127.0.0.1:PORT, the server verified against
                          CA with its IP SAN checked (as the API server does
                          with --kubelet-certificate-authority); prints the
                          server's line ("peer=...") and "fp=<sha256 of the
                          server certificate>", or "error: ..."
  flood PORT N            opens N TCP connections 0.3 s apart that never
                          speak; prints "eof I" as the server closes each and
                          "open I" for any still open after 10 s
"""
import hashlib
import select
import socket
import ssl
import sys
import time


def tls(port, ca, cert=None, key=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(ca)
    if cert:
        ctx.load_cert_chain(cert, key)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                line = b""
                while not line.endswith(b"\n"):
                    chunk = s.recv(600)
                    if not chunk:
                        break
                    line += chunk
                print(line.decode(errors="replace").strip())
                print("fp=" + hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest())
    except (OSError, ssl.SSLError) as e:
        print("error: %s" % e)


def flood(port, n):
    socks = []
    for _ in range(n):
        socks.append(socket.create_connection(("127.0.0.1", port), timeout=10))
        time.sleep(0.3)
    pending = dict(enumerate(socks))
    deadline = time.monotonic() + 10
    while pending and time.monotonic() < deadline:
        ready, _, _ = select.select(list(pending.values()), [], [], 0.2)
        for s in ready:
            i = next(k for k, v in pending.items() if v is s)
            try:
                data = s.recv(64)
            except OSError:
                data = b""
            if not data:
                print("eof %d" % i, flush=True)
                del pending[i]
                s.close()
    for i, s in pending.items():
        print("open %d" % i)
        s.close()


def main():
    if sys.argv[1] == "tls":
        tls(int(sys.argv[2]), sys.argv[3], *sys.argv[4:6])
    elif sys.argv[1] == "flood":
        flood(int(sys.argv[2]), int(sys.argv[3]))
    else:
        sys.exit("usage: kubelet_client.py tls|flood ...")


if __name__ == "__main__":
    main()
