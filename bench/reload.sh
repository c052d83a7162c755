#!/usr/bin/env bash
# Configuration reload under load: HTTP/1.1 keep-alive load from wrk through Fulcrum
# and through HAProxy, each in two modes, one proxy and one mode at a time:
#   steady  the proxy as it is, DURATION seconds
#   reload  the same DURATION seconds while the proxy reloads its configuration RATE times a second,
#           alternating between two files (A, B) that differ as DIFF says (below):
#             Fulcrum   VIA=sighup (kill -HUP), api (POST /api/reload, synchronous: every answer
#                       must be 200 "reloaded": true) or both (in turn; the default)
#             HAProxy   `haproxy -W` (master-worker), kill -USR2 to the master, which re-executes
#                       itself and starts a new worker; the old worker stops accepting and stays
#                       until its connections are gone (HAProxy's documented reload)
# Reported per proxy and mode: req/s, p99, and the failed requests counted apart: wrk's socket
# errors (connect, read, write, timeout) and non-2xx answers (wrk counts status > 399; the backends
# only ever answer 200, so each is the proxy's own error page). The targets: Fulcrum's
# reload mode >= 0.97x its steady req/s, p99 <= 1.2x, and no failed request. Also: Fulcrum's RSS
# and open descriptors before its first reload round and after its last (1 s after wrk stopped), the reloads it did
# (fulcrum_reloads_total{result="ok"|"failed"}, a SIGHUP that arrives while one is pending may
# merge with it), HAProxy's reloads (its master CLI's count) and how many HAProxy processes existed
# when the reloads stopped (wrk's connections still open), 2 s after wrk closed them, and the most
# at once (sampled after each reload).
#
# DIFF, what the two files differ in (the same in Fulcrum's and HAProxy's configuration):
#   pool    (default) pool `web`: A = round_robin over b1 b2, B = least_connections over b2 b3
#           (HAProxy: balance roundrobin / leastconn, the same servers)
#   strategy  pool `web`'s strategy only (round_robin / least_connections over b1 b2): every
#           backend stays, so what a reload costs apart from connections to new backends
#   replace no backend in common: A = round_robin over b1, B = least_connections over b2 b3
#   routes  the listener's routes: A = everything to pool `web`, B = GET to pool `alt`
#           (least_connections over b2 b3), the rest to `web` (HAProxy: use_backend alt if METH_GET).
#           A reload that refuses route changes (before listener reload) fails every other reload
#           here: the script says so and exits 1
#   both    routes and pool together (the issue's own mix; pool stays the default so that figures
#           taken before listener reload compare)
#
# Each round line ends with a witness of the machine's own load (churn_driver.py stallwatch): how
# late a 10 ms sleep woke at worst and the runnable tasks on average; on a shared machine a round
# with a late witness is the machine, not the proxy.
#
# Usage: bench/reload.sh [ROUNDS]   (ROUNDS x (steady, reload) per proxy, order alternating; 1)
#   env: DURATION=30 RATE=10 CONNECTIONS=50 WRK_THREADS=2 VIA=both DIFF=pool TARGETS="fulcrum haproxy"
#        CLOSE=0 (1: every request on a new connection, `Connection: close`: reloads racing accepts)
#        HEALTH=0 (1: HTTP health checks of every backend every second, in both proxies)
#        FULCRUM=build/fulcrum THREADS=2 BASE_PORT=19480 PIN=0 KEEP_TMP=0
#   quick check: DURATION=5 bench/reload.sh
# Bounded: ROUNDS x 2 x |TARGETS| rounds of DURATION s (wrk under `timeout`, the reloader stops
# after DURATION s and is killed at most 10 s later), plus start-up and ~3 s per round; every
# process is started in its own session and killed at exit.
set -u
cd "$(dirname "$0")/.."
PIN=${PIN:-0}  # 2 workers, wrk -t2 and the backends share the 2 cores by default
THREADS=${THREADS:-2}
source bench/common.sh

ROUNDS=${1:-${ROUNDS:-1}}
DURATION=${DURATION:-30}
RATE=${RATE:-10}
CONNECTIONS=${CONNECTIONS:-${CONNS:-50}}
WRK_THREADS=${WRK_THREADS:-2}
VIA=${VIA:-both}
DIFF=${DIFF:-pool}
TARGETS=${TARGETS:-fulcrum haproxy}
BASE=${BASE_PORT:-19480}
CLOSE=${CLOSE:-0}
HEALTH=${HEALTH:-0}
CLOSE_HEADER=()
[[ $CLOSE == 1 ]] && CLOSE_HEADER=(-H "Connection: close")
TOKEN=reload-bench-token
P_B1=$((BASE + 1)) P_B2=$((BASE + 2)) P_B3=$((BASE + 3))
P_FUL=$((BASE + 10)) P_ADMIN=$((BASE + 11)) P_HAP=$((BASE + 12))
[[ $VIA == sighup || $VIA == api || $VIA == both ]] || { echo "VIA must be sighup, api or both" >&2; exit 2; }
[[ $DIFF =~ ^(pool|strategy|replace|routes|both)$ ]] || { echo "DIFF must be pool, strategy, replace, routes or both" >&2; exit 2; }
[[ $HEALTH == 0 || $HEALTH == 1 ]] || { echo "HEALTH must be 0 or 1" >&2; exit 2; }
for t in $TARGETS; do [[ $t == fulcrum || $t == haproxy ]] || { echo "unknown target $t" >&2; exit 2; }; done
awk -v r="$RATE" -v d="$DURATION" 'BEGIN { exit !(r > 0 && d >= 1) }' || { echo "RATE must be > 0 and DURATION >= 1" >&2; exit 2; }

require haproxy nginx wrk curl python3
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# --- backends -----------------------------------------------------------------------------------------
nginx_backend b1 "$P_B1" || exit 1
nginx_backend b2 "$P_B2" || exit 1
nginx_backend b3 "$P_B3" || exit 1
B1=127.0.0.1:$P_B1 B2=127.0.0.1:$P_B2 B3=127.0.0.1:$P_B3

# --- the two configurations of each proxy ---------------------------------------------------------------
pool_diff() { [[ $DIFF == pool || $DIFF == both ]]; }
route_diff() { [[ $DIFF == routes || $DIFF == both ]]; }

fulcrum_config() {  # VARIANT(a|b)
  local strategy=round_robin backends="$B1, $B2" health=""
  if [[ $1 == b ]] && pool_diff; then strategy=least_connections backends="$B2, $B3"; fi
  [[ $1 == b && $DIFF == strategy ]] && strategy=least_connections
  [[ $DIFF == replace ]] && backends=$B1
  [[ $1 == b && $DIFF == replace ]] && strategy=least_connections backends="$B2, $B3"
  [[ $HEALTH == 1 ]] && health=", health: { http: { path: / }, interval: 1s, timeout: 500ms }"
  echo "workers: $THREADS"
  echo "admin: { listen: 127.0.0.1:$P_ADMIN, token: $TOKEN }"
  echo "listeners:"
  echo "  - name: web"
  echo "    listen: 127.0.0.1:$P_FUL"
  echo "    mode: http"
  if ! route_diff; then
    echo "    pool: web"
  elif [[ $1 == a ]]; then
    echo "    routes: [ { pool: web } ]"
  else
    echo "    routes: [ { match: { method: GET }, pool: alt }, { pool: web } ]"
  fi
  echo "pools:"
  echo "  web: { strategy: $strategy, backends: [ $backends ]$health }"
  route_diff && echo "  alt: { strategy: least_connections, backends: [ $B2, $B3 ]$health }"
  return 0
}

haproxy_config() {  # VARIANT(a|b)
  local balance=roundrobin servers="b1 $B1,b2 $B2" s check=""
  if [[ $1 == b ]] && pool_diff; then balance=leastconn servers="b2 $B2,b3 $B3"; fi
  [[ $1 == b && $DIFF == strategy ]] && balance=leastconn
  [[ $DIFF == replace ]] && servers="b1 $B1"
  [[ $1 == b && $DIFF == replace ]] && balance=leastconn servers="b2 $B2,b3 $B3"
  [[ $HEALTH == 1 ]] && check=" check inter 1s"
  haproxy_http_head "$THREADS"
  printf 'frontend web\n    bind 127.0.0.1:%s\n' "$P_HAP"
  if route_diff && [[ $1 == b ]]; then echo "    use_backend alt if METH_GET"; fi
  echo "    default_backend web"
  echo "backend web"
  echo "    balance $balance"
  [[ $HEALTH == 1 ]] && echo "    option httpchk GET /"
  IFS=, read -r -a list <<<"$servers"
  for s in "${list[@]}"; do echo "    server $s$check"; done
  if route_diff; then
    printf 'backend alt\n    balance leastconn\n'
    [[ $HEALTH == 1 ]] && echo "    option httpchk GET /"
    printf '    server b2 %s%s\n    server b3 %s%s\n' "$B2" "$check" "$B3" "$check"
  fi
  return 0
}

for v in a b; do
  fulcrum_config $v >"$BENCH_TMP/fulcrum-$v.yaml"
  haproxy_config $v >"$BENCH_TMP/haproxy-$v.cfg"
  "$FULCRUM" check -c "$BENCH_TMP/fulcrum-$v.yaml" >/dev/null || { echo "bad Fulcrum config $v" >&2; exit 1; }
  haproxy -c -q -f "$BENCH_TMP/haproxy-$v.cfg" || { echo "bad HAProxy config $v" >&2; exit 1; }
done
cp "$BENCH_TMP/fulcrum-a.yaml" "$BENCH_TMP/fulcrum.yaml"
cp "$BENCH_TMP/haproxy-a.cfg" "$BENCH_TMP/haproxy.cfg"

# --- the proxies --------------------------------------------------------------------------------------
declare -A port=([fulcrum]=$P_FUL [haproxy]=$P_HAP)
declare -A sid
for t in $TARGETS; do
  if [[ $t == fulcrum ]]; then
    start_bg fulcrum "$PROXY_CPUS" "$FULCRUM" --log-level warn run -c "$BENCH_TMP/fulcrum.yaml"
    wait_port "$P_FUL" && wait_port "$P_ADMIN" || { cat "$BENCH_TMP/fulcrum.log" >&2; exit 1; }
  else
    start_bg haproxy "$PROXY_CPUS" haproxy -W -db -S "$BENCH_TMP/master.sock" -f "$BENCH_TMP/haproxy.cfg"
    wait_port "$P_HAP" || { cat "$BENCH_TMP/haproxy.log" >&2; exit 1; }
  fi
  var="PID_$t"
  sid[$t]=${!var}
  code=$(timeout 5 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${port[$t]}/")
  [[ $code == 200 ]] || { echo "$t answers GET / with '$code'" >&2; exit 1; }
done

# --- measurement --------------------------------------------------------------------------------------
# Every kind of failure apart: WRK requests duration_us p50_us p99_us connect read write timeout status
cat >"$BENCH_TMP/failures.lua" <<'LUA'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %d %d %d %d %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.connect, e.read, e.write, e.timeout, e.status))
end
LUA

# CPU time of a session, reaped children included: HAProxy's master collects its old workers' time.
session_ticks() {
  local p total=0 stat rest
  for p in $(ps -o pid= --sid "$1" 2>/dev/null); do
    stat=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    rest=${stat##*) }
    read -r -a f <<<"$rest"
    total=$((total + f[11] + f[12] + f[13] + f[14]))  # utime stime cutime cstime
  done
  echo "$total"
}

# run_wrk TARGET SECONDS : "rps p99_us connect read write timeout non2xx cpu_us_per_request"
run_wrk() {
  local t=$1 d=$2 c0 c1 out
  c0=$(session_ticks "${sid[$t]}")
  out=$(pinned "$CLIENT_CPUS" timeout $((d + 15)) wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${d}s" --latency \
        "${CLOSE_HEADER[@]}" -s "$BENCH_TMP/failures.lua" "http://127.0.0.1:${port[$t]}/" 2>&1)
  c1=$(session_ticks "${sid[$t]}")
  awk -v c0="$c0" -v c1="$c1" -v tck="$TCK" '/^WRK / {
      n++
      printf "%.0f %d %d %d %d %d %d %.2f\n", ($3 > 0) ? $2 * 1e6 / $3 : 0, $5, $6, $7, $8, $9, $10,
        ($2 > 0) ? (c1 - c0) * 1e6 / tck / $2 : 0 }
    END { if (!n) print "0 0 1 0 0 0 0 0" }' <<<"$out"
  grep -q '^WRK ' <<<"$out" || echo "wrk failed against $t: $(grep -v '^WRK ' <<<"$out" | tail -2 | tr '\n' ' ')" >&2
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
metric() {  # NAME{LABELS} from Fulcrum's /metrics
  curl -s -m 5 -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$P_ADMIN/metrics" |
    awk -v m="$1" 'index($0, m " ") == 1 { print $2; found = 1 } END { if (!found) print "?" }'
}

for t in $TARGETS; do run_wrk "$t" 2 >/dev/null; done  # warm-up: connections to the backends

declare -A RPS P99 SOCK NON2XX CPU ASKED DONE
FUL_RSS0="" FUL_FDS0="" FUL_OK0="" FUL_FAILED0="" HAP_NOTE="" HAP_MAX=0 RELOAD_ERRORS=""
for ((r = 0; r < ROUNDS; r++)); do
  for t in $TARGETS; do
    modes=(steady reload)
    ((r % 2)) && modes=(reload steady)
    for mode in "${modes[@]}"; do
      key="$t $mode"
      if [[ $t == fulcrum && $mode == reload && -z $FUL_RSS0 ]]; then
        sleep 1  # the previous round's client connections closed
        FUL_RSS0=$(rss_kib "$PID_fulcrum") FUL_FDS0=$(fds "$PID_fulcrum")
        FUL_OK0=$(metric 'fulcrum_reloads_total{result="ok"}') FUL_FAILED0=$(metric 'fulcrum_reloads_total{result="failed"}')
      fi
      start_bg stallwatch "$CLIENT_CPUS" python3 bench/churn_driver.py stallwatch "$((DURATION + 1))"
      if [[ $mode == reload ]]; then
        if [[ $t == fulcrum ]]; then
          start_bg driver "$CLIENT_CPUS" python3 bench/reload_driver.py reload "$VIA" "$PID_fulcrum" "$BENCH_TMP/fulcrum.yaml" \
            "$DURATION" "$RATE" "$BENCH_TMP/fulcrum-a.yaml" "$BENCH_TMP/fulcrum-b.yaml" "127.0.0.1:$P_ADMIN" "$TOKEN"
        else
          start_bg driver "$CLIENT_CPUS" python3 bench/reload_driver.py reload sigusr2 "$PID_haproxy" "$BENCH_TMP/haproxy.cfg" \
            "$DURATION" "$RATE" "$BENCH_TMP/haproxy-a.cfg" "$BENCH_TMP/haproxy-b.cfg"
        fi
      fi
      read -r rps p99 e_conn e_read e_write e_time non2xx cpu <<<"$(run_wrk "$t" "$DURATION")"
      summary=""
      if [[ $mode == reload ]]; then
        for _ in $(seq 1 100); do kill -0 "$PID_driver" 2>/dev/null || break; sleep 0.1; done
        summary=$(grep '^RELOAD ' "$BENCH_TMP/driver.log")
        stop_bg driver
        [[ -n $summary ]] || { echo "the reload driver failed:" >&2; cat "$BENCH_TMP/driver.log" >&2; exit 1; }
        asked=$(sed -E 's/.* asked=([0-9]+).*/\1/' <<<"$summary")
        ASKED[$key]=$((${ASKED[$key]:-0} + asked))
        if [[ $t == haproxy ]]; then
          procs_now=$(ps -o pid= --sid "$PID_haproxy" | wc -l)
          sleep 2
          procs_later=$(ps -o pid= --sid "$PID_haproxy" | wc -l)
          hap=$(python3 bench/reload_driver.py haproxy-procs "$BENCH_TMP/master.sock" 2>&1 | grep '^HAPROXY ')
          most=$(sed -E 's/.* max_procs=([0-9]+).*/\1/' <<<"$summary")
          ((most > HAP_MAX)) && HAP_MAX=$most
          end=$(sed -E 's/.* procs_end=([0-9]+).*/\1/' <<<"$summary")
          HAP_NOTE="processes in HAProxy's session (master + workers) when the reloads stopped: $end; when wrk stopped: $procs_now; 2 s later: $procs_later; most at once: $HAP_MAX; master CLI then: ${hap#HAPROXY }"
          DONE[$key]=$(sed -E 's/.*reloads=([0-9?]+).*/\1/' <<<"$hap")
        else
          sleep 1
          FUL_RSS1=$(rss_kib "$PID_fulcrum") FUL_FDS1=$(fds "$PID_fulcrum")
          err=$(sed -E 's/.*first_error=(.*)/\1/' <<<"$summary")
          [[ $err != '""' && -z $RELOAD_ERRORS ]] && RELOAD_ERRORS=$err
        fi
      fi
      stop_bg stallwatch
      stall=$(sed -E 's/^STALL max_oversleep_ms=([0-9]+).*runnable_avg=([0-9.]+).*/late \1 ms, runnable \2/' <(grep '^STALL ' "$BENCH_TMP/stallwatch.log"))
      RPS[$key]+="$rps " P99[$key]+="$p99 " CPU[$key]+="$cpu "
      SOCK[$key]=$((${SOCK[$key]:-0} + e_conn + e_read + e_write + e_time))
      NON2XX[$key]=$((${NON2XX[$key]:-0} + non2xx))
      printf '%s round %d/%d %-7s %-6s %8s req/s  p99 %7s us  cpu %6s us/req  errors connect %s read %s write %s timeout %s non-2xx %s  [witness: %s]%s\n' \
        "$(date -u +%T)" $((r + 1)) "$ROUNDS" "$t" "$mode" "$rps" "$p99" "$cpu" "$e_conn" "$e_read" "$e_write" "$e_time" "$non2xx" \
        "${stall:-none}" "${summary:+  ($summary)}" >&2
    done
  done
done

# Whatever died meanwhile invalidates its figures.
gone=()
for t in $TARGETS; do kill -0 "${sid[$t]}" 2>/dev/null || gone+=("$t"); done
if [[ $TARGETS == *fulcrum* ]] && kill -0 "$PID_fulcrum" 2>/dev/null; then
  ok=$(metric 'fulcrum_reloads_total{result="ok"}') failed=$(metric 'fulcrum_reloads_total{result="failed"}')
  generation=$(metric fulcrum_config_generation)
  DONE[fulcrum reload]=$((ok - FUL_OK0))
  FUL_FAILED=$((failed - FUL_FAILED0))
fi

# --- table --------------------------------------------------------------------------------------------
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src include 2>/dev/null || echo ' (src/ modified)')"
echo "- machine: $(nproc) CPU ($(lscpu 2>/dev/null | awk -F': *' '/^Model name/ { print $2; exit }')), Linux $(uname -r);" \
  "haproxy $(haproxy -v 2>/dev/null | awk 'NR == 1 { print $3 }'), nginx $(nginx -v 2>&1 | sed 's|.*/||'), wrk $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }')"
echo "- load average (1, 5, 15 min): $LOAD_START at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo
echo "HTTP/1.1 $([[ $CLOSE == 1 ]] && echo "Connection: close (a new connection per request)" || echo keep-alive), wrk -t$WRK_THREADS -c$CONNECTIONS --latency, $ROUNDS x (steady, reload) x ${DURATION}s per proxy, $THREADS"
echo "threads per proxy (Fulcrum workers, HAProxy nbthread); reload = $RATE reloads a second alternating two"
echo "configurations that differ in $(case $DIFF in pool) echo "a pool's backends and strategy" ;; strategy) echo "a pool's strategy" ;; replace) echo "a pool's strategy and every backend" ;; routes) echo "the listener's routes" ;; both) echo "the routes and a pool's backends and strategy" ;; esac)"
echo "(DIFF=$DIFF$([[ $HEALTH == 1 ]] && echo ", health checks every 1 s")); Fulcrum reloaded by $(case $VIA in sighup) echo SIGHUP ;; api) echo "POST /api/reload" ;; both) echo "SIGHUP and POST /api/reload in turn" ;; esac),"
echo "HAProxy 'haproxy -W' by SIGUSR2 to its master. req/s and p99 are medians over rounds; errors are summed."
echo
echo "| proxy | mode | req/s | x steady | p99 ms | p99 x steady | socket errors | non-2xx | reloads asked / done | cpu µs/req |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for t in $TARGETS; do
  s_rps=$(med <<<"${RPS[$t steady]}") s_p99=$(med <<<"${P99[$t steady]}")
  for mode in steady reload; do
    key="$t $mode"
    m_rps=$(med <<<"${RPS[$key]}") m_p99=$(med <<<"${P99[$key]}")
    reloads="–"
    [[ $mode == reload ]] && reloads="${ASKED[$key]:-0} / ${DONE[$key]:-?}"
    printf '| %s | %s | %.0f | %s | %s | %s | %d | %d | %s | %.2f |\n' "$t" "$mode" "$m_rps" "$(ratio "$m_rps" "$s_rps")" \
      "$(ms "$m_p99")" "$(ratio "$m_p99" "$s_p99")" "${SOCK[$key]}" "${NON2XX[$key]}" "$reloads" "$(med <<<"${CPU[$key]}")"
  done
done
echo
status=0
if [[ $TARGETS == *fulcrum* && -n ${generation:-} ]]; then
  r_rps=$(ratio "$(med <<<"${RPS[fulcrum reload]}")" "$(med <<<"${RPS[fulcrum steady]}")")
  r_p99=$(ratio "$(med <<<"${P99[fulcrum reload]}")" "$(med <<<"${P99[fulcrum steady]}")")
  failed_requests=$((SOCK[fulcrum reload] + NON2XX[fulcrum reload] + SOCK[fulcrum steady] + NON2XX[fulcrum steady]))
  verdict() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { ok = (op == ">=") ? v >= t : v <= t; printf "%s", ok ? "met" : "MISSED" }'; }
  echo "Fulcrum targets: reload req/s ${r_rps}x steady (>= 0.97: $(verdict "$r_rps" ">=" 0.97)), p99 ${r_p99}x (<= 1.2: $(verdict "$r_p99" "<=" 1.2)), failed requests $failed_requests (0: $([[ $failed_requests == 0 ]] && echo met || echo MISSED))"
  echo "Fulcrum: RSS $FUL_RSS0 KiB before its first reload round, $FUL_RSS1 KiB after its last; open descriptors $FUL_FDS0 -> $FUL_FDS1;"
  echo "  reloads ok ${DONE[fulcrum reload]}, failed $FUL_FAILED (of ${ASKED[fulcrum reload]} asked; fulcrum_reloads_total), generation $generation"
  if ((FUL_FAILED > 0)) || [[ -n $RELOAD_ERRORS ]]; then
    echo "  WARNING: reloads failed; the first failed answer: ${RELOAD_ERRORS:-none (SIGHUP: see the log)}"
    status=1
  fi
  ((failed_requests == 0)) || status=1
fi
[[ $TARGETS == *haproxy* ]] && echo "HAProxy: $HAP_NOTE"
if ((${#gone[@]})); then
  echo
  echo "WARNING: exited during the run (their figures are invalid): ${gone[*]}"
  status=1
fi
exit $status
