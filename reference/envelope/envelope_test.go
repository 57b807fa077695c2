package envelope

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/sseaudit/sseaudit/reference/masterkey"
	"github.com/sseaudit/sseaudit/reference/rootkey"
	"github.com/sseaudit/sseaudit/reference/stream"
)

type detRand struct {
	mu sync.Mutex
	r  *rand.ChaCha8
}

func newDetRand(seed byte) *detRand {
	var s [32]byte
	s[0] = seed
	return &detRand{r: rand.NewChaCha8(s)}
}

func (d *detRand) Read(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.r.Read(p)
}

func newOSSEnvelope(t testing.TB) (*Envelope, *masterkey.Keyring) {
	t.Helper()
	root, err := rootkey.New(bytes.Repeat([]byte{1}, 32), newDetRand(1))
	if err != nil {
		t.Fatal(err)
	}
	mk, err := masterkey.Open(context.Background(), masterkey.Config{RootKey: root, Rand: newDetRand(2)})
	if err != nil {
		t.Fatal(err)
	}
	return New(Config{Master: mk, Rand: newDetRand(3)}), mk
}

// put encrypts plaintext as a single-part object and returns the stored
// record bytes and ciphertext, as the storage layer would keep them.
func put(t testing.TB, e *Envelope, spec Spec, id Identity, plaintext []byte) ([]byte, []byte) {
	t.Helper()
	dk, rec, err := e.NewDataKey(context.Background(), spec, id)
	if err != nil {
		t.Fatal(err)
	}
	defer dk.Destroy()
	var ct bytes.Buffer
	w, err := dk.Encrypt(&ct, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(plaintext); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := rec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return raw, ct.Bytes()
}

func get(e *Envelope, region, bucket, object string, rawRec, ct []byte) ([]byte, error) {
	rec, err := ParseRecord(rawRec)
	if err != nil {
		return nil, err
	}
	dk, err := e.OpenDataKey(context.Background(), rec, region, bucket, object)
	if err != nil {
		return nil, err
	}
	defer dk.Destroy()
	r, err := dk.Decrypt(bytes.NewReader(ct), 0)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func TestSSEOSSObjectsSurviveMasterRotation(t *testing.T) {
	ctx := context.Background()
	e, mk := newOSSEnvelope(t)
	spec := Spec{Algorithm: AlgorithmAES256}
	old := bytes.Repeat([]byte("sealed under version 1 "), 5000)
	rec1, ct1 := put(t, e, spec, Identity{Bucket: "b", Object: "old"}, old)
	for range 2 {
		if _, err := mk.Rotate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	rec3, ct3 := put(t, e, spec, Identity{Bucket: "b", Object: "new"}, []byte("new"))

	r1, _ := ParseRecord(rec1)
	r3, _ := ParseRecord(rec3)
	if r1.KeyVersion != "1" || r3.KeyVersion != "3" {
		t.Fatalf("key versions = %s and %s, want 1 and 3", r1.KeyVersion, r3.KeyVersion)
	}
	if got, err := get(e, "", "b", "old", rec1, ct1); err != nil || !bytes.Equal(got, old) {
		t.Fatalf("object under version 1 after rotation: err %v, equal %v", err, bytes.Equal(got, old))
	}
	if got, err := get(e, "", "b", "new", rec3, ct3); err != nil || string(got) != "new" {
		t.Fatalf("object under version 3: %q %v", got, err)
	}

	// Rewrap moves the old object's key to version 3; the data is untouched.
	rw, err := e.Rewrap(ctx, r1, "", "b", "old")
	if err != nil || rw.KeyVersion != "3" {
		t.Fatalf("rewrap: version %q err %v", rw.KeyVersion, err)
	}
	rwRaw, _ := rw.Marshal()
	if got, err := get(e, "", "b", "old", rwRaw, ct1); err != nil || !bytes.Equal(got, old) {
		t.Fatalf("read after rewrap: %v", err)
	}
}

func TestTamperingIsDetected(t *testing.T) {
	ctx := context.Background()
	e, _ := newOSSEnvelope(t)
	spec := Spec{Algorithm: AlgorithmAES256}
	id := Identity{Bucket: "b", Object: "a"}
	recA, ctA := put(t, e, spec, id, []byte("object a"))
	recA2, _ := put(t, e, spec, id, []byte("object a, second write"))
	recB, ctB := put(t, e, spec, Identity{Bucket: "b", Object: "b"}, []byte("object b"))

	// A sealed key from another write of the same name unseals fine (same
	// binding) but belongs to another data key: only the commitment says so.
	ra, _ := ParseRecord(recA)
	ra2, _ := ParseRecord(recA2)
	swapped := ra
	swapped.SealedKey = ra2.SealedKey
	swappedRaw, _ := swapped.Marshal()

	cases := []struct {
		name            string
		bucket, object  string
		rec, ciphertext []byte
		want            error
	}{
		{"record moved to another object", "b", "b", recA, ctA, masterkey.ErrUnseal},
		{"record moved to another bucket", "c", "a", recA, ctA, masterkey.ErrUnseal},
		{"sealed key substituted", "b", "a", swappedRaw, ctA, ErrCommitment},
		{"ciphertext of another object", "b", "a", recA, ctB, stream.ErrKeyCommitment},
		{"record of b with its own data under a's name", "b", "a", recB, ctB, masterkey.ErrUnseal},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := get(e, "", c.bucket, c.object, c.rec, c.ciphertext)
			if !errors.Is(err, c.want) || len(got) != 0 {
				t.Fatalf("got %q, %v; want error %v", got, err, c.want)
			}
		})
	}
	_ = ctx
}

func TestMultipartPartsAreBoundToTheirNumber(t *testing.T) {
	e, _ := newOSSEnvelope(t)
	id := Identity{Bucket: "b", Object: "big", UploadID: "u-1"}
	dk, rec, err := e.NewDataKey(context.Background(), Spec{Algorithm: AlgorithmAES256}, id)
	if err != nil {
		t.Fatal(err)
	}
	parts := map[int][]byte{}
	for n := 1; n <= 3; n++ {
		var buf bytes.Buffer
		w, _ := dk.Encrypt(&buf, n)
		w.Write(bytes.Repeat([]byte{byte(n)}, 100_000))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		parts[n] = buf.Bytes()
	}
	dk2, err := e.OpenDataKey(context.Background(), rec, "", "b", "big")
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 3; n++ {
		r, err := dk2.Decrypt(bytes.NewReader(parts[n]), n)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, bytes.Repeat([]byte{byte(n)}, 100_000)) {
			t.Fatalf("part %d: %v", n, err)
		}
	}
	if _, err := dk2.Decrypt(bytes.NewReader(parts[2]), 1); !errors.Is(err, stream.ErrKeyCommitment) {
		t.Fatalf("part 2 read as part 1: %v, want stream.ErrKeyCommitment", err)
	}
	// A range inside part 3.
	r, err := dk2.DecryptRange(bytes.NewReader(parts[3]), int64(len(parts[3])), 3, 70_000, 10)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	if !bytes.Equal(got, bytes.Repeat([]byte{3}, 10)) {
		t.Fatalf("range = %v", got)
	}
}

func TestParseRecordIsStrict(t *testing.T) {
	e, _ := newOSSEnvelope(t)
	good, _ := put(t, e, Spec{Algorithm: AlgorithmAES256}, Identity{Bucket: "b", Object: "o"}, []byte("x"))
	if _, err := ParseRecord(good); err != nil {
		t.Fatalf("good record: %v", err)
	}
	rec, _ := ParseRecord(good)
	mutate := func(f func(*Record)) []byte {
		r := rec
		f(&r)
		b, _ := jsonMarshalUnchecked(r)
		return b
	}
	cases := map[string][]byte{
		"empty":                nil,
		"not json":             []byte("AES256"),
		"unknown field":        bytes.Replace(good, []byte(`{`), []byte(`{"plaintext":true,`), 1),
		"trailing data":        append(bytes.Clone(good), []byte(`{}`)...),
		"format 2":             mutate(func(r *Record) { r.Format = 2 }),
		"unknown algorithm":    mutate(func(r *Record) { r.Algorithm = "SM4" }),
		"no algorithm":         mutate(func(r *Record) { r.Algorithm = "" }),
		"unknown cipher":       mutate(func(r *Record) { r.Cipher = "AES-128-CTR" }),
		"no sealed key":        mutate(func(r *Record) { r.SealedKey = nil }),
		"short commitment":     mutate(func(r *Record) { r.Commitment = r.Commitment[:16] }),
		"no key version":       mutate(func(r *Record) { r.KeyVersion = "" }),
		"bad master version":   mutate(func(r *Record) { r.KeyVersion = "v1" }),
		"key id with AES256":   mutate(func(r *Record) { r.KeyID = "some-cmk" }),
		"KMS without a key id": mutate(func(r *Record) { r.Algorithm = AlgorithmKMS }),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseRecord(data); !errors.Is(err, ErrMalformedRecord) {
				t.Fatalf("ParseRecord(%s) = %v, want ErrMalformedRecord", data, err)
			}
		})
	}
}

func TestIdentityBindingIsUnambiguous(t *testing.T) {
	pairs := [][2]Identity{
		{{Bucket: "ab", Object: "c"}, {Bucket: "a", Object: "bc"}},
		{{Bucket: "b", Object: "o", UploadID: "u"}, {Bucket: "b", Object: "o", VersionID: "u"}},
		{{Bucket: "b", Object: "o/"}, {Bucket: "b/", Object: "o"}},
	}
	for _, p := range pairs {
		if bytes.Equal(p[0].Binding(), p[1].Binding()) {
			t.Errorf("%+v and %+v share a binding", p[0], p[1])
		}
	}
}

func FuzzParseRecord(f *testing.F) {
	e, _ := newOSSEnvelope(f)
	good, _ := put(f, e, Spec{Algorithm: AlgorithmAES256}, Identity{Bucket: "b", Object: "o"}, []byte("x"))
	f.Add(good)
	f.Add([]byte(`{"format":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRecord(data)
		if err != nil {
			return
		}
		// Anything accepted must survive a round trip and validate again.
		again, err := r.Marshal()
		if err != nil {
			t.Fatalf("accepted record does not marshal: %v", err)
		}
		if _, err := ParseRecord(again); err != nil {
			t.Fatalf("accepted record does not re-parse: %v", err)
		}
	})
}
