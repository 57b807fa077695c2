package scan

import (
	"context"
	"sort"
	"strings"
	"sync"

	kmssdk "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/sseaudit/sseaudit/kmsclient"
	"github.com/sseaudit/sseaudit/snapshot"
)

// ServiceKeyAlias is the alias of the per-region KMS key OSS creates for
// SSE-KMS without a named key.
const ServiceKeyAlias = "alias/acs/oss"

// CreatorOSS is the KMS Creator of OSS service keys.
const CreatorOSS = "Oss"

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
		if keyID == "" || serviceKey || keyID == ServiceKeyAlias {
			return snapshot.MethodKMSDefault
		}
		return snapshot.MethodKMSCMK
	default:
		return snapshot.MethodOther
	}
}

// bareKeyID is the key id inside an ARN (acs:kms:region:account:key/ID,
// arn:aws:kms:region:account:key/ID), or id itself.
func bareKeyID(id string) string {
	if i := strings.LastIndex(id, ":key/"); i >= 0 {
		return id[i+len(":key/"):]
	}
	return id
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

func (k *keys) client(region string) *kmssdk.Client {
	cfg := k.s.cfg
	if c := cfg.KMSRegions[region]; c != nil {
		return c
	}
	if region == "" || region == cfg.Region {
		return cfg.KMS
	}
	return nil
}

func (k *keys) noClientError(region, resource string) *snapshot.Error {
	msg := "no KMS endpoint given"
	if k.s.cfg.KMS != nil || len(k.s.cfg.KMSRegions) > 0 {
		msg = "no KMS endpoint given for region " + region
	}
	return &snapshot.Error{Scope: "key", Resource: resource, Code: "NoKMSEndpoint", Message: msg}
}

// describeKey calls DescribeKey with retries; the SDK call cannot be
// cancelled, so ctx is checked before each attempt.
func (k *keys) describeKey(ctx context.Context, c *kmssdk.Client, id string) (*kmssdk.DescribeKeyResponseBodyKeyMetadata, int, error) {
	var md *kmssdk.DescribeKeyResponseBodyKeyMetadata
	ep := k.s.budgets.forKMS(c)
	attempts, err := k.s.doOn(ctx, ep, func(context.Context) error {
		ep.serial.Lock()
		resp, err := c.DescribeKey(&kmssdk.DescribeKeyRequest{KeyId: tea.String(id)})
		ep.serial.Unlock()
		if err != nil {
			return err
		}
		if resp == nil || resp.Body == nil || resp.Body.KeyMetadata == nil {
			md = &kmssdk.DescribeKeyResponseBodyKeyMetadata{}
			return nil
		}
		md = resp.Body.KeyMetadata
		return nil
	})
	return md, attempts, err
}

func notFound(err error) bool {
	e, ok := kmsclient.AsServiceError(err)
	return ok && (e.Code == "Forbidden.KeyNotFound" || e.Code == "Forbidden.AliasNotFound")
}

// serviceKeyID is the id of region's alias/acs/oss key ("" when there is
// none or it cannot be known), from Config.ServiceKeyIDs or resolved once.
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
	md, attempts, err := k.describeKey(ctx, c, ServiceKeyAlias)
	switch {
	case err == nil:
		e.id = tea.StringValue(md.KeyId)
	case notFound(err):
	default:
		k.s.recordError(*toError(ctx, "key", ServiceKeyAlias+"@"+region, attempts, err))
	}
	return e.id
}

// isServiceKey classifies a referenced key id of region: the resolved
// alias/acs/oss id, or a key whose Creator is Oss.
func (k *keys) isServiceKey(ctx context.Context, region, id string) bool {
	if id == "" || id == ServiceKeyAlias {
		return true
	}
	if sk := k.serviceKeyID(ctx, region); sk != "" && (id == sk || bareKeyID(id) == sk) {
		return true
	}
	return k.describe(ctx, region, id).ServiceKey
}

// describe returns the key record of id in region, describing it the
// first time (concurrent callers wait for that one call).
func (k *keys) describe(ctx context.Context, region, id string) snapshot.Key {
	mk := region + "\x00" + id
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

func (k *keys) read(ctx context.Context, region, id string) snapshot.Key {
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
	md, attempts, err := k.describeKey(ctx, c, id)
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
	if rid := tea.StringValue(md.KeyId); rid != "" && rid != id {
		key.ResolvedKeyID = rid
	}
	key.ServiceKey = key.Creator == CreatorOSS
	if !key.ServiceKey && id != ServiceKeyAlias {
		if sk, ok := k.s.cfg.ServiceKeyIDs[region]; ok && sk != "" && (bareKeyID(id) == sk || key.ResolvedKeyID == sk) {
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
				if se.id != "" && (bareKeyID(key.KeyID) == se.id || key.ResolvedKeyID == se.id) {
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
