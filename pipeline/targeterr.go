package pipeline

import (
	"fmt"
	"strings"

	"github.com/sseaudit/sseaudit/snapshot"
)

// TargetError is a target the run could not read: unreachable, refused
// credentials, wrong region, or nothing readable. Its message is one line
// saying what failed and what to try.
type TargetError struct {
	Endpoint string
	// What failed, e.g. "list buckets"; Cause is the endpoint's answer.
	What, Cause string
	// Hint says what to try.
	Hint string
}

func (e *TargetError) Error() string {
	return fmt.Sprintf("cannot read %s: %s failed: %s; %s", e.Endpoint, e.What, e.Cause, e.Hint)
}

// targetError decides whether the snapshot shows a target that could not
// be read at all, and why.
func targetError(sum *snapshot.Summary, t Target, bucketGlob string) *TargetError {
	c := sum.Coverage
	endpoint := sum.Provenance.Target.Endpoint
	if le := c.ListBucketsError; le != nil && c.BucketsRead == 0 {
		return &TargetError{Endpoint: endpoint, What: "listing the buckets", Cause: errorText(le), Hint: hint(le, t)}
	}
	if c.Buckets > 0 && c.BucketsRead == 0 && c.ObjectsInspected == 0 {
		var first *snapshot.Error
		for i := range sum.Buckets {
			b := &sum.Buckets[i]
			for _, e := range []*snapshot.Error{b.EncryptionError, b.RegionError, b.ListError} {
				if e != nil && first == nil {
					first = e
				}
			}
		}
		te := &TargetError{Endpoint: endpoint, What: fmt.Sprintf("reading each of the %d buckets", c.Buckets), Cause: "no bucket could be read"}
		if first != nil {
			te.Cause += " (first: " + errorText(first) + ")"
			te.Hint = hint(first, t)
		} else {
			te.Hint = "check the scanning principal's permissions"
		}
		return te
	}
	if c.Buckets == 0 && c.ListBucketsError == nil && bucketGlob != "" {
		return &TargetError{Endpoint: endpoint, What: "selecting buckets", Cause: fmt.Sprintf("--buckets %q matched no bucket the principal can list", bucketGlob),
			Hint: "check the pattern (it is a glob over bucket names, e.g. prod-*) and the principal's ListBuckets permission"}
	}
	return nil
}

func errorText(e *snapshot.Error) string {
	var b strings.Builder
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, "%d ", e.StatusCode)
	}
	if e.Code != "" {
		b.WriteString(e.Code + ": ")
	}
	msg := e.Message
	// Connection errors repeat the whole request URL; the last clause says
	// what happened.
	if i := strings.LastIndex(msg, ": dial tcp "); i >= 0 {
		msg = msg[i+2:]
	}
	b.WriteString(msg)
	return b.String()
}

// hint says what to try for an error the endpoint (or the network) gave.
func hint(e *snapshot.Error, t Target) string {
	idVar, secretVar := "OSS_ACCESS_KEY_ID", "OSS_ACCESS_KEY_SECRET"
	if t.Dialect == "s3" {
		idVar, secretVar = "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"
	}
	msg := strings.ToLower(e.Message)
	switch code := e.Code; {
	case strings.Contains(msg, "connection refused"):
		return "nothing listens there: check --endpoint (scheme, host and port) and that the service is running"
	case strings.Contains(msg, "no such host"):
		return "the host name does not resolve: check --endpoint"
	case strings.Contains(msg, "timeout") || strings.Contains(msg, "deadline exceeded"):
		return "the endpoint did not answer in time: check --endpoint, the network path and any proxy"
	case strings.Contains(msg, "http: server gave http response to https client"):
		return "the endpoint speaks plain HTTP: use an http:// URL"
	case strings.Contains(msg, "tls") || strings.Contains(msg, "certificate") || strings.Contains(msg, "malformed http response"):
		return "TLS failed: check the scheme (http or https) and the endpoint's certificate"
	case code == "InvalidAccessKeyId":
		return "the endpoint does not know the access key id: check " + idVar
	case code == "SignatureDoesNotMatch":
		return "the signature did not match: check " + secretVar + " (and --region for signature V4)"
	case code == "AuthorizationHeaderMalformed" || code == "AuthorizationQueryParametersError" || code == "InvalidRegion" ||
		code == "IllegalLocationConstraintException" || code == "PermanentRedirect" || e.StatusCode == 301 ||
		strings.Contains(msg, "region"):
		return fmt.Sprintf("the endpoint serves another region than %q: check --region", t.Region)
	case code == "AccessDenied" || e.StatusCode == 403:
		return "the principal may not do this: grant it the read permissions the README lists, or name one bucket with --buckets"
	case e.StatusCode >= 500:
		return "the endpoint failed: try again later"
	}
	return "check --endpoint, --dialect, --region and the credentials"
}
