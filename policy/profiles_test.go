package policy

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/snapshot"
)

// ruleUIDs lists findings as "RULE resource-uid", sorted.
func ruleUIDs(fs []findings.Finding) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		out = append(out, f.Rule+" "+f.Resource.UID)
	}
	slices.Sort(out)
	return out
}

func withRotation(k snapshot.Key, auto, interval string) snapshot.Key {
	k.AutomaticRotation, k.RotationInterval = auto, interval
	return k
}

// profileEstate is a crafted snapshot with every kind of object
// encryption, several of them in a bucket whose default is a customer CMK.
func profileEstate() *MemorySnapshot {
	sm4 := obj("b-cmk", "sm4.bin", snapshot.MethodOther, "")
	kmsSM4 := obj("b-cmk", "kms-sm4.bin", snapshot.MethodKMSCMK, cmk)
	kmsSM4.DataEncryption = "SM4"
	oldAES := obj("b-cmk", "doc.txt", snapshot.MethodOSSManaged, "")
	oldAES.VersionID, oldAES.Noncurrent = "v1", true
	curCMK := obj("b-cmk", "doc.txt", snapshot.MethodKMSCMK, cmk)
	curCMK.VersionID = "v2"
	oldPlain := obj("b-cmk", "doc.txt", snapshot.MethodNone, "")
	oldPlain.VersionID, oldPlain.Noncurrent = "v0", true
	cmkBucket := bucket("b-cmk", ruleCMK,
		obj("b-cmk", "cmk.bin", snapshot.MethodKMSCMK, cmk),
		obj("b-cmk", "aes.bin", snapshot.MethodOSSManaged, ""),
		obj("b-cmk", "svc.bin", snapshot.MethodKMSDefault, svcKey),
		sm4, kmsSM4, oldPlain, oldAES, curCMK,
		obj("b-cmk", "plain.bin", snapshot.MethodNone, ""),
	)
	cmkBucket.Versioning, cmkBucket.VersionsInspected = "Enabled", true
	return mem("s-prof",
		bucket("b-aes", ruleAES, obj("b-aes", "aes.bin", snapshot.MethodOSSManaged, "")),
		cmkBucket,
		bucket("b-none", nil, obj("b-none", "plain.bin", snapshot.MethodNone, "")),
		bucket("b-svc", ruleSvc, obj("b-svc", "svc.bin", snapshot.MethodKMSDefault, svcKey)),
	)
}

// TestBuiltinProfiles evaluates one crafted estate under each built-in
// profile and checks the exact findings: the object rules judge every
// object against the profile (SSE-013), not only the bucket default.
func TestBuiltinProfiles(t *testing.T) {
	unencrypted := []string{
		"SSE-011 oss://b-cmk/doc.txt?versionId=v0", // noncurrent: SSE-011, not SSE-004
		"SSE-001 oss://b-none",
		"SSE-004 oss://b-cmk/plain.bin",
		"SSE-004 oss://b-none/plain.bin",
	}
	for _, c := range []struct {
		profile string
		want    []string
	}{
		{"default", unencrypted},
		{"cis-service-key", append(slices.Clone(unencrypted),
			"SSE-002 oss://b-aes",
			"SSE-013 oss://b-aes/aes.bin",
			"SSE-013 oss://b-cmk/aes.bin",
			"SSE-013 oss://b-cmk/doc.txt?versionId=v1",
			"SSE-013 oss://b-cmk/kms-sm4.bin",
			"SSE-013 oss://b-cmk/sm4.bin",
		)},
		{"byok", append(slices.Clone(unencrypted),
			"SSE-002 oss://b-aes",
			"SSE-002 oss://b-svc",
			"SSE-013 oss://b-aes/aes.bin",
			"SSE-013 oss://b-cmk/aes.bin",
			"SSE-013 oss://b-cmk/doc.txt?versionId=v1",
			"SSE-013 oss://b-cmk/kms-sm4.bin",
			"SSE-013 oss://b-cmk/sm4.bin",
			"SSE-013 oss://b-cmk/svc.bin",
			"SSE-013 oss://b-svc/svc.bin",
		)},
	} {
		t.Run(c.profile, func(t *testing.T) {
			p := BuiltinProfiles()[c.profile]
			e := load(t, Options{Profile: &p})
			m := profileEstate()
			slices.Sort(c.want)
			fromMem := eval(t, e, m, nil, nil)
			if got := ruleUIDs(fromMem); !slices.Equal(got, c.want) {
				t.Errorf("findings\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(c.want, "\n     "))
			}
			// The engine's file path (index, fast reader) agrees.
			fromFile, err := e.EvaluateSnapshot(context.Background(), writeSnapshot(t, t.TempDir(), "s.json", m), "", nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := ruleUIDs(fromFile); !slices.Equal(got, c.want) {
				t.Errorf("from a file: %v", got)
			}
			for _, f := range ofRule(fromMem, "SSE-013") {
				if nc := f.Resource.VersionID == "v1"; f.Observed["noncurrent"] != nc || strings.HasPrefix(f.Message, "noncurrent version v1: ") != nc {
					t.Errorf("SSE-013 noncurrent %v: %+v", nc, f)
				}
				if f.Severity != findings.SeverityMedium || f.Category != findings.CategoryEncryption || len(f.Observed["reasons"].([]any)) == 0 || !strings.Contains(f.Message, `does not meet profile "`+c.profile+`"`) {
					t.Errorf("SSE-013 finding %+v", f)
				}
			}
		})
	}
}

// TestKeyReferencesResolved: an allow-list names a key by id, alias or ARN
// and buckets and objects name it otherwise; the keys are compared after
// resolution, through the input the engine builds (keys indexed by id, ARN
// and resolved id).
func TestKeyReferencesResolved(t *testing.T) {
	const (
		alias  = "alias/payments"
		s3Key  = "77777777-aaaa-bbbb-cccc-dddddddddddd"
		s3ARN  = "arn:aws:kms:us-east-1:111122223333:key/" + s3Key
		acsARN = "acs:kms:" + region + ":1234567890:key/" + cmk
	)
	estate := func(ref string) *MemorySnapshot {
		m := mem("s-ref",
			bucket("b1", ruleWith(ref), obj("b1", "a.bin", snapshot.MethodKMSCMK, ref)),
			bucket("b2", ruleWith(cmk2), obj("b2", "other.bin", snapshot.MethodKMSCMK, cmk2)),
		)
		// The record the scanner writes for an alias (scan.Config.ExtraKeyRefs
		// or a bucket naming it): the reference, its key's ARN and id.
		aliasRec := key(cmk, nil)
		aliasRec.KeyID, aliasRec.ResolvedKeyID = alias, cmk
		m.Keys = append(m.Keys, aliasRec)
		return m
	}
	cases := []struct{ allow, ref string }{
		{alias, cmk},    // allow-list by alias, estate by id
		{cmk, alias},    // allow-list by id, estate by alias
		{alias, acsARN}, // allow-list by alias, estate by ARN
		{acsARN, alias}, // allow-list by ARN, estate by alias
		{cmk, acsARN},   // allow-list by id, estate by ARN
		{acsARN, cmk},   // allow-list by ARN, estate by id
		{s3Key, s3ARN},  // an S3 key ARN against a bare id (no key record)
		{s3ARN, s3Key},
	}
	for _, c := range cases {
		t.Run(c.allow+" vs "+c.ref, func(t *testing.T) {
			p := BuiltinProfiles()["byok"]
			p.AllowedCMKIDs = []string{c.allow}
			e := load(t, Options{Profile: &p})
			var got []string
			for _, f := range eval(t, e, estate(c.ref), nil, nil) {
				if f.Rule == "SSE-002" || f.Rule == "SSE-006" {
					got = append(got, f.Rule+" "+f.Resource.UID)
				}
			}
			slices.Sort(got)
			// Only b2, whose default and object use cmk2, is outside the list.
			want := []string{"SSE-002 oss://b2", "SSE-006 oss://b2/other.bin"}
			if !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

// TestUnrecognisedMethod: an object record with no method, an empty or an
// unknown one (without the error that explains "unknown") is SSE-014,
// never a pass, through every reader of the engine.
func TestUnrecognisedMethod(t *testing.T) {
	e := load(t, Options{})
	unknown := obj("b1", "unknown.bin", snapshot.MethodUnknown, "")
	failed := obj("b1", "failed.bin", snapshot.MethodUnknown, "")
	failed.Error = &snapshot.Error{Scope: "object", Resource: "b1/failed.bin", StatusCode: 500, Message: "boom"}
	m := mem("s-unk", bucket("b1", ruleCMK,
		obj("b1", "ok.bin", snapshot.MethodKMSCMK, cmk),
		obj("b1", "empty.bin", "", ""),
		obj("b1", "typo.bin", "kms-cmkk", cmk),
		obj("b1", "nomethod.bin", snapshot.MethodKMSCMK, cmk),
		unknown, failed,
	))
	want := []string{
		"SSE-008 oss://b1", // failed.bin: a coverage gap, not SSE-014
		"SSE-014 oss://b1/empty.bin",
		"SSE-014 oss://b1/nomethod.bin",
		"SSE-014 oss://b1/typo.bin",
		"SSE-014 oss://b1/unknown.bin",
	}
	// A file whose nomethod.bin has no "method" member at all: package
	// snapshot's writer always writes one, so it is cut out of the text.
	p := writeSnapshot(t, t.TempDir(), "s.json", m)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(data), `"key":"nomethod.bin"`)
	j := strings.Index(string(data[i:]), `,"method":"kms-cmk"`)
	if i < 0 || j < 0 {
		t.Fatalf("snapshot layout changed: %s", data)
	}
	cut := append(append([]byte{}, data[:i+j]...), data[i+j+len(`,"method":"kms-cmk"`):]...)
	if err := os.WriteFile(p, cut, 0o600); err != nil {
		t.Fatal(err)
	}
	fromFile, err := e.EvaluateSnapshot(context.Background(), p, "", nil)
	if err != nil {
		t.Fatalf("the engine refuses a record without method: %v (then this test must check that refusal instead)", err)
	}
	if got := ruleUIDs(fromFile); !slices.Equal(got, want) {
		t.Errorf("from the file\n got %v\nwant %v", got, want)
	}
	for _, f := range ofRule(fromFile, "SSE-014") {
		if f.Resource.Key == "nomethod.bin" && (f.Observed["method"] != nil || !strings.Contains(f.Message, "no method")) {
			t.Errorf("missing method: %+v", f)
		}
		if f.Severity != findings.SeverityHigh || f.Status != findings.StatusFail {
			t.Errorf("SSE-014 %s: severity %v status %s, want high fail", f.Resource.Key, f.Severity, f.Status)
		}
	}
	// Package snapshot's strict reader (the Source every non-file caller
	// uses) reads the missing member as "": the same findings.
	fromSource, err := e.Evaluate(context.Background(), strictSource(p), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ruleUIDs(fromSource); !slices.Equal(got, want) {
		t.Errorf("through package snapshot\n got %v\nwant %v", got, want)
	}
}

// strictSource reads a file through package snapshot only (no fast path).
type strictSource string

func (s strictSource) ReadSummary() (snapshot.Summary, error) { return snapshot.ReadSummary(string(s)) }
func (s strictSource) EachBucket(fn func(snapshot.Bucket) error) error {
	return snapshot.EachBucket(string(s), fn)
}

// TestKeyFindingsAcrossBuckets: a key is reported once, whatever the number
// of buckets using it and the name each uses (rotation is judged once per
// scan; pending deletion per bucket, each bucket yielding the same finding),
// while the per-object findings keep every object.
func TestKeyFindingsAcrossBuckets(t *testing.T) {
	const alias = "alias/slow"
	slow := withRotation(key("eeeeeeee-0000-0000-0000-000000000001", nil), "Disabled", "")
	aliasRec := slow
	aliasRec.KeyID, aliasRec.ResolvedKeyID = alias, slow.KeyID
	m := mem("s-keys",
		bucket("b1", ruleWith(alias), obj("b1", "x", snapshot.MethodKMSCMK, slow.KeyID), obj("b1", "p1", snapshot.MethodKMSCMK, keyPend)),
		bucket("b2", ruleWith(slow.KeyID), obj("b2", "y", snapshot.MethodKMSCMK, slow.Arn), obj("b2", "p2", snapshot.MethodKMSCMK, keyPend), obj("b2", "p3", snapshot.MethodKMSCMK, keyPend)),
		bucket("b3", ruleCMK, obj("b3", "p4", snapshot.MethodKMSCMK, keyPend)),
	)
	m.Keys = append(m.Keys, slow, aliasRec)
	want := []string{
		"SSE-005 oss://b1/p1", "SSE-005 oss://b2/p2", "SSE-005 oss://b2/p3", "SSE-005 oss://b3/p4",
		"SSE-015 kms://" + region + "/" + slow.KeyID,
		"SSE-016 kms://" + region + "/" + keyPend,
	}
	for _, workers := range []int{1, 4} {
		e := load(t, Options{Workers: workers})
		p := writeSnapshot(t, t.TempDir(), "s.json", m)
		fs, err := e.EvaluateSnapshot(context.Background(), p, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := ruleUIDs(fs); !slices.Equal(got, want) {
			t.Errorf("workers %d\n got %v\nwant %v", workers, got, want)
		}
		for _, f := range fs {
			if f.ID != findings.ID(f.Rule, f.Resource) {
				t.Errorf("%s: id %s is not hash(rule, resource)", f.Rule, f.ID)
			}
			switch f.Rule {
			case "SSE-016":
				if f.Severity != findings.SeverityCritical || f.Observed["delete_date"] != "2024-06-08T00:00:00Z" || f.Resource.KMSKeyID != keyPend {
					t.Errorf("SSE-016 %+v", f)
				}
			case "SSE-015":
				if f.Observed["reasons"].([]any)[0] != "automatic rotation is Disabled" {
					t.Errorf("SSE-015 %+v", f)
				}
			}
		}
	}
	// A stricter profile flags the yearly-rotating cmk too.
	p := DefaultProfile()
	p.MaxRotationDays = 90
	e := load(t, Options{Profile: &p})
	// (Keys as a scan records them: only those the estate names.)
	m = mem("s", bucket("b", ruleCMK, goodObjects("b")...))
	m.Keys = m.Keys[:1]
	got := ofRule(eval(t, e, m, nil, nil), "SSE-015")
	if len(got) != 1 || got[0].Resource.UID != "kms://"+region+"/"+cmk || fmt.Sprint(got[0].Expected["max_rotation_days"]) != "90" {
		t.Errorf("max_rotation_days 90: %+v", got)
	}
}
