// Package synth writes deterministic synthetic snapshots for the policy
// benchmarks: N buckets of M objects each with a realistic mix of
// encryption states and a few problems (about 1% of objects unencrypted,
// 0.1% under a disabled key, 0.02% with a failed HEAD, 5% of buckets with
// no default), or all compliant, or all unencrypted (Options.Mix).
package synth

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/sseaudit/sseaudit/snapshot"
)

// Region of every synthetic bucket and key.
const Region = "cn-hangzhou"

// CMKs are the synthetic customer master keys (all enabled); DisabledKey is
// disabled; ServiceKey is the region's alias/acs/oss key.
var (
	CMKs = func() []string {
		var ks []string
		for i := 0; i < 10; i++ {
			ks = append(ks, fmt.Sprintf("cmk-%02d-0000-0000-0000-000000000000", i))
		}
		return ks
	}()
	DisabledKey = "cmk-disabled-0000-0000-000000000000"
	ServiceKey  = "svc-key-0000-0000-0000-000000000000"
)

// Base is the synthetic scan's start.
var Base = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Options shape a synthetic snapshot.
type Options struct {
	Buckets, Objects int
	ScanID           string
	// ReencryptDefault makes a "next scan" of the same estate: every
	// bucket's default becomes kms-cmk with CMKs[0], and the storage
	// (wrongly) re-encrypted every object of bucket 0 without a rewrite.
	ReencryptDefault bool
	// Mix is the estate's state: MixRealistic (""), MixCompliant or
	// MixUnencrypted.
	Mix string
	// PolicyBytes, when positive, gives every bucket a bucket policy
	// whose raw document (kept in the snapshot as evidence) is that many
	// bytes, at most snapshot.MaxPolicyRaw: the worst case of what a
	// bucket record holds besides its counts.
	PolicyBytes int
}

// Mixes of encryption states.
const (
	// MixRealistic: about 1% of objects unencrypted, 0.1% under a disabled
	// key, 0.02% with a failed HEAD, 5% of buckets with no default.
	MixRealistic = ""
	// MixCompliant: every bucket has a CMK default and every object is
	// encrypted under an enabled CMK: no bucket or object finding.
	MixCompliant = "compliant"
	// MixUnencrypted: no bucket has a default and no object is
	// encrypted: one finding per object before aggregation.
	MixUnencrypted = "unencrypted"
)

// Write writes a snapshot to w.
func Write(w io.Writer, o Options) (snapshot.Summary, error) {
	if o.ScanID == "" {
		o.ScanID = "synthetic"
	}
	finished := Base.Add(time.Hour)
	if o.ReencryptDefault {
		finished = finished.Add(24 * time.Hour)
	}
	sw, err := snapshot.NewWriter(w, snapshot.Provenance{
		ScanID: o.ScanID, StartedAt: Base, ToolVersion: "synth",
		Target:  snapshot.Target{Kind: "reference", Dialect: "oss", Endpoint: "synthetic"},
		Regions: []string{Region},
	}, snapshot.WithClock(func() time.Time { return finished }))
	if err != nil {
		return snapshot.Summary{}, err
	}
	var listed, inspected int64
	errs := []snapshot.Error{}
	for i := 0; i < o.Buckets; i++ {
		name := fmt.Sprintf("bench-%05d", i)
		b := snapshot.Bucket{Name: name, Region: Region, CreationDate: Base.Add(-time.Duration(i) * time.Hour), ReadAt: Base.Add(time.Duration(i) * time.Millisecond), Encryption: rule(i, o.ReencryptDefault, o.Mix)}
		if o.PolicyBytes > 0 {
			b.Policy = policy(i, min(o.PolicyBytes, snapshot.MaxPolicyRaw))
		}
		if err := sw.BeginBucket(b); err != nil {
			return snapshot.Summary{}, err
		}
		var ok int64
		for j := 0; j < o.Objects; j++ {
			obj := object(name, i, j, o.Objects, o.Mix)
			if o.ReencryptDefault && i == 0 && obj.Method == snapshot.MethodNone {
				obj.SSE, obj.KMSKeyID, obj.Method = "KMS", CMKs[0], snapshot.MethodKMSCMK
			}
			if obj.Error == nil {
				ok++
			} else {
				errs = append(errs, *obj.Error)
			}
			if err := sw.Object(obj); err != nil {
				return snapshot.Summary{}, err
			}
		}
		listed += int64(o.Objects)
		inspected += ok
		if err := sw.EndBucket(int64(o.Objects), ok, nil); err != nil {
			return snapshot.Summary{}, err
		}
	}
	keys := []snapshot.Key{{KeyID: ServiceKey, Region: Region, State: "Enabled", ServiceKey: true, Creator: "Oss", ReadAt: finished}}
	for _, k := range CMKs {
		keys = append(keys, snapshot.Key{KeyID: k, Region: Region, Arn: "acs:kms:" + Region + ":1234567890:key/" + k, State: "Enabled", ReadAt: finished})
	}
	keys = append(keys, snapshot.Key{KeyID: DisabledKey, Region: Region, State: "Disabled", ReadAt: finished})
	for _, k := range keys {
		if err := sw.Key(k); err != nil {
			return snapshot.Summary{}, err
		}
	}
	if len(errs) > 1000 {
		errs = errs[:1000]
	}
	cov := snapshot.Coverage{Buckets: o.Buckets, BucketsRead: o.Buckets, ObjectsListed: listed, ObjectsInspected: inspected, KeysReferenced: len(keys), KeysDescribed: len(keys), Errors: errs}
	if err := sw.Close(cov, true); err != nil {
		return snapshot.Summary{}, err
	}
	return sw.Summary(), nil
}

func rule(i int, reencrypt bool, mix string) *snapshot.Rule {
	switch mix {
	case MixCompliant:
		return &snapshot.Rule{Algorithm: "KMS", KMSMasterKeyID: CMKs[i%len(CMKs)], Method: snapshot.MethodKMSCMK}
	case MixUnencrypted:
		return nil
	}
	if reencrypt {
		return &snapshot.Rule{Algorithm: "KMS", KMSMasterKeyID: CMKs[0], Method: snapshot.MethodKMSCMK}
	}
	switch i % 20 {
	case 0:
		return nil
	case 1:
		return &snapshot.Rule{Algorithm: "AES256", Method: snapshot.MethodOSSManaged}
	case 2:
		return &snapshot.Rule{Algorithm: "KMS", Method: snapshot.MethodKMSDefault}
	}
	return &snapshot.Rule{Algorithm: "KMS", KMSMasterKeyID: CMKs[i%len(CMKs)], Method: snapshot.MethodKMSCMK}
}

func object(bucket string, i, j, perBucket int, mix string) snapshot.Object {
	n := i*perBucket + j
	o := snapshot.Object{
		Bucket:       bucket,
		Key:          "data/" + strconv.Itoa(j%97) + "/obj-" + strconv.Itoa(j) + ".bin",
		Size:         int64(1024 + n%65536),
		ETag:         fmt.Sprintf("\"%016x%016x\"", uint64(n)*0x9e3779b97f4a7c15, uint64(n)),
		LastModified: Base.Add(-time.Duration(n%1000000) * time.Second),
		StorageClass: "Standard",
	}
	switch mix {
	case MixCompliant:
		o.SSE, o.KMSKeyID, o.Method = "KMS", CMKs[n%len(CMKs)], snapshot.MethodKMSCMK
		return o
	case MixUnencrypted:
		o.Method = snapshot.MethodNone
		return o
	}
	switch {
	case n%5000 == 3:
		o.Method = snapshot.MethodNone
		o.Error = &snapshot.Error{Scope: "object", Resource: bucket + "/" + o.Key, StatusCode: 503, Code: "ServiceUnavailable", Message: "HEAD failed after retries", Attempts: 3}
	case n%100 == 0:
		o.Method = snapshot.MethodNone
	case n%1000 == 1:
		o.SSE, o.KMSKeyID, o.Method = "KMS", DisabledKey, snapshot.MethodKMSCMK
	case n%7 == 0:
		o.SSE, o.Method = "AES256", snapshot.MethodOSSManaged
	case n%11 == 0:
		o.SSE, o.KMSKeyID, o.Method = "KMS", ServiceKey, snapshot.MethodKMSDefault
	default:
		o.SSE, o.KMSKeyID, o.Method = "KMS", CMKs[n%len(CMKs)], snapshot.MethodKMSCMK
	}
	return o
}

// policy is a Deny-unencrypted-PutObject bucket policy of n bytes whose
// statement ids differ per bucket, so no two raw documents are equal.
func policy(bucket, n int) *snapshot.Policy {
	var sb strings.Builder
	sb.WriteString(`{"Version":"2012-10-17","Statement":[`)
	for j := 0; sb.Len() < n; j++ {
		fmt.Fprintf(&sb, `{"Sid":"DenyUnencrypted%d-%d","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::bench/*","Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"aws:kms"}}},`, bucket, j)
	}
	raw := sb.String()[:n]
	sum := sha256.Sum256([]byte(raw))
	return &snapshot.Policy{Status: snapshot.PolicySet, Raw: raw, RawSHA256: hex.EncodeToString(sum[:]), DeniesUnencryptedPut: true, RequiredSSE: "KMS"}
}
