package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/embedded"
)

// syncBuffer is a bytes.Buffer safe to read while the command writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServePrintsEndpointAndStopsCleanly(t *testing.T) {
	var out, errOut syncBuffer
	e := env{getenv: func(string) string { return "" }, stdout: &out, stderr: &errOut}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		root := newRootCommand(e)
		root.SetArgs([]string{"serve", "--addr", "127.0.0.1:0", "--kms-addr", "127.0.0.1:0", "--data", t.TempDir(), "--log-format", "json"})
		done <- root.ExecuteContext(ctx)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "ALIBABA_CLOUD_ACCESS_KEY_SECRET=") {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start; stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "kms endpoint: http://127.0.0.1:") {
		t.Fatalf("no endpoint line in:\n%s", out.String())
	}
	// What serve prints is all scan needs, in both dialects, KMS included.
	vars := map[string]string{}
	var endpoint, kms string
	for _, l := range strings.Split(out.String(), "\n") {
		if k, v, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(l), "export "), "="); ok {
			vars[k] = v
		}
		if v, ok := strings.CutPrefix(l, "oss/s3 endpoint: "); ok {
			endpoint = v
		}
		if v, ok := strings.CutPrefix(l, "kms endpoint: "); ok {
			kms = v
		}
	}
	for _, d := range []string{"oss", "s3"} {
		r := runCLIEnv(t, func(k string) string { return vars[k] }, "scan", "--endpoint", endpoint, "--dialect", d, "--kms-endpoint", kms,
			"--history", "", "--out", filepath.Join(t.TempDir(), "scan"), "-q")
		if r.code != 0 {
			t.Errorf("scan %s with the printed variables: exit %d: %v", d, r.code, r.err)
		}
	}
	cancel() // what SIGINT/SIGTERM do through signal.NotifyContext
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop after cancellation")
	}
	if !strings.Contains(out.String(), "stopped") {
		t.Fatalf("no clean stop in:\n%s", out.String())
	}
}

func TestServeRejectsBadLogFormat(t *testing.T) {
	var out, errOut syncBuffer
	root := newRootCommand(env{getenv: func(string) string { return "" }, stdout: &out, stderr: &errOut})
	root.SetArgs([]string{"serve", "--log-format", "xml", "--data", t.TempDir()})
	err := root.Execute()
	if err == nil || !strings.Contains(err.Error(), "--log-format") {
		t.Fatalf("err = %v, want a message naming --log-format", err)
	}
}

// TestServeLimitFlags: the limit flags default to the reference's limits,
// 0 switches a bound off, and a negative value is refused naming the flag.
func TestServeLimitFlags(t *testing.T) {
	def := embedded.DefaultLimits()
	off := embedded.Limits{ReadHeaderTimeout: -1, IdleTimeout: -1, BodyStallTimeout: -1, BodyMinRate: -1,
		WriteStallTimeout: -1, MaxConns: -1, MaxUploadsPerPrincipal: -1}
	cases := []struct {
		name    string
		in      embedded.Limits
		minRate int64
		want    embedded.Limits
		wantErr string
	}{
		{"defaults", def, def.BodyMinRate, def, ""},
		{"zero is off", embedded.Limits{}, 0, off, ""},
		{"negative duration", embedded.Limits{IdleTimeout: -time.Second}, 0, embedded.Limits{}, "--idle-timeout"},
		{"negative count", embedded.Limits{MaxUploadsPerPrincipal: -3}, 0, embedded.Limits{}, "--max-uploads-per-principal"},
		{"negative rate", embedded.Limits{}, -5, embedded.Limits{}, "--body-min-rate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := serveLimits(tc.in, tc.minRate)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
	// The flags' defaults are the reference's.
	cmd := newServeCommand(env{getenv: func(string) string { return "" }})
	for name, want := range map[string]string{
		"idle-timeout": def.IdleTimeout.String(), "body-stall-timeout": def.BodyStallTimeout.String(),
		"max-uploads-per-principal": fmt.Sprint(def.MaxUploadsPerPrincipal),
	} {
		if got := cmd.Flags().Lookup(name).DefValue; got != want {
			t.Errorf("--%s defaults to %s, want %s", name, got, want)
		}
	}
}
