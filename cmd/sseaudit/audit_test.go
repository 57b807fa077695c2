package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/sseaudit/sseaudit/attest"
	"github.com/sseaudit/sseaudit/pipeline"
	"github.com/sseaudit/sseaudit/reports"
)

// auditRoot is the root command, as main builds it.
func auditRoot(e env) *cobra.Command { return newRootCommand(e) }

type cliRun struct {
	stdout, stderr string
	err            error
	code           int // the process exit code main gives err
}

func runCLI(t *testing.T, args ...string) cliRun {
	t.Helper()
	var stdout, stderr syncBuffer
	root := auditRoot(env{getenv: func(string) string { return "" }, stdout: &stdout, stderr: &stderr})
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return cliRun{stdout: stdout.String(), stderr: stderr.String(), err: err, code: exitCode(err)}
}

// isolateConfig points the user config directory (default signing key and
// chain log) into a temporary directory.
func isolateConfig(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", d)
	t.Setenv("HOME", d)
	return d
}

func copyDir(t *testing.T, from string) string {
	t.Helper()
	to := filepath.Join(t.TempDir(), filepath.Base(from))
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := copyReportInputs(from, to); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{attest.ManifestFile, attest.SignatureFile} {
		b, err := os.ReadFile(filepath.Join(from, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return to
}

func TestAuditEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the conformance suite and a scan on the embedded reference")
	}
	isolateConfig(t)
	work := t.TempDir()
	out := filepath.Join(work, "report")
	keyPath := filepath.Join(work, "keys", "signing.key")
	r := runCLI(t, "audit", "--out", out, "--signing-key", keyPath)
	if r.code != 0 && r.code != exitGate {
		t.Fatalf("audit: exit %d: %v\nstdout:\n%s\nstderr:\n%s", r.code, r.err, r.stdout, r.stderr)
	}
	t.Logf("audit: exit %d: %v\n%s", r.code, r.err, r.stdout)

	want := []string{"affected-objects.jsonl.gz", "cucumber.json", "findings.csv", "findings.json", "index.html", "junit.xml", "manifest.json", "manifest.sig",
		"ocsf.json", "report.json", "results.sarif", "snapshot.json", "summary.md"}
	ents, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, want) {
		t.Errorf("report files\n got %v\nwant %v", got, want)
	}
	if ents, _ := os.ReadDir(work); len(ents) != 2 {
		t.Errorf("leftovers beside the report: %v", ents)
	}
	key, err := attest.LoadPrivateKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	keyID := attest.KeyID(key.Public().(ed25519.PublicKey))
	for _, s := range []string{"conformance: PASS", "key id " + keyID, "findings: ", filepath.Join(out, "index.html")} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("summary lacks %q:\n%s", s, r.stdout)
		}
	}
	if st, err := os.Stat(keyPath); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("signing key mode: %v %v", st, err)
	}

	t.Run("verify accepts the report", func(t *testing.T) {
		v := runCLI(t, "report", "verify", out, "--key", keyPath+".pub", "--chain", attest.ChainPath(keyPath))
		if v.code != 0 {
			t.Fatalf("verify: %v\n%s%s", v.err, v.stdout, v.stderr)
		}
		if !strings.Contains(v.stdout, "intact") || !strings.Contains(v.stdout, "(trusted)") {
			t.Errorf("verify output:\n%s", v.stdout)
		}
		if v := runCLI(t, "report", "verify", out, "--key-id", keyID); v.code != 0 {
			t.Fatalf("verify --key-id: %v", v.err)
		}
	})

	t.Run("edited findings.json is named", func(t *testing.T) {
		dir := copyDir(t, out)
		p := filepath.Join(dir, "findings.json")
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b = []byte(strings.Replace(string(b), `"high"`, `"low"`, 1))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		v := runCLI(t, "report", "verify", dir, "--key", keyPath+".pub")
		if v.code != exitVerifyFailed {
			t.Fatalf("verify of an edited report: exit %d, %v", v.code, v.err)
		}
		if !strings.Contains(v.err.Error(), "file-modified findings.json") || !strings.Contains(v.stdout, "findings.json") {
			t.Errorf("the problem is not named: %v\n%s", v.err, v.stdout)
		}
	})

	t.Run("another key is refused", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "other.key")
		if _, _, err := attest.LoadOrCreateKey(other); err != nil {
			t.Fatal(err)
		}
		v := runCLI(t, "report", "verify", out, "--key", other+".pub")
		if v.code != exitVerifyFailed || !strings.Contains(v.err.Error(), "untrusted-key") {
			t.Fatalf("verify with another key: exit %d, %v", v.code, v.err)
		}
	})

	t.Run("a second audit charts the trend", func(t *testing.T) {
		trendLen := func(dir string) int {
			var m struct {
				Trend []struct {
					ScanID string `json:"scan_id"`
					Open   int    `json:"open"`
				} `json:"trend"`
			}
			b, err := os.ReadFile(filepath.Join(dir, "report.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			for _, p := range m.Trend {
				if p.ScanID == "" || p.Open == 0 {
					t.Errorf("trend point %+v", p)
				}
			}
			return len(m.Trend)
		}
		if n := trendLen(out); n != 1 {
			t.Fatalf("first audit: %d trend points, want 1", n)
		}
		out3 := filepath.Join(t.TempDir(), "second")
		// Another key, so the chain the later subtests check stays as it is.
		other := filepath.Join(t.TempDir(), "other.key")
		if r := runCLI(t, "audit", "--out", out3, "--signing-key", other, "--fail-on", "none"); r.code != 0 {
			t.Fatalf("second audit: exit %d: %v\n%s", r.code, r.err, r.stderr)
		}
		if n := trendLen(out3); n != 2 {
			t.Fatalf("second audit: %d trend points, want 2", n)
		}
		html, err := os.ReadFile(filepath.Join(out3, "index.html"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(html), `chart-trend`) {
			t.Error("the second report has no trend chart")
		}
	})

	t.Run("re-render from report.json, chained", func(t *testing.T) {
		out2 := filepath.Join(t.TempDir(), "again")
		rr := runCLI(t, "report", "--from", out, "--out", out2, "--signing-key", keyPath)
		if rr.code != 0 {
			t.Fatalf("report --from: %v\n%s%s", rr.err, rr.stdout, rr.stderr)
		}
		for _, n := range want {
			if _, err := os.Stat(filepath.Join(out2, n)); err != nil {
				t.Errorf("re-rendered report lacks %s", n)
			}
		}
		v := runCLI(t, "report", "verify", out2, "--key", keyPath+".pub", "--previous", out, "--chain", attest.ChainPath(keyPath))
		if v.code != 0 || !strings.Contains(v.stdout, "run 2") {
			t.Fatalf("verify the re-rendered report: %v\n%s", v.err, v.stdout)
		}
		// out is run 1, not the run before itself.
		if v := runCLI(t, "report", "verify", out, "--previous", out2); v.code != exitVerifyFailed || !strings.Contains(v.err.Error(), "chain-broken") {
			t.Fatalf("verify with a wrong previous: exit %d, %v", v.code, v.err)
		}
	})
}

// signedReport writes a small report (built from no scan) and signs it.
func signedReport(t *testing.T, keyPath string) string {
	t.Helper()
	m, err := reports.BuildModel(context.Background(), reports.ModelInput{ToolVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := attest.LoadOrCreateKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "report")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := reports.WriteAll(dir, m); err != nil {
		t.Fatal(err)
	}
	if _, err := pipeline.SignDir(dir, m, key, keyPath, "test"); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestReportCommands(t *testing.T) {
	isolateConfig(t)
	keyPath := filepath.Join(t.TempDir(), "signing.key")
	dir := signedReport(t, keyPath)

	t.Run("verify intact", func(t *testing.T) {
		v := runCLI(t, "report", "verify", dir, "--key", keyPath+".pub")
		if v.code != 0 {
			t.Fatalf("%v\n%s", v.err, v.stdout)
		}
	})
	t.Run("verify names every problem", func(t *testing.T) {
		d := copyDir(t, dir)
		os.Remove(filepath.Join(d, "summary.md"))
		os.WriteFile(filepath.Join(d, "findings.csv"), []byte("x"), 0o644)
		os.WriteFile(filepath.Join(d, "extra.txt"), []byte("x"), 0o644)
		v := runCLI(t, "report", "verify", d, "--key", keyPath+".pub")
		if v.code != exitVerifyFailed {
			t.Fatalf("exit %d: %v", v.code, v.err)
		}
		t.Logf("stdout:\n%sstderr:\n%serror: %v", v.stdout, v.stderr, v.err)
		for _, s := range []string{"file-missing summary.md", "file-modified findings.csv", "file-unlisted extra.txt"} {
			if !strings.Contains(v.err.Error(), s) {
				t.Errorf("error lacks %q: %v", s, v.err)
			}
		}
	})
	t.Run("verify with the local chain log by default", func(t *testing.T) {
		// A report signed with the default key is checked against its chain.
		def := defaultSigningKeyPath()
		d := signedReport(t, def)
		v := runCLI(t, "report", "verify", d)
		if v.code != 0 || !strings.Contains(v.stdout, "chain log") {
			t.Fatalf("exit %d: %v\n%s", v.code, v.err, v.stdout)
		}
	})
	t.Run("verify a missing directory", func(t *testing.T) {
		if v := runCLI(t, "report", "verify", filepath.Join(dir, "nope")); v.code != exitVerifyError {
			t.Fatalf("exit %d: %v", v.code, v.err)
		}
	})
	t.Run("re-render in place refuses a tampered report", func(t *testing.T) {
		d := copyDir(t, dir)
		os.WriteFile(filepath.Join(d, "report.json"), []byte("{}"), 0o644)
		if v := runCLI(t, "report", "--from", d, "--signing-key", keyPath); v.code != exitVerifyFailed {
			t.Fatalf("exit %d: %v", v.code, v.err)
		}
	})
	t.Run("re-render in place", func(t *testing.T) {
		d := copyDir(t, dir)
		os.Remove(filepath.Join(d, "summary.md"))
		os.Remove(filepath.Join(d, attest.ManifestFile))
		if v := runCLI(t, "report", "--from", d, "--signing-key", keyPath); v.code == 0 {
			t.Fatal("an unsigned report was re-rendered without --allow-unverified")
		}
		if v := runCLI(t, "report", "--from", d, "--signing-key", keyPath, "--allow-unverified"); v.code != 0 {
			t.Fatalf("exit %d: %v", v.code, v.err)
		}
		if _, err := os.Stat(filepath.Join(d, "summary.md")); err != nil {
			t.Error("summary.md was not rendered again")
		}
		if v := runCLI(t, "report", "verify", d, "--key", keyPath+".pub", "--chain", attest.ChainPath(keyPath)); v.code != 0 {
			t.Fatalf("verify: %v", v.err)
		}
	})
	t.Run("audit refuses to replace a directory that is not a report", func(t *testing.T) {
		d := t.TempDir()
		os.WriteFile(filepath.Join(d, "thesis.tex"), []byte("x"), 0o644)
		v := runCLI(t, "audit", "--out", d, "--signing-key", keyPath)
		if v.code == 0 || !strings.Contains(v.err.Error(), "refusing to replace") {
			t.Fatalf("exit %d: %v", v.code, v.err)
		}
	})
	t.Run("audit refuses a key readable by others", func(t *testing.T) {
		k := filepath.Join(t.TempDir(), "open.key")
		if _, _, err := attest.LoadOrCreateKey(k); err != nil {
			t.Fatal(err)
		}
		os.Chmod(k, 0o644)
		v := runCLI(t, "audit", "--out", filepath.Join(t.TempDir(), "r"), "--signing-key", k)
		if v.code == 0 || !strings.Contains(v.err.Error(), "chmod 600") {
			t.Fatalf("exit %d: %v", v.code, v.err)
		}
	})
}
