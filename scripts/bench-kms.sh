#!/usr/bin/env bash
# Issue 13's SSE-KMS target: PUT+GET of 64 MiB with SSE-KMS at least 0.92x
# of plain on the same server, the minimum over runs. One test binary,
# ROUNDS runs of BenchmarkPutGet64MiBInterleaved (each iteration puts and
# gets 64 MiB plain and with SSE-KMS, alternating which goes first); each
# run reports its KMS/none ratio of wall time (x-wall) and of process CPU
# (x-cpu, steadier on a shared machine). Prints the median and the minimum
# over runs, with the machine and its load. Results in bench/serverkms*.
#
#   scripts/bench-kms.sh                 # ROUNDS=6 BENCHTIME=4x
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-6}
BENCHTIME=${BENCHTIME:-4x}
mkdir -p bench
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(go version); load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee bench/serverkms-machine.txt
go test -c -o bench/serverkms.test ./reference/server
: >bench/serverkms.txt
for _ in $(seq 1 "$ROUNDS"); do
  bench/serverkms.test -test.run '^$' -test.bench '^BenchmarkPutGet64MiBInterleaved$' -test.benchtime "$BENCHTIME" -test.cpu 2 | tee -a bench/serverkms.txt | grep -E '^Benchmark' || true
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a bench/serverkms-machine.txt
go run ./scripts/benchratio -metric PutGet64MiBInterleaved:x-wall -metric PutGet64MiBInterleaved:x-cpu \
  -metric PutGet64MiBInterleaved:x-put -metric PutGet64MiBInterleaved:x-get \
  -metric PutGet64MiBInterleaved:none-MB/s -metric PutGet64MiBInterleaved:KMS-MB/s bench/serverkms.txt | tee bench/serverkms-ratios.txt
