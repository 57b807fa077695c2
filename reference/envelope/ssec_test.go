package envelope

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
)

// TestSSECRoundTripAndKeyRules: an SSE-C data key opens with the customer
// key only; the record holds neither the key nor its MD5; a wrong key,
// no key, a moved record and OpenDataKey all fail.
func TestSSECRoundTripAndKeyRules(t *testing.T) {
	e := New(Config{})
	ck := bytes.Repeat([]byte{0x5c}, CustomerKeySize)
	id := Identity{Bucket: "b", Object: "o"}
	dk, rec, err := e.NewDataKey(context.Background(), Spec{Algorithm: AlgorithmSSEC, CustomerKey: ck}, id)
	if err != nil {
		t.Fatal(err)
	}
	var ct bytes.Buffer
	w, err := dk.Encrypt(&ct, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("customer data")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := rec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, ck) || bytes.Contains(rec.SealedKey, ck) {
		t.Fatal("the record holds the customer key")
	}
	parsed, err := ParseRecord(raw)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.OpenCustomerDataKey(parsed, ck, "b", "o")
	if err != nil {
		t.Fatal(err)
	}
	r, err := got.Decrypt(bytes.NewReader(ct.Bytes()), 0)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := io.ReadAll(r); err != nil || string(pt) != "customer data" {
		t.Fatalf("decrypt = %q, %v", pt, err)
	}
	wrong := bytes.Repeat([]byte{0x5d}, CustomerKeySize)
	for _, tc := range []struct {
		name   string
		open   func() error
		wantIs error
	}{
		{"wrong key", func() error { _, err := e.OpenCustomerDataKey(parsed, wrong, "b", "o"); return err }, ErrCustomerKeyMismatch},
		{"no key", func() error { _, err := e.OpenCustomerDataKey(parsed, nil, "b", "o"); return err }, ErrCustomerKeyRequired},
		{"OpenDataKey", func() error { _, err := e.OpenDataKey(context.Background(), parsed, "", "b", "o"); return err }, ErrCustomerKeyRequired},
		{"moved", func() error { _, err := e.OpenCustomerDataKey(parsed, ck, "b", "other"); return err }, ErrCustomerKeyMismatch},
		{"short key", func() error { _, err := e.OpenCustomerDataKey(parsed, ck[:16], "b", "o"); return err }, ErrUnsupported},
	} {
		if err := tc.open(); !errors.Is(err, tc.wantIs) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.wantIs)
		}
	}
	if out, err := e.Rewrap(context.Background(), parsed, "", "b", "o"); err != nil || !bytes.Equal(out.SealedKey, parsed.SealedKey) {
		t.Fatalf("Rewrap of SSE-C = %v, changed %v", err, !bytes.Equal(out.SealedKey, parsed.SealedKey))
	}
	// Two objects under one customer key get different sealed keys.
	_, rec2, err := e.NewDataKey(context.Background(), Spec{Algorithm: AlgorithmSSEC, CustomerKey: ck}, id)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(rec2.SealedKey[:33], rec.SealedKey[:33]) {
		t.Fatal("two seals share a salt")
	}
	if _, _, err := e.NewDataKey(context.Background(), Spec{Algorithm: AlgorithmSSEC, CustomerKey: ck[:31]}, id); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("31-byte customer key: %v", err)
	}
}
