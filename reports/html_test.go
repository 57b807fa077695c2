package reports

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"golang.org/x/net/html"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/results"
	"github.com/sseaudit/sseaudit/snapshot"
)

// htmlEvil is a bucket name and object key that would run script if the
// report did not escape them.
const (
	htmlEvilBucket = `evil<script>alert("bucket")</script>`
	htmlEvilKey    = `a/<script>alert('key')</script>&<img src=x onerror=alert(1)>.txt`
)

var htmlControls = []findings.Control{
	{Framework: "CIS Alibaba Cloud Foundations Benchmark v2.0.0", ID: "5.8"},
	{Framework: "CIS Alibaba Cloud Foundations Benchmark v2.0.0", ID: "5.9"},
	{Framework: "CIS Amazon Web Services Foundations Benchmark", ID: "2.1.1"},
	{Framework: "NIST SP 800-53 Rev. 5", ID: "SC-28"},
	{Framework: "PCI DSS v4.0", ID: "3.5.1"},
	{Framework: "ISO/IEC 27001:2022", ID: "A.8.24"},
}

func htmlTestModel() *Model {
	t0 := time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)
	rules := []findings.RuleMeta{
		{ID: "SSE-001", Title: "Bucket has no default encryption", Description: "Every bucket needs a default SSE rule.",
			Severity: findings.SeverityHigh, Category: findings.CategoryEncryption, ResourceType: findings.ResourceBucket,
			Remediation: findings.Remediation{Text: "Set a default KMS rule on the bucket.",
				CLI: "ossutil bucket-encryption --method put oss://BUCKET --sse-algorithm KMS"},
			Controls: htmlControls[:3]},
		{ID: "SSE-004", Title: "Object stored unencrypted", Severity: findings.SeverityCritical,
			Category: findings.CategoryEncryption, ResourceType: findings.ResourceObject,
			Remediation: findings.Remediation{Text: "Copy the object onto itself with SSE.", CLI: "ossutil cp oss://B/K oss://B/K --meta x-oss-server-side-encryption:KMS"},
			Controls:    htmlControls},
		{ID: "SSE-006", Title: "KMS key disabled", Severity: findings.SeverityMedium,
			Category: findings.CategoryKey, ResourceType: findings.ResourceKey,
			Controls: []findings.Control{htmlControls[3], htmlControls[5]}},
		{ID: "SSE-008", Title: "Object state unknown", Severity: findings.SeverityLow,
			Category: findings.CategoryCoverage, ResourceType: findings.ResourceObject,
			Controls: []findings.Control{htmlControls[3]}},
		{ID: "SSE-010", Title: "Bucket uses service-managed keys", Severity: findings.SeverityInfo,
			Category: findings.CategoryEncryption, ResourceType: findings.ResourceBucket,
			Controls: []findings.Control{htmlControls[4]}},
	}
	meta := map[string]*findings.RuleMeta{}
	for i := range rules {
		meta[rules[i].ID] = &rules[i]
	}
	mk := func(rule string, r findings.Resource, msg string, obs, exp map[string]any) findings.Finding {
		f := findings.NewFinding(meta[rule], r, msg)
		f.Observed, f.Expected = obs, exp
		f.FirstSeen, f.LastSeen = t0.Add(-48*time.Hour), t0
		f.Evidence = []findings.Evidence{{Kind: "api_response", Source: "GetBucketEncryption", Snapshot: "scan-42",
			CapturedAt: t0.Format(time.RFC3339), Data: map[string]any{"status": 404, "code": "NoSuchServerSideEncryptionRule", "raw": "<Error>…</Error>"}}}
		return f
	}
	fs := []findings.Finding{
		mk("SSE-001", findings.Resource{Type: findings.ResourceBucket, Provider: "oss", Region: "cn-hangzhou", Bucket: "logs"},
			"bucket logs has no default encryption rule", map[string]any{"default_method": "none"}, map[string]any{"default_method": []string{"kms-cmk"}}),
		mk("SSE-001", findings.Resource{Type: findings.ResourceBucket, Provider: "oss", Region: "cn-hangzhou", Bucket: htmlEvilBucket},
			"bucket "+htmlEvilBucket+" has no default encryption rule", map[string]any{"default_method": "none"}, nil),
		mk("SSE-004", findings.Resource{Type: findings.ResourceObject, Provider: "oss", Bucket: htmlEvilBucket, Key: htmlEvilKey},
			"object "+htmlEvilKey+" is stored without SSE", map[string]any{"sse": "", "method": "none", "key": htmlEvilKey}, map[string]any{"method": "kms-cmk"}),
		mk("SSE-004", findings.Resource{Type: findings.ResourceObject, Provider: "oss", Bucket: "logs", Key: "2024/app.log.gz", VersionID: "v7"},
			"object 2024/app.log.gz is stored without SSE", map[string]any{"method": "none"}, map[string]any{"method": "kms-cmk"}),
		mk("SSE-006", findings.Resource{Type: findings.ResourceKey, Region: "cn-hangzhou", KMSKeyID: "key-1234"},
			"KMS key key-1234 is disabled", map[string]any{"key_state": "Disabled"}, map[string]any{"key_state": "Enabled"}),
		mk("SSE-008", findings.Resource{Type: findings.ResourceObject, Provider: "oss", Bucket: "archive", Key: "cold/x.bin"},
			"HEAD failed: 403", nil, nil),
		mk("SSE-010", findings.Resource{Type: findings.ResourceBucket, Provider: "oss", Bucket: "archive"},
			"bucket archive uses oss-managed keys", map[string]any{"default_method": "oss-managed"}, nil),
		mk("SSE-004", findings.Resource{Type: findings.ResourceObject, Provider: "oss", Bucket: "legacy", Key: "old/1.csv"},
			"object old/1.csv is stored without SSE", map[string]any{"method": "none"}, nil),
	}
	// The last one is waived.
	w := &fs[len(fs)-1]
	w.Suppressed = true
	w.Waiver = &findings.AppliedWaiver{Rule: "SSE-004", Resource: "oss://legacy/*", Reason: "legacy bucket, migration planned",
		Owner: "storage-team", Ticket: "SEC-123", Expires: "2099-12-31", State: "active", Source: "waivers.yaml:3"}

	doc := &findings.Document{
		Schema: findings.SchemaVersion, GeneratedAt: t0, PolicyDigest: "sha256:" + strings.Repeat("ab", 32), Profile: "default",
		Scan: findings.ScanInfo{ScanID: "scan-42", StartedAt: t0.Add(-time.Minute), FinishedAt: t0, Complete: false,
			ToolVersion: "v1.2.3", TargetKind: "oss", Dialect: "oss", Endpoint: "oss-cn-hangzhou.aliyuncs.com"},
		Rules: rules, Findings: fs,
	}
	doc.Summary = findings.Summarize(fs)

	return &Model{
		Schema: ModelSchema, GeneratedAt: t0.Add(time.Minute),
		Tool: Tool{Name: "sseaudit", Version: "v1.2.3"},
		Provenance: Provenance{ScanID: "scan-42", StartedAt: t0.Add(-time.Minute), FinishedAt: t0, Complete: false,
			Target:       snapshot.Target{Kind: "oss", Dialect: "oss", Endpoint: "oss-cn-hangzhou.aliyuncs.com", Principal: "LTAI-test"},
			Regions:      []string{"cn-hangzhou"},
			PolicyDigest: doc.PolicyDigest, SnapshotDigest: "sha256:" + strings.Repeat("cd", 32)},
		Findings: doc,
		Conformance: &results.Run{Passed: 2, Failed: 1, Skipped: 1, ExitCode: 1, Scenarios: []results.Scenario{
			{Feature: "Default encryption", Name: "PUT without headers is encrypted with the bucket rule", Dialect: "oss", Status: "passed",
				Tags: []string{"@oss", "@default"}, Duration: 1200 * time.Millisecond,
				Steps: []results.Step{{Text: "a bucket with default rule KMS", Status: "passed"}, {Text: "I PUT an object", Status: "passed"}}},
			{Feature: "Default encryption", Name: "HEAD reports the KMS key", Dialect: "s3", Status: "failed",
				Error: "x-amz-server-side-encryption-aws-kms-key-id missing <b>from</b> HEAD", Duration: 900 * time.Millisecond,
				Steps: []results.Step{{Text: "a bucket with default rule KMS", Status: "passed"},
					{Text: "I HEAD the object", Status: "failed", Error: "header x-amz-server-side-encryption-aws-kms-key-id missing"},
					{Text: "the key id is the bucket's", Status: "skipped"}}},
			{Feature: "Multipart", Name: "UploadPart refuses SSE headers", Dialect: "s3", Status: "passed",
				Steps: []results.Step{{Text: "a multipart upload", Status: "passed"}}},
			{Feature: "Multipart", Name: "needs the emulator", Dialect: "oss", Status: "skipped", Error: "@emulator: needs the reference"},
		}},
		Buckets: []BucketStat{
			{Name: "logs", Region: "cn-hangzhou", DefaultMethod: "none", Objects: 1200, Encrypted: 900, Unencrypted: 280, Unknown: 20,
				ByMethod: map[string]int{"kms-cmk": 700, "oss-managed": 200, "none": 280, "unknown": 20}, OpenFindings: 2},
			{Name: htmlEvilBucket, Region: "cn-hangzhou", DefaultMethod: "none", Objects: 3, Encrypted: 1, Unencrypted: 2,
				ByMethod: map[string]int{"kms-cmk": 1, "none": 2}, OpenFindings: 2},
			{Name: "archive", Region: "cn-shanghai", DefaultMethod: "oss-managed", Objects: 5000, Encrypted: 4990, Unknown: 10,
				ByMethod: map[string]int{"oss-managed": 4990, "unknown": 10}, OpenFindings: 2},
			{Name: "secure-data", Region: "cn-hangzhou", DefaultMethod: "kms-cmk", DefaultKeyID: "key-5678", Objects: 800, Encrypted: 800,
				ByMethod: map[string]int{"kms-cmk": 800}},
			{Name: "legacy", Region: "cn-beijing", DefaultMethod: "none", Objects: 50, Unencrypted: 50,
				ByMethod: map[string]int{"none": 50}},
			{Name: "empty", Region: "cn-hangzhou", DefaultMethod: "kms-default"},
		},
		Coverage: snapshot.Coverage{Buckets: 6, BucketsRead: 6, ObjectsListed: 7053, ObjectsInspected: 7023,
			KeysReferenced: 2, KeysDescribed: 2, Retries: 3,
			Errors: []snapshot.Error{{Scope: "object", Resource: "oss://archive/cold/x.bin", StatusCode: 403, Code: "AccessDenied",
				Message: "HEAD denied <for> the principal", Attempts: 1}}},
		Trend: []TrendPoint{
			{ScanID: "scan-40", At: t0.Add(-48 * time.Hour), Open: 11, BySeverity: map[string]int{"critical": 4, "high": 4, "medium": 2, "low": 1}},
			{ScanID: "scan-41", At: t0.Add(-24 * time.Hour), Open: 9, BySeverity: map[string]int{"critical": 3, "high": 3, "medium": 2, "info": 1}},
			{ScanID: "scan-42", At: t0, Open: 7, BySeverity: map[string]int{"critical": 2, "high": 2, "medium": 1, "low": 1, "info": 1}},
		},
	}
}

// renderHTMLFile renders the test model to a file and returns its path and
// contents.
func renderHTMLFile(t *testing.T) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := HTML(&buf, htmlTestModel()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, buf.Bytes()
}

func htmlAttr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func htmlHasClass(n *html.Node, class string) bool {
	v, _ := htmlAttr(n, "class")
	for _, c := range strings.Fields(v) {
		if c == class {
			return true
		}
	}
	return false
}

func htmlWalk(n *html.Node, fn func(*html.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		htmlWalk(c, fn)
	}
}

func htmlNodeText(n *html.Node) string {
	var b strings.Builder
	htmlWalk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return b.String()
}

func TestHTMLStatic(t *testing.T) {
	_, raw := renderHTMLFile(t)
	doc, err := html.Parse(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("report does not parse as HTML: %v", err)
	}

	// Nothing may load from outside the file: no external src/href, no
	// <link>, <iframe>, <object>, no url() in the stylesheet.
	var scripts []*html.Node
	var csp string
	ids := map[string]int{}
	byID := map[string]*html.Node{}
	htmlWalk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		switch n.Data {
		case "script":
			scripts = append(scripts, n)
		case "link", "iframe", "object", "embed", "img", "base", "frame", "audio", "video", "source":
			t.Errorf("report has a <%s> element", n.Data)
		case "meta":
			if v, _ := htmlAttr(n, "http-equiv"); strings.EqualFold(v, "Content-Security-Policy") {
				csp, _ = htmlAttr(n, "content")
			}
		}
		for _, a := range n.Attr {
			switch strings.ToLower(a.Key) {
			case "src", "href", "xlink:href", "action", "formaction", "poster", "data", "srcset", "background":
				v := strings.TrimSpace(strings.ToLower(a.Val))
				if !strings.HasPrefix(v, "#") {
					t.Errorf("<%s %s=%q>: only in-page references are allowed", n.Data, a.Key, a.Val)
				}
			case "id":
				ids[a.Val]++
				byID[a.Val] = n
			}
			if strings.HasPrefix(strings.ToLower(a.Key), "on") {
				t.Errorf("<%s> has an event handler attribute %s=%q", n.Data, a.Key, a.Val)
			}
		}
	})
	for id, n := range ids {
		if n > 1 {
			t.Errorf("id %q used %d times", id, n)
		}
	}
	for _, s := range []string{"http://", "https://", "//fonts", "url("} {
		if bytes.Contains(bytes.ToLower([]byte(htmlCSS)), []byte(s)) {
			t.Errorf("stylesheet contains %q", s)
		}
	}
	for _, s := range []string{"http://", "https://", "fetch(", "XMLHttpRequest", "import(", "eval("} {
		if strings.Contains(string(htmlJS), s) {
			t.Errorf("script contains %q", s)
		}
	}

	// Exactly one script: ours, pinned by the CSP hash. The injected ones
	// must have become text.
	if len(scripts) != 1 {
		t.Fatalf("report has %d <script> elements, want 1 (an injection was not escaped?)", len(scripts))
	}
	body := htmlNodeText(scripts[0])
	sum := sha256.Sum256([]byte(body))
	if want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, want) {
		t.Errorf("CSP %q does not allow the inline script (want %s)", csp, want)
	}
	if !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q does not forbid fetches", csp)
	}
	for _, s := range []string{`<script>alert`, `<img src=x`} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("raw output contains unescaped %q", s)
		}
	}
	// ... and show up as text where they belong.
	b1 := byID["bucket-1"]
	if b1 == nil {
		t.Fatal("no #bucket-1")
	}
	if got := htmlNodeText(b1); !strings.Contains(got, htmlEvilBucket) || !strings.Contains(got, htmlEvilKey) {
		t.Errorf("bucket-1 drill-down does not show the bucket name and key as text: %.300q", got)
	}

	// Every section and every finding is there.
	m := htmlTestModel()
	for _, id := range []string{"provenance", "overview", "buckets", "controls", "conformance", "findings", "coverage",
		"chart-severity", "chart-rules", "chart-buckets", "chart-trend"} {
		if byID[id] == nil {
			t.Errorf("no element #%s", id)
		}
	}
	for _, f := range m.Findings.Findings {
		n := byID["f-"+f.ID]
		if n == nil {
			t.Errorf("finding %s (%s) missing", f.ID, f.Rule)
			continue
		}
		text := htmlNodeText(n)
		for _, want := range []string{f.Rule, f.Resource.UID, f.Message, f.Remediation.Text, f.Remediation.CLI} {
			if !strings.Contains(text, want) {
				t.Errorf("finding %s does not show %q", f.ID, want)
			}
		}
		if f.Observed != nil && !strings.Contains(text, htmlJSON(f.Observed)) {
			t.Errorf("finding %s does not show observed as pretty JSON", f.ID)
		}
		if f.Suppressed && !strings.Contains(text, f.Waiver.Reason) {
			t.Errorf("waived finding %s does not show the waiver", f.ID)
		}
	}
	prov := htmlNodeText(byID["provenance"])
	for _, want := range []string{"v1.2.3", "scan-42", "oss-cn-hangzhou.aliyuncs.com", m.Provenance.PolicyDigest,
		m.Provenance.SnapshotDigest, "INCOMPLETE", "2025-03-14 09:30:00 UTC"} {
		if !strings.Contains(prov, want) {
			t.Errorf("provenance does not show %q", want)
		}
	}
	ctl := htmlNodeText(byID["controls"])
	for _, want := range []string{"CIS Alibaba Cloud Foundations Benchmark v2.0.0", "5.8", "5.9", "2.1.1", "SC-28", "3.5.1", "A.8.24"} {
		if !strings.Contains(ctl, want) {
			t.Errorf("controls view does not show %q", want)
		}
	}
	conf := htmlNodeText(byID["conformance"])
	for _, want := range []string{"Default encryption", "Multipart", "HEAD reports the KMS key", "I HEAD the object",
		"header x-amz-server-side-encryption-aws-kms-key-id missing", "missing <b>from</b> HEAD", "@emulator: needs the reference"} {
		if !strings.Contains(conf, want) {
			t.Errorf("conformance view does not show %q", want)
		}
	}

	// Charts are drawn with data in the SVG itself.
	for _, id := range []string{"chart-severity", "chart-rules", "chart-buckets", "chart-trend"} {
		marks := 0
		htmlWalk(byID[id], func(n *html.Node) {
			if n.Type == html.ElementNode && (n.Data == "rect" || n.Data == "path") {
				if v, ok := htmlAttr(n, "data-value"); ok && v != "0" {
					marks++
				}
			}
		})
		if marks == 0 {
			t.Errorf("chart %s has no data marks", id)
		}
	}
	// Encrypted segments take the colour of the bucket's worst open
	// finding: logs and the evil bucket have critical ones, archive a low
	// one; only secure-data's are green.
	stack := map[string]int{}
	htmlWalk(byID["chart-buckets"], func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "rect" && htmlHasClass(n, "bar") {
			for _, c := range []string{"enc", "unenc", "unknown", "sev-critical", "sev-low"} {
				if htmlHasClass(n, c) {
					stack[c]++
				}
			}
		}
	})
	if want := map[string]int{"enc": 1, "sev-critical": 2, "sev-low": 1, "unenc": 3, "unknown": 2}; !reflect.DeepEqual(stack, want) {
		t.Errorf("bucket chart segments = %v, want %v", stack, want)
	}
}

// TestHTMLNoTrendNoConformance renders a minimal model: no trend, no
// conformance, no findings.
func TestHTMLMinimal(t *testing.T) {
	for _, m := range []*Model{
		{},
		{Findings: &findings.Document{}, Trend: []TrendPoint{{ScanID: "only", Open: 1}}},
	} {
		var buf bytes.Buffer
		if err := HTML(&buf, m); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if strings.Contains(out, `id="conformance"`) {
			t.Error("conformance section rendered without conformance results")
		}
		if strings.Contains(out, `id="chart-trend"`) {
			t.Error("trend chart rendered with fewer than two points")
		}
		if _, err := html.Parse(strings.NewReader(out)); err != nil {
			t.Fatal(err)
		}
	}
	if err := HTML(&bytes.Buffer{}, nil); err == nil {
		t.Error("nil model: no error")
	}
}

// TestHTMLBigBucket checks that a bucket's drill-down repeats a bounded
// number of findings while the findings list keeps them all.
func TestHTMLBigBucket(t *testing.T) {
	meta := &findings.RuleMeta{ID: "SSE-004", Title: "Object stored unencrypted", Severity: findings.SeverityCritical}
	m := &Model{Findings: &findings.Document{}, Buckets: []BucketStat{{Name: "big", Objects: 500, Unencrypted: 500}}}
	n := htmlBucketFindings + 25
	for i := 0; i < n; i++ {
		m.Findings.Findings = append(m.Findings.Findings, findings.NewFinding(meta,
			findings.Resource{Type: findings.ResourceObject, Provider: "oss", Bucket: "big", Key: fmt.Sprintf("k/%04d", i)}, "unencrypted"))
	}
	var buf bytes.Buffer
	if err := HTML(&buf, m); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if got := strings.Count(out, `class="finding mini`); got != htmlBucketFindings {
		t.Errorf("drill-down repeats %d findings, want %d", got, htmlBucketFindings)
	}
	full, compact := strings.Count(out, `<details class="finding sev-`), strings.Count(out, `<details class="finding compact sev-`)
	if full+compact != n {
		t.Errorf("findings list has %d findings, want %d", full+compact, n)
	}
	// Only a rule's first findings carry their evidence in the page.
	if full != htmlFullPerRule || !strings.Contains(out, fmt.Sprintf("%d more are shown by their message", n-htmlFullPerRule)) {
		t.Errorf("%d findings shown whole, want %d, and a note on the others", full, htmlFullPerRule)
	}
	if !strings.Contains(out, "25 more findings of this bucket") {
		t.Error("drill-down does not say how many findings it left out")
	}
}

// htmlBrowser finds a Chrome or Chromium binary.
func htmlBrowser() string {
	if p := os.Getenv("SSEAUDIT_CHROME"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestHTMLBrowser opens the report in headless Chromium from file:// and
// checks that it loads nothing, logs nothing, draws its charts and that the
// bucket drill-down opens.
func TestHTMLBrowser(t *testing.T) {
	bin := htmlBrowser()
	if bin == "" {
		t.Skip("no chromium binary found (install Debian's chromium, as .ci/run does, or set SSEAUDIT_CHROME)")
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	path, _ := renderHTMLFile(t)
	pageURL := (&url.URL{Scheme: "file", Path: path}).String()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil { // start the browser and the tab
		t.Fatalf("starting %s: %v", bin, err)
	}

	var mu sync.Mutex
	var problems, requests []string
	err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			var args []string
			for _, a := range e.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			problems = append(problems, fmt.Sprintf("console.%s(%s)", e.Type, strings.Join(args, ", ")))
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			problems = append(problems, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber, msg))
		case *log.EventEntryAdded:
			problems = append(problems, fmt.Sprintf("browser log %s/%s: %s %s", e.Entry.Source, e.Entry.Level, e.Entry.Text, e.Entry.URL))
		case *network.EventRequestWillBeSent:
			requests = append(requests, e.Request.URL)
		}
	})
	if err != nil {
		t.Fatal(err)
	}

	tctx, tcancel := context.WithTimeout(ctx, 60*time.Second)
	defer tcancel()
	if err := chromedp.Do(tctx,
		chromedp.Navigate(pageURL),
		chromedp.WaitReady(chromedp.CSS("footer")),
	); err != nil {
		t.Fatalf("loading %s: %v", pageURL, err)
	}

	// Charts: each must have data marks with a non-zero rendered size.
	marks, err := chromedp.Run(tctx, chromedp.Evaluate[map[string]int](`(() => {
		const out = {};
		document.querySelectorAll("[data-chart]").forEach(c => {
			let n = 0;
			c.querySelectorAll("rect[data-value], path[data-value]").forEach(e => {
				const r = e.getBoundingClientRect();
				if (Number(e.getAttribute("data-value")) > 0 &&
				    ((r.width > 0 && r.height > 0) || (e.tagName === "path" && e.getTotalLength() > 0))) n++;
			});
			out[c.id] = n;
		});
		return out;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"chart-severity", "chart-rules", "chart-buckets", "chart-trend"} {
		if marks[id] == 0 {
			t.Errorf("chart %s rendered no data marks (got %v)", id, marks)
		}
	}
	t.Logf("rendered data marks per chart: %v", marks)

	// The injected markup stayed text: only our own script exists, and no
	// alert dialog opened (that would block the evaluation below).
	nScripts, err := chromedp.Run(tctx, chromedp.Evaluate[int](`document.scripts.length + document.images.length`))
	if err != nil {
		t.Fatal(err)
	}
	if nScripts != 1 {
		t.Errorf("page has %d scripts and images, want 1 script", nScripts)
	}

	// Drill-down: the body of bucket 1 is hidden until its summary is clicked.
	visible := func(sel string) bool {
		t.Helper()
		v, err := chromedp.Run(tctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
			const e = document.querySelector(%q);
			if (!e) return false;
			const r = e.getBoundingClientRect();
			return e.checkVisibility() && r.width > 0 && r.height > 0;
		})()`, sel)))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if visible("#bucket-1 .bucket-body") {
		t.Fatal("bucket drill-down is visible before a click")
	}
	if err := chromedp.Do(tctx, chromedp.Click(chromedp.CSS("#bucket-1 > summary"))); err != nil {
		t.Fatal(err)
	}
	if !visible("#bucket-1 .bucket-body") {
		t.Error("bucket drill-down did not open on click")
	}
	text, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS("#bucket-1 .bucket-body")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"SSE-004", "SSE-001", htmlEvilKey, "SSE-KMS (customer CMK)", "default encryption rule"} {
		if !strings.Contains(strings.ToLower(text), strings.ToLower(want)) {
			t.Errorf("opened drill-down does not show %q", want)
		}
	}
	// One level deeper: a finding of the bucket, with its evidence.
	if visible("#bucket-1 details.finding .fbody") {
		t.Fatal("finding of the bucket is open before a click")
	}
	if err := chromedp.Do(tctx, chromedp.Click(chromedp.CSS("#bucket-1 details.finding > summary .pill"))); err != nil {
		t.Fatal(err)
	}
	if !visible("#bucket-1 details.finding .fbody") {
		t.Error("finding in the bucket drill-down did not open on click")
	}
	text, err = chromedp.Run(tctx, chromedp.Text(chromedp.CSS("#bucket-1 details.finding .fbody")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"NoSuchServerSideEncryptionRule", "GetBucketEncryption", "Copy the object onto itself"} {
		if !strings.Contains(text, want) {
			t.Errorf("opened finding does not show %q", want)
		}
	}

	// Clicking a bar of the bucket chart opens that bucket (the script works).
	if visible("#bucket-2 .bucket-body") {
		t.Fatal("bucket 2 open before its bar is clicked")
	}
	// Bring the chart to the middle of the viewport first, clear of the
	// sticky navigation bar.
	if _, err := chromedp.Run(tctx, chromedp.Evaluate[bool](
		`document.getElementById("chart-buckets").scrollIntoView({block: "center"}), true`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tctx, chromedp.Click(chromedp.CSS(`#chart-buckets rect.bar[data-target="bucket-2"]`))); err != nil {
		t.Fatal(err)
	}
	if !visible("#bucket-2 .bucket-body") {
		t.Error("clicking the bucket chart did not open bucket 2")
	}

	// The waived filter hides the waived finding.
	if err := chromedp.Do(tctx, chromedp.Click(chromedp.CSS("#show-waived"))); err != nil {
		t.Fatal(err)
	}
	hidden, err := chromedp.Run(tctx, chromedp.Evaluate[int](
		`document.querySelectorAll('#findings details.finding.hidden[data-waived="true"]').length`))
	if err != nil {
		t.Fatal(err)
	}
	if hidden != 1 {
		t.Errorf("%d waived findings hidden by the filter, want 1", hidden)
	}
	if err := chromedp.Do(tctx, chromedp.Click(chromedp.CSS("#show-waived")),
		chromedp.ScrollIntoView(chromedp.CSS("#provenance"))); err != nil {
		t.Fatal(err)
	}

	png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	// The screenshot outlives the test (t.TempDir would delete it), so the
	// logged path can be opened afterwards.
	shotDir, err := os.MkdirTemp("", "sseaudit-html-")
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(shotDir, "html-report.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shot)
	if dir := os.Getenv("SSEAUDIT_SCREENSHOT_DIR"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		keep := filepath.Join(dir, "html-report.png")
		if err := os.WriteFile(keep, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot copied to %s", keep)
	}

	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Errorf("page reported: %s", p)
	}
	for _, r := range requests {
		if r != pageURL {
			t.Errorf("page made a request: %s", r)
		}
	}
	if len(requests) == 0 {
		t.Log("no network event for the document itself")
	}
}

// aggregatedFinding is an aggregate of n objects of SSE-004 on bucket, as
// a run reports it.
func aggregatedFinding(t *testing.T, bucket string, n int) findings.Finding {
	t.Helper()
	meta := &findings.RuleMeta{ID: "SSE-004", Title: "Object not encrypted", Severity: findings.SeverityHigh,
		Category: findings.CategoryEncryption, ResourceType: findings.ResourceObject,
		Remediation: findings.Remediation{Text: "Rewrite it encrypted.", CLI: "ossutil cp"}, Controls: htmlControls[:1]}
	a := findings.NewAggregator(io.Discard, findings.AggregatorOptions{SampleSize: 3})
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	var batch []findings.ObjectFinding
	for i := 0; i < n; i++ {
		f := findings.NewFinding(meta, findings.Resource{Type: findings.ResourceObject, Provider: "oss", Bucket: bucket, Key: fmt.Sprintf("obj/%06d", i)}, "object is not encrypted")
		f.FirstSeen, f.LastSeen = t0, t0
		batch = append(batch, findings.ObjectFinding{Finding: f, Object: findings.ObjectInfo{Found: true, Size: 1 << 20, LastModified: t0.Add(-time.Duration(i) * 24 * time.Hour), Method: "none"}})
	}
	if err := a.AddObjects(batch); err != nil {
		t.Fatal(err)
	}
	fs, err := a.Close()
	if err != nil || len(fs) != 1 {
		t.Fatalf("%v %v", fs, err)
	}
	return fs[0]
}

// TestHTMLAggregate: an aggregated finding shows how many objects, their
// bytes and dates, its sample and the side file that lists every object.
func TestHTMLAggregate(t *testing.T) {
	f := aggregatedFinding(t, "legacy", 1234)
	m := &Model{Findings: &findings.Document{Rules: []findings.RuleMeta{{ID: "SSE-004", Title: "Object not encrypted"}}, Findings: []findings.Finding{f}},
		Buckets: []BucketStat{{Name: "legacy", Objects: 1234, Unencrypted: 1234}}}
	var buf bytes.Buffer
	if err := HTML(&buf, m); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		`<span class="pill objects">1,234 objects</span>`,
		"1,234 (1,234 open, 0 waived) · 1.2 GiB · last modified 2021-10-15 to 2025-03-01",
		"obj/000000", "obj/000002", "The first 3 by key; 1,231 more.",
		findings.AffectedFile, html.EscapeString(`select(.aggregate == "` + f.ID + `")`),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(out, "obj/000003") {
		t.Error("the page lists objects beyond the sample")
	}
}

// TestHTMLScales: a report of 1,000 buckets whose 1,000,000 objects are all
// unencrypted (a no-default finding and an aggregate per bucket) stays
// small: findings beyond each rule's first are one line, buckets beyond the
// worst have no drill-down.
func TestHTMLScales(t *testing.T) {
	m := htmlScaleModel(t, 1000)
	var buf bytes.Buffer
	if err := HTML(&buf, m); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	t.Logf("%d findings, %d buckets: %d bytes", len(m.Findings.Findings), len(m.Buckets), buf.Len())
	if buf.Len() > 5<<20 {
		t.Errorf("the page is %d bytes, want at most 5 MiB", buf.Len())
	}
	if got := strings.Count(out, `<details class="bucket"`); got != htmlBucketBodies {
		t.Errorf("%d buckets open to a drill-down, want %d", got, htmlBucketBodies)
	}
	if got := strings.Count(out, `<div class="bucket compact"`); got != 1000-htmlBucketBodies {
		t.Errorf("%d buckets shown by their summary, want %d", got, 1000-htmlBucketBodies)
	}
	if got := strings.Count(out, `<details class="finding compact`); got != 2000-2*htmlFullPerRule {
		t.Errorf("%d findings shown by their message, want %d", got, 2000-2*htmlFullPerRule)
	}
	// A control links to its first findings, not to all of them.
	if got := strings.Count(out, "and 950 more in the"); got != 2 {
		t.Errorf("%d controls or rules say they left 950 findings out, want 2", got)
	}
}

// htmlScaleModel is the report of n buckets whose 1,000 objects each are
// all unencrypted: a no-default finding and an aggregate per bucket.
func htmlScaleModel(t *testing.T, n int) *Model {
	base := aggregatedFinding(t, "b", 1000)
	noDefault := &findings.RuleMeta{ID: "SSE-001", Title: "Bucket has no default encryption", Severity: findings.SeverityHigh,
		Category: findings.CategoryEncryption, ResourceType: findings.ResourceBucket, Remediation: findings.Remediation{Text: "Set one.", CLI: "ossutil"}}
	m := &Model{Findings: &findings.Document{Rules: []findings.RuleMeta{*noDefault, {ID: "SSE-004", Title: base.Title}}}}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("bench-%05d", i)
		f := base
		f.Resource.Bucket = name
		f.Resource.UID = f.Resource.CanonicalUID()
		f.ID = findings.ID(f.Rule, f.Resource)
		m.Findings.Findings = append(m.Findings.Findings, f,
			findings.NewFinding(noDefault, findings.Resource{Type: findings.ResourceBucket, Provider: "oss", Bucket: name}, "bucket has no default server-side encryption rule"))
		m.Buckets = append(m.Buckets, BucketStat{Name: name, Region: "cn-hangzhou", DefaultMethod: "none", Objects: 1000, Unencrypted: 1000, ByMethod: map[string]int{"none": 1000}})
	}
	return m
}

// TestHTMLBounded: the page does not grow with the estate. 10,000
// buckets of unencrypted objects (20,000 findings) give a page no larger
// than 2,000 buckets do (it was 18 MB, 19 s to open in headless Chromium):
// the list shows every finding shown whole and then the worst others up
// to htmlMaxListed, the bucket list every drill-down and then the others up
// to htmlMaxBuckets, each saying how many it left out, and every link on
// the page leads to something on it.
func TestHTMLBounded(t *testing.T) {
	size := map[int]int{}
	for _, n := range []int{2000, 10000} {
		m := htmlScaleModel(t, n)
		// One critical finding, last in the document: the list has it.
		worst := &m.Findings.Findings[2*n-1]
		worst.Severity = findings.SeverityCritical
		var buf bytes.Buffer
		if err := HTML(&buf, m); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		size[n] = buf.Len()
		t.Logf("%d buckets, %d findings: %d bytes", n, len(m.Findings.Findings), buf.Len())
		if buf.Len() > 5<<20 {
			t.Errorf("%d buckets: the page is %d bytes, want at most 5 MiB", n, buf.Len())
		}
		listed := strings.Count(out, `<details class="finding sev-`) + strings.Count(out, `<details class="finding compact sev-`)
		if listed != htmlMaxListed {
			t.Errorf("%d buckets: %d findings listed, want %d", n, listed, htmlMaxListed)
		}
		if want := fmt.Sprintf("%s more findings are not listed here", htmlNum(int64(2*n-htmlMaxListed))); !strings.Contains(out, want) {
			t.Errorf("%d buckets: the page does not say %q", n, want)
		}
		if got := strings.Count(out, `<details class="bucket"`) + strings.Count(out, `<div class="bucket compact"`); got != htmlMaxBuckets {
			t.Errorf("%d buckets: %d listed, want %d", n, got, htmlMaxBuckets)
		}
		if want := fmt.Sprintf("%s more buckets are not listed here", htmlNum(int64(n-htmlMaxBuckets))); !strings.Contains(out, want) {
			t.Errorf("%d buckets: the page does not say %q", n, want)
		}
		if !strings.Contains(out, fmt.Sprintf(`Buckets <span class="count">%d</span>`, n)) {
			t.Errorf("%d buckets: the bucket count is not the estate's", n)
		}
		// Every in-page link resolves.
		ids := map[string]bool{}
		for _, mt := range regexp.MustCompile(` id="([^"]+)"`).FindAllStringSubmatch(out, -1) {
			ids[mt[1]] = true
		}
		for _, mt := range regexp.MustCompile(`href="#([^"]+)"`).FindAllStringSubmatch(out, -1) {
			if !ids[mt[1]] {
				t.Errorf("%d buckets: a link to #%s, which is not on the page", n, mt[1])
				break
			}
		}
		if !strings.Contains(out, `id="f-`+worst.ID+`"`) {
			t.Errorf("%d buckets: the one critical finding is not listed", n)
		}
	}
	if size[10000] > size[2000]+size[2000]/50 {
		t.Errorf("the page grew from %d bytes (2,000 buckets) to %d (10,000)", size[2000], size[10000])
	}
}
