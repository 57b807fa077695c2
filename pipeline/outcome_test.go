package pipeline

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/results"
	"github.com/sseaudit/sseaudit/snapshot"
)

func TestDecide(t *testing.T) {
	complete := &snapshot.Summary{Complete: true}
	incomplete := &snapshot.Summary{Complete: false}
	high := &findings.Document{Findings: []findings.Finding{{Rule: "SSE-004", Severity: findings.SeverityHigh}}}
	waived := &findings.Document{Findings: []findings.Finding{{Rule: "SSE-004", Severity: findings.SeverityHigh, Suppressed: true}}}
	medium := &findings.Document{Findings: []findings.Finding{{Rule: "SSE-002", Severity: findings.SeverityMedium}}}
	gap := []findings.Gap{{Kind: findings.GapObjects, Count: 3, Detail: "3 of 3 listed objects not inspected"}}
	accepted := []findings.Gap{{Kind: findings.GapObjects, Count: 3, Detail: "3 of 3", Accepted: true}}
	cases := []struct {
		name    string
		sum     *snapshot.Summary
		doc     *findings.Document
		conf    *results.Run
		gaps    []findings.Gap
		failOn  findings.Severity
		fatal   error
		verdict string
		exit    int
		reason  string
	}{
		{"clean", complete, &findings.Document{}, nil, nil, findings.SeverityHigh, nil, findings.VerdictPass, 0, ""},
		{"high finding", complete, high, nil, nil, findings.SeverityHigh, nil, findings.VerdictFail, 1, "1 findings at or above high"},
		{"waived finding", complete, waived, nil, nil, findings.SeverityHigh, nil, findings.VerdictPass, 0, ""},
		{"below the gate", complete, medium, nil, nil, findings.SeverityHigh, nil, findings.VerdictPass, 0, ""},
		{"--fail-on none", complete, high, nil, nil, 0, nil, findings.VerdictPass, 0, ""},
		{"gap fails even with --fail-on none", complete, &findings.Document{}, nil, gap, 0, nil, findings.VerdictFail, 1, "--accept-gaps objects"},
		{"accepted gap", complete, &findings.Document{}, nil, accepted, findings.SeverityHigh, nil, findings.VerdictPass, 0, ""},
		{"failed scenario", complete, &findings.Document{}, &results.Run{Failed: 2, ExitCode: 1}, nil, findings.SeverityHigh, nil, findings.VerdictFail, 1, "2 scenarios failed"},
		{"incomplete scan", incomplete, &findings.Document{}, nil, nil, findings.SeverityHigh, nil, findings.VerdictError, 2, "did not run to its end"},
		{"unreadable target beats findings", complete, high, nil, gap, findings.SeverityHigh, errors.New("cannot read x"), findings.VerdictError, 2, "cannot read x"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := Decide(c.sum, c.doc, c.conf, c.gaps, c.failOn, "", c.fatal)
			if o.Verdict != c.verdict || o.ExitCode != c.exit {
				t.Fatalf("got %s/%d, want %s/%d: %v", o.Verdict, o.ExitCode, c.verdict, c.exit, o.Reasons)
			}
			if c.reason == "" && len(o.Reasons) != 0 || c.reason != "" && !strings.Contains(strings.Join(o.Reasons, "; "), c.reason) {
				t.Errorf("reasons %q, want %q", o.Reasons, c.reason)
			}
		})
	}
}

func TestGaps(t *testing.T) {
	sum := &snapshot.Summary{
		Provenance: snapshot.Provenance{Target: snapshot.Target{Endpoint: "http://x"},
			Inventories: []snapshot.Inventory{{Bucket: "a", AsOf: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)}}},
		// Coverage totals that claim everything was read: gaps come from
		// the bucket records, never from these.
		Coverage: snapshot.Coverage{Buckets: 5, BucketsRead: 5, ObjectsListed: 10, ObjectsInspected: 10},
		Buckets: []snapshot.Bucket{
			{Name: "a", ObjectsListed: 6, ObjectsInspected: 4}, {Name: "b", ListError: &snapshot.Error{Message: "denied"}, ObjectsListed: 4, ObjectsInspected: 3},
			{Name: "v", Versioning: "Enabled"}, {Name: "w", Versioning: "Suspended", VersionsInspected: true},
			{Name: "x", VersioningError: &snapshot.Error{StatusCode: 403, Message: "denied"}},
		},
		Keys: []snapshot.Key{
			{KeyID: "k1", State: "Enabled"},
			{KeyID: "k2", Error: &snapshot.Error{Message: "no KMS endpoint given"}},
			{KeyID: "alias/acs/oss", Error: &snapshot.Error{Message: "no KMS endpoint given"}},
			{KeyID: "k3", Missing: true},
			{KeyID: "k4"},
		},
	}
	gs := Gaps(sum, nil, []string{findings.GapVersions})
	got := map[string]findings.Gap{}
	for _, g := range gs {
		got[g.Kind] = g
	}
	want := map[string]int64{findings.GapBuckets: 1, findings.GapObjects: 3, findings.GapKeys: 2, findings.GapVersions: 2, findings.GapInventory: 1}
	if len(got) != len(want) {
		t.Fatalf("gaps %+v", gs)
	}
	for k, n := range want {
		if got[k].Count != n {
			t.Errorf("%s: count %d, want %d (%s)", k, got[k].Count, n, got[k].Detail)
		}
	}
	if !got[findings.GapVersions].Accepted || got[findings.GapKeys].Accepted {
		t.Errorf("accepted flags: %+v", gs)
	}
	if !strings.Contains(got[findings.GapKeys].Detail, "--kms-endpoint") || !strings.Contains(got[findings.GapBuckets].Detail, "b") ||
		!strings.Contains(got[findings.GapInventory].Detail, "a (as of 2026-05-01T00:00:00Z)") {
		t.Errorf("details: %+v", gs)
	}
	if gs := Gaps(&snapshot.Summary{Complete: true}, nil, nil); len(gs) != 0 {
		t.Errorf("a fully read snapshot has gaps: %+v", gs)
	}
}

func TestTargetErrorHints(t *testing.T) {
	le := func(status int, code, msg string) *snapshot.Summary {
		return &snapshot.Summary{Provenance: snapshot.Provenance{Target: snapshot.Target{Endpoint: "http://e"}},
			Coverage: snapshot.Coverage{ListBucketsError: &snapshot.Error{StatusCode: status, Code: code, Message: msg}}}
	}
	cases := []struct {
		name    string
		sum     *snapshot.Summary
		dialect string
		hint    string
	}{
		{"refused", le(0, "NetworkError", `Get "http://e/": dial tcp 127.0.0.1:1: connect: connection refused`), "oss", "nothing listens there"},
		{"dns", le(0, "NetworkError", "dial tcp: lookup nowhere: no such host"), "oss", "does not resolve"},
		{"unknown key oss", le(403, "InvalidAccessKeyId", "x"), "oss", "OSS_ACCESS_KEY_ID"},
		{"unknown key s3", le(403, "InvalidAccessKeyId", "x"), "s3", "AWS_ACCESS_KEY_ID"},
		{"bad secret", le(403, "SignatureDoesNotMatch", "x"), "s3", "AWS_SECRET_ACCESS_KEY"},
		{"region", le(400, "AuthorizationHeaderMalformed", "the region 'x' is wrong"), "s3", "--region"},
		{"denied", le(403, "AccessDenied", "no"), "oss", "permissions"},
		{"server", le(503, "ServiceUnavailable", "busy"), "oss", "try again"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			te := targetError(c.sum, Target{Dialect: c.dialect, Region: "r"}, "")
			if te == nil || !strings.Contains(te.Error(), c.hint) || strings.Contains(te.Error(), "\n") {
				t.Fatalf("got %v, want one line with %q", te, c.hint)
			}
		})
	}
	read := &snapshot.Summary{Coverage: snapshot.Coverage{Buckets: 2, BucketsRead: 1, ListBucketsError: &snapshot.Error{Message: "x"}}}
	if te := targetError(read, Target{}, ""); te != nil {
		t.Errorf("a target with a bucket read is not unreadable: %v", te)
	}
	none := &snapshot.Summary{Coverage: snapshot.Coverage{Buckets: 2},
		Buckets: []snapshot.Bucket{{Name: "a", EncryptionError: &snapshot.Error{StatusCode: 403, Code: "AccessDenied", Message: "no"}}, {Name: "b"}}}
	if te := targetError(none, Target{}, ""); te == nil || !strings.Contains(te.Error(), "no bucket could be read") {
		t.Errorf("nothing readable: %v", te)
	}
	if te := targetError(&snapshot.Summary{}, Target{}, "prod-*"); te == nil || !strings.Contains(te.Error(), "matched no bucket") {
		t.Errorf("a glob matching nothing: %v", te)
	}
	if te := targetError(&snapshot.Summary{}, Target{}, ""); te != nil {
		t.Errorf("an empty account is not an error: %v", te)
	}
}

// TestKeysWithoutRecordAreAGap: a key an object or a bucket default names
// that the snapshot holds no record of has an unknown state too; by id,
// ARN or resolved id a record covers it. A key ARN (how S3 names an
// object's key) and the bare id of a record are one key: covered when the
// record is described (whatever ARN form KMS gave), one unknown key when
// it is not, never two.
func TestKeysWithoutRecordAreAGap(t *testing.T) {
	sum := &snapshot.Summary{
		Buckets: []snapshot.Bucket{{Name: "a", Encryption: &snapshot.Rule{Method: "kms-cmk", KMSMasterKeyID: "default-key"}}},
		Keys: []snapshot.Key{
			{KeyID: "alias/x", ResolvedKeyID: "k-resolved", State: "Enabled"},
			{KeyID: "k-arn", Arn: "arn:aws:kms:r:1:key/k-arn", State: "Enabled"},
			{KeyID: "k-acs", Arn: "acs:kms:r:1:key/k-acs", State: "Enabled"},
			{KeyID: "k-err", Error: &snapshot.Error{Scope: "key", Resource: "k-err", Code: "UnrecognizedClientException"}},
		},
		ObjectKeyIDs: []string{"k-resolved", "arn:aws:kms:r:1:key/k-arn", "k-none", "alias/acs/oss",
			"arn:aws:kms:r:1:key/k-acs", "arn:aws:kms:r:1:key/k-err"},
	}
	gs := Gaps(sum, nil, nil)
	if len(gs) != 1 || gs[0].Kind != findings.GapKeys || gs[0].Count != 3 ||
		!strings.Contains(gs[0].Detail, "k-none") || !strings.Contains(gs[0].Detail, "default-key") || !strings.Contains(gs[0].Detail, "k-err") {
		t.Fatalf("gaps %+v", gs)
	}
}
