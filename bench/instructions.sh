#!/usr/bin/env bash
# Instructions per HTTP request (user space) of one or more Fulcrum binaries, counted by callgrind:
# one worker behind wrk -t1 -c50 for DURATION seconds, three nginx backends, round robin, the
# counting switched on only while wrk runs (start-up and the warm-up are not counted).
#
# Why: on a shared 2-vCPU host req/s and CPU time swing by ±5 % between runs, which hides a change
# of a few percent in the per-request path. The count of instructions is the same from run to run
# within about 1 %, so an A/B of two builds (a commit and its parent) shows what a hot-path change
# costs or saves, function by function (callgrind_annotate on the files kept with KEEP_TMP=1). It
# says nothing of the kernel's share (system calls, copies), which is most of a request's cost:
# req/s beside HAProxy is still bench/http.sh's job.
# Usage: bench/instructions.sh [BINARY...]   (default: $FULCRUM)
#   env: DURATION=5 CONNS=50 BASE_PORT=19700 KEEP_TMP=0
# Bounded: about (DURATION + 12) seconds per binary. Needs valgrind, wrk, nginx.
set -u
cd "$(dirname "$0")/.."
PIN=0
source bench/common.sh
require valgrind callgrind_control wrk nginx
DURATION=${DURATION:-5}
CONNS=${CONNS:-50}
BASE=${BASE_PORT:-19700}
(($#)) || set -- "$FULCRUM"

nginx_backend backend $((BASE + 1)) $((BASE + 2)) $((BASE + 3)) || exit 1
printf '%-40s %10s %14s\n' binary requests instr/request
n=0
for binary in "$@"; do
  n=$((n + 1))
  [[ -x $binary ]] || { echo "not an executable: $binary" >&2; exit 2; }
  cat >"$BENCH_TMP/fulcrum.yaml" <<YAML
workers: 1
listeners:
  - { name: web, listen: 127.0.0.1:$BASE, mode: http, pool: web }
pools:
  web:
    strategy: round_robin
    backends: [127.0.0.1:$((BASE + 1)), 127.0.0.1:$((BASE + 2)), 127.0.0.1:$((BASE + 3))]
YAML
  name=$(basename "$binary")
  out="$BENCH_TMP/callgrind.$n.$name"  # numbered: two binaries may share a name
  start_bg "counted" "" valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out.%p" \
    "$binary" run -c "$BENCH_TMP/fulcrum.yaml"
  # Under valgrind start-up takes seconds.
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$BASE") 2>/dev/null && break; sleep 0.2; done
  wrk -t1 -c"$CONNS" -d2s "http://127.0.0.1:$BASE/" >/dev/null  # warm-up: buffers, connections, caches
  callgrind_control -i on "$PID_counted" >/dev/null 2>&1
  result=$(wrk -t1 -c"$CONNS" -d"${DURATION}s" "http://127.0.0.1:$BASE/")
  callgrind_control -i off "$PID_counted" >/dev/null 2>&1
  # callgrind writes its counts when the process ends: give it time to stop cleanly.
  kill -TERM -- "-$PID_counted" 2>/dev/null
  for _ in $(seq 1 150); do kill -0 -- "-$PID_counted" 2>/dev/null || break; sleep 0.1; done
  stop_bg counted
  requests=$(awk '/requests in/ {print $1}' <<<"$result")
  total=$(cat "$out".* 2>/dev/null | awk '/^totals:/ {print $2; exit}')
  if [[ -z $requests || -z $total || $requests == 0 ]]; then
    echo "$name: no count (wrk: $(tail -1 <<<"$result"))" >&2
    exit 1
  fi
  printf '%-40s %10d %14d\n' "$name" "$requests" $((total / requests))
done
