// Command benchratio reads `go test -bench` output and prints, for each
// -pair NAME:BASE, the median MB/s of NAME as a ratio of the median MB/s of
// BASE measured in the same run, and the smallest of the per-run ratios
// (the k-th result of NAME over the k-th of BASE, which ran beside it in
// the same process when each run lists both). -unit picks another higher-is-better
// metric (cpu-MB/s: bytes per CPU second, steadier on a shared machine).
// -metric NAME:UNIT prints the median and the smallest value over runs of a
// ratio one benchmark reports itself (PutGet64MiBInterleaved's x-wall and
// x-cpu, measured inside each run with both sides interleaved).
// It exits non-zero when a benchmark it needs is missing, so a renamed
// benchmark cannot pass silently. With -want R it is a check: each line
// ends in "ok" or "BELOW R" and it exits 1 if any pair's median ratio is
// below R (the minimum is printed, not checked: on a shared machine one
// run in several is disturbed).
//
//	go run ./scripts/benchratio -pair Encrypt:GCMSeal64KiB bench/stream.txt
//	go run ./scripts/benchratio -unit cpu-MB/s -want 0.90 -pair Decrypt1MiB:GCMOpen64KiB bench/stream.txt
//	go run ./scripts/benchratio -unit cpu-MB/s -pair Encrypt:GCMSeal64KiB bench/stream.txt
//	go run ./scripts/benchratio -metric PutGet64MiBInterleaved:x-wall bench/serverkms.txt
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

type pairs []string

func (p *pairs) String() string     { return strings.Join(*p, ",") }
func (p *pairs) Set(v string) error { *p = append(*p, v); return nil }

func main() {
	var ps, ms pairs
	flag.Var(&ps, "pair", "NAME:BASE benchmark names (without the Benchmark prefix and -N suffix); repeatable")
	flag.Var(&ms, "metric", "NAME:UNIT a benchmark and a ratio it reports: its median and minimum over runs; repeatable")
	unit := flag.String("unit", "MB/s", "the metric compared (higher is better)")
	want := flag.Float64("want", 0, "if set, the smallest acceptable median ratio: exit 1 if a pair is below it")
	flag.Parse()
	if flag.NArg() != 1 || len(ps)+len(ms) == 0 {
		fmt.Fprintln(os.Stderr, "usage: benchratio {-pair NAME:BASE | -metric NAME:UNIT} [...] BENCH_OUTPUT")
		os.Exit(2)
	}
	for _, m := range ms {
		name, u, ok := strings.Cut(m, ":")
		if !ok {
			fmt.Fprintf(os.Stderr, "benchratio: -metric %q is not NAME:UNIT\n", m)
			os.Exit(2)
		}
		vals, err := read(flag.Arg(0), u)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchratio:", err)
			os.Exit(1)
		}
		v := slices.Clone(vals[name])
		if len(v) == 0 {
			fmt.Fprintf(os.Stderr, "benchratio: no %s results for %s in %s\n", u, name, flag.Arg(0))
			os.Exit(1)
		}
		slices.Sort(v)
		med := v[len(v)/2]
		if len(v)%2 == 0 {
			med = (v[len(v)/2-1] + v[len(v)/2]) / 2
		}
		fmt.Printf("%-28s %-8s median %.3f, min %.3f, max %.3f over %d runs\n", name, u, med, v[0], v[len(v)-1], len(v))
	}
	if len(ps) == 0 {
		return
	}
	mbps, err := read(flag.Arg(0), *unit)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchratio:", err)
		os.Exit(1)
	}
	median := func(name string) float64 {
		v := slices.Clone(mbps[name])
		if len(v) == 0 {
			fmt.Fprintf(os.Stderr, "benchratio: no %s results for %s in %s\n", *unit, name, flag.Arg(0))
			os.Exit(1)
		}
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	below := 0
	for _, p := range ps {
		name, base, ok := strings.Cut(p, ":")
		if !ok {
			fmt.Fprintf(os.Stderr, "benchratio: -pair %q is not NAME:BASE\n", p)
			os.Exit(2)
		}
		n, b := median(name), median(base)
		worst := 0.0
		for k := range min(len(mbps[name]), len(mbps[base])) {
			if r := mbps[name][k] / mbps[base][k]; k == 0 || r < worst {
				worst = r
			}
		}
		verdict := ""
		if *want > 0 {
			verdict = "; ok"
			if n/b < *want {
				verdict = fmt.Sprintf("; BELOW %.2f", *want)
				below++
			}
		}
		fmt.Printf("%-28s %8.0f %s = %.3f x %s (%.0f), medians of %d and %d runs; min ratio %.3f%s\n", name, n, *unit, n/b, base, b, len(mbps[name]), len(mbps[base]), worst, verdict)
	}
	if below > 0 {
		fmt.Fprintf(os.Stderr, "benchratio: %d of %d pairs below %.2f in %s\n", below, len(ps), *want, flag.Arg(0))
		os.Exit(1)
	}
}

func read(path, unit string) (map[string][]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	mbps := map[string][]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		name := strings.TrimPrefix(fields[0], "Benchmark")
		if i := strings.LastIndex(name, "-"); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		for i := 2; i+1 < len(fields); i++ {
			if fields[i+1] == unit {
				if v, err := strconv.ParseFloat(fields[i], 64); err == nil {
					mbps[name] = append(mbps[name], v)
				}
			}
		}
	}
	return mbps, sc.Err()
}
