#!/usr/bin/env bash
# Sets up what is missing, starts a local Redis if none is configured (REDIS_URL or
# REDIS_CLUSTER_URLS) or answering, builds in release and serves Vestibule on $LEPTOS_SITE_ADDR (default 127.0.0.1:3000).
set -euo pipefail
cd "$(dirname "$0")"
source .ci/setup.sh

setup_toolchain

redis_port=""
cleanup() {
  [ -n "${server_pid:-}" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [ -n "$redis_port" ] && stop_redis_saving "$redis_port"
  return 0
}
stop_redis_saving() { redis-cli -h 127.0.0.1 -p "$1" shutdown >/dev/null 2>&1 || true; }
trap cleanup EXIT

if [ -n "${REDIS_CLUSTER_URLS:-}" ]; then
  say "using the Redis Cluster at $REDIS_CLUSTER_URLS (no local Redis started)"
elif [ -z "${REDIS_URL:-}" ]; then
  if [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; then
    say "using the Redis already answering on 127.0.0.1:6379"
  else
    say "starting a local Redis on 127.0.0.1:6379 (data in target/redis, AOF on)"
    start_redis 6379 "$PWD/target/redis"
    redis_port=6379
  fi
  export REDIS_URL=redis://127.0.0.1:6379
fi

build_release

export LEPTOS_SITE_ADDR="${LEPTOS_SITE_ADDR:-127.0.0.1:3000}"
say "serving on http://$LEPTOS_SITE_ADDR (Redis: ${REDIS_CLUSTER_URLS:-$REDIS_URL}); Ctrl-C stops"
./target/release/vestibule &
server_pid=$!
trap 'kill -TERM "$server_pid" 2>/dev/null || true' INT TERM
status=0
while kill -0 "$server_pid" 2>/dev/null; do
  wait "$server_pid" || status=$?
done
server_pid=""
exit "$status"
