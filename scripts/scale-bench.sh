#!/usr/bin/env bash
# Evaluation and report benchmarks at real-estate scale (issue 11), through
# the path users run. Results in bench/ (machine, raw lines, summary).
#
# For each SHAPE (BUCKETSxOBJECTS per bucket) and MIX (compliant,
# unencrypted) a synthetic snapshot is written (policies/bench/gensnap),
# then ROUNDS times, alternating the order:
#   engine  policy's BenchmarkEngineStream on the file (EvaluateStream with
#           a sink that drops the per-object findings: the engine's own
#           path, no aggregation, no side file, no findings.json)
#   scan    sseaudit scan  --from-snapshot FILE --history ''
#   audit   sseaudit audit --from-snapshot FILE --history '' (the signed
#           report set, index.html included)
# each its own process under /usr/bin/time: wall, CPU (user+sys) and peak
# RSS. The lines are in Go benchmark format (bench/scale-{engine,scan,
# audit}.txt), so benchstat compares them (bench/scale-benchstat.txt); the
# summary (bench/scale-summary.txt) gives CPU per object (linearity), the
# scan/engine CPU and wall ratios, peak RSS against LIMIT_MIB, and for the
# unencrypted audits every report's bytes per aggregated finding. Then
# headless Chromium loads the index.html of BROWSER_SHAPE unencrypted and
# of a tiny report, interleaved, BROWSER_ROUNDS times.
#
# KINDS (default "engine scan audit") runs only some of the three, e.g.
# KINDS=audit for the peak RSS of the whole path on a 10M-object estate
# (audit evaluates as scan does, then writes the report set).
#
# The machine is shared: CPU seconds and ratios measured in the same run
# are what compare, not wall times. The default shapes take about 2.5
# hours of CPU on 2 cores (an unencrypted object costs about 0.1 ms of
# policy evaluation, so each 10M-object unencrypted run takes about 20
# CPU-minutes); a quick look: SHAPES="1x100000 100x1000".
set -euo pipefail
cd "$(dirname "$0")/.."
SHAPES=${SHAPES:-"1x100000 1x1000000 1x10000000 100x1000 1000x1000 10000x1000"}
MIXES=${MIXES:-"compliant unencrypted"}
ROUNDS=${ROUNDS:-1}
KINDS=${KINDS:-"engine scan audit"}
LIMIT_MIB=${LIMIT_MIB:-512}
# POLICY_BYTES gives every bucket a bucket policy of that many bytes (at
# most 20 KiB, the snapshot's bound), which each bucket record keeps as
# evidence: the worst case per bucket, e.g. SHAPES=10000x10 POLICY_BYTES=20480
# KINDS=audit (508 MiB peak RSS measured, against 124 MiB without).
POLICY_BYTES=${POLICY_BYTES:-0}
RATIO_MAX=${RATIO_MAX:-1.2}
HTML_MAX=${HTML_MAX:-5000000}
BROWSER_SHAPE=${BROWSER_SHAPE:-1x1000000}
BROWSER_ROUNDS=${BROWSER_ROUNDS:-5}
BROWSER=${BROWSER:-/usr/bin/chromium}
OUT=${OUT:-bench}
mkdir -p "$OUT"
work=$(mktemp -d "${TMPDIR:-/tmp}/scale-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/^Mem:/{print $2}') GiB, $(go version); load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/scale-machine.txt"

go build -o "$work/sseaudit" ./cmd/sseaudit
go build -o "$work/gensnap" ./policies/bench/gensnap
go test -c -o "$work/policy.test" ./policy
: >"$OUT/scale-engine.txt"
: >"$OUT/scale-scan.txt"
: >"$OUT/scale-audit.txt"
: >"$OUT/scale-reports.txt"
for f in engine scan audit; do
  printf 'goos: linux\ngoarch: amd64\npkg: sseaudit/scale\n' >>"$OUT/scale-$f.txt"
done

# timed KIND NAME OBJECTS CMD...: runs CMD under /usr/bin/time and appends
# a benchmark line (wall ns/op, cpu-s/op, cpu-ns/object, peak-RSS-MiB).
timed() {
  local kind=$1 name=$2 objects=$3
  shift 3
  local tf=$work/time.txt rc=0
  /usr/bin/time -f '%e %U %S %M' -o "$tf" "$@" >"$work/$kind.out" 2>&1 || rc=$?
  # 0 clean, 1 a gate failure (findings): both are a finished run.
  if [ "$rc" -gt 1 ]; then
    echo "$kind $name failed (exit $rc):" >&2
    tail -5 "$work/$kind.out" >&2
    exit 1
  fi
  # (time writes "Command exited with non-zero status" first then.)
  read -r wall user sys rss < <(tail -1 "$tf")
  awk -v n="$name" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v o="$objects" 'BEGIN {
    printf "BenchmarkScale/%s 1 %.0f ns/op %.3f cpu-s/op %.0f cpu-ns/object %.1f peak-RSS-MiB\n", n, w * 1e9, u + s, (u + s) * 1e9 / o, r / 1024 }' |
    tee -a "$OUT/scale-$kind.txt"
}

run_engine() {
  SSEAUDIT_BENCH_SNAPSHOT=$snap SSEAUDIT_BENCH_OBJECTS=$2 timed engine "$1" "$2" "$work/policy.test" -test.run '^$' -test.bench '^BenchmarkEngineStream$' -test.benchtime 1x
  grep '^BenchmarkEngineStream' "$work/engine.out" | sed "s|^|  in process: |" || true
}
run_scan() {
  rm -rf "$work/scan"
  timed scan "$1" "$2" "$work/sseaudit" scan --from-snapshot "$snap" --out "$work/scan" --history '' -q
}
run_audit() {
  rm -rf "$work/audit"
  timed audit "$1" "$2" "$work/sseaudit" audit --from-snapshot "$snap" --out "$work/audit" --history '' \
    --signing-key "$work/keys/signing.key" -q
}

# A tiny report for the browser's baseline.
"$work/gensnap" -buckets 1 -objects 10 -mix compliant -o "$work/tiny.json"
"$work/sseaudit" audit --from-snapshot "$work/tiny.json" --out "$work/tiny" --history '' --signing-key "$work/keys/signing.key" -q
browser_html=

r=0
for shape in $SHAPES; do
  buckets=${shape%x*} per=${shape#*x}
  objects=$((buckets * per))
  for mix in $MIXES; do
    name="shape=$shape/mix=$mix"
    [ "$POLICY_BYTES" = 0 ] || name="$name/policy=$POLICY_BYTES"
    snap=$work/snap.json
    "$work/gensnap" -buckets "$buckets" -objects "$per" -mix "$mix" -policy-bytes "$POLICY_BYTES" -o "$snap"
    echo "== $name: $objects objects, snapshot $(du -h "$snap" | cut -f1) (load $(cut -d' ' -f1 /proc/loadavg))"
    for _ in $(seq 1 "$ROUNDS"); do
      r=$((r + 1))
      order="engine scan audit"
      [ $((r % 2)) = 1 ] || order="audit scan engine"
      for k in $order; do
        case " $KINDS " in *" $k "*) "run_$k" "$name" "$objects" ;; esac
      done
    done
    if [ "$mix" = unencrypted ] && [ -f "$work/audit/findings.json" ]; then
      n=$(jq '.findings | length' "$work/audit/findings.json")
      line="$shape $objects $n"
      for f in index.html report.json results.sarif ocsf.json junit.xml findings.json affected-objects.jsonl.gz; do
        line="$line $(stat -c %s "$work/audit/$f")"
      done
      echo "$line" >>"$OUT/scale-reports.txt"
      if [ "$shape" = "$BROWSER_SHAPE" ]; then
        browser_html=$work/browser.html
        cp "$work/audit/index.html" "$browser_html"
      fi
    fi
    rm -f "$snap"
  done
done
rm -rf "$work/scan" "$work/audit"
for f in engine scan audit; do
  case " $KINDS " in *" $f "*) ;; *) rm -f "$OUT/scale-$f.txt" ;; esac
done

med() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print 0; else print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
# metric KIND NAME UNIT: the median of UNIT's value over the rounds.
metric() {
  [ -f "$OUT/scale-$1.txt" ] || { echo 0; return; }
  awk -v n="BenchmarkScale/$2" -v u="$4" '$1 == n { for (i = 3; i < NF; i++) if ($(i+1) == u) print $i }' "$OUT/scale-$1.txt" | med
}
{
  echo "== evaluation ($(cat "$OUT/scale-machine.txt" | cut -d';' -f1); median of $ROUNDS round(s); load after: $(cut -d' ' -f1-3 /proc/loadavg))"
  printf '%-38s %9s %9s %9s %7s %7s %9s %9s %9s %s\n' "shape/mix" "eng cpu-s" "scan cpu" "audit cpu" "scan/e" "wall/e" "eng ns/o" "scan ns/o" "aud ns/o" "peak RSS MiB engine/scan/audit"
  for shape in $SHAPES; do
    for mix in $MIXES; do
      n="shape=$shape/mix=$mix"
      ec=$(metric engine "$n" x cpu-s/op) sc=$(metric scan "$n" x cpu-s/op) ac=$(metric audit "$n" x cpu-s/op)
      ew=$(metric engine "$n" x ns/op) sw=$(metric scan "$n" x ns/op)
      eo=$(metric engine "$n" x cpu-ns/object) so=$(metric scan "$n" x cpu-ns/object) ao=$(metric audit "$n" x cpu-ns/object)
      er=$(metric engine "$n" x peak-RSS-MiB) sr=$(metric scan "$n" x peak-RSS-MiB) ar=$(metric audit "$n" x peak-RSS-MiB)
      awk -v n="$shape/$mix" -v ec="$ec" -v sc="$sc" -v ac="$ac" -v ew="$ew" -v sw="$sw" -v eo="$eo" -v so="$so" -v ao="$ao" \
        -v er="$er" -v sr="$sr" -v ar="$ar" -v lim="$LIMIT_MIB" -v rmax="$RATIO_MAX" 'BEGIN {
        ok = (er < lim && sr < lim && ar < lim) ? "ok" : "OVER " lim
        rok = (ec == 0 || sc == 0) ? "not measured" : (sc / ec <= rmax) ? "ok" : "OVER " rmax
        printf "%-38s %9.2f %9.2f %9.2f %7.3f %7.3f %9.0f %9.0f %9.0f %.0f/%.0f/%.0f %s, ratio %s\n", n, ec, sc, ac, (ec ? sc / ec : 0), (ew ? sw / ew : 0), eo, so, ao, er, sr, ar, ok, rok }'
    done
  done
  if [ -s "$OUT/scale-reports.txt" ]; then
    echo "== reports of the unencrypted audits: bytes (bytes per aggregated finding)"
    printf '%-11s %10s %8s %s\n' shape objects findings "index.html report.json results.sarif ocsf.json junit.xml findings.json | side file bytes/object"
    awk -v hmax="$HTML_MAX" '{
      printf "%-11s %10d %8d", $1, $2, $3
      for (i = 4; i <= 9; i++) printf " %d (%.0f)", $i, $i / $3
      printf " | %.1f %s\n", $10 / $2, ($4 <= hmax) ? "" : "index.html OVER " hmax }' "$OUT/scale-reports.txt"
  fi
} | tee "$OUT/scale-summary.txt"
files=()
for f in engine scan audit; do [ -f "$OUT/scale-$f.txt" ] && files+=("$f=$OUT/scale-$f.txt"); done
go tool benchstat -filter '.unit:(cpu-s/op OR peak-RSS-MiB)' "${files[@]}" >"$OUT/scale-benchstat.txt" 2>&1 || true

if [ -n "$browser_html" ] && [ "$BROWSER_ROUNDS" -gt 0 ] && [ -x "$BROWSER" ]; then
  # load FILE: seconds for headless Chromium to load it and dump the DOM
  # (the DOM must hold the report's verdict: a page that failed to load
  # does not count as fast).
  load() {
    local prof t0 t1
    prof=$(mktemp -d "$work/chromium.XXXXXX")
    t0=$(date +%s.%N)
    timeout 300 "$BROWSER" --headless --disable-gpu --no-sandbox --user-data-dir="$prof" --dump-dom "file://$1" >"$work/dom.html" 2>/dev/null
    t1=$(date +%s.%N)
    rm -rf "$prof"
    grep -q 'class="verdict' "$work/dom.html" || { echo "chromium did not render $1" >&2; exit 1; }
    echo "$t1 - $t0" | bc -l
  }
  : >"$work/browser.txt"
  for i in $(seq 1 "$BROWSER_ROUNDS"); do
    if [ $((i % 2)) = 1 ]; then b=$(load "$browser_html"); s=$(load "$work/tiny/index.html"); else s=$(load "$work/tiny/index.html"); b=$(load "$browser_html"); fi
    echo "$b $s" >>"$work/browser.txt"
  done
  big=$(awk '{print $1}' "$work/browser.txt" | med) small=$(awk '{print $2}' "$work/browser.txt" | med)
  printf '== headless Chromium load, median of %d interleaved: index.html of %s unencrypted (%d bytes) %.2fs, tiny report (%d bytes) %.2fs, difference %.2fs %s\n' \
    "$BROWSER_ROUNDS" "$BROWSER_SHAPE" "$(stat -c %s "$browser_html")" "$big" "$(stat -c %s "$work/tiny/index.html")" "$small" \
    "$(echo "$big - $small" | bc -l)" "$(echo "$big < 5" | bc -l | sed 's/1/(under 5 s: ok)/;s/0/(OVER 5 s)/')" | tee -a "$OUT/scale-summary.txt"
fi
