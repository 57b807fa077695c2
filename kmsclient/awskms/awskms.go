// Package awskms builds aws-sdk-go-v2's KMS client (service/kms) for an
// explicit endpoint, such as the sseaudit reference server's KMS port
// ("http://127.0.0.1:9001", which answers the AWS KMS JSON protocol with
// SigV4 next to the Alibaba one) or a real AWS KMS endpoint
// ("https://kms.us-east-1.amazonaws.com"), and reads what an audit needs
// from it: a key's metadata (DescribeKey) and its rotation status
// (GetKeyRotationStatus), as plain values, plus the service's errors as
// (HTTP status, code, message).
//
// The SDK is used unmodified: New only fills its configuration. Its own
// retries are off (callers such as the scanner retry, and count, what is
// worth retrying). Credentials are the ones given, else the SDK's default
// chain (AWS_PROFILE and the shared config and credentials files, SSO,
// container and instance roles). This package only reads and wraps: it
// must not decide what a key state means for an audit (package scan and
// the policies do) and must never log or return a credential.
package awskms

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"
)

// Config locates an AWS KMS endpoint and says how to authenticate to it.
type Config struct {
	// Endpoint is http(s)://host[:port]; "" uses the SDK's endpoint for
	// Region (real AWS).
	Endpoint string
	// Region is the KMS region (required): it is part of every SigV4
	// signature and of every key ARN.
	Region string
	// AccessKeyID, SecretAccessKey and SessionToken are static
	// credentials; without an AccessKeyID the SDK's default chain is used.
	AccessKeyID, SecretAccessKey, SessionToken string
	// Profile is a shared config profile for the default chain ("" takes
	// AWS_PROFILE, else "default").
	Profile string
	// Timeout bounds each request (default 30 s).
	Timeout time.Duration
}

// Client is an AWS KMS client for one endpoint and region.
type Client struct {
	sdk      *kms.Client
	endpoint string
	region   string
}

// New returns a client for cfg. It sends nothing: credentials from the
// default chain are resolved on the first request.
func New(ctx context.Context, cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.Region) == "" {
		return nil, errors.New("awskms: region is required")
	}
	if cfg.Endpoint != "" {
		if err := checkEndpoint(cfg.Endpoint); err != nil {
			return nil, err
		}
	}
	if (cfg.AccessKeyID == "") != (cfg.SecretAccessKey == "") {
		return nil, errors.New("awskms: give both the access key id and the secret access key, or neither (the SDK's default chain)")
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(cfg.Region),
		config.WithRetryMaxAttempts(1),
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(timeout)),
	}
	if cfg.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)))
	}
	if cfg.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(cfg.Profile))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("awskms: load the AWS configuration: %w", err)
	}
	sdk := kms.NewFromConfig(awsCfg, func(o *kms.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(strings.TrimSuffix(cfg.Endpoint, "/"))
		}
	})
	return &Client{sdk: sdk, endpoint: cfg.Endpoint, region: cfg.Region}, nil
}

func checkEndpoint(endpoint string) error {
	if !strings.Contains(endpoint, "://") {
		return fmt.Errorf("awskms: endpoint %q: give the scheme, http:// or https://", endpoint)
	}
	u, err := url.Parse(endpoint)
	switch {
	case err != nil:
		return fmt.Errorf("awskms: endpoint %q: %w", endpoint, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("awskms: endpoint %q: give the scheme, http:// or https://", endpoint)
	case u.Host == "":
		return fmt.Errorf("awskms: endpoint %q has no host", endpoint)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/"):
		// Redacted: user info would be a credential in the wrong place.
		return fmt.Errorf("awskms: endpoint %q must be scheme://host[:port] only", u.Redacted())
	}
	return nil
}

// SDK is the underlying aws-sdk-go-v2 client, for operations this package
// does not wrap (CreateKey, DisableKey...). It is safe for concurrent use.
func (c *Client) SDK() *kms.Client { return c.sdk }

// Region is the client's region.
func (c *Client) Region() string { return c.region }

// Key managers (KeyMetadata.KeyManager).
const (
	ManagerAWS      = "AWS"      // a key a service created for itself (alias/aws/s3)
	ManagerCustomer = "CUSTOMER" // a customer managed key
)

// Key is what DescribeKey says about a key.
type Key struct {
	KeyID   string // the key's id (never an alias or ARN)
	Arn     string // the key's ARN
	Account string // the owning account
	// State is AWS's KeyState: Enabled, Disabled, PendingDeletion,
	// PendingImport, PendingReplicaDeletion, Unavailable, Creating...
	State string
	// Manager is ManagerAWS or ManagerCustomer.
	Manager string
	// Origin is AWS_KMS, EXTERNAL, AWS_CLOUDHSM or EXTERNAL_KEY_STORE.
	Origin       string
	Description  string
	Created      time.Time // zero when not reported
	DeletionDate time.Time // zero unless pending deletion
}

// DescribeKey describes the key ref names: a key id, key ARN, alias name
// ("alias/x") or alias ARN.
func (c *Client) DescribeKey(ctx context.Context, ref string) (Key, error) {
	out, err := c.sdk.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(ref)})
	if err != nil {
		return Key{}, fmt.Errorf("awskms: DescribeKey %s: %w", ref, err)
	}
	md := out.KeyMetadata
	if md == nil || aws.ToString(md.KeyId) == "" {
		return Key{}, fmt.Errorf("awskms: DescribeKey %s: the answer names no key", ref)
	}
	return Key{
		KeyID: aws.ToString(md.KeyId), Arn: aws.ToString(md.Arn), Account: aws.ToString(md.AWSAccountId),
		State: string(md.KeyState), Manager: string(md.KeyManager), Origin: string(md.Origin),
		Description: aws.ToString(md.Description),
		Created:     aws.ToTime(md.CreationDate), DeletionDate: aws.ToTime(md.DeletionDate),
	}, nil
}

// Rotation is what GetKeyRotationStatus says about a key.
type Rotation struct {
	Enabled bool
	// PeriodDays is the rotation period (0 when not reported).
	PeriodDays int
	// Next is the next scheduled rotation (zero when not reported).
	Next time.Time
}

// RotationStatus reads the automatic rotation status of the key ref names
// (a key id or key ARN; AWS refuses aliases here).
func (c *Client) RotationStatus(ctx context.Context, ref string) (Rotation, error) {
	out, err := c.sdk.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: aws.String(ref)})
	if err != nil {
		return Rotation{}, fmt.Errorf("awskms: GetKeyRotationStatus %s: %w", ref, err)
	}
	return Rotation{Enabled: out.KeyRotationEnabled, PeriodDays: int(aws.ToInt32(out.RotationPeriodInDays)), Next: aws.ToTime(out.NextRotationDate)}, nil
}

// ServiceError is an error answered by AWS KMS.
type ServiceError struct {
	StatusCode int    // HTTP status
	Code       string // e.g. "NotFoundException", "UnrecognizedClientException"
	Message    string
	RequestID  string
}

func (e *ServiceError) Error() string {
	return fmt.Sprintf("%s (%d): %s", e.Code, e.StatusCode, e.Message)
}

// AsServiceError extracts the service's answer from an error returned by
// the SDK (possibly wrapped). It reports false for errors that never got
// an answer (connection refused, timeouts, no credentials in the chain).
func AsServiceError(err error) (*ServiceError, bool) {
	var re *awshttp.ResponseError
	// A request that was never answered is a ResponseError too, with no
	// response or status 0.
	if !errors.As(err, &re) || re.Response == nil || re.HTTPStatusCode() == 0 {
		return nil, false
	}
	out := &ServiceError{StatusCode: re.HTTPStatusCode(), RequestID: re.ServiceRequestID()}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		out.Code, out.Message = ae.ErrorCode(), ae.ErrorMessage()
	}
	if out.Code == "" {
		out.Code = http.StatusText(out.StatusCode)
	}
	return out, true
}

// IsNotFound says the service answered that the key or alias does not
// exist (NotFoundException).
func IsNotFound(err error) bool {
	e, ok := AsServiceError(err)
	return ok && e.Code == "NotFoundException"
}
