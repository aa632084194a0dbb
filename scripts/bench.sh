#!/usr/bin/env bash
# Side-by-side benchmarks: slotkv-server vs redis-server 7 on this machine.
# For each test and pipeline depth, redis-benchmark runs against slotkv and
# redis alternately for ROUNDS rounds (so background load hits both alike);
# it prints requests/s, the ratio slotkv/redis, and each server's CPU time
# per request (utime+stime from /proc: far less noisy than requests/s on a
# shared machine). Then RSS bytes per key after loading 1,000,000 keys, then
# Go micro-benchmarks.
#   N=500000 ROUNDS=3 TESTS=set,get,incr,mset SK_ENV="GOMAXPROCS=1" scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-500000}
ROUNDS=${ROUNDS:-3}
SK_ENV=${SK_ENV:-}
freeport() { local p; for p in $(shuf -i 30000-39000 -n 50); do
  redis-cli -p $p ping >/dev/null 2>&1 || { echo $p; return; }; done; }
SK_PORT=${SK_PORT:-$(freeport)}
RD_PORT=${RD_PORT:-$(freeport)}
TESTS=${TESTS:-set,get,incr,mset}
tmp=$(mktemp -d)
env $SK_ENV bin/slotkv-server --port $SK_PORT --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp" --logfile sk.log &
SK=$!
redis-server --port $RD_PORT --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp" --logfile rd.log --daemonize no &
RD=$!
trap 'kill $SK $RD 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
for p in $SK_PORT $RD_PORT; do
  for i in $(seq 1 100); do redis-cli -p $p ping >/dev/null 2>&1 && break; sleep 0.05; done
done
kill -0 $SK && kill -0 $RD || { echo "a server failed to start (ports $SK_PORT/$RD_PORT)"; exit 1; }
echo "slotkv-server pid $SK on $SK_PORT${SK_ENV:+ ($SK_ENV)}, redis-server $(redis-server --version | awk '{print $3}') pid $RD on $RD_PORT; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

ticks() { awk '{print $14+$15}' /proc/$1/stat; }   # CPU time in clock ticks
TCK=$(getconf CLK_TCK)
# one PORT PID TEST P -> "req/s cpu-ticks"
one() {
  local a b v
  a=$(ticks $2)
  v=$(redis-benchmark -p "$1" -t "$3" -n "$N" -c 50 -P "$4" -q --csv 2>/dev/null | tr -d '"' | awk -F, 'NR>1{printf "%.0f", $2}')
  b=$(ticks $2)
  echo "${v:-0} $((b - a))"
}
echo "== redis-benchmark -t $TESTS -n $N -c 50, $ROUNDS alternating rounds"
printf "%-6s %-4s %12s %12s %7s   %14s %14s\n" test P slotkv redis ratio "slotkv us/req" "redis us/req"
for P in 1 16; do
  for t in ${TESTS//,/ }; do
    skr=0 rdr=0 skc=0 rdc=0
    for r in $(seq 1 "$ROUNDS"); do
      read -r v c < <(one $SK_PORT $SK $t $P); skr=$((skr + v)); skc=$((skc + c))
      read -r v c < <(one $RD_PORT $RD $t $P); rdr=$((rdr + v)); rdc=$((rdc + c))
    done
    printf "%-6s %-4s %12.0f %12.0f %7.2f   %14.2f %14.2f\n" "$t" "$P" "$(echo "$skr / $ROUNDS" | bc -l)" "$(echo "$rdr / $ROUNDS" | bc -l)" \
      "$(echo "$skr / $rdr" | bc -l)" "$(echo "$skc * 1000000 / $TCK / ($N * $ROUNDS)" | bc -l)" "$(echo "$rdc * 1000000 / $TCK / ($N * $ROUNDS)" | bc -l)"
  done
done

echo
echo "== memory: 1,000,000 keys, 16-byte keys, 32-byte values"
redis-cli -p $SK_PORT flushall >/dev/null; redis-cli -p $RD_PORT flushall >/dev/null
go run ./tools/benchload -addr 127.0.0.1:$SK_PORT -pid $SK -label slotkv
go run ./tools/benchload -addr 127.0.0.1:$RD_PORT -pid $RD -label redis-server

echo
echo "== Go micro-benchmarks (cpu-ns/op: process CPU time per op)"
go test -run '^$' -bench . -benchmem -benchtime 1s ./slots ./node/resp 2>/dev/null | grep -E '^Benchmark|^ok' || true
go test -run '^$' -bench 'PerfProcess|StringHotPath|KeyDict' -benchmem -benchtime 1s ./node 2>/dev/null | grep -E '^Benchmark|^ok' || true
