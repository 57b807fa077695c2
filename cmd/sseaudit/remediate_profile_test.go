package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/remediate"
)

// TestRemediateRescanProfile: a plan records the profile its report was
// judged under, apply's re-scan judges under the --profile given (the
// same one), and --allow-profile-mismatch lets another through, said so.
func TestRemediateRescanProfile(t *testing.T) {
	if testing.Short() {
		t.Skip("scans and remediates an estate on the embedded reference")
	}
	const profile = "cis-service-key" // KMS only: the AES256 the plan sets is weaker
	e := startRemEstate(t, client.S3)
	report := filepath.Join(e.work, "report-cis")
	r := runCLIEnv(t, e.getenv, "audit", "--endpoint", e.srv.Endpoint, "--dialect", string(e.dialect), "--region", e.srv.Region,
		"--out", report, "--signing-key", filepath.Join(e.work, "keys", "signing.key"), "--history", "", "--versions", "--quiet", "--profile", profile)
	if r.code == exitFailed {
		t.Fatalf("audit: %v\n%s", r.err, r.stderr)
	}
	planPath := filepath.Join(e.work, "plan-cis.json")
	if r := runCLIEnv(t, e.getenv, "remediate", "plan", "--report", report, "--out", planPath); r.code != 0 {
		t.Fatalf("plan: exit %d: %v", r.code, r.err)
	}
	p, _, err := remediate.Read(planPath)
	if err != nil {
		t.Fatal(err)
	}
	if p.Source.Profile != profile {
		t.Fatalf("the plan records profile %q, its report was judged under %q", p.Source.Profile, profile)
	}

	// Another profile (here the default, no --profile) is refused unless
	// overridden; the override is said on stderr.
	r = runCLIEnv(t, e.getenv, "remediate", "apply", "--plan", planPath)
	if r.code != exitFailed || !strings.Contains(r.err.Error(), `judged under profile "cis-service-key", but the re-scan would judge under "default"`) {
		t.Fatalf("apply without --profile: exit %d, %v; want exit 2 naming both profiles", r.code, r.err)
	}
	r = runCLIEnv(t, e.getenv, "remediate", "apply", "--plan", planPath, "--allow-profile-mismatch")
	if r.code != 0 || !strings.Contains(r.stderr, "--allow-profile-mismatch") {
		t.Fatalf("dry run with --allow-profile-mismatch: exit %d, %v, stderr %q", r.code, r.err, r.stderr)
	}
	assertUntouched(t, e)

	// The same profile: the re-scan's findings are judged under it (the
	// AES256 defaults set are weaker than it asks: SSE-002).
	out := filepath.Join(e.work, "rem-report")
	r = runCLIEnv(t, e.getenv, "remediate", "apply", "--plan", planPath, "--yes", "--profile", profile,
		"--report-out", out, "--signing-key", filepath.Join(e.work, "keys", "signing.key"), "--history", "")
	if r.code != 0 {
		t.Fatalf("apply --profile %s: exit %d: %v\n%s", profile, r.code, r.err, r.stderr)
	}
	f, err := os.Open(filepath.Join(out, "findings.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := findings.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Profile != profile {
		t.Fatalf("the re-scan judged under profile %q, want %q", doc.Profile, profile)
	}
	weak := 0
	for _, fd := range doc.Findings {
		if fd.Rule == "SSE-002" && !fd.Suppressed {
			weak++
		}
	}
	if weak == 0 {
		t.Errorf("the re-scan under %s reports no SSE-002 on the AES256 defaults set", profile)
	}
}
