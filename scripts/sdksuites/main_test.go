package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lineParser is what every parser has; the mint one has no running().
type lineParser interface {
	line(string)
	results() []Result
}

func feed(p lineParser, text string) []Result {
	for _, l := range strings.Split(text, "\n") {
		p.line(l)
	}
	return p.results()
}

func statuses(rs []Result) map[string]string {
	m := map[string]string{}
	for _, r := range rs {
		m[r.Name] = r.Status
	}
	return m
}

func TestParsers(t *testing.T) {
	cases := []struct {
		name    string
		p       lineParser
		in      string
		want    map[string]string
		detail  map[string]string // substring the detail must hold
		running string
	}{
		{
			name: "gocheck streaming: details before the verdict, fixtures ignored",
			p:    &gocheckParser{},
			in: `START: client_test.go:265: S.TestA
START: client_test.go:258: S.SetUpTest
PASS: client_test.go:258: S.SetUpTest	0.000s

client_test.go:293:
    c.Assert(err, IsNil)
... value oss.ServiceError = {Code:"NotImplemented"}

FAIL: client_test.go:265: S.TestA
START: client_test.go:300: S.TestB
PASS: client_test.go:300: S.TestB	0.1s
SKIP: a_test.go:1: S.TestC (no credentials)
MISS: a_test.go:2: S.TestD
FAIL: a_test.go:3: S.TearDownSuite
START: a_test.go:4: S.TestE
some output`,
			want:    map[string]string{"S.TestA": "fail", "S.TestB": "pass", "S.TestC": "skip", "S.TestD": "fail"},
			detail:  map[string]string{"S.TestA": "NotImplemented", "S.TestD": "MISS"},
			running: "S.TestE",
		},
		{
			name: "go test -v: top-level verdicts, a panic kept on the test that failed",
			p:    &gotestParser{},
			in: `=== RUN   TestA
    x_test.go:10: 
        	Error:      	Expected nil
--- FAIL: TestA (0.01s)
panic: runtime error: invalid memory address [recovered]
=== RUN   TestB
=== RUN   TestB/sub
    --- FAIL: TestB/sub (0.00s)
--- PASS: TestB (0.00s)
=== RUN   TestC`,
			want:    map[string]string{"TestA": "fail", "TestB": "pass"},
			detail:  map[string]string{"TestA": "panic: runtime error"},
			running: "TestC",
		},
		{
			name: "mint: fail wins over pass, NA alone is na, other lines ignored",
			p:    &mintParser{},
			in: `{"name":"minio-go: testA","function":"f","status":"PASS"}
{"name":"minio-go: testA","function":"g","status":"FAIL","message":"boom","error":"x"}
{"name":"minio-go: testB","function":"f","status":"PASS"}
{"name":"minio-go: testC","function":"f","status":"NA","alert":"Make is NotImplemented"}
not json`,
			want:   map[string]string{"testA": "fail", "testB": "pass", "testC": "na"},
			detail: map[string]string{"testA": "boom", "testC": "NotImplemented"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs := feed(c.p, c.in)
			got := statuses(rs)
			if len(got) != len(c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
			for n, st := range c.want {
				if got[n] != st {
					t.Errorf("%s: status %q, want %q", n, got[n], st)
				}
			}
			for _, r := range rs {
				if sub, ok := c.detail[r.Name]; ok && !strings.Contains(r.Detail, sub) {
					t.Errorf("%s: detail %q lacks %q", r.Name, r.Detail, sub)
				}
			}
			if c.running != "" {
				if cur, _ := c.p.(parser).running(); cur != c.running {
					t.Errorf("running %q, want %q", cur, c.running)
				}
			}
		})
	}
}

func TestParseExclusions(t *testing.T) {
	cases := []struct {
		in      string
		n       int
		wantErr string
	}{
		{"# comment\nv1\tS.TestA\tinternet\tdials 8.8.8.8\n\nv2\tTestB\trefused\tSM4\n", 2, ""},
		{"v1\tS.TestA\tslow\tit is slow\n", 0, `reason "slow"`},
		{"v1\tS.TestA\tsts\n", 0, "want suite<TAB>test<TAB>reason<TAB>why"},
		{"minio\ttestX\tminio-not-s3\tpins MinIO's behaviour\n", 1, ""},
		{"v1\tS.TestA\tminio-not-s3\tnot minio\n", 0, "excludes only minio-go's tests"},
	}
	for _, c := range cases {
		ex, err := parseExclusions(c.in)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%q: error %v, want %q", c.in, err, c.wantErr)
			}
			continue
		}
		if err != nil || len(ex) != c.n {
			t.Errorf("%q: %d exclusions, %v; want %d", c.in, len(ex), err, c.n)
		}
	}
}

func TestTally(t *testing.T) {
	ex := map[string]Exclusion{"X1": {}, "X2": {}}
	res := []Result{
		{Name: "A", Status: "pass"}, {Name: "B", Status: "fail"}, {Name: "C", Status: "crash"},
		{Name: "D", Status: "skip"}, {Name: "E", Status: "na"}, {Name: "X1", Status: "fail"},
	}
	c := tally(res, ex, []string{"A", "X1", "X2"})
	want := Counts{Total: 7, Excluded: 2, Run: 5, Passed: 1, Failed: 2, Skipped: 1, NA: 1}
	if c != want {
		t.Errorf("tally = %+v, want %+v", c, want)
	}
	if r := c.Rate(); r != 0.2 {
		t.Errorf("rate %v, want 0.2", r)
	}
}

func TestCategorise(t *testing.T) {
	cats, err := parseCategories("^TestListBuckets\\n\tpending: tagging\n(?i)acl\tpending: ACLs\n")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		r    Result
		want string
	}{
		{Result{Name: "TestListBuckets", Detail: "x"}, "pending: tagging"},
		{Result{Name: "TestListBucketsTagging", Detail: "GetObjectACL"}, "pending: ACLs"},
		{Result{Name: "TestOther", Detail: "boom"}, "uncategorised"},
	}
	for _, c := range cases {
		if got := categorise(cats, c.r); got != c.want {
			t.Errorf("%s: %q, want %q", c.r.Name, got, c.want)
		}
	}
	if _, err := parseCategories("([\tbad\n"); err == nil {
		t.Error("a bad regular expression was accepted")
	}
}

func TestFailedCall(t *testing.T) {
	dir := t.TempDir()
	src := "package oss\n\nfunc (s *S) TestA(c *C) {\n\terr := s.bucket.UploadPartCopy(imur, b, k, 0, 1, 1)\n\tc.Assert(err, IsNil)\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "multipart_test.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	got := failedCall(dir, "/elsewhere/oss/multipart_test.go:5:\n    c.Assert(err, IsNil)\n")
	want := "at: c.Assert(err, IsNil)\nafter: err := s.bucket.UploadPartCopy(imur, b, k, 0, 1, 1)"
	if got != want {
		t.Errorf("failedCall = %q, want %q", got, want)
	}
	// testify: the first failure is the cause.
	got = failedCall(dir, "multipart_test.go:5: \n\tError Trace:\tx\nmultipart_test.go:3: \n\tError Trace:\ty\n")
	if !strings.HasPrefix(got, "at: c.Assert(err, IsNil)") {
		t.Errorf("testify detail gave %q, want the first failure's line", got)
	}
	if got := failedCall(dir, "multipart_test.go:99:\n"); got != "" {
		t.Errorf("a line past the end gave %q", got)
	}
}
