package snapshot

import "testing"

func TestKeyID(t *testing.T) {
	for in, want := range map[string]string{
		"1234abcd-12ab":                                "1234abcd-12ab",
		"acs:kms:cn-hangzhou:123:key/k1":               "k1",
		"arn:aws:kms:us-east-1:111122223333:key/k2":    "k2",
		"arn:aws-cn:kms:cn-north-1:111122223333:key/k": "k",
		"alias/app": "alias/app",
		"arn:aws:kms:us-east-1:111122223333:alias/app": "arn:aws:kms:us-east-1:111122223333:alias/app",
		"acs:kms:cn-hangzhou:123:alias/app":            "acs:kms:cn-hangzhou:123:alias/app",
		"arn:aws:s3:::bucket/key/x":                    "arn:aws:s3:::bucket/key/x",
		"arn:aws:kms:us-east-1:111122223333:key/":      "arn:aws:kms:us-east-1:111122223333:key/",
		"": "",
	} {
		if got := KeyID(in); got != want {
			t.Errorf("KeyID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSameKey(t *testing.T) {
	const arn = "arn:aws:kms:cn-hangzhou:111122223333:key/k1"
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"k1", "k1", true},
		{arn, "k1", true},
		{"k1", arn, true},
		{arn, arn, true},
		{"acs:kms:cn-hangzhou:111122223333:key/k1", "k1", true},
		{arn, "k2", false},
		{arn, "arn:aws:kms:cn-hangzhou:444455556666:key/k1", false},
		{arn, "acs:kms:cn-hangzhou:111122223333:key/k1", false},
		{"alias/a", "k1", false},
		{"", "", true},
		{"", "k1", false},
	} {
		if got := SameKey(tc.a, tc.b); got != tc.same {
			t.Errorf("SameKey(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.same)
		}
	}
}
