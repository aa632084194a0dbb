#!/usr/bin/env bash
# Starts a local slotkv cluster in the foreground: 3 masters + 3 replicas on
# 127.0.0.1:7000-7005 (data under ./cluster-data), formed with the stock
# `redis-cli --cluster create`. Ctrl-C stops every node cleanly.
# KEEP=1 reuses ./cluster-data (nodes rejoin from their nodes.conf).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin/slotkv-server}
PORTS=(7000 7001 7002 7003 7004 7005)
DATA=${DATA:-cluster-data}
TIMEOUT=${NODE_TIMEOUT:-5000}
command -v redis-cli >/dev/null 2>&1 || bash scripts/deps.sh

if [ "${KEEP:-0}" != 1 ]; then rm -rf "$DATA"; fi
pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "stopping cluster..."
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  echo "all nodes stopped."
  exit 0
}
trap stop INT TERM EXIT

for port in "${PORTS[@]}"; do
  dir="$DATA/$port"; mkdir -p "$dir"
  "$BIN" --port "$port" --bind 127.0.0.1 --cluster-enabled yes \
    --cluster-config-file nodes.conf --cluster-node-timeout "$TIMEOUT" \
    --appendonly no --save "" --dir "$dir" --logfile node.log --protected-mode no &
  pids+=($!)
done

for port in "${PORTS[@]}"; do
  for i in $(seq 1 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.1
    [ "$i" = 100 ] && { echo "node $port did not start; see $DATA/$port/node.log"; exit 1; }
  done
done

known=$(redis-cli -p 7000 cluster info | tr -d '\r' | awk -F: '/cluster_known_nodes/{print $2}')
if [ "${known:-1}" -lt 6 ]; then
  hosts=(); for port in "${PORTS[@]}"; do hosts+=("127.0.0.1:$port"); done
  redis-cli --cluster create "${hosts[@]}" --cluster-replicas 1 --cluster-yes
fi
for i in $(seq 1 100); do
  state=$(redis-cli -p 7000 cluster info | tr -d '\r' | awk -F: '/cluster_state/{print $2}')
  [ "$state" = ok ] && break
  sleep 0.1
done
echo
echo "slotkv cluster is up: 127.0.0.1:7000-7005 (cluster_state:${state:-unknown})"
echo "  try: redis-cli -c -p 7000 set foo bar"
echo "       redis-cli --cluster check 127.0.0.1:7000"
echo "  logs: $DATA/<port>/node.log — press Ctrl-C to stop."
wait
