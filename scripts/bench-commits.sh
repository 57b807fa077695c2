#!/usr/bin/env bash
# Compare one package's benchmarks between two commits in the same run:
# both test binaries are built once, then run ROUNDS times alternating
# which goes first, so drift on a shared machine hits both alike;
# benchstat compares them. Results in bench/commits-*.
#
#   scripts/bench-commits.sh BASE [HEAD]
#   PKG=./reference/server BENCH='^Benchmark(Head16Clients|PutGet64MiB)$' \
#     ROUNDS=8 BENCHTIME=2s BENCHCPU=2 scripts/bench-commits.sh HEAD~1
#
# BASE and HEAD are any commit names (HEAD defaults to the working tree).
#
# The SSE-KMS data path (issue 13) before and after, plain throughput
# (none-MB/s) and each commit's KMS/none ratios (x-wall, x-cpu) from one
# interleaved run (BASE must have the benchmark, 0e8019f or later):
#   BENCH='^BenchmarkPutGet64MiBInterleaved$' ROUNDS=6 BENCHTIME=4x CPU=1 \
#     scripts/bench-commits.sh BASE
#
# On a machine shared with other work, wall-clock ns/op swings with the
# load; the CPU the whole test process used does much less. CPU=1 also
# records each run's user+system CPU seconds (GNU time) and prints their
# medians and ratio: with a fixed BENCHTIME=Nx and one benchmark, that is
# CPU per operation (the set-up, the same for both, included).
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: $0 BASE [HEAD]}
head=${2:-}
PKG=${PKG:-./reference/server}
BENCH=${BENCH:-'^Benchmark(Head16Clients|PutGet64MiB)$'}
ROUNDS=${ROUNDS:-8}
BENCHTIME=${BENCHTIME:-2s}
BENCHCPU=${BENCHCPU:-2}
mkdir -p bench
out=bench/commits
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(go version); load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out-machine.txt"
tmp=$(mktemp -d)
trap 'git worktree remove --force "$tmp/base" >/dev/null 2>&1 || true; git worktree remove --force "$tmp/head" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
build() { # commit dir binary
  if [ -z "$1" ]; then
    go test -c -o "$3" "$PKG"
  else
    git worktree add -q --detach "$2" "$1"
    (cd "$2" && go test -c -o "$3" "$PKG")
  fi
}
build "$base" "$tmp/base" "$PWD/$out-base.test"
build "$head" "$tmp/head" "$PWD/$out-head.test"
: >"$out-base.txt"
: >"$out-head.txt"
runone() {
  local timer=()
  [ "${CPU:-0}" = 1 ] && timer=(/usr/bin/time -a -o "$out-$1.cpu" -f "%U %S")
  "${timer[@]}" "$PWD/$out-$1.test" -test.run '^$' -test.bench "$BENCH" -test.benchmem -test.benchtime "$BENCHTIME" -test.cpu "$BENCHCPU" -test.count 1 | tee -a "$out-$1.txt" | grep -E '^Benchmark' | sed "s/^/$1 /" || true
}
rm -f "$out-base.cpu" "$out-head.cpu"
for i in $(seq 1 "$ROUNDS"); do
  if [ $((i % 2)) = 1 ]; then runone base; runone head; else runone head; runone base; fi
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out-machine.txt"
go tool benchstat "$out-base.txt" "$out-head.txt" | tee "$out-benchstat.txt"
if [ "${CPU:-0}" = 1 ]; then
  median() { awk '{print $1 + $2}' "$1" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
  b=$(median "$out-base.cpu") h=$(median "$out-head.cpu")
  echo "process CPU seconds per run (median of $ROUNDS): base $b, head $h, head/base $(awk -v b="$b" -v h="$h" 'BEGIN {printf "%.3f", h / b}')" | tee -a "$out-benchstat.txt"
fi
