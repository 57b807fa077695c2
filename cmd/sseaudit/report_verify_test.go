package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/attest"
)

// runCLIWithin runs the CLI and fails the test when it does not return
// within d: a verifier that blocks on a FIFO or hashes /dev/zero never does.
func runCLIWithin(t *testing.T, d time.Duration, args ...string) cliRun {
	t.Helper()
	done := make(chan cliRun, 1)
	go func() { done <- runCLI(t, args...) }()
	select {
	case r := <-done:
		return r
	case <-time.After(d):
		t.Fatalf("sseaudit %s did not return within %s", strings.Join(args, " "), d)
		return cliRun{}
	}
}

// resignReport edits dir's manifest with fn and signs it again with the key
// at keyPath, so the signature is valid and only the edit is hostile.
func resignReport(t *testing.T, dir, keyPath string, fn func(*attest.Manifest)) {
	t.Helper()
	key, err := attest.LoadPrivateKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	mp := filepath.Join(dir, attest.ManifestFile)
	raw, err := os.ReadFile(mp)
	if err != nil {
		t.Fatal(err)
	}
	var m attest.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	fn(&m)
	if raw, err = m.Encode(); err != nil {
		t.Fatal(err)
	}
	sig := base64.StdEncoding.EncodeToString(ed25519.Sign(key, raw)) + "\n"
	if err := os.WriteFile(mp, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, attest.SignatureFile), []byte(sig), 0o644); err != nil {
		t.Fatal(err)
	}
}

// symlinkOut replaces dir/rel with a symlink to an identical copy outside
// dir: only a verifier that follows links calls the result intact.
func symlinkOut(t *testing.T, dir, rel string) {
	t.Helper()
	p := filepath.Join(dir, rel)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), rel)
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(p)
	if err := os.Symlink(out, p); err != nil {
		t.Fatal(err)
	}
}

func TestReportVerifyHostileDirectories(t *testing.T) {
	isolateConfig(t)
	keyPath := filepath.Join(t.TempDir(), "signing.key")
	signed := signedReport(t, keyPath)
	cases := []struct {
		name   string
		tamper func(t *testing.T, dir string)
		want   string // in the error, which names each problem
	}{
		{name: "added file", want: "file-unlisted extra.txt",
			tamper: func(t *testing.T, d string) { os.WriteFile(filepath.Join(d, "extra.txt"), []byte("x"), 0o644) }},
		{name: "added nested directory", want: "file-unlisted more/",
			tamper: func(t *testing.T, d string) {
				os.MkdirAll(filepath.Join(d, "more", "deeper"), 0o755)
				os.WriteFile(filepath.Join(d, "more", "deeper", "x"), []byte("x"), 0o644)
			}},
		{name: "listed file is a symlink out to identical content", want: "file-not-regular report.json",
			tamper: func(t *testing.T, d string) { symlinkOut(t, d, "report.json") }},
		{name: "listed file is a symlink to /dev/zero", want: "file-not-regular findings.csv",
			tamper: func(t *testing.T, d string) {
				os.Remove(filepath.Join(d, "findings.csv"))
				os.Symlink("/dev/zero", filepath.Join(d, "findings.csv"))
			}},
		{name: "listed file is a FIFO", want: "file-not-regular summary.md",
			tamper: func(t *testing.T, d string) {
				os.Remove(filepath.Join(d, "summary.md"))
				if err := syscall.Mkfifo(filepath.Join(d, "summary.md"), 0o644); err != nil {
					t.Skipf("mkfifo: %v", err)
				}
			}},
		{name: "manifest is a symlink to an identical copy", want: "manifest-invalid manifest.json",
			tamper: func(t *testing.T, d string) { symlinkOut(t, d, attest.ManifestFile) }},
		{name: "signed manifest lists a .. path", want: "manifest-invalid manifest.json",
			tamper: func(t *testing.T, d string) {
				os.WriteFile(filepath.Join(filepath.Dir(d), "outside.txt"), []byte("x"), 0o644)
				resignReport(t, d, keyPath, func(m *attest.Manifest) {
					m.Files = append(m.Files, attest.FileDigest{Path: "../outside.txt", SHA256: strings.Repeat("0", 64), Size: 1})
				})
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := copyDir(t, signed)
			tc.tamper(t, d)
			start := time.Now()
			v := runCLIWithin(t, 10*time.Second, "report", "verify", d, "--key", keyPath+".pub")
			if el := time.Since(start); el > 2*time.Second {
				t.Errorf("verify took %s", el)
			}
			if v.code != exitVerifyFailed {
				t.Fatalf("exit %d, want %d: %v\n%s", v.code, exitVerifyFailed, v.err, v.stdout)
			}
			if !strings.Contains(v.err.Error(), tc.want) || !strings.Contains(v.stdout, "FAIL") {
				t.Errorf("error does not name %q: %v\nstdout:\n%s", tc.want, v.err, v.stdout)
			}
		})
	}
}

func TestReportVerifyBadInput(t *testing.T) {
	isolateConfig(t)
	keyPath := filepath.Join(t.TempDir(), "signing.key")
	signed := signedReport(t, keyPath)
	garbage := filepath.Join(t.TempDir(), "garbage.pub")
	os.WriteFile(garbage, []byte("not a key"), 0o644)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"missing directory", []string{filepath.Join(signed, "nope")}, "nope"},
		{"a file, not a directory", []string{filepath.Join(signed, "report.json")}, "not a directory"},
		{"missing key file", []string{signed, "--key", filepath.Join(t.TempDir(), "none.pub")}, "--key"},
		{"unreadable key", []string{signed, "--key", garbage}, "--key"},
		{"key file is /dev/zero", []string{signed, "--key", "/dev/zero"}, "--key"},
		{"malformed key id", []string{signed, "--key-id", "xyz"}, "--key-id"},
		{"missing previous directory", []string{signed, "--previous", filepath.Join(t.TempDir(), "nope")}, "--previous"},
		{"missing chain log", []string{signed, "--chain", filepath.Join(t.TempDir(), "chain.json")}, "--chain"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := runCLIWithin(t, 10*time.Second, append([]string{"report", "verify"}, tc.args...)...)
			if v.code != exitVerifyError || !strings.Contains(v.err.Error(), tc.want) {
				t.Fatalf("exit %d (want %d), error %v (want it to name %q)", v.code, exitVerifyError, v.err, tc.want)
			}
		})
	}
}

// A signal stops a long verification promptly, with exit 2 (the check did
// not run to the end), never "intact". This needs the real process: the
// signal handling is in main.
func TestReportVerifyStopsOnSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	cfg := isolateConfig(t)
	keyPath := filepath.Join(t.TempDir(), "signing.key")
	signed := signedReport(t, keyPath)
	// A listed 64 GiB sparse file: no disk used, but minutes to hash.
	const size = 64 << 30
	big := filepath.Join(signed, "big.bin")
	if err := os.WriteFile(big, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, size); err != nil {
		t.Skipf("sparse file: %v", err)
	}
	resignReport(t, signed, keyPath, func(m *attest.Manifest) {
		m.Files = append(m.Files, attest.FileDigest{Path: "big.bin", SHA256: strings.Repeat("0", 64), Size: size})
	})
	bin := buildBinary(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(bin, "report", "verify", signed, "--key", keyPath+".pub")
			cmd.Env = append(os.Environ(), "HOME="+cfg, "XDG_CONFIG_HOME="+cfg)
			var stderr syncBuffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				t.Fatalf("verify ended before the signal: %v\n%s", err, stderr.String())
			case <-time.After(700 * time.Millisecond):
			}
			sent := time.Now()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				el := time.Since(sent)
				var xe *exec.ExitError
				if !errors.As(err, &xe) || xe.ExitCode() != exitVerifyError {
					t.Fatalf("exit %v, want %d\n%s", err, exitVerifyError, stderr.String())
				}
				if !strings.Contains(stderr.String(), "interrupted") {
					t.Errorf("stderr does not say it was interrupted:\n%s", stderr.String())
				}
				if el > 2*time.Second {
					t.Errorf("stopped %s after %s", el, sig)
				}
				t.Logf("stopped %s after %s: %s", el, sig, strings.TrimSpace(stderr.String()))
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("verify ignored %s for 10s", sig)
			}
		})
	}
}

// forgeReport copies dir, edits its findings.json and signs the copy again
// with the key at otherKey (created when missing): every file matches the
// new manifest and the signature is valid; only the signer differs.
func forgeReport(t *testing.T, dir, otherKey string) string {
	t.Helper()
	d := copyDir(t, dir)
	p := filepath.Join(d, "findings.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, append(b, ' '), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(d, attest.ManifestFile))
	os.Remove(filepath.Join(d, attest.SignatureFile))
	ents, err := os.ReadDir(d)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range ents {
		files = append(files, e.Name())
	}
	key, _, err := attest.LoadOrCreateKey(otherKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := attest.Sign(d, files, key, nil); err != nil {
		t.Fatal(err)
	}
	return d
}

// A report edited and signed again with someone else's key verified as
// "intact", exit 0: without --key or --key-id the signature was checked
// against the key the manifest names, and the local chain log, which
// belongs to the user's own key, was skipped quietly (the reviewer's
// /tmp/rv/forge). Unpinned, the user's own key is now the pin.
func TestReportVerifyUnpinned(t *testing.T) {
	isolateConfig(t)
	own := defaultSigningKeyPath()
	mine := signedReport(t, own)
	other := filepath.Join(t.TempDir(), "other.key")
	forged := forgeReport(t, mine, other)
	otherKey, err := attest.LoadPublicKey(other + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	otherID := attest.KeyID(otherKey)
	garbage := filepath.Join(t.TempDir(), "garbage")
	os.WriteFile(garbage, []byte("not a key"), 0o644)

	cases := []struct {
		name   string
		setup  func(t *testing.T) // changes the local key files
		dir    string
		args   []string
		code   int
		stdout []string // each in stdout
		err    string   // in the error
	}{
		{name: "own report", dir: mine, stdout: []string{"intact", "(trusted: your own key, " + own + ".pub)", "chain log"}},
		{name: "report re-signed by another key", dir: forged, code: exitVerifyFailed, err: "untrusted-key",
			stdout: []string{"FAIL untrusted-key", "not by your own key", "--key-id " + otherID, "--allow-unpinned"}},
		{name: "the other key pinned by id", dir: forged, args: []string{"--key-id", otherID}, stdout: []string{"intact", "(trusted)"}},
		{name: "the other key pinned by file", dir: forged, args: []string{"--key", other + ".pub"}, stdout: []string{"(trusted)"}},
		{name: "allow unpinned", dir: forged, args: []string{"--allow-unpinned"},
			stdout: []string{"intact", "(NOT PINNED)", "WARNING: NOT PINNED", "--allow-unpinned was given", "key " + otherID}},
		{name: "allow unpinned with a pin", dir: forged, args: []string{"--allow-unpinned", "--key-id", otherID}, code: exitVerifyError, err: "--allow-unpinned"},
		{name: "only the chain log is left", dir: forged, code: exitVerifyFailed, err: "untrusted-key",
			setup:  func(t *testing.T) { os.Rename(own+".pub", own+".pub.away") },
			stdout: []string{attest.ChainPath(own)}},
		{name: "only the chain log, own report", dir: mine, stdout: []string{"(trusted: your own key, " + attest.ChainPath(own) + ")"}},
		{name: "unreadable public key", dir: mine, code: exitVerifyError, err: "your default public key cannot be read",
			setup: func(t *testing.T) {
				b, _ := os.ReadFile(garbage)
				os.WriteFile(own+".pub", b, 0o644)
			}},
		{name: "no local key at all", dir: forged,
			setup: func(t *testing.T) {
				os.Remove(own + ".pub")
				os.Remove(attest.ChainPath(own))
				os.Remove(own)
			},
			stdout: []string{"intact", "(NOT PINNED)", "WARNING: NOT PINNED", "no " + own + ".pub"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup(t)
			}
			v := runCLIWithin(t, 10*time.Second, append([]string{"report", "verify", tc.dir}, tc.args...)...)
			if v.code != tc.code {
				t.Fatalf("exit %d, want %d: %v\n%s", v.code, tc.code, v.err, v.stdout)
			}
			if tc.err != "" && (v.err == nil || !strings.Contains(v.err.Error(), tc.err)) {
				t.Errorf("error %v does not name %q", v.err, tc.err)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(v.stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, v.stdout)
				}
			}
			if tc.code == 0 && strings.Contains(v.stdout, "(trusted") == strings.Contains(v.stdout, "NOT PINNED") {
				t.Errorf("stdout says neither or both of trusted and NOT PINNED:\n%s", v.stdout)
			}
		})
	}
}

// 'report --from' re-signs what it re-renders with the signing key: a
// source signed by another key would be laundered into a report that
// verifies as the user's own. It must be signed by the signing key.
func TestReportRerenderRefusesAnotherSigner(t *testing.T) {
	isolateConfig(t)
	own := filepath.Join(t.TempDir(), "signing.key")
	mine := signedReport(t, own)
	forged := forgeReport(t, mine, filepath.Join(t.TempDir(), "other.key"))
	fresh := filepath.Join(t.TempDir(), "new.key")
	cases := []struct {
		name, from, key string
		extra           []string
		code            int
		want            string
	}{
		{"another signer", forged, own, nil, exitVerifyFailed, "untrusted-key"},
		{"the signing key does not exist yet", mine, fresh, nil, exitVerifyFailed, "does not exist yet"},
		{"another signer, allowed", forged, own, []string{"--allow-unverified"}, 0, ""},
		{"own report", mine, own, nil, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "again")
			v := runCLI(t, append([]string{"report", "--from", tc.from, "--out", out, "--signing-key", tc.key}, tc.extra...)...)
			if v.code != tc.code {
				t.Fatalf("exit %d, want %d: %v\n%s", v.code, tc.code, v.err, v.stdout)
			}
			if tc.want != "" && !strings.Contains(v.err.Error()+v.stdout, tc.want) {
				t.Errorf("does not say %q: %v\n%s", tc.want, v.err, v.stdout)
			}
			if _, err := os.Stat(out); (err == nil) != (tc.code == 0) {
				t.Errorf("--out exists: %v, exit %d", err == nil, v.code)
			}
			if tc.code != 0 {
				if _, err := os.Stat(tc.key); tc.key == fresh && err == nil {
					t.Error("a refused re-render created the signing key")
				}
			}
		})
	}
}
