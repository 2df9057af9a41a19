#!/usr/bin/env bash
# Benchmark: the full built-in baseline (plumb-linux-l2, a superset of l1,
# including every whole-file-system search) on this machine and on the
# cached Debian root. Prints wall time, peak RSS and entries walked, and the
# same searches done the traditional way (one find per search, as CIS audit
# scripts do) in the same run as the anchor.
#
#   scripts/bench.sh [RUNS]      (default 3 runs each; the median is printed)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
{ command -v /usr/bin/time && command -v bc; } >/dev/null || { apt-get update -qq && apt-get install -y -qq time bc >/dev/null; }
root=$(scripts/debian-root.sh bookworm)
bin=$(mktemp -d)/plumb
go build -o "$bin" ./cmd/plumb
out=$(mktemp -d)

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# measure NAME CMD...: runs CMD $runs times, prints median wall s and max RSS MiB.
measure() {
  local name=$1; shift
  local walls=() rss=0
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %M' -o "$out/time" "$@" >/dev/null 2>"$out/stderr" || true
    read -r wall kb < <(tail -n 1 "$out/time")
    walls+=("$wall")
    [ "$kb" -gt "$rss" ] && rss=$kb
  done
  local med
  med=$(printf '%s\n' "${walls[@]}" | median)
  printf '%-44s wall %7.2f s   peak RSS %6.1f MiB\n' "$name" "$med" "$(echo "$rss / 1024" | bc -l)"
  echo "$med" >"$out/last"
}

stat_of() { grep -o "\"$2\": *[0-9.]*" "$1" | head -n1 | awk -F: '{gsub(/ /,"",$2); print $2}'; }

echo "plumb benchmark: $(nproc) cores, $(go version | awk '{print $3}'), $runs runs each (median wall, max RSS)"
echo
for tgt in local "root:$root"; do
  if [ "$tgt" = local ]; then args=(); label="this machine"; findroot=/; xdev=(-xdev)
  else args=(--root "$root"); label="debootstrap root"; findroot=$root; xdev=(); fi
  "$bin" scan "${args[@]}" --policy plumb-linux-l2 --format json -o "$out/scan.json" --no-progress || true
  controls=$(grep -c '"cid":' "$out/scan.json")
  echo "== $label: $controls results, $(stat_of "$out/scan.json" objects) objects, $(stat_of "$out/scan.json" entries_walked) entries walked, $(stat_of "$out/scan.json" files_read) files read"
  measure "plumb scan (full plumb-linux-l2)" "$bin" scan "${args[@]}" --policy plumb-linux-l2 --format json -o "$out/scan.json" --no-progress
  p=$(cat "$out/last")
  measure "anchor: 4 x find (ww files, ww dirs, unowned, suid/sgid)" sh -c '
    find "$1" $2 -type f -perm -0002 >/dev/null 2>&1
    find "$1" $2 -type d -perm -0002 ! -perm -1000 >/dev/null 2>&1
    find "$1" $2 \( -nouser -o -nogroup \) >/dev/null 2>&1
    find "$1" $2 -type f \( -perm -4000 -o -perm -2000 \) >/dev/null 2>&1' sh "$findroot" "${xdev[*]:-}"
  a=$(cat "$out/last")
  printf '%-44s %.2fx\n' "ratio anchor / plumb" "$(echo "$a / $p" | bc -l)"
  echo
done
