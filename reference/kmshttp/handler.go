package kmshttp

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
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
	DefaultMaxSkew      = 15 * time.Minute
	DefaultMaxBodyBytes = 1 << 20
	// DefaultMaxNoncesPerKey: 65,536 live nonces per access key, about
	// 70 requests a second sustained over the 15-minute window, about 7 MB
	// at most per credential.
	DefaultMaxNoncesPerKey = 1 << 16
)

// Config configures NewHandler.
type Config struct {
	// Emulator provides the KMS of each region (required).
	Emulator interface{ Region(string) kms.API }
	// Region is the region this endpoint serves (default cn-hangzhou).
	Region string
	// Credentials authenticate requests (required).
	Credentials *auth.Store
	// Clock is the server time that request timestamps are checked
	// against (default the system clock). Clients sign with their wall
	// clock, so keep this on wall time even when the emulator runs on a
	// clock that tests move forward.
	Clock clock.Clock
	// MaxSkew is how far a request timestamp may be from Clock, either way
	// (default 15 minutes); nonces are remembered for as long.
	MaxSkew time.Duration
	// Logger receives one line per request (default: discard).
	Logger *slog.Logger
	// MaxBodyBytes bounds the query string and the body, each (default 1 MiB).
	MaxBodyBytes int64
	// MaxNoncesPerKey bounds the remembered nonces of each access key
	// (default DefaultMaxNoncesPerKey); when that many of one key's are
	// live, that key's requests are refused with 429 Rejected.Throttling
	// until they expire. Other keys are not affected.
	MaxNoncesPerKey int
}

type handler struct {
	cfg    Config
	api    kms.API
	nonces *nonceCache
	log    *slog.Logger
}

// NewHandler returns an http.Handler that serves cfg.Emulator's region
// cfg.Region over the Alibaba Cloud KMS RPC protocol (API 2016-01-20) on
// "/", with GET or POST, authenticated by ACS3-HMAC-SHA256 or the classic
// HMAC-SHA1 RPC signature.
func NewHandler(cfg Config) (http.Handler, error) {
	if cfg.Emulator == nil {
		return nil, errors.New("kmshttp: Config.Emulator is required")
	}
	if cfg.Credentials == nil {
		return nil, errors.New("kmshttp: Config.Credentials is required")
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if !kms.ValidRegion(cfg.Region) {
		return nil, fmt.Errorf("kmshttp: %q is not a region ID such as cn-hangzhou", cfg.Region)
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
	if cfg.MaxNoncesPerKey <= 0 {
		cfg.MaxNoncesPerKey = DefaultMaxNoncesPerKey
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	api := cfg.Emulator.Region(cfg.Region)
	if api == nil {
		return nil, fmt.Errorf("kmshttp: the emulator has no region %q", cfg.Region)
	}
	return &handler{cfg: cfg, api: api, nonces: newNonceCache(cfg.MaxNoncesPerKey), log: log}, nil
}

// requestLog collects what the per-request log line reports. It never holds
// a secret, a plaintext or a ciphertext.
type requestLog struct {
	id, action, scheme, accessKeyID, principal, keyID string
	status                                            int
	code                                              string
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &requestLog{id: newRequestID()}
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("kms handler panic", "request_id", rec.id, "panic", fmt.Sprint(p))
			h.writeError(w, r, rec, errInternal())
		}
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelError
		}
		h.log.Log(r.Context(), level, "kms request",
			"request_id", rec.id, "action", rec.action, "principal", rec.principal,
			"access_key_id", rec.accessKeyID, "signature", rec.scheme, "key", rec.keyID,
			"status", rec.status, "code", rec.code, "duration", time.Since(start))
	}()
	resp, err := h.serve(w, r, rec)
	if err != nil {
		var ke *kms.Error
		if !errors.As(err, &ke) || ke.HTTPStatus < 400 || ke.HTTPStatus > 599 || ke.Code == "" {
			h.log.Error("kms operation failed", "request_id", rec.id, "action", rec.action, "error", err.Error())
			ke = errInternal()
		}
		h.writeError(w, r, rec, ke)
		return
	}
	resp.setRequestID(rec.id)
	rec.code = "OK"
	h.write(w, rec, http.StatusOK, resp)
}

// serve parses, authenticates and dispatches one request.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, rec *requestLog) (response, error) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		return nil, newErr(http.StatusBadRequest, CodeUnsupportedHTTPMethod,
			"This http method is not supported: use GET or POST.")
	}
	if r.URL.Path != "/" {
		return nil, errActionNotFound()
	}
	max := h.cfg.MaxBodyBytes
	if int64(len(r.URL.RawQuery)) > max || r.ContentLength > max {
		return nil, errTooLarge(max)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, errTooLarge(max)
		}
		return nil, newErr(http.StatusBadRequest, CodeInvalidParameter, "The request body could not be read.")
	}
	var form []byte
	if len(body) > 0 {
		if !isForm(r.Header.Get("Content-Type")) {
			return nil, newErr(http.StatusBadRequest, CodeInvalidParameter,
				"A request body must be application/x-www-form-urlencoded.")
		}
		form = body
	}
	query, all, e := mergeParams(r.URL.RawQuery, form)
	if e != nil {
		return nil, e
	}

	// Authenticate.
	var s signedRequest
	_, hasSignature := all[pSignature]
	switch authz := r.Header.Get("Authorization"); {
	case authz != "" && hasSignature:
		e = errIncomplete("send either an Authorization header or a Signature parameter, not both")
	case authz != "":
		s, e = h.verifyACS3(r, authz, query, body)
	case hasSignature:
		s, e = h.verifyRPC(r, all)
	default:
		e = errIncomplete("the request is not signed (no Authorization header and no Signature parameter)")
	}
	if e != nil {
		return nil, e
	}
	rec.scheme, rec.accessKeyID, rec.principal = s.scheme, s.cred.AccessKeyID, s.cred.Principal
	if e := h.checkFreshness(s); e != nil {
		return nil, e
	}

	// Action and version: signed headers in ACS3, signed parameters in RPC.
	actionName, version := all["Action"], all["Version"]
	if s.scheme == schemeACS3 {
		ha, hv := r.Header.Get(hAction), r.Header.Get(hVersion)
		if (actionName != "" && actionName != ha) || (version != "" && version != hv) {
			return nil, errInvalid("Action", "the query disagrees with the x-acs-action or x-acs-version header")
		}
		actionName, version = ha, hv
	}
	rec.action = truncate(actionName, 64)
	if f := all["Format"]; f != "" && !strings.EqualFold(f, "JSON") {
		return nil, newErr(http.StatusBadRequest, CodeInvalidFormat,
			"Specified parameter format is not valid: this endpoint only answers JSON.")
	}
	if actionName == "" {
		return nil, errMissing("Action")
	}
	if version == "" {
		return nil, errMissing("Version")
	}
	if version != APIVersion {
		return nil, newErr(http.StatusBadRequest, CodeInvalidVersion,
			"Specified parameter Version is not valid: KMS serves %s.", APIVersion)
	}
	act, ok := actions[actionName]
	if !ok {
		return nil, errActionNotFound()
	}
	p := params(all)
	if region := p["RegionId"]; region != "" && region != h.cfg.Region {
		return nil, errInvalid("RegionId", "this endpoint serves region "+h.cfg.Region)
	}
	if dry, e := p.optBool("DryRun"); e != nil {
		return nil, e
	} else if dry {
		return nil, errUnsupported("DryRun")
	}
	if act.keyParam != "" {
		rec.keyID = truncate(p[act.keyParam], 128)
	}
	ctx := kms.WithRequestID(kms.WithPrincipal(r.Context(), s.cred.Principal), rec.id)
	return act.serve(ctx, h.api, p)
}

func errActionNotFound() *kms.Error {
	return newErr(http.StatusNotFound, CodeActionNotFound, "Specified api is not found, please check your url and method.")
}

func errTooLarge(max int64) *kms.Error {
	return newErr(http.StatusRequestEntityTooLarge, CodeRequestTooLarge,
		"The request is too large: the query string and the body may each be at most %d bytes.", max)
}

// errorBody is the JSON error shape of Alibaba Cloud RPC APIs (the SDK reads
// Code, Message and RequestId; HttpStatus as in KMS docs).
type errorBody struct {
	RequestId  string `json:"RequestId"`
	HostId     string `json:"HostId"`
	Code       string `json:"Code"`
	Message    string `json:"Message"`
	Recommend  string `json:"Recommend,omitempty"`
	HttpStatus int    `json:"HttpStatus"`
}

func (h *handler) writeError(w http.ResponseWriter, r *http.Request, rec *requestLog, e *kms.Error) {
	rec.code = e.Code
	h.write(w, rec, e.HTTPStatus, errorBody{
		RequestId:  rec.id,
		HostId:     truncate(r.Host, 255),
		Code:       e.Code,
		Message:    e.Message,
		Recommend:  recommend(e.Code),
		HttpStatus: e.HTTPStatus,
	})
}

func (h *handler) write(w http.ResponseWriter, rec *requestLog, status int, v any) {
	b, err := jsonBody(v)
	if err != nil { // cannot happen for the wire types; fail closed
		status, b = http.StatusInternalServerError, []byte(`{"Code":"InternalFailure"}`)
	}
	rec.status = status
	hd := w.Header()
	hd.Set("Content-Type", "application/json;charset=utf-8")
	hd.Set("x-acs-request-id", rec.id)
	hd.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// newRequestID returns an upper-case random UUID, the form Alibaba Cloud
// request ids take.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	s := strings.ToUpper(hex.EncodeToString(b[:]))
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
