#!/usr/bin/env bash
# End-to-end checks of the control plane. Starts its OWN cluster in a separate
# directory (default <checkout>/.cluster/test, port 16443, node grace 15s,
# k3s' agent tunnel on port + 4000) so a developer's cluster in .cluster/ is
# never touched, and wipes it at the end; the restart at the end runs it
# without the tunnel.
# Prints one "ok - name" / "not ok - name" line per check and, last,
# "cluster: N passed, N failed"; exits non-zero if anything failed.
#
# Environment: PICO_TEST_CLUSTER_DIR, PICO_TEST_CLUSTER_PORT,
# PICO_TEST_AGENT_TUNNEL_PORT, PICO_TEST_NODE_GRACE, PICO_TEST_KEEP=1 (leave
# the test cluster running).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export PICO_CLUSTER_DIR="${PICO_TEST_CLUSTER_DIR:-$ROOT/.cluster/test}"
export PICO_CLUSTER_PORT="${PICO_TEST_CLUSTER_PORT:-16443}"
export PICO_CLUSTER_NODE_GRACE="${PICO_TEST_NODE_GRACE:-15s}"
export PICO_CLUSTER_AGENT_TUNNEL_PORT="${PICO_TEST_AGENT_TUNNEL_PORT:-$((PICO_CLUSTER_PORT + 4000))}"
export PICO_CLUSTER_SH="$HERE/cluster.sh"
export PICO_K8S_VERSION="$(head -n 1 "$HERE/VERSION" | tr -d ' \r')"
CL="$HERE/cluster.sh"
K() { "$CL" kubectl "$@"; }

PASS=0 FAIL=0
ok()     { echo "ok - $1"; PASS=$((PASS + 1)); }
not_ok() { echo "not ok - $1"; FAIL=$((FAIL + 1)); [[ $# -gt 1 ]] && printf '%s\n' "$2" | sed 's/^/#   /'; }
check()  { local name="$1"; shift; local out; if out="$("$@" 2>&1)"; then ok "$name"; else not_ok "$name" "$out"; fi; }
finish() {
  if [[ "${PICO_TEST_KEEP:-0}" != 1 ]]; then "$CL" reset >/dev/null 2>&1 || true; fi
  echo "cluster: $PASS passed, $FAIL failed"
  [[ $FAIL -eq 0 ]]
  exit
}
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", b - a}'; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null; }
pid() { tr -dc 0-9 < "$PICO_CLUSTER_DIR/cluster.pid" 2>/dev/null; }

echo "# cluster dir $PICO_CLUSTER_DIR, port $PICO_CLUSTER_PORT, agent tunnel $PICO_CLUSTER_AGENT_TUNNEL_PORT, node grace $PICO_CLUSTER_NODE_GRACE, kubernetes $PICO_K8S_VERSION"

# --- build and start -------------------------------------------------------------
t0=$EPOCHREALTIME
if out="$("$CL" build 2>&1)"; then ok "build"; else not_ok "build" "$out"; finish; fi
echo "# build (or up-to-date check): $(since "$t0")s"
"$CL" reset >/dev/null 2>&1
t0=$EPOCHREALTIME
if out="$("$CL" up 2>&1)"; then ok "up (fresh data dir)"; else not_ok "up (fresh data dir)" "$out"; finish; fi
echo "# start to ready: $(since "$t0")s, RSS $(( $(rss_kb "$(pid)") / 1024 )) MiB"

# --- checks in the shell -------------------------------------------------------------
check "readyz ok" bash -c '[[ "$("$0" kubectl get --raw /readyz)" == ok ]]' "$CL"
check "kubectl get --raw /version reports $PICO_K8S_VERSION" \
  bash -c '"$0" kubectl get --raw /version | grep -q "\"gitVersion\": *\"$1\""' "$CL" "$PICO_K8S_VERSION"
check "kubectl client is $PICO_K8S_VERSION" \
  bash -c '"$0" kubectl version --client -o json | grep -q "\"gitVersion\": *\"$1\""' "$CL" "$PICO_K8S_VERSION"
check "admin kubeconfig and server-ca.crt written" \
  bash -c 'test -s "$0/admin.kubeconfig" && openssl verify -CAfile "$0/server-ca.crt" "$0/data/tls/serving-kube-apiserver.crt" >/dev/null' "$PICO_CLUSTER_DIR"
check "CAs are EC P-256" bash -c 'for c in client-ca server-ca request-header-ca; do
    openssl x509 -in "$0/data/tls/$c.crt" -noout -text | grep -q "NIST CURVE: P-256" || { echo "$c"; exit 1; }; done' "$PICO_CLUSTER_DIR"
check "bootstrap RBAC applied" K get clusterrolebinding k3s-pico-node:kubelet-bootstrap k3s-pico-node:node-autoapprove-bootstrap \
  k3s-pico-node:node-autoapprove-certificate-rotation pico:kube-apiserver-kubelet-api-admin
check "apiserver kubelet client is least-privileged (may proxy to nodes, may not read secrets)" bash -c '
  [[ "$("$0" kubectl auth can-i get nodes --subresource=proxy --as=system:kube-apiserver)" == yes ]] &&
  [[ "$("$0" kubectl auth can-i get nodes --subresource=metrics --as=system:kube-apiserver)" == yes ]] &&
  [[ "$("$0" kubectl auth can-i get secrets -A --as=system:kube-apiserver)" == no ]]' "$CL"
check "issue-node-cert writes an EC P-256 system:node cert from the client CA" bash -c '
  d=$(mktemp -d); trap "rm -rf $d" EXIT
  "$0" issue-node-cert pico-x "$d" 24h >/dev/null &&
  openssl verify -CAfile "$1/data/tls/client-ca.crt" "$d/pico-x.crt" >/dev/null &&
  openssl x509 -in "$d/pico-x.crt" -noout -subject | grep -q "O *= *system:nodes, CN *= *system:node:pico-x" &&
  openssl pkey -in "$d/pico-x.key" -noout -text | grep -q "NIST CURVE: P-256"' "$CL" "$PICO_CLUSTER_DIR"
check "up on a port in use fails fast, naming the port" bash -c '
  out=$(PICO_CLUSTER_DIR="$1/../test-port-clash" PICO_CLUSTER_START_TIMEOUT=20 "$0" up 2>&1); rc=$?
  rm -rf "$1/../test-port-clash"; [[ $rc -ne 0 ]] && grep -q "port $2" <<<"$out" || { echo "rc=$rc $out"; exit 1; }' \
  "$CL" "$PICO_CLUSTER_DIR" "$PICO_CLUSTER_PORT"
check "up on a running cluster is a no-op" "$CL" up
check "agent tunnel serves the API server's certificate (server CA, 127.0.0.1) and is the API server's egress" bash -c '
  out=$(openssl s_client -connect "127.0.0.1:$2" -CAfile "$0/server-ca.crt" -verify_ip 127.0.0.1 -verify_return_error </dev/null 2>&1) &&
    grep -q "Verify return code: 0 (ok)" <<<"$out" || { echo "$out" | tail -5; exit 1; }
  grep -q "\"proxyProtocol\": \"HTTPConnect\"" "$0/data/etc/egress-selector-config.yaml" &&
  grep -q "\"url\": \"https://127.0.0.1:$2\"" "$0/data/etc/egress-selector-config.yaml" &&
  tr "\0" " " < "/proc/$1/cmdline" | grep -q -- "--agent-tunnel-port $2" || { echo "no egress selector or flag"; exit 1; }' \
  "$PICO_CLUSTER_DIR" "$(pid)" "$PICO_CLUSTER_AGENT_TUNNEL_PORT"

# --- Go tests against the running cluster --------------------------------------------
echo "# go test ./e2e"
gotest_out="$(cd "$HERE" && go test ./e2e -count=1 -v -timeout 15m 2>&1)"
gotest_rc=$?
while read -r verdict name; do
  [[ "$verdict" == PASS ]] && ok "$name" || not_ok "$name" "$(sed -n "/^=== RUN   $name\$/,/^--- FAIL: $name /p" <<<"$gotest_out" | head -40)"
done < <(sed -nE 's/^--- (PASS|FAIL): (Test[A-Za-z0-9_]+).*/\1 \2/p' <<<"$gotest_out")
if [[ $gotest_rc -ne 0 ]] && ! grep -q -- "--- FAIL" <<<"$gotest_out"; then not_ok "go test ./e2e" "$(tail -30 <<<"$gotest_out")"; fi
grep -E '^\s+e2e_test.go:[0-9]+: (Ready=Unknown)' <<<"$gotest_out" | sed 's/^ */# /'
echo "# RSS after tests: $(( $(rss_kb "$(pid)") / 1024 )) MiB"

# --- metrics-server (a local process serving metrics.k8s.io) ----------------------------
MS_PIDFILE="$PICO_CLUSTER_DIR/metrics-server.pid"
ms_pid() { tr -dc 0-9 < "$MS_PIDFILE" 2>/dev/null; }
t0=$EPOCHREALTIME
check "metrics-server up (waits for APIService v1beta1.metrics.k8s.io Available)" "$CL" metrics-server up
echo "# metrics-server start to Available: $(since "$t0")s"
check "APIService v1beta1.metrics.k8s.io Available=True, caBundle = server CA, no insecureSkipTLSVerify" bash -c '
  s=$("$0" kubectl get apiservice v1beta1.metrics.k8s.io -o jsonpath="{.status.conditions[?(@.type==\"Available\")].status}|{.spec.insecureSkipTLSVerify}|{.spec.caBundle}") || exit 1
  [[ "$s" == "True||$(base64 -w0 < "$1/server-ca.crt")" ]] || { echo "got: ${s:0:80}..."; exit 1; }' "$CL" "$PICO_CLUSTER_DIR"
check "GET /apis/metrics.k8s.io/v1beta1/nodes answers 200 with a NodeMetricsList" bash -c '
  out=$("$0" kubectl get --raw /apis/metrics.k8s.io/v1beta1/nodes -v=6 2>&1) || { echo "$out" | tail -5; exit 1; }
  grep -q "url=\"https://[^\"]*/apis/metrics.k8s.io/v1beta1/nodes\" status=\"200 OK\"" <<<"$out" &&
  grep -q "\"kind\":\"NodeMetricsList\"" <<<"$out" || { echo "$out" | tail -5; exit 1; }' "$CL"
check "metrics-server has its own least-privileged identity (client CA, CN=system:metrics-server)" bash -c '
  openssl verify -CAfile "$1/data/tls/client-ca.crt" "$1/metrics-server/client.crt" >/dev/null &&
  openssl x509 -in "$1/metrics-server/client.crt" -noout -subject | grep -q "^subject *= *CN *= *system:metrics-server$" || exit 1
  # (a subresource needs --subresource: "nodes/x" names a node called x)
  can() { "$0" kubectl auth can-i "$@" --as=system:metrics-server 2>/dev/null; }
  [[ "$(can get nodes --subresource=metrics)" == yes && "$(can list pods -A)" == yes && "$(can watch nodes)" == yes &&
     "$(can get configmap/extension-apiserver-authentication -n kube-system)" == yes ]] || { echo "missing a grant"; exit 1; }
  [[ "$(can get secrets -A)" == no && "$(can get nodes --subresource=proxy)" == no && "$(can update nodes)" == no &&
     "$(can get configmap/other -n kube-system)" == no ]] || { echo "too many grants"; exit 1; }' \
  "$CL" "$PICO_CLUSTER_DIR"
check "metrics-server verifies kubelets with the server CA (no --kubelet-insecure-tls), InternalIP, node status port" bash -c '
  c=$(tr "\0" " " < "/proc/$0/cmdline") || exit 1
  for f in "--kubelet-certificate-authority=$1/server-ca.crt " "--kubelet-preferred-address-types=InternalIP " "--kubelet-use-node-status-port "; do
    [[ "$c" == *"$f"* ]] || { echo "missing $f in: $c"; exit 1; }; done
  [[ "$c" != *insecure* ]] || { echo "insecure flag in: $c"; exit 1; }' "$(ms_pid)" "$PICO_CLUSTER_DIR"
ms_old="$(ms_pid)"
check "metrics-server down stops the process and deregisters v1beta1.metrics.k8s.io" bash -c '
  "$0" metrics-server down >/dev/null 2>&1 || { echo "down failed"; exit 1; }
  [[ -n "$1" ]] && ! kill -0 "$1" 2>/dev/null && ! test -e "$2" || { echo "process $1 or pid file left"; exit 1; }
  "$0" kubectl get apiservice v1beta1.metrics.k8s.io 2>&1 | grep -q NotFound' "$CL" "$ms_old" "$MS_PIDFILE"
check "metrics-server up again (for the cluster down below)" "$CL" metrics-server up
ms_old="$(ms_pid)"

# --- restart keeps data and CAs --------------------------------------------------------
K delete configmap pico-restart -n default --ignore-not-found >/dev/null 2>&1
check "create ConfigMap before restart" K create configmap pico-restart -n default --from-literal=k=v1
ca_before="$(openssl x509 -in "$PICO_CLUSTER_DIR/data/tls/client-ca.crt" -noout -fingerprint -sha256)"
sca_before="$(openssl x509 -in "$PICO_CLUSTER_DIR/server-ca.crt" -noout -fingerprint -sha256)"
oldpid="$(pid)"
check "down stops the process" bash -c '"$0" down >/dev/null 2>&1 && ! kill -0 "$1" 2>/dev/null && ! test -e "$2/cluster.pid"' "$CL" "$oldpid" "$PICO_CLUSTER_DIR"
check "SIGTERM shutdown is clean (exit 0)" grep -q "shutdown complete, exit 0" "$PICO_CLUSTER_DIR/cluster.log"
check "cluster down stops metrics-server too" bash -c '[[ -n "$0" ]] && ! kill -0 "$0" 2>/dev/null && ! test -e "$1"' "$ms_old" "$MS_PIDFILE"
echo 999999 > "$PICO_CLUSTER_DIR/cluster.pid"   # a stale pid file must not block up
t0=$EPOCHREALTIME
if out="$(PICO_CLUSTER_AGENT_TUNNEL_PORT=0 "$CL" up 2>&1)"; then ok "up again without the agent tunnel (existing data, stale pid file)"
else not_ok "up again without the agent tunnel (existing data, stale pid file)" "$out"; finish; fi
echo "# restart to ready: $(since "$t0")s"
check "cluster down deregistered metrics.k8s.io (no APIService left after restart)" bash -c '
  "$0" kubectl get apiservice v1beta1.metrics.k8s.io 2>&1 | grep -q NotFound' "$CL"
check "without the agent tunnel: nothing listens on its port, no --agent-tunnel-port" bash -c '
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && ! tr "\0" " " < "/proc/$0/cmdline" | grep -q -- --agent-tunnel-port' \
  "$(pid)" "$PICO_CLUSTER_AGENT_TUNNEL_PORT"
check "ConfigMap survives restart" bash -c '[[ "$("$0" kubectl get configmap pico-restart -n default -o jsonpath={.data.k})" == v1 ]]' "$CL"
check "same client CA and server CA after restart" bash -c '
  [[ "$(openssl x509 -in "$0/data/tls/client-ca.crt" -noout -fingerprint -sha256)" == "$1" ]] &&
  [[ "$(openssl x509 -in "$0/server-ca.crt" -noout -fingerprint -sha256)" == "$2" ]]' "$PICO_CLUSTER_DIR" "$ca_before" "$sca_before"
K delete configmap pico-restart -n default --ignore-not-found >/dev/null 2>&1

finish
