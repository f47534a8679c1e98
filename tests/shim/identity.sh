#!/usr/bin/env bash
# Node identity of the simulator (issue 6): key made once and kept with mode
# 0600, CSR subject, certificate install checks (key, subject, dates,
# corrupt input) that never replace a working certificate, restart,
# renewal (both client configurations, SHIM_NET_HTTP1 or not, present the
# new certificate; the install after next ends older connections), a
# corrupt key file left untouched, and server.ca_hash. Needs openssl, node
# (certs/issue-node-cert.mjs signs the CSRs) and python3 (tls_server.py).
# Usage: identity.sh <shim-identity-test binary>; prints ok/not ok lines.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
ok() { echo "ok - identity: $1"; }
nok() { echo "not ok - identity: $1"; fail=1; [ $# -gt 1 ] && sed 's/^/#   /' <<<"$2" | tail -n 8; return 0; }
expect() { # name, want, got [, log]
  if [ "$3" = "$2" ]; then ok "$1"; else nok "$1 (want '$2', got '$3')" "${4:-}"; fi
}
issue() { node "$ROOT/certs/issue-node-cert.mjs" --ca-cert "$T/ca.pem" --ca-key "$T/ca.key" "$@" 2>"$T/issue.err"; }

openssl ecparam -name prime256v1 -genkey -noout -out "$T/ca.key" 2>/dev/null
openssl req -x509 -new -key "$T/ca.key" -subj "/CN=test-client-ca" -days 2 -out "$T/ca.pem" 2>/dev/null
printf 'node.name = n1\ntls.ca_file = ca.pem\n' >"$T/node.conf"
run() { "$BIN" "$T/node.conf" "$@" 2>"$T/stderr"; }

expect "first start without state" "load 0" "$(run load)"
expect "key generated once, CSR made" "csr 1 0 0 toosmall -6 badname -4" "$(run csr "$T/req.pem")" "$(cat "$T/stderr")"
mode=$(stat -c %a "$T/n1.state/client-key.pem" 2>/dev/null)
expect "key file mode 0600 in <node>.state" "600" "$mode"
grep -q "PRIVATE KEY" "$T/stderr" && nok "key material in the log" || ok "no key material in the log"
subj=$(openssl req -in "$T/req.pem" -noout -subject -nameopt RFC2253 2>&1)
expect "CSR subject" "subject=O=system:nodes,CN=system:node:n1" "$subj"
openssl req -in "$T/req.pem" -noout -verify >/dev/null 2>&1 && ok "CSR signature verifies" || nok "CSR signature verifies"
pub1=$(openssl req -in "$T/req.pem" -noout -pubkey)
expect "key kept across restarts" "csr 0 0 0 toosmall -6 badname -4" "$(run csr "$T/req2.pem")"
pub2=$(openssl req -in "$T/req2.pem" -noout -pubkey)
[ "$pub1" = "$pub2" ] && ok "same public key after restart" || nok "same public key after restart"
expect "no certificate yet" "info -7 0 0" "$(run info)"

issue --csr "$T/req.pem" --node n1 --days 1 -o "$T/good.pem" || nok "issue-node-cert" "$(cat "$T/issue.err")"
base64 -w0 "$T/good.pem" >"$T/good.b64"
expect "install base64 PEM in pieces" "install 0" "$(run install "$T/good.b64")" "$(cat "$T/stderr")"
cmp -s "$T/good.pem" "$T/n1.state/client.pem" && ok "certificate persisted" || nok "certificate persisted"
info=$(run info)
read -r _ src nb na <<<"$info"
if [ "$src" = 2 ] && [ $((na - nb)) -eq 86400000 ]; then ok "cert_info after restart: node-made, dates"; else nok "cert_info after restart ($info)"; fi

# A certificate for another key: rejected, the working one stays.
openssl ecparam -name prime256v1 -genkey -noout -out "$T/other.key" 2>/dev/null
openssl req -new -key "$T/other.key" -subj "/CN=system:node:n1/O=system:nodes" -out "$T/other.csr" 2>/dev/null
issue --csr "$T/other.csr" --days 1 -o "$T/other.pem"
expect "certificate for another key rejected" "install -10" "$(run install "$T/other.pem")"
grep -q "not for this node's key" "$T/stderr" && ok "says why (key)" || nok "says why (key)" "$(cat "$T/stderr")"
cmp -s "$T/good.pem" "$T/n1.state/client.pem" && ok "working certificate kept" || nok "working certificate kept"

# Another node's name for our key (signed directly by openssl).
openssl x509 -req -in "$T/req.pem" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -days 1 \
  -subj "/CN=system:node:n2/O=system:nodes" -out "$T/n2.pem" 2>/dev/null
expect "wrong subject rejected" "install -10" "$(run install "$T/n2.pem")"
grep -q "subject is not CN=system:node:n1" "$T/stderr" && ok "says why (subject)" || nok "says why (subject)" "$(cat "$T/stderr")"

# Dates: not yet valid (a clock that is wrong) and expired.
tomorrow=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)
later=$(date -u -d '+2 days' +%Y-%m-%dT%H:%M:%SZ)
issue --csr "$T/req.pem" --not-before "$tomorrow" --not-after "$later" -o "$T/future.pem"
expect "not yet valid rejected" "install -10" "$(run install "$T/future.pem")"
grep -q "clock right" "$T/stderr" && ok "says to check the clock" || nok "says to check the clock" "$(cat "$T/stderr")"
issue --csr "$T/req.pem" --not-before "$(date -u -d '-2 days' +%FT%TZ)" --not-after "$(date -u -d '-1 day' +%FT%TZ)" -o "$T/old.pem"
expect "expired rejected" "install -10" "$(run install "$T/old.pem")"
grep -q "expired" "$T/stderr" && ok "says expired" || nok "says expired" "$(cat "$T/stderr")"

# Truncated input.
head -c 300 "$T/good.b64" >"$T/trunc.b64"
r=$(run install "$T/trunc.b64")
[ "$r" = "install -4" ] && ok "truncated certificate rejected" || nok "truncated certificate rejected ($r)" "$(cat "$T/stderr")"
cmp -s "$T/good.pem" "$T/n1.state/client.pem" && ok "working certificate kept after bad installs" || nok "kept after bad installs"
expect "still installed after bad installs" "2" "$(run info | cut -d' ' -f2)"

# Renewal: after an install, new connections present the new certificate
# with either ALPN offer (the normal configuration and the HTTP/1.1-only one,
# SHIM_NET_HTTP1); one opened before keeps its own until the install after
# next ends it (port_posix_conf_retire). Echo servers (tls_server.py) verify
# the client against ca.pem, offer h2 and http/1.1, and report the serial.
openssl ecparam -name prime256v1 -genkey -noout -out "$T/server.key" 2>/dev/null
openssl req -new -key "$T/server.key" -subj "/CN=localhost" -out "$T/server.csr" 2>/dev/null
printf 'subjectAltName = DNS:localhost\n' >"$T/server.ext"
openssl x509 -req -in "$T/server.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -days 1 \
  -extfile "$T/server.ext" -out "$T/server.pem" 2>/dev/null
issue --csr "$T/req.pem" --node n1 --days 1 -o "$T/new1.pem"
issue --csr "$T/req.pem" --node n1 --days 1 -o "$T/new2.pem"
serial() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
spids=()
serve() { # NAME: starts a server, sets $port
  timeout 30 python3 "$ROOT/tests/shim/tls_server.py" --mode echo --cert "$T/server.pem" \
    --key "$T/server.key" --ca "$T/ca.pem" --alpn h2,http/1.1 --port-file "$T/$1.port" \
    --report "$T/$1.report" --max-seconds 20 >/dev/null 2>&1 &
  spids+=($!)
  port=""
  for _ in $(seq 1 50); do [ -s "$T/$1.port" ] && port=$(cat "$T/$1.port") && return; sleep 0.1; done
}
serve r0 && p0=$port && serve r1 && p1=$port && serve r2 && p2=$port
out=$(run renew localhost "$p0" "$p1" "$p2" "$T/new1.pem" "$T/new2.pem")
wait "${spids[@]}" 2>/dev/null
line() { sed -n "$1p" <<<"$out"; }
log=$(cat "$T/stderr")
expect "renewal: HTTP/1.1-only connection with the loaded certificate" "old http/1.1" "$(line 1)" "$log"
expect "renewal: it presented the loaded certificate" "peer serial $(serial "$T/good.pem")" \
  "$(grep '^peer serial' "$T/r0.report")" "$(cat "$T/r0.report")"
expect "renewal: new certificate installed" "install 0" "$(line 2)" "$log"
expect "renewal: a new connection still gets h2" "new h2" "$(line 3)" "$log"
expect "renewal: ... and presents the new certificate" "peer serial $(serial "$T/new1.pem")" \
  "$(grep '^peer serial' "$T/r1.report")" "$(cat "$T/r1.report")"
expect "renewal: a new HTTP/1.1-only connection gets http/1.1" "new-http1 http/1.1" "$(line 4)" "$log"
expect "renewal: ... and presents the new certificate too" "peer serial $(serial "$T/new1.pem")" \
  "$(grep '^peer serial' "$T/r2.report")" "$(cat "$T/r2.report")"
expect "renewal: the older HTTP/1.1-only connection keeps going" "kept 0" "$(line 5)" "$log"
expect "renewal: the next certificate installed" "install 0" "$(line 6)" "$log"
expect "renewal: the install after next ends it (E_IO)" "retired -11" "$(line 7)" "$log"

# Static files win: cert_info reports the operator's certificate.
cp "$T/node.conf" "$T/static.conf"
printf 'tls.cert_file = good.pem\ntls.key_file = other.key\n' >>"$T/static.conf"
r=$("$BIN" "$T/static.conf" info 2>/dev/null | cut -d' ' -f2)
expect "static tls.cert_file wins" "1" "$r"

# A corrupt key file: a clear error, never overwritten.
mkdir -p "$T/c" && cp "$T/ca.pem" "$T/c/" && printf 'node.name = n1\ntls.ca_file = ca.pem\n' >"$T/c/node.conf"
mkdir -p "$T/c/n1.state" && echo "garbage" >"$T/c/n1.state/client-key.pem"
r=$("$BIN" "$T/c/node.conf" load 2>"$T/stderr")
expect "corrupt key file is an error" "load -11" "$r"
grep -q "move it away" "$T/stderr" && ok "says what to do" || nok "says what to do" "$(cat "$T/stderr")"
[ "$(cat "$T/c/n1.state/client-key.pem")" = garbage ] && ok "corrupt key not overwritten" || nok "corrupt key not overwritten"

# server.ca_hash.
h=$(sha256sum "$T/ca.pem" | cut -d' ' -f1)
printf 'node.name = n1\ntls.ca_file = ca.pem\nserver.ca_hash = sha256:%s\n' "$h" >"$T/hash.conf"
expect "matching CA hash" "load 0" "$("$BIN" "$T/hash.conf" load 2>/dev/null)"
printf 'node.name = n1\ntls.ca_file = ca.pem\nserver.ca_hash = sha256:%s\n' "$(printf '%064d' 0)" >"$T/hash.conf"
r=$("$BIN" "$T/hash.conf" load 2>"$T/stderr")
expect "wrong CA hash refused" "load -10" "$r"
grep -q "does not match server.ca_hash" "$T/stderr" && ok "says the CA does not match" || nok "says the CA does not match" "$(cat "$T/stderr")"
printf 'node.name = n1\ntls.ca_file = ca.pem\nserver.ca_hash = md5:abc\n' >"$T/hash.conf"
expect "malformed CA hash refused" "load -10" "$("$BIN" "$T/hash.conf" load 2>/dev/null)"
exit $fail
