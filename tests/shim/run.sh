#!/usr/bin/env bash
# Shim tests: builds what they need (build/shim-tests), then runs
#  - bad pointers from a module (fixtures/badptr.wat through the simulator)
#  - configuration store (config_test.c)
#  - core trap and failing init handling
#  - the TLS write contract when the send buffer is full (tls_write_test.c)
#  - TCP/TLS outcomes against real servers on 127.0.0.1 (tls_server.py,
#    certificates from gen_certs.sh), through net_probe.c and the simulator
#  - ALPN: what net_alpn reports against servers choosing h2, http/1.1 or
#    nothing, before the handshake, into a short buffer, after a failure;
#    with NET_HTTP1 the client offers http/1.1 only, never getting h2
#  - the kubelet endpoint's host side: serving identity, TLS listener,
#    client identity, deadlines, refusals, stats (kubelet.sh, real openssl
#    and Python TLS clients)
#  - the WAMR adapter's image splitter (wasm_image_test.c, on the host and on
#    an emulated Cortex-M0, tests/m0/run.sh; the real core split and compared
#    with Node's instantiation, wasm_image_check.mjs)
#  - the cortex-m0plus cross-compile check (cross-check.sh)
# Prints one "ok - ..." / "not ok - ..." line per check, then
# "shim: N passed, N failed"; exits non-zero on any failure.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/tests/shim
BUILD=$ROOT/build/shim-tests
BIN=$BUILD/tests/shim
pass=0
fail=0
pids=()
TMP=$(mktemp -d)

cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT

ok() { echo "ok - $1"; pass=$((pass + 1)); }
nok() { echo "not ok - $1"; fail=$((fail + 1)); [ $# -gt 1 ] && sed 's/^/#   /' "$2" | tail -n 20; return 0; }
# relay FILE [PREFIX]: counts FILE's "ok - ..." / "not ok - ..." lines, each
# reported with PREFIX in front.
relay() {
  local line
  while IFS= read -r line; do
    case "$line" in
      "ok - "*) ok "${2:-}${line#ok - }" ;;
      "not ok - "*) nok "${2:-}${line#not ok - }" ;;
    esac
  done <"$1"
}
finish() {
  echo "shim: $pass passed, $fail failed"
  [ "$fail" -eq 0 ]
  exit $?
}

# ---- build ----
if ! { cmake -S "$ROOT" -B "$BUILD" -DSHIM_BUILD_SIM=OFF -DSHIM_BUILD_TESTS=ON >"$TMP/build.log" 2>&1 &&
  cmake --build "$BUILD" -j2 >>"$TMP/build.log" 2>&1; }; then
  nok "build shim test programs" "$TMP/build.log"
  finish
fi
ok "build shim test programs (-Wall -Wextra -Werror)"

# ---- bad pointers ----
printf 'node.name = pico-a\n' >"$TMP/plain.conf"
timeout 10 "$BIN/sim-badptr" --config "$TMP/plain.conf" --max-polls 2 >"$TMP/badptr.out" 2>"$TMP/badptr.log"
rc=$?
if [ $rc -eq 0 ]; then ok "badptr: module ran, host survived, init returned 0"; else nok "badptr: exit $rc" "$TMP/badptr.log"; fi
for name in log config_get random_fill net_connect net_send net_recv net_close devmem_read devmem_commit \
  net_peer stats_read net_alpn; do
  if grep -q "badptr ok $name\$" "$TMP/badptr.log"; then
    ok "badptr: $name rejects out-of-range and overflowing (ptr, len) with E_BADPTR"
  else
    nok "badptr: $name" "$TMP/badptr.log"
  fi
done
if [ "$(grep -c 'log with a bad pointer' "$TMP/badptr.log")" -eq 3 ]; then
  ok "badptr: log with bad pointers is dropped with a warning"
else
  nok "badptr: log warnings" "$TMP/badptr.log"
fi

# ---- configuration store ----
mkdir -p "$TMP/cfg"
"$BIN/shim-config-test" "$TMP/cfg" >"$TMP/config.out" 2>&1
relay "$TMP/config.out"
grep -q '^ok - config: abi.version' "$TMP/config.out" || nok "config test ran to the end" "$TMP/config.out"

# ---- node identity (issue 6) ----
bash "$HERE/identity.sh" "$BIN/shim-identity-test" >"$TMP/identity.out" 2>&1
relay "$TMP/identity.out"
grep -q '^ok - identity: malformed CA hash refused' "$TMP/identity.out" ||
  nok "identity test ran to the end" "$TMP/identity.out"

# ---- the kubelet endpoint (issue 5) ----
bash "$HERE/kubelet.sh" "$BIN/shim-kubelet-test" >"$TMP/kubelet.out" 2>&1
relay "$TMP/kubelet.out"
grep -Eq '^(not )?ok - kubelet: .*key material' "$TMP/kubelet.out" ||
  nok "kubelet test ran to the end" "$TMP/kubelet.out"

# ---- core failures ----
timeout 10 "$BIN/sim-trap" --config "$TMP/plain.conf" >/dev/null 2>"$TMP/trap.log"
rc=$?
if [ $rc -eq 1 ] && grep -q 'E core trapped in poll: wasm trap' "$TMP/trap.log"; then
  ok "trap in poll: logged, exit 1"
else
  nok "trap in poll (exit $rc)" "$TMP/trap.log"
fi
timeout 10 "$BIN/sim-init_fail" --config "$TMP/plain.conf" >/dev/null 2>"$TMP/initfail.log"
rc=$?
if [ $rc -eq 1 ] && grep -q 'core init failed: -5' "$TMP/initfail.log"; then
  ok "init < 0: logged, exit 1"
else
  nok "init < 0 (exit $rc)" "$TMP/initfail.log"
fi
timeout 10 "$BIN/sim-trap" --config "$TMP/none.conf" >/dev/null 2>"$TMP/nocfg.log"
rc=$?
if [ $rc -eq 2 ] && grep -q 'cannot open' "$TMP/nocfg.log"; then
  ok "missing config file: exit 2 with the reason"
else
  nok "missing config file (exit $rc)" "$TMP/nocfg.log"
fi
printf 'node.name = a\nnot a line\n' >"$TMP/badline.conf"
timeout 10 "$BIN/sim-trap" --config "$TMP/badline.conf" >/dev/null 2>"$TMP/badline.log"
rc=$?
if [ $rc -eq 2 ] && grep -q 'line 2' "$TMP/badline.log"; then
  ok "bad config line: exit 2 naming the line"
else
  nok "bad config line (exit $rc)" "$TMP/badline.log"
fi

# ---- TLS / TCP against real servers on 127.0.0.1 ----
PKI=$TMP/pki
if ! bash "$HERE/gen_certs.sh" "$PKI" >"$TMP/pki.log" 2>&1; then
  nok "generate test certificates (openssl)" "$TMP/pki.log"
  finish
fi
# The TLS write contract over a full send buffer (tls_write_test.c): the
# system's Mbed TLS here, the device's below.
tls_write() { # BIN PREFIX
  "$1/shim-tls-write-test" "$PKI/ca.pem" "$PKI/server.pem" "$PKI/server.key" "$PKI/client.pem" \
    "$PKI/client.key" >"$TMP/tls_write.out" 2>&1
  local rc=$?
  relay "$TMP/tls_write.out" "$2"
  if [ $rc -ne 0 ] && ! grep -q '^not ok' "$TMP/tls_write.out"; then
    nok "${2}tls write: the test program failed ($rc)" "$TMP/tls_write.out"
  fi
}
tls_write "$BIN" ""
cat >"$TMP/tls.conf" <<CONF
node.name = pico-a
tls.ca_file = pki/ca.pem
tls.cert_file = pki/client.pem
tls.key_file = pki/client.key
CONF

# start_server NAME ARGS...: starts tls_server.py, sets $port (empty on failure)
start_server() {
  local name=$1
  shift
  rm -f "$TMP/$name.port" "$TMP/$name.report"
  timeout 30 python3 "$HERE/tls_server.py" --port-file "$TMP/$name.port" \
    --report "$TMP/$name.report" --max-seconds 15 "$@" 2>"$TMP/$name.server.log" &
  pids+=($!)
  port=""
  for _ in $(seq 1 50); do
    if [ -s "$TMP/$name.port" ]; then port=$(cat "$TMP/$name.port"); return 0; fi
    sleep 0.1
  done
}

# probe NAME HOST PORT FLAGS EXPECTED [LOG-REGEX]: runs net_probe, checks result
probe() {
  local name=$1 host=$2 p=$3 flags=$4 want=$5 pattern=${6:-}
  timeout 20 "$BIN/shim-net-probe" --config "$TMP/tls.conf" --host "$host" --port "$p" \
    --flags "$flags" >"$TMP/$name.out" 2>"$TMP/$name.log"
  cat "$TMP/$name.out" >>"$TMP/$name.log"
  local got
  got=$(sed -n 's/^result=\([A-Z_]*\).*/\1/p' "$TMP/$name.out")
  if [ "$got" != "$want" ]; then
    nok "net: $name -> $want (got ${got:-nothing})" "$TMP/$name.log"
  elif [ -n "$pattern" ] && ! grep -Eq "$pattern" "$TMP/$name.log"; then
    nok "net: $name -> $want, log says why (/$pattern/)" "$TMP/$name.log"
  else
    ok "net: $name -> $want${pattern:+ (log: /$pattern/)}"
  fi
}

S="$PKI"
start_server ok --mode echo --cert "$S/server.pem" --key "$S/server.key" --ca "$S/ca.pem"
probe "mutual TLS, client cert required by server" localhost "$port" 3 OK
wait "${pids[-1]}" 2>/dev/null
grep -q "handshake ok" "$TMP/ok.report" && ok "net: server saw the client certificate verified" ||
  nok "net: server-side handshake" "$TMP/ok.report"

start_server ipok --mode echo --cert "$S/server.pem" --key "$S/server.key" --ca "$S/ca.pem"
probe "mutual TLS to an IP literal listed as iPAddress SAN" 127.0.0.1 "$port" 3 OK

start_server ipbad --mode echo --cert "$S/wrongname.pem" --key "$S/wrongname.key"
probe "IP literal not in the certificate's SANs" 127.0.0.1 "$port" 3 E_CERT "certificate rejected: .*(CN|Common Name)"

start_server nocert --mode echo --cert "$S/server.pem" --key "$S/server.key" --ca "$S/ca.pem"
probe "no client cert offered, server requires one" localhost "$port" 1 E_TLS

start_server wrongca --mode echo --cert "$S/untrusted.pem" --key "$S/untrusted.key"
probe "server signed by an untrusted CA" localhost "$port" 3 E_CERT "certificate rejected: .*(not correctly signed|trusted CA)"

start_server expired --mode echo --cert "$S/expired.pem" --key "$S/expired.key"
probe "expired server certificate" localhost "$port" 3 E_CERT "certificate rejected: .*expired"

start_server wrongname --mode echo --cert "$S/wrongname.pem" --key "$S/wrongname.key"
probe "hostname mismatch" localhost "$port" 3 E_CERT "certificate rejected: .*(CN|Common Name)"

start_server cut --mode close
probe "server closes mid-handshake (documented: E_TLS)" 127.0.0.1 "$port" 1 E_TLS "handshake with .* failed"

start_server silent --mode silent
probe "server never answers the handshake (2 s deadline in the test build)" 127.0.0.1 "$port" 1 E_TIMEOUT "not done within"

refused=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
probe "connection refused" 127.0.0.1 "$refused" 1 E_CONNECT "cannot connect"

start_server plain --mode echo --plain
probe "plain TCP without TLS" 127.0.0.1 "$port" 0 OK

# probe_alpn NAME SERVER-ALPN CAP WANT-LINE [WANT-RESULT [SERVER-ARGS...]]: a
# server accepting SERVER-ALPN ("-": no ALPN) answers net_probe --alpn CAP;
# the "alpn first=... result=... proto=..." line must match WANT-LINE (an
# extended regex, whole line), the exchange end in WANT-RESULT (default OK;
# also an extended regex) and a TLS server report the protocol it chose
# ("None": none). The client connects with flags $ALPN_FLAGS (default 3,
# NET_TLS | NET_CLIENT_CERT; 7 adds NET_HTTP1).
probe_alpn() {
  local name=$1 offer=$2 cap=$3 want=$4 result=${5:-OK} f=alpn_${1//[^A-Za-z0-9]/_}
  shift $(($# < 5 ? $# : 5))
  local args=("$@") flags=${ALPN_FLAGS:-3}
  [ ${#args[@]} -eq 0 ] && args=(--cert "$S/server.pem" --key "$S/server.key" --ca "$S/ca.pem")
  [ "$offer" != "-" ] && args+=(--alpn "$offer")
  [[ " ${args[*]} " == *" --plain "* ]] && flags=0
  start_server "$f" --mode echo "${args[@]}"
  timeout 20 "$BIN/shim-net-probe" --config "$TMP/tls.conf" --host localhost --port "$port" \
    --flags "$flags" --alpn "$cap" >"$TMP/$f.out" 2>"$TMP/$f.log"
  cat "$TMP/$f.out" >>"$TMP/$f.log"
  local line got
  line=$(grep '^alpn ' "$TMP/$f.out")
  got=$(sed -n 's/^result=\([A-Z_]*\).*/\1/p' "$TMP/$f.out")
  if ! grep -Eqx "$want" <<<"$line"; then
    nok "alpn: $name: /$want/ (got '${line:-nothing}')" "$TMP/$f.log"
  elif ! grep -Eqx "$result" <<<"$got"; then
    nok "alpn: $name: then $result (got ${got:-nothing})" "$TMP/$f.log"
  else
    ok "alpn: $name: $line, then $got"
  fi
}
# alpn_chosen NAME WANT: what the Python server reported choosing.
alpn_chosen() {
  local f=alpn_${1//[^A-Za-z0-9]/_}
  wait "${pids[-1]}" 2>/dev/null
  if grep -qx "alpn $2" "$TMP/$f.report" 2>/dev/null; then
    ok "alpn: $1: the server's side agrees (selected $2)"
  else
    nok "alpn: $1: the server's side selected $2" "$TMP/$f.report"
  fi
}
# The handshake cannot be done when net_connect has just returned: the first
# answer is E_AGAIN, the next ones come from the finished handshake.
probe_alpn "server offers h2" h2 16 'alpn first=E_AGAIN result=2 proto=h2'
alpn_chosen "server offers h2" h2
probe_alpn "server offers http/1.1, 8-byte buffer" http/1.1 8 'alpn first=E_AGAIN result=8 proto=http/1.1'
alpn_chosen "server offers http/1.1, 8-byte buffer" http/1.1
probe_alpn "server prefers http/1.1 over h2" http/1.1,h2 16 'alpn first=E_AGAIN result=8 proto=http/1.1'
probe_alpn "server without ALPN" - 16 'alpn first=E_AGAIN result=0 proto='
alpn_chosen "server without ALPN" None
probe_alpn "buffer too small for h2" h2 1 'alpn first=E_AGAIN result=E_TOOLARGE proto='
probe_alpn "plain TCP" - 16 'alpn first=(E_AGAIN|0) result=0 proto=' OK --plain
probe_alpn "server signed by an untrusted CA" h2 16 'alpn first=E_AGAIN result=E_CERT proto=' E_CERT \
  --cert "$S/untrusted.pem" --key "$S/untrusted.key"
# NET_HTTP1 (4): the client offers http/1.1 alone, so a server that would
# take h2 cannot; without the flag the same server still picks h2.
alpn_http1_checks() { # PREFIX
  probe_alpn "${1}server offers h2,http/1.1" h2,http/1.1 16 'alpn first=E_AGAIN result=2 proto=h2'
  alpn_chosen "${1}server offers h2,http/1.1" h2
  ALPN_FLAGS=7 probe_alpn "${1}NET_HTTP1, server offers h2,http/1.1" h2,http/1.1 16 \
    'alpn first=E_AGAIN result=8 proto=http/1.1'
  alpn_chosen "${1}NET_HTTP1, server offers h2,http/1.1" http/1.1
  # Without a client certificate: the other configuration's twin.
  ALPN_FLAGS=5 probe_alpn "${1}NET_TLS|NET_HTTP1, server offers h2,http/1.1" h2,http/1.1 16 \
    'alpn first=E_AGAIN result=8 proto=http/1.1' OK --cert "$S/server.pem" --key "$S/server.key"
  alpn_chosen "${1}NET_TLS|NET_HTTP1, server offers h2,http/1.1" http/1.1
  # An h2-only server: no overlap. Python's ssl (OpenSSL's ALPN callback
  # answering SSL_TLSEXT_ERR_NOACK) goes on without a protocol; a server
  # that refused (no_application_protocol, RFC 7301 section 3.2) would make
  # it E_TLS. Never h2.
  ALPN_FLAGS=7 probe_alpn "${1}NET_HTTP1, server offers h2 only" h2 16 \
    'alpn first=E_AGAIN result=(0|E_TLS) proto=' '(OK|E_TLS)'
  alpn_outcome "${1}NET_HTTP1, server offers h2 only"
}
# alpn_outcome NAME: the server chose no protocol or refused the handshake.
alpn_outcome() {
  local f=alpn_${1//[^A-Za-z0-9]/_}
  wait "${pids[-1]}" 2>/dev/null
  if grep -qx -e "alpn None" -e "handshake failed.*" "$TMP/$f.report" 2>/dev/null; then
    ok "alpn: $1: the server's side: $(grep -m1 -E '^(alpn|handshake failed)' "$TMP/$f.report")"
  else
    nok "alpn: $1: the server's side chose none or refused" "$TMP/$f.report"
  fi
}
alpn_http1_checks ""
probe "NET_HTTP1 without NET_TLS refused" 127.0.0.1 1 4 E_INVAL
probe "unknown net_connect flag refused" 127.0.0.1 1 9 E_INVAL

# ---- the simulator end to end: loop, events, TLS, clean stop ----
start_server sim --mode echo --cert "$S/server.pem" --key "$S/server.key" --ca "$S/ca.pem"
cp "$TMP/tls.conf" "$TMP/sim.conf"
printf 'test.host = localhost\ntest.port = %s\nlog.level = 3\n' "$port" >>"$TMP/sim.conf"
"$BIN/sim-echo" --config "$TMP/sim.conf" --stats >"$TMP/sim.out" 2>"$TMP/sim.log" &
simpid=$!
pids+=($simpid)
for _ in $(seq 1 100); do
  grep -q 'echo: got pong' "$TMP/sim.log" && break
  sleep 0.1
done
if grep -q 'echo: got pong' "$TMP/sim.log"; then
  ok "sim: core connects (TLS + client cert), sends on WRITABLE, reads on READABLE"
else
  nok "sim: echo through the event loop" "$TMP/sim.log"
fi
kill -TERM "$simpid" 2>/dev/null
wait "$simpid"
rc=$?
if [ $rc -eq 0 ] && grep -q 'sim: stopped' "$TMP/sim.log"; then
  ok "sim: SIGTERM stops cleanly with exit 0"
else
  nok "sim: SIGTERM (exit $rc)" "$TMP/sim.log"
fi
for _ in $(seq 1 30); do [ -s "$TMP/sim.report" ] && grep -q 'close_notify\|eof' "$TMP/sim.report" && break; sleep 0.1; done
if grep -q '^close_notify' "$TMP/sim.report" 2>/dev/null; then
  ok "sim: connections closed with TLS close_notify on stop"
else
  nok "sim: close_notify on stop" "$TMP/sim.report"
fi
if grep -Eq '"tls_heap_peak_bytes":[1-9][0-9]*' "$TMP/sim.out" && grep -q '"handshakes_ok":1' "$TMP/sim.out"; then
  ok "sim: --stats prints a JSON line with peak TLS heap ($(grep -o '"tls_heap_peak_bytes":[0-9]*' "$TMP/sim.out" | cut -d: -f2) bytes)"
else
  nok "sim: --stats" "$TMP/sim.out"
fi

# ---- TLS material errors ----
sed 's#pki/client.key#pki/missing.key#' "$TMP/tls.conf" >"$TMP/nokey.conf"
timeout 10 "$BIN/sim-echo" --config "$TMP/nokey.conf" >/dev/null 2>"$TMP/nokey.log"
rc=$?
if [ $rc -eq 2 ] && grep -q 'cannot open key' "$TMP/nokey.log"; then
  ok "sim: missing key file -> exit 2 with a clear error"
else
  nok "sim: missing key file (exit $rc)" "$TMP/nokey.log"
fi
printf 'not a pem\n' >"$TMP/pki/garbage.pem"
sed 's#pki/ca.pem#pki/garbage.pem#' "$TMP/tls.conf" >"$TMP/badpem.conf"
timeout 10 "$BIN/sim-echo" --config "$TMP/badpem.conf" >/dev/null 2>"$TMP/badpem.log"
rc=$?
if [ $rc -eq 2 ] && grep -q 'not valid PEM' "$TMP/badpem.log"; then
  ok "sim: bad PEM CA bundle -> exit 2 with a clear error"
else
  nok "sim: bad PEM (exit $rc)" "$TMP/badpem.log"
fi
keyline=$(sed -n 2p "$PKI/client.key")
if ! cat "$TMP"/*.log | grep -Fq -e "PRIVATE KEY" -e "$keyline"; then
  ok "no key material in any log"
else
  nok "key material found in a log"
fi

# ---- the same fixtures under WAMR (only when WAMR_ROOT names its sources) ----
if [ -n "${WAMR_ROOT:-}" ]; then
  WB=$ROOT/build/shim-tests-wamr
  if cmake -S "$ROOT" -B "$WB" -DSHIM_BUILD_SIM=OFF -DWAMR_ROOT="$WAMR_ROOT" >"$TMP/wamr-build.log" 2>&1 &&
    cmake --build "$WB" -j2 >>"$TMP/wamr-build.log" 2>&1; then
    ok "wamr: build sim-wamr (classic interpreter, pool allocator)"
    W=$WB/tests/shim
    timeout 10 "$W/sim-wamr" --config "$TMP/plain.conf" --wasm "$W/badptr.wasm" --max-polls 2 >/dev/null 2>"$TMP/wbad.log"
    rc=$?
    if [ $rc -eq 0 ] && [ "$(grep -c 'badptr ok' "$TMP/wbad.log")" -eq 12 ] && grep -q 'wamr://' "$TMP/wbad.log"; then
      ok "wamr: every import rejects bad (ptr, len) with E_BADPTR"
    else
      nok "wamr: badptr (exit $rc)" "$TMP/wbad.log"
    fi
    timeout 10 "$W/sim-wamr" --config "$TMP/plain.conf" --wasm "$W/trap.wasm" >/dev/null 2>"$TMP/wtrap.log"
    rc=$?
    if [ $rc -eq 1 ] && grep -q 'core trapped in poll' "$TMP/wtrap.log"; then ok "wamr: trap logged, exit 1"; else nok "wamr: trap (exit $rc)" "$TMP/wtrap.log"; fi
    start_server wsim --mode echo --cert "$S/server.pem" --key "$S/server.key" --ca "$S/ca.pem"
    cp "$TMP/tls.conf" "$TMP/wsim.conf"
    printf 'test.host = 127.0.0.1\ntest.port = %s\n' "$port" >>"$TMP/wsim.conf"
    timeout 10 "$W/sim-wamr" --config "$TMP/wsim.conf" --wasm "$W/echo.wasm" --max-polls 30 >/dev/null 2>"$TMP/wsim.log"
    if grep -q 'echo: got pong' "$TMP/wsim.log"; then ok "wamr: TLS echo through the event loop"; else nok "wamr: echo" "$TMP/wsim.log"; fi
  else
    nok "wamr: build" "$TMP/wamr-build.log"
  fi
else
  echo "# SKIPPED (not counted): the WAMR checks need WAMR's sources; set WAMR_ROOT=<wasm-micro-runtime checkout> to run them"
fi

# ---- the TLS checks again with the device's Mbed TLS: 3.x built from
# MBEDTLS_SOURCE_DIR (or PICO_SDK_PATH/lib/mbedtls) with
# firmware-shim/port/pico/mbedtls_config.h ----
MBEDTLS_SRC=${MBEDTLS_SOURCE_DIR:-${PICO_SDK_PATH:+$PICO_SDK_PATH/lib/mbedtls}}
if [ -n "$MBEDTLS_SRC" ]; then
  DB=$ROOT/build/shim-tests-devtls
  if cmake -S "$ROOT" -B "$DB" -DSHIM_BUILD_SIM=OFF -DSHIM_BUILD_TESTS=ON -DMBEDTLS_SOURCE_DIR="$MBEDTLS_SRC" \
    >"$TMP/devtls-build.log" 2>&1 && cmake --build "$DB" -j2 >>"$TMP/devtls-build.log" 2>&1; then
    ok "devtls: build with Mbed TLS $(sed -n 's/.*Mbed TLS \([0-9.]*\) from source.*/\1/p' "$TMP/devtls-build.log" | head -1) from source, device config"
    BIN_SYSTEM=$BIN
    BIN=$DB/tests/shim
    tls_write "$BIN" "devtls "
    start_server dok --mode echo --cert "$S/server.pem" --key "$S/server.key" --ca "$S/ca.pem"
    probe "devtls mutual TLS" localhost "$port" 3 OK
    start_server dip --mode echo --cert "$S/server.pem" --key "$S/server.key" --ca "$S/ca.pem"
    probe "devtls mutual TLS to an IP literal SAN" 127.0.0.1 "$port" 3 OK
    start_server dnocert --mode echo --cert "$S/server.pem" --key "$S/server.key" --ca "$S/ca.pem"
    probe "devtls no client cert offered" localhost "$port" 1 E_TLS
    start_server dwrongca --mode echo --cert "$S/untrusted.pem" --key "$S/untrusted.key"
    probe "devtls untrusted CA" localhost "$port" 3 E_CERT "certificate rejected: .*(not correctly signed|trusted CA)"
    start_server dexpired --mode echo --cert "$S/expired.pem" --key "$S/expired.key"
    probe "devtls expired server certificate (dates checked)" localhost "$port" 3 E_CERT "certificate rejected: .*expired"
    start_server dwrongname --mode echo --cert "$S/wrongname.pem" --key "$S/wrongname.key"
    probe "devtls hostname mismatch" localhost "$port" 3 E_CERT "certificate rejected: .*(CN|Common Name)"
    start_server dsilent --mode silent
    probe "devtls handshake deadline" 127.0.0.1 "$port" 1 E_TIMEOUT "not done within"
    probe_alpn "devtls server offers h2" h2 16 'alpn first=E_AGAIN result=2 proto=h2'
    alpn_chosen "devtls server offers h2" h2
    probe_alpn "devtls server offers http/1.1" http/1.1 8 'alpn first=E_AGAIN result=8 proto=http/1.1'
    probe_alpn "devtls server without ALPN" - 16 'alpn first=E_AGAIN result=0 proto='
    probe_alpn "devtls buffer too small for h2" h2 1 'alpn first=E_AGAIN result=E_TOOLARGE proto='
    alpn_http1_checks "devtls "
    start_server dsim --mode echo --cert "$S/server.pem" --key "$S/server.key" --ca "$S/ca.pem"
    cp "$TMP/tls.conf" "$TMP/dsim.conf"
    printf 'test.host = localhost\ntest.port = %s\nlog.level = 3\n' "$port" >>"$TMP/dsim.conf"
    # Python's server (OpenSSL) sends two TLS 1.3 NewSessionTickets after the
    # handshake: the pong shows the client's reads skip them.
    timeout 10 "$BIN/sim-echo" --config "$TMP/dsim.conf" --stats --max-polls 30 >"$TMP/dsim.out" 2>"$TMP/dsim.log"
    if grep -q 'echo: got pong' "$TMP/dsim.log" && grep -Eq 'up, TLSv1\.3, TLS1-3-AES-(128|256)-GCM' "$TMP/dsim.log"; then
      ok "devtls: sim echo over $(grep -o 'TLSv1.3, TLS1-3-[A-Z0-9-]*' "$TMP/dsim.log" | head -1) (server offers 1.3)"
    else
      nok "devtls: sim echo, TLS 1.3 AES-GCM" "$TMP/dsim.log"
    fi
    # A server without TLS 1.3 still gets the TLS 1.2 handshake as before.
    start_server dsim12 --mode echo --cert "$S/server.pem" --key "$S/server.key" --ca "$S/ca.pem" --tls12
    cp "$TMP/tls.conf" "$TMP/dsim12.conf"
    printf 'test.host = localhost\ntest.port = %s\nlog.level = 3\n' "$port" >>"$TMP/dsim12.conf"
    timeout 10 "$BIN/sim-echo" --config "$TMP/dsim12.conf" --max-polls 30 >/dev/null 2>"$TMP/dsim12.log"
    wait "${pids[-1]}" 2>/dev/null
    if grep -q 'echo: got pong' "$TMP/dsim12.log" && grep -Eq 'up, TLSv1\.2, TLS-ECDHE-ECDSA-WITH-AES-(128|256)-GCM' "$TMP/dsim12.log" &&
      grep -qx 'version TLSv1.2' "$TMP/dsim12.report"; then
      ok "devtls: sim echo over $(grep -o 'TLSv1.2, TLS-[A-Z0-9-]*' "$TMP/dsim12.log" | head -1) (server offers 1.2 only)"
    else
      cat "$TMP/dsim12.report" >>"$TMP/dsim12.log" 2>/dev/null
      nok "devtls: sim echo, TLS 1.2-only server, ECDHE-ECDSA AES-GCM" "$TMP/dsim12.log"
    fi
    if grep -q '"tls_heap_counted":true' "$TMP/dsim.out" && grep -Eq '"tls_heap_peak_bytes":[1-9][0-9]*' "$TMP/dsim.out"; then
      ok "devtls: TLS heap counted through MBEDTLS_PLATFORM_MEMORY ($(grep -o '"tls_heap_peak_bytes":[0-9]*' "$TMP/dsim.out" | cut -d: -f2) bytes peak)"
    else
      nok "devtls: TLS heap counting" "$TMP/dsim.out"
    fi
    BIN=$BIN_SYSTEM
  else
    nok "devtls: build with MBEDTLS_SOURCE_DIR=$MBEDTLS_SRC" "$TMP/devtls-build.log"
  fi
  # The kubelet endpoint on the device's Mbed TLS configuration (it has the
  # TLS server, MBEDTLS_SSL_SRV_C).
  SB=$ROOT/build/shim-tests-devtls-srv
  if cmake -S "$ROOT" -B "$SB" -DSHIM_BUILD_SIM=OFF -DSHIM_BUILD_TESTS=ON -DMBEDTLS_SOURCE_DIR="$MBEDTLS_SRC" \
    >"$TMP/devsrv-build.log" 2>&1 &&
    cmake --build "$SB" -j2 --target shim-kubelet-test >>"$TMP/devsrv-build.log" 2>&1; then
    bash "$HERE/kubelet.sh" "$SB/tests/shim/shim-kubelet-test" >"$TMP/devsrv.out" 2>&1
    relay "$TMP/devsrv.out" "devtls "
    grep -Eq '^(not )?ok - kubelet: .*key material' "$TMP/devsrv.out" ||
      nok "devtls kubelet test ran to the end" "$TMP/devsrv.out"
  else
    nok "devtls: build the kubelet test with MBEDTLS_SSL_SRV_C" "$TMP/devsrv-build.log"
  fi
else
  echo "# SKIPPED (not counted): the device-Mbed-TLS checks need MBEDTLS_SOURCE_DIR=<Mbed TLS 3.x tree> or PICO_SDK_PATH"
fi

# ---- the WAMR adapter's image splitter ----
"$BIN/shim-wasm-image-test" >"$TMP/wasm_image.out" 2>&1
rc=$?
relay "$TMP/wasm_image.out"
[ $rc -eq 0 ] || nok "wasm_image test exited $rc" "$TMP/wasm_image.out"
# The same checks built for the RP2040's CPU and run on an emulated Cortex-M0
# (tests/m0/run.sh: ARMv6-M, unaligned accesses fault).
bash "$ROOT/tests/m0/run.sh" "$TMP/wasm_image_m0.elf" -Os -std=c99 -Wall -Wextra -Werror \
  -I"$ROOT/firmware-shim/include" -I"$ROOT/firmware-shim" "$HERE/wasm_image_test.c" \
  "$ROOT/firmware-shim/runtime/wamr/wasm_image.c" >"$TMP/wasm_image_m0.out" 2>&1
rc=$?
relay "$TMP/wasm_image_m0.out" "cortex-m0 (QEMU): "
[ $rc -eq 0 ] || nok "cortex-m0 (QEMU): wasm_image test exited $rc" "$TMP/wasm_image_m0.out"
# The real core, split, against what Node's engine makes of the whole module.
if [ -f "$ROOT/build/core.wasm" ]; then
  if "$BIN/shim-wasm-image-test" "$ROOT/build/core.wasm" "$TMP/core-copy.wasm" "$TMP/core.mem" 65536 \
    >"$TMP/core-split.log" 2>&1; then
    ok "wasm_image: build/core.wasm split ($(cat "$TMP/core-split.log"))"
    node "$HERE/wasm_image_check.mjs" "$ROOT/build/core.wasm" "$TMP/core-copy.wasm" "$TMP/core.mem" \
      >"$TMP/core-check.out" 2>&1
    relay "$TMP/core-check.out"
    grep -q '^ok - wasm_image: nothing beyond' "$TMP/core-check.out" || nok "core split check ran to the end" "$TMP/core-check.out"
  else
    nok "wasm_image: build/core.wasm could not be split" "$TMP/core-split.log"
  fi
else
  nok "wasm_image: build/core.wasm missing (npm run build:wasm)"
fi

# ---- cortex-m0plus cross-compile ----
if bash "$HERE/cross-check.sh" >"$TMP/cross.log" 2>&1; then
  ok "cross-compile shared shim for cortex-m0plus (-Wall -Wextra -Werror)"
else
  nok "cross-compile for cortex-m0plus" "$TMP/cross.log"
fi

finish
