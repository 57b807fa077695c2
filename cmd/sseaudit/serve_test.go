package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"
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
		root.SetArgs([]string{"serve", "--kms-addr", "127.0.0.1:0", "--data", t.TempDir(), "--log-format", "json"})
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
