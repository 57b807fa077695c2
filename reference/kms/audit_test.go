package kms

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is an io.Writer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}

func parseAudit(t *testing.T, data []byte) []map[string]string {
	t.Helper()
	var recs []map[string]string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var m map[string]string
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		recs = append(recs, m)
	}
	return recs
}

func TestAuditLog(t *testing.T) {
	log := &lockedBuffer{}
	te := newTestEnv(t, Config{AuditLog: log})
	ctx := WithRequestID(WithPrincipal(context.Background(), "alice"), "req-1")
	key, err := te.api.CreateKey(ctx, CreateKeyInput{EnableAutomaticRotation: true, RotationInterval: "7d"})
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("TOP-SECRET-PLAINTEXT-do-not-log")
	ectx := map[string]string{"object": "CONTEXT-VALUE-do-not-log"}
	enc, err := te.api.Encrypt(ctx, EncryptInput{KeyId: key.KeyId, Plaintext: secret, EncryptionContext: ectx})
	if err != nil {
		t.Fatal(err)
	}
	gk, err := te.api.GenerateDataKey(ctx, GenerateDataKeyInput{KeyId: key.KeyId, EncryptionContext: ectx})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := te.api.Decrypt(ctx, DecryptInput{CiphertextBlob: gk.CiphertextBlob, EncryptionContext: ectx}); err != nil {
		t.Fatal(err)
	}
	_, err = te.api.Decrypt(ctx, DecryptInput{CiphertextBlob: enc.CiphertextBlob}) // wrong context
	wantErr(t, "Decrypt without context", err, CodeInvalidCiphertext, 400)
	te.clk.Advance(8 * day)
	if _, err := te.api.ReEncrypt(ctx, ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: ectx, DestinationKeyId: ServiceKeyAliasOSS}); err != nil {
		t.Fatal(err)
	}

	data := log.Bytes()
	te.e.mu.RLock()
	var materials [][]byte
	for _, rs := range te.e.st.regions {
		for _, k := range rs.keys {
			for _, v := range k.versions {
				materials = append(materials, v.material)
			}
		}
	}
	te.e.mu.RUnlock()
	forbidden := append([][]byte{secret, gk.Plaintext, gk.CiphertextBlob, enc.CiphertextBlob, []byte("CONTEXT-VALUE-do-not-log")}, materials...)
	for _, f := range forbidden {
		for _, form := range [][]byte{f, []byte(base64.StdEncoding.EncodeToString(f)), []byte(hex.EncodeToString(f))} {
			if bytes.Contains(data, form) {
				t.Fatalf("audit log contains secret bytes %q", form)
			}
		}
	}

	recs := parseAudit(t, data)
	type want struct{ op, principal, keyID, result string }
	wants := []want{
		{"CreateKey", "alice", key.KeyId, "ok"},
		{"Encrypt", "alice", key.KeyId, "ok"},
		{"GenerateDataKey", "alice", key.KeyId, "ok"},
		{"Decrypt", "alice", key.KeyId, "ok"},
		{"Decrypt", "alice", key.KeyId, CodeInvalidCiphertext},
		{"AutoRotateKey", LazyPrincipal, key.KeyId, "ok"},
		{"CreateServiceKey", LazyPrincipal, "", "ok"},
		{"ReEncrypt", "alice", "", "ok"},
	}
	if len(recs) != len(wants) {
		t.Fatalf("%d audit records, want %d:\n%s", len(recs), len(wants), data)
	}
	for i, w := range wants {
		r := recs[i]
		if r["op"] != w.op || r["principal"] != w.principal || r["result"] != w.result || r["region"] != testRegion || (w.keyID != "" && r["key_id"] != w.keyID) {
			t.Fatalf("record %d = %v, want %+v", i, r, w)
		}
		if w.principal == "alice" && r["request_id"] != "req-1" {
			t.Fatalf("record %d has request_id %q", i, r["request_id"])
		}
		if _, err := time.Parse(time.RFC3339Nano, r["time"]); err != nil {
			t.Fatalf("record %d time %q: %v", i, r["time"], err)
		}
	}
	if recs[2]["key_version_id"] != gk.KeyVersionId {
		t.Fatalf("GenerateDataKey record lacks the version: %v", recs[2])
	}
	if re := recs[7]; re["source_key_id"] != key.KeyId || re["key_id"] != recs[6]["key_id"] || re["key_id"] == key.KeyId {
		t.Fatalf("ReEncrypt record %v", re)
	}
}

// TestConcurrentUse runs the data plane against management calls and lazy
// rotation; run with -race.
func TestConcurrentUse(t *testing.T) {
	te := newTestEnv(t, Config{Dir: t.TempDir(), RootKey: testRootKey(t, 1), AuditLog: &lockedBuffer{}})
	md, err := te.api.CreateKey(te.ctx, CreateKeyInput{EnableAutomaticRotation: true, RotationInterval: "7d"})
	if err != nil {
		t.Fatal(err)
	}
	key := md.KeyId
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				ectx := map[string]string{"w": string(rune('a' + w))}
				ref := key
				if i%5 == 0 {
					ref = ServiceKeyAliasOSS
				}
				g, err := te.api.GenerateDataKey(te.ctx, GenerateDataKeyInput{KeyId: ref, EncryptionContext: ectx})
				if err != nil {
					errs <- err
					return
				}
				d, err := te.api.Decrypt(te.ctx, DecryptInput{CiphertextBlob: g.CiphertextBlob, EncryptionContext: ectx})
				if err != nil || !bytes.Equal(d.Plaintext, g.Plaintext) || d.KeyVersionId != g.KeyVersionId {
					errs <- fmt.Errorf("round trip under %s: %v", g.KeyVersionId, err)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 10 {
			if _, err := te.api.CreateKeyVersion(te.ctx, key); err != nil {
				errs <- err
				return
			}
			te.clk.Advance(4 * day) // lets lazy rotation fire under load
			if _, err := te.api.ListKeys(te.ctx, Page{}); err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent call failed: %v", err)
	}
	l, _ := te.api.ListKeyVersions(te.ctx, key, Page{PageSize: 100})
	if l.TotalCount < 11 {
		t.Fatalf("%d versions after 10 manual rotations plus automatic ones", l.TotalCount)
	}
	keys, _ := te.api.ListKeys(te.ctx, Page{})
	if keys.TotalCount != 2 {
		t.Fatalf("%d keys; the service key must have been created exactly once", keys.TotalCount)
	}
}
