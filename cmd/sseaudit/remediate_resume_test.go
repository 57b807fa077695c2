package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/remediate"
)

// TestRemediateResumesAfterSIGKILL kills the apply process mid-run and
// runs it again: in the versioned bucket every object then has exactly
// two versions (the original and one re-encrypted copy), and the journal
// has exactly one done per object.
func TestRemediateResumesAfterSIGKILL(t *testing.T) {
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
			args := []string{"remediate", "apply", "--plan", planPath, "--yes", "--journal", journal,
				"--multipart-threshold", "1048576", "--part-size", "5242880"}
			// Slow enough to be killed half-way: 7 requests per object.
			cmd := exec.Command(bin, append(args, "--rate", "60", "--concurrency", "2")...)
			cmd.Env = env
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
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
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			killedAt := countOp(t, journal, remediate.OpDone)
			if killedAt >= n+4 {
				t.Fatalf("the apply finished (%d done) before it was killed: slow it down", killedAt)
			}
			cmd = exec.Command(bin, args...)
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("the resumed apply: %v\n%s", err, out)
			}
			dones := map[string]int{}
			entries, err := remediate.ReadJournal(journal)
			if err != nil {
				t.Fatal(err)
			}
			for _, en := range entries {
				if en.Op == remediate.OpDone {
					dones[en.Bucket+"/"+en.Key]++
				}
			}
			versions := map[string]int{}
			if err := e.c.ListObjectVersions(t.Context(), remVersioned, "", func(v client.VersionSummary) error {
				versions[v.Key]++
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(versions) != n+1 {
				t.Fatalf("%d keys in %s, want %d", len(versions), remVersioned, n+1)
			}
			for k, c := range versions {
				if c != 2 {
					t.Errorf("%s has %d versions: re-encrypted %d times, want exactly once", k, c, c-1)
				}
				if dones[remVersioned+"/"+k] != 1 {
					t.Errorf("%s: %d done lines in the journal, want 1", k, dones[remVersioned+"/"+k])
				}
			}
			res := readResult(t, planPath+".result.json")
			if res.Counts.Pending != 0 || res.Counts.Rewritten != res.Counts.Planned {
				t.Errorf("after the resume: %+v, want every planned object rewritten", res.Counts)
			}
			t.Logf("killed after %d done; resumed to %+v", killedAt, res.Counts)
		})
	}
}

func countOp(t *testing.T, journal, op string) int {
	t.Helper()
	data, err := os.ReadFile(journal)
	if err != nil {
		return 0
	}
	return strings.Count(string(data), `"op":"`+op+`"`)
}
