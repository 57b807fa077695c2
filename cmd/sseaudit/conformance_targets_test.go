package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// matrixTags selects the scenarios the matrix tests run: the OSS-managed
// header scenarios without KMS or versioning (14 per dialect), among them
// the copy and multipart ones the fault omit-sse-header-copy-multipart
// bites.
const matrixTags = "@rule-sse-header && @oss-managed && ~@versioning && ~@kms"

// writeTargets writes a --targets file and returns its path.
func writeTargets(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "targets.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// mdTable returns the rows (cells, trimmed) of the Markdown table whose
// header row starts with header.
func mdTable(md, header string) [][]string {
	var rows [][]string
	in := false
	for _, l := range strings.Split(md, "\n") {
		switch {
		case strings.HasPrefix(l, header):
			in = true
			fallthrough
		case in && strings.HasPrefix(l, "|"):
			cells := strings.Split(strings.Trim(l, "|"), " | ")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			rows = append(rows, cells)
		case in:
			return rows
		}
	}
	return rows
}

// copyOrMultipart says the fault omit-sse-header-copy-multipart bites the
// scenario: it reads a copy or multipart response (remediation copies
// through package remediate, which verifies by HEAD instead).
func copyOrMultipart(name string) bool {
	return (strings.Contains(name, "opy") || strings.Contains(name, "ultipart")) && !strings.Contains(name, "emediat")
}

// TestConformanceTargetsMatrix runs `conformance --targets` over the
// embedded reference in its OSS and its S3 dialect, the embedded
// reference with omit-sse-header-copy-multipart, and a clean reference
// reached as an endpoint with credentials named in the file: each target's
// reports in its directory, the matrix lines the dialects up, the faulted
// column differs exactly on the copy and multipart rows, the gate fails
// (exit 1) on the faulted target alone, and no secret reaches a file.
func TestConformanceTargetsMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the conformance suite four times")
	}
	store := startConfReference(t, nil)
	// The store's credentials only under the names the file gives: no
	// AWS_* variable, so the usual ones cannot stand in.
	envs := map[string]string{"STORE_AK": "CONFAK", "STORE_SK": "conf-secret"}
	getenv := func(k string) string { return envs[k] }
	file := writeTargets(t, `targets:
  - name: reference-oss
    embedded: oss
  - name: reference-s3
    embedded: s3
  - name: reference-s3-faulted
    embedded: s3
    faults: [omit-sse-header-copy-multipart]
  - name: store-s3
    endpoint: `+store.Endpoint+`
    dialect: s3
    region: `+store.Region+`
    access_key_id_env: STORE_AK
    access_key_secret_env: STORE_SK
`)
	out := t.TempDir()
	r := runCLIEnv(t, getenv, "conformance", "--targets", file, "--out", out, "--tags", matrixTags, "--concurrency", "2")
	if r.code != exitGate || !strings.Contains(r.err.Error(), "conformance failed on 1 of 4 targets (reference-s3-faulted)") {
		t.Fatalf("exit %d, %v; want 1 naming the faulted target alone\nstdout:\n%s\nstderr:\n%s", r.code, r.err, r.stdout, r.stderr)
	}
	names := []string{"reference-oss", "reference-s3", "reference-s3-faulted", "store-s3"}
	for _, n := range names {
		for _, f := range []string{"junit.xml", "cucumber.json", "output.txt"} {
			if st, err := os.Stat(filepath.Join(out, n, f)); err != nil || st.Size() == 0 {
				t.Errorf("%s/%s: %v", n, f, err)
			}
		}
	}
	raw, err := os.ReadFile(filepath.Join(out, "matrix.md"))
	if err != nil {
		t.Fatal(err)
	}
	md := string(raw)

	totals := mdTable(md, "| target |")
	if len(totals) != 2+len(names) {
		t.Fatalf("the totals table has %d rows, want %d:\n%s", len(totals), 2+len(names), md)
	}
	rows := mdTable(md, "| # | scenario |")
	if len(rows) < 3 || strings.Join(rows[0], ",") != "#,scenario,"+strings.Join(names, ",")+",differs" {
		t.Fatalf("the matrix header is %v, want the targets in the file's order:\n%s", rows, md)
	}
	rows = rows[2:]
	if len(rows) != 14 {
		t.Errorf("%d scenario rows, want 14 (the OSS and S3 runs lined up)", len(rows))
	}
	var bitten, differing int
	for _, row := range rows {
		name, cells, differs := row[1], row[2:2+len(names)], row[len(row)-1] == "yes"
		for i, c := range cells {
			if i != 2 && c != "passed" {
				t.Errorf("%s on %s: %q, want passed", name, names[i], c)
			}
		}
		// The range scenario reads a multipart object without checking
		// the multipart responses: it passes, its answers differ.
		checksHeaders := !strings.Contains(name, "Byte ranges")
		cm := copyOrMultipart(name)
		switch {
		case cm && !differs:
			t.Errorf("%s: the faulted column does not differ", name)
		case cm && checksHeaders && cells[2] != "failed (low)":
			t.Errorf("%s on the faulted reference: %q, want failed (low)", name, cells[2])
		case cm && !checksHeaders && cells[2] != "passed":
			t.Errorf("%s on the faulted reference: %q, want passed", name, cells[2])
		case !cm && (differs || cells[2] != "passed"):
			t.Errorf("%s: faulted %q, differs %v; the fault does not bite it", name, cells[2], differs)
		}
		if cm {
			bitten++
		}
		if differs {
			differing++
		}
	}
	if bitten == 0 || differing != bitten {
		t.Errorf("%d rows differ, %d are copy or multipart", differing, bitten)
	}
	// The answers that differ are shown per request, faulted column
	// without the header the others have.
	if !regexp.MustCompile(`\| 200, SSE AES256 \| 200, SSE AES256 \| 200, SSE none \| 200, SSE AES256 \|`).MatchString(md) {
		t.Errorf("no request answered 200 with AES256 everywhere but on the faulted reference:\n%s", md)
	}
	if !strings.Contains(r.stdout, "conformance matrix: 14 scenarios, 4 targets, ") ||
		!regexp.MustCompile(`(?m)^  reference-s3-faulted +\d+ passed, [1-9]\d* failed, 0 skipped, 0 not applicable$`).MatchString(r.stdout) ||
		!strings.Contains(r.stdout, "rows that differ (reference-oss | reference-s3 | reference-s3-faulted | store-s3):") {
		t.Errorf("the summary on stdout lacks the totals or the differing rows:\n%s", r.stdout)
	}
	html, err := os.ReadFile(filepath.Join(out, "matrix.html"))
	if err != nil || !strings.Contains(string(html), `<th class="target">reference-s3-faulted</th>`) {
		t.Errorf("matrix.html: %v, or without the faulted column", err)
	}
	// No file of the run holds the store's secret.
	filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(p); strings.Contains(string(b), "conf-secret") {
				t.Errorf("%s holds the secret", p)
			}
		}
		return nil
	})
}

// TestConformanceTargetsUnreachable: a target nobody answers keeps its
// column, its owed scenarios unreachable and its error shown, the other
// targets' reports and the matrix are written, and the run exits 2
// naming it.
func TestConformanceTargetsUnreachable(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the conformance suite")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	file := writeTargets(t, `targets:
  - name: reference-oss
    embedded: oss
  - name: gone
    endpoint: `+closed+`
    dialect: oss
    region: cn-hangzhou
`)
	out := t.TempDir()
	r := runCLIEnv(t, confEnv(), "conformance", "--targets", file, "--out", out, "--tags", matrixTags+" && ~@rule-no-touch")
	if r.code != exitFailed || !strings.Contains(r.err.Error(), "1 of 2 targets could not be tested (gone)") {
		t.Fatalf("exit %d, %v; want 2 naming the unreachable target\nstdout:\n%s\nstderr:\n%s", r.code, r.err, r.stdout, r.stderr)
	}
	raw, err := os.ReadFile(filepath.Join(out, "matrix.md"))
	if err != nil {
		t.Fatal(err)
	}
	md := string(raw)
	rows := mdTable(md, "| # | scenario |")
	if len(rows) < 3 {
		t.Fatalf("no matrix:\n%s", md)
	}
	for _, row := range rows[2:] {
		if row[2] != "passed" || row[3] != "unreachable" || row[4] != "" {
			t.Errorf("row %v: want passed | unreachable, not differing", row)
		}
	}
	totals := mdTable(md, "| target |")
	// The rows of reference-oss and gone: every scenario the one passed,
	// the other owed and never answered.
	if len(totals) != 4 || strings.Join(totals[3], ",") != "gone,0,0,0,0,"+totals[2][1] || totals[2][1] != fmt.Sprint(len(rows)-2) {
		t.Errorf("totals %v: want gone with every scenario unreachable", totals)
	}
	if !strings.Contains(md, "**gone did not run cleanly:** steps: the oss endpoint "+closed+" cannot be reached") {
		t.Errorf("matrix.md does not say why gone was not tested:\n%s", md)
	}
	if _, err := os.Stat(filepath.Join(out, "reference-oss", "junit.xml")); err != nil {
		t.Errorf("the reachable target's reports: %v", err)
	}
}

// TestConformanceTargetsBadInput: a bad --targets file, or flags that do
// not go with it, stop the run before anything runs (exit 2), naming the
// file, the target and the fix, and never repeating a secret.
func TestConformanceTargetsBadInput(t *testing.T) {
	const ok = "  - name: a\n    embedded: oss\n"
	cases := []struct {
		name string
		body string   // the file ("" = no file is written)
		args []string // more flags
		want []string // in the error
	}{
		{"unknown field", ok + "  - name: b\n    endpoint: http://127.0.0.1:1\n    dialect: s3\n    region: r\n    bucket: x\n", nil,
			[]string{":8: target \"b\": unknown field \"bucket\"; the fields are name, embedded"}},
		{"unknown top-level field", "targets:\n" + ok + "version: 2\n", nil, []string{":4: unknown field \"version\"", "one key, targets"}},
		{"duplicate names", ok + "  - name: A\n    embedded: s3\n", nil, []string{":4: target \"A\": the name is already used by the target on line 2", "rename one"}},
		{"missing endpoint", ok + "  - name: b\n    dialect: s3\n    region: r\n", nil, []string{"target \"b\": no endpoint: add endpoint:", "or embedded: oss|s3"}},
		{"missing dialect", ok + "  - name: b\n    endpoint: http://127.0.0.1:1\n    region: r\n", nil, []string{"target \"b\": no dialect: add dialect: oss or s3"}},
		{"missing region", ok + "  - name: b\n    endpoint: http://127.0.0.1:1\n    dialect: oss\n", nil, []string{"target \"b\": no region: add region:"}},
		{"bad dialect", "  - name: b\n    endpoint: http://127.0.0.1:1\n    dialect: gcs\n    region: r\n", nil, []string{"target \"b\": dialect \"gcs\": use oss or s3"}},
		{"bad embedded dialect", "  - name: b\n    embedded: gcs\n", nil, []string{"target \"b\": embedded: \"gcs\": use oss or s3"}},
		{"endpoint with a path", "  - name: b\n    endpoint: http://127.0.0.1:1/bucket\n    dialect: oss\n    region: r\n", nil, []string{"target \"b\": endpoint:", "without user, path or query"}},
		{"no name", "  - embedded: oss\n", nil, []string{"target \"#1\": no name: add name:"}},
		{"name not a directory", "  - name: ../up\n    embedded: oss\n", nil, []string{"target \"../up\": the name is not usable as a directory"}},
		{"name of the matrix file", "  - name: Matrix.md\n    embedded: oss\n", nil, []string{"target \"Matrix.md\": the name is the matrix's own file"}},
		{"bad kms key", "  - name: b\n    endpoint: http://127.0.0.1:1\n    dialect: s3\n    region: r\n    kms_keys: [\"a b\"]\n", nil, []string{"target \"b\": steps: KMS key 1 \"a b\": give a key id or ARN without spaces"}},
		{"field twice", "  - name: b\n    embedded: oss\n    embedded: s3\n", nil, []string{":4: target \"b\": field embedded is given twice (also on line 3)"}},
		{"a secret in the file", "  - name: b\n    endpoint: http://127.0.0.1:1\n    dialect: s3\n    region: r\n    access_key_secret: TOPSECRETVALUE\n", nil,
			[]string{"target \"b\": field access_key_secret would put a credential in the file", "write access_key_secret_env: VARIABLE"}},
		{"a secret as a variable name", "  - name: b\n    endpoint: http://127.0.0.1:1\n    dialect: s3\n    region: r\n    access_key_id_env: AK\n    access_key_secret_env: TOP/SECRET+VALUE\n", nil,
			[]string{"target \"b\": access_key_secret_env is not an environment variable name"}},
		{"half a credential pair", "  - name: b\n    endpoint: http://127.0.0.1:1\n    dialect: s3\n    region: r\n    access_key_id_env: AK\n", nil,
			[]string{"access_key_id_env and access_key_secret_env go together"}},
		{"embedded with an endpoint", "  - name: b\n    embedded: s3\n    endpoint: http://127.0.0.1:1\n", nil, []string{"target \"b\": endpoint does not go with embedded", "remove endpoint"}},
		{"faults on an endpoint", "  - name: b\n    endpoint: http://127.0.0.1:1\n    dialect: s3\n    region: r\n    faults: [omit-sse-header]\n", nil,
			[]string{"target \"b\": faults are deliberate defects of the embedded reference"}},
		{"unknown fault", "  - name: b\n    embedded: s3\n    faults: [no-such-fault]\n", nil, []string{"target \"b\": faults:", "no-such-fault"}},
		{"faults not a list", "  - name: b\n    embedded: s3\n    faults: {a: b}\n", nil, []string{"target \"b\":", "lists of strings for faults"}},
		{"aws kms with oss", "  - name: b\n    endpoint: http://127.0.0.1:1\n    dialect: oss\n    region: r\n    kms_endpoint: http://127.0.0.1:2\n    kms_dialect: aws\n", nil,
			[]string{"target \"b\": kms_dialect aws goes with the s3 dialect"}},
		{"no targets", "targets: []\n", nil, []string{"no targets"}},
		{"not YAML", "targets: [\n", nil, []string{"not YAML"}},
		{"a list at the top", "- name: a\n  embedded: oss\n", nil, []string{"one key, targets"}},
		{"unset credential variable", "  - name: b\n    endpoint: http://127.0.0.1:1\n    dialect: s3\n    region: r\n    access_key_id_env: NO_SUCH_AK\n    access_key_secret_env: NO_SUCH_SK\n", nil,
			[]string{"target \"b\": the environment variable NO_SUCH_AK (access_key_id_env) and NO_SUCH_SK (access_key_secret_env) is not set"}},
		{"no credentials at all", "  - name: b\n    endpoint: http://127.0.0.1:1\n    dialect: s3\n    region: r\n", nil,
			[]string{"target \"b\": no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or name other variables"}},
		{"tags that leave a target nothing", ok + "  - name: b\n    embedded: s3\n", []string{"--tags", "@oss"}, []string{"target \"b\": ", "applies to this run", "change --tags, or remove the target"}},
		{"a bad tag", ok, []string{"--tags", "@no-such-tag"}, []string{"target \"a\": ", "no scenario has the tag @no-such-tag"}},
		{"a per-target flag", ok, []string{"--endpoint", "http://127.0.0.1:1", "--region", "r"}, []string{"--endpoint, --region cannot go with --targets"}},
		{"no --out", ok, []string{"--out", ""}, []string{"add --out DIR"}},
		{"no file", "", nil, []string{"--targets:", "no such file"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "targets.yaml")
			if c.body != "" {
				body := c.body
				if !strings.HasPrefix(body, "targets:") && strings.HasPrefix(body, "  ") {
					body = "targets:\n" + body
				}
				path = writeTargets(t, body)
			}
			args := append([]string{"conformance", "--targets", path, "--out", t.TempDir()}, c.args...)
			r := runCLIEnv(t, func(string) string { return "" }, args...)
			if r.code != exitFailed || r.err == nil {
				t.Fatalf("exit %d, %v; want 2\n%s", r.code, r.err, r.stdout)
			}
			msg := r.err.Error()
			if c.body != "" && c.args == nil && !strings.Contains(msg, path) {
				t.Errorf("the error does not name the file %s: %s", path, msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q\nwant it to contain %q", msg, w)
				}
			}
			if strings.Contains(msg, "TOPSECRETVALUE") || strings.Contains(msg, "TOP/SECRET") {
				t.Errorf("the error repeats a secret: %s", msg)
			}
		})
	}
}

// TestConformanceTargetsExample: the targets file the README shows is
// valid, and a dry run of it lists each target's selection and sends
// nothing (its endpoint target's credentials are not even read).
func TestConformanceTargetsExample(t *testing.T) {
	r := runCLIEnv(t, func(string) string { return "" }, "conformance", "--targets", "../../docs/conformance-targets.yaml", "--dry-run", "--tags", matrixTags)
	if r.code != 0 {
		t.Fatalf("exit %d, %v\n%s", r.code, r.err, r.stdout)
	}
	for _, want := range []string{
		"== target reference-oss: the embedded reference (oss)\n",
		"== target reference-s3: the embedded reference (s3)\n",
		"== target reference-s3-faulted: the embedded reference (s3) with the fault omit-sse-header-copy-multipart\n",
		"== target local-serve-s3: http://127.0.0.1:9000 (s3)\n",
		"dry run: nothing was sent",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the dry run lacks %q:\n%s", want, r.stdout)
		}
	}
	if n := strings.Count(r.stdout, "(dry run): 14 scenarios (14 would run"); n != 4 {
		t.Errorf("%d targets would run 14 scenarios, want 4:\n%s", n, r.stdout)
	}
}
