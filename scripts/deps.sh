#!/usr/bin/env bash
# Installs the Debian packages the tests use, when missing: redis-server
# (differential tests), redis-tools (redis-cli, redis-benchmark),
# python3-redis (redis-py RedisCluster tests) and iptables (partition tests).
set -euo pipefail
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
command -v redis-benchmark >/dev/null 2>&1 || need+=(redis-tools)
# redis-py for the system python (tests run /usr/bin/python3; a pyenv python
# on PATH would not see Debian's python3-redis).
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
"$PY" -c 'import redis' >/dev/null 2>&1 || need+=(python3-redis)
command -v iptables >/dev/null 2>&1 || need+=(iptables)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
echo "installing: ${need[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian starts a redis-server service on 6379 on install; tests do not need it.
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl stop redis-server >/dev/null 2>&1 || true; fi
