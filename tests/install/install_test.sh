#!/usr/bin/env bash
# ctest install_and_embed: `cmake --install` into a temporary prefix, then a program that embeds
# Fulcrum (examples/) built against that prefix from outside the tree, once with
# find_package(fulcrum) and once with pkg-config, each run: it balances a TCP connection to a
# backend and exits 0 on SIGINT. Last, a project that pulls Fulcrum in with add_subdirectory()
# gets no tests.
#   install_test.sh BUILD_DIR SOURCE_DIR CXX_COMPILER
set -euo pipefail
build=$1 src=$2 cxx=$3
source "$(dirname "$0")/common.sh"
work=$(mktemp -d /tmp/fulcrum-install-test.XXXXXX)
trap 'reap_started; rm -rf "$work"' EXIT
prefix=$work/prefix
launcher=()
ccache_cmd=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  ccache_cmd=(ccache)
fi

step "cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log" || { cat "$work/install.log"; fail "cmake --install"; }
for f in bin/fulcrum include/fulcrum/balancer.h include/fulcrum/config.h include/fulcrum/log.h \
         share/man/man1/fulcrum.1 lib/systemd/system/fulcrum.service etc/fulcrum/fulcrum.yaml \
         share/doc/fulcrum/LICENSE; do
  [[ -f $prefix/$f ]] || fail "not installed: $f"
done
libfulcrum=$(find "$prefix" -name libfulcrum.a)
config=$(find "$prefix" -name fulcrum-config.cmake)
pc=$(find "$prefix" -name fulcrum.pc)
[[ -n $libfulcrum && -n $config && -n $pc ]] || fail "libfulcrum.a, fulcrum-config.cmake or fulcrum.pc not installed"
"$prefix/bin/fulcrum" check -c "$prefix/etc/fulcrum/fulcrum.yaml" || fail "the installed sample config does not pass fulcrum check"
# Installing again keeps a config that is there (the admin's, by now).
echo "# edited" >>"$prefix/etc/fulcrum/fulcrum.yaml"
cmake --install "$build" --prefix "$prefix" >"$work/install.log" || { cat "$work/install.log"; fail "cmake --install, again"; }
[[ $(tail -1 "$prefix/etc/fulcrum/fulcrum.yaml") == "# edited" ]] || fail "installing again replaced the config"

# The unit runs what this prefix installed.
unit_exec=$(sed -n 's/^ExecStart=//p' "$prefix/lib/systemd/system/fulcrum.service")
[[ $unit_exec == *"$prefix/bin/fulcrum "* ]] || fail "the installed unit runs '$unit_exec', not $prefix/bin/fulcrum"
if grep -q '/etc/fulcrum/' "$src/dist/fulcrum.service"; then
  [[ $(cat "$prefix/lib/systemd/system/fulcrum.service") == *"$prefix/etc/fulcrum/"* ]] \
    || fail "the installed unit does not name the config under $prefix/etc/fulcrum/"
fi

start_backend backend_port

# run_example BINARY: balances one connection from 127.0.0.1:0 to the backend, then stops on SIGINT.
run_example() {
  local bin=$1 err=$work/example.$RANDOM.err pid port got rc
  "$bin" 127.0.0.1:0 "127.0.0.1:$backend_port" 2>"$err" &
  pid=$!
  started_pids+=("$pid")
  wait_for 10 grep -qs ' listening listener=app address=127.0.0.1:' "$err" || { cat "$err" >&2; fail "$bin: no listening line"; }
  port=$(sed -n 's/.* listening listener=app address=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$err" | head -1)
  got=$(read_line 127.0.0.1 "$port")
  [[ $got == "hello from backend" ]] || fail "$bin: through 127.0.0.1:$port, read '$got', not the backend's line"
  kill -INT "$pid"
  wait_for 10 eval "! kill -0 $pid 2>/dev/null" || fail "$bin: still running 10 s after SIGINT"
  rc=0
  wait "$pid" || rc=$?
  [[ $rc == 0 ]] || { cat "$err" >&2; fail "$bin: exit status $rc after SIGINT, not 0"; }
  echo "$bin: balanced a connection through 127.0.0.1:$port, exit 0 on SIGINT"
}

step "find_package(fulcrum): examples/ built against the prefix"
cmake -S "$src/examples" -B "$work/find-package" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_PREFIX_PATH="$prefix" "${launcher[@]}" >"$work/configure.log" \
  || { cat "$work/configure.log"; fail "configuring examples/ with find_package(fulcrum)"; }
cmake --build "$work/find-package" -j 2 >"$work/build.log" || { cat "$work/build.log"; fail "building examples/"; }
run_example "$work/find-package/embedded_balancer"

step "pkg-config fulcrum: the same program"
export PKG_CONFIG_PATH=$(dirname "$pc")
[[ $(pkg-config --modversion fulcrum) == "$(sed -n 's/^Version: //p' "$pc")" ]] || fail "pkg-config does not find fulcrum.pc"
# shellcheck disable=SC2046 # the flags are words
"${ccache_cmd[@]}" "$cxx" -std=c++20 -O1 "$src/examples/embedded_balancer.cc" -o "$work/embedded_balancer_pc" \
  $(pkg-config --cflags fulcrum) $(pkg-config --static --libs fulcrum) || fail "building with pkg-config's flags"
run_example "$work/embedded_balancer_pc"

step "add_subdirectory(fulcrum) from another project: no tests, no install rules"
mkdir -p "$work/parent"
cat >"$work/parent/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.22)
project(parent LANGUAGES CXX)
add_subdirectory("$src" fulcrum)
add_executable(app "$src/examples/embedded_balancer.cc")
target_link_libraries(app PRIVATE fulcrum::fulcrum)
CMAKE
cmake -S "$work/parent" -B "$work/parent-build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" >"$work/parent.log" \
  || { cat "$work/parent.log"; fail "configuring a project that adds Fulcrum as a subdirectory"; }
grep -q '^FULCRUM_TESTS:BOOL=OFF' "$work/parent-build/CMakeCache.txt" || fail "FULCRUM_TESTS is not off in a parent project"
! grep -q 'unit_tests' "$work/parent-build/build.ninja" || fail "a parent project builds Fulcrum's tests"
[[ ! -f $work/parent-build/CPackConfig.cmake ]] || fail "a parent project gets Fulcrum's CPack configuration"
echo "PASS"
