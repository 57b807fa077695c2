package attest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pubOf(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

// writeReport fills dir with a small report.
func writeReport(t *testing.T, dir string) {
	t.Helper()
	files := map[string]string{
		"report.json":      `{"schema":"sseaudit.report/v1"}`,
		"findings.json":    `{"findings":[{"id":"a","severity":"high"}]}`,
		"index.html":       "<html></html>",
		"assets/style.css": "body{}",
	}
	for p, c := range files {
		fp := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(fp), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fp, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func kinds(ps []Problem) map[Kind][]string {
	out := map[Kind][]string{}
	for _, p := range ps {
		out[p.Kind] = append(out[p.Kind], p.Path)
	}
	return out
}

func TestSignVerify(t *testing.T) {
	key, other := newKey(t), newKey(t)
	type change struct {
		name    string
		tamper  func(t *testing.T, dir string)
		opts    func(dir string) VerifyOptions
		want    map[Kind]string // kind -> path named
		errText string
	}
	pinned := func(string) VerifyOptions { return VerifyOptions{PublicKey: pubOf(key)} }
	cases := []change{
		{name: "untouched", opts: pinned},
		{name: "untouched, pinned by key id", opts: func(string) VerifyOptions { return VerifyOptions{TrustedKeyID: strings.ToUpper(KeyID(pubOf(key)))} }},
		{name: "untouched, embedded key only"},
		{name: "edited finding", opts: pinned,
			tamper: func(t *testing.T, dir string) {
				write(t, filepath.Join(dir, "findings.json"), `{"findings":[]}`)
			},
			want: map[Kind]string{FileModified: "findings.json"}, errText: "findings.json"},
		{name: "edited nested file, same size", opts: pinned,
			tamper: func(t *testing.T, dir string) { write(t, filepath.Join(dir, "assets", "style.css"), "body{X") },
			want:   map[Kind]string{FileModified: "assets/style.css"}},
		{name: "removed file", opts: pinned,
			tamper: func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "index.html")) },
			want:   map[Kind]string{FileMissing: "index.html"}, errText: "index.html"},
		{name: "added file fails", opts: pinned,
			tamper: func(t *testing.T, dir string) { write(t, filepath.Join(dir, "notes.txt"), "x") },
			want:   map[Kind]string{FileUnlisted: "notes.txt"}, errText: "notes.txt"},
		{name: "several problems named together", opts: pinned,
			tamper: func(t *testing.T, dir string) {
				write(t, filepath.Join(dir, "findings.json"), `{}`)
				os.Remove(filepath.Join(dir, "report.json"))
			},
			want: map[Kind]string{FileModified: "findings.json", FileMissing: "report.json"}},
		{name: "replaced signature (re-signed with another key)", opts: pinned,
			tamper: func(t *testing.T, dir string) {
				write(t, filepath.Join(dir, "findings.json"), `{"findings":[]}`)
				if _, err := Sign(dir, nil, other, nil); err != nil {
					t.Fatal(err)
				}
			},
			want: map[Kind]string{UntrustedKey: SignatureFile}, errText: KeyID(pubOf(other))},
		{name: "signature file swapped for another key's", opts: pinned,
			tamper: func(t *testing.T, dir string) {
				raw, _ := os.ReadFile(filepath.Join(dir, ManifestFile))
				write(t, filepath.Join(dir, SignatureFile), base64.StdEncoding.EncodeToString(ed25519.Sign(other, raw)))
			},
			want: map[Kind]string{SignatureInvalid: SignatureFile}},
		{name: "signature removed", opts: pinned,
			tamper: func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, SignatureFile)) },
			want:   map[Kind]string{SignatureMissing: SignatureFile}},
		{name: "edited manifest (digest updated to hide an edit)", opts: pinned,
			tamper: func(t *testing.T, dir string) {
				write(t, filepath.Join(dir, "findings.json"), `{"findings":[]}`)
				editManifest(t, dir, func(m *Manifest) {
					for i := range m.Files {
						if m.Files[i].Path == "findings.json" {
							sum := sha256.Sum256([]byte(`{"findings":[]}`))
							m.Files[i].SHA256, m.Files[i].Size = hex.EncodeToString(sum[:]), 15
						}
					}
				})
			},
			want: map[Kind]string{SignatureInvalid: SignatureFile}},
		{name: "edited manifest, no key pinned",
			tamper: func(t *testing.T, dir string) {
				editManifest(t, dir, func(m *Manifest) { m.Tool.Version = "forged" })
			},
			want: map[Kind]string{SignatureInvalid: SignatureFile}},
		{name: "manifest not parseable", opts: pinned,
			tamper: func(t *testing.T, dir string) { write(t, filepath.Join(dir, ManifestFile), "{") },
			want:   map[Kind]string{ManifestInvalid: ManifestFile}},
		{name: "manifest removed", opts: pinned,
			tamper: func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, ManifestFile)) },
			want:   map[Kind]string{ManifestMissing: ManifestFile}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeReport(t, dir)
			if _, err := Sign(dir, nil, key, nil, Meta{Tool: Tool{Name: "sseaudit", Version: "test"}}); err != nil {
				t.Fatal(err)
			}
			if tc.tamper != nil {
				tc.tamper(t, dir)
			}
			var opts VerifyOptions
			if tc.opts != nil {
				opts = tc.opts(dir)
			}
			rep, err := Verify(context.Background(), dir, opts)
			got := kinds(rep.Problems)
			if len(tc.want) == 0 {
				if err != nil || !rep.OK() || !rep.SignatureValid {
					t.Fatalf("want intact, got %v (%+v)", err, rep.Problems)
				}
				if rep.FilesChecked != 4 {
					t.Errorf("checked %d files, want 4", rep.FilesChecked)
				}
			} else {
				if err == nil || !errors.Is(err, ErrTampered) {
					t.Fatalf("want ErrTampered, got %v", err)
				}
				for k, p := range tc.want {
					if !contains(got[k], p) {
						t.Errorf("want %s naming %q, got %+v", k, p, rep.Problems)
					}
				}
				if len(got) != len(tc.want) {
					t.Errorf("want only %v, got %+v", tc.want, rep.Problems)
				}
				if tc.errText != "" && !strings.Contains(err.Error(), tc.errText) {
					t.Errorf("error %q does not name %q", err, tc.errText)
				}
			}
		})
	}
}

func contains(xs []string, x string) bool {
	for _, s := range xs {
		if s == x {
			return true
		}
	}
	return false
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func editManifest(t *testing.T, dir string, fn func(*Manifest)) {
	t.Helper()
	p := filepath.Join(dir, ManifestFile)
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	fn(&m)
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	write(t, p, string(b))
}

func TestSignRejectsPathsOutside(t *testing.T) {
	dir := t.TempDir()
	writeReport(t, dir)
	for _, p := range []string{"../x", "/etc/passwd", ".."} {
		if _, err := Sign(dir, []string{p}, newKey(t), nil); err == nil {
			t.Errorf("Sign accepted %q", p)
		}
	}
}

func TestManifestConstruction(t *testing.T) {
	dir := t.TempDir()
	writeReport(t, dir)
	key := newKey(t)
	link, err := Sign(dir, nil, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, ManifestFile))
	sigText, _ := os.ReadFile(filepath.Join(dir, SignatureFile))
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(sigText)))
	if err != nil {
		t.Fatal(err)
	}
	// Plain Ed25519 over the stored bytes, as documented.
	if !ed25519.Verify(pubOf(key), raw, sig) {
		t.Fatal("signature is not Ed25519 over manifest.json bytes")
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if again, _ := m.Encode(); string(again) != string(raw) {
		t.Error("manifest.json is not in canonical encoding")
	}
	if m.Schema != Schema || m.Sequence != 1 || m.Previous != nil || len(m.KeyID) != 32 || m.KeyID != KeyID(pubOf(key)) {
		t.Errorf("manifest %+v", m)
	}
	var paths []string
	for _, f := range m.Files {
		paths = append(paths, f.Path)
	}
	if strings.Join(paths, ",") != "assets/style.css,findings.json,index.html,report.json" {
		t.Errorf("files %v", paths)
	}
	if l, err := LinkOf(dir); err != nil || l != link {
		t.Errorf("LinkOf = %+v, %v; Sign returned %+v", l, err, link)
	}
}

// signRuns signs n runs into separate directories through the chain log.
func signRuns(t *testing.T, key ed25519.PrivateKey, chainPath string, n int) []string {
	t.Helper()
	var dirs []string
	for i := 0; i < n; i++ {
		dir := t.TempDir()
		writeReport(t, dir)
		write(t, filepath.Join(dir, "run.txt"), strings.Repeat("x", i))
		if _, err := SignChained(dir, nil, key, chainPath); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	return dirs
}

func TestChain(t *testing.T) {
	key := newKey(t)
	cases := []struct {
		name   string
		verify func(t *testing.T, dirs []string, chain *ChainLog) (Report, error)
		broken bool
		kind   Kind
	}{
		{name: "consecutive runs, previous dir", verify: func(t *testing.T, d []string, _ *ChainLog) (Report, error) {
			return Verify(context.Background(), d[2], VerifyOptions{PreviousDir: d[1], PublicKey: pubOf(key)})
		}},
		{name: "consecutive runs, chain log", verify: func(t *testing.T, d []string, c *ChainLog) (Report, error) {
			return Verify(context.Background(), d[2], VerifyOptions{Chain: c})
		}},
		{name: "run skipped (previous dir is two runs back)", broken: true, kind: ChainBroken, verify: func(t *testing.T, d []string, _ *ChainLog) (Report, error) {
			return Verify(context.Background(), d[2], VerifyOptions{PreviousDir: d[0]})
		}},
		{name: "previous run edited and re-signed", broken: true, kind: ChainBroken, verify: func(t *testing.T, d []string, _ *ChainLog) (Report, error) {
			write(t, filepath.Join(d[1], "findings.json"), "{}")
			prev, err := LinkOf(d[0])
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Sign(d[1], nil, key, &prev); err != nil {
				t.Fatal(err)
			}
			return Verify(context.Background(), d[2], VerifyOptions{PreviousDir: d[1]})
		}},
		{name: "previous link altered", broken: true, kind: ChainBroken, verify: func(t *testing.T, d []string, c *ChainLog) (Report, error) {
			// Re-sign run 3 with a forged link: the signature is valid, the
			// chain is not.
			forged := ChainLink{Sequence: 2, ManifestSHA256: strings.Repeat("0", 64), Signature: "AAAA"}
			if _, err := Sign(d[2], nil, key, &forged); err != nil {
				t.Fatal(err)
			}
			return Verify(context.Background(), d[2], VerifyOptions{Chain: c})
		}},
		{name: "run missing from the chain log", broken: true, kind: ChainBroken, verify: func(t *testing.T, d []string, c *ChainLog) (Report, error) {
			c.Links = append(c.Links[:1], c.Links[2:]...)
			return Verify(context.Background(), d[2], VerifyOptions{Chain: c})
		}},
		{name: "manifest edited, named by the chain log", broken: true, kind: ManifestEdited, verify: func(t *testing.T, d []string, c *ChainLog) (Report, error) {
			editManifest(t, d[2], func(m *Manifest) { m.CreatedAt = m.CreatedAt.Add(1) })
			return Verify(context.Background(), d[2], VerifyOptions{Chain: c})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			chainPath := filepath.Join(t.TempDir(), "chain.json")
			dirs := signRuns(t, key, chainPath, 3)
			c, err := LoadChain(chainPath)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Links) != 3 || c.KeyID != KeyID(pubOf(key)) {
				t.Fatalf("chain log %+v", c)
			}
			if st, _ := os.Stat(chainPath); st.Mode().Perm() != 0o600 {
				t.Errorf("chain log mode %v", st.Mode())
			}
			rep, err := tc.verify(t, dirs, c)
			if !tc.broken {
				if err != nil {
					t.Fatalf("want intact chain: %v", err)
				}
				if rep.Manifest.Sequence != 3 || rep.Manifest.Previous == nil || rep.Manifest.Previous.Sequence != 2 {
					t.Errorf("manifest %+v", rep.Manifest)
				}
				return
			}
			if err == nil {
				t.Fatal("broken chain verified")
			}
			if len(kinds(rep.Problems)[tc.kind]) == 0 {
				t.Errorf("want %s, got %+v", tc.kind, rep.Problems)
			}
		})
	}
}

func TestSignChainedRefusesAnotherKeysLog(t *testing.T) {
	chainPath := filepath.Join(t.TempDir(), "chain.json")
	signRuns(t, newKey(t), chainPath, 1)
	dir := t.TempDir()
	writeReport(t, dir)
	if _, err := SignChained(dir, nil, newKey(t), chainPath); err == nil || !strings.Contains(err.Error(), "belongs to key") {
		t.Fatalf("err = %v", err)
	}
}

func TestKeys(t *testing.T) {
	t.Run("created 0600 then loaded", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "cfg", "signing.key")
		k1, created, err := LoadOrCreateKey(p)
		if err != nil || !created {
			t.Fatalf("create: %v %v", created, err)
		}
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v %v", st.Mode(), err)
		}
		if st, _ := os.Stat(filepath.Dir(p)); st.Mode().Perm() != 0o700 {
			t.Errorf("dir mode %v", st.Mode())
		}
		k2, created, err := LoadOrCreateKey(p)
		if err != nil || created || !k1.Equal(k2) {
			t.Fatalf("reload: %v %v", created, err)
		}
		pub, err := LoadPublicKey(p + ".pub")
		if err != nil || !pub.Equal(pubOf(k1)) {
			t.Fatalf("public key: %v", err)
		}
		if pub, err := LoadPublicKey(p); err != nil || !pub.Equal(pubOf(k1)) {
			t.Fatalf("public key from private key file: %v", err)
		}
	})
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		t.Run("refuse mode "+mode.String(), func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "signing.key")
			if _, _, err := LoadOrCreateKey(p); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, mode); err != nil {
				t.Fatal(err)
			}
			_, _, err := LoadOrCreateKey(p)
			if err == nil || !strings.Contains(err.Error(), "chmod 600 "+p) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	t.Run("user-supplied base64 seed", func(t *testing.T) {
		k := newKey(t)
		p := filepath.Join(t.TempDir(), "user.key")
		if err := os.WriteFile(p, []byte(base64.StdEncoding.EncodeToString(k.Seed())+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		got, created, err := LoadOrCreateKey(p)
		if err != nil || created || !got.Equal(k) {
			t.Fatalf("%v %v", created, err)
		}
	})
	t.Run("garbage refused", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "bad.key")
		write(t, p, "not a key")
		os.Chmod(p, 0o600)
		if _, _, err := LoadOrCreateKey(p); err == nil {
			t.Fatal("garbage key accepted")
		}
	})
}
