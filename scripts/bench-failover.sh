#!/usr/bin/env bash
# Failover and replication benchmarks, slotkv-server vs redis-server 7, with
# the same procedure for both (tools/failoverbench):
#  - failover: 3 masters + 3 replicas on 127.0.0.61-66 (redis-cli --cluster
#    create --cluster-replicas 1), a go-redis ClusterClient writing all
#    along; kill -9 a master, time until writes to its slots succeed again
#    (and until its replica says ROLE master); RUNS runs (each kills the
#    master of the next shard, which then restarts and rejoins), median.
#  - replication: master + replica (REPLICAOF) on 127.0.0.71-73; KEYS SETs
#    pipelined into the master; time until the replica's offset equals the
#    master's; then a full sync of those keys to a new replica. ROUNDS
#    alternating rounds (slotkv, redis, slotkv, ...); process CPU time is
#    printed next to wall time (less noisy on a shared machine).
#   RUNS=5 NODE_TIMEOUTS="2000 5000" KEYS=1000000 ROUNDS=2 WHAT=failover,repl scripts/bench-failover.sh
# OUT=file keeps the JSON results.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
NODE_TIMEOUTS=${NODE_TIMEOUTS:-2000}
KEYS=${KEYS:-1000000}
ROUNDS=${ROUNDS:-2}
WHAT=${WHAT:-failover,repl}
SK_BIN=${SK_BIN:-bin/slotkv-server}
RD_BIN=${RD_BIN:-redis-server}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/failoverbench" ./tools/failoverbench
[ -x "$SK_BIN" ] || go build -o "$SK_BIN" ./cmd/slotkv-server
fb() { "$tmp/failoverbench" "$@"; }
res=${OUT:-$tmp/results.json}
: > "$res"
echo "slotkv-server: $SK_BIN; redis-server: $($RD_BIN --version | awk '{print $3}'); $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ ,$WHAT, == *,failover,* ]]; then
  for nt in $NODE_TIMEOUTS; do
    fb failover --server-bin "$SK_BIN" --node-timeout "$nt" --runs "$RUNS" --json >> "$res"
    fb failover --server-bin "$RD_BIN" --node-timeout "$nt" --runs "$RUNS" --json >> "$res"
  done
fi
if [[ ,$WHAT, == *,repl,* ]]; then
  for r in $(seq 1 "$ROUNDS"); do
    fb repl --server-bin "$SK_BIN" --keys "$KEYS" --json >> "$res"
    fb repl --server-bin "$RD_BIN" --keys "$KEYS" --json >> "$res"
  done
fi
echo
fb table "$res"
