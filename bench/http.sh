#!/usr/bin/env bash
# L7 benchmark: Fulcrum `mode: http` vs HAProxy `mode http` vs NGINX as a reverse proxy (both from
# Debian, same number of threads/workers) vs a direct connection to a backend, interleaved in one
# run on loopback. Backends: 3 nginx instances answering `200 "ok\n"`.
#   load      wrk -t1 -c$CONNS (keep-alive) for $DURATION s per target, rounds rotated
#             (A B C D / B C D A / ...): req/s (median and best round), p50/p99 (medians over
#             rounds), CPU time of the target's processes per request, errors, ratios of best rounds
#   latency   wrk -t1 -c1 (one connection, closed loop) for $LAT_DURATION s per target: p50/p99 when
#             nothing queues, and what each proxy adds over direct
# Usage: bench/http.sh [ROUNDS]
#   env: FULCRUM=build/fulcrum THREADS=1 CONNS=50 DURATION=3 LAT_ROUNDS=3 LAT_DURATION=1 LAT_PROBE=1
#        BASE_PORT=19180 PIN=1 CLIENT_CPUS=0 PROXY_CPUS=1 BACKEND_CPUS=1 KEEP_TMP=0
set -u
cd "$(dirname "$0")/.."
source bench/common.sh

ROUNDS=${1:-${ROUNDS:-3}}
CONNS=${CONNS:-50}
DURATION=${DURATION:-3}
LAT_PROBE=${LAT_PROBE:-1}
LAT_ROUNDS=${LAT_ROUNDS:-3}
LAT_DURATION=${LAT_DURATION:-1}
BASE=${BASE_PORT:-19180}
P_B1=$((BASE + 1)) P_B2=$((BASE + 2)) P_B3=$((BASE + 3))
P_HAP=$((BASE + 10)) P_NGX=$((BASE + 11)) P_FUL=$((BASE + 12))

require haproxy nginx wrk curl

# --- backends and proxies ---------------------------------------------------------------------------
nginx_backend b1 "$P_B1" || exit 1
nginx_backend b2 "$P_B2" || exit 1
nginx_backend b3 "$P_B3" || exit 1
BACKENDS=(127.0.0.1:$P_B1 127.0.0.1:$P_B2 127.0.0.1:$P_B3)

haproxy_http_head "$THREADS" >"$BENCH_TMP/haproxy.cfg"
haproxy_web_sections "$P_HAP" >>"$BENCH_TMP/haproxy.cfg"

nginx_proxy_config "$BENCH_TMP/nginx-proxy" "$P_NGX" "$THREADS" 8192

cat >"$BENCH_TMP/fulcrum.yaml" <<CFG
workers: $THREADS
listeners:
  - { name: web, listen: 127.0.0.1:$P_FUL, mode: http, pool: web }
pools:
  web:
    strategy: round_robin
    backends: [ ${BACKENDS[0]}, ${BACKENDS[1]}, ${BACKENDS[2]} ]
CFG

start_bg haproxy "$PROXY_CPUS" haproxy -db -f "$BENCH_TMP/haproxy.cfg"
start_bg nginx_proxy "$PROXY_CPUS" nginx -c "$BENCH_TMP/nginx-proxy/nginx.conf" -p "$BENCH_TMP/nginx-proxy"
start_bg fulcrum "$PROXY_CPUS" "$FULCRUM" --log-level warn run -c "$BENCH_TMP/fulcrum.yaml"
for p in $P_HAP $P_NGX $P_FUL; do wait_port "$p" || exit 1; done

# target → port, and → the session whose CPU time is charged to it (the backend for direct)
declare -A port=([direct]=$P_B1 [fulcrum]=$P_FUL [haproxy]=$P_HAP [nginx]=$P_NGX)
declare -A sid=([direct]=$PID_b1 [fulcrum]=$PID_fulcrum [haproxy]=$PID_haproxy [nginx]=$PID_nginx_proxy)
targets=()
for t in direct fulcrum haproxy nginx; do
  code=$(timeout 5 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${port[$t]}/")
  if [[ $code == 200 ]]; then targets+=("$t"); else echo "warning: $t answers GET / with '$code': skipped" >&2; fi
done
((${#targets[@]})) || exit 1

# run_wrk TARGET CONNS SECONDS : prints "rps p50_us p99_us errors cpu_us_per_request"
run_wrk() { wrk_round "${port[$1]}" "${sid[$1]}" "$2" "$3"; }

# --- measurements -----------------------------------------------------------------------------------
declare -A RPS P50 P99 ERR CPU LP50 LP99
n=${#targets[@]}
for ((r = 0; r < ROUNDS; r++)); do
  for ((i = 0; i < n; i++)); do
    t=${targets[$(((i + r) % n))]}
    read -r rps p50 p99 err cpu <<<"$(run_wrk "$t" "$CONNS" "$DURATION")"
    RPS[$t]+="$rps " P50[$t]+="$p50 " P99[$t]+="$p99 " CPU[$t]+="$cpu "
    ERR[$t]=$((${ERR[$t]:-0} + err))
    printf 'round %d/%d %-8s %8s req/s  p50 %6s us  p99 %6s us  cpu %6s us/req  errors %s\n' \
      $((r + 1)) "$ROUNDS" "$t" "$rps" "$p50" "$p99" "$cpu" "$err" >&2
  done
done
if [[ $LAT_PROBE == 1 ]]; then
  for ((r = 0; r < LAT_ROUNDS; r++)); do
    for ((i = 0; i < n; i++)); do
      t=${targets[$(((i + r) % n))]}
      read -r rps p50 p99 err cpu <<<"$(run_wrk "$t" 1 "$LAT_DURATION")"
      LP50[$t]+="$p50 " LP99[$t]+="$p99 "
      ERR[$t]=$((${ERR[$t]:-0} + err))
      printf 'latency %d/%d %-8s p50 %5s us  p99 %5s us\n' $((r + 1)) "$LAT_ROUNDS" "$t" "$p50" "$p99" >&2
    done
  done
fi

# A target that died meanwhile (crash, or killed from outside) invalidates its rounds: say so.
gone=()
for t in "${targets[@]}"; do kill -0 "${sid[$t]}" 2>/dev/null || gone+=("$t"); done

# --- tables -----------------------------------------------------------------------------------------
ref_direct=$(best <<<"${RPS[direct]:-}")
ref_hap=$(best <<<"${RPS[haproxy]:-}")

echo
echo "HTTP/1.1 keep-alive, wrk -t1 -c$CONNS, $ROUNDS interleaved rounds x ${DURATION}s, $THREADS thread(s)/worker(s) per proxy;"
echo "ratios of best rounds; p50/p99 and cpu are medians over rounds; cpu = CPU time of the target's processes"
echo "(the backend for direct) per request; errors = socket errors + HTTP status > 399, all rounds"
echo
echo "| target | req/s med | req/s best | x direct | x haproxy | p50 ms | p99 ms | cpu µs/req | errors |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for t in "${targets[@]}"; do
  b=$(best <<<"${RPS[$t]}")
  printf '| %s | %.0f | %.0f | %s | %s | %s | %s | %.2f | %d |\n' "$t" "$(med <<<"${RPS[$t]}")" "$b" \
    "$(ratio "$b" "$ref_direct")" "$(ratio "$b" "$ref_hap")" \
    "$(ms "$(med <<<"${P50[$t]}")")" "$(ms "$(med <<<"${P99[$t]}")")" "$(med <<<"${CPU[$t]}")" "${ERR[$t]}"
done

if [[ $LAT_PROBE == 1 ]]; then
  d50=$(med <<<"${LP50[direct]:-}")
  echo
  echo "Unloaded latency: wrk -t1 -c1 (one request at a time), $LAT_ROUNDS rounds x ${LAT_DURATION}s, medians"
  echo
  echo "| target | p50 µs | p99 µs | p50 added over direct µs |"
  echo "|---|---:|---:|---:|"
  for t in "${targets[@]}"; do
    m50=$(med <<<"${LP50[$t]}")
    printf '| %s | %.0f | %.0f | %.0f |\n' "$t" "$m50" "$(med <<<"${LP99[$t]}")" "$(awk -v a="$m50" -v b="$d50" 'BEGIN { print a - b }')"
  done
fi
if ((${#gone[@]})); then
  echo
  echo "WARNING: exited during the run (their figures are invalid): ${gone[*]}"
fi
