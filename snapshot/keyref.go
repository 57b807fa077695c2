package snapshot

import "strings"

// KeyID returns the key id a KMS key reference names, as far as it can be
// told without asking KMS: the id inside a key ARN (Alibaba
// acs:kms:REGION:ACCOUNT:key/ID, AWS arn:PARTITION:kms:REGION:ACCOUNT:key/ID),
// else ref itself (a bare id, or an alias or alias ARN, which only KMS can
// resolve). S3 names an object's key by its ARN and OSS by its bare id;
// Object.KMSKeyID keeps what the store answered, and the scanner records
// each key once, under this id (Key.KeyID), so the auditor compares and
// joins key references through KeyID and SameKey (the Rego twin is
// data.sseaudit.lib.bare_key_id).
func KeyID(ref string) string {
	var res string
	switch {
	case strings.HasPrefix(ref, "acs:kms:"):
		if p := strings.SplitN(ref, ":", 5); len(p) == 5 {
			res = p[4]
		}
	case strings.HasPrefix(ref, "arn:"):
		if p := strings.SplitN(ref, ":", 6); len(p) == 6 && p[2] == "kms" {
			res = p[5]
		}
	}
	if id, ok := strings.CutPrefix(res, "key/"); ok && id != "" {
		return id
	}
	return ref
}

// SameKey reports whether references a and b name the same key without
// asking KMS: they are equal (both empty: no key), or one is a key ARN
// and the other the bare id inside it (S3 answers arn:aws:kms:...:key/ID
// for a key named by ID). Two different ARNs are different keys (another
// account, region or partition), and aliases are not resolved.
func SameKey(a, b string) bool {
	if a == b {
		return true
	}
	ia, ib := KeyID(a), KeyID(b)
	return ia == ib && (ia == a) != (ib == b)
}
