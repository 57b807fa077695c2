#!/usr/bin/env bash
# Compares the embedded engine (EvaluateSnapshot) with stock `opa eval` on
# the same synthetic snapshot and the same policies, in the same run:
# wall time, peak RSS and the number of findings (they must agree).
#
#   policies/bench/compare.sh                      # 1,000 x 1,000 objects
#   BUCKETS=100 OBJECTS=1000 policies/bench/compare.sh
#   OPA=/path/to/opa policies/bench/compare.sh
#
# Stock opa: GOBIN=/tmp/opabin go install github.com/open-policy-agent/opa@v1.22.3
# (run outside the repository). Without it only the engine is measured.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUCKETS=${BUCKETS:-1000}
OBJECTS=${OBJECTS:-1000}
OPA=${OPA:-$(command -v opa || echo /tmp/opabin/opa)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -o "$work/gensnap" ./policies/bench/gensnap
go build -o "$work/evalsnap" ./policies/bench/evalsnap
"$work/gensnap" -buckets "$BUCKETS" -objects "$OBJECTS" -o "$work/snap.json"
echo "snapshot: $BUCKETS buckets x $OBJECTS objects, $(du -m "$work/snap.json" | cut -f1) MiB; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

# measure NAME CMD...: wall seconds, CPU seconds, peak RSS, stdout.
measure() {
  local name=$1; shift
  /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@" > "$work/out"
  read -r wall user sys rss < "$work/time"
  printf '%-16s wall %6.2f s  cpu %6.2f s  peak RSS %6d MiB  findings %s\n' \
    "$name" "$wall" "$(echo "$user + $sys" | bc)" $((rss / 1024)) "$(tr -d '\n' < "$work/out")"
}

measure "sseaudit engine" "$work/evalsnap" "$work/snap.json"
if [ -x "$OPA" ]; then
  measure "stock opa eval" "$OPA" eval --ignore '*_test.rego' -d policies -i "$work/snap.json" -f raw 'data.sseaudit_bench.total'
else
  echo "stock opa: not found (set OPA=...)"
fi
