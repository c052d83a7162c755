#!/usr/bin/env bash
# Concurrency limit with a queue: a backend that may hold LIMIT requests at once, each answered
# after DELAY_MS, behind wrk -t1 -c$CONNS (many more clients than slots). Fulcrum (`max_connections:
# LIMIT` on the pool, `queue: {size: 1000, timeout: 5s}`) against HAProxy (`server ... maxconn LIMIT`,
# `timeout queue 5s`), interleaved rounds on loopback. Each proxy has its own backend
# (bench/delay_backend.py, asyncio, which itself takes any number of requests at once) and the
# backend reports the most requests it held at once, which must not exceed LIMIT. With LIMIT slots
# of DELAY_MS each the ceiling is LIMIT × 1000 / DELAY_MS req/s; what a proxy adds shows as req/s
# below it, p99 above CONNS / LIMIT × DELAY_MS, and errors (timeouts, 503s).
# Usage: bench/queue.sh [ROUNDS]
#   env: FULCRUM=build/fulcrum THREADS=1 CONNS=200 LIMIT=10 DELAY_MS=10 DURATION=5 BASE_PORT=19580
#        PIN=1 CLIENT_CPUS=0 PROXY_CPUS=1 BACKEND_CPUS=1 KEEP_TMP=0
set -u
cd "$(dirname "$0")/.."
source bench/common.sh

ROUNDS=${1:-${ROUNDS:-3}}
CONNS=${CONNS:-200}
LIMIT=${LIMIT:-10}
DELAY_MS=${DELAY_MS:-10}
DURATION=${DURATION:-5}
BASE=${BASE_PORT:-19580}
P_BF=$((BASE + 1)) P_BH=$((BASE + 2))
P_HAP=$((BASE + 10)) P_FUL=$((BASE + 12))

require haproxy wrk curl python3

echo "machine: $(nproc) CPU ($(lscpu 2>/dev/null | awk -F': *' '/^Model name/ { print $2; exit }')), Linux $(uname -r);" \
  "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# --- backends and proxies ---------------------------------------------------------------------------
start_bg backend_fulcrum "$BACKEND_CPUS" python3 bench/delay_backend.py "$P_BF" "$DELAY_MS"
start_bg backend_haproxy "$BACKEND_CPUS" python3 bench/delay_backend.py "$P_BH" "$DELAY_MS"
wait_port "$P_BF" && wait_port "$P_BH" || exit 1

{
  haproxy_http_head "$THREADS"
  printf 'frontend web\n    bind 127.0.0.1:%s\n    default_backend web\n' "$P_HAP"
  printf 'backend web\n    timeout queue 5s\n    server b1 127.0.0.1:%s maxconn %s\n' "$P_BH" "$LIMIT"
} >"$BENCH_TMP/haproxy.cfg"

cat >"$BENCH_TMP/fulcrum.yaml" <<CFG
workers: $THREADS
listeners:
  - { name: web, listen: 127.0.0.1:$P_FUL, mode: http, pool: web }
pools:
  web:
    max_connections: $LIMIT
    queue: { size: 1000, timeout: 5s }
    backends: [ 127.0.0.1:$P_BF ]
CFG

start_bg haproxy "$PROXY_CPUS" haproxy -db -f "$BENCH_TMP/haproxy.cfg"
start_bg fulcrum "$PROXY_CPUS" "$FULCRUM" --log-level warn run -c "$BENCH_TMP/fulcrum.yaml"
for p in $P_HAP $P_FUL; do wait_port "$p" || exit 1; done

declare -A port=([fulcrum]=$P_FUL [haproxy]=$P_HAP)
declare -A sid=([fulcrum]=$PID_fulcrum [haproxy]=$PID_haproxy)
targets=()
for t in fulcrum haproxy; do
  code=$(timeout 5 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${port[$t]}/")
  if [[ $code == 200 ]]; then targets+=("$t"); else echo "warning: $t answers GET / with '$code': skipped" >&2; fi
done
((${#targets[@]})) || exit 1

# --- measurements -----------------------------------------------------------------------------------
declare -A RPS P50 P99 ERR CPU
n=${#targets[@]}
for ((r = 0; r < ROUNDS; r++)); do
  for ((i = 0; i < n; i++)); do
    t=${targets[$(((i + r) % n))]}
    read -r rps p50 p99 err cpu <<<"$(wrk_round "${port[$t]}" "${sid[$t]}" "$CONNS" "$DURATION")"
    RPS[$t]+="$rps " P50[$t]+="$p50 " P99[$t]+="$p99 " CPU[$t]+="$cpu "
    ERR[$t]=$((${ERR[$t]:-0} + err))
    printf 'round %d/%d %-8s %8s req/s  p50 %6s us  p99 %6s us  cpu %6s us/req  errors %s\n' \
      $((r + 1)) "$ROUNDS" "$t" "$rps" "$p50" "$p99" "$cpu" "$err" >&2
  done
done

gone=()
for t in "${targets[@]}"; do kill -0 "${sid[$t]}" 2>/dev/null || gone+=("$t"); done
# The backends say how many requests they held at once (printed when they stop).
declare -A HELD
for t in fulcrum haproxy; do
  stop_bg "backend_$t"
  HELD[$t]=$(awk '/^MAX_IN_FLIGHT/ { print $2 }' "$BENCH_TMP/backend_$t.log")
done

# --- table ------------------------------------------------------------------------------------------
ceiling=$(awk -v l="$LIMIT" -v d="$DELAY_MS" 'BEGIN { printf "%.0f", l * 1000 / d }')
ref_hap=$(best <<<"${RPS[haproxy]:-}")
echo
echo "Backend limited to $LIMIT requests in flight, each answered after ${DELAY_MS} ms (ceiling $ceiling req/s);"
echo "wrk -t1 -c$CONNS keep-alive, $ROUNDS interleaved rounds x ${DURATION}s, $THREADS thread(s) per proxy; queue 1000, timeout 5 s."
echo "p50/p99 and cpu are medians over rounds; errors = socket errors + HTTP status > 399 (503: queue timeout"
echo "or full), all rounds; held = the most requests the backend had at once."
echo "machine: $(nproc) CPU ($(lscpu 2>/dev/null | awk -F': *' '/^Model name/ { print $2; exit }')), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| target | req/s med | req/s best | x haproxy | p50 ms | p99 ms | cpu µs/req | errors | held |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for t in "${targets[@]}"; do
  b=$(best <<<"${RPS[$t]}")
  printf '| %s | %.0f | %.0f | %s | %s | %s | %.2f | %d | %s |\n' "$t" "$(med <<<"${RPS[$t]}")" "$b" \
    "$(ratio "$b" "$ref_hap")" "$(ms "$(med <<<"${P50[$t]}")")" "$(ms "$(med <<<"${P99[$t]}")")" \
    "$(med <<<"${CPU[$t]}")" "${ERR[$t]}" "${HELD[$t]:-?}"
done
status=0
for t in "${targets[@]}"; do
  if [[ ${HELD[$t]:-0} -gt $LIMIT ]]; then
    echo "WARNING: $t let ${HELD[$t]} requests reach the backend at once (limit $LIMIT)"
    status=1
  fi
done
if ((${#gone[@]})); then
  echo
  echo "WARNING: exited during the run (their figures are invalid): ${gone[*]}"
  status=1
fi
exit $status
