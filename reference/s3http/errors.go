package s3http

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

// apiError is an S3 error response: its code, HTTP status and message, plus
// the optional extra elements some codes carry on AWS.
type apiError struct {
	Status  int
	Code    string
	Message string
	// Extra elements appended after HostId, in order (e.g. Region for
	// AuthorizationHeaderMalformed, StringToSign for SignatureDoesNotMatch).
	Extra [][2]string
	// Headers are set on the response as well (e.g. Content-Range on 416).
	Headers map[string]string
	cause   error // for the log only
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func (e *apiError) Unwrap() error { return e.cause }

func newErr(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func (e *apiError) with(name, value string) *apiError {
	e.Extra = append(e.Extra, [2]string{name, value})
	return e
}

// Errors raised by the front end itself. The messages are AWS's where AWS
// documents one.
func errAccessDenied(msg string) *apiError {
	if msg == "" {
		msg = "Access Denied"
	}
	return newErr(http.StatusForbidden, "AccessDenied", "%s", msg)
}

func errInvalidArgument(format string, args ...any) *apiError {
	return newErr(http.StatusBadRequest, "InvalidArgument", format, args...)
}

func errInvalidRequest(format string, args ...any) *apiError {
	return newErr(http.StatusBadRequest, "InvalidRequest", format, args...)
}

func errMalformedXML() *apiError {
	return newErr(http.StatusBadRequest, "MalformedXML",
		"The XML you provided was not well-formed or did not validate against our published schema")
}

func errNotImplemented(what string) *apiError {
	return newErr(http.StatusNotImplemented, "NotImplemented",
		"A header or query parameter you provided implies functionality that is not implemented: %s", what)
}

func errMethodNotAllowed() *apiError {
	return newErr(http.StatusMethodNotAllowed, "MethodNotAllowed",
		"The specified method is not allowed against this resource.")
}

func errInternal(cause error) *apiError {
	e := newErr(http.StatusInternalServerError, "InternalError",
		"We encountered an internal error. Please try again.")
	e.cause = cause
	return e
}

// errorFromStore maps an objstore error to the S3 error a client sees.
// key is the object key of the request ("" for bucket requests).
func errorFromStore(err error, key string) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var se *objstore.Error
	if !errors.As(err, &se) {
		return errInternal(err)
	}
	msg := se.Message
	mk := func(status int, code, def string) *apiError {
		m := msg
		if m == "" {
			m = def
		}
		return &apiError{Status: status, Code: code, Message: m, cause: err}
	}
	switch se.Kind {
	case objstore.KindAccessDenied:
		return mk(http.StatusForbidden, "AccessDenied", "Access Denied")
	case objstore.KindCustomerKeyRequired:
		return mk(http.StatusBadRequest, "InvalidRequest",
			"The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.")
	case objstore.KindCustomerKeyMismatch:
		return mk(http.StatusForbidden, "AccessDenied", "Access Denied")
	case objstore.KindInvalidBucketName:
		return mk(http.StatusBadRequest, "InvalidBucketName", "The specified bucket is not valid.")
	case objstore.KindInvalidObjectName:
		if len(key) > 1023 {
			return mk(http.StatusBadRequest, "KeyTooLongError", "Your key is too long")
		}
		return mk(http.StatusBadRequest, "InvalidArgument", "The object key is not valid")
	case objstore.KindNoSuchBucket:
		return mk(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
	case objstore.KindBucketAlreadyExists:
		return mk(http.StatusConflict, "BucketAlreadyExists",
			"The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.")
	case objstore.KindBucketAlreadyOwnedByYou:
		return mk(http.StatusConflict, "BucketAlreadyOwnedByYou",
			"Your previous request to create the named bucket succeeded and you already own it.")
	case objstore.KindBucketNotEmpty:
		return mk(http.StatusConflict, "BucketNotEmpty", "The bucket you tried to delete is not empty")
	case objstore.KindNoSuchKey:
		return withVersion(mk(http.StatusNotFound, "NoSuchKey", "The specified key does not exist."), se)
	case objstore.KindNoSuchVersion:
		e := mk(http.StatusNotFound, "NoSuchVersion", "The specified version does not exist.").with("Key", key)
		if se.VersionID != "" {
			e = e.with("VersionId", se.VersionID)
		}
		return e
	case objstore.KindMethodNotAllowed:
		e := mk(http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
		return withVersion(e, se)
	case objstore.KindNoSuchUpload:
		return mk(http.StatusNotFound, "NoSuchUpload",
			"The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
	case objstore.KindInvalidPart:
		return mk(http.StatusBadRequest, "InvalidPart",
			"One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")
	case objstore.KindInvalidPartOrder:
		return mk(http.StatusBadRequest, "InvalidPartOrder",
			"The list of parts was not in ascending order. Parts must be ordered by part number.")
	case objstore.KindEntityTooSmall:
		return mk(http.StatusBadRequest, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.")
	case objstore.KindEntityTooLarge:
		return mk(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.")
	case objstore.KindInvalidDigest:
		return mk(http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received.")
	case objstore.KindIncompleteBody:
		return mk(http.StatusBadRequest, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.")
	case objstore.KindInvalidRange:
		return mk(http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The requested range is not satisfiable")
	case objstore.KindInvalidArgument:
		return mk(http.StatusBadRequest, "InvalidArgument", "Invalid argument")
	case objstore.KindInvalidTag:
		return mk(http.StatusBadRequest, "InvalidTag", "The tag provided was not a valid tag.")
	case objstore.KindNoSuchEncryptionRule:
		return mk(http.StatusNotFound, "ServerSideEncryptionConfigurationNotFoundError",
			"The server side encryption configuration was not found")
	case objstore.KindInvalidEncryptionAlgorithm:
		return mk(http.StatusBadRequest, "InvalidArgument", "The encryption method specified is not supported")
	case objstore.KindKMSAccessDenied:
		return mk(http.StatusForbidden, "AccessDenied", "Access Denied: the caller may not use the KMS key of this object")
	case objstore.KindKMSKeyDisabled:
		return mk(http.StatusBadRequest, "KMS.DisabledException", "The KMS key is disabled")
	case objstore.KindKMSKeyPendingDeletion:
		return mk(http.StatusBadRequest, "KMS.KMSInvalidStateException", "The KMS key is pending deletion")
	case objstore.KindKMSKeyNotFound:
		return mk(http.StatusBadRequest, "KMS.NotFoundException", "The KMS key does not exist")
	case objstore.KindKMSInvalidKeyID:
		return mk(http.StatusBadRequest, "KMS.NotFoundException", "Invalid KMS key id")
	case objstore.KindSlowDown:
		return mk(http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
	case objstore.KindRequestTimeout:
		return mk(http.StatusBadRequest, "RequestTimeout",
			"Your socket connection to the server was not read from or written to within the timeout period.")
	case objstore.KindKMSUnavailable:
		return mk(http.StatusServiceUnavailable, "ServiceUnavailable", "KMS is unavailable; please try again")
	case objstore.KindPreconditionFailed:
		return mk(http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
	case objstore.KindInvalidRequest:
		return mk(http.StatusBadRequest, "InvalidRequest", "Invalid request")
	case objstore.KindNoSuchBucketPolicy:
		return mk(http.StatusNotFound, "NoSuchBucketPolicy", "The bucket policy does not exist")
	case objstore.KindMalformedPolicy:
		return mk(http.StatusBadRequest, "MalformedPolicy", "Policies must be valid JSON")
	case objstore.KindPolicyUnsupported:
		return mk(http.StatusNotImplemented, "NotImplemented", "A part of this policy is not implemented")
	case objstore.KindIntegrity:
		// Stored metadata or data failed the store's integrity checks:
		// answered as any internal error, logged as an integrity failure
		// (reqCtx.fail).
		return &apiError{Status: http.StatusInternalServerError, Code: "InternalError",
			Message: "We encountered an internal error. Please try again.", cause: err}
	case objstore.KindDecryptFailed:
		// Stored data failed authentication: a server-side integrity
		// failure, never the client's fault. No plaintext was sent.
		return &apiError{Status: http.StatusInternalServerError, Code: "InternalError",
			Message: "The stored object failed integrity verification", cause: err}
	default:
		return errInternal(err)
	}
}

// withVersion adds the headers S3 sends when a read meets a delete marker:
// x-amz-delete-marker, the marker's id and (405 only) its Last-Modified.
func withVersion(e *apiError, se *objstore.Error) *apiError {
	if !se.DeleteMarker {
		return e
	}
	e.Headers = map[string]string{"X-Amz-Delete-Marker": "true"}
	if se.VersionID != "" {
		e.Headers["X-Amz-Version-Id"] = se.VersionID
	}
	if e.Status == http.StatusMethodNotAllowed {
		e.Headers["Last-Modified"] = se.LastModified.UTC().Format(http.TimeFormat)
		e.Extra = append(e.Extra, [2]string{"Method", "GET"}, [2]string{"ResourceType", "DeleteMarker"})
	}
	return e
}

type errorBody struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Resource  string   `xml:"Resource,omitempty"`
	RequestID string   `xml:"RequestId"`
	HostID    string   `xml:"HostId"`
	Extra     []extraElem
}

type extraElem struct {
	XMLName xml.Name
	Value   string `xml:",chardata"`
}

// writeError sends e. HEAD responses carry no body (as on S3).
func (rc *reqCtx) writeError(e *apiError) {
	w := rc.w
	h := w.Header()
	for k, v := range e.Headers {
		h.Set(k, v)
	}
	if rc.r.Method == http.MethodHead {
		h.Del("Content-Type")
		w.WriteHeader(e.Status)
		return
	}
	body := errorBody{Code: e.Code, Message: e.Message, Resource: rc.resource(), RequestID: rc.reqID, HostID: rc.hostID}
	for _, x := range e.Extra {
		body.Extra = append(body.Extra, extraElem{XMLName: xml.Name{Local: x[0]}, Value: x[1]})
	}
	out, err := xml.Marshal(body)
	if err != nil {
		out = []byte("<Error><Code>InternalError</Code></Error>")
	}
	out = append([]byte(xml.Header), out...)
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(e.Status)
	_, _ = w.Write(out)
}

// resource is the <Resource> of an error: the request path, decoded.
func (rc *reqCtx) resource() string {
	var b strings.Builder
	b.WriteByte('/')
	if rc.bucket != "" {
		b.WriteString(rc.bucket)
		if rc.key != "" {
			b.WriteByte('/')
			b.WriteString(rc.key)
		}
	}
	return b.String()
}
