#!/usr/bin/env bash
# Builds (once) and caches a minimal Debian root file system for the tests
# and benchmarks that scan with --root. Prints the root's path.
#
#   scripts/debian-root.sh [SUITE [PACKAGES]]
#
# SUITE defaults to bookworm; PACKAGES is a comma-separated list added to
# the minimal base (default openssh-server,sudo,cron). Each suite and
# package set is cached in its own folder.
#
# The mirror is taken from this machine's apt sources, so it works wherever
# apt-get works. The cache lives in $PLUMB_CACHE (default /var/cache/plumb-test).
set -euo pipefail
suite=${1:-bookworm}
pkgs=${2:-openssh-server,sudo,cron}
cache=${PLUMB_CACHE:-/var/cache/plumb-test}
dir="$cache/debootstrap-$suite"
if [ "$pkgs" != openssh-server,sudo,cron ]; then
  dir="$dir-$(printf '%s' "$pkgs" | cksum | cut -d' ' -f1)"
fi
if [ -f "$dir/.plumb-complete" ]; then
  echo "$dir"
  exit 0
fi
if ! command -v debootstrap >/dev/null; then
  echo "debian-root.sh: debootstrap is not installed (apt-get install debootstrap)" >&2
  exit 1
fi
mirror=$(
  { grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}';
    grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}'; } |
  grep -v security | head -n1
) || true
mirror=${mirror:-http://deb.debian.org/debian}
rm -rf "$dir.tmp"
mkdir -p "$cache"
echo "debian-root.sh: building a minimal $suite root from $mirror (a few minutes, once)" >&2
debootstrap --variant=minbase --include="$pkgs" "$suite" "$dir.tmp" "$mirror" >"$dir.log" 2>&1 || {
  echo "debian-root.sh: debootstrap failed; log: $dir.log" >&2
  tail -n 20 "$dir.log" >&2
  exit 1
}
touch "$dir.tmp/.plumb-complete"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
echo "$dir"
