package findings

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// mixedFindings is an estate's worth of findings of every kind: bucket,
// aggregated objects (with samples, facts, numbers of several Go types),
// key and scan findings, waived ones, duplicates that compare equal (the
// sort must keep them in the order they were added), in a scrambled order.
func mixedFindings(n int) []Finding {
	rules := []RuleMeta{
		{ID: "SSE-001", Title: "bucket default", Severity: SeverityHigh, Category: CategoryEncryption, Controls: []Control{{Framework: "CIS", ID: "5.9"}}},
		{ID: "SSE-004", Title: "object <unencrypted> & co", Severity: SeverityCritical, Category: CategoryEncryption, Controls: []Control{}},
		{ID: "SSE-010", Title: "key disabled", Severity: SeverityMedium, Category: CategoryKey},
		{ID: "SSE-099", Title: "coverage", Severity: SeverityLow, Category: CategoryCoverage},
	}
	at := time.Date(2026, 3, 4, 5, 6, 7, 891, time.UTC)
	var fs []Finding
	for i := range n {
		meta := &rules[(i*7)%len(rules)]
		b := fmt.Sprintf("bucket-%05d", (i*7919)%n)
		var r Resource
		switch meta.ID {
		case "SSE-004":
			r = Resource{Type: ResourceObjects, Provider: "oss", Bucket: b, Facts: map[string]string{"kms_key_id": fmt.Sprint(i % 3)}}
		case "SSE-010":
			r = Resource{Type: ResourceKey, Region: "cn-hangzhou", KMSKeyID: fmt.Sprintf("key-%d", i%5)}
		case "SSE-099":
			r = Resource{Type: ResourceScan, UID: "scan://reference/127.0.0.1:9000"}
		default:
			r = Resource{Type: ResourceBucket, Provider: "s3", Bucket: b, Region: "us-east-1"}
		}
		f := NewFinding(meta, r, fmt.Sprintf("finding %d of %s", i, b))
		f.Observed = map[string]any{"int": i, "int64": int64(i) << 40, "float": float64(i) / 8, "big": 1e21, "nested": map[string]any{"list": []any{1, "two", nil, true}}}
		f.Expected = map[string]any{"method": "kms"}
		f.Evidence = []Evidence{{Kind: "api_response", Source: "GetBucketEncryption", CapturedAt: at.Format(time.RFC3339), Data: map[string]any{"status_code": 404, "body": "<Error/>"}}}
		f.FirstSeen, f.LastSeen = at.Add(-time.Duration(i)*time.Hour), at
		if i%5 == 0 {
			f.Suppressed = true
			f.Waiver = &AppliedWaiver{Rule: meta.ID, Resource: "oss://" + b, Reason: "legacy", State: "active", Expires: "2027-01-01"}
		}
		if r.Type == ResourceObjects {
			f.Aggregate = &Aggregate{Objects: int64(i + 1), Open: int64(i), Suppressed: 1, Bytes: int64(i) * 1000, OldestLastModified: at.Add(-time.Hour), File: AffectedFile,
				Sample: []AffectedSample{{Key: "a/ü", Size: 3, LastModified: at}, {Key: "b", VersionID: "v1"}}}
		}
		fs = append(fs, f)
		if i%7 == 0 {
			// Equal under Compare, different elsewhere: order must hold.
			d := f
			d.Expected = map[string]any{"copy": i}
			fs = append(fs, d)
		}
	}
	return fs
}

func TestSpillEncodesAsInMemory(t *testing.T) {
	for _, tc := range []struct {
		name         string
		n, runSize   int
		wantSpill    bool
		wantLeftover int
	}{
		{"empty", 0, 4, false, 0},
		{"fits one run", 20, 100, false, 0},
		{"several runs", 200, 16, true, 0},
		{"multi-pass merge", 1200, 3, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := mixedFindings(tc.n)
			base := Document{GeneratedAt: time.Unix(1, 0).UTC(), Rules: []RuleMeta{{ID: "SSE-001", Severity: SeverityHigh}}, Waivers: []WaiverSummary{}}
			mem := base
			mem.Findings = append([]Finding(nil), fs...)
			Sort(mem.Findings)
			var want bytes.Buffer
			if err := Encode(&want, &mem); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			w := NewSpillWriter(dir, tc.runSize)
			for i := 0; i < len(fs); i += 5 {
				if err := w.Add(fs[i:min(i+5, len(fs))]...); err != nil {
					t.Fatal(err)
				}
			}
			inMem, sp, err := w.Close()
			if err != nil {
				t.Fatal(err)
			}
			if (sp != nil) != tc.wantSpill {
				t.Fatalf("spilled %v, want %v", sp != nil, tc.wantSpill)
			}
			got := base
			got.Findings, got.Spill = inMem, sp
			if got.Len() != len(fs) {
				t.Errorf("Len %d, want %d", got.Len(), len(fs))
			}
			if s, w := got.Summarized(), Summarize(mem.Findings); !reflect.DeepEqual(s, w) {
				t.Errorf("summary\n%+v\nwant\n%+v", s, w)
			}
			var out bytes.Buffer
			if err := Encode(&out, &got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), want.Bytes()) {
				t.Fatalf("spilled findings.json differs from the in-memory one (%d vs %d bytes)", out.Len(), want.Len())
			}
			if err := sp.Remove(); err != nil {
				t.Fatal(err)
			}
			left, _ := os.ReadDir(dir)
			if len(left) != tc.wantLeftover {
				t.Errorf("%d files left in the spill directory: %v", len(left), left)
			}
		})
	}
}

func TestSpillErrors(t *testing.T) {
	w := NewSpillWriter(filepath.Join(t.TempDir(), "missing"), 1)
	if err := w.Add(mixedFindings(2)...); err == nil {
		t.Fatal("a spill into a missing directory succeeded")
	}
	if _, _, err := w.Close(); err == nil {
		t.Fatal("Close after a failed Add succeeded")
	}
	w = NewSpillWriter(t.TempDir(), 1)
	if _, _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Close(); err == nil {
		t.Fatal("closed twice")
	}
	if err := w.Add(Finding{}); err == nil {
		t.Fatal("Add after Close succeeded")
	}
}
