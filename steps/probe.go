package steps

import (
	"context"
	"fmt"
	"slices"
	"time"

	kmssdk "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/kmsclient"
	"github.com/sseaudit/sseaudit/kmsclient/awskms"
)

// Before any scenario runs, each endpoint is asked one harmless question.
// An endpoint that cannot be reached or that refuses the credentials
// would fail every scenario: that is a run that could not happen (an
// error), not an endpoint that broke the rules (failed scenarios).

// probeTimeout bounds the storage probes together.
const probeTimeout = 30 * time.Second

// credentialCodes are the error codes with which OSS, S3 and KMS refuse a
// request's credentials or region (not its permission: a least-privileged
// principal may well be denied the probe and still run the suite).
var credentialCodes = []string{
	"InvalidAccessKeyId", "InvalidAccessKeyId.NotFound", "InvalidAccessKeyId.Inactive",
	"SignatureDoesNotMatch", "IncompleteSignature", "AuthorizationHeaderMalformed",
	"InvalidSecurityToken", "InvalidToken",
	// AWS KMS
	"UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignatureException",
	"MissingAuthenticationTokenException", "ExpiredTokenException",
}

// probe checks that every target and the KMS endpoint answer and accept
// the credentials.
func (r *runner) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	for _, d := range []client.Dialect{client.OSS, client.S3} {
		c := r.clients[d]
		if c == nil {
			continue
		}
		// A bucket of the run's own prefix that does not exist: the
		// answer is 404 NoSuchBucket, and nothing is created.
		_, err := c.BucketEncryption(ctx, fmt.Sprintf("%s%s-probe", r.opts.BucketPrefix, r.runID))
		if e, ok := client.AsError(err); ok && e.Code == "NoSuchBucket" {
			// OSS answers NoSuchBucket before it checks the signature, so
			// that answer says nothing of the credentials: ask a request
			// every store authenticates (a principal denied it, 403
			// AccessDenied, still passes).
			_, err = c.ListBuckets(ctx)
		}
		if err == nil {
			continue
		}
		e, answered := client.AsError(err)
		switch {
		case !answered:
			return fmt.Errorf("steps: the %s endpoint %s cannot be reached: %w; check the endpoint URL (scheme, host and port) and that it is serving", d, c.Endpoint(), err)
		case slices.Contains(credentialCodes, e.Code):
			return fmt.Errorf("steps: the %s endpoint %s refused the credentials: %d %s: %s; check the access key id, its secret and the region (%s)", d, c.Endpoint(), e.StatusCode, e.Code, e.Message, c.Region())
		}
	}
	if r.hasKMS && r.opts.AWSKMS != nil {
		if err := r.probeAWSKMS(ctx); err != nil {
			return err
		}
	}
	if r.hasKMS && r.opts.KMS != nil {
		k, err := client.KMS(*r.opts.KMS)
		if err != nil {
			return fmt.Errorf("steps: KMS: %w", err)
		}
		// An alias nobody has: the answer is 404, and nothing changes. The
		// SDK takes no context; its own timeouts bound the call.
		_, err = k.DescribeKey(&kmssdk.DescribeKeyRequest{KeyId: tea.String("alias/sseaudit-probe-" + r.runID)})
		if err == nil {
			return nil
		}
		se, answered := kmsclient.AsServiceError(err)
		switch {
		case !answered:
			return fmt.Errorf("steps: the KMS endpoint %s cannot be reached: %w; check the KMS endpoint URL (scheme, host and port) and that it is serving", r.opts.KMS.Endpoint, err)
		case slices.Contains(credentialCodes, se.Code):
			return fmt.Errorf("steps: the KMS endpoint %s refused the credentials: %d %s: %s; check the access key id, its secret and the region (%s)", r.opts.KMS.Endpoint, se.StatusCode, se.Code, se.Message, r.opts.KMS.Region)
		}
	}
	return nil
}

// probeAWSKMS asks the AWS KMS endpoint to describe an alias nobody has:
// the answer is NotFoundException, and nothing changes.
func (r *runner) probeAWSKMS(ctx context.Context) error {
	k, err := newAWSKMS(ctx, *r.opts.AWSKMS)
	if err != nil {
		return fmt.Errorf("steps: AWS KMS: %w", err)
	}
	_, err = k.DescribeKey(ctx, "alias/sseaudit-probe-"+r.runID)
	if err == nil {
		return nil
	}
	se, answered := awskms.AsServiceError(err)
	switch {
	case !answered:
		return fmt.Errorf("steps: the AWS KMS endpoint %s cannot be reached: %w; check the KMS endpoint URL (scheme, host and port) and that it is serving", r.opts.AWSKMS.Endpoint, err)
	case slices.Contains(credentialCodes, se.Code):
		return fmt.Errorf("steps: the AWS KMS endpoint %s refused the credentials: %d %s: %s; check the access key id, its secret and the region (%s)", r.opts.AWSKMS.Endpoint, se.StatusCode, se.Code, se.Message, r.opts.AWSKMS.Region)
	}
	return nil
}
