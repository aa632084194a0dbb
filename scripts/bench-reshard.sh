#!/usr/bin/env bash
# Reshard benchmark, side by side: 3-master clusters of slotkv and of
# redis-server 7, N keys (default 300,000) of 100 bytes; each move takes 5461
# slots with redis-cli --cluster reshard (pipeline 10: first master -> second,
# which empties the first one, so it turns into a replica as in Redis 7;
# pipeline 100: second -> third), and on slotkv also with the whole-slot fast
# path (CLUSTER MIGRATESLOTS, third -> second, whose replica acknowledges
# every batch, and back). Every key is verified after
# each move. REDISCLI_SLOTKV=0 skips redis-cli on slotkv (slow: see README).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-300000}
SLOTS=${SLOTS:-5461}
tmp=$(mktemp -d)
trap 'kill $(cat "$tmp/pids" 2>/dev/null) 2>/dev/null || true; sleep 0.5; rm -rf "$tmp"' EXIT
go build -o "$tmp/clusterload" ./tools/clusterload

# Client ports 20000-22700 (bus ports +10000) stay below the ephemeral range,
# where outgoing connections could already hold them.
freeport() { local p; for p in $(shuf -i 20000-22700 -n 200); do
  ss -Htanu | awk '{print $5}' | grep -q ":$p\$\|:$((p+10000))\$" || { echo $p; return; }; done; }

start_cluster() { # kind -> prints "port port port"
  local kind=$1 ports=() i p
  for i in 1 2 3; do
    p=$(freeport); ports+=($p); mkdir -p "$tmp/$kind-$p"
    if [ "$kind" = slotkv ]; then
      bin/slotkv-server --port $p --bind 127.0.0.1 --cluster-enabled yes --cluster-node-timeout 5000 --save "" --appendonly no --dir "$tmp/$kind-$p" --logfile node.log >/dev/null 2>&1 &
    else
      redis-server --port $p --bind 127.0.0.1 --cluster-enabled yes --cluster-node-timeout 5000 --save "" --appendonly no --dir "$tmp/$kind-$p" --logfile node.log >/dev/null 2>&1 &
    fi
    echo $! >> "$tmp/pids"
  done
  for p in "${ports[@]}"; do for i in $(seq 1 600); do redis-cli -p $p ping >/dev/null 2>&1 && break; sleep 0.05; done; done
  redis-cli --cluster create "${ports[@]/#/127.0.0.1:}" --cluster-yes >/dev/null || {
    for p in "${ports[@]}"; do echo "== $kind $p" >&2; tail -3 "$tmp/$kind-$p/node.log" >&2; done; exit 1; }
  for i in $(seq 1 200); do
    [ "$(redis-cli -p ${ports[0]} cluster info | tr -d '\r' | grep cluster_state)" = cluster_state:ok ] && break; sleep 0.1
  done
  echo "${ports[@]}"
}

id_of() { redis-cli -p $1 cluster myid; }
owner_of_slot0() { redis-cli -p $1 cluster nodes | awk '/myself/{print $1}'; }

reshard() { # label from-port to-port pipeline
  local label=$1 from=$2 to=$3 pipe=$4 t0 t1
  t0=$(date +%s.%N)
  redis-cli --cluster reshard 127.0.0.1:$from --cluster-from "$(id_of $from)" --cluster-to "$(id_of $to)" \
    --cluster-slots $SLOTS --cluster-yes --cluster-pipeline $pipe >/dev/null
  t1=$(date +%s.%N)
  report "$label" "$t0" "$t1"
}

report() {
  local el; el=$(echo "$3 - $2" | bc -l)
  printf "%-44s %7.2fs  %9.0f keys/s  %7.0f slots/s\n" "$1" "$el" "$(echo "$N * $SLOTS / 16384 / $el" | bc -l)" "$(echo "$SLOTS / $el" | bc -l)"
}

fast() { # label from-port to-port
  local label=$1 from=$2 to=$3 t0 t1 st
  t0=$(date +%s.%N)
  redis-cli -p $from cluster migrateslots slotsrange 0 $((SLOTS-1)) node "$(id_of $to)" >/dev/null
  for i in $(seq 1 60000); do # poll every ~5 ms: the move itself takes a few hundred ms
    st=$(redis-cli -p $from cluster getslotmigrations | awk 'prev=="state"{s=$0} {prev=$0} END{print s}')
    [ "$st" = success ] || [ "$st" = failed ] && break
    sleep 0.005
  done
  t1=$(date +%s.%N)
  [ "$st" = success ] || { echo "fast path ended: $st"; exit 1; }
  report "$label" "$t0" "$t1"
  # the node's own account of the move (no polling, no redis-cli start-up)
  redis-cli -p $from cluster getslotmigrations | tr -d '\r' | awk 'prev=="duration_ms"{d=$0} {prev=$0} END{if (d != "") print "  (server-side: " d " ms)"}'

}

echo "== reshard: $N keys of 100 bytes, $SLOTS slots moved (keys moved ~ N*$SLOTS/16384)"
read -r s1 s2 s3 < <(start_cluster slotkv)
read -r r1 r2 r3 < <(start_cluster redis)
"$tmp/clusterload" -addr 127.0.0.1:$s1 -n $N >/dev/null
"$tmp/clusterload" -addr 127.0.0.1:$r1 -n $N >/dev/null
reshard "redis-server + redis-cli, pipeline 10" $r1 $r2 10
reshard "redis-server + redis-cli, pipeline 100" $r2 $r3 100
"$tmp/clusterload" -addr 127.0.0.1:$r2 -n $N -verify
if [ "${REDISCLI_SLOTKV:-1}" != 0 ]; then
  reshard "slotkv + redis-cli, pipeline 10" $s1 $s2 10
  reshard "slotkv + redis-cli, pipeline 100" $s2 $s3 100
  "$tmp/clusterload" -addr 127.0.0.1:$s2 -n $N -verify
  # s2 has a replica (s1, emptied by the first move): the fast path waits
  # for it to acknowledge every batch before deleting at the source (WAIT 1),
  # which redis-cli's MIGRATE never does; then back to s3, which has none.
  fast "slotkv MIGRATESLOTS, target replica acks" $s3 $s2
  "$tmp/clusterload" -addr 127.0.0.1:$s2 -n $N -verify
  fast "slotkv MIGRATESLOTS, target w/o replicas" $s2 $s3
else
  fast "slotkv CLUSTER MIGRATESLOTS (fast path)" $s1 $s2
fi
"$tmp/clusterload" -addr 127.0.0.1:$s2 -n $N -verify
