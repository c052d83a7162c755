# Shared helpers of the bench/ scripts: process sessions that are always cleaned up, CPU pinning,
# waiting for ports. Sourced, not run.
set -u -o pipefail
export LC_ALL=C

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

# nginx_backend NAME PORT : a minimal nginx answering "ok" on 127.0.0.1:PORT.
nginx_backend() {
  local name=$1 port=$2 dir="$BENCH_TMP/$1"
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<NGX
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $dir; proxy_temp_path $dir; fastcgi_temp_path $dir; uwsgi_temp_path $dir; scgi_temp_path $dir;
  server { listen 127.0.0.1:$port reuseport; location / { return 200 "ok\n"; } }
}
NGX
  start_bg "$name" "$BACKEND_CPUS" nginx -c "$dir/nginx.conf" -p "$dir"
  wait_port "$port"
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
