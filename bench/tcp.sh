#!/usr/bin/env bash
# L4 benchmark: Fulcrum `mode: tcp` vs HAProxy `mode tcp` and NGINX `stream` (Debian packages,
# same thread count) vs a direct connection, interleaved in one run on loopback.
#   bulk      Gbit/s of one iperf3 stream (several GiB per run) through each target, and how busy
#             the proxy's core was meanwhile (below 100 %: the proxy was waiting, not saturated)
#   connrate  new connections per second: wrk with `Connection: close` (one TCP connection per
#             request) through each target to an nginx backend
# Usage: bench/tcp.sh [ROUNDS]   (env: FULCRUM=build/fulcrum THREADS=1 BULK_SECONDS=4 CONN_SECONDS=3)
set -u
cd "$(dirname "$0")/.."
source bench/common.sh

ROUNDS=${1:-${ROUNDS:-3}}
BULK_SECONDS=${BULK_SECONDS:-4}
CONN_SECONDS=${CONN_SECONDS:-3}
BASE=${BASE_PORT:-19080}
P_IPERF=$((BASE + 1)) P_NGINX=$((BASE + 2))
P_HAP_BULK=$((BASE + 11)) P_HAP_CONN=$((BASE + 12))
P_NGX_BULK=$((BASE + 31)) P_NGX_CONN=$((BASE + 32))
P_FUL_BULK=$((BASE + 21)) P_FUL_CONN=$((BASE + 22))

require haproxy nginx wrk iperf3
NGX_STREAM=/usr/lib/nginx/modules/ngx_stream_module.so
[[ -f $NGX_STREAM ]] || { echo "missing $NGX_STREAM (libnginx-mod-stream): scripts/install-deps.sh bench" >&2; exit 2; }

# The iperf3 server shares the client's CPU: the proxy gets a core to itself, so the proxied figure
# is its per-core forwarding capacity.
start_bg iperf "$CLIENT_CPUS" iperf3 -s -B 127.0.0.1 -p "$P_IPERF"
nginx_backend nginx "$P_NGINX"

cat >"$BENCH_TMP/haproxy.cfg" <<CFG
global
    nbthread $THREADS
    maxconn 8000
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend bulk
    bind 127.0.0.1:$P_HAP_BULK
    default_backend bulk
backend bulk
    server s1 127.0.0.1:$P_IPERF
frontend conn
    bind 127.0.0.1:$P_HAP_CONN
    default_backend conn
backend conn
    server s1 127.0.0.1:$P_NGINX
CFG
cat >"$BENCH_TMP/fulcrum.yaml" <<CFG
workers: $THREADS
listeners:
  - { name: bulk, listen: 127.0.0.1:$P_FUL_BULK, mode: tcp, pool: bulk }
  - { name: conn, listen: 127.0.0.1:$P_FUL_CONN, mode: tcp, pool: conn }
pools:
  bulk: { backends: [ 127.0.0.1:$P_IPERF ] }
  conn: { backends: [ 127.0.0.1:$P_NGINX ] }
CFG
mkdir -p "$BENCH_TMP/nginx-stream"
cat >"$BENCH_TMP/nginx-stream/nginx.conf" <<CFG
load_module $NGX_STREAM;
worker_processes $THREADS;
daemon off;
pid $BENCH_TMP/nginx-stream/nginx.pid;
error_log $BENCH_TMP/nginx-stream/error.log warn;
events { worker_connections 8192; }
stream {
  server { listen 127.0.0.1:$P_NGX_BULK reuseport; proxy_pass 127.0.0.1:$P_IPERF; }
  server { listen 127.0.0.1:$P_NGX_CONN reuseport; proxy_pass 127.0.0.1:$P_NGINX; }
}
CFG
start_bg haproxy "$PROXY_CPUS" haproxy -db -f "$BENCH_TMP/haproxy.cfg"
start_bg nginx_stream "$PROXY_CPUS" nginx -c "$BENCH_TMP/nginx-stream/nginx.conf" -p "$BENCH_TMP/nginx-stream"
start_bg fulcrum "$PROXY_CPUS" "$FULCRUM" --log-level warn run -c "$BENCH_TMP/fulcrum.yaml"
for p in $P_HAP_BULK $P_HAP_CONN $P_NGX_BULK $P_NGX_CONN $P_FUL_BULK $P_FUL_CONN; do wait_port "$p" || exit 1; done

declare -A bulk_port=([direct]=$P_IPERF [haproxy]=$P_HAP_BULK [nginx]=$P_NGX_BULK [fulcrum]=$P_FUL_BULK)
declare -A conn_port=([direct]=$P_NGINX [haproxy]=$P_HAP_CONN [nginx]=$P_NGX_CONN [fulcrum]=$P_FUL_CONN)
# Whose CPU time counts: the proxy's; for direct, the iperf3 server's (bulk) and nginx's (connections).
declare -A bulk_sid=([direct]=$PID_iperf [haproxy]=$PID_haproxy [nginx]=$PID_nginx_stream [fulcrum]=$PID_fulcrum)
declare -A conn_sid=([direct]=$PID_nginx [haproxy]=$PID_haproxy [nginx]=$PID_nginx_stream [fulcrum]=$PID_fulcrum)
targets=(direct haproxy nginx fulcrum)
declare -A gbps bulk_busy conns conn_cpu

for ((r = 0; r < ROUNDS; r++)); do
  for ((i = 0; i < ${#targets[@]}; i++)); do
    t=${targets[$(((i + r) % ${#targets[@]}))]}
    b0=$(cpu_ticks "${bulk_sid[$t]}") s0=$(date +%s.%N)
    g=$(pinned "$CLIENT_CPUS" timeout $((BULK_SECONDS + 10)) iperf3 -c 127.0.0.1 -p "${bulk_port[$t]}" -t "$BULK_SECONDS" -J 2>/dev/null |
        awk -F'[:,]' '/"sum_received"/ { f = 1 } f && /"bits_per_second"/ { printf "%.2f\n", $2 / 1e9; exit }')
    busy=$(awk -v c0="$b0" -v c1="$(cpu_ticks "${bulk_sid[$t]}")" -v s0="$s0" -v s1="$(date +%s.%N)" -v tck="$TCK" \
        'BEGIN { printf "%.0f", (c1 - c0) * 100 / tck / (s1 - s0) }')
    gbps[$t]+="${g:-0} " bulk_busy[$t]+="$busy "
    c0=$(cpu_ticks "${conn_sid[$t]}")
    c=$(pinned "$CLIENT_CPUS" timeout $((CONN_SECONDS + 10)) wrk -t1 -c32 -d"${CONN_SECONDS}s" -H 'Connection: close' \
        "http://127.0.0.1:${conn_port[$t]}/" 2>/dev/null | awk '/Requests\/sec/ { print $2 }')
    # CPU per connection of the proxy (of nginx for direct): noise on the machine slows a round
    # down but hardly changes what each connection costs.
    u=$(awk -v c0="$c0" -v c1="$(cpu_ticks "${conn_sid[$t]}")" -v n="${c:-0}" -v d="$CONN_SECONDS" -v tck="$TCK" \
        'BEGIN { printf "%.1f", (n > 0) ? (c1 - c0) * 1e6 / tck / (n * d) : 0 }')
    conns[$t]+="${c:-0} " conn_cpu[$t]+="$u "
    echo "round $((r + 1)) $t: ${g:-?} Gbit/s (${busy}% CPU), ${c:-?} conn/s, $u us CPU/conn" >&2
  done
done

echo
echo "L4 (mode tcp), $THREADS thread(s) per proxy, $ROUNDS interleaved rounds; ratios of best rounds (x haproxy med:"
echo "of the medians); busy = CPU of the proxy (iperf3 server for direct) during the bulk run, % of one core;"
echo "cpu/conn = CPU time of the proxy (nginx for direct) per connection; both medians over rounds"
printf '| %-8s | %10s | %10s | %9s | %9s | %6s | %12s | %12s | %9s | %13s | %12s |\n' target "Gbit/s med" "Gbit/s best" "x direct" "x haproxy" \
  "busy %" "conn/s med" "conn/s best" "x haproxy" "x haproxy med" "cpu/conn µs"
printf '|%s|\n' "----------|------------|-------------|-----------|-----------|--------|--------------|--------------|-----------|---------------|-------------"
for t in "${targets[@]}"; do
  gb=$(best <<<"${gbps[$t]}"); cb=$(best <<<"${conns[$t]}"); cm=$(med <<<"${conns[$t]}")
  gd=$(best <<<"${gbps[direct]}"); gh=$(best <<<"${gbps[haproxy]}"); ch=$(best <<<"${conns[haproxy]}")
  printf '| %-8s | %10.2f | %11.2f | %9s | %9s | %6s | %12.0f | %12.0f | %9s | %13s | %12s |\n' "$t" "$(med <<<"${gbps[$t]}")" "$gb" \
    "$(ratio "$gb" "$gd")" "$(ratio "$gb" "$gh")" "$(med <<<"${bulk_busy[$t]}")" "$cm" "$cb" "$(ratio "$cb" "$ch")" \
    "$(ratio "$cm" "$(med <<<"${conns[haproxy]}")")" "$(med <<<"${conn_cpu[$t]}")"
done
