#!/usr/bin/env bash
# A k3s-like Kubernetes control plane for the tests: upstream kube-apiserver,
# kube-controller-manager and kube-scheduler (version in ./VERSION) on kine +
# SQLite, in one process built from this folder's Go module.
#
#   cluster.sh up                  build if needed, start, wait for /readyz
#   cluster.sh down                stop (SIGTERM, SIGKILL after a timeout); keeps data
#   cluster.sh reset               down + wipe the data (CAs, database)
#   cluster.sh status              running or not
#   cluster.sh build               build only
#   cluster.sh kubectl ARGS...     kubectl of the same version, as cluster-admin
#   cluster.sh issue-node-cert NAME OUTDIR [DURATION|--expired]
#                                  node client cert (CN=system:node:NAME) from the client CA
#   cluster.sh issue-cert ARGS...  pico-cluster issue-cert (client cert from the client CA or
#                                  serving cert from the server CA; see `pico-cluster` usage)
#   cluster.sh metrics-server up|down|status
#                                  metrics-server (version in ./VERSION) as a local process
#                                  next to a running cluster, serving metrics.k8s.io
#                                  (`kubectl top node`); `down` of the cluster stops it too
#
# Environment:
#   PICO_CLUSTER_DIR               cluster directory (default <checkout>/.cluster)
#   PICO_CLUSTER_BIN_DIR           binaries (default <checkout>/.cluster/bin, shared by all dirs)
#   PICO_CLUSTER_PORT              API server port (default 6443)
#   PICO_CLUSTER_AGENT_TUNNEL_PORT k3s' agent tunnel (wss://127.0.0.1:PORT/v1-k3s/connect) on this
#                                  port, the API server's only way to kubelets, as on k3s
#                                  (default 0: no tunnel, kubelets dialed directly)
#   PICO_CLUSTER_EXTRA_ADDRESS     one more address of this machine where the API server is
#                                  served (relayed to 127.0.0.1) and which its certificate
#                                  names: the hosted board's gateway (default: none)
#   PICO_CLUSTER_SIGNING_DURATION  CSR signing duration (default 8760h)
#   PICO_CLUSTER_NODE_GRACE        node-monitor-grace-period (default 50s)
#   PICO_CLUSTER_START_TIMEOUT     seconds `up` waits for /readyz (default 180)
#   PICO_CLUSTER_STOP_TIMEOUT      seconds `down` waits before SIGKILL (default 90)
#   PICO_METRICS_SERVER_PORT       metrics-server's port (default PICO_CLUSTER_PORT + 3000)
#   PICO_METRICS_SERVER_START_TIMEOUT
#                                  seconds `metrics-server up` waits for Available (default 90)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
DIR="${PICO_CLUSTER_DIR:-$ROOT/.cluster}"
BIN_DIR="${PICO_CLUSTER_BIN_DIR:-$ROOT/.cluster/bin}"
PORT="${PICO_CLUSTER_PORT:-6443}"
TUNNEL_PORT="${PICO_CLUSTER_AGENT_TUNNEL_PORT:-0}"
START_TIMEOUT="${PICO_CLUSTER_START_TIMEOUT:-180}"
STOP_TIMEOUT="${PICO_CLUSTER_STOP_TIMEOUT:-90}"
SERVER="$BIN_DIR/pico-cluster"
KUBECTL="$BIN_DIR/kubectl"
PIDFILE="$DIR/cluster.pid"
LOG="$DIR/cluster.log"
KUBECONFIG_PATH="$DIR/admin.kubeconfig"
METRICS_SERVER="$BIN_DIR/metrics-server"

die() { echo "cluster.sh: $*" >&2; exit 1; }
log() { echo "cluster.sh: $*" >&2; }

case "$PORT" in ''|*[!0-9]*) die "PICO_CLUSTER_PORT=$PORT is not a port number";; esac
case "$TUNNEL_PORT" in ''|*[!0-9]*) die "PICO_CLUSTER_AGENT_TUNNEL_PORT=$TUNNEL_PORT is not a port number (0: no tunnel)";; esac
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"

# --- build -------------------------------------------------------------------

# VERSION: the Kubernetes version on the first line, then a line
# "metrics-server vX.Y.Z".
k8s_version() {
  local v
  v="$(head -n 1 "$HERE/VERSION" | tr -d ' \r')"
  [[ "$v" =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || die "VERSION holds '$v', expected v1.MINOR.PATCH"
  # go.mod must agree with VERSION (k8s.io/kubernetes and every staging replace).
  grep -q "k8s.io/kubernetes $v\$" "$HERE/go.mod" ||
    die "go.mod does not require k8s.io/kubernetes $v (VERSION); update both together"
  local staging="v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"
  if grep -E '^\s+k8s.io/[a-z-]+ => k8s.io/[a-z-]+ ' "$HERE/go.mod" | grep -v " $staging\$" | grep -q .; then
    die "go.mod has staging replaces not at $staging (VERSION $v)"
  fi
  echo "$v"
}

metrics_server_version() {
  local v
  v="$(awk '$1 == "metrics-server" {print $2}' "$HERE/VERSION")"
  [[ "$v" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "VERSION has no line 'metrics-server vX.Y.Z' (got '$v')"
  echo "$v"
}

# stale TARGET FIND-ARGS...: true if TARGET is missing or older than a matching file.
stale() {
  local target="$1"; shift
  [[ -x "$target" ]] || return 0
  [[ -n "$(find "$HERE" -maxdepth 2 \( "$@" \) -newer "$target" -print -quit)" ]]
}
# VERSION is not among the inputs: k8s_version makes go.mod agree with it, and
# its metrics-server line concerns only that binary.
server_stale()  { stale "$SERVER" -name '*.go' ! -name '*_test.go' -o -name '*.yaml' ! -name 'metrics-server*' -o -name go.mod -o -name go.sum; }
kubectl_stale() { stale "$KUBECTL" -name go.mod -o -name go.sum; }
# metrics-server is its own program (its module at the pinned version, not a
# dependency of this one); the binary records that version, which
# `go version -m` reads back.
metrics_server_stale() {
  [[ -x "$METRICS_SERVER" ]] || return 0
  [[ "$(go version -m "$METRICS_SERVER" 2>/dev/null | awk '$1 == "mod" {print $3; exit}')" != "$MS_VERSION" ]]
}
needs_build() { server_stale || kubectl_stale || metrics_server_stale; }

build() {
  command -v go >/dev/null 2>&1 || die "Go is not installed (or not on PATH); it is needed to build the control plane (Go >= 1.26)"
  local gov need
  gov="$(GOTOOLCHAIN=local go env GOVERSION 2>/dev/null || true)"; gov="${gov#go}"
  need="$(awk '$1 == "go" {print $2; exit}' "$HERE/go.mod")"
  [[ -n "$gov" && "$(printf '%s\n%s\n' "$need" "$gov" | sort -V | head -1)" == "$need" ]] ||
    die "Go '${gov:-?}' is too old: go.mod (Kubernetes $(k8s_version), kine) needs Go >= $need"
  local v minor
  v="$(k8s_version)"
  minor="${v#v1.}"; minor="${minor%%.*}"
  MS_VERSION="$(metrics_server_version)"
  needs_build || return 0
  mkdir -p "$BIN_DIR"
  exec 9>"$BIN_DIR/.build.lock"
  flock 9   # one build at a time; a concurrent caller waits, then finds it up to date
  needs_build || { flock -u 9; exec 9>&-; return 0; }
  local x ldflags=""
  for x in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $x.gitVersion=$v -X $x.gitMajor=1 -X $x.gitMinor=$minor -X $x.gitTreeState=clean"
    ldflags+=" -X $x.gitCommit=0000000000000000000000000000000000000000 -X $x.buildDate=1970-01-01T00:00:00Z"
  done
  local t0=$SECONDS
  if server_stale || kubectl_stale; then log "building control plane (kubernetes $v) into $BIN_DIR ..."; fi
  if server_stale; then
    # CGO for kine's SQLite driver (mattn/go-sqlite3, as k3s builds it).
    ( cd "$HERE" && CGO_ENABLED=1 go build -buildvcs=false -ldflags "-s -w $ldflags" -o "$SERVER.tmp" . ) ||
      die "go build of the control plane failed"
    mv "$SERVER.tmp" "$SERVER"
  fi
  if kubectl_stale; then
    ( cd "$HERE" && CGO_ENABLED=0 go build -buildvcs=false -ldflags "-s -w $ldflags" -o "$KUBECTL.tmp" k8s.io/kubernetes/cmd/kubectl ) ||
      die "go build of kubectl failed"
    mv "$KUBECTL.tmp" "$KUBECTL"
  fi
  if metrics_server_stale; then
    # As upstream's Makefile builds it: no cgo, version stamped into client-go.
    # `go install PKG@VERSION` builds with metrics-server's own go.mod.
    log "building metrics-server $MS_VERSION into $BIN_DIR ..."
    local t1=$SECONDS
    ( cd "$BIN_DIR" && GOBIN="$BIN_DIR" CGO_ENABLED=0 go install -buildvcs=false \
        -ldflags "-s -w -X k8s.io/client-go/pkg/version.gitVersion=$MS_VERSION" \
        "sigs.k8s.io/metrics-server/cmd/metrics-server@$MS_VERSION" ) ||
      die "go install of metrics-server $MS_VERSION failed"
    log "metrics-server built in $((SECONDS - t1))s"
  fi
  log "built in $((SECONDS - t0))s"
  flock -u 9; exec 9>&-
}

# --- process handling -----------------------------------------------------------

# running_pid prints the pid of this directory's control plane, if alive.
running_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid
  pid="$(tr -dc '0-9' < "$PIDFILE")"
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against pid reuse: it must be our binary serving this directory.
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "pico-cluster serve --dir $DIR " || return 1
  echo "$pid"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

readyz() { "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" --request-timeout=5s get --raw /readyz 2>/dev/null | grep -qx ok; }

# log_tail [N] [FILE]: the last N lines of FILE (the control plane's log).
log_tail() {
  local f="${2:-$LOG}"
  echo "---- last lines of $f ----" >&2
  tail -n "${1:-40}" "$f" >&2 || true
  echo "----" >&2
}

# stop_pid PID [WHAT]: SIGTERM, SIGKILL after STOP_TIMEOUT seconds.
stop_pid() {
  local pid="$1" what="${2:-control plane}" i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  log "$what (pid $pid) did not stop within ${STOP_TIMEOUT}s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  die "could not kill pid $pid"
}

cmd_down() {
  local pid
  # metrics-server first, while the API server can still deregister it.
  if [[ -f "$MS_PIDFILE" ]]; then ms_down; fi
  if pid="$(running_pid)"; then
    log "stopping control plane (pid $pid)"
    stop_pid "$pid"
  elif [[ -f "$PIDFILE" ]]; then
    log "removing stale pid file $PIDFILE"
  else
    log "not running"
  fi
  rm -f "$PIDFILE" "$DIR/ready"
}

cmd_up() {
  build
  local pid
  if pid="$(running_pid)"; then
    if readyz; then
      log "already running (pid $pid)"
      echo "$KUBECONFIG_PATH"
      return 0
    fi
    die "a control plane (pid $pid) is running for $DIR but not ready; run 'cluster.sh down' first"
  fi
  if [[ -f "$PIDFILE" ]]; then
    log "removing stale pid file $PIDFILE"
    rm -f "$PIDFILE"
  fi
  port_in_use "$PORT" && die "port $PORT (127.0.0.1) is already in use; stop whatever listens there or set PICO_CLUSTER_PORT"
  local tunnel=()
  if ((TUNNEL_PORT)); then
    port_in_use "$TUNNEL_PORT" && die "port $TUNNEL_PORT (127.0.0.1) is already in use; stop whatever listens there or set PICO_CLUSTER_AGENT_TUNNEL_PORT"
    tunnel=(--agent-tunnel-port "$TUNNEL_PORT")
  fi
  [[ -f "$LOG" ]] && mv -f "$LOG" "$LOG.1"
  rm -f "$DIR/ready"

  PICO_CLUSTER_DIR="$DIR" PICO_CLUSTER_PORT="$PORT" \
    setsid "$SERVER" serve --dir "$DIR" --port "$PORT" --node-rbac "$ROOT/manifests/node-bootstrap-rbac.yaml" "${tunnel[@]}" </dev/null >"$LOG" 2>&1 &
  pid=$!
  echo "$pid" > "$PIDFILE"
  # Never leave a half-started cluster behind if we are interrupted.
  trap 'log "interrupted; stopping"; stop_pid '"$pid"'; rm -f "$PIDFILE"; exit 130' INT TERM HUP

  local t0=$SECONDS
  while true; do
    if ! kill -0 "$pid" 2>/dev/null; then
      local rc=0
      wait "$pid" || rc=$?
      rm -f "$PIDFILE"
      log_tail
      die "control plane exited during start (exit code $rc)"
    fi
    if [[ -f "$DIR/ready" ]] && readyz; then break; fi
    if ((SECONDS - t0 >= START_TIMEOUT)); then
      log_tail
      log "control plane not ready after ${START_TIMEOUT}s; stopping it"
      stop_pid "$pid"
      rm -f "$PIDFILE"
      exit 1
    fi
    sleep 0.5
  done
  trap - INT TERM HUP
  log "ready in $((SECONDS - t0))s (pid $pid, https://127.0.0.1:$PORT$( ((TUNNEL_PORT)) && echo ", agent tunnel wss://127.0.0.1:$TUNNEL_PORT/v1-k3s/connect"))"
  echo "$KUBECONFIG_PATH"
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    if readyz; then echo "running (pid $pid), ready, https://127.0.0.1:$PORT, kubeconfig $KUBECONFIG_PATH"
    else echo "running (pid $pid), not ready"; fi
  else
    echo "not running"; return 1
  fi
}

# --- metrics-server ----------------------------------------------------------------
# Runs as a local process next to the control plane, as an aggregated API:
# its own client certificate (CN=system:metrics-server, from the client CA)
# with upstream's RBAC (manifests/metrics-server-rbac.yaml), a serving
# certificate from the server CA, and an ExternalName Service + APIService
# (manifests/metrics-server-apiservice.yaml) with the server CA as caBundle.
# It scrapes kubelets at their InternalIP and status port, verifying their
# serving certificates with the server CA (which signs kubelet-serving CSRs).

MS_DIR="$DIR/metrics-server"            # certificates, kubeconfig, --cert-dir
MS_PIDFILE="$DIR/metrics-server.pid"
MS_LOG="$DIR/metrics-server.log"
MS_USER=system:metrics-server
MS_START_TIMEOUT="${PICO_METRICS_SERVER_START_TIMEOUT:-90}"
# Next to the API server's port, so clusters side by side each get their own.
MS_PORT="${PICO_METRICS_SERVER_PORT:-$((PORT + 3000))}"
APISERVICE=v1beta1.metrics.k8s.io

kc() { "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" --request-timeout=10s "$@"; }

ms_running_pid() {
  [[ -f "$MS_PIDFILE" ]] || return 1
  local pid
  pid="$(tr -dc '0-9' < "$MS_PIDFILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  # Guard against pid reuse: our binary, with this directory's certificates.
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--cert-dir=$MS_DIR " || return 1
  echo "$pid"
}

ms_available() {
  [[ "$(kc get apiservice "$APISERVICE" -o jsonpath='{.status.conditions[?(@.type=="Available")].status}' 2>/dev/null)" == True ]]
}

# ms_register applies the Service and APIService with this run's port and CA.
ms_register() {
  local ca
  ca="$(base64 -w0 < "$DIR/server-ca.crt")"
  sed -e "s|\${METRICS_SERVER_PORT}|$MS_PORT|g" -e "s|\${SERVER_CA_BASE64}|$ca|g" \
    "$HERE/manifests/metrics-server-apiservice.yaml" | kc apply -f - >/dev/null
}

# ms_deregister removes them: a registered API whose server is gone makes
# discovery (so every kubectl, and the namespace controller) report errors.
ms_deregister() {
  kc delete apiservice "$APISERVICE" --ignore-not-found >/dev/null &&
    kc delete service metrics-server -n kube-system --ignore-not-found >/dev/null
}

ms_up() {
  case "$MS_PORT" in ''|*[!0-9]*) die "PICO_METRICS_SERVER_PORT=$MS_PORT is not a port number";; esac
  ((MS_PORT >= 1 && MS_PORT <= 65535)) || die "metrics-server port $MS_PORT is out of range; set PICO_METRICS_SERVER_PORT"
  build
  running_pid >/dev/null && readyz || die "no ready control plane for $DIR; run 'cluster.sh up' first"
  local pid
  if pid="$(ms_running_pid)"; then
    if ms_available; then log "metrics-server already running (pid $pid)"; return 0; fi
    die "metrics-server (pid $pid) is running but $APISERVICE is not Available; run 'cluster.sh metrics-server down' first"
  fi
  rm -f "$MS_PIDFILE"
  port_in_use "$MS_PORT" && die "port $MS_PORT (127.0.0.1) is already in use; stop whatever listens there or set PICO_METRICS_SERVER_PORT"

  # Its identity and serving certificate, issued anew at every start.
  mkdir -p "$MS_DIR"
  "$SERVER" issue-cert --dir "$DIR" --port "$PORT" --ca client --cn "$MS_USER" \
    --kubeconfig "$MS_DIR/kubeconfig" client "$MS_DIR" || die "could not issue metrics-server's client certificate"
  # The aggregator checks the name metrics-server.kube-system.svc.
  "$SERVER" issue-cert --dir "$DIR" --ca server --cn metrics-server \
    --dns localhost,metrics-server.kube-system.svc --ip 127.0.0.1 serving "$MS_DIR" ||
    die "could not issue metrics-server's serving certificate"
  kc apply -f "$HERE/manifests/metrics-server-rbac.yaml" >/dev/null || die "could not apply manifests/metrics-server-rbac.yaml"
  # It reads the authentication ConfigMap at start: wait until RBAC allows it.
  local i
  for ((i = 0; ; i++)); do
    [[ "$(kc auth can-i get configmap/extension-apiserver-authentication -n kube-system --as="$MS_USER" 2>/dev/null)" == yes ]] && break
    ((i < 50)) || die "RBAC for $MS_USER did not take effect within 10s"
    sleep 0.2
  done

  [[ -f "$MS_LOG" ]] && mv -f "$MS_LOG" "$MS_LOG.1"
  # Flags as K8S-NOTES.md lists them. --metric-resolution is the minimum
  # metrics-server accepts (10s), and it requires the kubelet request
  # timeout below 90% of it (options.go validate), so 5s.
  setsid "$METRICS_SERVER" \
    --secure-port="$MS_PORT" --bind-address=127.0.0.1 \
    --cert-dir="$MS_DIR" --tls-cert-file="$MS_DIR/serving.crt" --tls-private-key-file="$MS_DIR/serving.key" \
    --kubeconfig="$MS_DIR/kubeconfig" \
    --authentication-kubeconfig="$MS_DIR/kubeconfig" \
    --authorization-kubeconfig="$MS_DIR/kubeconfig" \
    --kubelet-certificate-authority="$DIR/server-ca.crt" \
    --kubelet-preferred-address-types=InternalIP \
    --kubelet-use-node-status-port \
    --kubelet-request-timeout=5s \
    --metric-resolution=10s \
    </dev/null >"$MS_LOG" 2>&1 &
  pid=$!
  echo "$pid" > "$MS_PIDFILE"
  trap 'log "interrupted; stopping metrics-server"; stop_pid '"$pid"' metrics-server; rm -f "$MS_PIDFILE"; ms_deregister || true; exit 130' INT TERM HUP

  # Register once it listens (the aggregator backs off on failed checks),
  # then wait for the aggregator to report the API Available.
  local t0=$SECONDS registered=0
  while true; do
    if ! kill -0 "$pid" 2>/dev/null; then
      local rc=0
      wait "$pid" || rc=$?
      rm -f "$MS_PIDFILE"
      ((registered)) && { ms_deregister || true; }
      log_tail 40 "$MS_LOG"
      die "metrics-server exited during start (exit code $rc)"
    fi
    if ((!registered)) && port_in_use "$MS_PORT"; then
      ms_register || { stop_pid "$pid" metrics-server; rm -f "$MS_PIDFILE"; die "could not register $APISERVICE"; }
      registered=1
    fi
    if ((registered)) && ms_available; then break; fi
    if ((SECONDS - t0 >= MS_START_TIMEOUT)); then
      log_tail 40 "$MS_LOG"
      kc get apiservice "$APISERVICE" -o jsonpath='{.status.conditions[?(@.type=="Available")].message}{"\n"}' >&2 2>/dev/null || true
      log "$APISERVICE not Available after ${MS_START_TIMEOUT}s; stopping metrics-server"
      stop_pid "$pid" metrics-server
      rm -f "$MS_PIDFILE"
      ms_deregister || true
      exit 1
    fi
    sleep 0.5
  done
  trap - INT TERM HUP
  log "metrics-server ready in $((SECONDS - t0))s (pid $pid, https://127.0.0.1:$MS_PORT, $APISERVICE Available)"
}

ms_down() {
  local pid
  # Deregister first, so the aggregator stops routing to it.
  if running_pid >/dev/null && readyz; then
    ms_deregister || log "could not delete $APISERVICE; the API server may report it unavailable"
  fi
  if pid="$(ms_running_pid)"; then
    log "stopping metrics-server (pid $pid)"
    stop_pid "$pid" metrics-server
  elif [[ -f "$MS_PIDFILE" ]]; then
    log "removing stale pid file $MS_PIDFILE"
  else
    log "metrics-server not running"
  fi
  rm -f "$MS_PIDFILE"
}

ms_status() {
  local pid
  pid="$(ms_running_pid)" || { echo "metrics-server not running"; return 1; }
  if ms_available; then echo "metrics-server running (pid $pid), $APISERVICE Available, https://127.0.0.1:$MS_PORT"
  else echo "metrics-server running (pid $pid), $APISERVICE not Available"; fi
}

# usage prints the comment block at the top of this file.
usage() { awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "${BASH_SOURCE[0]}" >&2; exit 2; }

[[ $# -ge 1 ]] || usage
cmd="$1"; shift
case "$cmd" in
  up)     cmd_up ;;
  down)   cmd_down ;;
  reset)  cmd_down
          rm -rf "$DIR/data" "$DIR/admin.kubeconfig" "$DIR/server-ca.crt" "$LOG" "$LOG.1" "$MS_DIR" "$MS_LOG" "$MS_LOG.1"
          log "wiped $DIR/data" ;;
  status) cmd_status ;;
  build)  build ;;
  kubectl)
    build
    KUBECONFIG="$KUBECONFIG_PATH" exec "$KUBECTL" "$@" ;;
  issue-node-cert)
    build
    [[ $# -ge 2 ]] || die "usage: cluster.sh issue-node-cert NAME OUTDIR [DURATION|--expired]"
    exec "$SERVER" issue-node-cert --dir "$DIR" "$@" ;;
  issue-cert)
    build
    exec "$SERVER" issue-cert --dir "$DIR" --port "$PORT" "$@" ;;
  metrics-server)
    case "${1:-}" in
      up)     ms_up ;;
      down)   ms_down ;;
      status) ms_status ;;
      *)      die "usage: cluster.sh metrics-server up|down|status" ;;
    esac ;;
  -h|--help|help) usage ;;
  *) log "unknown command '$cmd'"; usage ;;
esac
