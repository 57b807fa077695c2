package osshttp

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

// OSS error codes this front end sends. See doc.go for which are confirmed
// by the SDKs or the documentation and which were chosen.
const (
	CodeAccessDenied                   = "AccessDenied"
	CodeAliasNotFound                  = "AliasNotFound"
	CodeBucketAlreadyExists            = "BucketAlreadyExists"
	CodeBucketNotEmpty                 = "BucketNotEmpty"
	CodeEntityTooLarge                 = "EntityTooLarge"
	CodeEntityTooSmall                 = "EntityTooSmall"
	CodeFileAlreadyExists              = "FileAlreadyExists"
	CodeIncompleteBody                 = "IncompleteBody"
	CodeInternalError                  = "InternalError"
	CodeInvalidAccessKeyID             = "InvalidAccessKeyId"
	CodeInvalidArgument                = "InvalidArgument"
	CodeInvalidBucketName              = "InvalidBucketName"
	CodeInvalidDataEncryptionAlgorithm = "InvalidDataEncryptionAlgorithmError"
	CodeInvalidDigest                  = "InvalidDigest"
	CodeInvalidEncryptionAlgorithm     = "InvalidEncryptionAlgorithmError"
	CodeInvalidObjectName              = "InvalidObjectName"
	CodeInvalidParameter               = "InvalidParameter"
	CodeInvalidPart                    = "InvalidPart"
	CodeInvalidPartOrder               = "InvalidPartOrder"
	CodeInvalidRange                   = "InvalidRange"
	CodeKeyDisabled                    = "KeyDisabled"
	CodeKeyNotFound                    = "KeyNotFound"
	CodeKeyPendingDeletion             = "KeyPendingDeletion"
	CodeMalformedXML                   = "MalformedXML"
	CodeMethodNotAllowed               = "MethodNotAllowed"
	CodeMissingArgument                = "MissingArgument"
	CodeNoSuchBucket                   = "NoSuchBucket"
	CodeNoSuchKey                      = "NoSuchKey"
	CodeNoSuchServerSideEncryptionRule = "NoSuchServerSideEncryptionRule"
	CodeNoSuchUpload                   = "NoSuchUpload"
	CodeNoSuchVersion                  = "NoSuchVersion"
	CodeNotImplemented                 = "NotImplemented"
	CodeOperationNotSupported          = "OperationNotSupported"
	CodePreconditionFailed             = "PreconditionFailed"
	CodeRequestTimeTooSkewed           = "RequestTimeTooSkewed"
	CodeRequestTimeout                 = "RequestTimeout"
	CodeServiceUnavailable             = "ServiceUnavailable"
	CodeSignatureDoesNotMatch          = "SignatureDoesNotMatch"
)

// EC values (the OSS "error center" sub-codes) that are confirmed by the
// SDKs' tests or Alibaba's EC pages. Errors without a confirmed EC carry none.
const (
	ecNoSuchBucket              = "0015-00000101"
	ecNoSuchKey                 = "0026-00000001"
	ecInvalidAccessKeyID        = "0002-00000902"
	ecNoSuchUpload              = "0042-00000002" // AbortMultipartUpload, ListParts
	ecNoSuchUploadPart          = "0042-00000104" // UploadPart
	ecNoSuchUploadPartCopy      = "0042-00000311" // UploadPartCopy (the v2 SDK's tests pin it)
	ecCompleteAllWithBody       = "0042-00000216"
	ecBucketAlreadyExists       = "0015-00000104" // from the v2 SDK's recorded responses
	ecBucketNotEmpty            = "0015-00000301" // from the v2 SDK's recorded responses
	ecSignatureDoesNotMatch     = "0002-00000040"
	ecContentSHA256             = "0002-00000214"
	ecInvalidDigest             = "0017-00000503"
	ecMalformedDigest           = "0017-00000502"
	ecKeyDisabled               = "0005-00000214"
	ecKeyPendingDeletion        = "0005-00000215"
	ecKeyNotFound               = "0005-00000208"
	ecDataEncryption            = "0005-00000203"
	ecEmptyKeyID                = "0005-00000205"
	ecDeleteMissingContentMD5   = "0016-00000606"
	ecDeleteObjectWithoutKey    = "0016-00000613"
	ecNoSuchEncryptionRule      = "0005-00000004"
	ecDeleteMarkerOperation     = "0017-00000002" // the addressed version is a delete marker
	recommendDocPrefix          = "https://api.aliyun.com/troubleshoot?q="
	msgInvalidEncryptionAlgo    = "The Encryption request you specified is not valid. Supported value: AES256/KMS"
	msgMalformedXML             = "The XML you provided was not well-formed or did not validate against our published schema."
	msgInvalidDigest            = "The Content-MD5 you specified was invalid."
	msgSignatureDoesNotMatch    = "The request signature we calculated does not match the signature you provided. Check your key and signing method."
	msgNotImplemented           = "A header or query you provided implies functionality that is not implemented."
	msgMethodNotAllowed         = "The specified method is not allowed against this resource."
	msgKeyIDHeaderNotApplicable = "x-oss-server-side-encryption-key-id is not applicable if the server side encryption algorithm is not KMS"
)

// ossError is one OSS error response.
type ossError struct {
	Status  int
	Code    string
	Message string
	EC      string
	// Extra elements written after HostId, in order (BucketName, Key,
	// StringToSign, ...).
	Extra [][2]string
	// Header holds extra response headers (e.g. Allow).
	Header map[string]string
	// integrity is the store's *objstore.IntegrityError behind a
	// KindIntegrity answer, for the log only; never sent.
	integrity error
	// unsupported names what a 501 refused when the query does not (a
	// header), for the log only.
	unsupported string
}

func (e *ossError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

func newErr(status int, code, msg string) *ossError {
	return &ossError{Status: status, Code: code, Message: msg}
}

func (e *ossError) withEC(ec string) *ossError { e.EC = ec; return e }

func (e *ossError) with(name, value string) *ossError {
	e.Extra = append(e.Extra, [2]string{name, value})
	return e
}

// xmlBody renders the error document.
func (e *ossError) xmlBody(requestID, hostID string) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString("<Error>\n")
	elem := func(name, value string) {
		b.WriteString("  <")
		b.WriteString(name)
		b.WriteString(">")
		_ = xml.EscapeText(&b, []byte(value))
		b.WriteString("</")
		b.WriteString(name)
		b.WriteString(">\n")
	}
	elem("Code", e.Code)
	elem("Message", e.Message)
	elem("RequestId", requestID)
	elem("HostId", hostID)
	for _, kv := range e.Extra {
		elem(kv[0], kv[1])
	}
	if e.EC != "" {
		elem("EC", e.EC)
		elem("RecommendDoc", recommendDocPrefix+e.EC)
	}
	b.WriteString("</Error>\n")
	return b.Bytes()
}

func errInvalidArgument(msg string) *ossError {
	return newErr(http.StatusBadRequest, CodeInvalidArgument, msg)
}

func errMalformedXML() *ossError {
	return newErr(http.StatusBadRequest, CodeMalformedXML, msgMalformedXML)
}

func errInvalidEncryptionAlgorithm() *ossError {
	return newErr(http.StatusBadRequest, CodeInvalidEncryptionAlgorithm, msgInvalidEncryptionAlgo)
}

func errNotImplemented() *ossError {
	return newErr(http.StatusNotImplemented, CodeNotImplemented, msgNotImplemented)
}

// errNotImplementedHeader is the 501 for a request header naming a
// feature not served here.
func errNotImplementedHeader(name string) *ossError {
	e := errNotImplemented()
	e.unsupported = strings.ToLower(name)
	return e
}

func errMethodNotAllowed(allow string) *ossError {
	e := newErr(http.StatusMethodNotAllowed, CodeMethodNotAllowed, msgMethodNotAllowed)
	e.Header = map[string]string{"Allow": allow}
	return e
}

func errInternal() *ossError {
	return newErr(http.StatusInternalServerError, CodeInternalError, "We encountered an internal error. Please try again.")
}

func errAccessDenied(msg string) *ossError {
	return newErr(http.StatusForbidden, CodeAccessDenied, msg)
}

func errPreconditionFailed() *ossError {
	return newErr(http.StatusPreconditionFailed, CodePreconditionFailed, "At least one of the pre-conditions you specified did not hold.")
}

func errInvalidRange() *ossError {
	return newErr(http.StatusRequestedRangeNotSatisfiable, CodeInvalidRange, "The requested range cannot be satisfied")
}

// storeErrorInfo is how one objstore.Kind maps onto OSS.
type storeErrorInfo struct {
	status int
	code   string
	msg    string // canonical OSS message
	ec     string
	// useStoreMessage sends the store's (client-safe) message instead of
	// msg when it has one: for generic codes whose detail matters.
	useStoreMessage bool
}

var storeErrors = map[objstore.Kind]storeErrorInfo{
	objstore.KindInternal:                   {http.StatusInternalServerError, CodeInternalError, "We encountered an internal error. Please try again.", "", false},
	objstore.KindAccessDenied:               {http.StatusForbidden, CodeAccessDenied, "You have no right to access this resource.", "", false},
	objstore.KindInvalidBucketName:          {http.StatusBadRequest, CodeInvalidBucketName, "The specified bucket is not valid.", "", false},
	objstore.KindInvalidObjectName:          {http.StatusBadRequest, CodeInvalidObjectName, "The specified object is not valid.", "", false},
	objstore.KindNoSuchBucket:               {http.StatusNotFound, CodeNoSuchBucket, "The specified bucket does not exist.", ecNoSuchBucket, false},
	objstore.KindBucketAlreadyExists:        {http.StatusConflict, CodeBucketAlreadyExists, "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.", ecBucketAlreadyExists, false},
	objstore.KindBucketAlreadyOwnedByYou:    {http.StatusConflict, CodeBucketAlreadyExists, "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.", ecBucketAlreadyExists, false},
	objstore.KindBucketNotEmpty:             {http.StatusConflict, CodeBucketNotEmpty, "The bucket you tried to delete is not empty.", ecBucketNotEmpty, false},
	objstore.KindNoSuchKey:                  {http.StatusNotFound, CodeNoSuchKey, "The specified key does not exist.", ecNoSuchKey, false},
	objstore.KindNoSuchUpload:               {http.StatusNotFound, CodeNoSuchUpload, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.", ecNoSuchUpload, false},
	objstore.KindInvalidPart:                {http.StatusBadRequest, CodeInvalidPart, "One or more of the specified parts could not be found or the specified entity tag might not have matched the part's entity tag.", "", false},
	objstore.KindInvalidPartOrder:           {http.StatusBadRequest, CodeInvalidPartOrder, "The list of parts was not in ascending order. The parts list must be specified in order by part number.", "", false},
	objstore.KindEntityTooSmall:             {http.StatusBadRequest, CodeEntityTooSmall, "Your proposed upload smaller than the minimum allowed object size.", "", false},
	objstore.KindInvalidDigest:              {http.StatusBadRequest, CodeInvalidDigest, msgInvalidDigest, ecInvalidDigest, false},
	objstore.KindIncompleteBody:             {http.StatusBadRequest, CodeIncompleteBody, "You did not provide the number of bytes specified by the Content-Length HTTP header.", "", false},
	objstore.KindInvalidRange:               {http.StatusRequestedRangeNotSatisfiable, CodeInvalidRange, "The requested range cannot be satisfied", "", false},
	objstore.KindInvalidArgument:            {http.StatusBadRequest, CodeInvalidArgument, "Invalid Argument.", "", true},
	objstore.KindNoSuchEncryptionRule:       {http.StatusNotFound, CodeNoSuchServerSideEncryptionRule, "The server side encryption configuration was not found.", ecNoSuchEncryptionRule, false},
	objstore.KindInvalidEncryptionAlgorithm: {http.StatusBadRequest, CodeInvalidEncryptionAlgorithm, msgInvalidEncryptionAlgo, "", false},
	objstore.KindKMSAccessDenied:            {http.StatusForbidden, CodeAccessDenied, "This request is forbidden by kms.", "", false},
	objstore.KindKMSKeyDisabled:             {http.StatusConflict, CodeKeyDisabled, "The request was rejected because the key state is Disabled.", ecKeyDisabled, false},
	objstore.KindKMSKeyPendingDeletion:      {http.StatusConflict, CodeKeyPendingDeletion, "The request was rejected because the key state is PendingDeletion.", ecKeyPendingDeletion, false},
	objstore.KindKMSKeyNotFound:             {http.StatusNotFound, CodeKeyNotFound, "The specified parameter KMS keyId is not found.", ecKeyNotFound, false},
	objstore.KindKMSInvalidKeyID:            {http.StatusBadRequest, CodeInvalidParameter, "The specified parameter KMS keyId is not valid.", "", false},
	objstore.KindKMSUnavailable:             {http.StatusServiceUnavailable, CodeServiceUnavailable, "The KMS service is unavailable. Please try again later.", "", false},
	objstore.KindDecryptFailed:              {http.StatusInternalServerError, CodeInternalError, "We encountered an internal error. Please try again.", "", false},
	// Stored metadata or data failed the store's integrity checks: the
	// server's fault, answered as any internal error (no object headers,
	// no bytes) and logged as an integrity failure (integrityCause).
	objstore.KindIntegrity:                {http.StatusInternalServerError, CodeInternalError, "We encountered an internal error. Please try again.", "", false},
	objstore.KindEntityTooLarge:           {http.StatusBadRequest, CodeEntityTooLarge, "Your proposed upload exceeds the maximum allowed size.", "", false},
	objstore.KindPreconditionFailed:       {http.StatusPreconditionFailed, CodePreconditionFailed, "At least one of the pre-conditions you specified did not hold.", "", false},
	objstore.KindInvalidRequest:           {http.StatusBadRequest, CodeInvalidArgument, "Invalid Argument.", "", true},
	objstore.KindNoSuchVersion:            {http.StatusNotFound, CodeNoSuchVersion, "The specified version does not exist.", "", false},
	objstore.KindMethodNotAllowed:         {http.StatusMethodNotAllowed, CodeMethodNotAllowed, msgMethodNotAllowed, ecDeleteMarkerOperation, false},
	objstore.KindSlowDown:                 {http.StatusServiceUnavailable, CodeServiceUnavailable, "Please reduce your request rate: too many uploads of this principal are in progress.", "", false},
	objstore.KindInvalidTag:               {http.StatusBadRequest, CodeInvalidTag, "The tag is not valid.", ecInvalidTag, true},
	objstore.KindNoSuchBucketPolicy:       {http.StatusNotFound, CodeNoSuchBucketPolicy, "The bucket policy does not exist.", "", false},
	objstore.KindMalformedPolicy:          {http.StatusBadRequest, CodeInvalidPolicyDocument, "The policy document is not valid.", "", true},
	objstore.KindPolicyUnsupported:        {http.StatusNotImplemented, CodeNotImplemented, "A part of this policy is not implemented.", "", true},
	objstore.KindPositionNotEqualToLength: {http.StatusConflict, CodePositionNotEqualToLength, "Position is not equal to file length", "", false},
	objstore.KindObjectNotAppendable:      {http.StatusConflict, CodeObjectNotAppendable, "The object is not appendable", "", false},
	objstore.KindRequestTimeout:           {http.StatusBadRequest, CodeRequestTimeout, "Your socket connection to the server was not read from or written to within the timeout period.", "", false},
	// An SSE-C object (written through the S3 front end) read through
	// OSS, which has no SSE-C headers: never served.
	objstore.KindCustomerKeyRequired: {http.StatusBadRequest, CodeInvalidArgument, "The object is encrypted with a customer-provided key (SSE-C), which OSS requests cannot carry.", "", false},
	objstore.KindCustomerKeyMismatch: {http.StatusForbidden, CodeAccessDenied, "You have no right to access this resource.", "", false},
}

// fromStore maps a store error to the OSS error for it. bucket and key name
// the resource of the request (for BucketName / Key elements).
func fromStore(err error, bucket, key string) *ossError {
	kind := objstore.KindOf(err)
	info, ok := storeErrors[kind]
	if !ok {
		info = storeErrors[objstore.KindInternal]
	}
	msg := info.msg
	if info.useStoreMessage {
		if se, ok := errorsAsStore(err); ok && se.Message != "" {
			msg = se.Message
		}
	}
	e := newErr(info.status, info.code, msg).withEC(info.ec)
	if kind == objstore.KindIntegrity {
		e.integrity = err
	}
	if se, ok := errorsAsStore(err); ok && kind == objstore.KindKMSKeyNotFound && strings.Contains(se.Message, "Alias") {
		// The store keeps KMS's distinction: an alias that names no key.
		e = newErr(http.StatusNotFound, CodeAliasNotFound, "The specified Alias is not found.")
	}
	switch kind {
	case objstore.KindNoSuchBucket, objstore.KindBucketNotEmpty, objstore.KindBucketAlreadyExists,
		objstore.KindBucketAlreadyOwnedByYou, objstore.KindInvalidBucketName, objstore.KindNoSuchEncryptionRule,
		objstore.KindNoSuchBucketPolicy:
		if bucket != "" {
			e.with("BucketName", bucket)
		}
	case objstore.KindNoSuchKey, objstore.KindNoSuchVersion:
		if key != "" {
			e.with("Key", key)
		}
	}
	if se, ok := errorsAsStore(err); ok && kind == objstore.KindPositionNotEqualToLength {
		// OSS tells the client where the next append must start.
		e.Header = map[string]string{hNextAppendPosition: strconv.FormatInt(se.NextPosition, 10)}
	}
	if se, ok := errorsAsStore(err); ok && se.DeleteMarker {
		// As OSS answers a read that meets a delete marker.
		e.Header = map[string]string{"X-Oss-Delete-Marker": "true"}
		if se.VersionID != "" {
			e.Header["X-Oss-Version-Id"] = se.VersionID
		}
		if kind == objstore.KindMethodNotAllowed {
			e.Header["Last-Modified"] = httpTime(se.LastModified)
		}
	}
	return e
}

func errorsAsStore(err error) (*objstore.Error, bool) {
	var se *objstore.Error
	ok := errors.As(err, &se)
	return se, ok
}
