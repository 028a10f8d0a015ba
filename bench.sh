#!/usr/bin/env bash
# Benchmarks Vestibule against baselines measured in the same run, on 127.0.0.1 only.
#   ./bench.sh           full run (about 3 minutes after the build)
#   ./bench.sh --quick   a smoke run small enough for CI (numbers printed, nothing asserted)
# Prints a table and writes it to target/bench/results.md.
set -euo pipefail
cd "$(dirname "$0")"
source .ci/setup.sh

quick=0
[ "${1:-}" = "--quick" ] && quick=1
if [ "$quick" = 1 ]; then
  dur=2s; sessions=5000; releases=30; pollers=500; prequeue=20000
else
  dur=10s; sessions=100000; releases=300; pollers=10000; prequeue=1000000
fi

setup_toolchain
apt_install wrk redis-tools procps nginx
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

build_release
say "building the bare-axum baseline and the challenge solver"
cargo build --release --quiet --example bare_axum --example solutions --features ssr

out=target/bench
mkdir -p "$out"
work=$(mktemp -d)
redis_port=$(free_port)
app_port=$(free_port)
bare_port=$(free_port)
bare_xadd_port=$(free_port)
pids=()
cluster_nodes=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  stop_nginx "$work/nginx"
  stop_redis "$redis_port"
  # shellcheck disable=SC2086
  [ -n "$cluster_nodes" ] && stop_cluster $cluster_nodes
  rm -rf "$work"
}
trap cleanup EXIT

# --- load scripts (wrk runs Lua; each prints one RESULT line) -----------------------------
cat > "$work/report.lua" <<'EOF'
done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT rps=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d non2xx=%d requests=%d\n",
    summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    errors, summary.errors.status, summary.requests))
end
EOF
# Joins: distinct users over 50 events, realistic bodies. Arg 1: event prefix.
cat > "$work/join.lua" <<'EOF'
local n, threads = 0, 0
setup = function(thread) thread:set("tid", threads); threads = threads + 1 end
init = function(args)
  prefix = args[1] or "bench"
  uuids = args[2] == "uuid"
  -- A fresh run id per wrk process, so repeated runs never reuse a user (a reused user
  -- would be an idempotent re-join, not a new place in line).
  math.randomseed(os.time() * 1000 + tid)
  run = math.random(1, 2000000000)
end
request = function()
  n = n + 1
  local event = prefix
  if prefix == "bench" or prefix == "free" then event = prefix .. "-" .. (n % 50) end
  local user = string.format("u%d-%d-%d", run, tid, n)
  if uuids then
    user = string.format("%08x-%04x-4%03x-a%03x-%012x", run, tid, n % 4096, 0, n)
  end
  local body = string.format('{"eventId":"%s","userId":"%s"}', event, user)
  return wrk.format("POST", "/api/waiting-room/sessions", { ["Content-Type"] = "application/json" }, body)
end
EOF
cat "$work/report.lua" >> "$work/join.lua"
# Status polls over a file of session ids. Arg 1: the file.
cat > "$work/poll.lua" <<'EOF'
local ids = {}
init = function(args)
  for line in io.lines(args[1]) do ids[#ids + 1] = line end
  math.randomseed(os.time() + #ids)
end
request = function()
  return wrk.format("GET", "/api/waiting-room/sessions/" .. ids[math.random(#ids)])
end
EOF
cat "$work/report.lua" >> "$work/poll.lua"

# run_wrk NAME CONNECTIONS SCRIPT URL [ARGS...]: prints the RESULT fields into $work/NAME.
run_wrk() {
  local name=$1 conns=$2 script=$3 url=$4
  shift 4
  wrk -t2 -c"$conns" -d"$dur" --timeout 10s -s "$script" "$url" -- "$@" > "$work/$name.out" 2>&1 \
    || { cat "$work/$name.out"; die "wrk $name failed"; }
  grep '^RESULT' "$work/$name.out" | sed 's/^RESULT //' > "$work/$name"
  say "$name: $(cat "$work/$name")"
}
field() { sed -n "s/.*$2=\([^ ]*\).*/\1/p" "$work/$1"; }
# CPU seconds the redis-server process has used (INFO cpu: used_cpu_user + used_cpu_sys;
# not its forked children, which only rewrite the AOF).
redis_cpu() { rcli INFO cpu | tr -d '\r' | awk -F: '/^used_cpu_(user|sys):/ { s += $2 } END { printf "%.6f", s }'; }
# CPU seconds process $1 has used (/proc: user + system).
proc_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.6f", ($14 + $15) / hz }' "/proc/$1/stat"; }
# run_cpu NAME PID CONNS SCRIPT URL [ARGS...]: run_wrk, and the CPU per request (µs) of
# process PID and of Redis over the run, into $work/NAME.cpu ("server=… redis=…").
run_cpu() {
  local name=$1 pid=$2 r0 p0
  shift 2
  r0=$(redis_cpu); p0=$(proc_cpu "$pid")
  run_wrk "$name" "$@"
  python3 -c "
n = $(field "$name" requests) or 1
print(f'server={($(proc_cpu "$pid") - $p0) * 1e6 / n:.1f} redis={($(redis_cpu) - $r0) * 1e6 / n:.1f}')" > "$work/$name.cpu"
  say "$name CPU per request (µs): $(cat "$work/$name.cpu")"
}
cpu() { field "$1.cpu" "$2"; }
rcli() { redis-cli -h 127.0.0.1 -p "$redis_port" "$@"; }
# Redis's own count of commands (INFO commandstats, commands run by scripts included), and
# of script calls alone.
redis_calls() { rcli INFO commandstats | sed -n 's/^cmdstat_[^:]*:calls=\([0-9]*\).*/\1/p' | paste -sd+ | python3 -c 'print(eval(input()))'; }
# Script calls (EVALSHA) a redis-server on port $1 has run.
script_calls() {
  local n
  n=$(redis-cli -h 127.0.0.1 -p "$1" INFO commandstats | sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\).*/\1/p')
  echo "${n:-0}"
}
admin() {
  curl -fsS -X "$1" "http://127.0.0.1:$app_port$2" -H 'authorization: Bearer bench' \
    -H 'content-type: application/json' ${3:+-d "$3"} > /dev/null
}

# --- processes -------------------------------------------------------------------------
start_redis "$redis_port" "$work/redis"   # AOF on (appendfsync everysec), as ./run.sh runs it
REDIS_URL="redis://127.0.0.1:$redis_port" LEPTOS_SITE_ADDR="127.0.0.1:$app_port" \
WAITING_ROOM_JOIN_RATE_PER_SECOND=0 WAITING_ROOM_CHALLENGE=off WAITING_ROOM_ADMIN_TOKEN=bench WAITING_ROOM_ABANDON_SECONDS=3600 \
RUST_LOG=warn ./target/release/vestibule > "$work/server.log" 2>&1 &
app_pid=$!
pids+=("$app_pid")
ADDR="127.0.0.1:$bare_port" ./target/release/examples/bare_axum > /dev/null 2>&1 &
bare_pid=$!
pids+=("$bare_pid")
# The same baseline with one XADD per join on the same Redis (src/bench/bare_axum.rs).
REDIS_URL="redis://127.0.0.1:$redis_port" ADDR="127.0.0.1:$bare_xadd_port" \
  ./target/release/examples/bare_axum > /dev/null 2>&1 &
bare_xadd_pid=$!
pids+=("$bare_xadd_pid")
for port in "$app_port" "$bare_port" "$bare_xadd_port"; do
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break   # any HTTP answer
    sleep 0.1
  done
done
app="http://127.0.0.1:$app_port"
bare="http://127.0.0.1:$bare_port"
bare_xadd="http://127.0.0.1:$bare_xadd_port"

# --- 1. joins --------------------------------------------------------------------------
say "joins at 64 connections ($dur each)"
run_cpu bare_join "$bare_pid" 64 "$work/join.lua" "$bare" bench
# The ceiling of a join that touches Redis here: the bare handler and one XADD.
run_cpu bare_xadd_join "$bare_xadd_pid" 64 "$work/join.lua" "$bare_xadd" bench
rcli EVAL "for _, k in ipairs(redis.call('KEYS', 'bench-xadd:*')) do redis.call('DEL', k) end" 0 > /dev/null
# The 50 events exist before the measured run (their first joins register them).
wrk -t2 -c64 -d1s -s "$work/join.lua" "$app" -- bench > /dev/null 2>&1
join_scripts_before=$(script_calls "$redis_port")
run_cpu join "$app_pid" 64 "$work/join.lua" "$app" bench
join_calls_per_join=$(python3 -c "print(f'{($(script_calls "$redis_port") - $join_scripts_before) / $(field join requests):.3f}')")
say "script calls per join: $join_calls_per_join"
redis-benchmark -h 127.0.0.1 -p "$redis_port" -c 64 -n 200000 --csv \
  XADD benchstream '*' sessionId 0b6c3f9e-8a51-4c7e-9d0a-2f4f5b8e1c3d eventId E1 userId user-1 \
  > "$work/xadd.csv"
rcli DEL benchstream > /dev/null
# The Redis side of a join alone: the join script, run by redis-benchmark (distinct users).
# Loads a script exactly as the store sends it (the server prints it: its contract's
# generated head, common.lua, the script; see src/store/scripts.rs) and prints its SHA.
sha() { rcli SCRIPT LOAD "$(./target/release/vestibule --print-script "$1.lua")"; }
rb_script() {
  local row
  row=$(redis-benchmark -h 127.0.0.1 -p "$redis_port" -c 64 -n "$1" -r 100000000 --csv EVALSHA "${@:2}" \
    | tail -n 1 | cut -d, -f2,7 | tr -d '"')
  [[ "$row" =~ ^[0-9.]+,[0-9.]+$ ]] || die "redis-benchmark EVALSHA $2 failed: $row"
  echo "$row"
}
# The event's number is in its meta (the scripts check it), as registration writes it.
rcli HSET 'wr:{rb}:meta' number 000001 > /dev/null
# One join per call (the Join contract: no `now` (Redis's clock), a batch of 1 event, a
# full event (capacity 0: no standby admission), a session length; then event 1's join,
# its user's bucket, no deadline, no challenge's nonce).
row=$(rb_script 100000 "$(sha join)" 9 \
  'waiting-room-joins:{rb}' 'wr:{rb}:meta' 'wr:{rb}:s:' 'wr:{rb}:u:' 'wr:{rb}:left' 'wr:{rb}:rank:' \
  'wr:{rb}:active' 'wr:{rb}:pow:' 'wr:{rb}:back' '' 1 0 600000 000001 rb 1 8000-000000000001 u__rand_int__ abc 1 0 '' 1)
IFS=, read -r join_script_rps join_script_p99 <<< "$row"
say "join script alone (redis-benchmark EVALSHA): rps=$join_script_rps p99_ms=$join_script_p99"
# The same at batch 64: one call carries 64 joins of one event (as the store's writer
# batches them under load), each with its own random user.
batch_args=()
# A user's bucket is the caller's (the first 3 hex digits of the SHA-1 of its id, which a
# placeholder cannot compute): each join of the call its own.
for i in $(seq 64); do
  batch_args+=(1 8000-000000000001 u__rand_int__ "$(printf '%03x' $((i * 61)))" 1 0 '' 1)
done
rcli HSET 'wr:{rb64}:meta' number 000002 > /dev/null
row=$(rb_script $((quick ? 300 : 3000)) "$(sha join)" 9 \
  'waiting-room-joins:{rb64}' 'wr:{rb64}:meta' 'wr:{rb64}:s:' 'wr:{rb64}:u:' 'wr:{rb64}:left' \
  'wr:{rb64}:rank:' 'wr:{rb64}:active' 'wr:{rb64}:pow:' 'wr:{rb64}:back' '' 1 0 600000 000002 rb64 "${batch_args[@]}")
IFS=, read -r join_batch_calls join_batch_p99 <<< "$row"
join_batch_rps=$(python3 -c "print(f'{$join_batch_calls * 64:.0f}')")
say "join script alone at batch 64: $join_batch_calls calls/s = $join_batch_rps joins/s, p99_ms=$join_batch_p99"
xadd_rps=$(tail -n 1 "$work/xadd.csv" | cut -d, -f2 | tr -d '"')
xadd_p99=$(tail -n 1 "$work/xadd.csv" | cut -d, -f7 | tr -d '"')
say "redis-benchmark XADD: rps=$xadd_rps p99_ms=$xadd_p99"

# --- 2. a line of waiting sessions: memory per session, then status polls ---------------
# Fills event $1 (capacity 0) with $sessions waiting sessions through the HTTP API ($2:
# "uuid" for 36-character user ids); sets `filled` and `bytes_per_session`.
fill_line() {
  say "filling a line of $sessions waiting sessions (event '$1', capacity 0${2:+, $2 user ids})"
  admin PUT "/api/admin/events/$1" '{"capacity":0}'
  local before after
  before=$(rcli INFO memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
  filled=0
  for _ in $(seq 1 60); do
    [ "$filled" -lt "$sessions" ] || break
    wrk -t2 -c64 -d1s -s "$work/join.lua" "$app" -- "$1" ${2:-} > /dev/null 2>&1
    filled=$(rcli HGET "wr:{$1}:meta" seq)
  done
  [ "$filled" -ge "$sessions" ] || die "could only fill $filled of $sessions sessions"
  after=$(rcli INFO memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
  bytes_per_session=$(( (after - before) / filled ))
  say "$filled waiting sessions: $bytes_per_session bytes of Redis memory each"
}
fill_line line
rcli XRANGE 'waiting-room-joins:{line}' - + | awk 'prev == "sessionId" { print } { prev = $0 }' \
  > "$work/ids"
# A session id carries its join number and tag (src/store/ids.rs), the status script's arguments.
read -r first_q first_tag first_event < <(head -n 1 "$work/ids" \
  | python3 -c 'import sys; s = sys.stdin.read().strip(); print(int(s[6:8] + s[9:13] + s[15:18], 16), s[19:], s[:6])')

row=$(rb_script 200000 "$(sha status)" 9 'waiting-room-joins:{line}' \
  'wr:{line}:meta' 'wr:{line}:s:' 'wr:{line}:u:' 'wr:{line}:done' 'wr:{line}:left' 'wr:{line}:rank:' \
  'wr:{line}:back' 'wr:{line}:moved' '' "$first_q" "$first_tag" 5000 "$first_event")
IFS=, read -r status_script_rps status_script_p99 <<< "$row"
say "status script alone (redis-benchmark EVALSHA): rps=$status_script_rps p99_ms=$status_script_p99"

say "status polls at 64 connections over $filled sessions"
run_wrk bare_poll 64 "$work/poll.lua" "$bare" "$work/ids"
# Redis's commands in a quiet window and then under the polls, both $dur long: what the
# polls add (the granter's ticks over the join events run in both).
calls_before=$(redis_calls)
sleep "${dur%s}"
poll_calls_idle=$(( $(redis_calls) - calls_before ))
calls_before=$(redis_calls)
run_wrk poll 64 "$work/poll.lua" "$app" "$work/ids"
poll_calls_load=$(( $(redis_calls) - calls_before ))
poll_calls_per_1000=$(python3 -c "print(f'{max(0, $poll_calls_load - $poll_calls_idle) * 1000 / $(field poll requests):.2f}')")
say "Redis commands per 1,000 polls: $poll_calls_per_1000 ($poll_calls_load in the window, $poll_calls_idle in a quiet one)"

say "server memory at $pollers concurrent pollers"
rss_idle=$(awk '/VmRSS/ {print $2}' /proc/$app_pid/status)
run_wrk pollers "$pollers" "$work/poll.lua" "$app" "$work/ids" &
wrk_pid=$!
sleep "$(( ${dur%s} * 3 / 4 ))"
rss_busy=$(awk '/VmRSS/ {print $2}' /proc/$app_pid/status)
wait "$wrk_pid"
rss_peak=$(awk '/VmHWM/ {print $2}' /proc/$app_pid/status)

# --- 2b. the gate: what nginx asks before every request to the shop -------------------
say "gate checks at 64 connections (one admitted pass, sent as the cookie a browser sends)"
admin PUT /api/admin/events/gate '{"capacity":10}'
gate_sid=$(curl -fsS "$app/api/waiting-room/sessions" -H 'content-type: application/json' \
  -d '{"eventId":"gate","userId":"gate-user"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["sessionId"])')
pass=""
for _ in $(seq 1 100); do
  pass=$(curl -fsS "$app/api/waiting-room/sessions/$gate_sid" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin).get("accessToken", ""))')
  [ -n "$pass" ] && break
  sleep 0.05
done
[ -n "$pass" ] || die "the gate's session was never admitted"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "cookie: vestibule_pass=$pass" "$app/api/waiting-room/gate/gate")" = 204 ] \
  || die "the gate refused a valid pass"
printf '%s\n' 'request = function() return wrk.format("GET", "/api/waiting-room/gate/gate") end' > "$work/gate.lua"
cat "$work/report.lua" >> "$work/gate.lua"
run_gate() {
  wrk -t2 -c64 -d"$dur" --timeout 10s -H "cookie: vestibule_pass=$pass" -s "$work/gate.lua" "$2" \
    > "$work/$1.out" 2>&1 || { cat "$work/$1.out"; die "wrk $1 failed"; }
  grep '^RESULT' "$work/$1.out" | sed 's/^RESULT //' > "$work/$1"
  say "$1: $(cat "$work/$1")"
}
run_gate bare_gate "$bare"
# Redis's own count of commands, in a quiet window and then under the gate's load, both
# $dur long: what the load adds (the granter's ticks and the revocation reader run in both).
calls_before=$(redis_calls)
sleep "${dur%s}"
calls_idle=$(( $(redis_calls) - calls_before ))
calls_before=$(redis_calls)
run_gate gate "$app"
calls_load=$(( $(redis_calls) - calls_before ))
gate_calls_per_1000=$(python3 -c "print(f'{max(0, $calls_load - $calls_idle) * 1000 / $(field gate requests):.3f}')")
say "Redis commands per 1,000 gate checks: $gate_calls_per_1000 ($calls_load in the window, $calls_idle in a quiet one)"

# --- 2c. standby: the shop's URL, through nginx, back in the shop with a pass ---------
# A real nginx (end2end/shop/nginx.conf.template) in front of the end-to-end shop. A flow is
# what a browser does at an empty event: the shop's URL without a pass (nginx: 302 to the
# line), the line's page as a navigation (the room: 303 back with a pass), the shop's URL
# with the pass (200). Against it: one request to the shop with a pass through the same
# nginx. The same Python client (threads, keep-alive connections) runs both.
say "standby through nginx: shop URL → shop with a pass, against a direct request to the shop"
shop_port=$(free_port)
nginx_port=$(free_port)
python3 end2end/shop/origin.py "$shop_port" "$work/shop.log" "$app" > /dev/null 2>&1 &
pids+=("$!")
start_nginx "$work/nginx" "$nginx_port" "$app_port" "$shop_port"
admin PUT /api/admin/events/standby \
  "{\"capacity\":1000000,\"targetUrl\":\"http://127.0.0.1:$nginx_port/shop/standby/\"}"
cat > "$work/standby.py" <<'EOF'
import http.client, sys, threading, time
port, mode, seconds, threads = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
NAV = {"accept": "text/html", "sec-fetch-mode": "navigate", "sec-fetch-dest": "document",
       "sec-fetch-site": "same-site"}
def get(conn, path, headers):
    conn.request("GET", path, headers=headers)
    res = conn.getresponse()
    res.read()
    return res
def flow(conn, i):
    """The three requests of a browser let straight through; its pass, or None."""
    path = f"/shop/standby/item?n={i}"
    first = get(conn, path, {})
    if first.status != 302:
        return None
    back = get(conn, first.getheader("location"), NAV)
    cookie = next((c.split(";")[0] for c in back.headers.get_all("set-cookie") or []
                   if c.startswith("vestibule_pass=")), None)
    if back.status != 303 or not back.getheader("location", "").endswith(path) or not cookie:
        return None
    shop = get(conn, path, {"cookie": cookie})
    return cookie if shop.status == 200 else None
lat, errors, lock = [], [0], threading.Lock()
held = flow(http.client.HTTPConnection("127.0.0.1", port), "pass")
assert held, "the standby flow did not reach the shop"
def worker(t):
    conn, mine, n, end = http.client.HTTPConnection("127.0.0.1", port), [], 0, time.time() + seconds
    while time.time() < end:
        n += 1
        start = time.perf_counter()
        try:
            if mode == "flow":
                ok = flow(conn, f"{t}-{n}") is not None
            else:
                ok = get(conn, "/shop/standby/item", {"cookie": held}).status == 200
        except (OSError, http.client.HTTPException):
            # A socket error is an error too (counted, not a lost thread): a new connection.
            ok, conn = False, http.client.HTTPConnection("127.0.0.1", port)
        mine.append(time.perf_counter() - start)
        if not ok:
            with lock:
                errors[0] += 1
    with lock:
        lat.extend(mine)
pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
began = time.time()
for t in pool:
    t.start()
for t in pool:
    t.join()
lat.sort()
pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000
print(f"RESULT rps={len(lat) / (time.time() - began):.0f} p50_ms={pct(0.5):.2f} "
      f"p99_ms={pct(0.99):.2f} errors={errors[0]} non2xx=0 requests={len(lat)}")
EOF
for leg in direct flow; do
  python3 "$work/standby.py" "$nginx_port" "$leg" "${dur%s}" 16 > "$work/standby_$leg.out" 2>&1 \
    || { cat "$work/standby_$leg.out"; die "the standby $leg run failed"; }
  grep '^RESULT' "$work/standby_$leg.out" | sed 's/^RESULT //' > "$work/standby_$leg"
  say "standby_$leg: $(cat "$work/standby_$leg")"
  [ "$(field "standby_$leg" errors)" = 0 ] || die "standby $leg requests failed: $(cat "$work/standby_$leg")"
done

# --- 3. granter drain: open the line --------------------------------------------------
# An AOF rewrite triggered by the fill would share the two cores with the drain.
while rcli INFO persistence | grep -q '^aof_rewrite_in_progress:1'; do sleep 0.2; done
say "granter drain: $filled waiting, capacity raised to 1,000,000"
start=$(date +%s%N)
admin PUT /api/admin/events/line '{"capacity":1000000}'
while [ "$(rcli ZCARD 'wr:{line}:active')" -lt "$filled" ]; do sleep 0.01; done
end=$(date +%s%N)
drain_ms=$(( (end - start) / 1000000 ))
drain_rate=$(( filled * 1000 / (drain_ms > 0 ? drain_ms : 1) ))
say "drained $filled in $drain_ms ms: $drain_rate grants/s"

# --- 4. slot freed -> next ACTIVE --------------------------------------------------------
say "slot freed -> next ACTIVE over $releases releases (event 'turns', capacity 1)"
admin PUT /api/admin/events/turns '{"capacity":1}'
for i in $(seq 0 "$releases"); do
  curl -fsS -o /dev/null "$app/api/waiting-room/sessions" -H 'content-type: application/json' \
    -d "{\"eventId\":\"turns\",\"userId\":\"t$i\"}"
done
for _ in $(seq 1 "$releases"); do
  sid=""
  while [ -z "$sid" ]; do sid=$(rcli ZRANGE 'wr:{turns}:active' 0 0); done
  curl -fsS -o /dev/null -X DELETE "$app/api/waiting-room/sessions/$sid"
  while [ "$(rcli ZRANGE 'wr:{turns}:active' 0 0)" = "$sid" ] || [ "$(rcli ZCARD 'wr:{turns}:active')" = 0 ]; do :; done
done
# Both ends come from Redis's own clock: a release is stamped in `done`, a grant's time is
# its `until` minus the session length (300 s).
for key in $(rcli --scan --pattern 'wr:{turns}:s:*'); do
  rcli HGETALL "$key" | paste - - | sed "s/^/${key##*:} /"
done > "$work/turns.sessions"
rcli ZRANGE 'wr:{turns}:done' 0 -1 WITHSCORES > "$work/turns.done"
read -r grant_p50 grant_p99 grant_n < <(python3 - "$work/turns.sessions" "$work/turns.done" <<'EOF'
import sys
# Lines "bucket field value" of the session buckets (src/store/lua/common.lua): field
# n holds "S|seen|until|tag" of join bucket * 64 + n.
until = {}
for line in open(sys.argv[1]):
    bucket, field, value = line.split()
    if not field.startswith("u"):
        until[int(bucket) * 64 + int(field)] = int(value.split("|")[2])
d = open(sys.argv[2]).read().split()
left = {int(d[i]): int(d[i + 1]) for i in range(0, len(d), 2)}
lat = []
for q in sorted(until):
    if q in left and until.get(q + 1, 0) > 0:
        lat.append(until[q + 1] - 300_000 - left[q])
lat.sort()
pick = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
print(pick(0.50), pick(0.99), len(lat))
EOF
)
say "slot freed -> next ACTIVE: p50=${grant_p50} ms p99=${grant_p99} ms over $grant_n releases"

# --- 5. memory with long user ids (last: the extra line must not weigh on the others) ---
lines_filled=$filled; lines_bytes=$bytes_per_session
fill_line line36 uuid
filled36=$filled; bytes36=$bytes_per_session
filled=$lines_filled; bytes_per_session=$lines_bytes

# --- 5b. a fair start: a pre-queue placed at the opening (README, "A fair start") -------
say "fair start: filling a pre-queue of $prequeue (event 'opening', opens tomorrow)"
tomorrow=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)
admin PUT /api/admin/events/opening "{\"capacity\":0,\"opensAt\":\"$tomorrow\"}"
pre=0
for _ in $(seq 1 600); do
  [ "$pre" -lt "$prequeue" ] || break
  wrk -t2 -c64 -d2s -s "$work/join.lua" "$app" -- opening > /dev/null 2>&1
  pre=$(rcli HGET 'wr:{opening}:meta' seq)
done
[ "$pre" -ge "$prequeue" ] || die "could only fill $pre of $prequeue in the pre-queue"
rcli XRANGE 'waiting-room-joins:{opening}' - + COUNT 20000 | awk 'prev == "sessionId" { print } { prev = $0 }' \
  > "$work/opening_ids"
say "opening $pre people while 64 connections poll them"
run_wrk opening_poll 64 "$work/poll.lua" "$app" "$work/opening_ids" &
poll_pid=$!
sleep "$(( ${dur%s} / 3 ))"
opened_at=$(date +%s%N)
admin PUT /api/admin/events/opening "{\"capacity\":0,\"opensAt\":\"$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)\"}"
for _ in $(seq 1 10000); do
  [ "$(rcli HGET 'wr:{opening}:meta' draw_round)" = 1 ] && break
  sleep 0.001
done
[ "$(rcli HGET 'wr:{opening}:meta' draw_round)" = 1 ] || die "no draw at the opening"
placed_ms=$(( ($(date +%s%N) - opened_at) / 1000000 ))
wait "$poll_pid"
first_pos=$(curl -fsS "$app/api/waiting-room/sessions/$(head -n 1 "$work/opening_ids")" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin).get("position", "none"))')
[ "$first_pos" != none ] || die "no position after the opening"
digest_start=$(date +%s%N)
curl -fsS -o /dev/null "$app/api/waiting-room/events/opening/draw"
digest_ms=$(( ($(date +%s%N) - digest_start) / 1000000 ))
say "placed $pre at the opening in $placed_ms ms (polls meanwhile: $(cat "$work/opening_poll")); the published digest took $digest_ms ms"

# --- 6. what the browser downloads ------------------------------------------------------
# A waiting visitor: the main WASM file, the JS that loads it and the split loader. The
# console's lazy islands are WASM files of their own (split_*, chunk_*), loaded by its pages.
wasm=$(ls target/site/pkg/vestibule.*.wasm)
js=$(ls target/site/pkg/vestibule.*.js)
split_js=$(ls target/site/pkg/__wasm_split.*.js)
size() { stat -c %s "$1"; }
sizes() { local f total=0; for f in "$@"; do total=$((total + $(stat -c %s "$f"))); done; echo "$total"; }
console_wasm=$(ls target/site/pkg/split_*.wasm target/site/pkg/chunk_*.wasm)
served=$(curl -sS -o /dev/null -D - -H 'accept-encoding: br' "$app/pkg/$(basename "$wasm")" \
  | tr -d '\r' | grep -iE '^(content-encoding|cache-control):' | tr '\n' ' ')

# --- 7. the same room on a Redis Cluster (3 primaries, 3 replicas) ---------------------
# Joins and polls spread over the 50 events of the join load, on one Redis and then on a
# cluster, in this run. One process each; on 2 cores no speed-up is expected.
# Up to 200 session ids of each of the 50 join events; "$@" is a redis-cli command.
spread_ids() {
  local e
  for e in $(seq 0 49); do
    "$@" XRANGE "waiting-room-joins:{bench-$e}" - + COUNT 200 | awk 'prev == "sessionId" { print } { prev = $0 }'
  done
}
say "polls spread over the 50 join events, one Redis"
spread_ids rcli > "$work/spread_ids"
run_wrk spread_poll 64 "$work/poll.lua" "$app" "$work/spread_ids"
# Joins that pay (the join's challenge, README "Bots and accounts"): 50 events with
# `challenge: always`; the load generator solved one challenge per join before the run
# (src/bench/solutions.rs), and each request carries its own solution. Against joins of
# the same length without a challenge, run just before, into 50 events set up the same way
# (configured now, empty: their first joins are admitted at once, with a pass signed, as
# the paid events' are) with `challenge: off`. (Set against the join load's events, which
# are full by then, the ratio measured standby's passes as much as the challenge: 0.75×.)
paid_dur=$([ "$quick" = 1 ] && echo 2s || echo 4s)
paid_n=$([ "$quick" = 1 ] && echo 40000 || echo 120000)
for e in $(seq 0 49); do
  admin PUT "/api/admin/events/paid-$e/entry" '{"entry": "open", "challenge": "always"}'
  admin PUT "/api/admin/events/free-$e/entry" '{"entry": "open", "challenge": "off"}'
done
./target/release/examples/solutions "$app" paid "$paid_n" "$work/solutions" > "$work/solutions.out"
say "$(cat "$work/solutions.out")"
cat > "$work/paid.lua" <<'EOF'
local reqs, n, threads = {}, 0, 0
setup = function(thread) thread:set("tid", threads); threads = threads + 1 end
init = function(args)
  -- Each of wrk's two threads takes every other solution, its requests made here once, so
  -- that sending one allocates nothing (the Lua heap of 10^5 solutions would otherwise
  -- make wrk's garbage collector, on the same 2 cores, the slowest part of the run).
  local i = 0
  for line in io.lines(args[1]) do
    if i % 2 == tid then
      local event, user, solution = line:match("(%S+) (%S+) (%S+)")
      local body = string.format('{"eventId":"%s","userId":"%s"}', event, user)
      reqs[#reqs + 1] = wrk.format("POST", "/api/waiting-room/sessions",
        { ["Content-Type"] = "application/json", ["Vestibule-Solution"] = solution }, body)
    end
    i = i + 1
  end
  collectgarbage()
end
request = function()
  n = n + 1
  return reqs[((n - 1) % #reqs) + 1]
end
EOF
cat "$work/report.lua" >> "$work/paid.lua"
dur_before=$dur
dur=$paid_dur
run_cpu free_join "$app_pid" 64 "$work/join.lua" "$app" free
run_cpu paid_join "$app_pid" 64 "$work/paid.lua" "$app" "$work/solutions"
dur=$dur_before
[ "$(field paid_join requests)" -le "$paid_n" ] \
  || say "warning: the paid joins outran the $paid_n solutions (the rest were refused)"

# Every join into one hot event (registered by a first second of joins). Last on this
# server: its ~200,000 sessions would crowd the polled line out of the server's memory of
# sessions (src/store/polls.rs, SESSIONS) and make the poll rows read Redis.
say "joins into one hot event at 64 connections"
wrk -t2 -c64 -d1s -s "$work/join.lua" "$app" -- hot > /dev/null 2>&1
run_cpu hot_join "$app_pid" 64 "$work/join.lua" "$app" hot
kill -TERM "$app_pid"; wait "$app_pid" 2>/dev/null || true

say "starting a Redis Cluster (3 primaries, 3 replicas)"
cluster_nodes=$(cluster_ports)
# shellcheck disable=SC2086
start_cluster "$work/cluster" $cluster_nodes
cluster_urls=$(for p in $cluster_nodes; do printf 'redis://127.0.0.1:%s,' "$p"; done)
cluster_app_port=$(free_port)
REDIS_CLUSTER_URLS="${cluster_urls%,}" LEPTOS_SITE_ADDR="127.0.0.1:$cluster_app_port" \
WAITING_ROOM_JOIN_RATE_PER_SECOND=0 WAITING_ROOM_CHALLENGE=off WAITING_ROOM_ABANDON_SECONDS=3600 \
RUST_LOG=warn ./target/release/vestibule > "$work/cluster-server.log" 2>&1 &
pids+=("$!")
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$cluster_app_port/" && break
  sleep 0.1
done
cluster_app="http://127.0.0.1:$cluster_app_port"
primaries=$(for p in $cluster_nodes; do
  if [ "$(redis-cli -p "$p" ROLE | head -n 1)" = master ]; then echo "$p"; fi
done)
declare -A calls_at_start
for p in $primaries; do calls_at_start[$p]=$(script_calls "$p"); done
run_wrk cluster_join 64 "$work/join.lua" "$cluster_app" bench
spread_ids redis-cli -c -p "${primaries%%$'\n'*}" > "$work/cluster_ids"
run_wrk cluster_poll 64 "$work/poll.lua" "$cluster_app" "$work/cluster_ids"
cluster_spread=$(for p in $primaries; do
  n=$(( $(script_calls "$p") - ${calls_at_start[$p]} ))
  echo "$p $n"
done | python3 -c '
import sys
rows = [line.split() for line in sys.stdin]
total = sum(int(n) for _, n in rows) or 1
print(" / ".join(f"{int(n):,} ({100 * int(n) / total:.0f} %)" for _, n in rows))')
say "script calls per primary (joins, polls, granter): $cluster_spread"

# --- 8. the join's challenge: what checking a solution costs the room --------------------
challenge_cost=$(./target/release/vestibule --measure-challenge 20000)
challenge_check_us=$(echo "$challenge_cost" | sed -n 's/^challenge check \([0-9.]*\) us.*/\1/p')
challenge_made_us=$(echo "$challenge_cost" | sed -n 's/.*challenge made \([0-9.]*\) us.*/\1/p')
say "$challenge_cost"
# --- table -----------------------------------------------------------------------------
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
join_ratio=$(ratio "$(field join rps)" "$(field bare_join rps)")
poll_ratio=$(ratio "$(field poll rps)" "$(field bare_poll rps)")
gate_ratio=$(ratio "$(field gate rps)" "$(field bare_gate rps)")
mode=$([ "$quick" = 1 ] && echo "quick" || echo "full")
{
  echo "## ./bench.sh ($mode) — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); $(redis-server --version | cut -d' ' -f3); load generator wrk -t2, all on 127.0.0.1."
  echo
  echo "| scenario | Vestibule | baseline (same run) | ratio | target |"
  echo "|---|---|---|---|---|"
  echo "| bare axum + one XADD per join on the same Redis (the ceiling of a join that writes to Redis here), 64 conns | | $(field bare_xadd_join rps) req/s, p99 $(field bare_xadd_join p99_ms) ms; server $(cpu bare_xadd_join server) µs, Redis $(cpu bare_xadd_join redis) µs CPU per join | $(ratio "$(field bare_xadd_join rps)" "$(field bare_join rps)")× bare | |"
  echo "| join throughput, 64 conns | $(field join rps) req/s | bare axum $(field bare_join rps) req/s; redis-benchmark XADD $xadd_rps req/s | ${join_ratio}× bare | ≥ 0.60× |"
  echo "| ↳ joins over 50 events against the XADD ceiling | $(field join rps) req/s | bare + XADD $(field bare_xadd_join rps) req/s | $(ratio "$(field join rps)" "$(field bare_xadd_join rps)")× ceiling | ≥ 0.80× |"
  echo "| ↳ joins into one hot event, 64 conns | $(field hot_join rps) req/s, p99 $(field hot_join p99_ms) ms | bare + XADD $(field bare_xadd_join rps) req/s | $(ratio "$(field hot_join rps)" "$(field bare_xadd_join rps)")× ceiling | ≥ 0.80× |"
  echo "| ↳ Redis CPU per join (INFO cpu over the run, AOF on; the granter's ticks included) | 50 events $(cpu join redis) µs, one event $(cpu hot_join redis) µs | bare + XADD $(cpu bare_xadd_join redis) µs | | ≤ 10 µs |"
  echo "| ↳ server CPU per join (/proc over the run) | $(cpu join server) µs | bare axum $(cpu bare_join server) µs | $(ratio "$(cpu join server)" "$(cpu bare_join server)")× bare | ≤ 1.6× |"
  echo "| ↳ Redis side of a join alone (the join script, one join per call, via redis-benchmark, 64 conns) | | $join_script_rps req/s, p99 $join_script_p99 ms | $(ratio "$(field join rps)" "$join_script_rps")× script | |"
  echo "| ↳ the join script alone at batch 64 (64 joins of one event per call, via redis-benchmark, 64 conns) | $join_batch_rps joins/s ($join_batch_calls calls/s, p99 $join_batch_p99 ms per call) | redis-benchmark XADD $xadd_rps req/s | $(ratio "$join_batch_rps" "$xadd_rps")× XADD | |"
  echo "| ↳ script calls per join under that load (INFO commandstats, EVALSHA) | $join_calls_per_join | | | ≤ 0.25 |"
  echo "| ↳ joins with \`challenge: always\`, each with its own precomputed solution, 64 conns ($paid_dur) | $(field paid_join rps) req/s, p99 $(field paid_join p99_ms) ms, $(field paid_join non2xx) refused; server $(cpu paid_join server) µs, Redis $(cpu paid_join redis) µs CPU per join | joins without a challenge into 50 events set up the same way (fresh, configured), same length, just before: $(field free_join rps) req/s; server $(cpu free_join server) µs, Redis $(cpu free_join redis) µs | $(ratio "$(field paid_join rps)" "$(field free_join rps)")× | ≥ 0.90× |"
  echo "| ↳ checking a join's challenge (README, \"Bots and accounts\"): CPU per check (base64, JSON, two HMACs), one thread, 20,000 checks | $challenge_check_us µs (a challenge made: $challenge_made_us µs) | | | ≤ 10 µs |"
  echo "| join latency p50 / p99 | $(field join p50_ms) / $(field join p99_ms) ms | bare $(field bare_join p50_ms) / $(field bare_join p99_ms) ms; XADD p99 $xadd_p99 ms | | p99 ≤ 10 ms |"
  echo "| status poll throughput, 64 conns, $filled sessions | $(field poll rps) req/s | bare axum $(field bare_poll rps) req/s | ${poll_ratio}× bare | ≥ 0.80× |"
  echo "| ↳ Redis commands per 1,000 polls (INFO commandstats, scripts' commands included: the window under load less a quiet window) | $poll_calls_per_1000 ($poll_calls_load vs $poll_calls_idle quiet) | | | ≤ 10 |"
  echo "| ↳ Redis side of a poll alone (status script via redis-benchmark) | | $status_script_rps req/s, p99 $status_script_p99 ms | $(ratio "$(field poll rps)" "$status_script_rps")× script | |"
  echo "| status poll latency p50 / p99 | $(field poll p50_ms) / $(field poll p99_ms) ms | bare $(field bare_poll p50_ms) / $(field bare_poll p99_ms) ms | | p99 ≤ 10 ms |"
  echo "| standby: shop URL → shop with a pass, through nginx (3 requests: 302, the room's 303 with the pass, the shop), 16 clients | $(field standby_flow rps) flows/s, p50 $(field standby_flow p50_ms) ms, p99 $(field standby_flow p99_ms) ms | a direct request to the shop with a pass through the same nginx: $(field standby_direct rps) req/s, p99 $(field standby_direct p99_ms) ms | $(ratio "$(field standby_flow p99_ms)" "$(field standby_direct p99_ms)")× the direct p99 | reported |"
  echo "| gate checks (nginx auth_request), 64 conns | $(field gate rps) req/s | bare axum 204 $(field bare_gate rps) req/s | ${gate_ratio}× bare | ≥ 0.80× |"
  echo "| gate latency p50 / p99 | $(field gate p50_ms) / $(field gate p99_ms) ms | bare $(field bare_gate p50_ms) / $(field bare_gate p99_ms) ms | | |"
  echo "| ↳ Redis commands per 1,000 gate checks (INFO commandstats: the window under load less a quiet window) | $gate_calls_per_1000 ($calls_load vs $calls_idle quiet) | | | no Redis round trip per check |"
  echo "| granter drain, $filled backlog | $drain_rate grants/s ($drain_ms ms) | | | ≥ 50,000/s |"
  echo "| slot freed → next ACTIVE ($grant_n releases) | p50 $grant_p50 ms, p99 $grant_p99 ms | | | p99 ≤ 50 ms |"
  echo "| Redis memory per waiting session ($filled sessions; user ids like \`u1804289383-1-4242\`) | $bytes_per_session B | | | ≤ 256 B |"
  echo "| ↳ the same with 36-character (UUID) user ids ($filled36 sessions) | $bytes36 B | | | |"
  echo "| server RSS, $pollers concurrent pollers | $((rss_busy / 1024)) MiB under load (peak $((rss_peak / 1024)) MiB; idle $((rss_idle / 1024)) MiB) | | | |"
  echo "| fair start: a pre-queue of $pre placed at the opening (admin PUT of opensAt → the draw recorded) | $placed_ms ms | | | seconds, no pause in polls |"
  echo "| ↳ status polls of the pre-queue during the opening, 64 conns | $(field opening_poll rps) req/s, p50 $(field opening_poll p50_ms) ms, p99 $(field opening_poll p99_ms) ms | the poll row: p99 $(field poll p99_ms) ms | | p99 ≤ 10 ms |"
  echo "| ↳ digest of the order of $pre, computed once per draw for the draw endpoint (then kept in Redis) | $digest_ms ms | | | |"
  echo "| release WASM a waiting visitor downloads (the main file) | $(size "$wasm") B raw, $(size "$wasm.gz") B gzip, $(size "$wasm.br") B brotli | | | ≤ 350 KB raw, ≤ 130 KB gzip |"
  echo "| release JS a waiting visitor downloads (loader + split loader) | $(sizes "$js" "$split_js") B raw, $(sizes "$js.gz" "$split_js.gz") B gzip, $(sizes "$js.br" "$split_js.br") B brotli | | | |"
  echo "| the console's own WASM ($(echo "$console_wasm" | wc -l) files, loaded by /admin pages only) | $(sizes $console_wasm) B raw, $(sizes $(printf '%s.gz ' $console_wasm)) B gzip | | | not downloaded by visitors |"
  echo "| WASM as served | $served | | | precompressed, cached |"
  echo "| Redis Cluster (3 primaries + 3 replicas): joins over 50 events, 64 conns | $(field cluster_join rps) req/s, p99 $(field cluster_join p99_ms) ms | one Redis (the join row) $(field join rps) req/s | $(ratio "$(field cluster_join rps)" "$(field join rps)")× one Redis | reported: on 2 cores no speed-up is expected |"
  echo "| Redis Cluster: status polls over the 50 events, 64 conns | $(field cluster_poll rps) req/s, p99 $(field cluster_poll p99_ms) ms | one Redis, same kind of ids $(field spread_poll rps) req/s | $(ratio "$(field cluster_poll rps)" "$(field spread_poll rps)")× one Redis | |"
  echo "| ↳ script calls on each primary during those two loads (INFO commandstats) | $cluster_spread | | | spread over the three |"
  echo
  echo "Errors: join $(field join errors)/$(field join non2xx) (socket/non-2xx), hot join $(field hot_join errors)/$(field hot_join non2xx), bare + XADD $(field bare_xadd_join errors)/$(field bare_xadd_join non2xx), poll $(field poll errors)/$(field poll non2xx), pollers $(field pollers errors)/$(field pollers non2xx), gate $(field gate errors)/$(field gate non2xx), opening polls $(field opening_poll errors)/$(field opening_poll non2xx), cluster join $(field cluster_join errors)/$(field cluster_join non2xx), cluster poll $(field cluster_poll errors)/$(field cluster_poll non2xx), standby flows $(field standby_flow errors), standby direct $(field standby_direct errors)."
} | tee "$out/results.md"
