package main

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	kmssdk "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/snapshot"
)

// TestReadProbeFindsUnreadableData: objects under a CMK that is then
// disabled HEAD fine; a scan that cannot see the KMS (no --kms-endpoint)
// finds them only with --read-probe, as SSE-022 in either dialect, and
// names exactly those objects. Without the probe the same scan says
// nothing about them, and records no probe.
func TestReadProbeFindsUnreadableData(t *testing.T) {
	ctx := context.Background()
	srv, getenv, c, kc := startEmpty(t)
	locked, open := createCMK(t, kc), createCMK(t, kc)
	if err := c.CreateBucket(ctx, "probe", nil); err != nil {
		t.Fatal(err)
	}
	objs := []struct {
		key  string
		body string
		sse  client.SSE
	}{
		{"locked.bin", "locked data", client.SSE{Algorithm: client.AlgorithmKMS, KeyID: locked}},
		{"locked-empty", "", client.SSE{Algorithm: client.AlgorithmKMS, KeyID: locked}},
		{"open.bin", "readable", client.SSE{Algorithm: client.AlgorithmKMS, KeyID: open}},
		{"aes.bin", "service key", client.SSE{Algorithm: client.AlgorithmAES256}},
		{"plain.bin", "not encrypted", client.SSE{}},
	}
	for _, o := range objs {
		sse := o.sse
		if _, err := c.PutObject(ctx, "probe", o.key, strings.NewReader(o.body), int64(len(o.body)), client.PutOptions{SSE: &sse}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := kc.DisableKey(&kmssdk.DisableKeyRequest{KeyId: tea.String(locked)}); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		switch k {
		case "AWS_ACCESS_KEY_ID":
			return getenv("OSS_ACCESS_KEY_ID")
		case "AWS_SECRET_ACCESS_KEY":
			return getenv("OSS_ACCESS_KEY_SECRET")
		}
		return getenv(k)
	}
	for _, tc := range []struct {
		dialect, probe string
		want           []string // keys SSE-022 names
	}{
		{"oss", "all", []string{"locked-empty", "locked.bin"}},
		{"s3", "all", []string{"locked-empty", "locked.bin"}},
		{"oss", "off", nil},
	} {
		t.Run(tc.dialect+"/"+tc.probe, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "r")
			r := runCLIEnv(t, env, "scan", "--endpoint", srv.Endpoint, "--dialect", tc.dialect, "--region", srv.Region,
				"--read-probe", tc.probe, "--history", "", "--out", out)
			if r.code != exitGate {
				t.Fatalf("exit %d: %v\n%s", r.code, r.err, r.stderr)
			}
			doc := readFindingsDoc(t, filepath.Join(out, "findings.json"))
			var got []string
			for _, f := range doc.Findings {
				if f.Rule != "SSE-022" {
					continue
				}
				if f.Aggregate == nil {
					t.Fatalf("SSE-022 finding without aggregate: %+v", f)
				}
				if code := f.Observed["code"]; code == "" || code == nil {
					t.Errorf("SSE-022 does not carry the store's code: %v", f.Observed)
				}
				for _, s := range f.Aggregate.Sample {
					got = append(got, s.Key)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("SSE-022 names %v, want %v", got, tc.want)
			}
			sum, err := snapshot.ReadSummary(filepath.Join(out, "snapshot.json"))
			if err != nil {
				t.Fatal(err)
			}
			wantMode := tc.probe
			if wantMode == "off" {
				wantMode = ""
			}
			if sum.Provenance.ReadProbe != wantMode {
				t.Errorf("provenance read_probe %q, want %q", sum.Provenance.ReadProbe, wantMode)
			}
			if tc.probe != "off" && !strings.Contains(r.stderr, "read probe on (all of the encrypted objects)") {
				t.Errorf("the cost note is missing:\n%s", r.stderr)
			}
		})
	}
}
