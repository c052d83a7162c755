# Helpers of tests/install/*_test.sh: each step says what it does, failures say why, and every
# process started is reaped on exit.
step() { echo "== $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

started_pids=()
reap_started() {
  local pid
  for pid in "${started_pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  started_pids=()
}

# wait_for SECONDS COMMAND...: until COMMAND succeeds, every 0.1 s; false after SECONDS.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# start_backend VAR: a backend.py on a free loopback port; its port in VAR.
start_backend() {
  local out=$work/backend.$RANDOM
  python3 "$(dirname "${BASH_SOURCE[0]}")/backend.py" >"$out" &
  started_pids+=($!)
  wait_for 10 test -s "$out" || fail "the test backend did not start"
  printf -v "$1" '%s' "$(head -1 "$out")"
}

# read_line HOST PORT: the first line a TCP server at HOST:PORT sends (5 s at most).
read_line() {
  local line=""
  exec 3<>"/dev/tcp/$1/$2" || return 1
  IFS= read -r -t 5 line <&3 || true
  exec 3<&-
  printf '%s' "$line"
}

# port_open PORT: something accepts on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
