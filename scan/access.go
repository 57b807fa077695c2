package scan

import (
	"context"
	"net/http"
	"strings"
	"sync"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/snapshot"
)

// Bucket access settings: the ACL (GetBucketAcl) and the policy
// (GetBucketPolicy), read with the rule and versioning state, two more
// requests per bucket under the same budget. Object ACLs are not read: one
// more request per object would double a census.
//
// An endpoint that does not implement bucket policies (501
// NotImplemented) is recorded as policy status "unknown" with a note,
// never as "none", and is not a coverage error (asking again cannot
// change it); an ACL refused the same way is recorded in acl_error only.
// Every other failure is recorded in acl_error / policy_error and in
// Coverage.Errors.

// access reads bucket b's ACL and policy into its header, both at once.
func (s *scanner) access(ctx context.Context, b *snapshot.Bucket) {
	if s.cfg.SkipAccess {
		return
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.bucketACL(ctx, b)
	}()
	s.bucketPolicy(ctx, b)
	wg.Wait()
}

func notImplemented(err error) bool {
	e, ok := client.AsError(err)
	return ok && (e.StatusCode == http.StatusNotImplemented || e.Code == "NotImplemented")
}

func (s *scanner) bucketACL(ctx context.Context, b *snapshot.Bucket) {
	var a client.ACL
	attempts, err := s.do(ctx, func(ctx context.Context) error {
		var err error
		a, err = s.cfg.Client.BucketACL(ctx, b.Name)
		return err
	})
	if err != nil {
		b.ACLError = toError(ctx, "acl", b.Name, attempts, err)
		if !notImplemented(err) {
			s.recordError(*b.ACLError)
		}
		return
	}
	b.ACL = normaliseACL(a)
}

// normaliseACL says who beyond the owner the ACL lets in. AuthenticatedUsers
// is any AWS account, so it counts as public.
func normaliseACL(a client.ACL) *snapshot.ACL {
	out := &snapshot.ACL{Canned: a.Canned, Raw: a.Raw}
	switch a.Canned {
	case client.ACLPublicRead, client.ACLAuthenticatedRead:
		out.PublicRead = true
	case client.ACLPublicReadWrite:
		out.PublicRead, out.PublicWrite = true, true
	}
	for _, g := range a.Grants {
		if g.GranteeType == "CanonicalUser" && g.GranteeID == a.Owner && g.Permission == "FULL_CONTROL" {
			continue
		}
		out.Grants = append(out.Grants, snapshot.Grant{Type: g.GranteeType, ID: g.GranteeID, Permission: g.Permission})
		if g.GranteeType != "Group" || !publicGroup(g.GranteeID) {
			continue
		}
		switch g.Permission {
		case "READ":
			out.PublicRead = true
		case "WRITE":
			out.PublicWrite = true
		case "FULL_CONTROL":
			out.PublicRead, out.PublicWrite = true, true
		}
	}
	return out
}

// publicGroup: S3's AllUsers and AuthenticatedUsers groups (under any
// scheme or host: S3-compatible stores spell the URI variously).
func publicGroup(uri string) bool {
	return strings.HasSuffix(uri, "/global/AllUsers") || strings.HasSuffix(uri, "/global/AuthenticatedUsers")
}

func (s *scanner) bucketPolicy(ctx context.Context, b *snapshot.Bucket) {
	var doc string
	var ok bool
	attempts, err := s.do(ctx, func(ctx context.Context) error {
		var err error
		doc, ok, err = s.cfg.Client.BucketPolicy(ctx, b.Name)
		return err
	})
	switch {
	case err != nil && notImplemented(err):
		e := toError(ctx, "policy", b.Name, attempts, err)
		b.Policy = &snapshot.Policy{Status: snapshot.PolicyUnknown,
			Note: "the endpoint does not implement bucket policies (" + e.Code + ": " + e.Message + "): whether a policy guards the bucket is unknown"}
	case err != nil:
		b.PolicyError = toError(ctx, "policy", b.Name, attempts, err)
		s.recordError(*b.PolicyError)
	case !ok:
		b.Policy = &snapshot.Policy{Status: snapshot.PolicyNone}
	default:
		p := PolicyFacts(b.Name, doc)
		b.Policy = &p
	}
}

// replayAccess does for a bucket header taken from a checkpoint what
// reading its access settings did: their errors are recorded.
func (s *scanner) replayAccess(hb *snapshot.Bucket) {
	if hb.ACLError != nil && hb.ACLError.StatusCode != http.StatusNotImplemented && hb.ACLError.Code != "NotImplemented" {
		s.recordError(*hb.ACLError)
	}
	if hb.PolicyError != nil {
		s.recordError(*hb.PolicyError)
	}
}
