#!/usr/bin/env bash
# The demo: a real control plane, three simulated Pico W nodes running the
# same core.wasm the device runs. Each joins the way a kubelet does: with a
# bootstrap token it makes its own key, submits a CSR, gets it approved and
# signed, and talks mutual TLS as itself from then on (issue 6; the CLI in
# cli/ makes the token and writes the node configs). Each then gets a kubelet
# serving certificate (approved by the CLI's approver) and serves its kubelet
# endpoint on this machine's address (issue 5), so node proxy, metrics and
# `kubectl top node` (with DEMO_METRICS_SERVER=1) work. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
NODES=${DEMO_NODES:-3}
CLUSTER=tests/cluster/cluster.sh
DIR=${PICO_CLUSTER_DIR:-$ROOT/.cluster}
export PICO_CLUSTER_DIR=$DIR

bash scripts/setup.sh
bash scripts/build-sim.sh
npx tsc -p cli
bash "$CLUSTER" up

PORT=${PICO_CLUSTER_PORT:-6443}
KUBECTL="$ROOT/.cluster/bin/kubectl --kubeconfig $DIR/admin.kubeconfig"
NODEDIR=$DIR/demo-nodes
mkdir -p "$NODEDIR"
PIDS=()

stop_all() {
  trap - INT TERM EXIT
  echo
  echo "demo: stopping the nodes and the control plane"
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  bash "$CLUSTER" down || true  # stops metrics-server too
}
trap stop_all INT TERM EXIT

PICO="node build/cli/main.js"
$PICO rbac apply --kubeconfig "$DIR/admin.kubeconfig"
# Nodes may read the fleet ConfigMap default/pico-config (and nothing else).
$KUBECTL apply -f manifests/pico-configmap-rbac.yaml >/dev/null
# One bootstrap token for this demo's nodes; a node that already has its
# certificate (kept in $NODEDIR/<name>.state) does not need it again.
TOKEN=$($PICO token create --ttl 2h --description "k3s-pico-node demo" --kubeconfig "$DIR/admin.kubeconfig")
# The kubelet-serving CSR approver (the admin's kubeconfig here; in a real
# cluster bind it to manifests/pico-serving-approver-rbac.yaml's role).
$KUBECTL apply -f manifests/pico-serving-approver-rbac.yaml >/dev/null
( exec $PICO approver --kubeconfig "$DIR/admin.kubeconfig" 2>&1 | sed -u "s/^/approver | /" ) &
PIDS+=($!)
# The API server's node proxy refuses loopback addresses: the nodes take this
# machine's first other IPv4 address (127.0.0.1 when there is none).
NODE_IP=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+(\.[0-9]+){3}$' | grep -v '^127\.' | head -1 || true)
NODE_IP=${NODE_IP:-127.0.0.1}
for i in $(seq 1 "$NODES"); do
  name=pico-node-$i
  $PICO config write --node "$name" --server "https://127.0.0.1:$PORT" --ca "$DIR/server-ca.crt" \
    --client-ca "$DIR/data/tls/client-ca.crt" --node-ip "$NODE_IP" \
    --token "$TOKEN" --sim "$NODEDIR/$name.conf" >/dev/null
  echo "kubelet.port = $((10250 + i))" >> "$NODEDIR/$name.conf"   # several nodes on one address
  # Each node's log lines, prefixed with its name.
  ( exec build/sim/pico-node-sim --config "$NODEDIR/$name.conf" 2>&1 | sed -u "s/^/$name | /" ) &
  PIDS+=($!)
done

echo "demo: waiting for $NODES nodes to be Ready"
for i in $(seq 1 60); do
  ready=$($KUBECTL get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null | grep -c True || true)
  [[ $ready -ge $NODES ]] && break
  sleep 0.5
done
echo
$KUBECTL get nodes -o wide
if [[ ${DEMO_METRICS_SERVER:-0} == 1 ]]; then bash "$CLUSTER" metrics-server up; fi
cat <<MSG

The cluster is running with $NODES simulated Pico W nodes. In another terminal:

  export KUBECONFIG=$DIR/admin.kubeconfig
  $ROOT/.cluster/bin/kubectl get nodes -o wide        # kubectl built from the cluster's Kubernetes version
  $ROOT/.cluster/bin/kubectl describe node pico-node-1
  $ROOT/.cluster/bin/kubectl -n kube-node-lease get leases
  $ROOT/.cluster/bin/kubectl create configmap pico-config --from-literal=memory_values="0=0x42,1=0x43,2=0xFF"
                                             # every node writes those bytes into its device memory
  $ROOT/.cluster/bin/kubectl get --raw /api/v1/nodes/pico-node-1/proxy/metrics   # its kubelet endpoint
  $ROOT/.cluster/bin/kubectl top node        # with DEMO_METRICS_SERVER=1 (a real metrics-server)

Press Ctrl-C to stop the nodes and the control plane (its data is kept in $DIR;
npm run cluster:reset wipes it).
MSG
wait
