package awskmshttp

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sseaudit/sseaudit/reference/auth"
	"github.com/sseaudit/sseaudit/reference/clock"
	"github.com/sseaudit/sseaudit/reference/kms"
)

// Defaults applied by NewHandler to zero Config fields.
const (
	DefaultRegion       = "cn-hangzhou"
	DefaultPartition    = "aws"
	DefaultMaxSkew      = 5 * time.Minute // AWS's SigV4 window for KMS
	DefaultMaxBodyBytes = 1 << 20
)

// TargetPrefix is the X-Amz-Target prefix of AWS KMS operations.
const TargetPrefix = "TrentService."

const contentType = "application/x-amz-json-1.1"

// Emulator is what the handler needs of the KMS emulator (*kms.Emulator
// implements it): the region's API, which authorizes and audits every call,
// the account its ARNs use, and Inspect, to complete answers about a key a
// call has just been authorized on (see kms.Emulator.Inspect).
type Emulator interface {
	Region(name string) kms.API
	Inspect(region, ref string) (kms.KeyMetadata, bool)
	Account() string
}

// Config configures NewHandler.
type Config struct {
	// Emulator provides the keys (required).
	Emulator Emulator
	// Region is the region served and the region of the SigV4 credential
	// scope clients must sign for (default cn-hangzhou, as kmshttp).
	Region string
	// Partition is the ARN partition (default "aws").
	Partition string
	// Credentials authenticate requests (required).
	Credentials *auth.Store
	// Clock is the wall clock request times are checked against (default
	// the system clock).
	Clock clock.Clock
	// MaxSkew is how far X-Amz-Date may be from Clock either way (default
	// 5 minutes, as AWS).
	MaxSkew time.Duration
	// Logger receives one line per request (default: discard).
	Logger *slog.Logger
	// MaxBodyBytes bounds the request body (default 1 MiB).
	MaxBodyBytes int64
}

type handler struct {
	cfg Config
	api kms.API
	ids ids
	log *slog.Logger
}

// NewHandler returns an http.Handler serving cfg.Emulator's region
// cfg.Region in the AWS KMS JSON 1.1 protocol with SigV4 on "/".
func NewHandler(cfg Config) (http.Handler, error) {
	if cfg.Emulator == nil {
		return nil, errors.New("awskmshttp: Config.Emulator is required")
	}
	if cfg.Credentials == nil {
		return nil, errors.New("awskmshttp: Config.Credentials is required")
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if !kms.ValidRegion(cfg.Region) {
		return nil, fmt.Errorf("awskmshttp: %q is not a region name such as cn-hangzhou or us-east-1", cfg.Region)
	}
	if cfg.Partition == "" {
		cfg.Partition = DefaultPartition
	}
	if strings.ContainsAny(cfg.Partition, ":/ ") {
		return nil, fmt.Errorf("awskmshttp: %q is not an ARN partition such as aws", cfg.Partition)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	if cfg.MaxSkew <= 0 {
		cfg.MaxSkew = DefaultMaxSkew
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &handler{
		cfg: cfg,
		api: cfg.Emulator.Region(cfg.Region),
		ids: ids{partition: cfg.Partition, region: cfg.Region, account: cfg.Emulator.Account()},
		log: log,
	}, nil
}

// IsAWSRequest reports whether r is meant for this protocol: it names an
// AWS KMS operation in X-Amz-Target or is signed with SigV4. The reference
// server's KMS port sends these here and everything else (the Alibaba RPC
// protocol, signed ACS3 or HMAC-SHA1) to kmshttp.
func IsAWSRequest(r *http.Request) bool {
	return r.Header.Get("X-Amz-Target") != "" || strings.HasPrefix(r.Header.Get("Authorization"), signV4Algorithm)
}

// call is one request's state: what the log line reports and the names the
// request gave, for error messages. It never holds a secret, a plaintext
// or a ciphertext.
type call struct {
	id, op, accessKeyID, principal string
	key, alias                     string // emulator references named by the request
	status                         int
	code                           string
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	c := &call{id: newRequestID()}
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("aws kms handler panic", "request_id", c.id, "panic", fmt.Sprint(p))
			h.writeError(w, c, errInternal())
		}
		level := slog.LevelInfo
		if c.status >= 500 {
			level = slog.LevelError
		}
		h.log.Log(r.Context(), level, "aws kms request",
			"request_id", c.id, "operation", c.op, "principal", c.principal, "access_key_id", c.accessKeyID,
			"key", truncate(c.key, 128), "alias", truncate(c.alias, 128),
			"status", c.status, "code", c.code, "duration", time.Since(start))
	}()
	out, err := h.serve(w, r, c)
	if err != nil {
		ae := mapError(err, h.ids.display(c.key), h.ids.display(c.alias))
		if ae.code == CodeInternal {
			h.log.Error("aws kms operation failed", "request_id", c.id, "operation", c.op, "error", err.Error())
		}
		if ae.code == CodeDisabled || ae.code == CodeInvalidState {
			// The call was authorized on the key, so its ARN may be named
			// even when the request gave an alias, as AWS does.
			if md, ok := h.cfg.Emulator.Inspect(h.cfg.Region, c.key); ok {
				ae = mapError(err, h.ids.keyARN(md.KeyId), h.ids.display(c.alias))
			}
		}
		h.writeError(w, c, ae)
		return
	}
	c.code = "OK"
	h.write(w, c, http.StatusOK, out)
}

// serve checks the request, authenticates it and runs the operation.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, c *call) (any, error) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return nil, newErr(http.StatusBadRequest, CodeUnknownOperation,
			"AWS KMS requests are POST / with X-Amz-Target: TrentService.<Operation>.")
	}
	max := h.cfg.MaxBodyBytes
	if r.ContentLength > max {
		return nil, newErr(http.StatusRequestEntityTooLarge, CodeRequestTooLarge, "The request body may be at most %d bytes.", max)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, newErr(http.StatusRequestEntityTooLarge, CodeRequestTooLarge, "The request body may be at most %d bytes.", max)
		}
		return nil, newErr(http.StatusBadRequest, CodeSerialization, "The request body could not be read.")
	}
	authz := r.Header.Get("Authorization")
	if authz == "" {
		return nil, newErr(http.StatusBadRequest, CodeMissingAuthToken, "Missing Authentication Token")
	}
	cred, ae := h.verifySigV4(r, authz, body)
	if ae != nil {
		return nil, ae
	}
	c.accessKeyID, c.principal = cred.AccessKeyID, cred.Principal

	// The operation is only looked at once the caller is authenticated, so
	// an unauthenticated caller learns nothing about what is served.
	target := r.Header.Get("X-Amz-Target")
	name, ok := strings.CutPrefix(target, TargetPrefix)
	op, known := operations[name]
	if !ok || !known {
		c.op = truncate(target, 64)
		return nil, newErr(http.StatusBadRequest, CodeUnknownOperation,
			"Operation %q is not served by this AWS KMS emulator.", truncate(target, 64))
	}
	c.op = name
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != contentType {
		return nil, newErr(http.StatusBadRequest, CodeSerialization, "Content-Type must be %s.", contentType)
	}
	ctx := kms.WithRequestID(kms.WithPrincipal(r.Context(), cred.Principal), c.id)
	return op(&opCtx{h: h, ctx: ctx, c: c, body: body})
}

// errorBody is AWS's JSON-protocol error shape.
type errorBody struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func (h *handler) writeError(w http.ResponseWriter, c *call, e *apiError) {
	c.code = e.code
	w.Header().Set("X-Amzn-ErrorType", e.code)
	h.write(w, c, e.status, errorBody{Type: e.code, Message: e.message})
}

func (h *handler) write(w http.ResponseWriter, c *call, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // cannot happen for the wire types; fail closed
		status, b = http.StatusInternalServerError, []byte(`{"__type":"KMSInternalException","message":"response encoding failed"}`)
	}
	c.status = status
	hd := w.Header()
	hd.Set("Content-Type", contentType)
	hd.Set("X-Amzn-RequestId", c.id)
	hd.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// newRequestID returns a random lower-case UUID, the form of AWS request ids.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	s := hex.EncodeToString(b[:])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}
