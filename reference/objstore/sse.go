package objstore

import (
	"context"
	"fmt"
	"github.com/sseaudit/sseaudit/reference/faults"

	"github.com/sseaudit/sseaudit/reference/envelope"
	"github.com/sseaudit/sseaudit/reference/kms"
)

// writeSSE is the effective encryption of a write: the algorithm ("" for
// none) and the requested CMK (an id, alias or ARN; "" = alias/acs/oss).
type writeSSE struct {
	algorithm string
	kmsKeyID  string
}

// validateAlgorithm checks an algorithm with its KMS key id and data
// encryption, in the order OSS reports them: the algorithm itself, then
// SM4 data encryption, then a key id that does not fit the algorithm.
func validateAlgorithm(resource, algorithm, keyID, dataEnc string, f faults.Set) error {
	switch algorithm {
	case AlgorithmAES256, AlgorithmKMS:
	default: // "" (in a rule), SM4, or anything unknown
		return newErr(KindInvalidEncryptionAlgorithm, resource, msgInvalidEncryptionAlgorithm, nil)
	}
	if dataEnc != "" {
		return newErr(KindInvalidEncryptionAlgorithm, resource, msgInvalidEncryptionAlgorithm, nil)
	}
	if algorithm == AlgorithmAES256 && keyID != "" && !f.Has(faults.AcceptKeyIDWithAES256) {
		return newErr(KindInvalidArgument, resource, msgKeyIDNotApplicable, nil)
	}
	return nil
}

// validateRule checks a bucket default rule. It does not ask KMS whether
// the key exists (OSS and S3 do not either); the first write does.
func validateRule(resource string, r *EncryptionRule, f faults.Set) error {
	if r == nil {
		return nil
	}
	return validateAlgorithm(resource, r.Algorithm, r.KMSMasterKeyID, r.KMSDataEncryption, f)
}

// resolveSSE returns the effective encryption of a write: the request's
// when it names an algorithm, otherwise the bucket rule's, otherwise none.
func resolveSSE(resource string, req SSE, rule *ruleRecord, f faults.Set) (writeSSE, error) {
	if req.DataEncryption != "" {
		return writeSSE{}, newErr(KindInvalidEncryptionAlgorithm, resource, msgInvalidEncryptionAlgorithm, nil)
	}
	if req.Algorithm != "" {
		if err := validateAlgorithm(resource, req.Algorithm, req.KMSKeyID, "", f); err != nil {
			return writeSSE{}, err
		}
		return faulty(writeSSE{algorithm: req.Algorithm, kmsKeyID: req.KMSKeyID}, f), nil
	}
	if req.KMSKeyID != "" {
		return writeSSE{}, newErr(KindInvalidArgument, resource,
			"A KMS key id requires the server-side encryption algorithm KMS.", nil)
	}
	if rule == nil {
		return writeSSE{}, nil
	}
	r := rule.rule()
	if err := validateRule(resource, r, f); err != nil {
		return writeSSE{}, err
	}
	return faulty(writeSSE{algorithm: r.Algorithm, kmsKeyID: r.KMSMasterKeyID}, f), nil
}

// faulty applies the faults that change which key a write uses: a key id
// accepted with AES256 is dropped (there is nothing to use it for), and
// IgnoreNamedCMK swaps a named CMK for the default key.
func faulty(w writeSSE, f faults.Set) writeSSE {
	if w.algorithm == AlgorithmAES256 && f.Has(faults.AcceptKeyIDWithAES256) {
		w.kmsKeyID = ""
	}
	if w.algorithm == AlgorithmKMS && f.Has(faults.IgnoreNamedCMK) {
		w.kmsKeyID = ""
	}
	return w
}

// withPrincipal names the caller in KMS audit records unless the front end
// already did.
func withPrincipal(ctx context.Context, p Principal) context.Context {
	if kms.PrincipalFrom(ctx) == "" && p.Name != "" {
		return kms.WithPrincipal(ctx, p.Name)
	}
	return ctx
}

// newDataKey creates the data key and marshalled record of a new object or
// upload in a bucket of region. It returns a nil key for an unencrypted write.
func (s *DiskStore) newDataKey(ctx context.Context, p Principal, resource, region string, w writeSSE, id envelope.Identity) (*envelope.DataKey, envelope.Record, []byte, error) {
	if w.algorithm == "" {
		return nil, envelope.Record{}, nil, nil
	}
	spec := envelope.Spec{Algorithm: w.algorithm, KMSKeyID: w.kmsKeyID, Region: region}
	dk, rec, err := s.env.NewDataKey(withPrincipal(ctx, p), spec, id)
	if err != nil {
		return nil, envelope.Record{}, nil, keyError(resource, err)
	}
	b, err := rec.Marshal()
	if err != nil {
		dk.Destroy()
		return nil, envelope.Record{}, nil, internal(resource, err)
	}
	return dk, rec, b, nil
}

// openDataKey parses a stored record and unseals its data key for reading
// (or for writing further parts of a multipart upload). For KMS records the
// principal's decrypt grant on the record's CMK is checked before KMS is
// called. algorithm and keyID are the values stored next to the record;
// a mismatch means the metadata was altered and is never served.
//
// versionID is the version the object record names: an envelope record
// that binds a version id (every single-part write to an Enabled bucket
// since version ids were bound) must bind that one, so the data, sealed
// key and envelope record of one version never read as another's.
// Records that bind none (unversioned and null versions, multipart
// uploads, which bind their upload id, and records from before) are
// bound to their version by the record MAC alone.
func (s *DiskStore) openDataKey(ctx context.Context, p Principal, resource, region string, raw []byte, algorithm, keyID, bucket, key, versionID string) (*envelope.DataKey, error) {
	rec, err := envelope.ParseRecord(raw)
	if err != nil {
		return nil, keyError(resource, err)
	}
	if rec.Algorithm != algorithm || rec.KeyID != keyID {
		return nil, newErr(KindDecryptFailed, resource, msgDecryptFailed, envelope.ErrMalformedRecord)
	}
	if rec.VersionID != "" && rec.VersionID != versionID {
		return nil, newErr(KindDecryptFailed, resource, msgDecryptFailed,
			fmt.Errorf("%w: the data key is bound to version %s, the record names version %q", envelope.ErrCommitment, rec.VersionID, versionID))
	}
	if rec.Algorithm == envelope.AlgorithmKMS && !s.canDecrypt(p, rec.KeyID) {
		return nil, newErr(KindKMSAccessDenied, resource, msgKMSAccessDenied, nil)
	}
	dk, err := s.env.OpenDataKey(withPrincipal(ctx, p), rec, region, bucket, key)
	if err != nil {
		return nil, keyError(resource, err)
	}
	return dk, nil
}
