#!/usr/bin/env bash
# Installs, with apt-get, whatever Debian packages the build, the tests and the benchmarks need
# and this machine lacks. Idempotent and quiet when everything is there.
#   scripts/install-deps.sh            build + test dependencies
#   scripts/install-deps.sh bench      also HAProxy, NGINX's stream module, iperf3, valgrind for bench/
set -euo pipefail

packages=(build-essential cmake ninja-build pkg-config
          libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libxxhash-dev liburing-dev libc-ares-dev
          libcurl4-openssl-dev
          libgtest-dev libgmock-dev
          curl nginx wrk netcat-openbsd python3
          etcd-server  # the cluster tests (tests/integration/cluster_*_test.cc) start a real etcd
          dpkg-dev file adduser  # make deb (CPack runs file and dpkg-shlibdeps) and its test
          chromium)  # the dashboard's browser test (tests/browser); node and npm come with the image
if [[ ${1:-} == bench ]]; then
  packages+=(haproxy iperf3 libnginx-mod-stream valgrind)  # valgrind: bench/instructions.sh
fi
if [[ ${1:-} == fuzz || ${FULCRUM_FUZZ:-0} == 1 ]]; then
  packages+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  SUDO=""
  [[ $(id -u) == 0 ]] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The dashboard's browser test drives chromium with playwright-core from npm (tests/browser).
# npm comes with the machine's nodejs: never apt-get it (it conflicts). Installed again only when
# the lock file changed.
browser_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/browser"
if command -v npm >/dev/null; then
  if [[ ! -f $browser_dir/node_modules/.package-lock.json ||
        $browser_dir/package-lock.json -nt $browser_dir/node_modules/.package-lock.json ]]; then
    echo "installing: tests/browser node modules (npm ci)" >&2
    (cd "$browser_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
else
  echo "npm not found: the dashboard browser test (ctest -L browser) will fail until node 20 + npm are installed" >&2
fi
