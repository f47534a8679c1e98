#!/usr/bin/env python3
"""One-connection test server on 127.0.0.1 for the shim's network tests.

Modes:
  echo   TLS (client certificate required when --ca is given), or plain TCP
         with --plain; answers each received chunk with "pong\n"; then reports
         whether the client ended with a TLS close_notify. --alpn P1,P2
         offers those ALPN protocols (RFC 7301) and reports the one chosen;
         with --ca it also reports the client certificate's serial number.
  close  accepts TCP, reads the ClientHello, closes: a handshake cut short.
  silent accepts TCP and never answers (handshake deadline test).
--tls12 caps TLS at 1.2 (a server without TLS 1.3); "version X" is reported.
Writes the chosen port to --port-file; exits after one connection or
--max-seconds (bounded, never left running). Events go to --report.
"""
import argparse
import os
import socket
import ssl
import sys
import time


def report(path, line):
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["echo", "close", "silent"], required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--ca")
    ap.add_argument("--plain", action="store_true")
    ap.add_argument("--alpn", help="comma-separated ALPN protocols the server accepts")
    ap.add_argument("--tls12", action="store_true", help="offer TLS 1.2 at most")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--report")
    ap.add_argument("--max-seconds", type=float, default=20.0)
    a = ap.parse_args()

    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    srv.settimeout(a.max_seconds)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.getsockname()[1]))
    os.rename(tmp, a.port_file)
    deadline = time.monotonic() + a.max_seconds

    try:
        conn, _ = srv.accept()
    except socket.timeout:
        report(a.report, "no connection")
        return 0
    conn.settimeout(max(0.1, deadline - time.monotonic()))
    try:
        if a.mode == "close":
            conn.recv(64)
            conn.close()
            report(a.report, "closed mid-handshake")
            return 0
        if a.mode == "silent":
            while time.monotonic() < deadline and conn.recv(4096):
                pass
            report(a.report, "silent done")
            return 0
        if not a.plain:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(a.cert, a.key)
            if a.ca:
                ctx.verify_mode = ssl.CERT_REQUIRED
                ctx.load_verify_locations(a.ca)
            if a.alpn:
                ctx.set_alpn_protocols(a.alpn.split(","))
            if a.tls12:
                ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            try:
                conn = ctx.wrap_socket(conn, server_side=True, suppress_ragged_eofs=False)
            except (ssl.SSLError, OSError) as e:
                report(a.report, "handshake failed: %s" % e)
                return 0
            report(a.report, "handshake ok")
            report(a.report, "alpn %s" % conn.selected_alpn_protocol())
            if a.ca:
                # Which certificate the client presented (renewal tests).
                report(a.report, "peer serial %s" % conn.getpeercert().get("serialNumber"))
            report(a.report, "version %s" % conn.version())
        while True:
            try:
                data = conn.recv(4096)
            except ssl.SSLEOFError:
                report(a.report, "eof without close_notify")
                break
            if not data:
                report(a.report, "close_notify" if not a.plain else "eof")
                break
            conn.sendall(b"pong\n")
    except (socket.timeout, OSError) as e:
        report(a.report, "error: %s" % e)
    finally:
        conn.close()
        srv.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
