package kms

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/reference/clock"
	"github.com/sseaudit/sseaudit/reference/rootkey"
)

func testRootKey(t testing.TB, b byte) *rootkey.Key {
	t.Helper()
	k, err := rootkey.New(bytes.Repeat([]byte{b}, rootkey.Size), newDetRand(b))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type sealedBlob struct {
	region string
	blob   []byte
	ectx   map[string]string
	pt     []byte
}

// snapshot is everything a client can observe about the key store.
type snapshot struct {
	Keys     map[string]KeyMetadata
	Versions map[string][]KeyVersion
	Aliases  map[string][]Alias
	KeyLists map[string][]KeyRef
}

func observe(t *testing.T, e *Emulator, regions ...string) snapshot {
	t.Helper()
	ctx := t.Context()
	s := snapshot{Keys: map[string]KeyMetadata{}, Versions: map[string][]KeyVersion{}, Aliases: map[string][]Alias{}, KeyLists: map[string][]KeyRef{}}
	for _, r := range regions {
		api := e.Region(r)
		kl, err := api.ListKeys(ctx, Page{PageSize: 100})
		if err != nil {
			t.Fatal(err)
		}
		s.KeyLists[r] = kl.Keys
		for _, k := range kl.Keys {
			md, err := api.DescribeKey(ctx, k.KeyId)
			if err != nil {
				t.Fatal(err)
			}
			s.Keys[k.KeyId] = md
			vl, err := api.ListKeyVersions(ctx, k.KeyId, Page{PageSize: 100})
			if err != nil {
				t.Fatal(err)
			}
			s.Versions[k.KeyId] = vl.KeyVersions
		}
		al, err := api.ListAliases(ctx, Page{PageSize: 100})
		if err != nil {
			t.Fatal(err)
		}
		s.Aliases[r] = al.Aliases
	}
	return s
}

// buildPersistentStore creates keys in every state and shape, and returns
// blobs sealed along the way.
func buildPersistentStore(t *testing.T, dir string, root *rootkey.Key, clk *clock.Fake) (*Emulator, []sealedBlob) {
	t.Helper()
	e, err := New(Config{Dir: dir, RootKey: root, Clock: clk, Rand: newDetRand(7)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	hz, sh := e.Region("cn-hangzhou"), e.Region("cn-shanghai")
	var blobs []sealedBlob
	seal := func(api API, region, keyID string, ectx map[string]string) {
		g, err := api.GenerateDataKey(ctx, GenerateDataKeyInput{KeyId: keyID, EncryptionContext: ectx})
		if err != nil {
			t.Fatal(err)
		}
		blobs = append(blobs, sealedBlob{region, g.CiphertextBlob, ectx, g.Plaintext})
	}
	rot, err := hz.CreateKey(ctx, CreateKeyInput{Description: "rotating", EnableAutomaticRotation: true, RotationInterval: "7d"})
	if err != nil {
		t.Fatal(err)
	}
	seal(hz, "cn-hangzhou", rot.KeyId, map[string]string{"v": "1"})
	man, _ := hz.CreateKey(ctx, CreateKeyInput{Description: "manual"})
	seal(hz, "cn-hangzhou", man.KeyId, nil)
	clk.Advance(time.Hour)
	if _, err := hz.CreateKeyVersion(ctx, man.KeyId); err != nil {
		t.Fatal(err)
	}
	seal(hz, "cn-hangzhou", man.KeyId, map[string]string{"after": "rotation"})
	dis, _ := hz.CreateKey(ctx, CreateKeyInput{})
	seal(hz, "cn-hangzhou", dis.KeyId, nil)
	pend, _ := hz.CreateKey(ctx, CreateKeyInput{})
	for _, err := range []error{
		hz.DisableKey(ctx, dis.KeyId),
		hz.UpdateKeyDescription(ctx, man.KeyId, "manual, described"),
		hz.CreateAlias(ctx, "alias/rot", rot.KeyId),
		hz.CreateAlias(ctx, "alias/man", man.KeyId),
		hz.CreateAlias(ctx, "alias/pend", pend.KeyId),
		hz.ScheduleKeyDeletion(ctx, pend.KeyId, 30),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	seal(hz, "cn-hangzhou", ServiceKeyAliasOSS, map[string]string{"bucket": "b"})
	seal(sh, "cn-shanghai", ServiceKeyAliasOSS, nil)
	// Lazy rotation is a mutation too.
	clk.Advance(7 * day)
	seal(hz, "cn-hangzhou", "alias/rot", nil)
	return e, blobs
}

func TestPersistenceAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	root := testRootKey(t, 1)
	clk := clock.NewFake(t0)
	e1, blobs := buildPersistentStore(t, dir, root, clk)
	before := observe(t, e1, "cn-hangzhou", "cn-shanghai")
	if len(before.Keys) != 6 || len(before.Aliases["cn-hangzhou"]) != 4 {
		t.Fatalf("setup: %d keys, aliases %+v", len(before.Keys), before.Aliases)
	}

	path := filepath.Join(dir, KeystoreFile)
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("keystore mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	data, _ := os.ReadFile(path)
	if !bytes.Contains(data, []byte(root.ID())) || !bytes.Contains(data, []byte(KeystoreFormat)) {
		t.Fatal("keystore does not record its format and root key id")
	}
	e1.mu.RLock()
	for _, rs := range e1.st.regions {
		for _, k := range rs.keys {
			for _, v := range k.versions {
				for _, enc := range [][]byte{v.material, []byte(base64.StdEncoding.EncodeToString(v.material)), []byte(hex.EncodeToString(v.material))} {
					if bytes.Contains(data, enc) {
						t.Fatal("key material appears unsealed in the keystore")
					}
				}
			}
		}
	}
	e1.mu.RUnlock()

	e2, err := New(Config{Dir: dir, RootKey: root, Clock: clk, Rand: newDetRand(8)})
	if err != nil {
		t.Fatalf("reload: %v", err)
	}
	after := observe(t, e2, "cn-hangzhou", "cn-shanghai")
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("state changed across restart\nbefore %+v\nafter  %+v", before, after)
	}
	for i, b := range blobs {
		d, err := e2.Region(b.region).Decrypt(t.Context(), DecryptInput{CiphertextBlob: b.blob, EncryptionContext: b.ectx})
		switch {
		case i == 3: // the disabled key's blob
			wantErr(t, "blob of the disabled key", err, CodeDisabled, 409)
		case err != nil || !bytes.Equal(d.Plaintext, b.pt):
			t.Fatalf("blob %d after restart: %v", i, err)
		}
	}
	// Lazy events after the restart still happen on schedule and persist.
	clk.Advance(30 * day)
	hz := e2.Region("cn-hangzhou")
	if _, err := hz.DescribeKey(t.Context(), "alias/pend"); err == nil {
		t.Fatal("pending key survived its DeleteDate after restart")
	}
	e3, err := New(Config{Dir: dir, RootKey: root, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	final := observe(t, e3, "cn-hangzhou", "cn-shanghai")
	if len(final.Keys) != 5 || len(final.Aliases["cn-hangzhou"]) != 3 {
		t.Fatalf("after lazy deletion and restart: %d keys, %d aliases", len(final.Keys), len(final.Aliases["cn-hangzhou"]))
	}
}

func TestWrongRootKey(t *testing.T) {
	dir := t.TempDir()
	good, bad := testRootKey(t, 1), testRootKey(t, 2)
	buildPersistentStore(t, dir, good, clock.NewFake(t0))
	_, err := New(Config{Dir: dir, RootKey: bad})
	var mm *RootKeyMismatchError
	if !errors.Is(err, ErrWrongRootKey) || !errors.As(err, &mm) || errors.Is(err, ErrCorruptKeystore) {
		t.Fatalf("wrong root key: %v", err)
	}
	if !strings.Contains(err.Error(), good.ID()) || !strings.Contains(err.Error(), bad.ID()) || good.ID() == bad.ID() {
		t.Fatalf("error does not name both root key ids (%s, %s): %v", good.ID(), bad.ID(), err)
	}
	if _, err := New(Config{Dir: dir}); !errors.Is(err, ErrConfig) {
		t.Fatalf("Dir without RootKey: %v", err)
	}
}

func TestCorruptKeystore(t *testing.T) {
	dir := t.TempDir()
	root := testRootKey(t, 1)
	buildPersistentStore(t, dir, root, clock.NewFake(t0))
	path := filepath.Join(dir, KeystoreFile)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A sealed material value, to damage on purpose.
	i := bytes.Index(orig, []byte(`"sealed_material": "`))
	if i < 0 {
		t.Fatal("no sealed_material in keystore")
	}
	sealedAt := i + len(`"sealed_material": "`) + 10
	flipSealed := bytes.Clone(orig)
	flipSealed[sealedAt] = map[bool]byte{true: 'B', false: 'A'}[flipSealed[sealedAt] == 'A']
	cases := map[string][]byte{
		"empty":             {},
		"truncated half":    orig[:len(orig)/2],
		"truncated by one":  orig[:len(orig)-2], // -1 is the trailing newline
		"bad json":          []byte("{"),
		"array":             []byte("[]"),
		"null":              []byte("null"),
		"unknown field":     bytes.Replace(orig, []byte(`"seq"`), []byte(`"sequence"`), 1),
		"wrong format":      bytes.Replace(orig, []byte(KeystoreFormat), []byte("sseaudit/kms-keystore/v9"), 1),
		"sealed bytes":      flipSealed,
		"trailing garbage":  append(bytes.Clone(orig), []byte("{}")...),
		"alias to nowhere":  bytes.Replace(orig, []byte(`"alias/man": "`), []byte(`"alias/man": "0`), 1),
		"bad state":         bytes.Replace(orig, []byte(`"key_state": "Disabled"`), []byte(`"key_state": "Gone"`), 1),
		"bad date":          bytes.Replace(orig, []byte(`"creation_date": "2026`), []byte(`"creation_date": "x2026`), 1),
		"duplicate version": duplicateFirstVersion(t, orig),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if bytes.Equal(data, orig) {
				t.Fatal("test case did not change the file")
			}
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := New(Config{Dir: dir, RootKey: root})
			if !errors.Is(err, ErrCorruptKeystore) {
				t.Fatalf("got %v, want ErrCorruptKeystore", err)
			}
		})
	}
}

func duplicateFirstVersion(t *testing.T, orig []byte) []byte {
	t.Helper()
	start := bytes.Index(orig, []byte(`"versions": [`))
	if start < 0 {
		t.Fatal("no versions array")
	}
	start += len(`"versions": [`)
	end := bytes.Index(orig[start:], []byte("}")) + start + 1
	v := orig[start:end]
	out := append(bytes.Clone(orig[:end]), ',')
	out = append(out, v...)
	return append(out, orig[end:]...)
}

// TestKeystoreByteFlips: no single-byte change to the keystore makes New
// panic or makes any old blob decrypt to other plaintext.
func TestKeystoreByteFlips(t *testing.T) {
	dir := t.TempDir()
	root := testRootKey(t, 1)
	clk := clock.NewFake(t0)
	_, blobs := buildPersistentStore(t, dir, root, clk)
	path := filepath.Join(dir, KeystoreFile)
	orig, _ := os.ReadFile(path)
	step := 3 // every third byte keeps the test around a second under -race
	if testing.Short() {
		step = 11
	}
	accepted := 0
	for i := 0; i < len(orig); i += step {
		data := bytes.Clone(orig)
		data[i] ^= 0x01
		st, err := decodeKeystore(data, path, root, DefaultAccount)
		if err != nil {
			if !errors.Is(err, ErrCorruptKeystore) && !errors.Is(err, ErrWrongRootKey) {
				t.Fatalf("flip at %d: untyped error %v", i, err)
			}
			continue
		}
		accepted++
		e := &Emulator{account: DefaultAccount, clock: clk, rand: newDetRand(1), st: st}
		for _, b := range blobs {
			d, err := e.Region(b.region).Decrypt(t.Context(), DecryptInput{CiphertextBlob: b.blob, EncryptionContext: b.ectx})
			if err == nil && !bytes.Equal(d.Plaintext, b.pt) {
				t.Fatalf("flip at %d: blob decrypts to different plaintext", i)
			}
		}
	}
	if accepted == 0 || accepted*2 > len(orig)/step {
		t.Fatalf("%d of %d flips accepted; expected some (descriptions, dates) but far from most", accepted, len(orig)/step)
	}
}

// TestPersistFailureRollsBack: when the keystore cannot be written, the
// call fails with InternalFailure and nothing changes in memory either.
func TestPersistFailureRollsBack(t *testing.T) {
	dir := t.TempDir()
	te := newTestEnv(t, Config{Dir: dir, RootKey: testRootKey(t, 1)})
	key := te.createKey(t)
	te.e.path = filepath.Join(dir, "missing-dir", KeystoreFile)
	_, err := te.api.CreateKey(te.ctx, CreateKeyInput{})
	wantErr(t, "CreateKey with an unwritable keystore", err, CodeInternal, 500)
	wantErr(t, "DisableKey with an unwritable keystore", te.api.DisableKey(te.ctx, key), CodeInternal, 500)
	_, err = te.api.GenerateDataKey(te.ctx, GenerateDataKeyInput{KeyId: ServiceKeyAliasOSS})
	wantErr(t, "service key creation with an unwritable keystore", err, CodeInternal, 500)
	l, _ := te.api.ListKeys(te.ctx, Page{})
	if l.TotalCount != 1 || te.describe(t, key).KeyState != StateEnabled {
		t.Fatalf("state changed although the write failed: %+v", l)
	}
	// Reads and the data plane still work.
	if _, err := te.api.GenerateDataKey(te.ctx, GenerateDataKeyInput{KeyId: key}); err != nil {
		t.Fatal(err)
	}
}
