package attest

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// resign signs dir's manifest.json again after fn edited it, so the
// signature is valid and only the hostile content is left to catch.
func resign(t *testing.T, dir string, key ed25519.PrivateKey, fn func(*Manifest)) {
	t.Helper()
	editManifest(t, dir, fn)
	raw, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, SignatureFile), base64.StdEncoding.EncodeToString(ed25519.Sign(key, raw))+"\n")
}

// copyOut copies dir's file rel to a fresh directory outside dir and
// returns the copy's path: a symlink to it has exactly the signed content,
// so only a verifier that follows links would call the directory intact.
func copyOut(t *testing.T, dir, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), filepath.Base(rel))
	write(t, p, string(b))
	return p
}

func replaceWithSymlink(t *testing.T, p, target string) {
	t.Helper()
	if err := os.RemoveAll(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

// verifyWithin runs Verify and fails the test if it does not return within
// d: a verifier that blocks on a FIFO or reads /dev/zero never returns.
func verifyWithin(t *testing.T, d time.Duration, ctx context.Context, dir string, opts VerifyOptions) (Report, error) {
	t.Helper()
	type res struct {
		r   Report
		err error
	}
	done := make(chan res, 1)
	go func() {
		r, err := Verify(ctx, dir, opts)
		done <- res{r, err}
	}()
	select {
	case x := <-done:
		return x.r, x.err
	case <-time.After(d):
		t.Fatalf("Verify did not return within %s", d)
		return Report{}, nil
	}
}

func TestVerifyHostileDirectories(t *testing.T) {
	key := newKey(t)
	cases := []struct {
		name   string
		tamper func(t *testing.T, dir string)
		kind   Kind
		path   string
		detail string // in the problem's detail
	}{
		{name: "added file", kind: FileUnlisted, path: "notes.txt", detail: "added after signing",
			tamper: func(t *testing.T, dir string) { write(t, filepath.Join(dir, "notes.txt"), "x") }},
		{name: "added nested directory", kind: FileUnlisted, path: "extra/",
			tamper: func(t *testing.T, dir string) {
				os.MkdirAll(filepath.Join(dir, "extra", "deep"), 0o755)
				write(t, filepath.Join(dir, "extra", "deep", "x.json"), "{}")
			}},
		{name: "added file in a listed directory", kind: FileUnlisted, path: "assets/evil.js",
			tamper: func(t *testing.T, dir string) { write(t, filepath.Join(dir, "assets", "evil.js"), "x") }},
		{name: "added symlink out of the directory", kind: FileUnlisted, path: "passwd", detail: "symbolic link",
			tamper: func(t *testing.T, dir string) { os.Symlink("/etc/passwd", filepath.Join(dir, "passwd")) }},
		{name: "listed file replaced by a symlink out to identical content", kind: FileNotRegular, path: "findings.json", detail: "symbolic link",
			tamper: func(t *testing.T, dir string) {
				replaceWithSymlink(t, filepath.Join(dir, "findings.json"), copyOut(t, dir, "findings.json"))
			}},
		{name: "listed file replaced by a symlink to /dev/zero", kind: FileNotRegular, path: "report.json", detail: "/dev/zero",
			tamper: func(t *testing.T, dir string) { replaceWithSymlink(t, filepath.Join(dir, "report.json"), "/dev/zero") }},
		{name: "listed file replaced by a symlink inside the directory", kind: FileNotRegular, path: "index.html", detail: "symbolic link",
			tamper: func(t *testing.T, dir string) {
				write(t, filepath.Join(dir, "assets", "copy"), "<html></html>")
				replaceWithSymlink(t, filepath.Join(dir, "index.html"), "assets/copy")
			}},
		{name: "listed directory replaced by a symlink out", kind: FileNotRegular, path: "assets/style.css", detail: "assets is a symbolic link",
			tamper: func(t *testing.T, dir string) {
				out := filepath.Dir(copyOut(t, dir, "assets/style.css"))
				replaceWithSymlink(t, filepath.Join(dir, "assets"), out)
			}},
		{name: "listed file replaced by a FIFO", kind: FileNotRegular, path: "index.html", detail: "FIFO",
			tamper: func(t *testing.T, dir string) {
				p := filepath.Join(dir, "index.html")
				os.Remove(p)
				if err := syscall.Mkfifo(p, 0o644); err != nil {
					t.Skipf("mkfifo: %v", err)
				}
			}},
		{name: "listed file replaced by a directory", kind: FileNotRegular, path: "index.html", detail: "a directory",
			tamper: func(t *testing.T, dir string) {
				p := filepath.Join(dir, "index.html")
				os.Remove(p)
				os.MkdirAll(filepath.Join(p, "sub"), 0o755)
			}},
		{name: "manifest.json replaced by a symlink to an identical copy", kind: ManifestInvalid, path: ManifestFile, detail: "symbolic link",
			tamper: func(t *testing.T, dir string) {
				replaceWithSymlink(t, filepath.Join(dir, ManifestFile), copyOut(t, dir, ManifestFile))
			}},
		{name: "manifest.sig replaced by a symlink to /dev/zero", kind: SignatureInvalid, path: SignatureFile, detail: "symbolic link",
			tamper: func(t *testing.T, dir string) { replaceWithSymlink(t, filepath.Join(dir, SignatureFile), "/dev/zero") }},
		{name: "signed manifest lists a path out of the directory", kind: ManifestInvalid, path: ManifestFile, detail: "../outside.txt",
			tamper: func(t *testing.T, dir string) {
				resign(t, dir, key, func(m *Manifest) {
					m.Files = append(m.Files, FileDigest{Path: "../outside.txt", SHA256: strings.Repeat("0", 64), Size: 1})
				})
			}},
		{name: "signed manifest lists a path escaping through a subdirectory", kind: ManifestInvalid, path: ManifestFile, detail: "assets/../../x",
			tamper: func(t *testing.T, dir string) {
				resign(t, dir, key, func(m *Manifest) {
					m.Files = append(m.Files, FileDigest{Path: "assets/../../x", SHA256: strings.Repeat("0", 64), Size: 1})
				})
			}},
		{name: "signed manifest lists an absolute path", kind: ManifestInvalid, path: ManifestFile, detail: "/etc/passwd",
			tamper: func(t *testing.T, dir string) {
				resign(t, dir, key, func(m *Manifest) {
					m.Files = append(m.Files, FileDigest{Path: "/etc/passwd", SHA256: strings.Repeat("0", 64), Size: 1})
				})
			}},
		{name: "signed manifest lists a file twice", kind: ManifestInvalid, path: ManifestFile, detail: "twice",
			tamper: func(t *testing.T, dir string) {
				resign(t, dir, key, func(m *Manifest) { m.Files = append(m.Files, m.Files[0]) })
			}},
		{name: "listed file grown (size differs, not hashed)", kind: FileModified, path: "index.html", detail: "bytes",
			tamper: func(t *testing.T, dir string) {
				if err := os.Truncate(filepath.Join(dir, "index.html"), 1<<40); err != nil {
					t.Skipf("sparse file: %v", err)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeReport(t, dir)
			if _, err := Sign(dir, nil, key, nil); err != nil {
				t.Fatal(err)
			}
			tc.tamper(t, dir)
			start := time.Now()
			rep, err := verifyWithin(t, 10*time.Second, context.Background(), dir, VerifyOptions{PublicKey: pubOf(key)})
			if el := time.Since(start); el > 2*time.Second {
				t.Errorf("Verify took %s", el)
			}
			if !errors.Is(err, ErrTampered) || rep.OK() {
				t.Fatalf("want ErrTampered, got %v (%+v)", err, rep.Problems)
			}
			var found bool
			for _, p := range rep.Problems {
				if p.Kind == tc.kind && p.Path == tc.path && strings.Contains(p.Detail, tc.detail) {
					found = true
				}
			}
			if !found {
				t.Errorf("want %s naming %q with %q, got %+v", tc.kind, tc.path, tc.detail, rep.Problems)
			}
			if !strings.Contains(err.Error(), string(tc.kind)) {
				t.Errorf("error does not name %s: %v", tc.kind, err)
			}
		})
	}
}

// A directory holding a symlink, FIFO or device is not signed: verifying it
// would fail, and hashing it could block or never end.
func TestSignRefusesIrregularFiles(t *testing.T) {
	dir := t.TempDir()
	writeReport(t, dir)
	os.Symlink("/dev/zero", filepath.Join(dir, "zero"))
	done := make(chan error, 1)
	go func() { _, err := Sign(dir, nil, newKey(t), nil); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "zero is a symbolic link") {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Sign hashed /dev/zero")
	}
}

// A listed file as large as its manifest entry is hashed, but cancellation
// stops the hashing promptly (the CLI cancels on SIGINT/SIGTERM).
func TestVerifyStopsOnCancel(t *testing.T) {
	key := newKey(t)
	dir := t.TempDir()
	writeReport(t, dir)
	const size = 64 << 30 // sparse: costs no disk, minutes to hash
	big := filepath.Join(dir, "big.bin")
	write(t, big, "")
	if err := os.Truncate(big, size); err != nil {
		t.Skipf("sparse file: %v", err)
	}
	if _, err := Sign(dir, []string{"report.json"}, key, nil); err != nil {
		t.Fatal(err)
	}
	resign(t, dir, key, func(m *Manifest) {
		m.Files = append(m.Files, FileDigest{Path: "big.bin", SHA256: strings.Repeat("0", 64), Size: size})
	})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err := verifyWithin(t, 10*time.Second, ctx, dir, VerifyOptions{})
	el := time.Since(start)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTampered) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if el > 1500*time.Millisecond {
		t.Errorf("Verify returned %s after the start, %s after cancellation", el, el-200*time.Millisecond)
	}
	t.Logf("cancelled after 200ms, returned after %s: %v", el, err)
}

func TestVerifyUnopenableDirectory(t *testing.T) {
	_, err := Verify(context.Background(), filepath.Join(t.TempDir(), "nope"), VerifyOptions{})
	if err == nil || errors.Is(err, ErrTampered) {
		t.Fatalf("want a non-tamper error for a missing directory, got %v", err)
	}
}
