#!/usr/bin/env bash
# What observability costs the data path: the HTTP keep-alive benchmark against one pool of 100
# backends, run alternately on two Fulcrum configurations that differ only in what watches them:
#   plain     no health checks, no admin listener
#   observed  HTTP health checks of all 100 backends every second, and the admin listener with
#             /metrics scraped every second (as Prometheus would)
#   streamed  observed, plus one client on the live event stream (/api/events, as the dashboard
#             is), every per-request kind asked for: the most a watching client can ask
#             (STREAMED=0 leaves this one out)
#   dashboard observed, plus what an open dashboard page does: /api/status polled every second and
#             the stream with the page's default kinds (per-request kinds off)
#             (DASHBOARD=0 leaves this one out)
# Only one configuration runs at a time (each round starts it, lets the checks start, measures with
# wrk, stops it), in alternating order. Backends: one nginx listening on 100 ports, so both
# configurations spread requests over 100 backends the same way.
# Target: observed req/s within 3% of plain. `streamed` shows what a watching dashboard
# costs on top; it is no part of the target (like an access log, it is work per request).
# Usage: bench/health_overhead.sh [ROUNDS]
#   env: FULCRUM=build/fulcrum THREADS=1 CONNS=50 DURATION=3 STREAMED=1 DASHBOARD=1 BASE_PORT=19380 PIN=1 CLIENT_CPUS=0
#        PROXY_CPUS=1 BACKEND_CPUS=1 KEEP_TMP=0
set -u
cd "$(dirname "$0")/.."
source bench/common.sh

ROUNDS=${1:-${ROUNDS:-5}}
CONNS=${CONNS:-50}
DURATION=${DURATION:-3}
BASE=${BASE_PORT:-19380}
BACKEND_COUNT=100
P_FUL=$((BASE + 1)) P_ADMIN=$((BASE + 2)) P_FIRST=$((BASE + 100))

require nginx wrk curl

# --- 100 backends: one nginx worker on 100 ports -----------------------------------------------------
BACKENDS=() ports=()
for ((i = 0; i < BACKEND_COUNT; i++)); do
  ports+=("$((P_FIRST + i))")
  BACKENDS+=("127.0.0.1:$((P_FIRST + i))")
done
nginx_backend backends "${ports[@]}" || exit 1

# --- the two configurations --------------------------------------------------------------------------
pool_yaml() {  # EXTRA : the pool of 100 backends, with EXTRA pool keys
  echo "pools:"
  echo "  web:"
  echo "    strategy: round_robin"
  [[ -n $1 ]] && echo "$1"
  echo "    backends:"
  for b in "${BACKENDS[@]}"; do echo "      - address: $b"; done
}
{
  echo "workers: $THREADS"
  echo "listeners:"
  echo "  - { name: web, listen: 127.0.0.1:$P_FUL, mode: http, pool: web }"
  pool_yaml ""
} >"$BENCH_TMP/plain.yaml"
{
  echo "workers: $THREADS"
  echo "admin: { listen: 127.0.0.1:$P_ADMIN }"
  echo "listeners:"
  echo "  - { name: web, listen: 127.0.0.1:$P_FUL, mode: http, pool: web }"
  pool_yaml "    health: { http: { path: /health }, interval: 1s, timeout: 500ms }"
} >"$BENCH_TMP/observed.yaml"
for c in plain observed; do
  "$FULCRUM" check -c "$BENCH_TMP/$c.yaml" >/dev/null || { echo "bad $c config" >&2; exit 1; }
done

# The kinds the dashboard's stream asks for when it opens (src/admin/dashboard/app.js: every kind but
# the per-request ones).
DASHBOARD_KINDS=healthy,unhealthy,recovery,ejected,panic,error,backend_added,backend_removed,backend_state,backend_weight,backend_expired,registration_guard,start,stop,monitoring

# observers_start CONFIG / observers_stop : the /metrics scraper, the event-stream client of
# `streamed`, the page's poller and stream of `dashboard`
observers_start() {
  start_bg scraper "$CLIENT_CPUS" bash -c "while :; do curl -s -o /dev/null http://127.0.0.1:$P_ADMIN/metrics; sleep 1; done"
  [[ $1 == streamed ]] && start_bg events "$CLIENT_CPUS" curl -sN -o /dev/null "http://127.0.0.1:$P_ADMIN/api/events"
  if [[ $1 == dashboard ]]; then
    start_bg poller "$CLIENT_CPUS" bash -c "while :; do curl -s -o /dev/null http://127.0.0.1:$P_ADMIN/api/status; sleep 1; done"
    start_bg events "$CLIENT_CPUS" curl -sN -o /dev/null "http://127.0.0.1:$P_ADMIN/api/events?kinds=$DASHBOARD_KINDS"
  fi
}
observers_stop() { stop_bg scraper; stop_bg events; stop_bg poller; }

# measure CONFIG : starts fulcrum with CONFIG, measures one wrk round, stops it; sets LINE to
# wrk_round's line (not a $(...) subshell: the processes started here must be known to the cleanup)
measure() {
  local config=$1 probes
  LINE="0 0 0 1 0"
  local yaml=$config
  [[ $config == plain ]] || yaml=observed
  start_bg fulcrum "$PROXY_CPUS" "$FULCRUM" --log-level warn run -c "$BENCH_TMP/$yaml.yaml"
  wait_port "$P_FUL" || { stop_bg fulcrum; return; }
  if [[ $config != plain ]]; then
    wait_port "$P_ADMIN"
    observers_start "$config"
    sleep 1.5  # the first probes of every backend have run: the checks are in their steady state
    probes=$(curl -s "http://127.0.0.1:$P_ADMIN/api/pools/web" | grep -o '"state":"healthy"' | wc -l)
    ((probes == BACKEND_COUNT)) || echo "warning: $probes of $BACKEND_COUNT backends healthy" >&2
  else
    sleep 1.5  # the same settling time
  fi
  LINE=$(wrk_round "$P_FUL" "$PID_fulcrum" "$CONNS" "$DURATION")
  [[ $config != plain ]] && observers_stop
  stop_bg fulcrum
}

# --- measurements ------------------------------------------------------------------------------------
declare -A RPS P50 P99 ERR CPU
configs=(plain observed)
[[ ${STREAMED:-1} == 1 ]] && configs+=(streamed)
[[ ${DASHBOARD:-1} == 1 ]] && configs+=(dashboard)
n=${#configs[@]}
for ((r = 0; r < ROUNDS; r++)); do
  for ((i = 0; i < n; i++)); do
    c=${configs[$(((i + r) % n))]}
    measure "$c"
    read -r rps p50 p99 err cpu <<<"$LINE"
    RPS[$c]+="$rps " P50[$c]+="$p50 " P99[$c]+="$p99 " CPU[$c]+="$cpu "
    ERR[$c]=$((${ERR[$c]:-0} + err))
    printf 'round %d/%d %-8s %8s req/s  p50 %6s us  p99 %6s us  cpu %6s us/req  errors %s\n' \
      $((r + 1)) "$ROUNDS" "$c" "$rps" "$p50" "$p99" "$cpu" "$err" >&2
  done
done

# --- table -------------------------------------------------------------------------------------------
ref_best=$(best <<<"${RPS[plain]}")
ref_med=$(med <<<"${RPS[plain]}")
echo
echo "HTTP/1.1 keep-alive over a pool of $BACKEND_COUNT backends, wrk -t1 -c$CONNS, $ROUNDS alternating rounds x ${DURATION}s,"
echo "$THREADS worker(s); plain = no health checks, no admin; observed = HTTP checks of all $BACKEND_COUNT backends"
echo "every 1s + /metrics scraped every 1s; streamed = observed + one /api/events stream client (all kinds);"
echo "dashboard = observed + /api/status polled every 1s + the dashboard's stream (per-request kinds off)."
echo "cpu = Fulcrum's CPU per request (its health checks and admin server included)."
echo
echo "| config | req/s med | req/s best | x plain (best) | x plain (med) | p50 ms | p99 ms | cpu µs/req | errors |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for c in "${configs[@]}"; do
  b=$(best <<<"${RPS[$c]}") m=$(med <<<"${RPS[$c]}")
  printf '| %s | %.0f | %.0f | %s | %s | %s | %s | %.2f | %d |\n' "$c" "$m" "$b" "$(ratio "$b" "$ref_best")" \
    "$(ratio "$m" "$ref_med")" "$(ms "$(med <<<"${P50[$c]}")")" "$(ms "$(med <<<"${P99[$c]}")")" \
    "$(med <<<"${CPU[$c]}")" "${ERR[$c]}"
done
