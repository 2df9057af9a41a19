#!/usr/bin/env bash
# Benchmark: every rule of the SCAP Security Guide's Debian 11 data stream
# on the cached bullseye root, Plumb against oscap-chroot in the same run,
# taking turns (median wall time and largest peak RSS of RUNS each), then
# the time Plumb takes to load and parse each installed data stream.
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

# run NAME CMD...: runs CMD once, appending its wall time (s, from the
# nanosecond clock: /usr/bin/time's %e has 10 ms steps, a tenth of a
# Plumb run) and peak RSS (KiB) to $out/NAME.runs.
run() {
  local name=$1; shift
  local start end
  start=$(date +%s%N)
  /usr/bin/time -f '%M' -o "$out/time" "$@" >/dev/null 2>"$out/stderr" || true
  end=$(date +%s%N)
  echo "$(echo "($end - $start) / 1000000000" | bc -l) $(tail -n 1 "$out/time")" >>"$out/$name.runs"
}

# report NAME LABEL: median wall time and largest peak RSS of NAME's runs.
report() {
  local med rss
  med=$(awk '{print $1}' "$out/$1.runs" | median)
  rss=$(awk '$2 > m {m = $2} END {print m}' "$out/$1.runs")
  printf '%-40s wall %7.3f s   peak RSS %7.1f MiB\n' "$2" "$med" "$(echo "$rss / 1024" | bc -l)"
  echo "$med $rss" >"$out/last"
}

echo "plumb SCAP benchmark: $(nproc) cores, $(go version | awk '{print $3}'), $(oscap --version | head -n1), $runs runs each"
echo "content: $ds ($rules rules, all selected), target: bullseye root $root"
echo
# The two tools take turns, so that other work on the machine weighs on
# both alike.
for _ in $(seq "$runs"); do
  run oscap oscap-chroot "$root" xccdf eval --tailoring-file "$out/all.xml" --profile xccdf_org.plumb_profile_all_rules --results "$out/oscap.xml" "$ds"
  run plumb "$bin" scan --root "$root" --datastream "$ds" --tailoring "$out/all.xml" --profile xccdf_org.plumb_profile_all_rules --format json -o "$out/plumb.json" --no-progress
done
report oscap "oscap-chroot xccdf eval"
read -r ow orss <"$out/last"
report plumb "plumb scan --root --datastream"
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
