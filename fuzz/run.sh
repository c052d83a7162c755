#!/usr/bin/env bash
# Builds the fuzz targets (the HTTP parsers, the PROXY protocol header) with clang into build/fuzz
# and runs each one for a bounded time, starting from a scratch copy of its seed corpus (the
# committed corpus never grows).
#
#   fuzz/run.sh [seconds per target]      default 30
#
# Exits non-zero when a target crashes (a sanitizer report, or a disagreement between feedings);
# the reproducer is left in build/fuzz/artifacts/.
set -euo pipefail

seconds="${1:-30}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build/fuzz"

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DFULCRUM_FUZZ=ON -DFULCRUM_TESTS=OFF
# Each target with its dictionary.
declare -A dictionaries=(
  [http_request_fuzz]=http.dict
  [http_response_fuzz]=http.dict
  [proxy_protocol_fuzz]=proxy.dict
)
targets=(http_request_fuzz http_response_fuzz proxy_protocol_fuzz)
cmake --build "$build" --target "${targets[@]}" -j 2

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$build/artifacts"

status=0
for target in "${targets[@]}"; do
  mkdir -p "$work/$target"
  cp "$root/fuzz/corpus/$target/"* "$work/$target/"
  echo "== $target for ${seconds}s"
  if ! "$build/fuzz/$target" -max_total_time="$seconds" -print_final_stats=1 -dict="$root/fuzz/${dictionaries[$target]}" \
      -artifact_prefix="$build/artifacts/$target-" "$work/$target"; then
    echo "$target FAILED: reproducer in $build/artifacts/" >&2
    status=1
  fi
done
exit "$status"
