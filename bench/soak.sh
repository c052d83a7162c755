#!/usr/bin/env bash
# The soak, long: Fulcrum (2 workers, an http and a tcp listener, the admin API with a token, the
# access log and the per-request event log) over a misbehaving HTTP backend and a misbehaving raw
# TCP backend, under hostile clients (mutated, pipelined, split, half-closed and reset requests,
# WebSocket tunnels cut midway, raw garbage, slow readers, admin requests and event streams dropped)
# for MINUTES, then the checks of the short soak in ctest (tests/soak/soak_test.cc):
#   - Fulcrum never died and printed no sanitizer report;
#   - a normal request on every listener still gets its normal answer;
#   - its sockets come back to their starting number once the clients are gone;
#   - it exits 0 on SIGTERM.
# Prints a summary: duration, connections and requests sent, crashes, sanitizer reports, descriptors
# (all, sockets) and RSS at the start, at the peak and at the end. Exits 1 when a check failed.
#
# Usage: bench/soak.sh [MINUTES]   (default 30)
#   env: FULCRUM (default: build/sanitize/fulcrum when built by make test-sanitize, else build/fulcrum),
#        HOSTILE (the hostile_client tool, from the same build), CLIENTS=12, SEED (default: random),
#        KEEP_TMP=1 keeps the logs.
# RSS under AddressSanitizer includes its quarantine of freed memory, which does not shrink: read the
# RSS figures of a sanitizer build as an upper bound, and a release build's for memory coming back.
set -u
cd "$(dirname "$0")/.."
MINUTES=${1:-30}
[[ $MINUTES =~ ^[0-9]+$ && $MINUTES -gt 0 ]] || { echo "usage: bench/soak.sh [MINUTES]" >&2; exit 2; }
if [[ -z ${FULCRUM:-} ]]; then
  if [[ -x build/sanitize/fulcrum ]]; then FULCRUM=$PWD/build/sanitize/fulcrum; else FULCRUM=$PWD/build/fulcrum; fi
fi
export PIN=${PIN:-0}  # no CPU pinning: the soak measures survival, not speed
source bench/common.sh
HOSTILE=${HOSTILE:-$(dirname "$FULCRUM")/tests/hostile_client}
[[ -x $HOSTILE ]] || { echo "no hostile_client at $HOSTILE (make build, or make test-sanitize)" >&2; exit 2; }
require
CLIENTS=${CLIENTS:-12}
SEED=${SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
SECONDS_TOTAL=$((MINUTES * 60))
TOKEN=soak-token

# --- backends and Fulcrum ------------------------------------------------------------------------------
start_bg backends "" "$HOSTILE" backends --seed "$SEED" --seconds $((SECONDS_TOTAL + 300))
for _ in $(seq 50); do grep -q '^http=' "$BENCH_TMP/backends.log" && break; sleep 0.1; done
HTTP_BACKEND=$(sed -n 's/^http=\([^ ]*\) raw=.*/\1/p' "$BENCH_TMP/backends.log")
RAW_BACKEND=$(sed -n 's/^http=[^ ]* raw=\(.*\)/\1/p' "$BENCH_TMP/backends.log")
[[ -n $HTTP_BACKEND && -n $RAW_BACKEND ]] || { echo "the hostile backends did not start" >&2; exit 1; }

cat >"$BENCH_TMP/fulcrum.yaml" <<YAML
workers: 2
drain_timeout: 3s
listeners:
  - name: web
    listen: 127.0.0.1:0
    mode: http
    pool: app
    header_timeout: 2s
    body_timeout: 2s
    keepalive_timeout: 2s
    tunnel_timeout: 3s
  - name: raw
    listen: 127.0.0.1:0
    mode: tcp
    pool: raw
    idle_timeout: 3s
pools:
  app:
    response_timeout: 2s
    idle_timeout: 2s
    deactivate_for: 0s
    backends:
      - address: "$HTTP_BACKEND"
  raw:
    deactivate_for: 0s
    backends:
      - address: "$RAW_BACKEND"
admin: { listen: 127.0.0.1:0, token: $TOKEN }
events: { file: $BENCH_TMP/events.jsonl, per_request: true, per_request_sample: 0 }
access_log: { file: $BENCH_TMP/access.jsonl, format: json }
YAML
LOG=$BENCH_TMP/fulcrum.log
start_bg fulcrum "" "$FULCRUM" --log-format json run -c "$BENCH_TMP/fulcrum.yaml"
address_of() { grep '"msg":"listening"' "$LOG" | grep "\"listener\":\"$1\"" | head -1 | sed 's/.*"address":"\([^"]*\)".*/\1/'; }
for _ in $(seq 100); do [[ $(grep -c '"msg":"listening"' "$LOG") -ge 3 ]] && break; sleep 0.1; done
WEB=$(address_of web) RAW=$(address_of raw) ADMIN=$(address_of admin)
[[ -n $WEB && -n $RAW && -n $ADMIN ]] || { echo "fulcrum did not start:" >&2; tail -20 "$LOG" >&2; exit 1; }
FPID=$(pgrep -s "$PID_fulcrum" -x fulcrum | head -1)
[[ -n $FPID ]] || FPID=$PID_fulcrum
TARGETS=(--http "$WEB" --tcp "$RAW" --admin "$ADMIN" --token "$TOKEN")

# --- measurements ----------------------------------------------------------------------------------------
fds() { ls "/proc/$FPID/fd" 2>/dev/null | wc -l; }
sockets() { find "/proc/$FPID/fd" -lname 'socket:*' 2>/dev/null | wc -l; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$FPID/status" 2>/dev/null || echo 0; }
alive() {  # running, not a zombie waiting to be reaped
  local state
  state=$(awk '{ print $3 }' "/proc/$FPID/stat" 2>/dev/null)
  [[ -n $state && $state != Z ]]
}
reports() { grep -cE 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer|ERROR: ThreadSanitizer' "$LOG"; }

FAILED=()
"$HOSTILE" check "${TARGETS[@]}" >"$BENCH_TMP/check-start.log" || FAILED+=("normal answers before the soak: $(tr '\n' ' ' <"$BENCH_TMP/check-start.log")")
sleep 3  # the first exchange's kept-alive backend connection idles out (2 s)
FD_START=$(fds) SOCK_START=$(sockets) RSS_START=$(rss_kb)
FD_PEAK=$FD_START SOCK_PEAK=$SOCK_START RSS_PEAK=$RSS_START
echo "soak: $MINUTES min, $CLIENTS clients, seed $SEED, fulcrum $FULCRUM (pid $FPID)"
echo "soak: start fds=$FD_START sockets=$SOCK_START rss_kb=$RSS_START"

# --- the traffic ----------------------------------------------------------------------------------------
START=$(date +%s)
start_bg traffic "" timeout $((SECONDS_TOTAL + 60)) "$HOSTILE" traffic "${TARGETS[@]}" --clients "$CLIENTS" \
  --connections 1000000000 --seconds "$SECONDS_TOTAL" --seed "$SEED" --read-timeout-ms 100
CRASHED=0
NEXT_REPORT=$((START + 60))
while kill -0 "$PID_traffic" 2>/dev/null; do
  if ! alive; then CRASHED=1; break; fi
  f=$(fds) s=$(sockets) r=$(rss_kb)
  ((f > FD_PEAK)) && FD_PEAK=$f
  ((s > SOCK_PEAK)) && SOCK_PEAK=$s
  ((r > RSS_PEAK)) && RSS_PEAK=$r
  now=$(date +%s)
  if ((now >= NEXT_REPORT)); then
    echo "soak: $(((now - START) / 60)) min: fds=$f sockets=$s rss_kb=$r sanitizer_reports=$(reports)"
    NEXT_REPORT=$((NEXT_REPORT + 60))
  fi
  sleep 2
done
END=$(date +%s)
alive || CRASHED=1
stop_bg traffic
TRAFFIC=$(grep '^elapsed_s=' "$BENCH_TMP/traffic.log" | tail -1)

# --- after: answers, descriptors back, SIGTERM ---------------------------------------------------------
EXIT_CODE=-
if ((CRASHED)); then
  wait "$PID_fulcrum" 2>/dev/null
  EXIT_CODE=$?
  FAILED+=("fulcrum died during the soak (exit $EXIT_CODE)")
  FD_END=- SOCK_END=- RSS_END=-
else
  "$HOSTILE" check "${TARGETS[@]}" >"$BENCH_TMP/check-end.log" || FAILED+=("normal answers after the soak: $(tr '\n' ' ' <"$BENCH_TMP/check-end.log")")
  for _ in $(seq 30); do  # idle timers: keep-alive 2 s, backend idle 2 s, tunnel 3 s, tcp idle 3 s
    (($(sockets) <= SOCK_START + 2)) && break
    sleep 1
  done
  FD_END=$(fds) SOCK_END=$(sockets) RSS_END=$(rss_kb)
  ((SOCK_END <= SOCK_START + 2)) || FAILED+=("sockets did not come back: $SOCK_START at the start, $SOCK_END at the end")
  kill -TERM "$FPID"
  for _ in $(seq 150); do alive || break; sleep 0.1; done
  if alive; then
    FAILED+=("fulcrum did not exit within 15 s of SIGTERM")
  else
    wait "$PID_fulcrum" 2>/dev/null
    EXIT_CODE=$?
    [[ $EXIT_CODE == 0 ]] || FAILED+=("fulcrum exited $EXIT_CODE on SIGTERM")
  fi
fi
REPORTS=$(reports)
((REPORTS == 0)) || FAILED+=("$REPORTS sanitizer report lines, the first: $(grep -m1 -E 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' "$LOG")")

echo
echo "=== soak summary ==="
echo "duration:           $(((END - START) / 60)) min $(((END - START) % 60)) s (asked: $MINUTES min)"
echo "traffic:            ${TRAFFIC:-(no summary from the clients)}"
echo "crashes:            $CRASHED"
echo "sanitizer reports:  $REPORTS"
echo "descriptors:        start $FD_START, peak $FD_PEAK, end $FD_END"
echo "sockets:            start $SOCK_START, peak $SOCK_PEAK, end $SOCK_END"
echo "rss_kb:             start $RSS_START, peak $RSS_PEAK, end $RSS_END"
echo "exit on SIGTERM:    $EXIT_CODE"
echo "seed:               $SEED (SEED=$SEED bench/soak.sh $MINUTES repeats the choices)"
if ((${#FAILED[@]})); then
  printf 'FAILED: %s\n' "${FAILED[@]}"
  KEEP_TMP=1  # the cleanup keeps the logs
  echo "fulcrum's log: $LOG; its last non-JSON lines:"
  grep -v '^{' "$LOG" | tail -40
  exit 1
fi
echo "OK"
