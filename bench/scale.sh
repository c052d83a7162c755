#!/usr/bin/env bash
# Autoscaling under a step load: wrk from LOW to HIGH connections and back over a managed pool that
# Fulcrum scales between MIN and MAX instances on the in-flight count, and the same load over fixed
# managed pools of MIN and of MAX instances. Each instance is bench/delay_backend.py (every request
# answered after DELAY_MS) and the pool lets each take LIMIT requests at once (`max_connections`,
# with a queue), so an instance's capacity is LIMIT × 1000 / DELAY_MS req/s and more instances
# serve more. The load runs in slices of SLICE seconds; after each, the pool's instance count is
# read from the admin API. Prints a table over time (seconds, connections, instances, req/s, p99)
# per pool, then: the autoscaled pool's p99 once scaled (the HIGH slices after it reached MAX)
# beside the fixed MAX pool's (target: within 1.5×), and how long after the load fell it was back
# at MIN (target: within DOWN_WINDOW + 10 s).
# Usage: bench/scale.sh
#   env: FULCRUM=build/fulcrum THREADS=1 MIN=1 MAX=8 LIMIT=20 DELAY_MS=20 TARGET=12 LOW=10 HIGH=200
#        LOW_SECONDS=10 HIGH_SECONDS=40 SLICE=2 UP_COOLDOWN=2s DOWN_WINDOW=15s BASE_PORT=19680
#        PIN=1 CLIENT_CPUS=0 PROXY_CPUS=1 BACKEND_CPUS=1 KEEP_TMP=0
# The in-flight count of an instance cannot pass LIMIT (its slots), so TARGET must be below LIMIT
# for the pool to grow (each step at most LIMIT / TARGET times the last), and LOW at most
# TARGET × MIN for it to come back to MIN.
# It needs a quiet machine for figures worth comparing: a smoke run is LOW_SECONDS=2 HIGH_SECONDS=4
# DOWN_WINDOW=2s MAX=2 HIGH=50.
set -u
cd "$(dirname "$0")/.."
source bench/common.sh

MIN=${MIN:-1}
MAX=${MAX:-8}
LIMIT=${LIMIT:-20}
DELAY_MS=${DELAY_MS:-20}
TARGET=${TARGET:-12}
LOW=${LOW:-10}
HIGH=${HIGH:-200}
LOW_SECONDS=${LOW_SECONDS:-10}
HIGH_SECONDS=${HIGH_SECONDS:-40}
SLICE=${SLICE:-2}
UP_COOLDOWN=${UP_COOLDOWN:-2s}
DOWN_WINDOW=${DOWN_WINDOW:-15s}
BASE=${BASE_PORT:-19680}

require wrk curl python3
down_seconds=${DOWN_WINDOW%s}
[[ $down_seconds =~ ^[0-9]+$ ]] || { echo "DOWN_WINDOW must be whole seconds, like 15s" >&2; exit 2; }
# After the load falls: the down window, the 10 s of the target, and a few slices to see it hold.
TAIL_SECONDS=$((down_seconds + 10 + 2 * SLICE))

echo "machine: $(nproc) CPU ($(lscpu 2>/dev/null | awk -F': *' '/^Model name/ { print $2; exit }')), Linux $(uname -r);" \
  "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# pool_config NAME PORT ADMIN_PORT PORTS INSTANCES_AND_AUTOSCALE : a Fulcrum config over one managed
# pool of delay backends.
pool_config() {
  cat <<CFG
workers: $THREADS
drain_timeout: 5s
listeners:
  - { name: web, listen: 127.0.0.1:$2, mode: http, pool: app }
admin: { listen: 127.0.0.1:$3 }
pools:
  app:
    max_connections: $LIMIT
    queue: { size: 10000, timeout: 10s }
    managed:
      command: [python3, $PWD/bench/delay_backend.py, "{port}", "$DELAY_MS"]
      ports: $4
$5
      ready: { tcp: {}, timeout: 10s }
      stop: { signal: SIGTERM, timeout: 2s }
CFG
}

instances_of() {  # ADMIN_PORT : instances ready in pool app
  curl -s --max-time 2 "http://127.0.0.1:$1/api/pools/app/instances" |
    python3 -c 'import json,sys
try: print(sum(1 for i in json.load(sys.stdin) if i.get("state") == "ready"))
except Exception: print(0)'
}

# run_pool NAME INSTANCES_AND_AUTOSCALE OFFSET : the step load over one pool; appends its table
# lines "NAME t conns instances rps p99_us errors" to $BENCH_TMP/table.
run_pool() {
  local name=$1 spec=$2 offset=$3 port admin t=0 phase conns seconds end out rps p99 err n
  port=$((BASE + offset)) admin=$((BASE + offset + 1))
  local ports="$((BASE + offset + 10))-$((BASE + offset + 10 + MAX + 4))"
  pool_config "$name" "$port" "$admin" "$ports" "$spec" >"$BENCH_TMP/$name.yaml"
  start_bg "fulcrum_$name" "$PROXY_CPUS" "$FULCRUM" --log-level warn run -c "$BENCH_TMP/$name.yaml"
  wait_port "$port" && wait_port "$admin" || return 1
  for _ in $(seq 1 100); do
    n=$(instances_of "$admin")
    ((n >= ${4:-$MIN})) && break
    sleep 0.1
  done
  for phase in "$LOW $LOW_SECONDS" "$HIGH $HIGH_SECONDS" "$LOW $TAIL_SECONDS"; do
    read -r conns seconds <<<"$phase"
    end=$((t + seconds))
    while ((t < end)); do
      read -r rps _ p99 err _ <<<"$(wrk_round "$port" "${BENCH_SIDS[-1]}" "$conns" "$SLICE")"
      t=$((t + SLICE))
      n=$(instances_of "$admin")
      echo "$name $t $conns $n $rps $p99 $err" >>"$BENCH_TMP/table"
      printf '%-10s t=%4ss  conns %4s  instances %2s  %8s req/s  p99 %8s us  errors %s\n' \
        "$name" "$t" "$conns" "$n" "$rps" "$p99" "$err" >&2
    done
  done
  stop_bg "fulcrum_$name"
}

: >"$BENCH_TMP/table"
autoscale="      instances: { min: $MIN, max: $MAX }
      autoscale:
        target: { in_flight: $TARGET }
        up_cooldown: $UP_COOLDOWN
        down_window: $DOWN_WINDOW
        tolerance: 0.1"
run_pool autoscaled "$autoscale" 0 "$MIN" || exit 1
run_pool "fixed_$MIN" "      instances: $MIN" 100 "$MIN" || exit 1
run_pool "fixed_$MAX" "      instances: $MAX" 200 "$MAX" || exit 1

# --- the table and the targets -----------------------------------------------------------------------
echo
echo "Step load $LOW -> $HIGH -> $LOW connections (wrk -t1, ${SLICE}s slices); instances: min $MIN, max $MAX;"
echo "each instance $LIMIT requests at once of ${DELAY_MS} ms (at most $((LIMIT * 1000 / DELAY_MS)) req/s per instance)."
echo
python3 - "$BENCH_TMP/table" "$MIN" "$MAX" "$HIGH" "$LOW_SECONDS" "$HIGH_SECONDS" "$down_seconds" <<'PY'
import sys
from collections import defaultdict
path, lo, hi, high, low_s, high_s, down = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
rows = defaultdict(list)
for line in open(path):
    name, t, conns, n, rps, p99, err = line.split()
    rows[name].append((int(t), int(conns), int(n), float(rps), int(p99), int(err)))
names = list(rows)
print("| t (s) | connections | " + " | ".join(f"{n}: instances, req/s, p99 ms" for n in names) + " |")
print("| ---: | ---: | " + " | ".join("---" for _ in names) + " |")
for i, row in enumerate(rows[names[0]]):
    cells = []
    for n in names:
        if i < len(rows[n]):
            t, c, k, rps, p99, err = rows[n][i]
            cells.append(f"{k}, {rps:.0f}, {p99 / 1000:.1f}" + (f" ({err} errors)" if err else ""))
        else:
            cells.append("")
    print(f"| {row[0]} | {row[1]} | " + " | ".join(cells) + " |")
print()
auto, fixed_max = rows.get("autoscaled", []), rows.get(f"fixed_{hi}", [])
def high_slices(r, scaled_only):
    out, reached = [], False
    for t, c, k, rps, p99, err in r:
        if c != high:
            continue
        reached = reached or k >= hi
        if reached or not scaled_only:
            out.append(p99)
    return out
def median(v):
    v = sorted(v)
    return (v[len(v) // 2] + v[(len(v) - 1) // 2]) / 2 if v else 0
a, m = high_slices(auto, True), high_slices(fixed_max, False)
if a and m and median(m) > 0:
    ratio = median(a) / median(m)
    print(f"p99 under {high} connections once scaled: autoscaled {median(a) / 1000:.1f} ms, fixed {hi}: "
          f"{median(m) / 1000:.1f} ms, ratio {ratio:.2f} (target <= 1.5: {'met' if ratio <= 1.5 else 'NOT met'})")
else:
    print(f"p99 once scaled: the autoscaled pool never reached {hi} instances under load (or no figures)")
fall = low_s + high_s
back = next((t for t, c, k, *_ in auto if t > fall and k <= lo), None)
if back is None:
    print(f"back to {lo} instances: not within the run ({down}s down window + 10 s)")
else:
    print(f"back to {lo} instances {back - fall} s after the load fell (target <= {down + 10} s: "
          f"{'met' if back - fall <= down + 10 else 'NOT met'}; measured at slice ends)")
print(f"errors: " + ", ".join(f"{n} {sum(r[5] for r in rows[n])}" for n in names))
PY
