package steps

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/embedded"
	"github.com/sseaudit/sseaudit/matrix"
	"github.com/sseaudit/sseaudit/results"
)

// matrixColumns runs the copy and multipart header scenarios against the
// reference in its OSS dialect, in its S3 dialect, and in its S3 dialect
// with the fault omit-sse-header-copy-multipart: one column each.
func matrixColumns(t *testing.T) []matrix.Column {
	t.Helper()
	const tags = "@rule-sse-header && @oss-managed && ~@versioning"
	cols := []struct {
		name    string
		dialect client.Dialect
		fault   embedded.Faults
	}{
		{"reference (OSS)", client.OSS, nil},
		{"reference (S3)", client.S3, nil},
		{"reference (S3) omit-sse-header-copy-multipart", client.S3, embedded.FaultsOf(embedded.OmitSSEHeaderCopyMultipart)},
	}
	var out []matrix.Column
	for _, c := range cols {
		opts := startReference(t, c.fault)
		opts.Targets = map[client.Dialect]client.Config{c.dialect: opts.Targets[c.dialect]}
		opts.Output, opts.Format, opts.Tags, opts.Concurrency = io.Discard, "progress", tags, 2
		res, err := Run(context.Background(), opts)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		out = append(out, matrix.Column{Name: c.name, Run: res})
	}
	return out
}

// TestMatrixAcrossReferences: the matrix of the reference (OSS), the
// reference (S3) and the faulted reference lines the dialects up, marks
// exactly the copy and multipart rows as differing (the fault's low
// header findings, with the answers that differ), and renders as HTML a
// headless Chromium shows with those rows and cells, and as Markdown.
func TestMatrixAcrossReferences(t *testing.T) {
	if testing.Short() {
		t.Skip("the matrix runs the suite three times; skipped in -short mode")
	}
	m := matrix.Build(matrixColumns(t))
	if len(m.Columns) != 3 || len(m.Rows) < 4 {
		t.Fatalf("matrix %d columns, %d rows", len(m.Columns), len(m.Rows))
	}
	var copyOrMultipart int
	for _, r := range m.Rows {
		// Remediation scenarios copy through package remediate, which
		// verifies by HEAD rather than reading the copy's answer.
		cm := (strings.Contains(r.Name, "opy") || strings.Contains(r.Name, "ultipart")) && !strings.Contains(r.Name, "emediat")
		if cm {
			copyOrMultipart++
		}
		for i, c := range r.Cells {
			if c.Status == matrix.StatusNotApplicable {
				t.Errorf("%s: not applicable on %s: the dialects did not line up", r.Name, m.Columns[i])
			}
		}
		if r.Cells[0].Status != results.StatusPassed || r.Cells[1].Status != results.StatusPassed {
			t.Errorf("%s: %s / %s on the correct reference", r.Name, r.Cells[0].Status, r.Cells[1].Status)
		}
		faulted := r.Cells[2]
		// The range scenario reads a multipart object without checking
		// the multipart responses: it passes, with differing answers.
		checksHeaders := !strings.HasPrefix(r.Name, "Byte ranges")
		switch {
		case cm && (!r.Differs || len(r.Differences) == 0):
			t.Errorf("%s: the answers of the faulted reference do not differ: %v", r.Name, r.Differences)
		case cm && checksHeaders && (faulted.Status != results.StatusFailed || faulted.Severity != results.SeverityLow):
			t.Errorf("%s on the faulted reference: %s (%s); want failed (low)", r.Name, faulted.Status, faulted.Severity)
		case cm && !checksHeaders && faulted.Status != results.StatusPassed:
			t.Errorf("%s on the faulted reference: %s; want passed", r.Name, faulted.Status)
		case !cm && (faulted.Status != results.StatusPassed || r.Differs):
			t.Errorf("%s: %s, differs %v %v; want passed, the same everywhere", r.Name, faulted.Status, r.Differs, r.Differences)
		}
	}
	if copyOrMultipart == 0 || m.Differing != copyOrMultipart {
		t.Errorf("%d rows differ, %d are copy or multipart", m.Differing, copyOrMultipart)
	}

	var md bytes.Buffer
	if err := matrix.WriteMarkdown(&md, m); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| reference (OSS) | reference (S3) |", "failed (low)", "200, SSE none", "200, SSE AES256"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("the Markdown lacks %q:\n%s", want, md.String())
		}
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "matrix.html")
	var html bytes.Buffer
	if err := matrix.WriteHTML(&html, m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, html.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "matrix.md"), md.Bytes(), 0o600)
	checkMatrixInBrowser(t, path, m)
}

// checkMatrixInBrowser opens the page in headless Chromium and reads the
// table back from the DOM as rendered.
func checkMatrixInBrowser(t *testing.T, path string, m matrix.Matrix) {
	t.Helper()
	bin := os.Getenv("SSEAUDIT_CHROME")
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if bin != "" {
			break
		}
		if p, err := exec.LookPath(name); err == nil {
			bin = p
		}
	}
	if bin == "" {
		t.Skip("no chromium binary found (install Debian's chromium or set SSEAUDIT_CHROME)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	tctx, tcancel := context.WithTimeout(ctx, 60*time.Second)
	defer tcancel()
	pageURL := (&url.URL{Scheme: "file", Path: path}).String()
	if err := chromedp.Do(tctx, chromedp.Navigate(pageURL), chromedp.WaitReady(chromedp.CSS("footer"))); err != nil {
		t.Fatalf("load %s: %v", pageURL, err)
	}
	type shown struct {
		Targets   []string
		Rows      int
		Differing int
		Cells     map[string][]string // row id -> visible cell texts
		Diffs     int
		Visible   bool
	}
	got, err := chromedp.Run(tctx, chromedp.Evaluate[shown](`(() => {
		const out = {Targets: [], Rows: 0, Differing: 0, Cells: {}, Diffs: 0, Visible: true};
		document.querySelectorAll("#matrix > thead th.target").forEach(th => out.Targets.push(th.innerText));
		document.querySelectorAll("#matrix > tbody > tr.scenario").forEach(tr => {
			out.Rows++;
			if (tr.classList.contains("differs")) out.Differing++;
			const r = tr.getBoundingClientRect();
			if (!(r.width > 0 && r.height > 0)) out.Visible = false;
			out.Cells[tr.id] = Array.from(tr.querySelectorAll("td.cell")).map(td => td.innerText + "|" + getComputedStyle(td).backgroundColor);
		});
		out.Diffs = document.querySelectorAll("#matrix tr.differences table.diff tbody tr").length;
		return out;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.Targets, ",") != strings.Join(m.Columns, ",") {
		t.Errorf("the browser shows the targets %v, want %v", got.Targets, m.Columns)
	}
	if got.Rows != len(m.Rows) || got.Differing != m.Differing || !got.Visible {
		t.Errorf("the browser shows %d rows (%d differing, all visible %v), want %d (%d)", got.Rows, got.Differing, got.Visible, len(m.Rows), m.Differing)
	}
	wantDiffs := 0
	for i, r := range m.Rows {
		wantDiffs += len(r.Differences)
		cells := got.Cells[fmt.Sprintf("row-%d", i+1)]
		if len(cells) != len(r.Cells) {
			t.Errorf("row %d shows %d cells, want %d", i+1, len(cells), len(r.Cells))
			continue
		}
		for j, c := range r.Cells {
			text, bg, _ := strings.Cut(cells[j], "|")
			want := c.Status
			if c.Severity != "" {
				want += " (" + c.Severity + ")"
			}
			if text != want {
				t.Errorf("row %d, %s shows %q, want %q", i+1, m.Columns[j], text, want)
			}
			// Passed and failed cells are coloured apart.
			if c.Status == results.StatusFailed && bg != "rgb(251, 226, 226)" || c.Status == results.StatusPassed && bg != "rgb(227, 244, 230)" {
				t.Errorf("row %d, %s: %s cell drawn in %s", i+1, m.Columns[j], c.Status, bg)
			}
		}
	}
	if got.Diffs != wantDiffs || wantDiffs == 0 {
		t.Errorf("the browser shows %d differing answers, want %d (> 0)", got.Diffs, wantDiffs)
	}
}
