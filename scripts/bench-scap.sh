#!/usr/bin/env bash
# Benchmark: every rule of the SCAP Security Guide's Debian 11 data stream
# on the cached bullseye root, Plumb against oscap-chroot in the same run
# (wall time and peak RSS, median of RUNS), then the time Plumb takes to
# load and parse each installed data stream.
#
#   scripts/bench-scap.sh [RUNS]      (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
ds=/usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml
need=()
command -v oscap-chroot >/dev/null || need+=(openscap-scanner openscap-utils)
[ -f "$ds" ] || need+=(ssg-base ssg-debian)
{ command -v /usr/bin/time && command -v bc; } >/dev/null || need+=(time bc)
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; fi
root=$(scripts/debian-root.sh bullseye "$(cat scripts/bullseye-packages)")
out=$(mktemp -d)
bin=$out/plumb
go build -o "$bin" ./cmd/plumb

# A tailoring that selects every rule, for both tools.
{
  echo '<?xml version="1.0" encoding="UTF-8"?>'
  echo '<xccdf:Tailoring xmlns:xccdf="http://checklists.nist.gov/xccdf/1.2" id="xccdf_org.plumb_tailoring_all_rules">'
  echo "  <xccdf:benchmark href=\"$ds\"/>"
  echo '  <xccdf:version time="2026-01-01T00:00:00">1</xccdf:version>'
  echo '  <xccdf:Profile id="xccdf_org.plumb_profile_all_rules"><xccdf:title>Every rule</xccdf:title>'
  grep -o '<xccdf-1.2:Rule [^>]*' "$ds" | grep -o ' id="[^"]*"' | sed 's/ id="\(.*\)"/    <xccdf:select idref="\1" selected="true"\/>/'
  echo '  </xccdf:Profile>'
  echo '</xccdf:Tailoring>'
} >"$out/all.xml"
rules=$(grep -c '<xccdf:select ' "$out/all.xml")

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# measure NAME CMD...: median wall seconds and max RSS KiB of RUNS runs.
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
  printf '%-40s wall %7.2f s   peak RSS %7.1f MiB\n' "$name" "$med" "$(echo "$rss / 1024" | bc -l)"
  echo "$med $rss" >"$out/last"
}

echo "plumb SCAP benchmark: $(nproc) cores, $(go version | awk '{print $3}'), $(oscap --version | head -n1), $runs runs each"
echo "content: $ds ($rules rules, all selected), target: bullseye root $root"
echo
measure "oscap-chroot xccdf eval" oscap-chroot "$root" xccdf eval --tailoring-file "$out/all.xml" --profile xccdf_org.plumb_profile_all_rules --results "$out/oscap.xml" "$ds"
read -r ow orss <"$out/last"
measure "plumb scan --root --datastream" "$bin" scan --root "$root" --datastream "$ds" --tailoring "$out/all.xml" --profile xccdf_org.plumb_profile_all_rules --format json -o "$out/plumb.json" --no-progress
read -r pw prss <"$out/last"
printf '%-40s %.1fx faster, %.2f of the memory\n' "ratio" "$(echo "$ow / $pw" | bc -l)" "$(echo "$prss / $orss" | bc -l)"
echo
echo "load and parse (plumb content profiles: data stream, benchmark, every profile resolved):"
for f in /usr/share/xml/scap/ssg/content/*-ds.xml; do
  case $f in *-ds-1.2.xml) continue ;; esac
  /usr/bin/time -f '%e %M' -o "$out/time" "$bin" content profiles "$f" >/dev/null 2>&1 || true
  read -r wall kb < <(tail -n 1 "$out/time")
  printf '  %-52s %6.1f MB  %5.2f s  %6.1f MiB\n' "$(basename "$f")" "$(echo "$(stat -c %s "$f") / 1000000" | bc -l)" "$wall" "$(echo "$kb / 1024" | bc -l)"
done
