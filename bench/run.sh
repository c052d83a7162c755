#!/usr/bin/env bash
# Every benchmark of bench/, one after the other, with the conditions they ran in; what `make bench`
# runs. Progress goes to stderr, the markdown tables (ready for docs/benchmarks.md) to stdout.
#   bench/tcp.sh          L4: bulk Gbit/s and new connections per second
#   bench/http.sh         L7: keep-alive req/s, p50/p99, CPU per request; unloaded latency
#   bench/idle_memory.sh  memory per idle keep-alive client connection
#   bench/health_overhead.sh  req/s with health checks of 100 backends, metrics and events on, vs off
# Usage: bench/run.sh [ROUNDS]   (env: FULCRUM=build/fulcrum THREADS=1, and each script's own knobs)
set -u -o pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C
ROUNDS=${1:-${ROUNDS:-3}}
export FULCRUM=${FULCRUM:-$PWD/build/fulcrum}
[[ -x $FULCRUM ]] || { echo "no fulcrum binary at $FULCRUM (make build)" >&2; exit 2; }

busy() {  # the processes using the most CPU over half a second, other than this script's
  top -bn2 -d0.5 -w 200 2>/dev/null | awk '/^top -/ { frame++ } frame == 2 && $1 ~ /^[0-9]+$/ && $9 + 0 >= 5 { printf "%s %s%%; ", $12, $9 }'
}
conditions() {
  echo "- load average: $(cut -d' ' -f1-3 /proc/loadavg); busy processes: $(busy)"
}

echo "# Fulcrum benchmarks"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src include 2>/dev/null || echo ' (src/ modified)')"
echo "- fulcrum: $FULCRUM ($($FULCRUM version 2>/dev/null))"
echo "- machine: $(nproc) CPU ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), Linux $(uname -r)"
echo "- haproxy $(haproxy -v 2>/dev/null | awk 'NR == 1 { print $3 }'), nginx $(nginx -v 2>&1 | sed 's|.*/||'), wrk $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }')"
echo "- pinning: load generator CPU ${CLIENT_CPUS:-0}, proxy CPU ${PROXY_CPUS:-1}, backends CPU ${BACKEND_CPUS:-1} (PIN=${PIN:-1})"
conditions

status=0
for script in tcp http idle_memory health_overhead; do
  echo
  echo "## $script"
  if [[ $script == idle_memory ]]; then
    timeout 900 bench/$script.sh || status=1
  else
    timeout 900 bench/$script.sh "$ROUNDS" || status=1
  fi
  conditions
done
exit $status
