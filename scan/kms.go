package scan

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	kmssdk "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/sseaudit/sseaudit/kmsclient"
	"github.com/sseaudit/sseaudit/kmsclient/awskms"
	"github.com/sseaudit/sseaudit/snapshot"
)

// ServiceKeyAlias is the alias of the per-region KMS key OSS creates for
// SSE-KMS without a named key.
const ServiceKeyAlias = "alias/acs/oss"

// AWSServiceKeyAlias is the alias of the AWS managed key S3 uses for
// SSE-KMS without a named key.
const AWSServiceKeyAlias = "alias/aws/s3"

// CreatorOSS is the KMS Creator of OSS service keys.
const CreatorOSS = "Oss"

// CreatorAWS is the Creator recorded for AWS managed keys (KeyManager
// AWS): AWS KMS has no Creator, and its KeyManager says the same thing
// (the service made the key, not the account). Customer keys record their
// account id, as Alibaba's Creator does.
const CreatorAWS = "AWS"

// Method normalises an encryption state: algorithm as target normalises
// it ("" none, "AES256", "KMS", anything else), the KMS key id (or ""),
// and whether that key is the region's service key.
func Method(algorithm, keyID string, serviceKey bool) string {
	switch strings.ToUpper(algorithm) {
	case "":
		return snapshot.MethodNone
	case "AES256":
		return snapshot.MethodOSSManaged
	case "KMS", "AWS:KMS":
		if keyID == "" || serviceKey || keyID == ServiceKeyAlias || keyID == AWSServiceKeyAlias {
			return snapshot.MethodKMSDefault
		}
		return snapshot.MethodKMSCMK
	default:
		return snapshot.MethodOther
	}
}

// aliasRegion says whether ref needs KMS to be resolved (an alias, or an
// alias ARN) and, for an alias ARN, the region it names ("" for a bare
// alias: every region).
func aliasRegion(ref string) (region string, isAlias bool) {
	if strings.HasPrefix(ref, "alias/") {
		return "", true
	}
	// acs:kms:REGION:ACCOUNT:alias/NAME, arn:aws:kms:REGION:ACCOUNT:alias/NAME
	parts := strings.SplitN(ref, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" && parts[2] == "kms" && strings.HasPrefix(parts[5], "alias/") {
		return parts[3], true
	}
	if len(parts) >= 5 && parts[0] == "acs" && parts[1] == "kms" {
		rest := strings.Join(parts[4:], ":")
		if strings.HasPrefix(rest, "alias/") {
			return parts[2], true
		}
	}
	return "", false
}

type keyEntry struct {
	done chan struct{}
	key  snapshot.Key
}

type serviceEntry struct {
	done chan struct{}
	id   string
}

// kmsAPI is one region's KMS as the scan reads keys through it: the
// Alibaba Cloud KMS SDK (OSS targets) or AWS KMS through aws-sdk-go-v2
// (S3 targets). Both fill the same snapshot.Key, so the policies judge an
// AWS key exactly as an Alibaba one.
type kmsAPI interface {
	// budget identifies the endpoint for its request budget.
	budget() any
	// serial says calls must not overlap (the Alibaba SDK's client is not
	// safe for concurrent use).
	serial() bool
	// serviceAlias is the alias of the storage service's own key there.
	serviceAlias() string
	// describe reads ref's metadata into key (one request); resolved is
	// the key id KMS answered with.
	describe(ctx context.Context, ref string, key *snapshot.Key) (resolved string, err error)
	// rotation reads the rotation status of the described key into key
	// when describe could not (false: nothing to read).
	rotation(ctx context.Context, key *snapshot.Key) (bool, error)
}

// alibabaKMS reads keys through the Alibaba Cloud KMS SDK.
type alibabaKMS struct{ c *kmssdk.Client }

func (a alibabaKMS) budget() any          { return a.c }
func (a alibabaKMS) serial() bool         { return true }
func (a alibabaKMS) serviceAlias() string { return ServiceKeyAlias }

// describe calls DescribeKey. The SDK call cannot be cancelled: the
// caller checks ctx before each attempt.
func (a alibabaKMS) describe(_ context.Context, ref string, key *snapshot.Key) (string, error) {
	// Alibaba KMS takes ids, aliases and its own acs: ARNs; an AWS key ARN
	// (how an S3 store names an object's key) is asked for by its id.
	if strings.HasPrefix(ref, "arn:") {
		ref = snapshot.KeyID(ref)
	}
	resp, err := a.c.DescribeKey(&kmssdk.DescribeKeyRequest{KeyId: tea.String(ref)})
	if err != nil {
		return "", err
	}
	if resp == nil || resp.Body == nil || resp.Body.KeyMetadata == nil {
		return "", nil
	}
	md := resp.Body.KeyMetadata
	key.Arn = tea.StringValue(md.Arn)
	key.State = tea.StringValue(md.KeyState)
	key.Creator = tea.StringValue(md.Creator)
	key.Origin = tea.StringValue(md.Origin)
	key.AutomaticRotation = tea.StringValue(md.AutomaticRotation)
	key.RotationInterval = tea.StringValue(md.RotationInterval)
	key.LastRotationDate = tea.StringValue(md.LastRotationDate)
	key.NextRotationDate = tea.StringValue(md.NextRotationDate)
	key.DeleteDate = tea.StringValue(md.DeleteDate)
	key.CreationDate = tea.StringValue(md.CreationDate)
	key.ServiceKey = key.Creator == CreatorOSS
	return tea.StringValue(md.KeyId), nil
}

func (alibabaKMS) rotation(context.Context, *snapshot.Key) (bool, error) { return false, nil }

// awsKMS reads keys through AWS KMS (DescribeKey, GetKeyRotationStatus).
type awsKMS struct{ c *awskms.Client }

func (a awsKMS) budget() any          { return a.c }
func (a awsKMS) serial() bool         { return false }
func (a awsKMS) serviceAlias() string { return AWSServiceKeyAlias }

// describe maps AWS's KeyMetadata onto the key record: KeyState as is
// (Enabled, Disabled, PendingDeletion, PendingImport, Unavailable...),
// KeyManager AWS as a service key, dates as RFC 3339 UTC.
func (a awsKMS) describe(ctx context.Context, ref string, key *snapshot.Key) (string, error) {
	k, err := a.c.DescribeKey(ctx, ref)
	if err != nil {
		return "", err
	}
	key.Arn, key.State, key.Origin = k.Arn, k.State, k.Origin
	key.ServiceKey = k.Manager == awskms.ManagerAWS
	key.Creator = k.Account
	if key.ServiceKey {
		key.Creator = CreatorAWS
	}
	key.CreationDate = awsDate(k.Created)
	key.DeleteDate = awsDate(k.DeletionDate)
	return k.KeyID, nil
}

// rotation asks GetKeyRotationStatus for a customer key (AWS rotates its
// own keys yearly and does not let anyone change that). The interval is
// recorded in seconds, as Alibaba's DescribeKey gives it.
func (a awsKMS) rotation(ctx context.Context, key *snapshot.Key) (bool, error) {
	if key.ServiceKey || key.Arn == "" {
		return false, nil
	}
	r, err := a.c.RotationStatus(ctx, key.Arn)
	if err != nil {
		// Imported key material cannot rotate: AWS refuses to say more.
		if se, ok := awskms.AsServiceError(err); ok && se.Code == "UnsupportedOperationException" && key.Origin != "AWS_KMS" {
			key.AutomaticRotation = "Disabled"
			return true, nil
		}
		return true, err
	}
	key.AutomaticRotation = "Disabled"
	if r.Enabled {
		key.AutomaticRotation = "Enabled"
		if r.PeriodDays > 0 {
			key.RotationInterval = fmt.Sprintf("%ds", r.PeriodDays*86400)
		}
		key.NextRotationDate = awsDate(r.Next)
	}
	return true, nil
}

func awsDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// keys describes every referenced key once and resolves service keys.
type keys struct {
	s *scanner

	mu      sync.Mutex
	byID    map[string]*keyEntry // region \x00 key id
	service map[string]*serviceEntry
}

func newKeys(s *scanner) *keys {
	return &keys{s: s, byID: map[string]*keyEntry{}, service: map[string]*serviceEntry{}}
}

// client is region's KMS, nil when the scan has none there. An AWS KMS
// client (Config.AWSKMS) serves Config.Region in place of the Alibaba one.
func (k *keys) client(region string) kmsAPI {
	cfg := k.s.cfg
	if c := cfg.KMSRegions[region]; c != nil {
		return alibabaKMS{c}
	}
	if region == "" || region == cfg.Region {
		switch {
		case cfg.AWSKMS != nil:
			return awsKMS{cfg.AWSKMS}
		case cfg.KMS != nil:
			return alibabaKMS{cfg.KMS}
		}
	}
	return nil
}

func (k *keys) noClientError(region, resource string) *snapshot.Error {
	msg := "no KMS endpoint given"
	if k.s.cfg.KMS != nil || k.s.cfg.AWSKMS != nil || len(k.s.cfg.KMSRegions) > 0 {
		msg = "no KMS endpoint given for region " + region
	}
	return &snapshot.Error{Scope: "key", Resource: resource, Code: "NoKMSEndpoint", Message: msg}
}

// describeKey describes ref into key with retries. It returns the key id
// KMS answered with.
func (k *keys) describeKey(ctx context.Context, c kmsAPI, ref string, key *snapshot.Key) (string, int, error) {
	var resolved string
	ep := k.s.budgets.forKMS(c.budget())
	attempts, err := k.s.doOn(ctx, ep, func(actx context.Context) error {
		if c.serial() {
			ep.serial.Lock()
			defer ep.serial.Unlock()
		}
		var err error
		resolved, err = c.describe(actx, ref, key)
		return err
	})
	return resolved, attempts, err
}

// readRotation reads what describe could not say about rotation, with
// retries. A failure is recorded as the key's error: the state is known,
// but whether it rotates is not, which must not read as "it does not".
func (k *keys) readRotation(ctx context.Context, c kmsAPI, key *snapshot.Key) {
	ep := k.s.budgets.forKMS(c.budget())
	attempts, err := k.s.doOn(ctx, ep, func(actx context.Context) error {
		_, err := c.rotation(actx, key)
		return err
	})
	if err != nil {
		key.Error = toError(ctx, "key", key.KeyID, attempts, err)
		k.s.recordError(*key.Error)
	}
}

func notFound(err error) bool {
	if awskms.IsNotFound(err) {
		return true
	}
	e, ok := kmsclient.AsServiceError(err)
	return ok && (e.Code == "Forbidden.KeyNotFound" || e.Code == "Forbidden.AliasNotFound")
}

// serviceKeyID is the id of region's service key (alias/acs/oss, or
// alias/aws/s3 through AWS KMS; "" when there is none or it cannot be
// known), from Config.ServiceKeyIDs or resolved once.
func (k *keys) serviceKeyID(ctx context.Context, region string) string {
	if id, ok := k.s.cfg.ServiceKeyIDs[region]; ok {
		return id
	}
	k.mu.Lock()
	e := k.service[region]
	if e != nil {
		k.mu.Unlock()
		<-e.done
		return e.id
	}
	e = &serviceEntry{done: make(chan struct{})}
	k.service[region] = e
	k.mu.Unlock()
	defer close(e.done)
	c := k.client(region)
	if c == nil {
		return ""
	}
	alias := c.serviceAlias()
	id, attempts, err := k.describeKey(ctx, c, alias, &snapshot.Key{})
	switch {
	case err == nil:
		e.id = id
	case notFound(err):
	default:
		k.s.recordError(*toError(ctx, "key", alias+"@"+region, attempts, err))
	}
	return e.id
}

// isServiceKey classifies a referenced key id of region: the resolved
// service key alias, or a key KMS says the service created (Creator Oss,
// KeyManager AWS).
func (k *keys) isServiceKey(ctx context.Context, region, id string) bool {
	if id == "" || id == ServiceKeyAlias || id == AWSServiceKeyAlias {
		return true
	}
	if sk := k.serviceKeyID(ctx, region); sk != "" && (id == sk || snapshot.KeyID(id) == sk) {
		return true
	}
	return k.describe(ctx, region, id).ServiceKey
}

// describe returns the key record of id in region, describing it the
// first time (concurrent callers wait for that one call). A key ARN and
// the bare id inside it are one key (S3 answers an object's key by ARN, a
// bucket rule may name it by id): one record, under the bare id
// (snapshot.KeyID), whose Arn is the one KMS gives. KMS is asked with the
// reference the first caller had, so a key of another account named by
// ARN is described by that ARN.
func (k *keys) describe(ctx context.Context, region, id string) snapshot.Key {
	mk := region + "\x00" + snapshot.KeyID(id)
	k.mu.Lock()
	e := k.byID[mk]
	if e != nil {
		k.mu.Unlock()
		<-e.done
		return e.key
	}
	e = &keyEntry{done: make(chan struct{})}
	k.byID[mk] = e
	k.mu.Unlock()
	defer close(e.done)
	e.key = k.read(ctx, region, id)
	return e.key
}

func (k *keys) read(ctx context.Context, region, ref string) snapshot.Key {
	id := snapshot.KeyID(ref)
	key := snapshot.Key{KeyID: id, Region: region, ReadAt: k.s.now()}
	c := k.client(region)
	if c == nil {
		key.Error = k.noClientError(region, id)
		k.s.recordError(*key.Error)
		return key
	}
	if ctx.Err() != nil {
		key.Error = cancelled("key", id, "not described")
		k.s.recordError(*key.Error)
		return key
	}
	// Each attempt fills a fresh record: a failed one leaves nothing behind.
	var md snapshot.Key
	rid, attempts, err := k.describeKey(ctx, c, ref, &md)
	switch {
	case err == nil:
	case notFound(err):
		key.Missing = true
		return key
	default:
		key.Error = toError(ctx, "key", id, attempts, err)
		k.s.recordError(*key.Error)
		return key
	}
	md.KeyID, md.Region, md.ReadAt = key.KeyID, key.Region, key.ReadAt
	key = md
	if rid != "" && rid != id {
		key.ResolvedKeyID = rid
	}
	k.readRotation(ctx, c, &key)
	if !key.ServiceKey && id != ServiceKeyAlias && id != AWSServiceKeyAlias {
		if sk, ok := k.s.cfg.ServiceKeyIDs[region]; ok && sk != "" && (id == sk || key.ResolvedKeyID == sk) {
			key.ServiceKey = true
		}
	}
	return key
}

// describeExtra describes the references of Config.ExtraKeyRefs that only
// KMS can resolve (aliases), in each of regions with a KMS client (an alias
// ARN in its own region only), so the snapshot holds what they resolve to.
// References already described are not described again.
func (k *keys) describeExtra(ctx context.Context, regions, refs []string) {
	for _, ref := range refs {
		ref = strings.TrimSpace(ref)
		own, isAlias := aliasRegion(ref)
		if ref == "" || !isAlias {
			continue
		}
		for _, region := range regions {
			if (own != "" && region != own) || k.client(region) == nil || ctx.Err() != nil {
				continue
			}
			k.describe(ctx, region, ref)
		}
	}
}

// all returns every key record, sorted by region then id. Entries still
// being described (a cancelled scan) are waited for: each call is bounded
// by the SDK's timeouts.
func (k *keys) all() []snapshot.Key {
	k.mu.Lock()
	entries := make([]*keyEntry, 0, len(k.byID))
	for _, e := range k.byID {
		entries = append(entries, e)
	}
	k.mu.Unlock()
	out := make([]snapshot.Key, 0, len(entries))
	for _, e := range entries {
		<-e.done
		key := e.key
		if !key.ServiceKey {
			k.mu.Lock()
			se := k.service[key.Region]
			k.mu.Unlock()
			if se != nil {
				<-se.done
				if se.id != "" && (snapshot.KeyID(key.KeyID) == se.id || key.ResolvedKeyID == se.id) {
					key.ServiceKey = true
				}
			}
		}
		out = append(out, key)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Region != out[j].Region {
			return out[i].Region < out[j].Region
		}
		return out[i].KeyID < out[j].KeyID
	})
	return out
}
