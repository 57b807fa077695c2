package kms

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

func asKMSError(t *testing.T, err error) *Error {
	t.Helper()
	var ke *Error
	if !errors.As(err, &ke) {
		t.Fatalf("not a *Error: %v", err)
	}
	return ke
}

// TestContextBinding: the EncryptionContext is bound by an unambiguous
// encoding, and every mismatch fails with the same error as a tampered tag.
func TestContextBinding(t *testing.T) {
	te := newTestEnv(t, Config{})
	key := te.createKey(t)
	pt := []byte("context-bound")

	good := te.encrypt(t, key, pt, map[string]string{"a": "b"}).CiphertextBlob
	tampered := bytes.Clone(good)
	tampered[len(tampered)-1] ^= 1
	_, tagErr := te.api.Decrypt(te.ctx, DecryptInput{CiphertextBlob: tampered, EncryptionContext: map[string]string{"a": "b"}})
	ref := asKMSError(t, tagErr)
	if ref.Code != CodeInvalidCiphertext || ref.HTTPStatus != 400 {
		t.Fatalf("tampered tag: %v", tagErr)
	}

	cases := []struct {
		name     string
		sealed   map[string]string
		supplied map[string]string
	}{
		{"key/value boundary", map[string]string{"ab": "c"}, map[string]string{"a": "bc"}},
		{"pair boundary", map[string]string{"a": "b", "c": "d"}, map[string]string{"a": "bc=d"}},
		{"pair boundary json-ish", map[string]string{"a": `b","c":"d`}, map[string]string{"a": "b", "c": "d"}},
		{"swapped", map[string]string{"a": "b"}, map[string]string{"b": "a"}},
		{"extra empty pair", map[string]string{"a": "b"}, map[string]string{"a": "b", "": ""}},
		{"empty vs one empty pair", nil, map[string]string{"": ""}},
		{"missing", map[string]string{"bucket": "x"}, nil},
		{"superset", map[string]string{"bucket": "x"}, map[string]string{"bucket": "x", "object": "y"}},
		{"value differs", map[string]string{"bucket": "x"}, map[string]string{"bucket": "X"}},
		{"nul", map[string]string{"a\x00b": ""}, map[string]string{"a": "\x00b"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ca, _ := canonicalContext(c.sealed)
			cb, _ := canonicalContext(c.supplied)
			if bytes.Equal(ca, cb) {
				t.Fatalf("canonical encodings collide: %x", ca)
			}
			blob := te.encrypt(t, key, pt, c.sealed).CiphertextBlob
			if d, err := te.api.Decrypt(te.ctx, DecryptInput{CiphertextBlob: blob, EncryptionContext: c.sealed}); err != nil || !bytes.Equal(d.Plaintext, pt) {
				t.Fatalf("right context fails: %v", err)
			}
			_, err := te.api.Decrypt(te.ctx, DecryptInput{CiphertextBlob: blob, EncryptionContext: c.supplied})
			if got := asKMSError(t, err); *got != *ref {
				t.Fatalf("wrong context gives %+v, tampered tag gives %+v; they must be the same error", got, ref)
			}
		})
	}
	// nil and empty maps are the same (no) context.
	blob := te.encrypt(t, key, pt, nil).CiphertextBlob
	if _, err := te.api.Decrypt(te.ctx, DecryptInput{CiphertextBlob: blob, EncryptionContext: map[string]string{}}); err != nil {
		t.Fatalf("empty map vs nil: %v", err)
	}
}

func TestCanonicalContextEncoding(t *testing.T) {
	got, err := canonicalContext(map[string]string{"b": "", "a": "xy"})
	if err != nil {
		t.Fatal(err)
	}
	want := []byte("\x00\x00\x00\x02" + "\x00\x00\x00\x01a" + "\x00\x00\x00\x02xy" + "\x00\x00\x00\x01b" + "\x00\x00\x00\x00")
	if !bytes.Equal(got, want) {
		t.Fatalf("canonical encoding\n got %q\nwant %q", got, want)
	}
	empty, _ := canonicalContext(nil)
	if !bytes.Equal(empty, []byte{0, 0, 0, 0}) {
		t.Fatalf("empty context %x", empty)
	}
}

// TestBlobTampering: every truncation, extension and single-bit flip of a
// blob fails; flips outside the two id fields fail with the one
// invalid-ciphertext error.
func TestBlobTampering(t *testing.T) {
	te := newTestEnv(t, Config{})
	key := te.createKey(t)
	out, err := te.api.GenerateDataKey(te.ctx, GenerateDataKeyInput{KeyId: key, EncryptionContext: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	blob := out.CiphertextBlob
	ectx := map[string]string{"k": "v"}
	h, body, err := parseBlob(blob)
	if err != nil || h.keyID != key || h.versionID != out.KeyVersionId || len(body) != 32+16 || len(h.raw) != blobHeaderLen {
		t.Fatalf("parseBlob: %+v %d %v", h, len(body), err)
	}
	decrypt := func(b []byte) error {
		d, err := te.api.Decrypt(te.ctx, DecryptInput{CiphertextBlob: b, EncryptionContext: ectx})
		if err == nil && !bytes.Equal(d.Plaintext, out.Plaintext) {
			t.Fatalf("tampered blob decrypted to different plaintext")
		}
		return err
	}
	if err := decrypt(blob); err != nil {
		t.Fatalf("untouched blob: %v", err)
	}
	for n := 1; n < len(blob); n++ {
		wantErr(t, fmt.Sprintf("truncated to %d", n), decrypt(blob[:n]), CodeInvalidCiphertext, 400)
	}
	wantErr(t, "extended", decrypt(append(bytes.Clone(blob), 0)), CodeInvalidCiphertext, 400)
	keyIDStart, verStart := 6, 6+guidLen+1
	for i := range blob {
		for bit := range 8 {
			b := bytes.Clone(blob)
			b[i] ^= 1 << bit
			err := decrypt(b)
			inIDs := i >= keyIDStart && i < keyIDStart+guidLen || i >= verStart && i < verStart+guidLen
			if !inIDs {
				wantErr(t, fmt.Sprintf("flip byte %d bit %d", i, bit), err, CodeInvalidCiphertext, 400)
				continue
			}
			ke := asKMSError(t, err)
			switch ke.Code {
			case CodeInvalidCiphertext, CodeKeyNotFound, CodeKeyVersionNotFound:
			default:
				t.Fatalf("flip byte %d bit %d (id field): %v", i, bit, err)
			}
		}
	}
}

func TestGUID(t *testing.T) {
	r := newDetRand(3)
	seen := map[string]bool{}
	for range 1000 {
		id, err := newGUID(r)
		if err != nil || !guidRE.MatchString(id) || !validGUID(id) || seen[id] {
			t.Fatalf("newGUID: %q %v", id, err)
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "9CF39C73-C040-484F-89AD-34B93861D71B", "9cf39c73c040484f89ad34b93861d71b", "9cf39c73-c040-484f-89ad-34b93861d71", "9cf39c73-c040-484f-89ad_34b93861d71b", "9cf39c73-c040-484f-89ad-34b93861d71g"} {
		if validGUID(bad) {
			t.Fatalf("validGUID(%q) = true", bad)
		}
	}
}
