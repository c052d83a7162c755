# Shared helpers of the bench/ scripts: process sessions that are always cleaned up, CPU pinning,
# waiting for ports. Sourced, not run, from the project root.
set -u -o pipefail
export LC_ALL=C

FULCRUM=${FULCRUM:-$PWD/build/fulcrum}
THREADS=${THREADS:-1}  # worker threads of every proxy

# require TOOL... : exits 2, naming it, when a tool (or the Fulcrum binary) is missing.
require() {
  local tool
  for tool in "$@" taskset setsid; do
    command -v "$tool" >/dev/null || { echo "missing $tool: scripts/install-deps.sh bench" >&2; exit 2; }
  done
  [[ -x $FULCRUM ]] || { echo "no fulcrum binary at $FULCRUM (make build)" >&2; exit 2; }
}

BENCH_TMP=$(mktemp -d /tmp/fulcrum-bench.XXXXXX)
BENCH_SIDS=()
PIN=${PIN:-1}
CLIENT_CPUS=${CLIENT_CPUS:-0}   # load generator
PROXY_CPUS=${PROXY_CPUS:-1}     # fulcrum / haproxy / nginx proxy
BACKEND_CPUS=${BACKEND_CPUS:-1} # backends
[[ $PIN == 1 ]] || { CLIENT_CPUS=""; PROXY_CPUS=""; BACKEND_CPUS=""; }

bench_cleanup() {
  local s
  for s in "${BENCH_SIDS[@]}"; do kill -TERM -- "-$s" 2>/dev/null; done
  sleep 0.3
  for s in "${BENCH_SIDS[@]}"; do kill -KILL -- "-$s" 2>/dev/null; done
  wait 2>/dev/null
  [[ ${KEEP_TMP:-0} == 1 ]] && echo "kept $BENCH_TMP" >&2 || rm -rf "$BENCH_TMP"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# start_bg NAME CPUS CMD... : runs CMD in its own session (killed as a group at exit).
start_bg() {
  local name=$1 cpus=$2; shift 2
  if [[ -n $cpus ]]; then
    setsid taskset -c "$cpus" "$@" >"$BENCH_TMP/$name.log" 2>&1 </dev/null &
  else
    setsid "$@" >"$BENCH_TMP/$name.log" 2>&1 </dev/null &
  fi
  BENCH_SIDS+=("$!")
  eval "PID_${name//-/_}=$!"
}

# stop_bg NAME : ends a process group started by start_bg.
stop_bg() {
  local var="PID_${1//-/_}"
  local pid=${!var:-}
  [[ -n $pid ]] || return 0
  kill -TERM -- "-$pid" 2>/dev/null
  for _ in $(seq 1 30); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

wait_port() {  # PORT : until something accepts on 127.0.0.1:PORT (5 s)
  local i
  for i in $(seq 1 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$1" >&2
  return 1
}

pinned() {  # CPUS CMD... : runs CMD pinned (or not)
  local cpus=$1; shift
  if [[ -n $cpus ]]; then taskset -c "$cpus" "$@"; else "$@"; fi
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# nginx_backend NAME PORT... : one nginx worker answering "ok" on 127.0.0.1:PORT, for every PORT
# given (several ports: one process standing for that many backends).
nginx_backend() {
  local name=$1 dir="$BENCH_TMP/$1" listens="" port
  shift
  for port in "$@"; do listens+="listen 127.0.0.1:$port reuseport; "; done
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<NGX
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $dir; proxy_temp_path $dir; fastcgi_temp_path $dir; uwsgi_temp_path $dir; scgi_temp_path $dir;
  server { $listens location / { return 200 "ok\n"; } }
}
NGX
  start_bg "$name" "$BACKEND_CPUS" nginx -c "$dir/nginx.conf" -p "$dir"
  wait_port "$1" && wait_port "${!#}"
}

# haproxy_http_head THREADS : HAProxy's `global` and `defaults` sections for an HTTP keep-alive
# comparison (THREADS threads, long timeouts), as bench/http.sh and bench/reload.sh write them.
haproxy_http_head() {
  printf 'global\n    nbthread %s\n    maxconn 8000\n' "$1"
  printf 'defaults\n    mode http\n    option http-keep-alive\n    timeout connect 5s\n    timeout client 60s\n'
  printf '    timeout server 60s\n    timeout http-keep-alive 60s\n'
}

# haproxy_web_sections PORT : HAProxy's `frontend web` on 127.0.0.1:PORT and `backend web`,
# round robin over ${BACKENDS[@]}, as bench/http.sh and bench/idle_memory.sh compare it.
haproxy_web_sections() {
  local i
  printf 'frontend web\n    bind 127.0.0.1:%s\n    default_backend web\nbackend web\n    balance roundrobin\n' "$1"
  for i in "${!BACKENDS[@]}"; do printf '    server b%d %s\n' $((i + 1)) "${BACKENDS[$i]}"; done
}

# nginx_proxy_config DIR PORT WORKERS CONNECTIONS [EXTRA_MAIN] [EXTRA_HTTP] : writes DIR/nginx.conf, NGINX
# as a keep-alive reverse proxy on 127.0.0.1:PORT over ${BACKENDS[@]} (upstream keepalive 64,
# HTTP/1.1, Connection cleared), the way bench/http.sh and bench/idle_memory.sh compare it.
nginx_proxy_config() {
  local dir=$1 port=$2 workers=$3 connections=$4 extra_main=${5:-} extra_http=${6:-} servers="" b
  for b in "${BACKENDS[@]}"; do servers+="server $b; "; done
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<NGX
worker_processes $workers;
$extra_main
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections $connections; }
http {
  access_log off;
  keepalive_requests 1000000;
  $extra_http
  client_body_temp_path $dir; proxy_temp_path $dir; fastcgi_temp_path $dir; uwsgi_temp_path $dir; scgi_temp_path $dir;
  upstream web {
    $servers
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$port;
    location / { proxy_pass http://web; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
NGX
}

# --- wrk rounds with exact figures and the target's CPU time ------------------------------------------

# wrk reports exact figures through a done() hook: requests, duration (µs), p50, p99 (µs),
# socket errors (connect+read+write+timeout), HTTP errors (status > 399).
cat >"$BENCH_TMP/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %d %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.timeout, e.status))
end
LUA

TCK=$(getconf CLK_TCK)
cpu_ticks() {  # SID : utime+stime of every process of the session (threads included)
  local p total=0 stat rest
  for p in $(ps -o pid= --sid "$1" 2>/dev/null); do
    stat=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    rest=${stat##*) }                      # after "pid (comm) ": field 3 onwards
    read -r -a f <<<"$rest"
    total=$((total + f[11] + f[12]))     # fields 14 and 15: utime, stime
  done
  echo "$total"
}

# wrk_round PORT SID CONNS SECONDS : one wrk -t1 run against 127.0.0.1:PORT, the CPU time of session
# SID charged to it; prints "rps p50_us p99_us errors cpu_us_per_request". A run that produced no
# figures (target down) prints a round with 0 req/s and 1 error, and says why on stderr.
wrk_round() {
  local port=$1 sid=$2 c=$3 d=$4 c0 c1 out
  c0=$(cpu_ticks "$sid")
  out=$(pinned "$CLIENT_CPUS" timeout $((d + 15)) wrk -t1 -c"$c" -d"${d}s" --latency -s "$BENCH_TMP/report.lua" \
        "http://127.0.0.1:$port/" 2>&1)
  c1=$(cpu_ticks "$sid")
  awk -v c0="$c0" -v c1="$c1" -v tck="$TCK" '/^WRK / {
      n++
      rps = ($3 > 0) ? $2 * 1e6 / $3 : 0
      cpu = ($2 > 0) ? (c1 - c0) * 1e6 / tck / $2 : 0
      printf "%.0f %d %d %d %.2f\n", rps, $4, $5, $6 + $7, cpu }
    END { if (!n) print "0 0 0 1 0" }' <<<"$out"
  grep -q '^WRK ' <<<"$out" || echo "wrk failed on port $port: $(grep -v '^WRK ' <<<"$out" | tail -2 | tr '\n' ' ')" >&2
}

# Figures over rounds, from space-separated values on stdin.
best() { tr ' ' '\n' | grep -v '^$' | sort -g | tail -1; }
med() { tr ' ' '\n' | grep -v '^$' | median; }
ratio() { awk -v a="$1" -v b="${2:-0}" 'BEGIN { if (b > 0) printf "%.3f", a / b; else printf "-" }'; }
ms() { awk -v u="$1" 'BEGIN { printf "%.3f", u / 1000 }'; }
