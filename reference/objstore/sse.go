package objstore

import (
	"context"
	"errors"
	"fmt"
	"github.com/sseaudit/sseaudit/reference/faults"

	"github.com/sseaudit/sseaudit/reference/envelope"
	"github.com/sseaudit/sseaudit/reference/kms"
)

// writeSSE is the effective encryption of a write: the algorithm ("" for
// none) and the requested CMK (an id, alias or ARN; "" = alias/acs/oss).
type writeSSE struct {
	algorithm   string
	kmsKeyID    string
	customerKey []byte // AlgorithmSSEC only
}

// customerKeyCtx is the context key of the customer key a request carries
// for reading an SSE-C object or writing parts of an SSE-C upload.
type customerKeyCtx struct{}

// WithCustomerKey returns ctx carrying the SSE-C key a request sent for an
// existing object or upload: HEAD and GET, the source of a copy, and
// UploadPart read it from there (their signatures have no options for
// it), as KMS calls read the principal (kms.WithPrincipal). The store
// never keeps it.
func WithCustomerKey(ctx context.Context, key []byte) context.Context {
	return context.WithValue(ctx, customerKeyCtx{}, key)
}

// metadataOnlyCtx marks a HEAD that reads only what S3 serves without the
// customer key (an object's ACL or tags).
type metadataOnlyCtx struct{}

// MetadataOnly returns ctx for a HeadObject(Version) that reads only an
// object's ACL or tags: S3 serves those of an SSE-C object without its
// key, so HEAD's customer key check is skipped (nothing it returns is
// the object's data or checksums as a client would send them back).
func MetadataOnly(ctx context.Context) context.Context {
	return context.WithValue(ctx, metadataOnlyCtx{}, true)
}

func customerKeyFrom(ctx context.Context) []byte {
	k, _ := ctx.Value(customerKeyCtx{}).([]byte)
	return k
}

// Messages of SSE-C errors, AWS's wording where it documents one.
const (
	msgSSECBlocked        = "Server-side encryption with customer-provided keys (SSE-C) is blocked for this bucket (BlockedEncryptionTypes SSE-C)."
	msgSSECKeyRequired    = "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object."
	msgSSECKeyMismatch    = "Access Denied: the customer-provided encryption key does not match the object's."
	msgSSECNotApplicable  = "The encryption parameters are not applicable to this object."
	msgSSECInvalidKeySize = "The secret key was invalid for the specified algorithm."
)

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
	if req.Algorithm == AlgorithmSSEC {
		switch {
		case req.CustomerKey == nil:
			return writeSSE{}, newErr(KindInvalidArgument, resource, msgSSECInvalidKeySize, nil)
		case req.KMSKeyID != "":
			return writeSSE{}, newErr(KindInvalidArgument, resource, msgKeyIDNotApplicable, nil)
		case rule == nil || !rule.SSECAllowed:
			return writeSSE{}, newErr(KindAccessDenied, resource, msgSSECBlocked, nil)
		}
		return writeSSE{algorithm: AlgorithmSSEC, customerKey: req.CustomerKey[:]}, nil
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
	spec := envelope.Spec{Algorithm: w.algorithm, KMSKeyID: w.kmsKeyID, Region: region, CustomerKey: w.customerKey}
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
//
// An SSE-C record opens with the customer key in ctx (WithCustomerKey):
// none is KindCustomerKeyRequired, another KindCustomerKeyMismatch. A
// customer key sent for an object of another encryption is
// KindInvalidRequest, as on S3.
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
	if ck := customerKeyFrom(ctx); rec.Algorithm == envelope.AlgorithmSSEC || ck != nil {
		return s.openCustomerDataKey(resource, rec, ck, bucket, key)
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

// openCustomerDataKey opens an SSE-C record with the request's key.
func (s *DiskStore) openCustomerDataKey(resource string, rec envelope.Record, ck []byte, bucket, key string) (*envelope.DataKey, error) {
	if rec.Algorithm != envelope.AlgorithmSSEC {
		return nil, newErr(KindInvalidRequest, resource, msgSSECNotApplicable, nil)
	}
	if ck == nil {
		return nil, newErr(KindCustomerKeyRequired, resource, msgSSECKeyRequired, nil)
	}
	dk, err := s.env.OpenCustomerDataKey(rec, ck, bucket, key)
	switch {
	case errors.Is(err, envelope.ErrCustomerKeyMismatch), errors.Is(err, envelope.ErrUnsupported):
		return nil, newErr(KindCustomerKeyMismatch, resource, msgSSECKeyMismatch, nil)
	case err != nil:
		return nil, keyError(resource, err)
	}
	return dk, nil
}

// checkCustomerKey is HEAD's check of an object's encryption against the
// request's customer key: an SSE-C object needs the key that opens it
// (S3 answers HEAD without it 400, with another 403), and a key sent
// for any other object is refused. It only unseals and destroys the data
// key; no KMS is called.
func (s *DiskStore) checkCustomerKey(ctx context.Context, resource string, rec *objectRecord, bucket, key string) error {
	ck := customerKeyFrom(ctx)
	if rec.Algorithm != AlgorithmSSEC && ck == nil {
		return nil
	}
	if only, _ := ctx.Value(metadataOnlyCtx{}).(bool); only && ck == nil {
		return nil
	}
	if rec.Algorithm != AlgorithmSSEC {
		return newErr(KindInvalidRequest, resource, msgSSECNotApplicable, nil)
	}
	er, err := envelope.ParseRecord(rec.Record)
	if err != nil {
		return keyError(resource, err)
	}
	dk, err := s.openCustomerDataKey(resource, er, ck, bucket, key)
	if err != nil {
		return err
	}
	dk.Destroy()
	return nil
}
