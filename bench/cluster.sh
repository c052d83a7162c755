#!/usr/bin/env bash
# Cluster mode: three instances of one cluster and one etcd, N backends registered
# (500 by default, in a pool no listener uses, so that they cost the data path nothing but their
# bookkeeping) renewing every second through the instances in turn, and RATE runtime changes a
# second (weight changes through the instances' admin APIs in turn). Reported:
#   - propagation: from an answered API call at one instance until all three emitted the change's
#     `backend_weight` (read from each instance's event stream): p50, p99, max; target p99 < 200 ms;
#     over the whole run, and apart (quiet_*) for the first QUIET seconds, before any client load;
#   - req/s of each instance (wrk keep-alive, one nginx backend) against a fourth instance with the
#     same configuration but no `cluster:`, measured one after the other (ROUNDS rounds, the order
#     turned each round; medians compared) while the renewals and changes run; target >= 0.97x.
# Usage: bench/cluster.sh
#   env: FULCRUM=build/fulcrum THREADS=1 N=500 RATE=50 DURATION=5 ROUNDS=3 QUIET=5 CONNS=32 BASE_PORT=23000
#        KEEP_TMP=0 TRACE=  (a file: one JSON line per change, its origin and delay at each instance)
# Bounded: about 3 + QUIET + 4 x ROUNDS x DURATION seconds of load plus start-up; every process is started in its
# own session and killed at exit. Needs etcd (apt-get install etcd-server), wrk, nginx, python3.
set -u
cd "$(dirname "$0")/.."
PIN=${PIN:-0}
source bench/common.sh
require wrk nginx etcd python3
N=${N:-500}
RATE=${RATE:-50}
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
QUIET=${QUIET:-5}
CONNS=${CONNS:-32}
BASE=${BASE_PORT:-23000}

ETCD="http://127.0.0.1:$BASE"
start_bg etcd "" etcd --name bench --data-dir "$BENCH_TMP/etcd" --listen-client-urls "$ETCD" \
  --advertise-client-urls "$ETCD" --listen-peer-urls "http://127.0.0.1:$((BASE + 1))" \
  --initial-advertise-peer-urls "http://127.0.0.1:$((BASE + 1))" \
  --initial-cluster "bench=http://127.0.0.1:$((BASE + 1))" --log-level warn
wait_port "$BASE" || exit 1
nginx_backend backend $((BASE + 100)) || exit 1

config() {  # I CLUSTER(0/1)
  local i=$1
  cat <<YAML
workers: $THREADS
listeners:
  - { name: web, listen: 127.0.0.1:$((BASE + 10 + i)), mode: http, pool: api }
admin: { listen: 127.0.0.1:$((BASE + 20 + i)), token: bench }
registration: { listen: 127.0.0.1:$((BASE + 30 + i)), token: reg }
pools:
  api:
    backends: [127.0.0.1:$((BASE + 100))]
  reg:
    registration: { ttl: 5s }
YAML
  [[ $2 == 1 ]] && echo "cluster: { name: bench, etcd: { endpoints: [$ETCD], prefix: /fulcrum-bench } }"
}
for i in 0 1 2 3; do
  config "$i" $((i < 3 ? 1 : 0)) >"$BENCH_TMP/f$i.yaml"
  start_bg "f$i" "$PROXY_CPUS" "$FULCRUM" run -c "$BENCH_TMP/f$i.yaml"
  wait_port $((BASE + 20 + i)) || exit 1
done

registration="127.0.0.1:$((BASE + 30)),127.0.0.1:$((BASE + 31)),127.0.0.1:$((BASE + 32))"
admin="127.0.0.1:$((BASE + 20)),127.0.0.1:$((BASE + 21)),127.0.0.1:$((BASE + 22))"
seconds=$((QUIET + 4 * ROUNDS * DURATION + 4))
python3 bench/cluster_driver.py run --registration "$registration" --admin "$admin" --token bench \
  --reg-token reg --n "$N" --rate "$RATE" --seconds "$seconds" --quiet-seconds "$QUIET" ${TRACE:+--trace "$TRACE"} >"$BENCH_TMP/driver.out" 2>&1 &
driver=$!
# Registrations in place, renewals and changes under way; then QUIET seconds of changes with no
# client load (reported apart as quiet_*), before wrk.
sleep $((3 + QUIET))

# ROUNDS rounds, each instance once per round, the order turned by one each round so that no
# instance always runs right after another; each instance's median round is compared.
declare -A rounds
order=(3 0 1 2)
for ((round = 0; round < ROUNDS; round++)); do
  for ((j = 0; j < 4; j++)); do
    i=${order[$(((j + round) % 4))]}
    var="PID_f$i"
    read -r r _ _ errors _ < <(wrk_round $((BASE + 10 + i)) "${!var}" "$CONNS" "$DURATION")
    rounds[$i]="${rounds[$i]:-} $r"
    echo "round $round, instance $i$([[ $i == 3 ]] && echo ' (no cluster)'): $r req/s, $errors errors"
  done
done
wait "$driver"
echo "propagation and renewals: $(cat "$BENCH_TMP/driver.out")"
median_of() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for i in 3 0 1 2; do echo "instance $i$([[ $i == 3 ]] && echo ' (no cluster)') median: $(median_of "${rounds[$i]}") req/s"; done
for i in 0 1 2; do echo "instance $i / no cluster: $(ratio "$(median_of "${rounds[$i]}")" "$(median_of "${rounds[3]}")")"; done
