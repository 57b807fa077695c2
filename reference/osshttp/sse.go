package osshttp

import (
	"encoding/xml"
	"net/http"
	"strings"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

// SSE request and response headers.
const (
	hSSE         = "X-Oss-Server-Side-Encryption"
	hSSEKeyID    = "X-Oss-Server-Side-Encryption-Key-Id"
	hSSEDataEnc  = "X-Oss-Server-Side-Data-Encryption"
	dataEncSM4   = "SM4"
	maxKeyIDSize = 512
)

// sseRequest is the parsed form of the three SSE request headers.
type sseRequest struct {
	// Present reports that at least one of the three headers was sent, even
	// one that is then ignored (UploadPart and CompleteMultipartUpload
	// refuse any of them).
	Present bool
	// SSE is what to apply; zero when the request names no algorithm.
	SSE objstore.SSE
}

// singleHeader returns the value of a header that must appear at most once.
func singleHeader(h http.Header, name string) (value string, present bool, e *ossError) {
	vs := h.Values(name)
	switch len(vs) {
	case 0:
		return "", false, nil
	case 1:
		return strings.TrimSpace(vs[0]), true, nil
	default:
		return "", true, errInvalidArgument("The header " + strings.ToLower(name) + " is specified more than once.")
	}
}

// parseSSEHeaders reads x-oss-server-side-encryption,
// x-oss-server-side-encryption-key-id and x-oss-server-side-data-encryption
// the way OSS does for PutObject, CopyObject, InitiateMultipartUpload and
// PutBucket:
//
//   - AES256 or KMS are accepted; SM4 (valid on real OSS) and anything else
//     are 400 InvalidEncryptionAlgorithmError, because the reference
//     implements AES-256 only.
//   - a key id is only valid with KMS (400 InvalidArgument otherwise, also
//     when no algorithm is named); an empty key id with KMS is 400
//     InvalidArgument (EC 0005-00000205).
//   - the data-encryption header matters only with KMS, where SM4 is 400
//     InvalidEncryptionAlgorithmError (unsupported here) and any other value
//     400 InvalidDataEncryptionAlgorithmError; with AES256 or no algorithm it
//     is ignored, as real OSS ignores it.
func parseSSEHeaders(h http.Header) (sseRequest, *ossError) {
	alg, algPresent, e := singleHeader(h, hSSE)
	if e != nil {
		return sseRequest{}, e
	}
	keyID, keyPresent, e := singleHeader(h, hSSEKeyID)
	if e != nil {
		return sseRequest{}, e
	}
	dataEnc, dataPresent, e := singleHeader(h, hSSEDataEnc)
	if e != nil {
		return sseRequest{}, e
	}
	out := sseRequest{Present: algPresent || keyPresent || dataPresent}
	if !algPresent {
		if keyPresent {
			return out, errInvalidArgument(msgKeyIDHeaderNotApplicable)
		}
		return out, nil
	}
	switch alg {
	case objstore.AlgorithmAES256:
		// A key id with AES256 is refused by the store (400 InvalidArgument),
		// the one place that rule lives for both dialects.
		out.SSE = objstore.SSE{Algorithm: objstore.AlgorithmAES256, KMSKeyID: strings.TrimSpace(keyID)}
		return out, nil
	case objstore.AlgorithmKMS:
	default:
		// Includes SM4, which real OSS accepts and the reference does not.
		return out, errInvalidEncryptionAlgorithm()
	}
	if keyPresent {
		if keyID == "" {
			return out, errInvalidArgument("The x-oss-server-side-encryption-key-id header is empty.").withEC(ecEmptyKeyID)
		}
		if len(keyID) > maxKeyIDSize || !printableASCII(keyID) {
			return out, newErr(http.StatusBadRequest, CodeInvalidParameter, "The specified parameter KMS keyId is not valid.")
		}
	}
	if dataPresent {
		if e := checkKMSDataEncryption(dataEnc); e != nil {
			return out, e
		}
	}
	out.SSE = objstore.SSE{Algorithm: objstore.AlgorithmKMS, KMSKeyID: keyID}
	return out, nil
}

// checkKMSDataEncryption judges a KMS data-encryption value: the only value
// OSS knows is SM4, which the reference does not implement.
func checkKMSDataEncryption(v string) *ossError {
	if v == dataEncSM4 {
		return errInvalidEncryptionAlgorithm()
	}
	return newErr(http.StatusBadRequest, CodeInvalidDataEncryptionAlgorithm,
		"The KMS Data Encryption request you specified is not valid. Supported value:SM4").withEC(ecDataEncryption)
}

// ruleFromSSE turns PutBucket's SSE headers into a bucket rule (nil when
// no algorithm was named).
func ruleFromSSE(s objstore.SSE) *objstore.EncryptionRule {
	if s.Algorithm == "" {
		return nil
	}
	return &objstore.EncryptionRule{Algorithm: s.Algorithm, KMSMasterKeyID: s.KMSKeyID}
}

// xmlSSEDefault is the ApplyServerSideEncryptionByDefault element of a
// PutBucketEncryption body.
type xmlSSEDefault struct {
	SSEAlgorithm      *string `xml:"SSEAlgorithm"`
	KMSMasterKeyID    *string `xml:"KMSMasterKeyID"`
	KMSDataEncryption *string `xml:"KMSDataEncryption"`
}

// xmlSSERuleIn is the PutBucketEncryption request body.
type xmlSSERuleIn struct {
	XMLName xml.Name       `xml:"ServerSideEncryptionRule"`
	Default *xmlSSEDefault `xml:"ApplyServerSideEncryptionByDefault"`
}

// parseEncryptionRule parses and validates a PutBucketEncryption body:
//
//   - the document must be a ServerSideEncryptionRule holding one
//     ApplyServerSideEncryptionByDefault with an SSEAlgorithm (else 400
//     MalformedXML);
//   - SSEAlgorithm AES256 or KMS; SM4 and anything else 400
//     InvalidEncryptionAlgorithmError;
//   - a non-empty KMSMasterKeyID with AES256 is 400 InvalidArgument; an
//     empty one means the default key;
//   - KMSDataEncryption is dropped with AES256 (as OSS does) and judged by
//     checkKMSDataEncryption with KMS.
func parseEncryptionRule(body []byte) (objstore.EncryptionRule, *ossError) {
	var in xmlSSERuleIn
	if err := decodeXMLStrict(body, &in); err != nil || in.Default == nil || in.Default.SSEAlgorithm == nil {
		return objstore.EncryptionRule{}, errMalformedXML()
	}
	d := in.Default
	alg := strings.TrimSpace(*d.SSEAlgorithm)
	keyID, dataEnc := "", ""
	if d.KMSMasterKeyID != nil {
		keyID = strings.TrimSpace(*d.KMSMasterKeyID)
	}
	if d.KMSDataEncryption != nil {
		dataEnc = strings.TrimSpace(*d.KMSDataEncryption)
	}
	switch alg {
	case objstore.AlgorithmAES256:
		// A key id with AES256 is refused by the store (400 InvalidArgument).
		return objstore.EncryptionRule{Algorithm: objstore.AlgorithmAES256, KMSMasterKeyID: keyID}, nil
	case objstore.AlgorithmKMS:
	default:
		return objstore.EncryptionRule{}, errInvalidEncryptionAlgorithm()
	}
	if len(keyID) > maxKeyIDSize || !printableASCII(keyID) {
		return objstore.EncryptionRule{}, newErr(http.StatusBadRequest, CodeInvalidParameter, "The specified parameter KMS keyId is not valid.")
	}
	if dataEnc != "" {
		if e := checkKMSDataEncryption(dataEnc); e != nil {
			return objstore.EncryptionRule{}, e
		}
	}
	return objstore.EncryptionRule{Algorithm: objstore.AlgorithmKMS, KMSMasterKeyID: keyID}, nil
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// setSSEResponseHeaders writes the SSE headers describing an object (or an
// upload): the algorithm, and for KMS the resolved CMK id.
func setSSEResponseHeaders(h http.Header, s objstore.SSE) {
	switch s.Algorithm {
	case "":
		return
	case objstore.AlgorithmKMS:
		h.Set(hSSE, objstore.AlgorithmKMS)
		if s.KMSKeyID != "" {
			h.Set(hSSEKeyID, s.KMSKeyID)
		}
	default:
		h.Set(hSSE, s.Algorithm)
	}
}
