package awskmshttp

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"

	"github.com/sseaudit/sseaudit/reference/auth"
	"github.com/sseaudit/sseaudit/reference/clock"
	"github.com/sseaudit/sseaudit/reference/kms"
	"github.com/sseaudit/sseaudit/reference/users"
)

const testRegion = "cn-hangzhou"

var (
	rootCred    = auth.Credential{AccessKeyID: "AKIAROOTTEST", AccessKeySecret: "root-secret-0123456789", Principal: auth.RootPrincipal}
	auditorCred = auth.Credential{AccessKeyID: "AKIAAUDITOR", AccessKeySecret: "auditor-secret-0123456789", Principal: "auditor"}
	nobodyCred  = auth.Credential{AccessKeyID: "AKIANOBODY", AccessKeySecret: "nobody-secret-0123456789", Principal: "nobody"}
)

// usersFile grants auditor reading everything and using keys through
// alias/app-* only; nobody has no KMS grant at all.
const usersFile = `
users:
  - name: auditor
    access_key_id: AKIAAUDITOR
    access_key_secret: auditor-secret-0123456789
    kms:
      read: ["*"]
      use: ["alias/app-*"]
  - name: nobody
    access_key_id: AKIANOBODY
    access_key_secret: nobody-secret-0123456789
`

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fixture is an AWS KMS endpoint on 127.0.0.1 over an in-memory emulator
// authorized by a real users.Set (root may do everything).
type fixture struct {
	t        *testing.T
	emu      *kms.Emulator
	users    *users.Set
	creds    *auth.Store
	emuClock *clock.Fake
	srvClock *clock.Fake
	srv      *httptest.Server
	logs     *syncBuffer
	audit    *syncBuffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	now := time.Now().UTC()
	f := &fixture{t: t, emuClock: clock.NewFake(now), srvClock: clock.NewFake(now), logs: &syncBuffer{}, audit: &syncBuffer{}}
	set, err := users.Parse([]byte(usersFile), func(string) string { return "" }, true)
	if err != nil {
		t.Fatal(err)
	}
	f.users = set
	if f.emu, err = kms.New(kms.Config{Clock: f.emuClock, Authorizer: set, AuditLog: f.audit}); err != nil {
		t.Fatal(err)
	}
	if f.creds, err = auth.NewStore(append([]auth.Credential{rootCred}, set.Credentials()...)...); err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(Config{
		Emulator: f.emu, Region: testRegion, Credentials: f.creds, Clock: f.srvClock,
		Logger: slog.New(slog.NewJSONHandler(f.logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	if !strings.HasPrefix(f.srv.URL, "http://127.0.0.1:") {
		t.Fatalf("test server is not on 127.0.0.1: %s", f.srv.URL)
	}
	return f
}

// client is aws-sdk-go-v2's KMS client, unmodified, pointed at the fixture.
func (f *fixture) client(c auth.Credential) *awskms.Client {
	return newClient(f.srv.URL, c)
}

func newClient(endpoint string, c auth.Credential) *awskms.Client {
	return awskms.New(awskms.Options{
		Region:           testRegion,
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.AccessKeySecret, ""),
		RetryMaxAttempts: 1,
	})
}

func (f *fixture) arn(id string) string {
	return "arn:aws:kms:" + testRegion + ":" + f.emu.Account() + ":key/" + id
}

func (f *fixture) aliasArn(alias string) string {
	return "arn:aws:kms:" + testRegion + ":" + f.emu.Account() + ":" + alias
}

// wantAPIError checks that err is the AWS error code with HTTP status.
func wantAPIError(t *testing.T, err error, status int, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got success, want %d %s", status, code)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an API error: %v", err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("got %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	if ae.ErrorMessage() == "" {
		t.Fatalf("%s has no message", code)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Fatalf("%s: got HTTP status %v, want %d", code, err, status)
	}
	if re.ServiceRequestID() == "" {
		t.Fatalf("%s carries no request id", code)
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}
