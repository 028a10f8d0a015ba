#!/usr/bin/env bash
# Sets up what is missing, then runs every check and test: formatting, lints (server and
# WASM), unit and integration tests against real redis-servers, and Playwright in
# Chromium against the release build. The exit code is the verdict.
set -euo pipefail
cd "$(dirname "$0")"
source .ci/setup.sh

setup_toolchain
setup_test_tools

say "cargo fmt --check"
cargo fmt --all -- --check

say "clippy (server)"
cargo clippy --all-targets --features ssr -- -D warnings
say "clippy (browser, wasm32)"
cargo clippy --lib --target wasm32-unknown-unknown --features hydrate -- -D warnings

say "unit and integration tests (each test starts its own redis-server, or a Redis Cluster of six)"
cargo test --features ssr

build_release

say "end-to-end tests (Playwright, Chromium; nginx in front of a shop)"
work=$(mktemp -d)
redis_port=$(free_port)
app_port=$(free_port)
shop_port=$(free_port)
nginx_port=$(free_port)
cleanup() {
  [ -n "${server_pid:-}" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [ -n "${shop_pid:-}" ] && kill "$shop_pid" 2>/dev/null
  stop_nginx "$work/nginx"
  stop_redis "$redis_port"
  rm -rf "$work"
}
trap cleanup EXIT
start_redis "$redis_port" "$work/redis"
REDIS_URL="redis://127.0.0.1:$redis_port" \
LEPTOS_SITE_ADDR="127.0.0.1:$app_port" \
WAITING_ROOM_CAPACITY=1 \
WAITING_ROOM_ADMIN_TOKEN=end2end-admin \
WAITING_ROOM_JOIN_RATE_PER_SECOND=0 \
RUST_LOG="${RUST_LOG:-warn}" \
  ./target/release/vestibule > "$work/server.log" 2>&1 &
server_pid=$!
# The shop behind nginx: any process that logs each request it serves.
python3 end2end/shop/origin.py "$shop_port" "$work/shop.log" "http://127.0.0.1:$app_port" &
shop_pid=$!
touch "$work/shop.log"
start_nginx "$work/nginx" "$nginx_port" "$app_port" "$shop_port"
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$app_port/" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; die "the server exited"; }
  sleep 0.1
done
(cd end2end && BASE_URL="http://127.0.0.1:$app_port" NGINX_URL="http://127.0.0.1:$nginx_port" \
  ADMIN_TOKEN=end2end-admin SHOP_LOG="$work/shop.log" npx playwright test) || {
  echo "--- server log"; tail -n 50 "$work/server.log"
  echo "--- nginx error log"; tail -n 20 "$work/nginx/error.log"; exit 1;
}
say "all checks passed"
