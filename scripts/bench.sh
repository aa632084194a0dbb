#!/usr/bin/env bash
# Side-by-side benchmarks: slotkv-server vs redis-server 7 on this machine.
# Prints requests/s for each test and the ratio slotkv/redis, then RSS bytes
# per key after loading 1,000,000 keys, then Go micro-benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-500000}
freeport() { local p; for p in $(shuf -i 30000-39000 -n 50); do
  redis-cli -p $p ping >/dev/null 2>&1 || { echo $p; return; }; done; }
SK_PORT=${SK_PORT:-$(freeport)}
RD_PORT=${RD_PORT:-$(freeport)}
TESTS=${TESTS:-set,get,incr,mset}
tmp=$(mktemp -d)
bin/slotkv-server --port $SK_PORT --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp" --logfile sk.log &
SK=$!
redis-server --port $RD_PORT --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp" --logfile rd.log --daemonize no &
RD=$!
trap 'kill $SK $RD 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
for p in $SK_PORT $RD_PORT; do
  for i in $(seq 1 100); do redis-cli -p $p ping >/dev/null 2>&1 && break; sleep 0.05; done
done
kill -0 $SK && kill -0 $RD || { echo "a server failed to start (ports $SK_PORT/$RD_PORT)"; exit 1; }
echo "slotkv-server pid $SK on $SK_PORT, redis-server $(redis-server --version | awk '{print $3}') pid $RD on $RD_PORT"

csv() { redis-benchmark -p "$1" -t "$TESTS" -n "$N" -c 50 -P "$2" -q --csv 2>/dev/null | tr -d '"' | awk -F, 'NR>1{print $1","$2}'; }
echo "== redis-benchmark -t $TESTS -n $N -c 50 (requests/s)"
printf "%-10s %-4s %12s %12s %7s\n" test P slotkv redis ratio
for P in 1 16; do
  join -t, <(csv $SK_PORT $P | sort) <(csv $RD_PORT $P | sort) | while IFS=, read -r t a b; do
    printf "%-10s %-4s %12.0f %12.0f %7.2f\n" "$t" "$P" "$a" "$b" "$(echo "$a / $b" | bc -l)"
  done
done

echo
echo "== data types and scripting (issue 3): redis-benchmark -n $N -c 50 (requests/s)"
UNLOCK='if redis.call("get",KEYS[1]) == ARGV[1] then return redis.call("del",KEYS[1]) else return 0 end'
for p in $SK_PORT $RD_PORT; do
  redis-cli -p $p script load "$UNLOCK" >/dev/null
  redis-cli -p $p del bench:z >/dev/null
  for i in $(seq 1 100); do echo "ZADD bench:z $i m$i"; done | redis-cli -p $p >/dev/null
done
SHA=$(redis-cli -p $SK_PORT script load "$UNLOCK")
one() { # port P label cmd...
  local port=$1 P=$2 label=$3; shift 3
  redis-benchmark -p $port -n "$N" -c 50 -P $P -q --csv "$@" 2>/dev/null | tr -d '"' | awk -F, -v l="$label" 'NR>1{print l","$2}'
}
typed() { # port P
  redis-benchmark -p $1 -t lpush,rpop,hset,sadd,zadd -n "$N" -c 50 -P $2 -q --csv 2>/dev/null | tr -d '"' | awk -F, 'NR>1{print $1","$2}'
  one $1 $2 "ZRANGE 0 9" ZRANGE bench:z 0 9 WITHSCORES
  one $1 $2 "EVALSHA unlock" EVALSHA "$SHA" 1 lock:__rand_int__ owner
}
printf "%-16s %-4s %12s %12s %7s\n" test P slotkv redis ratio
for P in 1 16; do
  join -t, <(typed $SK_PORT $P | sort) <(typed $RD_PORT $P | sort) | while IFS=, read -r t a b; do
    printf "%-16s %-4s %12.0f %12.0f %7.2f\n" "$t" "$P" "$a" "$b" "$(echo "$a / $b" | bc -l)"
  done
done

echo
echo "== memory: 1,000,000 keys, 16-byte keys, 32-byte values"
redis-cli -p $SK_PORT flushall >/dev/null; redis-cli -p $RD_PORT flushall >/dev/null
go run ./tools/benchload -addr 127.0.0.1:$SK_PORT -pid $SK -label slotkv
go run ./tools/benchload -addr 127.0.0.1:$RD_PORT -pid $RD -label redis-server

echo
echo "== Go micro-benchmarks"
go test -run '^$' -bench . -benchmem -benchtime 1s ./slots ./node/resp ./node 2>/dev/null | grep -E '^Benchmark|^ok' || true
