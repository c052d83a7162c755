#!/usr/bin/env bash
# Memory per idle keep-alive client connection: Fulcrum `mode: http` vs HAProxy `mode http` vs NGINX
# as a reverse proxy (same thread/worker count), over 3 nginx backends on loopback.
# For each proxy in turn (started alone, stopped afterwards), bench/idle_clients.py opens
# IDLE_CONNS client connections that each made one request, read the whole response and stay open
# and idle, and reads the proxy's RSS (VmRSS summed over its processes) before, at half, with all
# of them, and after they closed. Reported: (RSS with N idle - RSS before) / N, the same slope
# between N/2 and N (without one-time growth), the upstream connections the proxy holds meanwhile.
# Keep-alive timeouts are 5 min so nothing is closed during the measurement.
# Usage: bench/idle_memory.sh   (env: FULCRUM=build/fulcrum THREADS=1 IDLE_CONNS=10000 BASE_PORT=19280)
set -u
cd "$(dirname "$0")/.."
source bench/common.sh

N=${IDLE_CONNS:-10000}
BASE=${BASE_PORT:-19280}
P_B1=$((BASE + 1)) P_B2=$((BASE + 2)) P_B3=$((BASE + 3))
P_HAP=$((BASE + 10)) P_NGX=$((BASE + 11)) P_FUL=$((BASE + 12))

require haproxy nginx python3

# Every process started from here inherits the limit: the proxies need N client sockets plus their
# upstream ones, the client N. Without CAP_SYS_RESOURCE only the hard limit is reachable.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
FDS=$(ulimit -n)
if ((FDS < N + 200)); then
  echo "warning: open files limit $FDS < $N idle clients + margin; raise it (ulimit -Hn) or lower IDLE_CONNS" >&2
fi

nginx_backend b1 "$P_B1" || exit 1
nginx_backend b2 "$P_B2" || exit 1
nginx_backend b3 "$P_B3" || exit 1
BACKENDS=(127.0.0.1:$P_B1 127.0.0.1:$P_B2 127.0.0.1:$P_B3)

# HAProxy reserves 2 fds per connection (client + server) and refuses to start when maxconn does not
# fit in the open files limit it can reach, so that limit may cap its share of clients (it needs
# about N fds only, as idle clients hold no server connection, but it insists).
HAP_MAXCONN=$((N + 1000))
((HAP_MAXCONN * 2 + 100 <= FDS)) || HAP_MAXCONN=$(((FDS - 100) / 2))
declare -A count=([fulcrum]=$N [haproxy]=$((N < HAP_MAXCONN - 50 ? N : HAP_MAXCONN - 50)) [nginx]=$N)
((count[haproxy] == N)) || echo "note: haproxy gets ${count[haproxy]} idle clients (open files limit $FDS, 2 per maxconn)" >&2
cat >"$BENCH_TMP/haproxy.cfg" <<CFG
global
    nbthread $THREADS
    maxconn $HAP_MAXCONN
defaults
    mode http
    option http-keep-alive
    maxconn $HAP_MAXCONN
    timeout connect 5s
    timeout client 5m
    timeout server 5m
    timeout http-keep-alive 5m
    timeout http-request 5m
CFG
haproxy_web_sections "$P_HAP" >>"$BENCH_TMP/haproxy.cfg"

nginx_proxy_config "$BENCH_TMP/nginx-proxy" "$P_NGX" "$THREADS" $((FDS - 100)) "worker_rlimit_nofile $FDS;" "keepalive_timeout 300s;"

cat >"$BENCH_TMP/fulcrum.yaml" <<CFG
workers: $THREADS
listeners:
  - name: web
    listen: 127.0.0.1:$P_FUL
    mode: http
    pool: web
    keepalive_timeout: 5m
    idle_timeout: 5m
pools:
  web:
    strategy: round_robin
    backends: [ ${BACKENDS[0]}, ${BACKENDS[1]}, ${BACKENDS[2]} ]
CFG

start_proxy() {  # TARGET : starts it alone on the proxy CPU; prints nothing, returns wait_port's status
  case $1 in
    fulcrum) start_bg fulcrum "$PROXY_CPUS" "$FULCRUM" --log-level warn run -c "$BENCH_TMP/fulcrum.yaml"; wait_port "$P_FUL" ;;
    haproxy) start_bg haproxy "$PROXY_CPUS" haproxy -db -f "$BENCH_TMP/haproxy.cfg"; wait_port "$P_HAP" ;;
    nginx) start_bg nginx_proxy "$PROXY_CPUS" nginx -c "$BENCH_TMP/nginx-proxy/nginx.conf" -p "$BENCH_TMP/nginx-proxy"; wait_port "$P_NGX" ;;
  esac
}
declare -A port=([fulcrum]=$P_FUL [haproxy]=$P_HAP [nginx]=$P_NGX)
declare -A proc=([fulcrum]=fulcrum [haproxy]=haproxy [nginx]=nginx_proxy)
declare -A result

for t in ${TARGETS:-fulcrum haproxy nginx}; do
  start_proxy "$t" || { echo "warning: $t did not start (see its log with KEEP_TMP=1)" >&2; continue; }
  var="PID_${proc[$t]}"
  line=$(pinned "$CLIENT_CPUS" timeout $((60 + N / 100)) python3 bench/idle_clients.py --port "${port[$t]}" \
           --count "${count[$t]}" --sid "${!var}" --backend-ports "$P_B1,$P_B2,$P_B3" | grep '^IDLE ')
  echo "$t: ${line:-no result}" >&2
  result[$t]=$line
  stop_bg "${proc[$t]}"
  sleep 0.5
done

# --- table ------------------------------------------------------------------------------------------
field() { sed -n "s/.* $2=\([-0-9.]*\).*/\1/p" <<<" $1"; }
echo
echo "Idle keep-alive client connections: up to $N clients that each made one request and stay open;"
echo "RSS = VmRSS summed over the proxy's processes; $THREADS thread(s)/worker(s) per proxy"
echo
echo "| proxy | idle clients | RSS before MiB | RSS with idle MiB | bytes / idle conn | bytes / conn N/2→N | upstream conns held | RSS after close MiB | failed |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for t in ${TARGETS:-fulcrum haproxy nginx}; do
  l=${result[$t]:-}
  [[ -n $l ]] || { echo "| $t | - | - | - | - | - | - | - | no result |"; continue; }
  awk -v t="$t" -v ok="$(field "$l" open)" -v b="$(field "$l" base_kb)" -v h="$(field "$l" half_kb)" \
      -v f="$(field "$l" full_kb)" -v a="$(field "$l" after_kb)" -v hn="$(field "$l" half_n)" \
      -v n="$(field "$l" ok)" -v up="$(field "$l" upstream)" -v fail="$(field "$l" failed)" 'BEGIN {
    per = (n > 0) ? (f - b) * 1024 / n : 0
    slope = (n > hn) ? (f - h) * 1024 / (n - hn) : 0
    printf "| %s | %d | %.1f | %.1f | %.0f | %.0f | %d | %.1f | %d |\n", t, ok, b / 1024, f / 1024, per, slope, up, a / 1024, fail + (n - ok)
  }'
done
echo
echo "idle clients = clients still open when the RSS was read; failed = clients that got no 2xx answer or were closed early"
