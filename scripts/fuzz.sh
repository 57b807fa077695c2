#!/usr/bin/env bash
# Runs every Go fuzz target in the module, one at a time, for $FUZZTIME each.
# go test -fuzz accepts only one target per package per run, hence the loop.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-10s}
found=0
while IFS= read -r file; do
  dir=$(dirname "$file")
  for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/'); do
    found=$((found + 1))
    echo "fuzz: ./$dir $target ($FUZZTIME)"
    go test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" -fuzzminimizetime="${FUZZMINIMIZETIME:-1s}" "./$dir"
  done
done < <(git ls-files '*_test.go' 2>/dev/null || find . -name '*_test.go' -printf '%P\n')
echo "fuzz: $found targets ran for $FUZZTIME each"
[ "$found" -gt 0 ]
