#!/usr/bin/env bash
# Checks the systemd units in this folder, offline (no running systemd needed):
#   - `systemd-analyze security --offline=true` must rate each at most 2.5 ("OK");
#   - `systemd-analyze verify` must exit 0 and print nothing (it only warns on stderr, with exit
#     status 0, about unknown keys, bad specifiers or missing binaries).
# verify runs against a scratch root: the host's own unit files (for the dependencies it
# resolves) plus a stub at each unit's ExecStart path, since fedistill is not installed here.
# Usage: deploy/systemd/check.sh [unit.service ...]   (default: every *.service here)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
max_exposure=2.5
units=("$@")
[ ${#units[@]} -gt 0 ] || units=("$here"/*.service)

command -v systemd-analyze >/dev/null || {
  echo "systemd-analyze not found: apt-get install systemd" >&2
  exit 2
}
system_units=""
for d in /usr/lib/systemd/system /lib/systemd/system; do
  [ -f "$d/sysinit.target" ] && system_units="$d" && break
done
[ -n "$system_units" ] || {
  echo "no system unit files (sysinit.target) found to verify against" >&2
  exit 2
}

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/lib/systemd" "$root/etc/systemd/system"
cp -a "$system_units" "$root/usr/lib/systemd/system"

failed=0
for unit in "${units[@]}"; do
  name="$(basename "$unit")"

  report="$(systemd-analyze security --offline=true --no-pager "$unit" 2>&1)" || {
    printf '%s\n' "$report" >&2
    echo "FAIL $name: systemd-analyze security failed" >&2
    failed=1
    continue
  }
  score="$(printf '%s\n' "$report" | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')"
  if [ -z "$score" ]; then
    printf '%s\n' "$report" >&2
    echo "FAIL $name: no exposure level in the report" >&2
    failed=1
  elif awk -v s="$score" -v m="$max_exposure" 'BEGIN { exit !(s > m) }'; then
    printf '%s\n' "$report" | grep '✗' >&2 || true
    echo "FAIL $name: exposure $score is above $max_exposure" >&2
    failed=1
  else
    echo "ok   $name: exposure $score (at most $max_exposure)"
  fi

  # A stub executable at each absolute Exec*= path, so that verify checks the unit rather than
  # this machine's installation.
  cp "$unit" "$root/etc/systemd/system/$name"
  sed -n 's/^Exec[A-Za-z]*=[-@:+!]*\(\/[^ ]*\).*/\1/p' "$unit" | while read -r exe; do
    mkdir -p "$root$(dirname "$exe")"
    [ -e "$root$exe" ] || printf '#!/bin/sh\nexit 0\n' >"$root$exe"
    chmod 0755 "$root$exe"
  done
  if out="$(systemd-analyze verify --root="$root" --man=no "$name" 2>&1)" && [ -z "$out" ]; then
    echo "ok   $name: verify clean"
  else
    printf '%s\n' "$out" >&2
    echo "FAIL $name: systemd-analyze verify reported the lines above" >&2
    failed=1
  fi
done
exit "$failed"
