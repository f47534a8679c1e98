#!/usr/bin/env bash
# The kubelet endpoint's host side (issue 5) in the simulator's port: the
# serving key and CSR (subjectAltNames), serving certificate install checks
# and persistence, a TLS listener on 127.0.0.1 whose clients are openssl
# s_client and Python's ssl (tests/shim/kubelet_client.py): the client
# identity net_peer reports for a trusted, an anonymous and an untrusted
# client, the handshake deadline freeing slots, refusals past
# SHIM_KUBELET_MAX_CONNS, a new serving certificate on the open listener,
# and stats_read. Certificates come from gen_certs.sh and openssl.
# Usage: kubelet.sh <shim-kubelet-test binary>; prints ok/not ok lines.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=$1
T=$(mktemp -d)
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
fail=0
ok() { echo "ok - kubelet: $1"; }
nok() { echo "not ok - kubelet: $1"; fail=1; [ $# -gt 1 ] && sed 's/^/#   /' <<<"$2" | tail -n 12; return 0; }
expect() { # name, want, got [, log]
  if [ "$3" = "$2" ]; then ok "$1"; else nok "$1 (want '$2', got '$3')" "${4:-}"; fi
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
client() { timeout 20 python3 "$HERE/kubelet_client.py" "$@" 2>&1; }
fp() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }

bash "$HERE/gen_certs.sh" "$T/pki" >/dev/null 2>&1 || { nok "gen_certs.sh"; exit 1; }
P=$T/pki
# Clients: one more from the trusted CA with two groups, one from a CA the
# node does not trust.
cli() { # name ca subject
  openssl ecparam -name prime256v1 -genkey -noout -out "$P/$1.key" 2>/dev/null
  openssl req -new -key "$P/$1.key" -subj "$3" -out "$P/$1.csr" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' >"$P/$1.ext"
  openssl x509 -req -in "$P/$1.csr" -CA "$P/$2.pem" -CAkey "$P/$2.key" -CAcreateserial -days 1 \
    -extfile "$P/$1.ext" -out "$P/$1.pem" 2>/dev/null
}
cli apiserver ca "/CN=kube-apiserver-kubelet-client/O=system:masters/O=k8s-extra"
cli intruder other-ca "/CN=system:node:pico-a/O=system:nodes"

conf() { # file, extra lines...
  local f=$1
  shift
  printf 'node.name = n1\ntls.ca_file = pki/ca.pem\n' >"$f"
  for line in "$@"; do printf '%s\n' "$line" >>"$f"; done
}
conf "$T/node.conf" "node.ip = 127.0.0.1" "tls.client_ca_file = pki/ca.pem"
run() { "$BIN" "$T/node.conf" "$@" 2>"$T/stderr"; }

# ---- serving key and CSR ----
expect "serving key made, CSR written" "csr 1 ok" "$(run csr "$T/req.pem")" "$(cat "$T/stderr")"
mode=$(stat -c %a "$T/n1.state/serving-key.pem" 2>/dev/null)
expect "serving key file mode 0600 in <node>.state" "600" "$mode"
subj=$(openssl req -in "$T/req.pem" -noout -subject -nameopt RFC2253 2>&1)
expect "serving CSR subject" "subject=O=system:nodes,CN=system:node:n1" "$subj"
sans=$(openssl req -in "$T/req.pem" -noout -text | grep -A1 'Subject Alternative Name' | tail -1 | tr -d ' ')
expect "serving CSR SANs: exactly DNS:<node.name>, IP:<node.ip>" "DNS:n1,IPAddress:127.0.0.1" "$sans"
openssl req -in "$T/req.pem" -noout -verify >/dev/null 2>&1 && ok "serving CSR signature verifies" ||
  nok "serving CSR signature verifies"
expect "key kept: same CSR key after restart" "csr 0 ok" "$(run csr "$T/req2.pem")"
[ "$(openssl req -in "$T/req.pem" -noout -pubkey)" = "$(openssl req -in "$T/req2.pem" -noout -pubkey)" ] &&
  ok "same serving public key after restart" || nok "same serving public key after restart"

# IPv6 node.ip, no node.ip, a bad node.ip (own state directories).
conf "$T/v6.conf" "node.ip = fd00:10::1" "state.dir = v6.state"
"$BIN" "$T/v6.conf" csr "$T/v6.pem" >/dev/null 2>&1
sans=$(openssl req -in "$T/v6.pem" -noout -text 2>/dev/null | grep -A1 'Subject Alternative Name' | tail -1 | tr -d ' ')
expect "IPv6 node.ip as an IP SAN" "DNS:n1,IPAddress:FD00:10:0:0:0:0:0:1" "$sans"
conf "$T/noip.conf" "state.dir = noip.state"
"$BIN" "$T/noip.conf" csr "$T/noip.pem" >/dev/null 2>&1
sans=$(openssl req -in "$T/noip.pem" -noout -text 2>/dev/null | grep -A1 'Subject Alternative Name' | tail -1 | tr -d ' ')
expect "no node.ip: the DNS SAN only" "DNS:n1" "$sans"
conf "$T/badip.conf" "node.ip = 10.0.0.300" "state.dir = badip.state"
r=$("$BIN" "$T/badip.conf" csr "$T/badip.pem" 2>"$T/stderr" | tail -1)
expect "node.ip that is not an address: CSR refused" "csr-error -4" "$r" "$(cat "$T/stderr")"
grep -q 'node.ip "10.0.0.300" is not an IPv4 or IPv6 address' "$T/stderr" && ok "says node.ip is not an address" ||
  nok "says node.ip is not an address" "$(cat "$T/stderr")"

# ---- serving certificate install ----
expect "no serving certificate yet" "info -7 0 0" "$(run info)"
port=$(free_port)
expect "TLS listen without a serving certificate" "listen -13 0" "$(run listen "$port" 1)"
grep -q "no serving certificate is installed" "$T/stderr" && ok "says no serving certificate" ||
  nok "says no serving certificate" "$(cat "$T/stderr")"

sign() { # out, extra openssl x509 arguments...
  local out=$1
  shift
  openssl x509 -req -in "$T/req.pem" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial -days 1 "$@" \
    -out "$out" 2>/dev/null
}
printf 'subjectAltName=DNS:n1\nextendedKeyUsage=serverAuth\n' >"$T/dnsonly.ext"
sign "$T/dnsonly.pem" -extfile "$T/dnsonly.ext"
expect "certificate without node.ip among its SANs rejected" "install -10" "$(run install "$T/dnsonly.pem")"
grep -q "does not list node.ip 127.0.0.1" "$T/stderr" && ok "says node.ip is missing" ||
  nok "says node.ip is missing" "$(cat "$T/stderr")"
# k3s' own serving certificates are CN=<name>: not what this signer path issues.
sign "$T/k3sname.pem" -copy_extensions copy -subj "/CN=n1"
expect "wrong subject rejected" "install -10" "$(run install "$T/k3sname.pem")"
sign "$T/serving.pem" -copy_extensions copy
expect "serving certificate installed (base64-free PEM, in pieces)" "install 0" "$(run install "$T/serving.pem")" "$(cat "$T/stderr")"
cmp -s "$T/serving.pem" "$T/n1.state/serving.pem" && ok "serving certificate persisted as serving.pem" ||
  nok "serving certificate persisted"
[ ! -e "$T/n1.state/client.pem" ] && ok "client certificate untouched (slot 0)" || nok "slot 0 untouched"
read -r _ src nb na <<<"$(run info)"
if [ "$src" = 2 ] && [ $((na - nb)) -eq 86400000 ]; then ok "cert_info(1) after restart: node-made, dates"; else nok "cert_info(1) after restart ($src $nb $na)"; fi

conf "$T/noca.conf" "node.ip = 127.0.0.1"
r=$("$BIN" "$T/noca.conf" listen "$port" 1 2>"$T/stderr")
expect "TLS listen without a client CA" "listen -13 0" "$r"
grep -q "tls.client_ca_file" "$T/stderr" && ok "says tls.client_ca_file is missing" ||
  nok "says tls.client_ca_file is missing" "$(cat "$T/stderr")"
conf "$T/moved.conf" "node.ip = 127.0.0.2" "tls.client_ca_file = pki/ca.pem"
r=$("$BIN" "$T/moved.conf" info 2>"$T/stderr")
expect "stored serving certificate ignored once node.ip changed" "info -7 0 0" "$r"
grep -q "node.ip changed" "$T/stderr" && ok "says node.ip changed" || nok "says node.ip changed" "$(cat "$T/stderr")"

# ---- argument checks ----
KUBELET_TEST_PORT=$port run args >"$T/args.out"
for want in "listen-port0 -4" "listen-port70000 -4" "listen-flags -4" "accept-unopened -4" \
  "peer-unopened -4" "peer-badptr -3" "stats-badptr -3" "stats-two 2" "stats-none 0" \
  "plain-listen ok" "accept-nothing -1" "peer-on-listener -4" "listen-in-use -8" \
  "send-on-listener -4" "peer-on-client -4" "accept-on-client -4" "alpn-unopened -4" \
  "alpn-badptr -3" "alpn-on-listener -4"; do
  grep -qx "args $want" "$T/args.out" && ok "args: ${want% *} -> ${want##* }" ||
    nok "args: $want" "$(cat "$T/args.out" "$T/stderr")"
done
grep -q "cannot listen on 127.0.0.1:$port: Address already in use" "$T/stderr" &&
  ok "port in use: logged with the OS reason" || nok "port in use logged" "$(cat "$T/stderr")"

# ---- serving ----
port=$(free_port)
sign "$T/serving2.pem" -copy_extensions copy -set_serial 4242
"$BIN" "$T/node.conf" serve "$port" "$T/serving2.pem" >"$T/serve.out" 2>"$T/serve.log" &
SERVER=$!
for _ in $(seq 1 50); do grep -q '^listen' "$T/serve.out" && break; sleep 0.1; done
expect "TLS listener up" "listen 0" "$(head -1 "$T/serve.out")" "$(cat "$T/serve.log")"

out=$(client tls "$port" "$P/ca.pem" "$P/client.pem" "$P/client.key")
expect "(a) trusted client certificate: net_peer gives CN and O" "peer=system:node:pico-a|system:nodes" "$(head -1 <<<"$out")" "$(cat "$T/serve.log")"
expect "serving certificate presented (IP SAN verified by the client)" "fp=$(fp "$T/serving.pem")" "$(sed -n 2p <<<"$out")"
out=$(client tls "$port" "$P/ca.pem" "$P/apiserver.pem" "$P/apiserver.key")
expect "(a) every Organization, in order" "peer=kube-apiserver-kubelet-client|system:masters|k8s-extra" "$(head -1 <<<"$out")"
out=$(client tls "$port" "$P/ca.pem")
expect "(b) no client certificate: net_peer 0" "peer=" "$(head -1 <<<"$out")"
out=$(client tls "$port" "$P/ca.pem" "$P/intruder.pem" "$P/intruder.key")
expect "(c) client certificate from another CA: net_peer 0" "peer=" "$(head -1 <<<"$out")"
grep -q "sent no certificate" "$T/serve.log" && ok "logs the anonymous client (debug)" || nok "anonymous logged" "$(cat "$T/serve.log")"
grep -q "certificate did not verify: .*not correctly signed\|certificate did not verify: .*trusted" "$T/serve.log" &&
  ok "logs why the other CA's certificate gave no identity (debug)" || nok "did-not-verify logged" "$(cat "$T/serve.log")"
if grep -q '^peer [0-9]* -6 31 system:node:pico-a|system:nodes$' "$T/serve.out"; then
  ok "net_peer: E_TOOLARGE for a small buffer, then the length"
else
  nok "net_peer small buffer" "$(cat "$T/serve.out")"
fi

s=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$port" -CAfile "$P/ca.pem" -verify_return_error \
  -verify_ip 127.0.0.1 -cert "$P/client.pem" -key "$P/client.key" -ign_eof 2>&1)
grep -q "Verify return code: 0 (ok)" <<<"$s" && grep -q "peer=system:node:pico-a|system:nodes" <<<"$s" &&
  ok "openssl s_client -verify_return_error verifies the serving chain and gets the identity" ||
  nok "openssl s_client" "$s"
s=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$port" -CAfile "$P/other-ca.pem" -verify_return_error 2>&1)
grep -q "peer=" <<<"$s" && nok "a client trusting another CA must not get through" "$s" ||
  ok "a client trusting another CA rejects the serving certificate"

# (d) + (e): three clients that never speak fill the kubelet slots, a fourth is
# refused at once; the silent ones are closed at the handshake deadline.
flood=$(client flood "$port" 4)
expect "(e) the connection past SHIM_KUBELET_MAX_CONNS is closed first" "eof 3" "$(head -1 <<<"$flood")" "$flood"
expect "(d) every silent client closed by the host" "0" "$(grep -c '^open' <<<"$flood")" "$flood"
expect "(e) net_accept says E_NOMEM once" "1" "$(grep -c '^accept -5$' "$T/serve.out")" "$(cat "$T/serve.out")"
expect "(d) three handshakes timed out: EV_ERROR, E_TIMEOUT" "3" "$(grep -c '^error [0-9]* -12$' "$T/serve.out")" "$(cat "$T/serve.out")"
grep -q "refused 127.0.0.1:[0-9]* on port $port: all 3 kubelet connections are busy" "$T/serve.log" &&
  ok "refusal logged" || nok "refusal logged" "$(cat "$T/serve.log")"
grep -q "net: client 127.0.0.1:[0-9]*: TLS handshake not done within 1500 ms" "$T/serve.log" &&
  ok "handshake deadline logged" || nok "handshake deadline logged" "$(cat "$T/serve.log")"
out=$(client tls "$port" "$P/ca.pem" "$P/client.pem" "$P/client.key")
expect "(d) slots freed: the next client is served" "peer=system:node:pico-a|system:nodes" "$(head -1 <<<"$out")"

# A new serving certificate on the open listener.
kill -USR1 "$SERVER"
for _ in $(seq 1 50); do grep -q '^reinstall' "$T/serve.out" && break; sleep 0.1; done
expect "new serving certificate installed while listening" "reinstall 0" "$(grep '^reinstall' "$T/serve.out")" "$(cat "$T/serve.log")"
out=$(client tls "$port" "$P/ca.pem" "$P/client.pem" "$P/client.key")
expect "the next handshake presents it" "fp=$(fp "$T/serving2.pem")" "$(sed -n 2p <<<"$out")"
cmp -s "$T/serving2.pem" "$T/n1.state/serving.pem" && ok "and it is persisted" || nok "new certificate persisted"

# A second listener on the same port from another process.
r=$(run listen "$port" 1)
expect "port in use by the running listener: E_CONNECT" "listen -8 0" "$r" "$(cat "$T/stderr")"

kill -TERM "$SERVER"
wait "$SERVER"
SERVER=""
expect "net_peer right after every accept: E_AGAIN (handshake running)" \
  "$(grep -c '^accept [0-9]' "$T/serve.out")" "$(grep -c '^early [0-9]* -1$' "$T/serve.out")" "$(cat "$T/serve.out")"
read -r -a st <<<"$(grep '^stats' "$T/serve.out")"
# st[0]="stats", st[1]=count, then the values by SHIM_STAT_* index + 2.
expect "stats_read writes all 18 values" "18" "${st[1]:-}" "$(cat "$T/serve.out")"
v() { echo "${st[$(($1 + 2))]:-x}"; }
[ "$(v 0)" -gt 0 ] 2>/dev/null && ok "stats: uptime $(v 0) ms > 0" || nok "stats: uptime ($(v 0))"
[ "$(v 1)" -gt 0 ] 2>/dev/null && ok "stats: CPU $(v 1) us > 0" || nok "stats: CPU ($(v 1))"
[ "$(v 5)" -gt 0 ] 2>/dev/null && ok "stats: RSS $(v 5) bytes > 0" || nok "stats: RSS ($(v 5))"
[ "$(v 3)" -ge "$(v 2)" ] 2>/dev/null && [ "$(v 3)" -gt 0 ] && ok "stats: heap peak $(v 3) >= in use $(v 2)" ||
  nok "stats: heap ($(v 2) $(v 3))"
expect "stats: heap total unknown in the simulator" "-1" "$(v 4)"
expect "stats: accepted = accepts seen" "$(grep -c '^accept [0-9]' "$T/serve.out")" "$(v 14)"
expect "stats: refused" "1" "$(v 15)"
expect "stats: server handshakes ok = identities read" "$(grep -c '^peer ' "$T/serve.out")" "$(v 9)"
expect "stats: server handshakes failed (3 timeouts, 1 client that rejected us)" "4" "$(v 10)"
[ "$(v 11)" -ge 0 ] 2>/dev/null && ok "stats: server handshake time $(v 11) ms" || nok "stats: server handshake ms"
expect "stats: no client handshakes" "0 0" "$(v 6) $(v 7)"
[ "$(v 12)" -gt 0 ] && [ "$(v 13)" -gt 0 ] 2>/dev/null && ok "stats: bytes sent $(v 12), received $(v 13)" ||
  nok "stats: bytes"
expect "stats: RSSI and temperature unknown (INT64_MIN)" "-9223372036854775808 -9223372036854775808" "$(v 16) $(v 17)"

if ! cat "$T"/stderr "$T"/serve.log | grep -Fq "PRIVATE KEY"; then ok "no key material in the logs"; else nok "key material in a log"; fi
exit $fail
