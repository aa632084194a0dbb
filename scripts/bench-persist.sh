#!/usr/bin/env bash
# Persistence benchmarks, slotkv-server vs redis-server 7 side by side, both
# with --dir on the same filesystem:
#  1. SET throughput with appendonly yes, appendfsync always and everysec,
#     redis-benchmark -c 50 at -P 1 and -P 16, slotkv and redis alternating
#     for ROUNDS rounds; requests/s, ratio, server CPU us/request.
#  2. Time to load LOAD_N keys (default 1,000,000; 16-byte keys, 32-byte
#     values) at startup: from the snapshot (RDB for redis) and from the AOF
#     (RESP commands, no rewrite), measured from process start until PING
#     answers PONG, plus the server's CPU time at that moment.
#   N=100000 ROUNDS=3 LOAD_N=1000000 PARTS=set,load SK_BIN=bin/slotkv-server scripts/bench-persist.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100000}
ROUNDS=${ROUNDS:-3}
LOAD_N=${LOAD_N:-1000000}
PARTS=${PARTS:-set,load}
FSYNCS=${FSYNCS:-always everysec}
PIPES=${PIPES:-1 16}
SK_ENV=${SK_ENV:-}
SK_BIN=${SK_BIN:-bin/slotkv-server}
[ -x "$SK_BIN" ] || go build -o bin/slotkv-server ./cmd/slotkv-server
freeport() { local p; for p in $(shuf -i 20000-29000 -n 100); do   # not listening (incl. cluster bus ports)
  ss -ltn | grep -q ":$p " || ss -ltn | grep -q ":$((p + 10000)) " || { echo $p; return; }; done; }
tmp=$(mktemp -d "${BENCH_DIR:-/tmp}/bench-persist.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
ticks() { awk '{print $14+$15}' /proc/$1/stat; }   # CPU time in clock ticks
TCK=$(getconf CLK_TCK)
waitping() { # port pid -> waits until PING answers PONG (not -LOADING)
  local i
  for i in $(seq 1 6000); do
    [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ] && return 0
    kill -0 "$2" 2>/dev/null || { echo "server on $1 died"; return 1; }
    sleep 0.01
  done
  echo "server on $1 did not answer"; return 1
}
start_sk() { # port dir args... -> prints pid
  local port=$1 dir=$2; shift 2
  env $SK_ENV "$SK_BIN" --port "$port" --bind 127.0.0.1 --dir "$dir" --logfile sk.log "$@" >/dev/null 2>&1 &
  echo $!
}
start_rd() {
  local port=$1 dir=$2; shift 2
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --logfile rd.log --daemonize no "$@" >/dev/null 2>&1 &
  echo $!
}
stop() { kill "$1" 2>/dev/null || true; for i in $(seq 1 500); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.02; done; kill -9 "$1" 2>/dev/null || true; }

echo "slotkv-server vs redis-server $(redis-server --version | awk '{print $3}'); $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); dir $tmp ($(df -T "$tmp" | awk 'NR==2{print $2}'))"

if [[ ,$PARTS, == *,set,* ]]; then
  # one PORT PID P -> "req/s cpu-ticks"
  one() {
    local a b v
    a=$(ticks $2)
    v=$(redis-benchmark -p "$1" -t set -n "$N" -c 50 -P "$3" -q --csv 2>/dev/null | tr -d '"' | awk -F, 'NR>1{printf "%.0f", $2}')
    b=$(ticks $2)
    echo "${v:-0} $((b - a))"
  }
  echo "== SET, appendonly yes: redis-benchmark -t set -n $N -c 50, $ROUNDS alternating rounds"
  printf "%-9s %-3s %10s %10s %6s   %13s %13s\n" fsync P slotkv redis ratio "slotkv us/req" "redis us/req"
  for fs in $FSYNCS; do
    SKP=$(freeport); RDP=$(freeport)
    mkdir -p "$tmp/sk-$fs" "$tmp/rd-$fs"
    args=(--save "" --appendonly yes --appendfsync "$fs" --auto-aof-rewrite-percentage 0)
    SK=$(start_sk $SKP "$tmp/sk-$fs" "${args[@]}"); pids+=($SK)
    RD=$(start_rd $RDP "$tmp/rd-$fs" "${args[@]}"); pids+=($RD)
    waitping $SKP $SK; waitping $RDP $RD
    for P in $PIPES; do
      skr=0 rdr=0 skc=0 rdc=0
      for r in $(seq 1 "$ROUNDS"); do
        read -r v c < <(one $SKP $SK $P); skr=$((skr + v)); skc=$((skc + c))
        read -r v c < <(one $RDP $RD $P); rdr=$((rdr + v)); rdc=$((rdc + c))
      done
      printf "%-9s %-3s %10.0f %10.0f %6.2f   %13.2f %13.2f\n" "$fs" "$P" "$(echo "$skr / $ROUNDS" | bc -l)" "$(echo "$rdr / $ROUNDS" | bc -l)" \
        "$(echo "$skr / $rdr" | bc -l)" "$(echo "$skc * 1000000 / $TCK / ($N * $ROUNDS)" | bc -l)" "$(echo "$rdc * 1000000 / $TCK / ($N * $ROUNDS)" | bc -l)"
    done
    stop $SK; stop $RD
    rm -rf "$tmp/sk-$fs" "$tmp/rd-$fs"
  done
fi

if [[ ,$PARTS, == *,load,* ]]; then
  [ -x "$tmp/benchload" ] || go build -o "$tmp/benchload" ./tools/benchload
  # logged KIND DIR -> the load time the server logged last (seconds)
  logged() {
    if [ "$1" = slotkv ]; then
      grep -E 'msg="DB loaded from' "$2/sk.log" | tail -1 | sed -E 's/.*seconds=([0-9.]+).*/\1/'
    else
      grep -E 'DB loaded from (disk|append only file)' "$2/rd.log" | tail -1 | sed -E 's/.*: ([0-9.]+) seconds.*/\1/'
    fi
  }
  # loadtime KIND DIR ARGS... -> "seconds cpu-seconds keys logged-seconds"
  loadtime() {
    local kind=$1 dir=$2 port pid t0 t1 c; shift 2
    port=$(freeport)
    t0=$(date +%s.%N)
    if [ "$kind" = slotkv ]; then pid=$(start_sk $port "$dir" "$@"); else pid=$(start_rd $port "$dir" "$@"); fi
    pids+=($pid)
    waitping $port $pid >&2
    t1=$(date +%s.%N)
    c=$(ticks $pid)
    local keys; keys=$(redis-cli -p $port dbsize)
    stop $pid
    echo "$(echo "$t1 - $t0" | bc -l) $(echo "$c / $TCK" | bc -l) $keys $(logged $kind "$dir")"
  }
  # prepare KIND DIR ARGS... : start, load LOAD_N keys, stop cleanly (SHUTDOWN flushes / saves)
  prepare() {
    local kind=$1 dir=$2 port pid; shift 2
    port=$(freeport); mkdir -p "$dir"
    if [ "$kind" = slotkv ]; then pid=$(start_sk $port "$dir" "$@"); else pid=$(start_rd $port "$dir" "$@"); fi
    pids+=($pid)
    waitping $port $pid
    "$tmp/benchload" -addr 127.0.0.1:$port -n "$LOAD_N" -label "$kind" >/dev/null
    [ "$3" = --appendonly ] && [ "$4" = no ] && redis-cli -p $port save >/dev/null
    stop $pid
  }
  echo
  echo "== load $LOAD_N keys at startup (16-byte keys, 32-byte values): load time the server logs,"
  echo "   seconds from exec until PING answers, server CPU seconds at that point"
  printf "%-36s %8s %8s %8s %9s\n" "" logged seconds cpu-s keys
  for kind in slotkv redis; do
    prepare $kind "$tmp/snap-$kind" --save "" --appendonly no
    prepare $kind "$tmp/aof-$kind" --save "" --appendonly yes --appendfsync no --auto-aof-rewrite-percentage 0
  done
  for r in $(seq 1 "$ROUNDS"); do
    for kind in slotkv redis; do
      read -r s c k l < <(loadtime $kind "$tmp/snap-$kind" --save "" --appendonly no)
      printf "%-36s %8s %8.3f %8.2f %9s\n" "$kind snapshot (round $r)" "$l" "$s" "$c" "$k"
    done
    for kind in slotkv redis; do
      read -r s c k l < <(loadtime $kind "$tmp/aof-$kind" --save "" --appendonly yes --appendfsync no --auto-aof-rewrite-percentage 0)
      printf "%-36s %8s %8.3f %8.2f %9s\n" "$kind AOF, RESP commands (round $r)" "$l" "$s" "$c" "$k"
    done
  done
  du -sh "$tmp"/snap-* "$tmp"/aof-* | sed 's|'"$tmp"'/||'
fi
