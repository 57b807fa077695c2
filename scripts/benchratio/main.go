// Command benchratio reads `go test -bench` output and prints the median
// throughput of each stream benchmark as a ratio of Go's own AES-256-GCM on
// 64 KiB buffers measured in the same run. It exits non-zero when a
// benchmark it needs is missing, so a renamed benchmark cannot pass silently.
package main

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: benchratio BENCH_OUTPUT")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchratio:", err)
		os.Exit(1)
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
			name = name[:i]
		}
		for i := 2; i+1 < len(fields); i++ {
			if fields[i+1] == "MB/s" {
				if v, err := strconv.ParseFloat(fields[i], 64); err == nil {
					mbps[name] = append(mbps[name], v)
				}
			}
		}
	}
	median := func(name string) float64 {
		v := mbps[name]
		if len(v) == 0 {
			fmt.Fprintf(os.Stderr, "benchratio: no MB/s results for %s\n", name)
			os.Exit(1)
		}
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	seal, open := median("GCMSeal64KiB"), median("GCMOpen64KiB")
	fmt.Printf("baseline AES-256-GCM Seal 64 KiB: %.0f MB/s, Open 64 KiB: %.0f MB/s (median of %d runs)\n", seal, open, len(mbps["GCMSeal64KiB"]))
	for _, c := range []struct{ name, base string }{
		{"Encrypt", "GCMSeal64KiB"}, {"EncryptReadFrom", "GCMSeal64KiB"},
		{"Decrypt", "GCMSeal64KiB"}, {"Decrypt", "GCMOpen64KiB"},
	} {
		fmt.Printf("%-16s %7.0f MB/s = %.3f x %s\n", c.name, median(c.name), median(c.name)/median(c.base), c.base)
	}
}
