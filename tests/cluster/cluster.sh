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
#
# Environment:
#   PICO_CLUSTER_DIR               cluster directory (default <checkout>/.cluster)
#   PICO_CLUSTER_BIN_DIR           binaries (default <checkout>/.cluster/bin, shared by all dirs)
#   PICO_CLUSTER_PORT              API server port (default 6443)
#   PICO_CLUSTER_SIGNING_DURATION  CSR signing duration (default 8760h)
#   PICO_CLUSTER_NODE_GRACE        node-monitor-grace-period (default 50s)
#   PICO_CLUSTER_START_TIMEOUT     seconds `up` waits for /readyz (default 180)
#   PICO_CLUSTER_STOP_TIMEOUT      seconds `down` waits before SIGKILL (default 90)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
DIR="${PICO_CLUSTER_DIR:-$ROOT/.cluster}"
BIN_DIR="${PICO_CLUSTER_BIN_DIR:-$ROOT/.cluster/bin}"
PORT="${PICO_CLUSTER_PORT:-6443}"
START_TIMEOUT="${PICO_CLUSTER_START_TIMEOUT:-180}"
STOP_TIMEOUT="${PICO_CLUSTER_STOP_TIMEOUT:-90}"
SERVER="$BIN_DIR/pico-cluster"
KUBECTL="$BIN_DIR/kubectl"
PIDFILE="$DIR/cluster.pid"
LOG="$DIR/cluster.log"
KUBECONFIG_PATH="$DIR/admin.kubeconfig"

die() { echo "cluster.sh: $*" >&2; exit 1; }
log() { echo "cluster.sh: $*" >&2; }

case "$PORT" in ''|*[!0-9]*) die "PICO_CLUSTER_PORT=$PORT is not a port number";; esac
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"

# --- build -------------------------------------------------------------------

k8s_version() {
  local v
  v="$(tr -d ' \n' < "$HERE/VERSION")"
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

# stale TARGET FIND-ARGS...: true if TARGET is missing or older than a matching file.
stale() {
  local target="$1"; shift
  [[ -x "$target" ]] || return 0
  [[ -n "$(find "$HERE" -maxdepth 2 \( "$@" \) -newer "$target" -print -quit)" ]]
}
server_stale()  { stale "$SERVER" -name '*.go' ! -name '*_test.go' -o -name '*.yaml' -o -name go.mod -o -name go.sum -o -name VERSION; }
kubectl_stale() { stale "$KUBECTL" -name go.mod -o -name go.sum -o -name VERSION; }
needs_build() { server_stale || kubectl_stale; }

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
  log "building control plane (kubernetes $v) into $BIN_DIR ..."
  local t0=$SECONDS
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

log_tail() {
  echo "---- last lines of $LOG ----" >&2
  tail -n "${1:-40}" "$LOG" >&2 || true
  echo "----" >&2
}

stop_pid() {
  local pid="$1" i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  log "control plane (pid $pid) did not stop within ${STOP_TIMEOUT}s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  die "could not kill pid $pid"
}

cmd_down() {
  local pid
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
  [[ -f "$LOG" ]] && mv -f "$LOG" "$LOG.1"
  rm -f "$DIR/ready"

  PICO_CLUSTER_DIR="$DIR" PICO_CLUSTER_PORT="$PORT" \
    setsid "$SERVER" serve --dir "$DIR" --port "$PORT" --node-rbac "$ROOT/manifests/node-bootstrap-rbac.yaml" </dev/null >"$LOG" 2>&1 &
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
  log "ready in $((SECONDS - t0))s (pid $pid, https://127.0.0.1:$PORT)"
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

usage() { sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

[[ $# -ge 1 ]] || usage
cmd="$1"; shift
case "$cmd" in
  up)     cmd_up ;;
  down)   cmd_down ;;
  reset)  cmd_down; rm -rf "$DIR/data" "$DIR/admin.kubeconfig" "$DIR/server-ca.crt" "$LOG" "$LOG.1"; log "wiped $DIR/data" ;;
  status) cmd_status ;;
  build)  build ;;
  kubectl)
    build
    KUBECONFIG="$KUBECONFIG_PATH" exec "$KUBECTL" "$@" ;;
  issue-node-cert)
    build
    [[ $# -ge 2 ]] || die "usage: cluster.sh issue-node-cert NAME OUTDIR [DURATION|--expired]"
    exec "$SERVER" issue-node-cert --dir "$DIR" "$@" ;;
  -h|--help|help) usage ;;
  *) log "unknown command '$cmd'"; usage ;;
esac
