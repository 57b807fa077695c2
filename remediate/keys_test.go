package remediate

import (
	"testing"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/snapshot"
)

// TestWeakerKeyByARN: an object S3 reports under the ARN of the planned
// key (or the plan naming the ARN of the key the object reports by id) is
// already under that key; another key, by id or ARN, falls short.
func TestWeakerKeyByARN(t *testing.T) {
	const arn = "arn:aws:kms:cn-hangzhou:111122223333:key/k1"
	for _, tc := range []struct {
		plan, method, key string
		weaker            bool
	}{
		{"k1", snapshot.MethodKMSCMK, "k1", false},
		{"k1", snapshot.MethodKMSCMK, arn, false},
		{arn, snapshot.MethodKMSCMK, "k1", false},
		{"k1", snapshot.MethodKMSCMK, "arn:aws:kms:cn-hangzhou:111122223333:key/k2", true},
		{"k1", snapshot.MethodKMSCMK, "k2", true},
		{"k1", snapshot.MethodKMSDefault, arn, true},
	} {
		e := Encryption{Algorithm: client.AlgorithmKMS, KMSKeyID: tc.plan}
		if got := e.weaker(tc.method, tc.key); got != tc.weaker {
			t.Errorf("plan %s, object %s %s: weaker %v, want %v", tc.plan, tc.method, tc.key, got, tc.weaker)
		}
	}
}
