package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sseaudit/sseaudit/embedded"
)

// TestFsck: a clean stopped data directory passes (exit 0); an edited
// keystore is listed as a problem naming the file (exit 1); a directory in
// use by a running server, or one that is not there, cannot be checked
// (exit 2).
func TestFsck(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	noEnv := func(string) string { return "" }
	ref, err := embedded.Start(ctx, embedded.Config{DataDir: data, Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ref.CreateKeyInRegion(ctx, embedded.DefaultRegion, "fsck test"); err != nil {
		t.Fatal(err)
	}
	if r := runCLIEnv(t, noEnv, "fsck", "--data", data); r.code != exitFailed || !strings.Contains(r.stderr+r.err.Error(), "in use") {
		t.Errorf("fsck of a running server's directory: exit %d, %v; want 2 naming it in use", r.code, r.err)
	}
	if err := ref.Close(ctx); err != nil {
		t.Fatal(err)
	}
	r := runCLIEnv(t, noEnv, "fsck", "--data", data)
	if r.code != 0 || !strings.Contains(r.stdout, "no problems") {
		t.Fatalf("fsck of a clean directory: exit %d, %v\n%s", r.code, r.err, r.stdout)
	}
	ks := filepath.Join(data, "kms", "keystore.json")
	b, err := os.ReadFile(ks)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ks, []byte(strings.Replace(string(b), `"Enabled"`, `"Disabled"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runCLIEnv(t, noEnv, "fsck", "--data", data, "--json")
	if r.code != exitGate || !strings.Contains(r.stdout, "keystore.json") || !strings.Contains(r.stdout, "does not authenticate") {
		t.Errorf("fsck of an edited keystore: exit %d, %v\n%s", r.code, r.err, r.stdout)
	}
	if r := runCLIEnv(t, noEnv, "fsck", "--data", filepath.Join(data, "nowhere")); r.code != exitFailed {
		t.Errorf("fsck of a missing directory: exit %d, want 2", r.code)
	}
}
