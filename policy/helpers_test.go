package policy

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/snapshot"
)

var (
	tCreated  = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	tOld      = time.Date(2024, 2, 1, 10, 0, 0, 0, time.UTC)
	tPrevScan = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	tMid      = time.Date(2024, 4, 1, 12, 0, 0, 0, time.UTC)
	tScan     = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	tNow      = time.Date(2024, 6, 2, 0, 0, 0, 0, time.UTC)
)

const (
	region  = "cn-hangzhou"
	cmk     = "11111111-2222-3333-4444-555555555555"
	cmk2    = "66666666-7777-8888-9999-000000000000"
	svcKey  = "aaaaaaaa-0000-0000-0000-0000000000a5"
	keyDis  = "dddddddd-0000-0000-0000-000000000001"
	keyPend = "dddddddd-0000-0000-0000-000000000002"
	keyGone = "dddddddd-0000-0000-0000-000000000003"
	keySH   = "dddddddd-0000-0000-0000-000000000004"
	keyErr  = "dddddddd-0000-0000-0000-000000000005"
)

func key(id string, mod func(*snapshot.Key)) snapshot.Key {
	k := snapshot.Key{KeyID: id, Region: region, Arn: "acs:kms:" + region + ":1234567890:key/" + id, State: "Enabled",
		AutomaticRotation: "Enabled", RotationInterval: "31536000s", ReadAt: tScan}
	if mod != nil {
		mod(&k)
	}
	return k
}

func allKeys() []snapshot.Key {
	return []snapshot.Key{
		key(cmk, nil),
		key(cmk2, nil),
		key(svcKey, func(k *snapshot.Key) {
			k.ServiceKey, k.Creator, k.AutomaticRotation, k.RotationInterval = true, "Oss", "Disabled", ""
		}),
		key(keyDis, func(k *snapshot.Key) { k.State = "Disabled" }),
		key(keyPend, func(k *snapshot.Key) { k.State = "PendingDeletion"; k.DeleteDate = "2024-06-08T00:00:00Z" }),
		key(keyGone, func(k *snapshot.Key) { k.State = ""; k.Missing = true }),
		key(keySH, func(k *snapshot.Key) { k.Region = "cn-shanghai"; k.Arn = "" }),
	}
}

var (
	ruleCMK = &snapshot.Rule{Algorithm: "KMS", KMSMasterKeyID: cmk, Method: snapshot.MethodKMSCMK}
	ruleAES = &snapshot.Rule{Algorithm: "AES256", Method: snapshot.MethodOSSManaged}
	ruleSM4 = &snapshot.Rule{Algorithm: "SM4", Method: snapshot.MethodOther}
)

func ruleWith(id string) *snapshot.Rule {
	return &snapshot.Rule{Algorithm: "KMS", KMSMasterKeyID: id, Method: snapshot.MethodKMSCMK}
}

func obj(bucket, k, method, kid string) snapshot.Object {
	o := snapshot.Object{Bucket: bucket, Key: k, Size: 10, ETag: `"etag-` + k + `"`, LastModified: tOld, KMSKeyID: kid, Method: method}
	switch method {
	case snapshot.MethodOSSManaged:
		o.SSE = "AES256"
	case snapshot.MethodKMSDefault, snapshot.MethodKMSCMK:
		o.SSE = "KMS"
	case snapshot.MethodOther:
		o.SSE = "SM4"
	}
	return o
}

// bucket builds a bucket with consistent counts.
func bucket(name string, enc *snapshot.Rule, objs ...snapshot.Object) snapshot.Bucket {
	b := snapshot.Bucket{Name: name, Region: region, CreationDate: tCreated, Encryption: enc, ReadAt: tScan, Objects: []snapshot.Object{}}
	for _, o := range objs {
		o.Bucket = name
		b.Objects = append(b.Objects, o)
		b.ObjectsListed++
		if o.Error == nil {
			b.ObjectsInspected++
		}
	}
	return b
}

func goodObjects(name string) []snapshot.Object {
	return []snapshot.Object{obj(name, "a.txt", snapshot.MethodKMSCMK, cmk), obj(name, "b.txt", snapshot.MethodOSSManaged, "")}
}

func mem(scanID string, buckets ...snapshot.Bucket) *MemorySnapshot {
	var listed, inspected int64
	for _, b := range buckets {
		listed += b.ObjectsListed
		inspected += b.ObjectsInspected
	}
	return &MemorySnapshot{
		Schema: snapshot.Schema,
		Provenance: snapshot.Provenance{
			ScanID: scanID, StartedAt: tScan.Add(-time.Hour), ToolVersion: "test",
			Target:  snapshot.Target{Kind: "reference", Dialect: "oss", Endpoint: "127.0.0.1:9000"},
			Regions: []string{region},
		},
		Keys: allKeys(),
		Coverage: snapshot.Coverage{
			Buckets: len(buckets), BucketsRead: len(buckets), ObjectsListed: listed, ObjectsInspected: inspected,
			Errors: []snapshot.Error{},
		},
		FinishedAt: tScan,
		Complete:   true,
		Buckets:    buckets,
	}
}

func load(t testing.TB, opts Options) *Engine {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return tNow }
	}
	e, err := Load(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func eval(t testing.TB, e *Engine, cur, prev Source, hist HistoryLookup) []findings.Finding {
	t.Helper()
	fs, err := e.Evaluate(context.Background(), cur, prev, hist)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func ofRule(fs []findings.Finding, id string) []findings.Finding {
	var out []findings.Finding
	for _, f := range fs {
		if f.Rule == id {
			out = append(out, f)
		}
	}
	return out
}

// writeSnapshot writes m as a snapshot file with snapshot.Writer.
func writeSnapshot(t testing.TB, dir, name string, m *MemorySnapshot) string {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := snapshot.NewWriter(f, m.Provenance, snapshot.WithClock(func() time.Time { return m.FinishedAt }))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range m.Buckets {
		if err := w.BeginBucket(b); err != nil {
			t.Fatal(err)
		}
		for _, o := range b.Objects {
			if err := w.Object(o); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.EndBucket(b.ObjectsListed, b.ObjectsInspected, b.ListError); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range m.Keys {
		if err := w.Key(k); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(m.Coverage, m.Complete); err != nil {
		t.Fatal(err)
	}
	return p
}

type fakeHistory struct {
	ruleFirstSeen map[string]time.Time // by bucket; the rule is ruleCMK
	firstSeen     map[string]time.Time
}

func (h *fakeHistory) RuleFirstSeen(_, bucket string) (time.Time, snapshot.Rule, bool, error) {
	t, ok := h.ruleFirstSeen[bucket]
	return t, *ruleCMK, ok, nil
}

func (h *fakeHistory) FirstSeen(ids []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	for _, id := range ids {
		if t, ok := h.firstSeen[id]; ok {
			out[id] = t
		}
	}
	return out, nil
}
