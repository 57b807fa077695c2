package reports

import (
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/snapshot"
)

func TestEncryptionLabel(t *testing.T) {
	cases := []struct {
		dialect, method, alg, data, want string
	}{
		{DialectS3, snapshot.MethodOSSManaged, "AES256", "", "SSE-S3"},
		{DialectS3, snapshot.MethodKMSDefault, "KMS", "", "SSE-KMS (AWS managed key)"},
		{DialectS3, snapshot.MethodKMSCMK, "aws:kms", "", "SSE-KMS (customer managed key)"},
		{DialectS3, snapshot.MethodKMSCMK, "aws:kms:dsse", "", "DSSE-KMS (customer managed key)"},
		{DialectS3, snapshot.MethodOther, "aws:kms:dsse", "", "DSSE-KMS"},
		{DialectS3, snapshot.MethodOther, "XYZ", "", "other (XYZ)"},
		{DialectS3, snapshot.MethodNone, "", "", "not encrypted"},
		{DialectS3, snapshot.MethodUnknown, "", "", "unknown"},
		{DialectOSS, snapshot.MethodOSSManaged, "AES256", "", "SSE-OSS (AES256)"},
		{DialectOSS, snapshot.MethodOther, "SM4", "", "SSE-OSS (SM4)"},
		{DialectOSS, snapshot.MethodKMSDefault, "KMS", "", "SSE-KMS (KMS service key)"},
		{DialectOSS, snapshot.MethodKMSCMK, "KMS", "", "SSE-KMS (customer CMK)"},
		{DialectOSS, snapshot.MethodKMSCMK, "KMS", "SM4", "SSE-KMS (customer CMK, SM4)"},
		{DialectOSS, snapshot.MethodKMSDefault, "KMS", "SM4", "SSE-KMS (KMS service key, SM4)"},
		{DialectOSS, snapshot.MethodNone, "", "", "not encrypted"},
		{"", snapshot.MethodOSSManaged, "AES256", "", "service-managed keys"},
		{"", snapshot.MethodKMSCMK, "KMS", "", "KMS (customer key)"},
	}
	for _, c := range cases {
		if got := EncryptionLabel(c.dialect, c.method, c.alg, c.data); got != c.want {
			t.Errorf("EncryptionLabel(%q, %q, %q, %q) = %q, want %q", c.dialect, c.method, c.alg, c.data, got, c.want)
		}
	}
	for _, c := range []struct {
		kind, dialect string
		want          []string
	}{
		{"s3", "s3", []string{"S3"}},
		{"oss", "oss", []string{"OSS"}},
		{"reference", "oss", []string{"OSS", "embedded reference"}},
		{"reference", "s3", []string{"S3", "embedded reference"}},
		{"", "s3", []string{"S3"}},
	} {
		if got := targetBadges(c.kind, c.dialect); strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("targetBadges(%q, %q) = %q, want %q", c.kind, c.dialect, got, c.want)
		}
	}
}

// TestHTMLVocabulary: an S3 target's report says SSE-S3, SSE-KMS and
// DSSE-KMS and no OSS word; an OSS target's says SSE-OSS and SSE-KMS (KMS
// service key, customer CMK, SM4) and no AWS word; the target's badges are
// not repeated ("s3 s3").
func TestHTMLVocabulary(t *testing.T) {
	kms := func(method, key string) *snapshot.Rule {
		return &snapshot.Rule{Algorithm: "KMS", KMSMasterKeyID: key, Method: method}
	}
	obj := func(key, sse, keyID, method, data string) snapshot.Object {
		return snapshot.Object{Key: key, Size: 1, SSE: sse, KMSKeyID: keyID, Method: method, DataEncryption: data}
	}
	keys := []snapshot.Key{{KeyID: "svc", Region: "r1", State: "Enabled", ServiceKey: true}, {KeyID: "k1", Region: "r1", State: "Enabled"}}
	cases := []struct {
		dialect   string
		buckets   []fixBucket
		want      []string
		forbidden []string
	}{
		{DialectS3, []fixBucket{
			{Bucket: snapshot.Bucket{Name: "b1", Encryption: &snapshot.Rule{Algorithm: "AES256", Method: snapshot.MethodOSSManaged}},
				Objects: []snapshot.Object{obj("a", "AES256", "", snapshot.MethodOSSManaged, "")}},
			{Bucket: snapshot.Bucket{Name: "b2", Encryption: kms(snapshot.MethodKMSDefault, "svc")},
				Objects: []snapshot.Object{obj("a", "KMS", "svc", snapshot.MethodKMSDefault, "")}},
			{Bucket: snapshot.Bucket{Name: "b3", Encryption: kms(snapshot.MethodKMSCMK, "k1")},
				Objects: []snapshot.Object{obj("a", "KMS", "k1", snapshot.MethodKMSCMK, ""), obj("b", "aws:kms:dsse", "k1", snapshot.MethodOther, "")}},
			{Bucket: snapshot.Bucket{Name: "b4"}, Objects: []snapshot.Object{obj("a", "", "", snapshot.MethodNone, "")}},
		}, []string{"default: SSE-S3", "default: SSE-KMS (AWS managed key)", "default: SSE-KMS (customer managed key)",
			"no default encryption", "DSSE-KMS", "not encrypted"},
			[]string{"oss-managed", "kms-cmk", "kms-default", "OSS", "CMK", "SM4"}},
		{DialectOSS, []fixBucket{
			{Bucket: snapshot.Bucket{Name: "b1", Encryption: &snapshot.Rule{Algorithm: "AES256", Method: snapshot.MethodOSSManaged}},
				Objects: []snapshot.Object{obj("a", "AES256", "", snapshot.MethodOSSManaged, "")}},
			{Bucket: snapshot.Bucket{Name: "b2", Encryption: kms(snapshot.MethodKMSDefault, "svc")},
				Objects: []snapshot.Object{obj("a", "KMS", "svc", snapshot.MethodKMSDefault, "")}},
			{Bucket: snapshot.Bucket{Name: "b3", Encryption: &snapshot.Rule{Algorithm: "KMS", KMSMasterKeyID: "k1", KMSDataEncryption: "SM4", Method: snapshot.MethodKMSCMK}},
				Objects: []snapshot.Object{obj("a", "KMS", "k1", snapshot.MethodKMSCMK, "SM4")}},
			{Bucket: snapshot.Bucket{Name: "b4", Encryption: &snapshot.Rule{Algorithm: "SM4", Method: snapshot.MethodOther}},
				Objects: []snapshot.Object{obj("a", "SM4", "", snapshot.MethodOther, "")}},
		}, []string{"default: SSE-OSS (AES256)", "default: SSE-KMS (KMS service key)", "default: SSE-KMS (customer CMK, SM4)",
			"default: SSE-OSS (SM4)"},
			[]string{"SSE-S3", "AWS", "DSSE", "customer managed key", "oss-managed", "kms-cmk", "kms-default"}},
	}
	for _, c := range cases {
		t.Run(c.dialect, func(t *testing.T) {
			path := writeSnap(t, c.dialect, c.buckets, keys, nil, true)
			m := build(t, ModelInput{SnapshotPath: path, Findings: docOf([]*findings.RuleMeta{ruleLow}), ToolVersion: "v1"})
			_, byID := htmlDoc(t, m)
			var text strings.Builder
			for _, id := range []string{"headline", "buckets", "chart-buckets"} {
				text.WriteString(htmlNodeText(byID[id]) + "\n")
			}
			tags := 0
			var header *html.Node
			htmlWalk(byID["verdict"].Parent, func(n *html.Node) {
				if n.Type == html.ElementNode && htmlHasClass(n, "target") {
					header = n
				}
			})
			for _, tag := range htmlFind(header, "tag") {
				tags++
				if got := htmlNodeText(tag); got != strings.ToUpper(c.dialect) {
					t.Errorf("target badge %q", got)
				}
			}
			if tags != 1 {
				t.Errorf("%d target badges, want 1: %q", tags, htmlNodeText(header))
			}
			text.WriteString(htmlNodeText(header))
			all := text.String()
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Errorf("report lacks %q", w)
				}
			}
			for _, w := range c.forbidden {
				if strings.Contains(all, w) {
					t.Errorf("report of a %s target says %q", c.dialect, w)
				}
			}
		})
	}
}
