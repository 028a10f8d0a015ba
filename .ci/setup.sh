# Shared set-up for ./run.sh and ./test.sh: installs what is missing, at pinned versions,
# and skips whatever is already there. Sourced, not run.

CARGO_LEPTOS_VERSION=0.3.10
WASM_BINDGEN_VERSION=0.2.130

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$HOME/.cargo/bin:$PWD/end2end/node_modules/.bin:$PATH"

# Debian packages, installed only when missing.
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get here: install them by hand (see README)"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  say "installing ${missing[*]} (apt)"
  $sudo apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

setup_toolchain() {
  command -v cargo >/dev/null || die "cargo not found: install Rust (rustup) first, see README"
  command -v npm >/dev/null || apt_install nodejs npm
  apt_install redis-server redis-tools pkg-config

  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown || die "rustup target add wasm32-unknown-unknown failed"
  fi
  if [ "$(cargo leptos --version 2>/dev/null)" != "cargo-leptos $CARGO_LEPTOS_VERSION" ]; then
    say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 12 minutes, once)"
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads \
      || die "cargo install cargo-leptos failed"
  fi
  if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
    say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
    # Not --locked: its lock file names a crate version the registry no longer has.
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force \
      || die "cargo install wasm-bindgen-cli failed"
  fi
  # npm: wasm-opt (binaryen, newer than Debian's) and Playwright, pinned by the lock file.
  if ! (cd end2end && npm ls --silent >/dev/null 2>&1); then
    say "installing npm packages (end2end/)"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) \
      || die "npm ci in end2end/ failed"
  fi
  command -v wasm-opt >/dev/null || die "wasm-opt not found after npm install"
}

setup_test_tools() {
  apt_install chromium curl nginx
}

# Starts nginx as this user, with its own prefix $1 and the end-to-end configuration
# (end2end/shop/nginx.conf.template): listening on $2, the room on $3, the shop on $4.
start_nginx() {
  mkdir -p "$1/tmp"
  sed -e "s#@DIR@#$1#g" -e "s#@PORT@#$2#g" -e "s#@ROOM@#$3#g" -e "s#@SHOP@#$4#g" \
    end2end/shop/nginx.conf.template > "$1/nginx.conf"
  nginx -p "$1" -c "$1/nginx.conf" -e "$1/error.log" -t -q || die "the nginx configuration is invalid"
  nginx -p "$1" -c "$1/nginx.conf" -e "$1/error.log" || die "nginx failed to start (see $1/error.log)"
  for _ in $(seq 1 50); do
    curl -s -o /dev/null "http://127.0.0.1:$2/" && return 0
    sleep 0.1
  done
  die "nginx did not answer on port $2"
}

stop_nginx() {
  [ -f "$1/nginx.pid" ] && kill "$(cat "$1/nginx.pid")" 2>/dev/null
  return 0
}

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits until a redis-server answers on port $1.
wait_for_redis() {
  for _ in $(seq 1 100); do
    [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = "PONG" ] && return 0
    sleep 0.1
  done
  die "redis-server on port $1 did not start"
}

# Starts redis-server on port $1 with data in $2 (AOF on); prints nothing.
start_redis() {
  mkdir -p "$2"
  redis-server --bind 127.0.0.1 --port "$1" --dir "$2" --appendonly yes --save "" \
    --daemonize yes --pidfile "$2/redis.pid" --logfile "$2/redis.log" >/dev/null \
    || die "redis-server failed to start (see $2/redis.log)"
  wait_for_redis "$1"
}

stop_redis() {
  redis-cli -h 127.0.0.1 -p "$1" shutdown nosave >/dev/null 2>&1 || true
}

# Six free ports for a Redis Cluster, each with its bus port (+10000) free. They come from
# below the kernel's ephemeral range (32768 and up), where no outgoing connection or
# bind(0) of another program takes them between this check and the nodes' start: nodes in
# 23000..25999, their buses in 33000..35999 (the tests use 20000..22699).
cluster_ports() {
  python3 - <<'PY'
import random, socket
def free(p):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); return True
    except OSError:
        return False
    finally:
        s.close()
ports = []
for p in random.sample(range(23000, 26000), 3000):
    if free(p) and free(p + 10000):
        ports.append(p)
    if len(ports) == 6:
        break
print(" ".join(map(str, ports)))
PY
}

# Starts a Redis Cluster of three primaries and three replicas: data in $1, ports $2..$7
# (AOF on, appendfsync everysec, as ./run.sh runs one Redis). Waits until every node
# serves every slot.
start_cluster() {
  local dir=$1 port nodes=()
  shift
  for port in "$@"; do
    mkdir -p "$dir/$port"
    rm -f "$dir/$port"/nodes-*.conf
    redis-server --bind 127.0.0.1 --port "$port" --dir "$dir/$port" --appendonly yes --save ""       --cluster-enabled yes --cluster-config-file "nodes-$port.conf" --cluster-node-timeout 2000       --daemonize yes --pidfile "$dir/$port/redis.pid" --logfile "$dir/$port/redis.log" >/dev/null       || die "redis-server (cluster node $port) failed to start"
    wait_for_redis "$port"
    nodes+=("127.0.0.1:$port")
  done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >/dev/null     || die "redis-cli --cluster create failed"
  for _ in $(seq 1 100); do
    local ok=1
    for port in "$@"; do
      redis-cli -p "$port" cluster info | grep -q '^cluster_state:ok' || ok=0
    done
    [ "$ok" = 1 ] && return 0
    sleep 0.1
  done
  die "the Redis Cluster did not become ready"
}

stop_cluster() {
  local port
  for port in "$@"; do stop_redis "$port"; done
}

# Builds the release site: server binary, WASM, hashed and precompressed assets.
# --split: the console's lazy islands go to WASM files of their own, which only the
# console's pages load (a waiting visitor downloads the main file only).
build_release() {
  say "building (release)"
  rm -f target/site/pkg/*
  cargo leptos build --release --split --precompress || die "build failed"
  # cargo-leptos gzips at a fast level; browsers without brotli get the smallest gzip.
  local f
  for f in target/site/pkg/*.gz; do
    gzip -9 -n -c "${f%.gz}" > "$f"
  done
}
