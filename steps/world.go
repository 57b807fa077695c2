package steps

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"

	kmssdk "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aws/aws-sdk-go-v2/aws"
	awskmssdk "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/kmsclient"
	"github.com/sseaudit/sseaudit/kmsclient/awskms"
	"github.com/sseaudit/sseaudit/snapshot"
)

// world is one scenario's state. It lives in the scenario's
// context.Context; steps are its methods.
type world struct {
	r       *runner
	rec     *record
	tags    []string
	dialect client.Dialect
	client  *client.Client
	unlock  func()

	// stepText is the running step's text; outcome says it is a Then
	// step (or an And/But after one), whose errors are expectations.
	stepText string
	outcome  bool
	// administers says a step of the scenario administers its named key,
	// so it never uses a key the run was given.
	administers bool
	disabled    string // the disabled key of the scenario

	bucket  string   // the bucket the scenario works in
	buckets []string // every bucket it tried to create, for clean-up

	objects   map[string]*object // what was stored, by key
	writeErrs map[string]error   // refused writes, by key

	// The last request a When step sent and what came back.
	lastOp    string
	lastKey   string // the object the last write stored
	last      client.ObjectResult
	lastErr   error
	multipart *client.MultipartResult

	named          *namedKey // the scenario's "named key"
	createdKeys    []string  // CMKs to schedule for deletion afterwards
	defaultKeyID   string    // the real id behind alias/acs/oss
	otherRegionKey string

	principals map[string]*client.Client
	kms        *kmssdk.Client // this scenario's own Alibaba KMS SDK client
	awsKMS     *awskms.Client // its AWS KMS client (S3 scenarios, Options.AWSKMS)
}

// object is an object the scenario stored.
type object struct {
	data []byte
	// head is the HEAD answer right after a Given step stored the object:
	// the state "before" that later checks compare with.
	head *client.ObjectResult
	// marker is a string repeated through a recognisable plaintext.
	marker []byte
	// partSizes are the sizes of a multipart object's parts.
	partSizes []int
	// previous is the Given state of the object this one overwrote in
	// place (a copy onto itself): on a versioned bucket, its older version.
	previous *client.ObjectResult
}

// namedKey is the scenario's customer master key.
type namedKey struct {
	id string
	// versionBefore is the primary version when the key was created;
	// versionAfter the one CreateKeyVersion returned ("" until then).
	versionBefore, versionAfter string
}

// method is an encryption method as the features name it.
type method struct {
	name      string
	algorithm string // "", AES256 or KMS
	named     bool   // KMS with the scenario's named key
}

// Method names used in the features.
const (
	methodNone       = "none"
	methodOSSManaged = "OSS-managed"
	methodKMSDefault = "KMS default key"
	methodKMSNamed   = "KMS named key"
	defaultKeyAlias  = "alias/acs/oss"
)

func parseMethod(s string) (method, error) {
	switch s {
	case methodNone:
		return method{name: s}, nil
	case methodOSSManaged:
		return method{name: s, algorithm: client.AlgorithmAES256}, nil
	case methodKMSDefault:
		return method{name: s, algorithm: client.AlgorithmKMS}, nil
	case methodKMSNamed:
		return method{name: s, algorithm: client.AlgorithmKMS, named: true}, nil
	}
	return method{}, fmt.Errorf("unknown encryption method %q: use %q, %q, %q or %q",
		s, methodNone, methodOSSManaged, methodKMSDefault, methodKMSNamed)
}

// newName returns a unique, valid bucket name for this run.
func (w *world) newName() string {
	return fmt.Sprintf("%s%s-%04d", w.r.opts.BucketPrefix, w.r.runID, w.r.seq.Add(1))
}

// requireKMS returns the scenario's Alibaba KMS client, or fails a step
// that needs it.
func (w *world) requireKMS() (*kmssdk.Client, error) {
	if !w.r.hasKMS {
		return nil, errors.New("this step needs the KMS endpoint: the scenario must be tagged @kms")
	}
	if w.r.opts.KMS == nil {
		return nil, errors.New("this step needs the Alibaba Cloud KMS API (key versions, or rotation more often than AWS allows), and the run has only an AWS KMS endpoint")
	}
	if w.kms == nil {
		k, err := client.KMS(*w.r.opts.KMS)
		if err != nil {
			return nil, err
		}
		w.kms = k
	}
	return w.kms, nil
}

// useAWS says the scenario manages keys through AWS KMS: an S3 scenario
// when the run has an AWS KMS endpoint (Options.AWSKMS).
func (w *world) useAWS() bool {
	return w.dialect == client.S3 && w.r.opts.AWSKMS != nil
}

// requireAWSKMS returns the scenario's AWS KMS client.
func (w *world) requireAWSKMS(ctx context.Context) (*awskms.Client, error) {
	if !w.r.hasKMS || w.r.opts.AWSKMS == nil {
		return nil, errors.New("this step needs the AWS KMS endpoint: the scenario must be tagged @kms")
	}
	if w.awsKMS == nil {
		k, err := newAWSKMS(ctx, *w.r.opts.AWSKMS)
		if err != nil {
			return nil, err
		}
		w.awsKMS = k
	}
	return w.awsKMS, nil
}

func (w *world) requireEmulator() (Emulator, error) {
	if w.r.opts.Emulator == nil {
		return nil, errors.New("this step needs the reference's admin hooks: the scenario must be tagged @emulator")
	}
	return w.r.opts.Emulator, nil
}

// kmsErr describes an error of the KMS SDK.
func kmsErr(op string, err error) error {
	if se, ok := kmsclient.AsServiceError(err); ok {
		return fmt.Errorf("KMS %s: %d %s: %s", op, se.StatusCode, se.Code, se.Message)
	}
	if se, ok := awskms.AsServiceError(err); ok {
		return fmt.Errorf("AWS KMS %s: %d %s: %s", op, se.StatusCode, se.Code, se.Message)
	}
	return fmt.Errorf("KMS %s: %w", op, err)
}

// createKey creates a CMK through the KMS SDK and remembers it for
// clean-up. An S3 scenario creates it through AWS KMS, except one asking
// for automatic rotation every rotateDays: AWS rotates at most every 90
// days and shows no key versions, so that key is made through the Alibaba
// API (the reference serves both on one keystore).
func (w *world) createKey(ctx context.Context, rotateDays int) (*namedKey, error) {
	if id, ok := w.givenKey(); ok && rotateDays == 0 {
		return &namedKey{id: id}, nil // the user's key: never scheduled for deletion
	}
	if w.useAWS() && rotateDays == 0 {
		return w.createAWSKey(ctx)
	}
	k, err := w.requireKMS()
	if err != nil {
		return nil, err
	}
	req := &kmssdk.CreateKeyRequest{Description: tea.String("sseaudit conformance: " + w.rec.res.Name)}
	if rotateDays > 0 {
		req.EnableAutomaticRotation = tea.Bool(true)
		req.RotationInterval = tea.String(fmt.Sprintf("%ds", rotateDays*24*3600))
	}
	resp, err := k.CreateKey(req)
	if err != nil {
		return nil, kmsErr("CreateKey", err)
	}
	md := resp.Body.KeyMetadata
	if md == nil || tea.StringValue(md.KeyId) == "" {
		return nil, errors.New("KMS CreateKey returned no key id")
	}
	id := tea.StringValue(md.KeyId)
	w.createdKeys = append(w.createdKeys, id)
	return &namedKey{id: id, versionBefore: tea.StringValue(md.PrimaryKeyVersion)}, nil
}

// namedKeyID returns the scenario's named key, creating it on first use.
func (w *world) namedKeyID() (string, error) {
	if w.named == nil {
		k, err := w.createKey(context.Background(), 0)
		if err != nil {
			return "", err
		}
		w.named = k
	}
	return w.named.id, nil
}

// describeKey returns the Alibaba metadata of a key (id, alias or ARN).
func (w *world) describeKey(ref string) (*kmssdk.DescribeKeyResponseBodyKeyMetadata, error) {
	k, err := w.requireKMS()
	if err != nil {
		return nil, err
	}
	resp, err := k.DescribeKey(&kmssdk.DescribeKeyRequest{KeyId: tea.String(ref)})
	if err != nil {
		return nil, kmsErr("DescribeKey "+ref, err)
	}
	if resp.Body.KeyMetadata == nil || tea.StringValue(resp.Body.KeyMetadata.KeyId) == "" {
		return nil, fmt.Errorf("KMS DescribeKey %s returned no key id", ref)
	}
	return resp.Body.KeyMetadata, nil
}

// keyID resolves a key reference (id, alias or ARN) to the key's id,
// through AWS KMS in an S3 scenario that has it.
func (w *world) keyID(ref string) (string, error) {
	if w.useAWS() {
		k, err := w.requireAWSKMS(context.Background())
		if err != nil {
			return "", err
		}
		md, err := k.DescribeKey(context.Background(), ref)
		if err != nil {
			return "", kmsErr("DescribeKey "+ref, err)
		}
		return md.KeyID, nil
	}
	md, err := w.describeKey(ref)
	if err != nil {
		return "", err
	}
	return tea.StringValue(md.KeyId), nil
}

// defaultKey is the real id of the dialect's default KMS key: for OSS,
// alias/acs/oss resolved through KMS; for S3, the store's own managed key
// as the store first answered with it in this run ("" until then: S3
// stores each have their own, e.g. AWS's alias/aws/s3 key, so the suite
// learns it rather than assuming one).
func (w *world) defaultKey() (string, error) {
	if w.dialect == client.S3 {
		return w.r.defaultKeyOf(w.dialect), nil
	}
	if w.defaultKeyID == "" {
		id, err := w.keyID(defaultKeyAlias)
		if err != nil {
			return "", err
		}
		w.defaultKeyID = id
	}
	return w.defaultKeyID, nil
}

// learnDefaultKey takes got, the key a store named for an object asked
// for KMS without a key id, as the S3 store's default key when none is
// known yet. It must not be the scenario's named key and, when the run has
// AWS KMS, must be a key the service manages (KeyManager AWS), not a
// customer key. It returns the default key of the run (the first one
// learned).
func (w *world) learnDefaultKey(got string) (string, error) {
	if known := w.r.defaultKeyOf(w.dialect); known != "" || got == "" {
		return known, nil
	}
	if w.named != nil && snapshot.SameKey(got, w.named.id) {
		return "", &sseErr{sseWrong, fmt.Sprintf("the store named the scenario's named key %s for an object asked for KMS without a key id; its own managed key is due", got)}
	}
	if w.r.opts.AWSKMS != nil && w.r.hasKMS {
		k, err := w.requireAWSKMS(context.Background())
		if err != nil {
			return "", err
		}
		md, err := k.DescribeKey(context.Background(), got)
		if err != nil {
			return "", kmsErr("DescribeKey "+got, err)
		}
		if md.Manager != awskms.ManagerAWS {
			return "", &sseErr{sseWrong, fmt.Sprintf("the store named the key %s (KeyManager %s) for an object asked for KMS without a key id; the store's own managed key (KeyManager AWS, e.g. alias/aws/s3) is due", got, md.Manager)}
		}
	}
	return w.r.learnDefaultKey(w.dialect, got), nil
}

// sseFor is what an upload asking for m sends (nil for none).
func (w *world) sseFor(m method) (*client.SSE, error) {
	if m.algorithm == "" {
		return nil, nil
	}
	s := &client.SSE{Algorithm: m.algorithm}
	if m.named {
		id, err := w.namedKeyID()
		if err != nil {
			return nil, err
		}
		s.KeyID = id
	}
	return s, nil
}

// ruleFor is the bucket rule for m (nil for none).
func (w *world) ruleFor(m method) (*client.Rule, error) {
	s, err := w.sseFor(m)
	if s == nil || err != nil {
		return nil, err
	}
	return &client.Rule{Algorithm: s.Algorithm, KMSMasterKeyID: s.KeyID}, nil
}

// expectedKeyID is the key id responses must name for m ("" when none).
func (w *world) expectedKeyID(m method) (string, error) {
	switch {
	case m.algorithm != client.AlgorithmKMS:
		return "", nil
	case m.named:
		return w.namedKeyID()
	default:
		return w.defaultKey()
	}
}

// checkSSE compares what a response said with method m.
func (w *world) checkSSE(what string, got client.SSE, m method) error {
	names := map[client.Dialect][2]string{
		client.OSS: {"x-oss-server-side-encryption", "x-oss-server-side-encryption-key-id"},
		client.S3:  {"x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id"},
	}[w.dialect]
	if got.Algorithm != m.algorithm {
		if m.algorithm == "" {
			return &sseErr{sseWrong, fmt.Sprintf("%s says %s: %q, but the object should not be encrypted", what, names[0], got.Algorithm)}
		}
		if got.Algorithm == "" {
			return &sseErr{sseMissing, fmt.Sprintf("%s has no %s header, but the object should be encrypted with %s (%s)", what, names[0], m.name, m.algorithm)}
		}
		return &sseErr{sseWrong, fmt.Sprintf("%s says %s: %q, want %s (%s)", what, names[0], got.Algorithm, m.name, m.algorithm)}
	}
	want, err := w.expectedKeyID(m)
	if err != nil {
		return err
	}
	if want == "" && m.algorithm == client.AlgorithmKMS && !m.named {
		if want, err = w.learnDefaultKey(got.KeyID); err != nil {
			return err
		}
		if want == "" { // not learned, and this answer names none
			return &sseErr{sseKeyMissing, fmt.Sprintf("%s has no %s header: the CMK of a %s object must be returned", what, names[1], m.name)}
		}
	}
	switch {
	case want == "" && got.KeyID != "":
		return &sseErr{sseExtraKey, fmt.Sprintf("%s names the KMS key %q (%s), but the object is encrypted with %s", what, got.KeyID, names[1], m.name)}
	case want != "" && got.KeyID == "":
		return &sseErr{sseKeyMissing, fmt.Sprintf("%s has no %s header: the CMK of a %s object must be returned", what, names[1], m.name)}
	case want != "" && !snapshot.SameKey(got.KeyID, want):
		desc := "the scenario's named key"
		switch {
		case !m.named && w.dialect == client.S3:
			desc = "the store's default key as it answered earlier in this run"
		case !m.named:
			desc = "the real id of the default key " + defaultKeyAlias
		}
		return &sseErr{sseWrong, fmt.Sprintf("%s names the KMS key %q (%s), want %q, %s", what, got.KeyID, names[1], want, desc)}
	}
	return nil
}

// randomBytes returns n random bytes.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return b
}

// newContent is the content of a small object: readable text naming it,
// then random bytes.
func newContent(key string) []byte {
	return append([]byte("sseaudit conformance object "+key+"\n"), randomBytes(1024+17)...)
}

// recognisable returns n bytes made of a unique marker line repeated, and
// the marker.
func recognisable(n int) (data, marker []byte) {
	marker = []byte("SSEAUDIT-PLAINTEXT-" + hex.EncodeToString(randomBytes(8)) + "\n")
	data = bytes.Repeat(marker, n/len(marker)+1)[:n]
	return data, marker
}

// minPartSize is the dialect's minimum size of every part but the last.
func (w *world) minPartSize() int {
	if w.dialect == client.S3 {
		return 5 << 20
	}
	return 100 << 10
}

// partsOf splits data into parts of the dialect's minimum size, the
// remainder last.
func partsOf(data []byte, size int) [][]byte {
	var parts [][]byte
	for len(data) > size {
		parts = append(parts, data[:size])
		data = data[size:]
	}
	return append(parts, data)
}

// obj returns a stored object, or says why there is none.
func (w *world) obj(key string) (*object, error) {
	if o, ok := w.objects[key]; ok {
		return o, nil
	}
	if err, ok := w.writeErrs[key]; ok {
		return nil, fmt.Errorf("%q was not stored: its upload was refused: %w", key, err)
	}
	return nil, fmt.Errorf("the scenario stored no object %q", key)
}

// recordWrite remembers the outcome of a write of key.
func (w *world) recordWrite(op, key string, data []byte, res client.ObjectResult, err error) *object {
	w.lastOp, w.lastKey, w.last, w.lastErr, w.multipart = op, key, res, err, nil
	w.observe(op+" "+key, res, err)
	if w.writeErrs == nil {
		w.writeErrs = map[string]error{}
	}
	if err != nil {
		w.writeErrs[key] = err
		return nil
	}
	delete(w.writeErrs, key)
	o := &object{data: data}
	w.objects[key] = o
	return o
}

// describeErr says what an error answer was.
func describeErr(err error) string {
	if e, ok := client.AsError(err); ok {
		return fmt.Sprintf("%d %s (%s)", e.StatusCode, e.Code, e.Message)
	}
	return err.Error()
}

// checkRefusal compares err with the expected status and code.
func checkRefusal(what string, err error, status int, code string) error {
	return refusalErr(checkRefusalText(what, err, status, code), err)
}

// checkRefusalText is checkRefusal's difference, unclassified.
func checkRefusalText(what string, err error, status int, code string) error {
	if err == nil {
		return fmt.Errorf("%s was accepted, but it must be refused with %d %s", what, status, code)
	}
	e, ok := client.AsError(err)
	if !ok {
		return fmt.Errorf("%s failed without an answer from the endpoint (%v); want %d %s", what, err, status, code)
	}
	if e.StatusCode != status || e.Code != code {
		return fmt.Errorf("%s was refused with %d %s (%s), want %d %s", what, e.StatusCode, e.Code, e.Message, status, code)
	}
	return nil
}

// clientFor returns a client acting as another principal.
func (w *world) clientFor(name string) (*client.Client, error) {
	if c, ok := w.principals[name]; ok {
		return c, nil
	}
	em, err := w.requireEmulator()
	if err != nil {
		return nil, err
	}
	ak, sk, ok := em.Principal(name)
	if !ok {
		return nil, fmt.Errorf("the endpoint has no principal %q", name)
	}
	cfg := w.r.opts.Targets[w.dialect]
	cfg.Dialect, cfg.AccessKeyID, cfg.AccessKeySecret = w.dialect, ak, sk
	c, err := client.New(cfg)
	if err != nil {
		return nil, err
	}
	if w.principals == nil {
		w.principals = map[string]*client.Client{}
	}
	w.principals[name] = c
	return c, nil
}

// cleanup removes every object and bucket the scenario created and
// schedules its keys for deletion, whatever the scenario's outcome.
func (w *world) cleanup(ctx context.Context) error {
	var errs []error
	for i := len(w.buckets) - 1; i >= 0; i-- {
		if err := w.removeBucket(ctx, w.buckets[i]); err != nil {
			errs = append(errs, err)
		}
	}
	for _, id := range w.createdKeys {
		if err := w.deleteKey(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// deleteKey schedules a key the scenario created for deletion, through
// the API the scenario manages keys with. A refusal other than a server
// failure (e.g. already pending deletion) is not an error.
func (w *world) deleteKey(ctx context.Context, id string) error {
	if w.useAWS() {
		k, err := w.requireAWSKMS(ctx)
		if err != nil {
			return err
		}
		_, err = k.SDK().ScheduleKeyDeletion(ctx, &awskmssdk.ScheduleKeyDeletionInput{KeyId: aws.String(id), PendingWindowInDays: aws.Int32(7)})
		if se, ok := awskms.AsServiceError(err); err == nil || ok && se.StatusCode < 500 {
			return nil
		}
		return kmsErr("ScheduleKeyDeletion "+id, err)
	}
	k, err := w.requireKMS()
	if err != nil {
		return err
	}
	_, err = k.ScheduleKeyDeletion(&kmssdk.ScheduleKeyDeletionRequest{KeyId: tea.String(id), PendingWindowInDays: tea.Int32(7)})
	if se, ok := kmsclient.AsServiceError(err); err == nil || ok && se.StatusCode < 500 {
		return nil
	}
	return kmsErr("ScheduleKeyDeletion "+id, err)
}

func (w *world) removeBucket(ctx context.Context, name string) error {
	c := w.client
	var keys []string
	err := c.ListObjects(ctx, name, "", func(o client.ObjectSummary) error {
		keys = append(keys, o.Key)
		return nil
	})
	if e, ok := client.AsError(err); ok && e.StatusCode == http.StatusNotFound {
		return nil // never created, or already gone
	}
	if err != nil {
		return fmt.Errorf("list %s: %w", name, err)
	}
	for _, k := range keys {
		if err := c.DeleteObject(ctx, name, k); err != nil {
			return fmt.Errorf("delete %s/%s: %w", name, k, err)
		}
	}
	if err := w.removeVersions(ctx, name); err != nil {
		return err
	}
	if err := c.DeleteBucket(ctx, name); err != nil {
		if e, ok := client.AsError(err); ok && e.StatusCode == http.StatusNotFound {
			return nil
		}
		return fmt.Errorf("delete bucket %s: %w", name, err)
	}
	return nil
}
