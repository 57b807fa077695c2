package kms

import (
	"bytes"
	"testing"
)

// fuzzEnv builds the same emulator and blobs in every fuzz worker
// (deterministic clock and randomness), and records what each blob seals.
type fuzzSealed struct {
	pt    []byte
	canon []byte
}

func fuzzEnv(f *testing.F) (*testEnv, map[string]fuzzSealed, [][]byte) {
	te := newTestEnv(f, Config{Rand: newDetRand(42)})
	known := map[string]fuzzSealed{}
	var seeds [][]byte
	add := func(blob, pt []byte, ectx map[string]string) {
		c, _ := canonicalContext(ectx)
		known[string(blob)] = fuzzSealed{bytes.Clone(pt), c}
		seeds = append(seeds, blob)
	}
	key := te.createKey(f)
	g, err := te.api.GenerateDataKey(te.ctx, GenerateDataKeyInput{KeyId: key, EncryptionContext: map[string]string{"k": "v"}})
	if err != nil {
		f.Fatal(err)
	}
	add(g.CiphertextBlob, g.Plaintext, map[string]string{"k": "v"})
	e := te.encrypt(f, key, []byte("hello"), nil)
	add(e.CiphertextBlob, []byte("hello"), nil)
	if _, err := te.api.CreateKeyVersion(te.ctx, key); err != nil {
		f.Fatal(err)
	}
	e2 := te.encrypt(f, key, []byte("v2"), map[string]string{"k": ""})
	add(e2.CiphertextBlob, []byte("v2"), map[string]string{"k": ""})
	return te, known, seeds
}

func FuzzParseBlob(f *testing.F) {
	_, _, seeds := fuzzEnv(f)
	for _, s := range seeds {
		f.Add(s)
	}
	f.Add([]byte("KEB1\x01"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, blob []byte) {
		h, body, err := parseBlob(blob)
		if err != nil {
			ke := asKMSError(t, err)
			if ke.Code != CodeInvalidCiphertext || ke.HTTPStatus != 400 {
				t.Fatalf("parse error %v", err)
			}
			return
		}
		// Accepted blobs re-serialise to exactly their header.
		var hdr []byte
		hdr = append(hdr, blobMagic...)
		hdr = append(hdr, blobVersion, byte(len(h.keyID)))
		hdr = append(hdr, h.keyID...)
		hdr = append(hdr, byte(len(h.versionID)))
		hdr = append(hdr, h.versionID...)
		hdr = append(append(hdr, h.salt...), h.nonce...)
		if !bytes.Equal(hdr, h.raw) || !bytes.Equal(append(bytes.Clone(h.raw), body...), blob) {
			t.Fatalf("header does not round-trip")
		}
		if !validGUID(h.keyID) || !validGUID(h.versionID) || len(body) < blobTag {
			t.Fatalf("accepted a malformed header")
		}
	})
}

func FuzzDecrypt(f *testing.F) {
	te, known, seeds := fuzzEnv(f)
	for i, s := range seeds {
		f.Add(s, "k", "v", i == 0)
		f.Add(s, "k", "", true)
		f.Add(s, "", "", false)
	}
	f.Fuzz(func(t *testing.T, blob []byte, k, v string, withCtx bool) {
		var ectx map[string]string
		if withCtx {
			ectx = map[string]string{k: v}
		}
		d, err := te.api.Decrypt(te.ctx, DecryptInput{CiphertextBlob: blob, EncryptionContext: ectx})
		if err != nil {
			asKMSError(t, err)
			return
		}
		want, ok := known[string(blob)]
		c, _ := canonicalContext(ectx)
		if !ok || !bytes.Equal(d.Plaintext, want.pt) || !bytes.Equal(c, want.canon) {
			t.Fatalf("Decrypt accepted a blob/context pair that was never sealed (known=%v)", ok)
		}
	})
}
