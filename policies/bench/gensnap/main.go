// Command gensnap writes a deterministic synthetic snapshot (see package
// synth) for policy benchmarks.
//
//	go run ./policies/bench/gensnap -buckets 1000 -objects 1000 -o /tmp/snap.json
//	go run ./policies/bench/gensnap -buckets 1 -objects 1000000 -mix unencrypted -o /tmp/unenc.json
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/sseaudit/sseaudit/policies/bench/synth"
)

func main() {
	buckets := flag.Int("buckets", 1000, "buckets")
	objects := flag.Int("objects", 1000, "objects per bucket")
	out := flag.String("o", "snapshot.json", "output file")
	next := flag.Bool("next", false, "write the next scan: every default changed, bucket 0's objects re-encrypted in place")
	mix := flag.String("mix", "", "encryption states: realistic (default), compliant or unencrypted")
	policyBytes := flag.Int("policy-bytes", 0, "give every bucket a bucket policy of this many bytes (at most 20 KiB)")
	flag.Parse()
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	id := "synthetic"
	if *next {
		id = "synthetic-next"
	}
	m := *mix
	if m == "realistic" {
		m = synth.MixRealistic
	}
	if m != synth.MixRealistic && m != synth.MixCompliant && m != synth.MixUnencrypted {
		fmt.Fprintf(os.Stderr, "-mix %q: use realistic, compliant or unencrypted\n", *mix)
		os.Exit(2)
	}
	if _, err := synth.Write(w, synth.Options{Buckets: *buckets, Objects: *objects, ScanID: id, ReencryptDefault: *next, Mix: m, PolicyBytes: *policyBytes}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
