package main

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/remediate"
)

// TestRemediateCtrlC sends the built binary SIGINT mid-apply: it finishes
// the copies in flight (every journalled start has its done, skip or fail
// line: no copy is left half-done), exits 2 with a message saying how to
// resume, and the same command run again completes, re-scans and exits 0
// with every object re-encrypted exactly once.
func TestRemediateCtrlC(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and remediates an estate on the embedded reference")
	}
	for _, d := range []client.Dialect{client.OSS, client.S3} {
		t.Run(string(d), func(t *testing.T) {
			bin := buildBinary(t)
			const n = 30
			e := startRemEstateN(t, d, n)
			planPath := e.plan(t)
			journal := planPath + ".journal"
			env := e.procEnv()
			args := []string{"remediate", "apply", "--plan", planPath, "--yes", "--journal", journal, "--history", "",
				"--signing-key", filepath.Join(e.work, "keys", "signing.key"), "--report-out", filepath.Join(e.work, "rem-report"),
				"--multipart-threshold", "1048576", "--part-size", "5242880"}
			cmd := exec.Command(bin, append(args, "--rate", "60", "--concurrency", "2")...)
			cmd.Env = env
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(60 * time.Second)
			for countOp(t, journal, remediate.OpDone) < 5 {
				if time.Now().After(deadline) {
					_ = cmd.Process.Kill()
					t.Fatalf("no progress: %s", stderr.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			var err error
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("the apply did not stop within 30s of SIGINT: %s", stderr.String())
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitFailed {
				t.Fatalf("after SIGINT: %v, want exit %d\n%s", err, exitFailed, stderr.String())
			}
			if msg := stderr.String(); !strings.Contains(msg, "interrupted") || !strings.Contains(msg, "run the same command again") {
				t.Errorf("no clear message on SIGINT:\n%s", msg)
			}
			// No copy half-done: every start is followed by its outcome.
			entries, err := remediate.ReadJournal(journal)
			if err != nil {
				t.Fatal(err)
			}
			last := map[string]string{}
			for _, en := range entries {
				if en.Key != "" {
					last[en.Bucket+"/"+en.Key] = en.Op
				}
			}
			stopped := 0
			for k, op := range last {
				if op == remediate.OpStart {
					t.Errorf("%s: the journal's last line is its start: the copy was cut off by SIGINT", k)
				}
				if op == remediate.OpDone {
					stopped++
				}
			}
			if stopped >= n+4 {
				t.Fatalf("the apply finished (%d done) before SIGINT: slow it down", stopped)
			}
			// Untouched objects are still as they were: one unencrypted version.
			versions := map[string][]client.VersionSummary{}
			if err := e.c.ListObjectVersions(t.Context(), remVersioned, "", func(v client.VersionSummary) error {
				versions[v.Key] = append(versions[v.Key], v)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			for k, vs := range versions {
				want := 1
				if last[remVersioned+"/"+k] == remediate.OpDone {
					want = 2
				}
				if len(vs) != want {
					t.Errorf("%s has %d versions after SIGINT, want %d (journal: %q)", k, len(vs), want, last[remVersioned+"/"+k])
				}
			}
			cmd = exec.Command(bin, args...)
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("the apply run again: %v\n%s", err, out)
			}
			if !strings.Contains(string(out), "0 open") {
				t.Errorf("the re-run's re-scan does not show every object resolved:\n%s", out)
			}
			res := readResult(t, planPath+".result.json")
			if res.Counts.Pending != 0 || res.Counts.Rewritten != res.Counts.Planned {
				t.Errorf("after the re-run: %+v, want every planned object rewritten", res.Counts)
			}
			for _, o := range res.Objects {
				if o.Copies != 1 {
					t.Errorf("%s/%s copied %d times, want once", o.Bucket, o.Key, o.Copies)
				}
			}
			t.Logf("SIGINT after %d done; re-run: %+v", stopped, res.Counts)
		})
	}
}
