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
