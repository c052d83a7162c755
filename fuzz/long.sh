#!/usr/bin/env bash
# The long fuzzing run of the HTTP parsers, whose result is the committed corpus.
#
#   fuzz/long.sh [executions per target] [sanitizers]     defaults: 100000000, undefined
#   fuzz/long.sh merge                                     only the merge step, after an interrupted run
#
# Builds the targets into build/fuzz-long (libFuzzer + the given sanitizers; without AddressSanitizer
# a target runs several times faster, which is what reaching 10^8 executions per parser on a small
# machine needs; `make fuzz` runs the same targets under ASan in CI), runs both targets at once (one
# core each) for the given number of executions from the committed corpus, growing a working copy,
# then merges what they found (kept in build/fuzz-long/work/, so an interrupted run loses nothing)
# into fuzz/corpus/<target>/: libFuzzer's -merge adds only the inputs that add coverage to what is
# there, and the named seeds stay as they are. Prints each target's final statistics;
# commit the corpus change afterwards. Exits non-zero when a target crashes (the reproducer is in
# build/fuzz-long/artifacts/) and leaves the corpus untouched then.
set -euo pipefail

mode=run
if [[ ${1:-} == merge ]]; then mode=merge; shift; fi
runs="${1:-100000000}"
sanitizers="${2:-undefined}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build/fuzz-long"
targets=(http_request_fuzz http_response_fuzz)

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ \
  -DFULCRUM_FUZZ=ON -DFULCRUM_TESTS=OFF -DFULCRUM_FUZZ_SANITIZERS="$sanitizers" >/dev/null
cmake --build "$build" --target "${targets[@]}" -j 2

work="$build/work"
mkdir -p "$build/artifacts"

merge() {
  # Into the committed corpus itself: its inputs (the named seeds among them) stay as they are, and
  # only inputs of the run that add coverage to them are added.
  for target in "${targets[@]}"; do
    local before
    before=$(ls "$root/fuzz/corpus/$target" | wc -l)
    "$build/fuzz/$target" -merge=1 "$root/fuzz/corpus/$target" "$work/$target" >"$build/$target.merge.log" 2>&1
    echo "== $target: committed corpus $before -> $(ls "$root/fuzz/corpus/$target" | wc -l) inputs"
  done
}
if [[ $mode == merge ]]; then
  merge
  exit 0
fi

pids=()
for target in "${targets[@]}"; do
  rm -rf "${work:?}/$target"
  mkdir -p "$work/$target"
  cp "$root/fuzz/corpus/$target/"* "$work/$target/"
  echo "== $target: $runs executions ($sanitizers), log in $build/$target.log"
  "$build/fuzz/$target" -runs="$runs" -print_final_stats=1 -dict="$root/fuzz/http.dict" \
    -artifact_prefix="$build/artifacts/$target-" "$work/$target" >"$build/$target.log" 2>&1 &
  pids+=($!)
done

status=0
for i in "${!targets[@]}"; do
  target="${targets[$i]}"
  if ! wait "${pids[$i]}"; then
    echo "$target FAILED: reproducer in $build/artifacts/, log in $build/$target.log" >&2
    status=1
  fi
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|^#[0-9]+ +DONE' "$build/$target.log" || true
done
((status == 0)) || exit "$status"

merge
