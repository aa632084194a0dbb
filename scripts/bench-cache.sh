#!/usr/bin/env bash
# The issue-9 cache workload side by side: slotkv-server vs redis-server 7,
# both with maxmemory MAXMEM and allkeys-lru, fresh processes for each run.
# tools/cacheload writes VOLUME x maxmemory of SETs (keys drawn uniformly)
# while a Zipf-distributed reader GETs and, on a miss, SETs the key again
# (read-through cache); the same SEED gives both servers the same requests.
# It samples each server's RSS every 100 ms and reports peak RSS as a
# multiple of maxmemory (target <= 1.3x for slotkv), the reader's hit rate
# (target: slotkv within 2 points of redis or better), evicted_keys, ops/s
# and server CPU per op. slotkv and redis alternate for ROUNDS rounds.
#   MAXMEM=256mb VOLUME=5 VALUE=1000 ROUNDS=1 SEED=1 scripts/bench-cache.sh
#   ARGS="-zipf-s 1.2 -reads 2" SK_ENV="GOMAXPROCS=1" SK_BIN=/tmp/slotkv-server scripts/bench-cache.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MAXMEM=${MAXMEM:-256mb}
VOLUME=${VOLUME:-5}
VALUE=${VALUE:-1000}
ROUNDS=${ROUNDS:-1}
SEED=${SEED:-1}
ARGS=${ARGS:-}
SK_ENV=${SK_ENV:-}
POLICY=${POLICY:-allkeys-lru}
SK_BIN=${SK_BIN:-bin/slotkv-server}   # make bench builds it
freeport() { local p; for p in $(shuf -i 30000-39000 -n 50); do
  ss -Htan "( sport = :$p )" | grep -q . || { echo $p; return; }; done; }
tmp=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
go build -o "$tmp/cacheload" ./tools/cacheload
echo "cache workload: maxmemory $MAXMEM $POLICY, writer volume ${VOLUME}x, values ${VALUE} B, seed $SEED ${ARGS:+($ARGS)}"
echo "redis-server $(redis-server --version | awk '{print $3}'); $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

# run LABEL ROUND: start a fresh server, run the workload, stop the server.
run() {
  local label=$1 r=$2 port; port=$(freeport)
  mkdir -p "$tmp/$label$r"
  if [ "$label" = slotkv ]; then
    env $SK_ENV "$SK_BIN" --port $port --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp/$label$r" \
      --maxmemory $MAXMEM --maxmemory-policy $POLICY --logfile sk.log &
  else
    redis-server --port $port --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp/$label$r" \
      --maxmemory $MAXMEM --maxmemory-policy $POLICY --logfile rd.log --daemonize no &
  fi
  PID=$!
  for i in $(seq 1 300); do redis-cli -p $port ping >/dev/null 2>&1 && break; sleep 0.05; done
  redis-cli -p $port ping >/dev/null 2>&1 || { echo "$label failed to start on $port:"; tail -5 "$tmp/$label$r"/*.log; exit 1; }
  "$tmp/cacheload" -addr 127.0.0.1:$port -pid $PID -maxmemory $MAXMEM -volume $VOLUME -value $VALUE \
    -seed $SEED -label $label -json $ARGS > "$tmp/$label$r.json"
  kill $PID; wait $PID 2>/dev/null || true; PID=
  jq -r '"\(.label) round '"$r"': \(.ops_per_sec|floor) ops/s, hit \(.hit_rate*100|round/100)% (steady \(.steady_hit_rate*100|round/100)%), peak RSS \(.peak_rss_multiple*1000|round/1000)x, evicted \(.evicted_keys), keys held \(.dbsize), \(.server_cpu_us_per_op*100|round/100) us/op\(if .errors > 0 then ", \(.errors) errors: \(.first_error)" else "" end)\(if .completed then "" else ", STOPPED AT TIMEOUT" end)"' "$tmp/$label$r.json"
}
for r in $(seq 1 "$ROUNDS"); do
  run slotkv $r
  run redis $r
done
echo
jq -rs '
  def avg(f): (map(f) | add / length);
  (map(select(.label=="slotkv"))) as $s | (map(select(.label=="redis"))) as $r |
  "                 slotkv      redis",
  "hit rate %    \($s|avg(.hit_rate)|.*100|round/100|tostring|.[0:8])    \($r|avg(.hit_rate)|.*100|round/100)",
  "steady hit %  \($s|avg(.steady_hit_rate)|.*100|round/100|tostring|.[0:8])    \($r|avg(.steady_hit_rate)|.*100|round/100)",
  "peak RSS x    \($s|map(.peak_rss_multiple)|max|.*1000|round/1000|tostring|.[0:8])     \($r|map(.peak_rss_multiple)|max|.*1000|round/1000)   (of maxmemory, max over rounds)",
  "evicted_keys  \($s|avg(.evicted_keys)|floor)    \($r|avg(.evicted_keys)|floor)",
  "keys held     \($s|avg(.dbsize)|floor)     \($r|avg(.dbsize)|floor)",
  "ops/s         \($s|avg(.ops_per_sec)|floor)     \($r|avg(.ops_per_sec)|floor)",
  "CPU us/op     \($s|avg(.server_cpu_us_per_op)|.*100|round/100)       \($r|avg(.server_cpu_us_per_op)|.*100|round/100)",
  "hit rate slotkv - redis: \(($s|avg(.hit_rate)) - ($r|avg(.hit_rate)) | .*100|round/100) points (steady \(($s|avg(.steady_hit_rate)) - ($r|avg(.steady_hit_rate)) | .*100|round/100))"
' "$tmp"/*.json
