package client

import (
	"slices"
	"testing"
)

// TestBlockedEncryptionTypes reads S3's BlockedEncryptionTypes from
// GetBucketEncryption documents: present (SSE-C or NONE), absent (nil: the
// store did not say), and documents that do not parse.
func TestBlockedEncryptionTypes(t *testing.T) {
	const head = `<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault>`
	const tail = `</Rule></ServerSideEncryptionConfiguration>`
	for _, tc := range []struct {
		name, doc   string
		want        []string
		blocked, ok bool
	}{
		{"blocked", head + `<BlockedEncryptionTypes><EncryptionType>SSE-C</EncryptionType></BlockedEncryptionTypes>` + tail, []string{"SSE-C"}, true, true},
		{"allowed", head + `<BlockedEncryptionTypes><EncryptionType>NONE</EncryptionType></BlockedEncryptionTypes>` + tail, []string{"NONE"}, false, true},
		{"empty element", head + `<BlockedEncryptionTypes></BlockedEncryptionTypes>` + tail, []string{}, false, true},
		{"absent", head + tail, nil, false, false},
		{"not XML", "<oops", nil, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := blockedEncryptionTypes(tc.doc)
			if !slices.Equal(got, tc.want) || (got == nil) != (tc.want == nil) {
				t.Fatalf("types %#v, want %#v", got, tc.want)
			}
			blocked, ok := Rule{BlockedEncryptionTypes: got}.SSECBlocked()
			if blocked != tc.blocked || ok != tc.ok {
				t.Fatalf("SSECBlocked = %v, %v; want %v, %v", blocked, ok, tc.blocked, tc.ok)
			}
		})
	}
}
