#!/usr/bin/env bash
# Benchmark: the store's performance targets on SQLite and PostgreSQL, at
# full size, printed beside the targets:
#   - result ingest (CompleteJob, 300 results a job), one poster and four
#     posting at once, median of RUNS;
#   - PostureSummary p95 of a tag group and a static group of ASSETS/10
#     assets, over ASSETS assets x 300 controls;
#   - the mean time of a posture page of 1000 rows: the first, and one
#     control's (no index serves that filter: it walks the result order);
#   - database size per million results.
#
#   scripts/bench-store.sh [RUNS] [ASSETS]      (default 3, 10000)
#
# PostgreSQL comes from $PLUMB_TEST_POSTGRES (default 127.0.0.1:5432, user
# postgres); each benchmark gets a database of its own. The machine's
# load average is printed: other work skews the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
assets=${2:-10000}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go test -c -o "$out/store.test" ./store/

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$out/store.test" -test.run '^$' -test.bench '^BenchmarkStoreIngest$' -test.benchtime 400x \
  -test.count "$runs" -test.timeout 60m | tee "$out/ingest.txt" | grep '^Benchmark' || true
PLUMB_BENCH_ASSETS=$assets "$out/store.test" -test.run '^$' -test.bench '^BenchmarkStorePosture$' \
  -test.benchtime 40x -test.timeout 120m | tee "$out/posture.txt" | grep -E '^Benchmark|seeded' || true
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# metric FILE NAME UNIT: the median of UNIT over the lines of benchmark NAME;
# the unit ms/op is read from ns/op.
metric() {
  grep -E "^Benchmark$2-[0-9]+ " "$1" | awk -v u="$3" '{for (i = 2; i < NF; i++) {
      if ($(i+1) == u) print $i; else if (u == "ms/op" && $(i+1) == "ns/op") printf "%.1f\n", $i / 1e6 }}' |
    sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "-"}'
}

echo
printf '%-40s %14s %14s %16s\n' metric sqlite postgres target
row() { # LABEL FILE NAME(with %s for the database) UNIT TARGET
  printf '%-40s %14s %14s %16s\n' "$1" \
    "$(metric "$out/$2" "$(printf "$3" sqlite)" "$4")" "$(metric "$out/$2" "$(printf "$3" postgres)" "$4")" "$5"
}
row "ingest, 1 poster (results/s)" ingest.txt 'StoreIngest/%s/posters=1' results/s ">=50k / >=100k"
row "ingest, 4 posters (results/s)" ingest.txt 'StoreIngest/%s/posters=4' results/s ">=50k / >=100k"
row "summary tag group p95 (ms)" posture.txt 'StorePosture/%s/summary-tag-group' p95-ms "<200 (pg)"
row "summary static group p95 (ms)" posture.txt 'StorePosture/%s/summary-static-group' p95-ms "<200 (pg)"
row "summary tag group p50 (ms)" posture.txt 'StorePosture/%s/summary-tag-group' p50-ms ""
row "posture first page mean (ms)" posture.txt 'StorePosture/%s/first-page-1000' ms/op ""
row "posture one control page mean (ms)" posture.txt 'StorePosture/%s/one-control' ms/op ""
row "summary whole fleet p95 (ms)" posture.txt 'StorePosture/%s/summary-fleet' p95-ms ""
row "database MB per million results" posture.txt 'StorePosture/%s/size' db-MB/Mresults ""
row "results table MB per million" posture.txt 'StorePosture/%s/size' results-MB/Mresults ""
row "posture table MB per million rows" posture.txt 'StorePosture/%s/size' posture-MB/Mrows ""
echo "($assets assets x 300 controls; groups of $((assets / 10)) assets; ingest median of $runs runs of 400 jobs)"
