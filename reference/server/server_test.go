package server

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	kmssdk "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/sseaudit/sseaudit/kmsclient"
)

func noEnv(string) string { return "" }

func TestStartRestartAndLock(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Start(ctx, Config{DataDir: dir, KMSAddr: "127.0.0.1:0", Getenv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	if !s.RootGenerated || s.RootKeySource != "newly generated key file" {
		t.Fatalf("first start: generated=%v source=%q", s.RootGenerated, s.RootKeySource)
	}
	if !strings.HasPrefix(s.KMSEndpoint, "http://127.0.0.1:") {
		t.Fatalf("endpoint %q", s.KMSEndpoint)
	}
	// A second server on the same data directory is refused.
	if _, err := Start(ctx, Config{DataDir: dir, KMSAddr: "127.0.0.1:0", Getenv: noEnv}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second server: %v, want ErrLocked", err)
	}
	c := client(t, s)
	created, err := c.CreateKey(&kmssdk.CreateKeyRequest{Description: tea.String("survives restart")})
	if err != nil {
		t.Fatal(err)
	}
	keyID := tea.StringValue(created.Body.KeyMetadata.KeyId)
	dk, err := c.GenerateDataKey(&kmssdk.GenerateDataKeyRequest{KeyId: tea.String(keyID)})
	if err != nil {
		t.Fatal(err)
	}
	root := s.Root
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}

	for _, f := range []string{RootKeyFile, KMSAuditFile, "root-credentials.sealed", filepath.Join(KMSDir, "keystore.json")} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v; secrets and logs must be 0600", f, st.Mode().Perm())
		}
	}
	raw, _ := os.ReadFile(filepath.Join(dir, KMSAuditFile))
	if !strings.Contains(string(raw), "GenerateDataKey") || strings.Contains(string(raw), tea.StringValue(dk.Body.Plaintext)) {
		t.Fatalf("audit log must record the operation but never the data key:\n%s", raw)
	}

	s2, err := Start(ctx, Config{DataDir: dir, KMSAddr: "127.0.0.1:0", Getenv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close(ctx)
	if s2.RootGenerated || s2.Root != root {
		t.Fatal("root credentials changed across a restart")
	}
	dec, err := client(t, s2).Decrypt(&kmssdk.DecryptRequest{CiphertextBlob: dk.Body.CiphertextBlob})
	if err != nil {
		t.Fatalf("decrypt after restart: %v", err)
	}
	if tea.StringValue(dec.Body.Plaintext) != tea.StringValue(dk.Body.Plaintext) || tea.StringValue(dec.Body.KeyId) != keyID {
		t.Fatal("data key differs after restart")
	}
}

func client(t *testing.T, s *Server) *kmssdk.Client {
	t.Helper()
	c, err := kmsclient.New(s.KMSEndpoint, "cn-hangzhou", s.Root.AccessKeyID, s.Root.AccessKeySecret)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func kmsClient(endpoint string) (*kmssdk.Client, error) {
	return kmsclient.New(endpoint, "cn-hangzhou", rootAK, rootSK)
}
