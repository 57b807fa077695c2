package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/embedded"
	"github.com/sseaudit/sseaudit/estate"
	"github.com/sseaudit/sseaudit/schedule"
)

// TestScheduleDaemonSurvivesSIGKILL kills the daemon process in the middle
// of a run and starts it again: completed runs and their sent notifications
// are intact (nothing is sent twice) and the interrupted run is marked
// incomplete.
func TestScheduleDaemonSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills a process")
	}
	ctx := context.Background()
	dir := t.TempDir()
	srv, err := embedded.Start(ctx, embedded.Config{DataDir: filepath.Join(dir, "ref"),
		Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(ctx)
	if _, err := estate.Seed(ctx, srv); err != nil {
		t.Fatal(err)
	}
	// A slow loopback proxy in front of the endpoint makes a run last long
	// enough to be killed in the middle.
	up, _ := url.Parse(srv.Endpoint)
	var requests atomic.Int64
	rp := httputil.NewSingleHostReverseProxy(up)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		time.Sleep(80 * time.Millisecond)
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()

	var mu sync.Mutex
	received := map[string]int{}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p struct {
			Run string `json:"run"`
		}
		if err := json.NewDecoder(r.Body).Decode(&p); err == nil && p.Run != "" {
			mu.Lock()
			received[p.Run]++
			mu.Unlock()
		}
	}))
	defer hook.Close()

	cfgPath := filepath.Join(dir, "schedule.yaml")
	db := filepath.Join(dir, "history.db")
	cfg := `db: "` + db + `"
listen: "off"
jobs:
- name: crash
  target: {endpoint: "` + proxy.URL + `", dialect: oss, region: "` + srv.Region + `", access_key_id_env: REF_AK, access_key_secret_env: REF_SK}
  output: "` + filepath.Join(dir, "out") + `"
  schedule: "@every 2s"
  webhook: {url: "` + hook.URL + `", retries: 2}
`
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := buildBinary(t)
	start := func(args ...string) *exec.Cmd {
		cmd := exec.Command(bin, append([]string{"schedule", "--config", cfgPath}, args...)...)
		cmd.Env = append(os.Environ(), "REF_AK="+srv.AccessKeyID, "REF_SK="+srv.AccessKeySecret)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	daemon := start()
	defer daemon.Process.Kill()

	// Wait for the first run's notification, then for the next run to be
	// under way, and kill the daemon without warning.
	deadline := time.Now().Add(60 * time.Second)
	notified := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(received)
	}
	for notified() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no notification of a first run within 60s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	base := requests.Load()
	for requests.Load() < base+6 {
		if time.Now().After(deadline) {
			t.Fatal("no second run started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := daemon.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	daemon.Wait()

	// Restart once: recovery marks the interrupted run, then one more run.
	again := start("--once")
	done := make(chan error, 1)
	go func() { done <- again.Wait() }()
	select {
	case <-done:
	case <-time.After(90 * time.Second):
		again.Process.Kill()
		t.Fatal("the restarted daemon did not finish its --once run")
	}

	st, err := schedule.OpenStore(schedule.RunsPath(db), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.List("crash")
	if err != nil {
		t.Fatal(err)
	}
	var ok, incomplete int
	for _, r := range runs {
		switch r.Outcome {
		case schedule.OK:
			ok++
		case schedule.Incomplete:
			incomplete++
		}
		if r.Outcome == schedule.OK && r.Notify == schedule.NotifySent {
			mu.Lock()
			n := received[r.ID]
			mu.Unlock()
			if n != 1 {
				t.Errorf("run %s was notified %d times, want exactly once", r.ID, n)
			}
		}
	}
	if ok < 2 || incomplete != 1 {
		for _, r := range runs {
			t.Logf("run %s: %s %s", r.ID, r.Outcome, r.Error)
		}
		t.Fatalf("%d ok and %d incomplete runs, want the first run and the --once run ok and the killed run incomplete", ok, incomplete)
	}
}
