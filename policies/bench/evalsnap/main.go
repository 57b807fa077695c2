// Command evalsnap evaluates the built-in policies over a snapshot file with
// the embedded engine and prints the number of findings (the same number
// `opa eval ... data.sseaudit_bench.total` prints over the same file), for
// compare.sh. With -v it also prints wall time, CPU time and peak heap to
// stderr.
//
//	go run ./policies/bench/evalsnap [-previous PREV.json] [-v] SNAPSHOT.json
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sseaudit/sseaudit/policy"
)

func main() {
	prev := flag.String("previous", "", "previous snapshot (drift)")
	verbose := flag.Bool("v", false, "print timings to stderr")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: evalsnap [-previous PREV] [-v] SNAPSHOT")
		os.Exit(2)
	}
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64() + s[1].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	ctx := context.Background()
	e, err := policy.Load(ctx, policy.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fs, err := e.EvaluateSnapshot(ctx, flag.Arg(0), *prev, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	wall := time.Since(start)
	close(stop)
	fmt.Println(len(fs))
	if *verbose {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		fmt.Fprintf(os.Stderr, "findings %d, wall %.2fs, cpu %.2fs, peak heap %d MiB, GOMAXPROCS %d\n",
			len(fs), wall.Seconds(), cpu.Seconds(), peak.Load()>>20, runtime.GOMAXPROCS(0))
	}
}
