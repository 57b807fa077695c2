package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	kmssdk "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/history"
	"github.com/sseaudit/sseaudit/snapshot"
)

// estate is what seedEstate wrote, i.e. what a scan must find.
type estate struct {
	prefix     string
	cmk, cmk2  string // enabled CMK; CMK disabled after its object was written
	pending    string // CMK scheduled for deletion after its object was written
	missing    string // a key id no KMS knows
	serviceKey string // alias/acs/oss resolved
	buckets    []snapshot.Bucket
}

const missingKey = "0badc0de-0000-4000-8000-000000000000"

// seedEstate builds, through c, an unencrypted bucket, an AES256 bucket, a
// KMS default-key bucket, a CMK bucket, a bucket whose CMK is disabled
// afterwards, one whose CMK is scheduled for deletion afterwards, a
// bucket whose objects predate its default, a bucket whose
// rule names a key that does not exist, and a bucket outside the glob.
func seedEstate(t *testing.T, c *client.Client, prefix string) estate {
	t.Helper()
	ctx := context.Background()
	e := estate{prefix: prefix, cmk: createKey(t, prefix+" cmk"), cmk2: createKey(t, prefix+" cmk to disable"), missing: missingKey}
	sk, err := rootKMS.DescribeKey(&kmssdk.DescribeKeyRequest{KeyId: tea.String(ServiceKeyAlias)})
	if err != nil {
		t.Fatal(err)
	}
	e.serviceKey = tea.StringValue(sk.Body.KeyMetadata.KeyId)
	n := func(s string) string { return prefix + "-" + s }
	// The snapshot records the key as the store answered it: S3 names it
	// by ARN, OSS by its id.
	obj := func(r client.ObjectResult, key, sse, kid, method string) snapshot.Object {
		if kid != "" && c.Dialect() == client.S3 {
			kid = "arn:aws:kms:" + srv.Region + ":" + srv.KMSAccount() + ":key/" + kid
		}
		return snapshot.Object{Key: key, Size: r.Size, ETag: r.ETag, SSE: sse, KMSKeyID: kid, Method: method}
	}
	aes := &client.SSE{Algorithm: client.AlgorithmAES256}

	mkBucket(t, c, n("plain"), nil)
	plain := snapshot.Bucket{Name: n("plain"), Objects: []snapshot.Object{
		obj(put(t, c, n("plain"), "n1", nil), "n1", "", "", snapshot.MethodNone),
		obj(put(t, c, n("plain"), "explicit-aes", aes), "explicit-aes", "AES256", "", snapshot.MethodOSSManaged),
	}}
	mkBucket(t, c, n("aes"), aes)
	aesB := snapshot.Bucket{Name: n("aes"), Encryption: &snapshot.Rule{Algorithm: "AES256", Method: snapshot.MethodOSSManaged},
		Objects: []snapshot.Object{obj(put(t, c, n("aes"), "a1", nil), "a1", "AES256", "", snapshot.MethodOSSManaged)}}
	mkBucket(t, c, n("kmsdef"), &client.SSE{Algorithm: client.AlgorithmKMS})
	kmsdef := snapshot.Bucket{Name: n("kmsdef"), Encryption: &snapshot.Rule{Algorithm: "KMS", Method: snapshot.MethodKMSDefault},
		Objects: []snapshot.Object{obj(put(t, c, n("kmsdef"), "k1", nil), "k1", "KMS", e.serviceKey, snapshot.MethodKMSDefault)}}
	mkBucket(t, c, n("cmk"), &client.SSE{Algorithm: client.AlgorithmKMS, KeyID: e.cmk})
	cmk := snapshot.Bucket{Name: n("cmk"), Encryption: &snapshot.Rule{Algorithm: "KMS", KMSMasterKeyID: e.cmk, Method: snapshot.MethodKMSCMK},
		Objects: []snapshot.Object{
			obj(put(t, c, n("cmk"), "c1", nil), "c1", "KMS", e.cmk, snapshot.MethodKMSCMK),
			obj(put(t, c, n("cmk"), "c2-aes", aes), "c2-aes", "AES256", "", snapshot.MethodOSSManaged),
		}}
	mkBucket(t, c, n("disabled"), &client.SSE{Algorithm: client.AlgorithmKMS, KeyID: e.cmk2})
	disabled := snapshot.Bucket{Name: n("disabled"), Encryption: &snapshot.Rule{Algorithm: "KMS", KMSMasterKeyID: e.cmk2, Method: snapshot.MethodKMSCMK},
		Objects: []snapshot.Object{obj(put(t, c, n("disabled"), "d1", nil), "d1", "KMS", e.cmk2, snapshot.MethodKMSCMK)}}
	if _, err := rootKMS.DisableKey(&kmssdk.DisableKeyRequest{KeyId: tea.String(e.cmk2)}); err != nil {
		t.Fatal(err)
	}
	e.pending = createKey(t, prefix+" cmk to delete")
	mkBucket(t, c, n("pending"), &client.SSE{Algorithm: client.AlgorithmKMS, KeyID: e.pending})
	pending := snapshot.Bucket{Name: n("pending"), Encryption: &snapshot.Rule{Algorithm: "KMS", KMSMasterKeyID: e.pending, Method: snapshot.MethodKMSCMK},
		Objects: []snapshot.Object{obj(put(t, c, n("pending"), "p1", nil), "p1", "KMS", e.pending, snapshot.MethodKMSCMK)}}
	if _, err := rootKMS.ScheduleKeyDeletion(&kmssdk.ScheduleKeyDeletionRequest{KeyId: tea.String(e.pending), PendingWindowInDays: tea.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	mkBucket(t, c, n("legacy"), nil)
	old1 := obj(put(t, c, n("legacy"), "old1", nil), "old1", "", "", snapshot.MethodNone)
	old2 := obj(put(t, c, n("legacy"), "old2", nil), "old2", "", "", snapshot.MethodNone)
	if err := c.PutBucketEncryption(ctx, n("legacy"), client.Rule{Algorithm: client.AlgorithmKMS, KMSMasterKeyID: e.cmk}); err != nil {
		t.Fatal(err)
	}
	legacy := snapshot.Bucket{Name: n("legacy"), Encryption: &snapshot.Rule{Algorithm: "KMS", KMSMasterKeyID: e.cmk, Method: snapshot.MethodKMSCMK},
		Objects: []snapshot.Object{old1, old2, obj(put(t, c, n("legacy"), "new1", nil), "new1", "KMS", e.cmk, snapshot.MethodKMSCMK)}}
	mkBucket(t, c, n("missing"), nil)
	if err := c.PutBucketEncryption(ctx, n("missing"), client.Rule{Algorithm: client.AlgorithmKMS, KMSMasterKeyID: e.missing}); err != nil {
		t.Fatal(err)
	}
	missing := snapshot.Bucket{Name: n("missing"), Encryption: &snapshot.Rule{Algorithm: "KMS", KMSMasterKeyID: e.missing, Method: snapshot.MethodKMSCMK}, Objects: []snapshot.Object{}}
	mkBucket(t, c, "zz-outside-"+prefix, nil)
	put(t, c, "zz-outside-"+prefix, "x", nil)

	e.buckets = []snapshot.Bucket{aesB, cmk, disabled, kmsdef, legacy, missing, pending, plain}
	for i := range e.buckets {
		b := &e.buckets[i]
		b.Region = srv.Region
		for j := range b.Objects {
			b.Objects[j].Bucket = b.Name
		}
		b.ObjectsListed, b.ObjectsInspected = int64(len(b.Objects)), int64(len(b.Objects))
		sort.Slice(b.Objects, func(i, j int) bool { return b.Objects[i].Key < b.Objects[j].Key })
	}
	return e
}

// normalise makes a scanned bucket comparable: it checks and clears what
// varies run to run (times, raw evidence, storage class) and sorts the
// objects by key.
func normalise(t *testing.T, b snapshot.Bucket, since time.Time) snapshot.Bucket {
	t.Helper()
	if b.ReadAt.Before(since) || b.CreationDate.IsZero() {
		t.Errorf("%s: read_at %v, creation_date %v", b.Name, b.ReadAt, b.CreationDate)
	}
	if b.Encryption != nil {
		if !strings.Contains(b.Encryption.Raw, "ServerSideEncryption") {
			t.Errorf("%s: rule raw evidence %q", b.Name, b.Encryption.Raw)
		}
		r := *b.Encryption
		r.Raw = ""
		b.Encryption = &r
	}
	// Access settings (access_test.go checks them): every estate bucket
	// is private, and its policy is read (none, or unknown on an endpoint
	// without policies).
	if b.ACL == nil || b.ACL.Canned != "private" || b.ACL.PublicRead || b.ACL.Raw == "" || b.Policy == nil ||
		(b.Policy.Status != snapshot.PolicyNone && b.Policy.Status != snapshot.PolicyUnknown) {
		t.Errorf("%s: acl %+v, policy %+v", b.Name, b.ACL, b.Policy)
	}
	b.ACL, b.Policy = nil, nil
	b.ReadAt, b.CreationDate = time.Time{}, time.Time{}
	objs := append([]snapshot.Object{}, b.Objects...)
	for i := range objs {
		o := &objs[i]
		if o.LastModified.IsZero() || o.LastModified.After(time.Now().Add(time.Minute)) {
			t.Errorf("%s/%s: last_modified %v", b.Name, o.Key, o.LastModified)
		}
		o.LastModified, o.StorageClass = time.Time{}, ""
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].Key < objs[j].Key })
	b.Objects = objs
	return b
}

func mustJSON(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func scanFile(t *testing.T, cfg Config) (snapshot.Summary, string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "snapshot.json")
	sum, err := RunToFile(context.Background(), cfg, path)
	return sum, path, err
}

func readBuckets(t *testing.T, path string) []snapshot.Bucket {
	t.Helper()
	var out []snapshot.Bucket
	if err := snapshot.EachBucket(path, func(b snapshot.Bucket) error { out = append(out, b); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEstate seeds the same estate in each dialect (through that
// dialect) and checks the snapshot exactly.
func TestEstate(t *testing.T) {
	for _, v := range []struct {
		name    string
		dialect client.Dialect
		sdk     string
	}{
		{"oss", client.OSS, ""},
		{"s3", client.S3, ""},
		{"oss-sdk-v2", client.OSS, client.OSSSDKV2},
	} {
		t.Run(v.name, func(t *testing.T) {
			root := rootClient(t, v.dialect)
			prefix := "est-" + strings.ReplaceAll(v.name, "-", "")
			e := seedEstate(t, root, prefix)
			since := time.Now().Add(-time.Second)
			cfg := Config{
				Client: clientFor(t, v.dialect, v.sdk, srv.Endpoint, rootAK, rootSK, 30*time.Second), KMS: rootKMS,
				BucketGlob: prefix + "-*", ToolVersion: "test", TargetInfo: snapshot.Target{Kind: "reference", Principal: rootAK},
			}
			sum, path, err := scanFile(t, cfg)
			if err != nil {
				t.Fatal(err)
			}
			got := readBuckets(t, path)
			for i := range got {
				got[i] = normalise(t, got[i], since)
				// The S3 reference reports BlockedEncryptionTypes (SSE-C
				// blocked by default) with every rule; OSS has no such
				// setting.
				wantBlocked := v.dialect == client.S3 && got[i].Encryption != nil
				if (got[i].SSECBlocked != nil) != wantBlocked || (wantBlocked && !*got[i].SSECBlocked) {
					t.Errorf("%s: ssec_blocked %v, want blocked %v", got[i].Name, got[i].SSECBlocked, wantBlocked)
				}
				got[i].SSECBlocked = nil
			}
			if g, w := mustJSON(got), mustJSON(e.buckets); g != w {
				t.Errorf("buckets differ:\n%s", lineDiff(g, w))
			}

			// Keys: each referenced key once, states and classification.
			if len(sum.Keys) != 5 {
				t.Fatalf("keys: %s", mustJSON(sum.Keys))
			}
			byID := map[string]snapshot.Key{}
			for _, k := range sum.Keys {
				byID[k.KeyID] = k
				if k.Region != srv.Region || k.ReadAt.IsZero() || k.Error != nil {
					t.Errorf("key %s: %s", k.KeyID, mustJSON(k))
				}
			}
			account := srv.KMSAccount()
			for _, w := range []struct {
				id, state, creator string
				service, missing   bool
			}{
				{e.cmk, "Enabled", account, false, false},
				{e.cmk2, "Disabled", account, false, false},
				{e.pending, "PendingDeletion", account, false, false},
				{e.serviceKey, "Enabled", CreatorOSS, true, false},
				{e.missing, "", "", false, true},
			} {
				k, ok := byID[w.id]
				if !ok || k.State != w.state || k.Creator != w.creator || k.ServiceKey != w.service || k.Missing != w.missing {
					t.Errorf("key %s: got %s, want state %q creator %q service %v missing %v", w.id, mustJSON(k), w.state, w.creator, w.service, w.missing)
				}
				if !w.missing && (k.Arn == "" || k.CreationDate == "") {
					t.Errorf("key %s: no arn or creation date: %s", w.id, mustJSON(k))
				}
				if (k.DeleteDate != "") != (w.state == "PendingDeletion") {
					t.Errorf("key %s: delete date %q in state %s", w.id, k.DeleteDate, k.State)
				}
			}

			// Provenance and coverage.
			p := sum.Provenance
			if p.ScanID == "" || p.StartedAt.Before(since) || p.ToolVersion != "test" || p.BucketFilter != prefix+"-*" ||
				p.Target != (snapshot.Target{Kind: "reference", Dialect: string(v.dialect), Endpoint: srv.Endpoint, Principal: rootAK}) ||
				strings.Join(p.Regions, ",") != srv.Region {
				t.Errorf("provenance: %s", mustJSON(p))
			}
			want := snapshot.Coverage{Buckets: 8, BucketsRead: 8, ObjectsListed: 11, ObjectsInspected: 11, KeysReferenced: 5, KeysDescribed: 5, Errors: []snapshot.Error{}}
			if mustJSON(sum.Coverage) != mustJSON(want) {
				t.Errorf("coverage:\n got %s\nwant %s", mustJSON(sum.Coverage), mustJSON(want))
			}
			if !sum.Complete || sum.FinishedAt.Before(p.StartedAt) {
				t.Errorf("complete %v, finished %v", sum.Complete, sum.FinishedAt)
			}
			// What Run returned is what the file says.
			read, err := snapshot.ReadSummary(path)
			if err != nil {
				t.Fatal(err)
			}
			if mustJSON(read) != mustJSON(sum) {
				t.Errorf("returned summary differs from the file:\n%s\n%s", mustJSON(sum), mustJSON(read))
			}
			if data, _ := os.ReadFile(path); bytes.Contains(data, []byte(rootSK)) {
				t.Error("the snapshot holds the secret")
			}
			if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("snapshot mode: %v %v", st.Mode(), err)
			}
		})
	}
}

// TestNoKMS: without a KMS client every referenced key is recorded with
// an error; a service key id given in the Config still classifies.
func TestNoKMS(t *testing.T) {
	root := rootClient(t, client.OSS)
	e := seedEstate(t, root, "nokms")
	for _, tc := range []struct {
		name       string
		serviceIDs map[string]string
		wantMethod string
	}{
		{"nothing known", nil, snapshot.MethodKMSCMK},
		{"service key given", map[string]string{srv.Region: e.serviceKey}, snapshot.MethodKMSDefault},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sum, path, err := scanFile(t, Config{Client: root, BucketGlob: "nokms-*", ServiceKeyIDs: tc.serviceIDs})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Coverage.KeysReferenced != 5 || sum.Coverage.KeysDescribed != 0 {
				t.Errorf("coverage: %s", mustJSON(sum.Coverage))
			}
			for _, k := range sum.Keys {
				if k.Error == nil || k.Error.Message != "no KMS endpoint given" || k.Error.Scope != "key" || k.State != "" {
					t.Errorf("key %s: %s", k.KeyID, mustJSON(k))
				}
			}
			for _, b := range readBuckets(t, path) {
				if b.Name != "nokms-kmsdef" {
					continue
				}
				if m := b.Objects[0].Method; m != tc.wantMethod {
					t.Errorf("object under the service key: method %s, want %s", m, tc.wantMethod)
				}
				if b.Encryption.Method != snapshot.MethodKMSDefault {
					t.Errorf("rule without key id: method %s", b.Encryption.Method)
				}
			}
			if len(sum.Coverage.Errors) != 5 {
				t.Errorf("coverage errors: %s", mustJSON(sum.Coverage.Errors))
			}
		})
	}
}

// TestErrorsAsData scans as a principal that cannot read one bucket,
// through a proxy that fails one rule read, makes one HEAD succeed only on
// the third attempt, fails one HEAD every time and delays one past the
// client's timeout. Everything is recorded; nothing is dropped.
func TestErrorsAsData(t *testing.T) {
	root := rootClient(t, client.OSS)
	mkBucket(t, root, "err-ok", nil)
	for _, k := range []string{"good", "flaky", "broken", "slow"} {
		put(t, root, "err-ok", k, nil)
	}
	mkBucket(t, root, "err-rule", &client.SSE{Algorithm: client.AlgorithmAES256})
	put(t, root, "err-rule", "r1", nil)
	mkBucket(t, root, "secret-vault", &client.SSE{Algorithm: client.AlgorithmAES256})
	put(t, root, "secret-vault", "s1", nil)

	for _, d := range []client.Dialect{client.OSS, client.S3} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			p := startProxy(t,
				&rule{method: "HEAD", path: "/err-ok/flaky", status: 503, times: 2},
				&rule{method: "HEAD", path: "/err-ok/broken", status: 503, times: -1},
				&rule{method: "HEAD", path: "/err-ok/slow", delay: 3 * time.Second},
				&rule{method: "GET", path: "/err-rule", query: "encryption", status: 500, times: -1},
				&rule{method: "GET", path: "/err-rule", query: "versioning", status: 500, times: -1},
			)
			cfg := Config{
				Client: clientFor(t, d, "", p.URL, limitedAK, limitedSK, 700*time.Millisecond), KMS: rootKMS,
				BucketGlob: "err-*", Buckets: []string{"secret-vault"},
				Retry: Retry{Attempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond},
			}
			sum, path, err := scanFile(t, cfg)
			if err != nil {
				t.Fatal(err)
			}
			bs := readBuckets(t, path)
			if len(bs) != 3 || bs[0].Name != "err-ok" || bs[1].Name != "err-rule" || bs[2].Name != "secret-vault" {
				t.Fatalf("buckets: %s", mustJSON(bs))
			}
			objs := map[string]snapshot.Object{}
			for _, o := range bs[0].Objects {
				objs[o.Key] = o
			}
			check := func(what string, ok bool, v any) {
				t.Helper()
				if !ok {
					t.Errorf("%s: %s", what, mustJSON(v))
				}
			}
			o := objs["good"]
			check("good", o.Error == nil && o.Attempts == 0 && o.Method == snapshot.MethodNone, o)
			o = objs["flaky"]
			check("flaky (503 twice, then served)", o.Error == nil && o.Attempts == 3 && o.Method == snapshot.MethodNone, o)
			o = objs["broken"]
			check("broken (503 always)", o.Error != nil && o.Error.StatusCode == 503 && o.Error.Attempts == 3 && o.Error.Scope == "object" &&
				o.Error.Resource == "err-ok/broken" && o.Method == snapshot.MethodUnknown && o.ETag != "" && o.Size > 0, o)
			o = objs["slow"]
			check("slow (past the timeout)", o.Error != nil && o.Error.Code == CodeTimeout && o.Error.Attempts == 3 && o.Method == snapshot.MethodUnknown, o)
			b := bs[0]
			check("err-ok counts", b.ObjectsListed == 4 && b.ObjectsInspected == 2 && b.ListError == nil && b.EncryptionError == nil, b)
			// Unversioned (S3) or no versioning API at all (OSS, 501): neither is an error.
			check("err-ok versioning", b.Versioning == "" && b.VersioningError == nil && !b.VersionsInspected, b)

			b = bs[1]
			check("err-rule (rule read fails)", b.Encryption == nil && b.EncryptionError != nil && b.EncryptionError.StatusCode == 500 &&
				b.EncryptionError.Code == "InternalError" && b.EncryptionError.Attempts == 3 && b.EncryptionError.Scope == "rule" &&
				b.ObjectsListed == 1 && b.ObjectsInspected == 1 && b.Objects[0].Method == snapshot.MethodOSSManaged, b)
			// A failed versioning read is kept with the bucket, retried like any 5xx.
			check("err-rule (versioning read fails)", b.VersioningError != nil && b.VersioningError.StatusCode == 500 &&
				b.VersioningError.Attempts == 3 && b.VersioningError.Scope == "versioning", b)

			b = bs[2]
			denied := func(e *snapshot.Error) bool {
				return e != nil && e.StatusCode == 403 && e.Code == "AccessDenied" && e.Attempts == 1
			}
			check("secret-vault (not readable)", b.Encryption == nil && denied(b.EncryptionError) && denied(b.ListError) && denied(b.RegionError) &&
				b.ObjectsListed == 0 && len(b.Objects) == 0, b)

			c := sum.Coverage
			check("coverage", c.Buckets == 3 && c.BucketsRead == 1 && c.ObjectsListed == 5 && c.ObjectsInspected == 3 && c.Retries >= 8 && c.ListBucketsError == nil, c)
			scopes := map[string]int{}
			for _, e := range c.Errors {
				scopes[e.Scope+" "+e.Resource]++
			}
			check("secret-vault (ACL not readable)", b.ACL == nil && denied(b.ACLError) && b.ACLError.Scope == "acl", b)
			check("secret-vault (policy not readable)", b.PolicyError != nil && b.PolicyError.Scope == "policy", b)
			want := map[string]int{"bucket secret-vault": 1, "rule err-rule": 1, "rule secret-vault": 1, "list secret-vault": 1, "object err-ok/broken": 1, "object err-ok/slow": 1,
				"acl secret-vault": 1, "policy secret-vault": 1}
			if mustJSON(scopes) != mustJSON(want) {
				t.Errorf("coverage errors: got %v, want %v", scopes, want)
			}
			if !sum.Complete {
				t.Error("a scan with errors that ran to its end must be complete")
			}
		})
	}
}

// TestListBucketsDenied: a principal the listing refuses still scans the
// buckets named explicitly, and the refusal is recorded.
func TestListBucketsDenied(t *testing.T) {
	root := rootClient(t, client.OSS)
	mkBucket(t, root, "err-listed", nil)
	p := startProxy(t, &rule{method: "GET", path: "", status: 503, times: -1})
	sum, path, err := scanFile(t, Config{
		Client: clientFor(t, client.OSS, "", p.URL, rootAK, rootSK, 5*time.Second), KMS: rootKMS, Buckets: []string{"err-listed"},
		Retry: Retry{Attempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	le := sum.Coverage.ListBucketsError
	if le == nil || le.StatusCode != 503 || le.Attempts != 2 || le.Scope != "scan" {
		t.Errorf("list buckets error: %s", mustJSON(sum.Coverage))
	}
	bs := readBuckets(t, path)
	if len(bs) != 1 || bs[0].Name != "err-listed" || bs[0].EncryptionError != nil || bs[0].Region != srv.Region {
		t.Errorf("buckets: %s", mustJSON(bs))
	}
	if !sum.Complete {
		t.Error("a scan asked only for a named bucket it could read is complete even if the listing failed")
	}

	// Asked for a glob, the same refusal leaves the scan unable to know
	// which buckets it missed: never complete.
	sum, _, err = scanFile(t, Config{
		Client: clientFor(t, client.OSS, "", p.URL, rootAK, rootSK, 5*time.Second), KMS: rootKMS, BucketGlob: "err-*",
		Retry: Retry{Attempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Complete || sum.Coverage.ListBucketsError == nil {
		t.Errorf("a scan whose bucket listing failed is marked complete: %s", mustJSON(sum.Coverage))
	}
}

// TestCancel cancels mid-bucket: the snapshot is still a valid document,
// marked incomplete; everything listed is written, buckets not reached are
// recorded as not read, and no request is sent after the cancellation.
func TestCancel(t *testing.T) {
	root := rootClient(t, client.OSS)
	mkBucket(t, root, "cancel-a", nil)
	putMany(t, root, "cancel-a", "obj-", 120)
	mkBucket(t, root, "cancel-b", nil)
	put(t, root, "cancel-b", "b1", nil)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := startProxy(t)
	var afterCancel atomic.Int64
	p.onHead = func(n int64) {
		if n == 30 {
			cancel()
		}
		if n > 30+8 { // in flight at the cancellation: at most Concurrency
			afterCancel.Add(1)
		}
	}
	path := filepath.Join(t.TempDir(), "cancelled.json")
	sum, err := RunToFile(ctx, Config{Client: clientFor(t, client.OSS, "", p.URL, rootAK, rootSK, 10*time.Second), KMS: rootKMS,
		BucketGlob: "cancel-*", Concurrency: 8}, path)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	data, rerr := os.ReadFile(path)
	if rerr != nil || !json.Valid(data) {
		t.Fatalf("snapshot not valid JSON (%v):\n%s", rerr, data)
	}
	read, rerr := snapshot.ReadSummary(path)
	if rerr != nil {
		t.Fatal(rerr)
	}
	if read.Complete || sum.Complete || mustJSON(read) != mustJSON(sum) {
		t.Errorf("summary: returned %s, read %s", mustJSON(sum), mustJSON(read))
	}
	if n := afterCancel.Load(); n > 0 {
		t.Errorf("%d HEAD requests sent after the cancellation", n)
	}
	bs := readBuckets(t, path)
	if len(bs) != 2 {
		t.Fatalf("buckets: %d", len(bs))
	}
	a, b := bs[0], bs[1]
	var cancelled int64
	for _, o := range a.Objects {
		if o.Error != nil {
			if o.Error.Code != CodeCancelled || o.Method != snapshot.MethodUnknown {
				t.Errorf("object %s: %s", o.Key, mustJSON(o))
			}
			cancelled++
		}
	}
	if a.ObjectsInspected < 22 || a.ObjectsInspected >= 120 || int64(len(a.Objects)) != a.ObjectsListed ||
		a.ObjectsListed != a.ObjectsInspected+cancelled || a.ListError == nil || a.ListError.Code != CodeCancelled {
		t.Errorf("bucket a: listed %d inspected %d written %d cancelled %d list error %s", a.ObjectsListed, a.ObjectsInspected, len(a.Objects), cancelled, mustJSON(a.ListError))
	}
	if b.EncryptionError == nil || b.EncryptionError.Code != CodeCancelled || b.ListError == nil || b.ListError.Code != CodeCancelled || len(b.Objects) != 0 {
		t.Errorf("bucket b: %s", mustJSON(b))
	}
	c := sum.Coverage
	if c.ObjectsListed <= c.ObjectsInspected || c.Buckets != 2 || c.BucketsRead != 0 || int64(len(c.Errors)) != cancelled+3 {
		t.Errorf("coverage: %s", mustJSON(c))
	}
}

// TestCancelBeforeStart: a scan whose context is already done writes a
// valid document without sending a request.
func TestCancelBeforeStart(t *testing.T) {
	p := startProxy(t)
	var requests atomic.Int64
	p.onAny = func() { requests.Add(1) }
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var buf bytes.Buffer
	sum, err := Run(ctx, Config{Client: clientFor(t, client.OSS, "", p.URL, rootAK, rootSK, time.Second), Buckets: []string{"err-ok"}}, &buf)
	if !errors.Is(err, context.Canceled) || sum.Complete || !json.Valid(buf.Bytes()) {
		t.Fatalf("err %v complete %v doc %s", err, sum.Complete, buf.String())
	}
	if requests.Load() != 0 || len(sum.Buckets) != 1 || sum.Buckets[0].EncryptionError.Code != CodeCancelled {
		t.Errorf("requests %d, summary %s", requests.Load(), mustJSON(sum))
	}
}

func TestMethod(t *testing.T) {
	for _, tc := range []struct {
		alg, key string
		service  bool
		want     string
	}{
		{"", "", false, snapshot.MethodNone},
		{"AES256", "", false, snapshot.MethodOSSManaged},
		{"KMS", "", false, snapshot.MethodKMSDefault},
		{"aws:kms", "", false, snapshot.MethodKMSDefault},
		{"KMS", "alias/acs/oss", false, snapshot.MethodKMSDefault},
		{"aws:kms", "alias/aws/s3", false, snapshot.MethodKMSDefault},
		{"KMS", "k1", true, snapshot.MethodKMSDefault},
		{"KMS", "k1", false, snapshot.MethodKMSCMK},
		{"SM4", "", false, snapshot.MethodOther},
		{"aws:kms:dsse", "k1", false, snapshot.MethodOther},
	} {
		if got := Method(tc.alg, tc.key, tc.service); got != tc.want {
			t.Errorf("Method(%q, %q, %v) = %s, want %s", tc.alg, tc.key, tc.service, got, tc.want)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	c := rootClient(t, client.OSS)
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no client", Config{}, "Client is required"},
		{"bad glob", Config{Client: c, BucketGlob: "["}, "BucketGlob"},
		{"negative concurrency", Config{Client: c, Concurrency: -1}, "Concurrency"},
	} {
		var buf bytes.Buffer
		_, err := Run(context.Background(), tc.cfg, &buf)
		if err == nil || !strings.Contains(err.Error(), tc.want) || buf.Len() != 0 {
			t.Errorf("%s: err %v, output %q", tc.name, err, buf.String())
		}
	}
}

// TestProgress: nothing is drawn on a non-terminal; the bar (forced here,
// since tests have no terminal) shows the bucket, counts, rate and ETA.
func TestProgress(t *testing.T) {
	root := rootClient(t, client.OSS)
	mkBucket(t, root, "progress-a", nil)
	putMany(t, root, "progress-a", "p-", 20)
	var out bytes.Buffer
	if _, err := Run(context.Background(), Config{Client: root, BucketGlob: "progress-*", Progress: &out}, discard); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Errorf("progress drawn on a non-terminal: %q", out.String())
	}
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Error("/dev/null is a terminal?")
	}
	if _, err := Run(context.Background(), Config{Client: root, BucketGlob: "progress-*", Progress: &out, forceProgress: true}, discard); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"[1/1] progress-a", "20/20", "obj/s"} {
		if !strings.Contains(s, want) {
			t.Errorf("progress output lacks %q: %q", want, s)
		}
	}
}

func TestRetryPolicy(t *testing.T) {
	r := Retry{BaseDelay: 10 * time.Millisecond, MaxDelay: 80 * time.Millisecond}.withDefaults()
	if r.Attempts != DefaultAttempts {
		t.Errorf("default attempts %d", r.Attempts)
	}
	for n := 1; n <= 40; n++ {
		limit := min(r.MaxDelay, r.BaseDelay<<min(n-1, 20))
		for range 50 {
			if d := r.backoff(n, errors.New("x")); d < 0 || d > limit {
				t.Fatalf("backoff(%d) = %v, want in [0, %v]", n, d, limit)
			}
		}
	}
	ctx := context.Background()
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&client.Error{StatusCode: 503}, true},
		{&client.Error{StatusCode: 500, Code: "InternalError"}, true},
		{&client.Error{StatusCode: 429}, true},
		{&client.Error{StatusCode: 400, Code: "Throttling"}, true},
		{&client.Error{StatusCode: 403, Code: "AccessDenied"}, false},
		{&client.Error{StatusCode: 404, Code: "NoSuchKey"}, false},
		{context.DeadlineExceeded, true},
		{fmt.Errorf("client: HeadObject b/k: %w", context.DeadlineExceeded), true},
		{errors.New("client: Config.Region is empty"), false},
	} {
		if got := retryable(ctx, tc.err); got != tc.want {
			t.Errorf("retryable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if retryable(cctx, &client.Error{StatusCode: 503}) {
		t.Error("retryable after cancellation")
	}
	if e := toError(cctx, "object", "b/k", 1, fmt.Errorf("x: %w", context.Canceled)); e.Code != CodeCancelled {
		t.Errorf("cancelled error: %s", mustJSON(e))
	}
	if e := toError(ctx, "object", "b/k", 2, fmt.Errorf("x: %w", context.DeadlineExceeded)); e.Code != CodeTimeout || e.Attempts != 2 {
		t.Errorf("timeout error: %s", mustJSON(e))
	}
}

// BenchmarkCensus measures objects inspected per second against the
// embedded reference (OSS dialect, default concurrency).
func BenchmarkCensus(b *testing.B) {
	const n = 2000
	root := rootClient(b, client.OSS)
	const bucket = "census-bench"
	if err := root.CreateBucket(context.Background(), bucket, &client.SSE{Algorithm: client.AlgorithmAES256}); err == nil {
		putMany(b, root, bucket, "o-", n)
	}
	cfg := Config{Client: root, KMS: rootKMS, BucketGlob: bucket}
	var objects int64
	for b.Loop() {
		sum, err := Run(context.Background(), cfg, discard)
		if err != nil {
			b.Fatal(err)
		}
		if sum.Coverage.ObjectsInspected != n {
			b.Fatalf("inspected %d", sum.Coverage.ObjectsInspected)
		}
		objects += sum.Coverage.ObjectsInspected
	}
	b.ReportMetric(float64(objects)/b.Elapsed().Seconds(), "objects/s")
}

// lineDiff shows the lines of got and want that differ (same line count
// expected; otherwise both in full).
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	if len(g) != len(w) {
		return "got:\n" + got + "\nwant:\n" + want
	}
	var b strings.Builder
	for i := range g {
		if g[i] != w[i] {
			fmt.Fprintf(&b, "line %d:\n got %s\nwant %s\n", i+1, strings.TrimSpace(g[i]), strings.TrimSpace(w[i]))
		}
	}
	return b.String()
}

// TestDriftThroughHistory scans twice around changes, records both scans
// in a history database and compares them: the end-to-end path of drift.
func TestDriftThroughHistory(t *testing.T) {
	ctx := context.Background()
	root := rootClient(t, client.OSS)
	cmk := createKey(t, "drift cmk")
	mkBucket(t, root, "drift-a", nil)
	put(t, root, "drift-a", "o1", nil)
	put(t, root, "drift-a", "o2", nil)
	dir := t.TempDir()
	db, err := history.Open(filepath.Join(dir, "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg := Config{Client: root, KMS: rootKMS, BucketGlob: "drift-*"}
	scanAndRecord := func(name string) history.ScanRecord {
		sum, err := RunToFile(ctx, cfg, filepath.Join(dir, name))
		if err != nil || !sum.Complete {
			t.Fatalf("scan %s: %v", name, err)
		}
		rec, err := db.RecordScan(ctx, filepath.Join(dir, name), "")
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	first := scanAndRecord("first.json")

	if err := root.PutBucketEncryption(ctx, "drift-a", client.Rule{Algorithm: client.AlgorithmAES256}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond) // LastModified has millisecond resolution
	if _, err := root.CopyObject(ctx, "drift-a", "o1", "drift-a", "o1", client.PutOptions{SSE: &client.SSE{Algorithm: client.AlgorithmKMS, KeyID: cmk}}); err != nil {
		t.Fatal(err)
	}
	if err := root.DeleteObject(ctx, "drift-a", "o2"); err != nil {
		t.Fatal(err)
	}
	put(t, root, "drift-a", "o3", nil)
	second := scanAndRecord("second.json")

	prev, ok, err := db.Previous(second.TargetKey, second.StartedAt)
	if err != nil || !ok || prev.ScanID != first.ScanID {
		t.Fatalf("Previous = %+v %v %v", prev, ok, err)
	}
	at, rule, ok, err := db.RuleFirstSeen(second.TargetKey, "drift-a")
	if err != nil || !ok || rule.Method != snapshot.MethodOSSManaged || at.Before(first.FinishedAt) {
		t.Errorf("RuleFirstSeen = %v %+v %v %v", at, rule, ok, err)
	}
	var got []string
	err = snapshot.Diff(ctx, prev.SnapshotPath, second.SnapshotPath, func(c snapshot.Change) error {
		s := string(c.Kind) + " " + c.Key
		if c.Kind == snapshot.ObjectEncryptionChanged {
			s += fmt.Sprintf(" %s->%s etag-same=%v", c.Before.Method, c.After.Method, c.SameETag)
		}
		got = append(got, s)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The CMK the object is now under is referenced for the first time.
	want := []string{"rule-changed ", "object-encryption-changed o1 none->kms-cmk etag-same=true", "object-removed o2", "object-added o3", "key-added "}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("changes:\n got %q\nwant %q", got, want)
	}
}
