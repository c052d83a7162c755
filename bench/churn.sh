#!/usr/bin/env bash
# Membership churn against the data path: a pool of N backends (1000 by default; one
# from the configuration, the others added through the admin API at start), HTTP keep-alive load
# from wrk, in alternating rounds:
#   static  the pool as it is
#   churn   the same pool plus RATE adds/removes a second through the admin API (100 by default,
#           over CHURN extra ports, about half of them in the pool at any time), and a probe cycle
#           every 300 ms (below)
# Reported: req/s of each (median over rounds) and their ratio, wrk's errors (socket errors and
# non-2xx), the admin API's errors (any answer but 201/200/202), and how long workers take to act
# on an answered change.
#
# How "time until every worker acts" is measured. Publication happens before the answer is
# written, and a worker reloads its pool's snapshot at its next selection, so what is measured is
# the delay between the client holding the answer and the workers' behaviour changing, seen at a
# backend. Every 300 ms the driver (bench/churn_driver.py) POSTs a probe backend with weight
# PROBE_WEIGHT (100 against ~1050 for the rest: about 9% of every worker's picks, a request every
# millisecond or two per worker under this load), PATCHes it to `drain` 150 ms later and DELETEs it
# 150 ms after that. The probe ports are served by the same nginx but logged (`$msec -
# $request_time`: when each request started, ms resolution, same wall clock as the driver):
#   add    first request's start - POST answered: at least one worker acted on the add
#   drain  last request's start - PATCH answered: every worker acted on the drain (a worker that
#          has not reloaded keeps sending ~9% of its requests to the probe, so its lag shows up as
#          a late request, give or take its pick interval)
# Both are clamped at 0 (a worker that acted before the client had read the answer). The target
# is p99 < 50 ms. The drain figure is the every-worker one; the add figure shows the first worker.
#
# SOURCE picks how the pool is filled and changed:
#   admin         (default) one backend from the configuration, N-1 added through the admin API; the
#                 adds/removes are admin POSTs and DELETEs
#   registration  the pool takes registrations (`registration: {ttl: TTL}`, no configured
#                 backend); all N backends register through the registration listener at start and
#                 every lease is renewed once a second for the whole run, static rounds included
#                 (`churn_driver.py renew`: one process, RENEW_CONNS keep-alive connections, each
#                 lease's renewal spread evenly over the second); the adds/removes are
#                 registrations and deregistrations (POST /register, DELETE /register/{lease}).
#                 So here `static` is the registered pool renewing with no member coming or going,
#                 and `churn` adds the 100 registrations/deregistrations a second. The renewer
#                 reports renewals done per second, failed renewals and expired leases (there must
#                 be none), and the longest gap between two renewals of a lease; the pool is
#                 checked to still hold N members at the end.
# The probe cycles use the admin API with either source.
#
# Each round line ends with a witness of the machine's own load (`churn_driver.py stallwatch`, a
# process of its own during the round): how late a 10 ms sleep woke at worst and how many tasks were
# runnable on average. On a shared machine a round with a late witness and many runnable tasks is
# the machine, not Fulcrum.
#
# Usage: bench/churn.sh [ROUNDS]
#   env: FULCRUM=build/fulcrum THREADS=2 N=1000 RATE=100 CHURN=100 PROBES=64 PROBE_WEIGHT=100
#        CONNS=50 DURATION=5 BASE_PORT=21000 PIN=0 KEEP_TMP=0
#        SOURCE=admin|registration TTL=5s RENEW_CONNS=4
# Bounded: ROUNDS x 2 rounds of DURATION s (plus start-up and ~1 s per round); the renewer stops
# by itself after the time all of that may take (and is stopped at the end); every process is
# started in its own session and killed at exit.
set -u
cd "$(dirname "$0")/.."
PIN=${PIN:-0}  # 2 workers and nginx share the cores by default; PIN=1 uses common.sh's CPU sets
THREADS=${THREADS:-2}
source bench/common.sh

ROUNDS=${1:-${ROUNDS:-3}}
N=${N:-1000}
RATE=${RATE:-100}
CHURN=${CHURN:-100}
PROBES=${PROBES:-64}
PROBE_WEIGHT=${PROBE_WEIGHT:-100}
CONNS=${CONNS:-50}
DURATION=${DURATION:-5}
BASE=${BASE_PORT:-21000}
SOURCE=${SOURCE:-admin}
TTL=${TTL:-5s}
RENEW_CONNS=${RENEW_CONNS:-4}
[[ $SOURCE == admin || $SOURCE == registration ]] || { echo "SOURCE must be admin or registration" >&2; exit 2; }
TOKEN=churn-bench-token REG_TOKEN=churn-bench-registration
P_FUL=$((BASE + 1)) P_ADMIN=$((BASE + 2)) P_REG=$((BASE + 3))
P_STATIC=$((BASE + 100)) P_CHURN=$((BASE + 100 + N)) P_PROBE=$((BASE + 100 + N + CHURN))

require nginx wrk python3
# Fulcrum keeps idle connections per worker and backend, nginx one socket per port.
(( $(ulimit -n) >= 4 * (N + CHURN + PROBES) )) || ulimit -n $((4 * (N + CHURN + PROBES))) 2>/dev/null ||
  { echo "ulimit -n $(ulimit -n) is too low for $N backends" >&2; exit 2; }

# --- one nginx for every backend port; the probe ports log when each request started -------------
static_ports=() churn_ports=() probe_ports=()
for ((i = 0; i < N; i++)); do static_ports+=("$((P_STATIC + i))"); done
for ((i = 0; i < CHURN; i++)); do churn_ports+=("$((P_CHURN + i))"); done
for ((i = 0; i < PROBES; i++)); do probe_ports+=("$((P_PROBE + i))"); done
dir="$BENCH_TMP/nginx"
mkdir -p "$dir"
{
  echo "worker_processes 1; daemon off; pid $dir/nginx.pid; error_log $dir/error.log warn;"
  echo "worker_rlimit_nofile $((4 * (N + CHURN + PROBES) + 1024));"
  echo "events { worker_connections $((4 * (N + CHURN + PROBES) + 1024)); }"
  echo "http {"
  echo "  access_log off; keepalive_requests 1000000; keepalive_timeout 120s;"
  echo "  client_body_temp_path $dir; proxy_temp_path $dir; fastcgi_temp_path $dir; uwsgi_temp_path $dir; scgi_temp_path $dir;"
  echo "  log_format probe '\$server_port \$msec \$request_time';"
  echo -n "  server { "
  for p in "${static_ports[@]}" "${churn_ports[@]}"; do echo -n "listen 127.0.0.1:$p; "; done
  echo "location / { return 200 \"ok\\n\"; } }"
  echo -n "  server { access_log $dir/probe.log probe buffer=256k flush=200ms; "
  for p in "${probe_ports[@]}"; do echo -n "listen 127.0.0.1:$p; "; done
  echo "location / { return 200 \"ok\\n\"; } }"
  echo "}"
} >"$dir/nginx.conf"
start_bg nginx "$BACKEND_CPUS" nginx -c "$dir/nginx.conf" -p "$dir"
wait_port "${static_ports[0]}" && wait_port "${probe_ports[$((PROBES - 1))]}" || { cat "$dir/error.log" >&2; exit 1; }

# --- Fulcrum: one backend from the configuration and N-1 through the API, or N registered ---------
if [[ $SOURCE == admin ]]; then
  cat >"$BENCH_TMP/fulcrum.yaml" <<YAML
workers: $THREADS
admin: { listen: 127.0.0.1:$P_ADMIN, token: $TOKEN }
listeners:
  - { name: web, listen: 127.0.0.1:$P_FUL, mode: http, pool: web }
pools:
  web:
    strategy: weighted
    backends:
      - address: 127.0.0.1:${static_ports[0]}
YAML
else
  cat >"$BENCH_TMP/fulcrum.yaml" <<YAML
workers: $THREADS
admin: { listen: 127.0.0.1:$P_ADMIN, token: $TOKEN }
registration: { listen: 127.0.0.1:$P_REG, token: $REG_TOKEN }
listeners:
  - { name: web, listen: 127.0.0.1:$P_FUL, mode: http, pool: web }
pools:
  web:
    strategy: weighted
    registration: { ttl: $TTL }
YAML
fi
"$FULCRUM" check -c "$BENCH_TMP/fulcrum.yaml" >/dev/null || { echo "bad config" >&2; exit 1; }
start_bg fulcrum "$PROXY_CPUS" "$FULCRUM" --log-level warn run -c "$BENCH_TMP/fulcrum.yaml"
wait_port "$P_FUL" && wait_port "$P_ADMIN" || exit 1
pool_members() {
  curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$P_ADMIN/api/pools/web" | grep -o '"address"' | wc -l
}
if [[ $SOURCE == admin ]]; then
  python3 bench/churn_driver.py populate "127.0.0.1:$P_ADMIN" "$TOKEN" web "${static_ports[@]:1}" || exit 1
else
  wait_port "$P_REG" || exit 1
  # Long enough for every round, the warm-up and the probe analysis; stopped at the end anyway.
  renew_seconds=$((30 + ROUNDS * 2 * (DURATION + 4)))
  start_bg renewer "$CLIENT_CPUS" python3 bench/churn_driver.py renew "127.0.0.1:$P_REG" "$REG_TOKEN" web "$TTL" \
    "$renew_seconds" "$RENEW_CONNS" "$BENCH_TMP/registered.txt" "$P_STATIC" "$N"
  for _ in $(seq 1 600); do [[ -s $BENCH_TMP/registered.txt ]] && break; sleep 0.1; done
  read -r _ registered reg_errors <"$BENCH_TMP/registered.txt" 2>/dev/null
  [[ ${reg_errors:-1} == 0 ]] || { echo "registration failed: $(cat "$BENCH_TMP/registered.txt" 2>/dev/null)" >&2; cat "$BENCH_TMP/renewer.log" >&2; exit 1; }
  sleep 1.5  # the renewals under way (every lease renewed once) before the first round
fi
members=$(pool_members)
((members == N)) || { echo "the pool has $members members, not $N" >&2; exit 1; }
# Warm-up: every worker opens its connections to the backends.
wrk_round "$P_FUL" "$PID_fulcrum" "$CONNS" 2 >/dev/null

churn_csv=$(IFS=,; echo "${churn_ports[*]}")
probe_csv=$(IFS=,; echo "${probe_ports[*]}")
: >"$BENCH_TMP/probes.jsonl"
: >"$BENCH_TMP/windows.txt"
declare -A RPS P99 ERR CPU
API_OPS=0 API_ERR=0 API_LATE=0
for ((r = 0; r < ROUNDS; r++)); do
  for mode in static churn; do
    [[ $(( r % 2 )) == 1 ]] && mode=$([[ $mode == static ]] && echo churn || echo static)
    if [[ $mode == churn ]]; then
      reg_args=()
      [[ $SOURCE == registration ]] && reg_args=("127.0.0.1:$P_REG" "$REG_TOKEN")
      start_bg driver "$CLIENT_CPUS" python3 bench/churn_driver.py churn "127.0.0.1:$P_ADMIN" "$TOKEN" web \
        "$((DURATION + 1))" "$RATE" "$churn_csv" "$probe_csv" "$PROBE_WEIGHT" "$BENCH_TMP/probes.jsonl" "${reg_args[@]}"
      sleep 0.5  # churn under way (and its first probe) before wrk starts
    fi
    # The witness: how late a 10 ms sleep wakes and how many tasks are runnable, during the round.
    start_bg stallwatch "$CLIENT_CPUS" python3 bench/churn_driver.py stallwatch "$((DURATION + 2))"
    wrk_start=$(date +%s.%N)
    line=$(wrk_round "$P_FUL" "$PID_fulcrum" "$CONNS" "$DURATION")
    stop_bg stallwatch
    stall=$(sed -E 's/^STALL max_oversleep_ms=([0-9]+).*runnable_avg=([0-9.]+).*/late \1 ms, runnable \2/' <(grep '^STALL ' "$BENCH_TMP/stallwatch.log"))
    # Probe cycles count only when they ran under load: wrk's start and end, wall clock.
    [[ $mode == churn ]] && echo "$wrk_start $(awk -v s="$wrk_start" -v d="$DURATION" 'BEGIN { printf "%.3f", s + d }')" >>"$BENCH_TMP/windows.txt"
    if [[ $mode == churn ]]; then
      for _ in $(seq 1 100); do kill -0 "$PID_driver" 2>/dev/null || break; sleep 0.1; done
      summary=$(grep '^CHURN ' "$BENCH_TMP/driver.log")
      [[ -n $summary ]] || { echo "the churn driver failed:" >&2; cat "$BENCH_TMP/driver.log" >&2; exit 1; }
      read -r ops err late <<<"$(sed -E 's/.*ops=([0-9]+) errors=([0-9]+) late_ops=([0-9]+).*/\1 \2 \3/' <<<"$summary")"
      API_OPS=$((API_OPS + ops)) API_ERR=$((API_ERR + err)) API_LATE=$((API_LATE + late))
      stop_bg driver
    fi
    read -r rps p50 p99 errors cpu <<<"$line"
    RPS[$mode]+="$rps " P99[$mode]+="$p99 " CPU[$mode]+="$cpu "
    ERR[$mode]=$((${ERR[$mode]:-0} + errors))
    printf '%s round %d/%d %-6s %8s req/s  p99 %6s us  cpu %6s us/req  errors %s  [witness: %s]%s\n' "$(date -u +%T)" $((r + 1)) "$ROUNDS" "$mode" "$rps" "$p99" "$cpu" "$errors" "${stall:-none}" \
      "$([[ $mode == churn ]] && echo "  ($summary)")" >&2
  done
done
sleep 0.5  # nginx flushes the probe log every 200 ms
members_end=$(pool_members)
renew_summary=""
if [[ $SOURCE == registration ]]; then
  stop_bg renewer
  renew_summary=$(grep '^RENEW ' "$BENCH_TMP/renewer.log")
  [[ -n $renew_summary ]] || { echo "the renewer failed:" >&2; cat "$BENCH_TMP/renewer.log" >&2; }
fi
stop_bg nginx
probes=$(python3 bench/churn_driver.py analyze "$BENCH_TMP/probes.jsonl" "$dir/probe.log" "$BENCH_TMP/windows.txt")

# --- table -------------------------------------------------------------------------------------------
static_med=$(med <<<"${RPS[static]}") churn_med=$(med <<<"${RPS[churn]}")
field() { sed -E "s/.*$1=([^ ]+).*/\\1/" <<<"$probes"; }
echo
echo "HTTP/1.1 keep-alive, wrk -t1 -c$CONNS, $ROUNDS x 2 alternating rounds x ${DURATION}s, $THREADS workers,"
if [[ $SOURCE == admin ]]; then
  echo "a pool of $N backends (strategy weighted); churn = $RATE adds/removes per second through the admin API"
else
  echo "a pool of $N registered backends (strategy weighted, lease TTL $TTL, every lease renewed once a second in"
  echo "both modes); churn = $RATE registrations/deregistrations per second through the registration listener"
fi
echo "plus a probe add/drain/remove every 300 ms. cpu = Fulcrum's CPU time per request (control thread,"
echo "admin API and the workers' strategy rebuilds included)."
echo
echo "| mode | req/s med | x static | p99 ms | Fulcrum cpu µs/req | wrk errors |"
echo "|---|---:|---:|---:|---:|---:|"
for mode in static churn; do
  printf '| %s | %.0f | %s | %s | %.2f | %d |\n' "$mode" "$(med <<<"${RPS[$mode]}")" "$(ratio "$(med <<<"${RPS[$mode]}")" "$static_med")" \
    "$(ms "$(med <<<"${P99[$mode]}")")" "$(med <<<"${CPU[$mode]}")" "${ERR[$mode]}"
done
echo
if [[ $SOURCE == admin ]]; then
  echo "admin API: $API_OPS writes, $API_ERR errors, $API_LATE started more than 50 ms behind schedule"
else
  echo "churn writes (registrations, deregistrations, admin probe writes): $API_OPS, $API_ERR errors, $API_LATE started more than 50 ms behind schedule"
  echo "renewer: ${renew_summary:-no summary (failed)}"
fi
echo "pool members at the end: $members_end (expected $N)"
echo "probe cycles under load: $(field cycles) ($(field unserved) never served before their drain)"
echo "answered POST -> first request at the probe (a worker acted):   p50 $(field add_p50_ms) ms, p99 $(field add_p99_ms) ms, max $(field add_max_ms) ms"
echo "answered PATCH drain -> last request at the probe (every worker): p50 $(field drain_p50_ms) ms, p99 $(field drain_p99_ms) ms, max $(field drain_max_ms) ms"
