#!/usr/bin/env bash
# Benchmarks, reported as ratios against baselines measured in the same run.
# Each package's test binary is built once and run BENCHCOUNT times so that
# baseline and candidate alternate (drift on a shared machine hits both);
# benchstat summarises, scripts/benchratio prints the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCHCOUNT=${BENCHCOUNT:-6}
BENCHTIME=${BENCHTIME:-1s}
mkdir -p bench
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(go version)" | tee bench/machine.txt

run() { # name package pattern
  local name=$1 pkg=$2 pattern=$3 bin="bench/$1.test"
  go test -c -o "$bin" "$pkg"
  : >"bench/$name.txt"
  for _ in $(seq 1 "$BENCHCOUNT"); do
    "$bin" -test.run '^$' -test.bench "$pattern" -test.benchmem -test.benchtime "$BENCHTIME" -test.cpu 1 | tee -a "bench/$name.txt" | grep -E '^Benchmark' || true
  done
}

run stream ./reference/stream '^Benchmark(GCMSeal64KiB|GCMOpen64KiB|Encrypt|Decrypt|EncryptReadFrom)$'
BENCHTIME=1x run stream1gib ./reference/stream '^BenchmarkEncrypt1GiB$'
run kms ./reference/kms '^BenchmarkGenerateDataKeyDecrypt'

for f in stream stream1gib kms; do go tool benchstat "bench/$f.txt"; done | tee bench/benchstat.txt
go run ./scripts/benchratio bench/stream.txt | tee bench/ratios.txt
