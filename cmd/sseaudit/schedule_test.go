package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/attest"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/embedded"
	"github.com/sseaudit/sseaudit/estate"
	"github.com/sseaudit/sseaudit/reports"
	"github.com/sseaudit/sseaudit/schedule"
)

func TestScheduleThreeRunsDrift(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the reference")
	}
	ctx := context.Background()
	dir := t.TempDir()
	srv, err := embedded.Start(ctx, embedded.Config{DataDir: filepath.Join(dir, "ref"),
		Getenv: func(string) string { return "" }, Faults: embedded.FaultsOf(embedded.ApplyDefaultToExisting)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(ctx)
	if _, err := estate.Seed(ctx, srv); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"REF_AK": srv.AccessKeyID, "REF_SK": srv.AccessKeySecret}
	e := env{getenv: func(k string) string { return vars[k] }, stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	cfgText := `jobs:
- name: ref
  target: {endpoint: "` + srv.Endpoint + `", dialect: oss, region: "` + srv.Region + `", access_key_id_env: REF_AK, access_key_secret_env: REF_SK}
  output: "` + filepath.Join(dir, "out") + `"
  schedule: "@every 6h"
`
	cfg, err := schedule.ParseConfig([]byte(cfgText), e.getenv)
	if err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "history.db")
	hist, st, err := openScheduleDBs(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	defer hist.Close()
	if _, _, err := openScheduleDBs(dbPath); !errors.Is(err, schedule.ErrLocked) {
		t.Fatalf("second daemon: %v", err)
	}
	s := &schedule.Scheduler{Jobs: cfg.Jobs, Store: st, Runner: scheduleRunner(e, hist, filepath.Join(dir, "keys", "signing.key"))}
	c, err := client.New(client.Config{Dialect: client.OSS, Endpoint: srv.Endpoint, Region: srv.Region,
		AccessKeyID: srv.AccessKeyID, AccessKeySecret: srv.AccessKeySecret})
	if err != nil {
		t.Fatal(err)
	}
	r1, err := s.RunNow(ctx, "ref")
	if err != nil || r1.Outcome != schedule.OK {
		t.Fatalf("run 1: %+v %v", r1, err)
	}
	if _, err := os.Stat(filepath.Join(r1.ReportDir, "findings.json")); err != nil {
		t.Fatal(err)
	}
	// With signing_key set, every run's report set is signed and verifies.
	if rep, err := attest.Verify(context.Background(), r1.ReportDir, attest.VerifyOptions{}); err != nil || !rep.OK() {
		t.Fatalf("run 1 report does not verify: %v", err)
	}
	// A new unencrypted object where there were none (a new bucket): new
	// findings; one more beside others: their finding grows. No drift.
	if err := c.CreateBucket(ctx, "added-between-runs", nil); err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"added-between-runs", estate.Unencrypted} {
		if _, err := c.PutObject(ctx, b, "added-between-runs.txt", strings.NewReader("x"), 1, client.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(1100 * time.Millisecond) // distinct scan times
	r2, err := s.RunNow(ctx, "ref")
	if err != nil || r2.Outcome != schedule.OK || r2.Delta == nil || r2.Delta.PreviousRun != r1.ID {
		t.Fatalf("run 2: %+v %v", r2, err)
	}
	if r2.Delta.ConformanceFailures != 0 || len(r2.Delta.New) == 0 {
		t.Errorf("run 2 delta: %+v", r2.Delta)
	}
	if g := r2.Delta.Grown; len(g) != 1 || g[0].Rule != "SSE-004" || g[0].Resource != "oss://"+estate.Unencrypted+"/*" || g[0].Objects != 3 {
		t.Errorf("run 2 grown findings %+v, want SSE-004 on the objects of %s, now 3", g, estate.Unencrypted)
	}
	// Setting a default re-encrypts existing objects in place (the fault).
	if err := c.PutBucketEncryption(ctx, estate.Unencrypted, client.Rule{Algorithm: "AES256"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	r3, err := s.RunNow(ctx, "ref")
	if err != nil || r3.Outcome != schedule.OK || r3.Delta == nil {
		t.Fatalf("run 3: %+v %v", r3, err)
	}
	d := r3.Delta
	if d.ConformanceFailures == 0 || len(d.DefaultsChanged) == 0 || !d.EncryptionChanged[0].DefaultChanged {
		t.Errorf("run 3 delta: %+v", d)
	}
	// Each run's report charts the runs so far.
	var m reports.Model
	b, err := os.ReadFile(filepath.Join(r3.ReportDir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Trend) != 3 || m.Trend[1].Open <= m.Trend[0].Open { // run 2 added a finding
		t.Errorf("run 3 trend: %+v", m.Trend)
	}
	var out bytes.Buffer
	printRun(&out, r3)
	if !strings.Contains(out.String(), "CONFORMANCE FAILURE") {
		t.Errorf("show: %s", out.String())
	}
	out.Reset()
	rs, _ := st.List("ref")
	printRuns(&out, rs)
	if strings.Count(out.String(), "ref-") != 3 {
		t.Errorf("history: %s", out.String())
	}
}

func TestScheduleConfigErrorsNameJob(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(p, []byte("jobs:\n- {name: nightly, output: o, schedule: '@every 6h', target: {endpoint: 'http://127.0.0.1:1', dialect: oss, access_key_id_env: NOPE_AK, access_key_secret_env: NOPE_SK}}\n"), 0o600)
	var out bytes.Buffer
	e := env{getenv: func(string) string { return "" }, stdout: &out, stderr: &out}
	err := runSchedule(context.Background(), e, scheduleFlags{config: p, db: filepath.Join(t.TempDir(), "h.db"), listen: "off", once: true})
	if err == nil || !strings.Contains(err.Error(), "job nightly: target.access_key_id_env: environment variable NOPE_AK is not set") {
		t.Fatalf("got %v", err)
	}
}

func TestScheduleOnceUnreachable(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(p, []byte("jobs:\n- {name: down, output: '"+t.TempDir()+"', schedule: '@every 6h', target: {endpoint: 'http://127.0.0.1:1', dialect: oss, access_key_id_env: AK, access_key_secret_env: SK}}\n"), 0o600)
	var out, errOut bytes.Buffer
	e := env{getenv: func(k string) string { return map[string]string{"AK": "a", "SK": "s"}[k] }, stdout: &out, stderr: &errOut, jsonErrors: new(bool)}
	db := filepath.Join(t.TempDir(), "h.db")
	err := runSchedule(context.Background(), e, scheduleFlags{config: p, db: db, listen: "127.0.0.1:0", once: true, logFormat: "json"})
	if exitCode(err) != exitFailed || !strings.Contains(out.String(), `"outcome":"failed"`) || !strings.Contains(out.String(), "nothing listens there") {
		t.Fatalf("got %v (exit %d), out %s", err, exitCode(err), out.String())
	}
	// --log-format json: every line on stdout and stderr is JSON, the final
	// error included.
	printError(e, err)
	for name, b := range map[string]*bytes.Buffer{"stdout": &out, "stderr": &errOut} {
		for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
			if !json.Valid([]byte(l)) {
				t.Errorf("%s line is not JSON: %q", name, l)
			}
		}
	}
	out.Reset()
	cmd := newHistoryCommand(e)
	cmd.SetArgs([]string{"--db", db})
	if err := cmd.Execute(); err != nil || !strings.Contains(out.String(), "failed") {
		t.Fatalf("history: %v %s", err, out.String())
	}
}

// TestHistoryWhileDaemonHoldsTheDatabase: with the runs database locked (as
// by a running daemon), history and history show read the runs from the
// mirror; with no database at all they say so.
func TestHistoryWhileDaemonHoldsTheDatabase(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "history.db")
	st, err := schedule.OpenStore(schedule.RunsPath(db), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := &schedule.Run{Job: "nightly", Scheduled: time.Now(), Outcome: schedule.OK, ScanID: "scan-1"}
	if err := st.Create(r); err != nil {
		t.Fatal(err)
	}
	out := runCLI(t, "history", "--db", db)
	if out.code != 0 || !strings.Contains(out.stdout, "nightly-1") {
		t.Fatalf("history while locked: exit %d %v\n%s", out.code, out.err, out.stdout)
	}
	out = runCLI(t, "history", "show", "nightly-1", "--db", db)
	if out.code != 0 || !strings.Contains(out.stdout, "scan-1") {
		t.Fatalf("history show while locked: exit %d %v\n%s", out.code, out.err, out.stdout)
	}
	if out = runCLI(t, "history", "show", "nightly-9", "--db", db); out.code == 0 {
		t.Fatalf("history show of an unknown run succeeded:\n%s", out.stdout)
	}
	if out = runCLI(t, "history", "--db", filepath.Join(dir, "none.db")); out.code == 0 || !strings.Contains(out.err.Error(), "no runs database") {
		t.Fatalf("history without a database: exit %d %v", out.code, out.err)
	}
}
