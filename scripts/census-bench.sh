#!/usr/bin/env bash
# Census benchmarks, each a ratio against a baseline measured in the same
# run against the same server (the machine is shared: ratios, not
# absolute numbers, are what compare across runs). Results in bench/.
#
# 1. In process (scan/bench_test.go, benchstat medians over ROUNDS):
#    BenchmarkCensusVsBareHEAD (census/bare), BenchmarkCensusManySmallBuckets
#    (many/single: 500 x 10 objects against 1 x 5,000) and
#    BenchmarkRequestCosts (CPU per request kind, which bounds both).
# 2. End to end (skip with CLI=0): `sseaudit serve` in its own process,
#    one bucket of OBJECTS objects and MANY buckets of 10 seeded, then
#    ROUNDS times, alternating which goes first, `sseaudit scan
#    --endpoint` of the one bucket (the whole command, and the census
#    inside it from the snapshot's started_at/finished_at) against the bare
#    16-goroutine HEAD loop of scripts/censusbench over it, and the census
#    of MANY buckets of 10 against one bucket of as many objects; the
#    server's CPU per
#    HEAD is read from /proc during the loop. BIN=path scans and serves
#    with another sseaudit binary (e.g. a build of an older commit).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
OBJECTS=${OBJECTS:-20000}
MANY=${MANY:-500}
mkdir -p bench
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(go version); load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee bench/census-machine.txt

if [ "${INPROCESS:-1}" != 0 ]; then
  go test -c -o bench/census.test ./scan
  bench/census.test -test.run '^$' -test.bench '^Benchmark(CensusVsBareHEAD|CensusManySmallBuckets|RequestCosts)$' \
    -test.benchtime "${BENCHTIME:-4x}" -test.count "$ROUNDS" -test.cpu 2 | tee bench/census.txt | grep -E '^Benchmark' || true
  go tool benchstat bench/census.txt | tee bench/census-benchstat.txt
fi
[ "${CLI:-1}" = 0 ] && exit 0

bin=${BIN:-bench/sseaudit}
[ -n "${BIN:-}" ] || go build -o bench/sseaudit ./cmd/sseaudit
go build -o bench/censusbench ./scripts/censusbench
tmp=$(mktemp -d)
srv=
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
# Throwaway credentials of a throwaway server.
export SSEAUDIT_ROOT_ACCESS_KEY_ID=CENSUSBENCH SSEAUDIT_ROOT_ACCESS_KEY_SECRET=census-bench-only
export OSS_ACCESS_KEY_ID=$SSEAUDIT_ROOT_ACCESS_KEY_ID OSS_ACCESS_KEY_SECRET=$SSEAUDIT_ROOT_ACCESS_KEY_SECRET
port=${PORT:-19700}
"$bin" serve --addr "127.0.0.1:$port" --kms-addr "127.0.0.1:$((port + 1))" --data "$tmp/data" >"$tmp/serve.out" 2>/dev/null &
srv=$!
for _ in $(seq 1 100); do grep -q 'oss/s3 endpoint' "$tmp/serve.out" 2>/dev/null && break; sleep 0.1; done
ep=http://127.0.0.1:$port
bench/censusbench -endpoint "$ep" seed -bucket census-cli -objects "$OBJECTS"
bench/censusbench -endpoint "$ep" seed -bucket census-many -buckets "$MANY" -objects 10
bench/censusbench -endpoint "$ep" seed -bucket census-one -objects $((MANY * 10))

tck=$(getconf CLK_TCK)
srvcpu() { awk '{print $14 + $15}' "/proc/$srv/stat"; }
secs() { date -d "$1" +%s.%N; }
runscan() { # round glob -> "wall census" seconds
  local out=$tmp/out$1 t0 t1
  t0=$(date +%s.%N)
  "$bin" scan --endpoint "$ep" --dialect oss --buckets "$2" --out "$out" --history "" -q >/dev/null 2>&1 || true
  t1=$(date +%s.%N)
  local s f
  s=$(grep -o '"started_at": *"[^"]*"' "$out/snapshot.json" | head -1 | sed 's/.*"\([^"]*\)"$/\1/')
  f=$(grep -o '"finished_at": *"[^"]*"' "$out/snapshot.json" | tail -1 | sed 's/.*"\([^"]*\)"$/\1/')
  echo "$(echo "$t1 - $t0" | bc -l) $(echo "$(secs "$f") - $(secs "$s")" | bc -l)"
  rm -rf "$out"
}
runbare() { # -> "wall server-cpu-us-per-head"
  local c0 c1 w
  c0=$(srvcpu)
  w=$(bench/censusbench -endpoint "$ep" heads -bucket census-cli -objects "$OBJECTS")
  c1=$(srvcpu)
  echo "$w $(echo "($c1 - $c0) / $tck * 1000000 / $OBJECTS" | bc -l)"
}
: >bench/census-cli.txt
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then
    s=$(runscan "$r" census-cli); b=$(runbare); m=$(runscan "$r" 'census-many-*'); o=$(runscan "$r" census-one)
  else
    o=$(runscan "$r" census-one); m=$(runscan "$r" 'census-many-*'); b=$(runbare); s=$(runscan "$r" census-cli)
  fi
  echo "$s $b $m $o" | tee -a bench/census-cli.txt
done
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
col() { awk -v c="$1" '{print $c}' bench/census-cli.txt | median; }
cmd=$(col 1) census=$(col 2) bare=$(col 3) cpu=$(col 4) many=$(col 6) one=$(col 8)
mobj=$((MANY * 10))
{
  echo "end to end, $OBJECTS objects, median of $ROUNDS rounds (load after: $(cut -d' ' -f1-3 /proc/loadavg)):"
  printf '  sseaudit scan (whole command) %.2fs = %.0f obj/s\n' "$cmd" "$(echo "$OBJECTS / $cmd" | bc -l)"
  printf '  census inside it              %.2fs = %.0f obj/s\n' "$census" "$(echo "$OBJECTS / $census" | bc -l)"
  printf '  bare 16-goroutine HEAD loop   %.2fs = %.0f obj/s\n' "$bare" "$(echo "$OBJECTS / $bare" | bc -l)"
  printf '  ratio census/bare %.3f, whole command/bare %.3f; server CPU per HEAD %.1f us\n' \
    "$(echo "$bare / $census" | bc -l)" "$(echo "$bare / $cmd" | bc -l)" "$cpu"
  printf '  census of %d buckets x 10 %.2fs = %.0f obj/s, of 1 x %d %.2fs = %.0f obj/s: ratio %.3f\n' "$MANY" "$many" \
    "$(echo "$mobj / $many" | bc -l)" "$mobj" "$one" "$(echo "$mobj / $one" | bc -l)" "$(echo "$one / $many" | bc -l)"
} | tee bench/census-cli-summary.txt
