package client

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strings"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	oss1 "github.com/aliyun/aliyun-oss-go-sdk/oss"
	"github.com/minio/minio-go/v7"
)

// Error is an error answered by the endpoint, whichever SDK read it.
type Error struct {
	// Op is the Client method (or SDK step, e.g. UploadPart) that failed;
	// empty when AsError converted a bare SDK error.
	Op         string
	StatusCode int
	// Code is the service's error code, e.g. NoSuchKey. For bodiless
	// answers (HEAD) without x-oss-err it is derived from the status as
	// minio-go does.
	Code      string
	Message   string
	RequestID string
	// EC is the OSS error-center sub-code (XML EC or x-oss-ec); "" on S3.
	EC string
	// Header are the raw response headers, when the answer was recorded.
	Header http.Header
	// Err is the SDK's own error.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("client: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%d %s", e.StatusCode, e.Code)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id ")
		b.WriteString(e.RequestID)
		if e.EC != "" {
			b.WriteString(", EC ")
			b.WriteString(e.EC)
		}
		b.WriteString(")")
	} else if e.EC != "" {
		b.WriteString(" (EC ")
		b.WriteString(e.EC)
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the SDK's error.
func (e *Error) Unwrap() error { return e.Err }

// AsError returns the endpoint's answer carried by err: an *Error returned
// by a Client, or an error of one of the three SDKs (oss.ServiceError of
// aliyun-oss-go-sdk, *oss.ServiceError of alibabacloud-oss-go-sdk-v2,
// minio.ErrorResponse) converted on the spot. It reports false for errors
// that are not an endpoint's answer.
func AsError(err error) (*Error, bool) {
	if err == nil {
		return nil, false
	}
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return convertSDKError(err, "", false, nil, true)
}

// toError converts an SDK error of a Client call. key is the object key
// of the request ("" for bucket requests), used to name bodiless 404s.
func (c *Client) toError(op, key string, cp *capture, err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	// minio-go fabricates ErrorResponse values for its own argument checks;
	// only an error after a recorded response is the endpoint's.
	e, ok := convertSDKError(err, key, true, cp, cp.Status() != 0)
	if !ok {
		return nil, false
	}
	e.Op = op
	return e, true
}

// convertSDKError reads err as one of the SDKs' service errors. key names
// the object ("" for bucket requests); keyKnown is false when that is not
// known (AsError). answered says whether a response was received.
func convertSDKError(err error, key string, keyKnown bool, cp *capture, answered bool) (*Error, bool) {
	var out *Error
	var v1 oss1.ServiceError
	var v1p *oss1.ServiceError
	var v2 *oss2.ServiceError
	var mr minio.ErrorResponse
	var mrp *minio.ErrorResponse
	oss := false
	switch {
	case errors.As(err, &v1p) && v1p != nil:
		v1 = *v1p
		fallthrough
	case errors.As(err, &v1):
		oss = true
		out = &Error{StatusCode: v1.StatusCode, Code: v1.Code, Message: v1.Message, RequestID: v1.RequestID, EC: v1.Ec, Err: err}
	case errors.As(err, &v2) && v2 != nil:
		oss = true
		out = &Error{StatusCode: v2.StatusCode, Code: v2.Code, Message: v2.Message, RequestID: v2.RequestID, EC: v2.EC,
			Header: v2.Headers.Clone(), Err: err}
		if out.Code == "BadErrorResponse" && len(v2.Snapshot) == 0 {
			// The v2 SDK's name for "no error document": treat it like a
			// bodiless answer.
			out.Code, out.Message = "", ""
		}
	case errors.As(err, &mrp) && mrp != nil:
		mr = *mrp
		fallthrough
	case errors.As(err, &mr):
		if !answered || mr.StatusCode == 0 {
			return nil, false
		}
		out = &Error{StatusCode: mr.StatusCode, Code: mr.Code, Message: mr.Message, RequestID: mr.RequestID, Err: err}
	default:
		return nil, false
	}
	if h := cp.Header(); h != nil {
		out.Header = h
	}
	if oss {
		fillOSSFromHeader(out)
	}
	if out.Code == "" {
		out.Code = codeForStatus(out.StatusCode, key, keyKnown)
		if out.Message == "" {
			out.Message = http.StatusText(out.StatusCode)
		}
	}
	return out, true
}

// fillOSSFromHeader completes an OSS error from x-oss-err (the error
// document of a bodiless answer), x-oss-ec and x-oss-request-id when the
// SDK left fields empty.
func fillOSSFromHeader(e *Error) {
	h := e.Header
	if h == nil {
		return
	}
	if e.Code == "" {
		if raw, err := base64.StdEncoding.DecodeString(h.Get("X-Oss-Err")); err == nil && len(raw) > 0 {
			var doc struct {
				Code      string `xml:"Code"`
				Message   string `xml:"Message"`
				RequestID string `xml:"RequestId"`
				EC        string `xml:"EC"`
			}
			if xml.Unmarshal(raw, &doc) == nil {
				e.Code, e.Message = doc.Code, doc.Message
				if e.RequestID == "" {
					e.RequestID = doc.RequestID
				}
				if e.EC == "" {
					e.EC = doc.EC
				}
			}
		}
	}
	if e.EC == "" {
		e.EC = h.Get("X-Oss-Ec")
	}
	if e.RequestID == "" {
		e.RequestID = h.Get("X-Oss-Request-Id")
	}
}

// codeForStatus names a bodiless error as minio-go does ("NotFound" for a
// 404 when it is not known whether an object was addressed).
func codeForStatus(status int, key string, keyKnown bool) string {
	switch status {
	case http.StatusNotFound:
		if !keyKnown {
			return "NotFound"
		}
		if key == "" {
			return "NoSuchBucket"
		}
		return "NoSuchKey"
	case http.StatusForbidden:
		return "AccessDenied"
	case http.StatusConflict:
		return "Conflict"
	case http.StatusPreconditionFailed:
		return "PreconditionFailed"
	case http.StatusNotModified:
		return "NotModified"
	default:
		return http.StatusText(status)
	}
}
