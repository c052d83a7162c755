#!/usr/bin/env bash
# ctest debian_package: `cpack -G DEB` builds the packages; the daemon's package installs with
# `dpkg -i` (the fulcrum user created, the sample config a conffile readable by that user), the
# command line of its systemd unit (ExecStart, as the unit's User=) serves with the installed config,
# stops on SIGTERM with exit 0, and `dpkg --purge` removes it all, the user included.
# Root only, and only on a machine where no fulcrum package or user exists (it is not ours to
# touch): otherwise skipped with exit 77. The installed config's listen addresses are moved to free
# loopback ports, so that the test clashes with no other Fulcrum on the machine.
#   deb_test.sh BUILD_DIR
set -euo pipefail
build=$1
source "$(dirname "$0")/common.sh"
skip() { echo "SKIPPED: $*"; exit 77; }

[[ $(id -u) == 0 ]] || skip "dpkg -i needs root"
command -v dpkg >/dev/null && command -v dpkg-deb >/dev/null || skip "dpkg is not installed"
command -v cpack >/dev/null || skip "cpack is not installed"

# One run at a time on the machine: two builds of this test would install the same package.
exec 9>/tmp/fulcrum-debian-package-test.lock
flock -w 200 9 || fail "another debian_package test held the lock for 200 s"

if dpkg-query -W -f='${Status}' fulcrum 2>/dev/null | grep -q 'installed'; then
  skip "a fulcrum package is installed on this machine"
fi
getent passwd fulcrum >/dev/null && skip "a fulcrum user exists on this machine"

work=$(mktemp -d /tmp/fulcrum-deb-test.XXXXXX)
installed=0
cleanup() {
  reap_started
  if ((installed)); then dpkg --purge fulcrum >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# dpkg RETRIES over 60 s when another session's apt or dpkg holds the lock.
dpkg_retrying() {
  local i
  for i in $(seq 60); do
    if dpkg "$@" >"$work/dpkg.log" 2>&1; then return 0; fi
    grep -q 'lock' "$work/dpkg.log" || { cat "$work/dpkg.log" >&2; return 1; }
    sleep 1
  done
  cat "$work/dpkg.log" >&2
  return 1
}

step "cpack -G DEB"
(cd "$build" && cpack -G DEB -B "$work/packages" >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; fail "cpack -G DEB"; }
deb=$(ls "$work"/packages/fulcrum_*.deb)
dev_deb=$(ls "$work"/packages/fulcrum-dev_*.deb)
[[ -f $deb && -f $dev_deb ]] || fail "cpack made no fulcrum_*.deb and fulcrum-dev_*.deb"
dpkg-deb -c "$deb" >"$work/contents"
for f in ./usr/bin/fulcrum ./usr/share/man/man1/fulcrum.1 ./usr/lib/systemd/system/fulcrum.service ./etc/fulcrum/fulcrum.yaml; do
  grep -q " $f\$" "$work/contents" || fail "$deb lacks $f"
done
[[ $(dpkg-deb -f "$deb" Depends) == *adduser* ]] || fail "$deb does not depend on adduser"
dpkg-deb -c "$dev_deb" >"$work/dev-contents"
grep -q ' ./usr/include/fulcrum/log.h$' "$work/dev-contents" || fail "$dev_deb lacks the headers"

step "dpkg -i $(basename "$deb")"
installed=1
dpkg_retrying -i "$deb" || fail "dpkg -i $deb"
[[ -x /usr/bin/fulcrum ]] || fail "/usr/bin/fulcrum not installed"
getent passwd fulcrum >/dev/null || fail "no fulcrum user after install"
[[ $(dpkg-query -W -f='${Conffiles}' fulcrum) == *" /etc/fulcrum/fulcrum.yaml "* ]] || fail "/etc/fulcrum/fulcrum.yaml is not a conffile"
unit=/usr/lib/systemd/system/fulcrum.service
[[ -f $unit ]] || unit=/lib/systemd/system/fulcrum.service
[[ -f $unit ]] || fail "no systemd unit installed"

# unit_value KEY: the last value of KEY= in the unit (systemd's rule for single-valued keys).
unit_value() { sed -n "s/^[[:space:]]*$1=//p" "$unit" | tail -1; }
exec_start=$(unit_value ExecStart)
[[ -n $exec_start ]] || fail "the unit has no ExecStart"
exec_start=${exec_start#[-@:+!]}   # systemd's prefixes (ignore failure, and the like) are not the command
user=$(unit_value User)
group=$(unit_value Group)

step "the unit's command line with the installed config: $exec_start"
config=/etc/fulcrum/fulcrum.yaml
# (An ExecStart without -c reads the same file: it is fulcrum's default.)
# Every `listen:` of the installed config (block or flow style) moved to a free loopback port; the
# ports in $work/ports.
python3 - "$config" "$work/ports" <<'PY' || fail "could not move the listen addresses of $config"
import random, re, socket, sys
path, ports_path = sys.argv[1], sys.argv[2]
text = open(path).read()
pattern = re.compile(r'((?:^[ \t]*(?:-[ \t]*)?|[{,][ \t]*)listen:[ \t]*)("[^"]*"|[^\s,}#]+)', re.M)
count = len(pattern.findall(text))
if count == 0:
    sys.exit(path + ": no listen address")
# Free ports below the kernel's ephemeral range, which port-0 binds and the other tests' reserved
# addresses come from: a port picked here cannot be one another test is about to use.
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
candidates = random.sample(range(max(1024, low - 10000), low), 200)
ports = []
for port in candidates:
    probe = socket.socket()
    try:
        probe.bind(("127.0.0.1", port))
        ports.append(port)
    except OSError:
        pass
    finally:
        probe.close()
    if len(ports) == count:
        break
if len(ports) < count:
    sys.exit("no free port below the ephemeral range")
it = iter(ports)
text = pattern.sub(lambda m: m.group(1) + "127.0.0.1:" + str(next(it)), text)
open(path, "w").write(text)
open(ports_path, "w").write("".join(str(p) + "\n" for p in ports))
PY
# What systemd would create for the service before starting it.
for kind in RuntimeDirectory:/run StateDirectory:/var/lib LogsDirectory:/var/log; do
  for dir in $(unit_value "${kind%%:*}"); do
    mkdir -p "${kind#*:}/$dir"
    [[ -z $user ]] || chown "$user:${group:-$user}" "${kind#*:}/$dir"
  done
done
run_as=()
[[ -z $user ]] || run_as=(setpriv --reuid="$user" --regid="${group:-$user}" --init-groups)
# ExecStartPre= lines first, as systemd runs them (one that fails stops the start, unless it has -).
while IFS= read -r pre; do
  [[ -n $pre ]] || continue
  # shellcheck disable=SC2086 # the unit's command line is words, as systemd splits it
  if ! "${run_as[@]}" ${pre#[-@:+!]} >"$work/pre.log" 2>&1 && [[ $pre != -* ]]; then
    cat "$work/pre.log" >&2
    fail "ExecStartPre failed: $pre"
  fi
done < <(sed -n 's/^[[:space:]]*ExecStartPre=//p' "$unit")
# shellcheck disable=SC2086 # the unit's command line is words, as systemd splits it
"${run_as[@]}" $exec_start 2>"$work/fulcrum.err" &
pid=$!
started_pids+=("$pid")
while read -r port; do
  wait_for 10 port_open "$port" || { cat "$work/fulcrum.err" >&2; fail "nothing accepts on 127.0.0.1:$port (a listen address of $config)"; }
done <"$work/ports"
kill -0 "$pid" 2>/dev/null || { cat "$work/fulcrum.err" >&2; fail "fulcrum exited"; }
wait_for 10 grep -q ' listening ' "$work/fulcrum.err" || fail "no listening line in the log"
# An http listener answers HTTP (a 502 from the sample's absent backend is an answer).
if grep -qE '^[[:space:]]*mode:[[:space:]]*http' "$config"; then
  answered=0
  while read -r port; do
    code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "http://127.0.0.1:$port/" || true)
    [[ $code != 000 ]] && answered=1 && echo "http://127.0.0.1:$port/ answered $code"
  done <"$work/ports"
  ((answered)) || fail "no listener of $config answered HTTP"
fi
if [[ -n $user ]]; then
  uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
  [[ $uid == $(id -u "$user") ]] || fail "fulcrum runs as uid $uid, not as $user"
fi
kill -TERM "$pid"
wait_for 35 eval "! kill -0 $pid 2>/dev/null" || fail "fulcrum still running 35 s after SIGTERM"
rc=0
wait "$pid" || rc=$?
started_pids=()
[[ $rc == 0 ]] || { cat "$work/fulcrum.err" >&2; fail "fulcrum exited $rc after SIGTERM, not 0"; }
echo "served on $(tr '\n' ' ' <"$work/ports")as ${user:-root}, exit 0 on SIGTERM"

step "dpkg --purge fulcrum"
dpkg_retrying --purge fulcrum || fail "dpkg --purge fulcrum"
installed=0
[[ ! -e /usr/bin/fulcrum ]] || fail "/usr/bin/fulcrum left after purge"
[[ ! -e /etc/fulcrum ]] || fail "/etc/fulcrum left after purge"
! getent passwd fulcrum >/dev/null || fail "the fulcrum user left after purge"
! getent group fulcrum >/dev/null || fail "the fulcrum group left after purge"
echo "PASS"
