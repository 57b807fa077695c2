#!/usr/bin/env bash
# Benchmarks, reported as ratios against baselines measured in the same run.
# Each package's test binary is built once and run BENCHCOUNT times so that
# baseline and candidate alternate (drift on a shared machine hits both);
# benchstat summarises, scripts/benchratio prints the ratios and checks
# the stream format's target (at least 0.90x of Go's GCM; the script exits
# non-zero if a checked median ratio is below it). ONLY=regexp runs only
# the benchmark sets whose name starts with it (ONLY=stream: the stream
# format, with and without VAES, in a few minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
BENCHCOUNT=${BENCHCOUNT:-6}
BENCHTIME=${BENCHTIME:-1s}
mkdir -p bench
flags=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -xE 'aes|pclmulqdq|vaes|vpclmulqdq|avx2|avx512f|sha_ni' | tr '\n' ' ' || true)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), flags: ${flags% }, $(go version); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" | tee bench/machine.txt

ran=" "
run() { # name package pattern
  local name=$1 pkg=$2 pattern=$3 bin="bench/$1.test"
  if [[ -n "${ONLY:-}" && ! "$name" =~ ^(${ONLY}) ]]; then return 0; fi
  ran+="$name "
  go test -c -o "$bin" "$pkg"
  : >"bench/$name.txt"
  for _ in $(seq 1 "$BENCHCOUNT"); do
    "$bin" -test.run '^$' -test.bench "$pattern" -test.benchmem -test.benchtime "$BENCHTIME" -test.cpu "${BENCHCPU:-1}" | tee -a "bench/$name.txt" | grep -E '^Benchmark' || true
  done
}

run stream ./reference/stream '^Benchmark(GCMSeal64KiB|GCMOpen64KiB|GCMSeal64MiB|GCMOpen64MiB|GCMOpen1MiB|Encrypt|Decrypt|EncryptReadFrom|EncryptWrites256KiB|Decrypt1MiB)$'
# The same per-chunk comparison as on a CPU without VAES, VPCLMULQDQ,
# AVX-512 and SHA-NI (a Haswell/Broadwell-class feature set): Go's
# internal/cpu honours these GODEBUG options (it has none for VAES, which
# Go 1.26 does not use; its AES-GCM needs only AES-NI, PCLMULQDQ and
# SSE4.1). The CPU's own AES speed does not change, only the features.
NOVAES=cpu.avx512f=off,cpu.avx512cd=off,cpu.avx512bw=off,cpu.avx512dq=off,cpu.avx512vl=off,cpu.vpclmulqdq=off,cpu.sha=off
GODEBUG=$NOVAES run stream-novaes ./reference/stream '^Benchmark(GCMSeal64KiB|GCMOpen64KiB|GCMOpen1MiB|EncryptWrites256KiB|Decrypt1MiB)$'
BENCHTIME=1x run stream1gib ./reference/stream '^BenchmarkEncrypt1GiB$'
run kms ./reference/kms '^BenchmarkGenerateDataKeyDecrypt'
# The reference server over loopback HTTP through the OSS SDK (uses both cores).
BENCHCPU=2 BENCHTIME=${SERVER_BENCHTIME:-3x} run server ./reference/server '^BenchmarkPutGet64MiB$'
# Issue 13's SSE-KMS target (PUT+GET of 64 MiB with SSE-KMS at least 0.92x
# of plain, the minimum over runs): each iteration does both, alternating
# which goes first, so every run's ratio (x-wall; x-cpu for process CPU)
# compares the two under the same load. BENCHCOUNT runs; benchratio
# -metric below prints the median and the minimum over them.
BENCHCPU=2 BENCHTIME=${KMS_BENCHTIME:-4x} run serverkms ./reference/server '^BenchmarkPutGet64MiBInterleaved$'
BENCHCPU=2 BENCHTIME=2s run serverhead ./reference/server '^BenchmarkHead16Clients$'
BENCHCPU=2 BENCHTIME=2s run serverput ./reference/server '^BenchmarkPut4KiB16Clients$'
BENCHCPU=2 BENCHTIME=1x BENCHCOUNT=1 run server1gib ./reference/server '^BenchmarkStream1GiB$'
# Policy evaluation over a synthetic 1,000 x 1,000-object snapshot; compare
# with stock OPA with policies/bench/compare.sh.
BENCHCPU=2 BENCHTIME=1x BENCHCOUNT=1 run policy1m ./policy '^BenchmarkEvaluate1M$'
BENCHCPU=2 BENCHTIME=3s BENCHCOUNT=1 run census ./scan '^BenchmarkCensus$'

for f in $ran; do go tool benchstat "bench/$f.txt"; done | tee bench/benchstat.txt
ratio() { # set benchratio-arguments...: only for a set run now
  local set=$1
  shift
  if [[ "$ran" == *" $set "* ]]; then go run ./scripts/benchratio "$@" "bench/$set.txt"; fi
}
{
  ratio stream -pair Encrypt:GCMSeal64KiB -pair EncryptReadFrom:GCMSeal64KiB \
    -pair Decrypt:GCMSeal64KiB -pair Decrypt:GCMOpen64KiB
  # CPU-time ratios (steadier on a shared machine); the 64 MiB baselines
  # read the same memory as the stream does, the hot ones do not.
  ratio stream -unit cpu-MB/s -pair Encrypt:GCMSeal64KiB -pair Decrypt:GCMOpen64KiB \
    -pair GCMSeal64MiB:GCMSeal64KiB -pair GCMOpen64MiB:GCMOpen64KiB -pair GCMOpen1MiB:GCMOpen64KiB
  ratio server -pair PutGet64MiB/KMS:PutGet64MiB/none -pair PutGet64MiB/AES256:PutGet64MiB/none
  ratio server -unit cpu-MB/s -pair PutGet64MiB/KMS:PutGet64MiB/none
  # The stream format's target: at least 0.90x of Go's GCM Seal/Open on
  # 64 KiB buffers, with and without VAES. Medians of cpu-MB/s, checked.
  # EncryptWrites256KiB and Decrypt1MiB work on cache-resident data as
  # GCMSeal64KiB and GCMOpen64KiB do (per-chunk and per-stream cost of
  # the format); GCMOpen1MiB opens the same 1 MiB of ciphertext as
  # Decrypt1MiB; Encrypt and Decrypt (64 MiB) read memory as the 64 MiB
  # baselines do.
  ratio serverkms -metric PutGet64MiBInterleaved:x-wall -metric PutGet64MiBInterleaved:x-cpu
  status=0
  ratio stream -unit cpu-MB/s -want 0.90 -pair EncryptWrites256KiB:GCMSeal64KiB -pair Decrypt1MiB:GCMOpen64KiB \
    -pair Decrypt1MiB:GCMOpen1MiB -pair Encrypt:GCMSeal64MiB -pair Decrypt:GCMOpen64MiB || status=1
  ratio stream-novaes -unit cpu-MB/s -want 0.90 -pair EncryptWrites256KiB:GCMSeal64KiB -pair Decrypt1MiB:GCMOpen64KiB \
    -pair Decrypt1MiB:GCMOpen1MiB || status=1
  exit $status
} | tee bench/ratios.txt || rc=$?
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a bench/machine.txt
exit "${rc:-0}"
