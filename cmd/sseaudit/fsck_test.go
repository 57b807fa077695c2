package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aliyun/aliyun-oss-go-sdk/oss"

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
	c, err := oss.New(ref.Endpoint, ref.AccessKeyID, ref.AccessKeySecret, oss.ForcePathStyle(true))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CreateBucket("fsck"); err != nil {
		t.Fatal(err)
	}
	bk, _ := c.Bucket("fsck")
	for _, k := range []string{"gone", "flipped"} {
		if err := bk.PutObject(k, strings.NewReader(strings.Repeat(k, 1000))); err != nil {
			t.Fatal(err)
		}
	}
	if r := runCLIEnv(t, noEnv, "fsck", "--data", data); r.code != exitFailed || !strings.Contains(r.stderr+r.err.Error(), "in use") {
		t.Errorf("fsck of a running server's directory: exit %d, %v; want 2 naming it in use", r.code, r.err)
	}
	if err := ref.Close(ctx); err != nil {
		t.Fatal(err)
	}
	r := runCLIEnv(t, noEnv, "fsck", "--data", data, "--plain-data")
	if r.code != 0 || !strings.Contains(r.stdout, "no problems") {
		t.Fatalf("fsck of a clean directory: exit %d, %v\n%s", r.code, r.err, r.stdout)
	}
	// One data file deleted, one with a flipped bit: the first is found
	// from the records alone, the second by reading plain data.
	files, err := filepath.Glob(filepath.Join(data, "objects", "data", "*"))
	if err != nil || len(files) != 2 {
		t.Fatalf("data files %v (%v), want 2", files, err)
	}
	must(t, os.Remove(files[0]))
	raw, err := os.ReadFile(files[1])
	if err != nil {
		t.Fatal(err)
	}
	raw[10] ^= 1
	must(t, os.WriteFile(files[1], raw, 0o600))
	r = runCLIEnv(t, noEnv, "fsck", "--data", data)
	if r.code != exitGate || strings.Count(r.stdout, "fsck/") != 1 || !strings.Contains(r.stdout, "missing") {
		t.Errorf("fsck with a data file deleted: exit %d, %v\n%s", r.code, r.err, r.stdout)
	}
	r = runCLIEnv(t, noEnv, "fsck", "--data", data, "--plain-data")
	if r.code != exitGate || strings.Count(r.stdout, "fsck/") != 2 {
		t.Errorf("fsck --plain-data with a data file deleted and one flipped: exit %d, %v\n%s", r.code, r.err, r.stdout)
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

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
