#!/bin/sh
# Checks dist/fulcrum.service with `systemd-analyze verify` (syntax, known directives, executables,
# the man page named by Documentation=). systemd does not run here, and the binary and man page are
# not installed: the unit is verified with /usr/bin/fulcrum pointing at the built binary and
# MANPATH at the source tree's docs/fulcrum.1. Exits 0 when verify says nothing.
#   verify_unit.sh SOURCE_DIR FULCRUM_BINARY
set -eu
source_dir=$1
binary=$2
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "systemd-analyze is not installed: unit not verified" >&2
  exit 77  # ctest SKIP_RETURN_CODE
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/man/man1"
cp "$source_dir/docs/fulcrum.1" "$work/man/man1/fulcrum.1"
sed "s|/usr/bin/fulcrum|$binary|g" "$source_dir/dist/fulcrum.service" > "$work/fulcrum.service"
output=$(MANPATH="$work/man" systemd-analyze verify "$work/fulcrum.service" 2>&1) || { echo "$output" >&2; exit 1; }
if [ -n "$output" ]; then
  echo "$output" >&2
  exit 1
fi
echo "dist/fulcrum.service: verified"
