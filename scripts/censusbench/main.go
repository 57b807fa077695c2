// Command censusbench is the other half of scripts/census-bench.sh's
// end-to-end measurement: it seeds buckets on an endpoint and runs the
// bare baseline, a 16-goroutine HEAD loop through the same SDK client
// the scanner uses (package client), against which `sseaudit scan` is
// compared. Credentials come from OSS_ACCESS_KEY_ID and
// OSS_ACCESS_KEY_SECRET.
//
//	censusbench -endpoint URL seed -bucket B -objects N [-buckets M]
//	censusbench -endpoint URL heads -bucket B -objects N
//
// -cpuprofile FILE (before the command) writes a CPU profile of it.
//
// With -buckets M, seed creates M buckets B-000, B-001, ... of N objects
// each instead of bucket B.
//
// heads prints the seconds the loop took. It writes nothing but the
// objects seed creates, and only seed writes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sseaudit/sseaudit/client"
)

func main() {
	endpoint := flag.String("endpoint", "", "endpoint URL")
	region := flag.String("region", "cn-hangzhou", "region")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the command to this file (to set against the census's, SSEAUDIT_CPUPROFILE)")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "censusbench: -cpuprofile:", err)
			os.Exit(2)
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	if *endpoint == "" || flag.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "usage: censusbench -endpoint URL seed|heads -bucket B -objects N")
		os.Exit(2)
	}
	sub := flag.NewFlagSet(flag.Arg(0), flag.ExitOnError)
	bucket := sub.String("bucket", "", "bucket")
	n := sub.Int("objects", 5000, "objects")
	nb := sub.Int("buckets", 0, "seed this many buckets named BUCKET-000... instead of BUCKET")
	_ = sub.Parse(flag.Args()[1:])
	c, err := client.New(client.Config{Dialect: client.OSS, Endpoint: *endpoint, Region: *region,
		AccessKeyID: os.Getenv("OSS_ACCESS_KEY_ID"), AccessKeySecret: os.Getenv("OSS_ACCESS_KEY_SECRET")})
	if err == nil && *bucket == "" {
		err = errors.New("-bucket is required")
	}
	if err == nil {
		switch flag.Arg(0) {
		case "seed":
			if *nb == 0 {
				err = seed(c, *bucket, *n)
			}
			for i := 0; i < *nb && err == nil; i++ {
				err = seed(c, fmt.Sprintf("%s-%03d", *bucket, i), *n)
			}
		case "heads":
			var d time.Duration
			if d, err = heads(c, *bucket, *n); err == nil {
				fmt.Printf("%.3f\n", d.Seconds())
			}
		default:
			err = fmt.Errorf("unknown command %q: use seed or heads", flag.Arg(0))
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "censusbench:", err)
		os.Exit(1)
	}
}

func key(i int) string { return fmt.Sprintf("obj-%07d", i) }

// each runs op(0..n-1) with 16 goroutines and returns the first error.
func each(n int, op func(i int) error) error {
	var wg sync.WaitGroup
	var next atomic.Int64
	var mu sync.Mutex
	var first error
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if err := op(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// seed creates bucket (AES256 by default) with n one-byte objects.
func seed(c *client.Client, bucket string, n int) error {
	ctx := context.Background()
	if err := c.CreateBucket(ctx, bucket, &client.SSE{Algorithm: client.AlgorithmAES256}); err != nil {
		return err
	}
	return each(n, func(i int) error {
		_, err := c.PutObject(ctx, bucket, key(i), strings.NewReader("x"), 1, client.PutOptions{})
		return err
	})
}

// heads HEADs every object seed wrote.
func heads(c *client.Client, bucket string, n int) (time.Duration, error) {
	ctx := context.Background()
	start := time.Now()
	err := each(n, func(i int) error {
		_, err := c.HeadObject(ctx, bucket, key(i))
		return err
	})
	return time.Since(start), err
}
