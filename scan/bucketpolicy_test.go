package scan

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sseaudit/sseaudit/snapshot"
)

// TestPolicyFacts reads the guardrail policies AWS and Alibaba Cloud
// document (testdata/bucketpolicy) for bucket "bkt": each fixture's facts,
// and how many statements were noted as not counted.
func TestPolicyFacts(t *testing.T) {
	const kmsARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	for _, tc := range []struct {
		file                string
		denies, tls, public bool
		sse                 string
		keys                []string
		notes               int
		parseError          string
	}{
		{file: "aws-deny-no-sse-header.json", denies: true},
		{file: "aws-require-aes256.json", denies: true, sse: "AES256"},
		{file: "aws-tls-and-kms.json", denies: true, sse: "KMS", tls: true},
		{file: "aws-require-kms-key.json", denies: true, sse: "KMS", keys: []string{kmsARN}, tls: true},
		{file: "aws-any-sse.json", denies: true},
		{file: "aws-contradictory.json", denies: true, notes: 1},
		{file: "aws-narrowed.json", notes: 6},
		{file: "aws-public-read.json", public: true},
		{file: "oss-require-kms.json", denies: true, sse: "KMS", tls: true},
		{file: "oss-require-key.json", denies: true, sse: "KMS", keys: []string{"cmk-2"}},
		{file: "oss-no-sse-header.json", denies: true, public: true},
		{file: "not-json.json", parseError: "not a policy document"},
		{file: "no-statement.json", parseError: "no Statement"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			doc, err := os.ReadFile(filepath.Join("testdata", "bucketpolicy", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			p := PolicyFacts("bkt", string(doc))
			if p.Status != snapshot.PolicySet || p.Raw != string(doc) || len(p.RawSHA256) != 64 || p.RawTruncated {
				t.Errorf("record: status %q, raw kept %v, digest %q, truncated %v", p.Status, p.Raw == string(doc), p.RawSHA256, p.RawTruncated)
			}
			if tc.parseError != "" {
				if !strings.Contains(p.ParseError, tc.parseError) {
					t.Errorf("parse error %q, want %q", p.ParseError, tc.parseError)
				}
			} else if p.ParseError != "" {
				t.Errorf("parse error %q", p.ParseError)
			}
			if p.DeniesUnencryptedPut != tc.denies || p.RequiredSSE != tc.sse || !slices.Equal(p.RequiredKMSKeyIDs, tc.keys) ||
				p.DeniesInsecureTransport != tc.tls || p.AllowsPublicRead != tc.public {
				t.Errorf("facts: denies_unencrypted_put %v required_sse %q keys %q insecure %v public %v; want %v %q %q %v %v",
					p.DeniesUnencryptedPut, p.RequiredSSE, p.RequiredKMSKeyIDs, p.DeniesInsecureTransport, p.AllowsPublicRead,
					tc.denies, tc.sse, tc.keys, tc.tls, tc.public)
			}
			if len(p.Notes) != tc.notes {
				t.Errorf("%d notes, want %d: %q", len(p.Notes), tc.notes, p.Notes)
			}
		})
	}
}

// TestPolicyFactsOtherBucket: the same guardrail on another bucket's
// resources says nothing about this one.
func TestPolicyFactsOtherBucket(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("testdata", "bucketpolicy", "aws-tls-and-kms.json"))
	if err != nil {
		t.Fatal(err)
	}
	p := PolicyFacts("other", string(doc))
	if p.DeniesUnencryptedPut || p.RequiredSSE != "" || p.DeniesInsecureTransport || len(p.Notes) != 3 {
		t.Errorf("facts for another bucket: %+v", p)
	}
}

func TestPolicyRawBounded(t *testing.T) {
	doc := `{"Statement":[],"Pad":"` + strings.Repeat("x", snapshot.MaxPolicyRaw) + `"}`
	p := PolicyFacts("bkt", doc)
	if len(p.Raw) != snapshot.MaxPolicyRaw || !p.RawTruncated || p.ParseError != "" {
		t.Errorf("raw %d bytes, truncated %v, parse error %q", len(p.Raw), p.RawTruncated, p.ParseError)
	}
}

func TestPolicyRawCutsWholeCharacters(t *testing.T) {
	doc := `{"Statement":[],"Pad":"x` + strings.Repeat("é", snapshot.MaxPolicyRaw) + `"}`
	p := PolicyFacts("bkt", doc)
	if !utf8.ValidString(p.Raw) || len(p.Raw) > snapshot.MaxPolicyRaw || len(p.Raw) < snapshot.MaxPolicyRaw-1 || !p.RawTruncated {
		t.Errorf("raw %d bytes, valid UTF-8 %v", len(p.Raw), utf8.ValidString(p.Raw))
	}
}

func TestARNMatch(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"bkt/", "bkt/", true}, {"bkt", "bkt", true}, {"b?t", "bkt", true}, {"b*", "bkt/x", true},
		{"bkt/logs/", "bkt/", false}, {"other", "bkt", false}, {"", "", true}, {"*", "", true},
	} {
		if got := arnMatch(tc.p, tc.s); got != tc.want {
			t.Errorf("arnMatch(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}
