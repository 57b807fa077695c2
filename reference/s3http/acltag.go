package s3http

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"unicode"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

// S3's canned ACLs. Buckets take the first four (and log-delivery-write);
// objects all but log-delivery-write. An object written without one is
// private (stored as objstore.ACLDefault, which this dialect reports as
// private).
var (
	bucketCannedACLs = map[string]bool{"private": true, "public-read": true, "public-read-write": true,
		"authenticated-read": true, "log-delivery-write": true}
	objectCannedACLs = map[string]bool{"private": true, "public-read": true, "public-read-write": true,
		"authenticated-read": true, "aws-exec-read": true, "bucket-owner-read": true, "bucket-owner-full-control": true}
)

// grantHeaders are S3's explicit-grant headers. Only canned ACLs are kept
// here, so a request naming a grant is refused rather than succeeding
// without it.
var grantHeaders = []string{"X-Amz-Grant-Read", "X-Amz-Grant-Write", "X-Amz-Grant-Read-Acp",
	"X-Amz-Grant-Write-Acp", "X-Amz-Grant-Full-Control"}

const (
	hACL              = "X-Amz-Acl"
	hTagging          = "X-Amz-Tagging"
	hTaggingDirective = "X-Amz-Tagging-Directive"
	hTaggingCount     = "X-Amz-Tagging-Count"
)

// cannedACLHeader reads x-amz-acl from the set allowed; ("", false) when
// absent. A grant header is 501 NotImplemented.
func cannedACLHeader(h http.Header, allowed map[string]bool) (string, bool, *apiError) {
	for _, g := range grantHeaders {
		if _, ok := h[g]; ok {
			return "", false, errNotImplemented(strings.ToLower(g) + " (only canned ACLs are kept)")
		}
	}
	vs := h.Values(hACL)
	if len(vs) == 0 {
		return "", false, nil
	}
	if len(vs) > 1 || !allowed[vs[0]] {
		return "", false, errInvalidArgument("The canned ACL %q is not valid here.", truncate(strings.Join(vs, ","), 64)).with("ArgumentName", "x-amz-acl").with("ArgumentValue", strings.Join(vs, ","))
	}
	return vs[0], true, nil
}

// s3TagChar reports whether S3 allows r in a tag: letters, digits, white
// space and + - = . _ : / @.
func s3TagChar(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsSpace(r) || strings.ContainsRune("+-=._:/@", r)
}

func errInvalidTag(msg string) *apiError {
	return newErr(http.StatusBadRequest, "InvalidTag", "%s", msg)
}

// checkTags applies S3's tag rules (InvalidTag).
func checkTags(tags []objstore.Tag) *apiError {
	if err := objstore.CheckTags(tags); err != nil {
		return errInvalidTag(err.(*objstore.Error).Message)
	}
	for _, t := range tags {
		if strings.HasPrefix(t.Key, "aws:") {
			return errInvalidTag("Your TagKey cannot be prefixed with aws:")
		}
		if strings.IndexFunc(t.Key, func(r rune) bool { return !s3TagChar(r) }) >= 0 {
			return errInvalidTag("The TagKey you have provided is invalid")
		}
		if strings.IndexFunc(t.Value, func(r rune) bool { return !s3TagChar(r) }) >= 0 {
			return errInvalidTag("The TagValue you have provided is invalid")
		}
	}
	return nil
}

// taggingHeader reads x-amz-tagging (URL query encoded key=value pairs).
func taggingHeader(h http.Header) ([]objstore.Tag, *apiError) {
	vs := h.Values(hTagging)
	if len(vs) == 0 {
		return nil, nil
	}
	bad := errInvalidArgument("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.")
	if len(vs) > 1 {
		return nil, bad
	}
	q, err := url.ParseQuery(vs[0])
	if err != nil {
		return nil, bad
	}
	keys := make([]string, 0, len(q))
	for k, v := range q {
		if len(v) > 1 {
			return nil, bad
		}
		keys = append(keys, k)
	}
	sort.Strings(keys) // the header's order is lost with the map; keep a stable one
	var tags []objstore.Tag
	for _, k := range keys {
		tags = append(tags, objstore.Tag{Key: k, Value: q.Get(k)})
	}
	if aerr := checkTags(tags); aerr != nil {
		return nil, aerr
	}
	return tags, nil
}

// taggingDirective reads x-amz-tagging-directive: REPLACE is true.
func taggingDirective(h http.Header) (bool, *apiError) {
	switch h.Get(hTaggingDirective) {
	case "", "COPY":
		return false, nil
	case "REPLACE":
		return true, nil
	}
	return false, errInvalidArgument("Unknown tagging directive.")
}

// ---- ACL documents ----

type granteeXML struct {
	XMLNSXSI    string `xml:"xmlns:xsi,attr"`
	Type        string `xml:"xsi:type,attr"`
	ID          string `xml:"ID,omitempty"`
	DisplayName string `xml:"DisplayName,omitempty"`
	URI         string `xml:"URI,omitempty"`
}

type grantXML struct {
	Grantee    granteeXML `xml:"Grantee"`
	Permission string     `xml:"Permission"`
}

type aclOut struct {
	XMLName xml.Name   `xml:"AccessControlPolicy"`
	Xmlns   string     `xml:"xmlns,attr"`
	Owner   ownerOut   `xml:"Owner"`
	Grants  []grantXML `xml:"AccessControlList>Grant"`
}

const (
	xsiNS          = "http://www.w3.org/2001/XMLSchema-instance"
	groupAllUsers  = "http://acs.amazonaws.com/groups/global/AllUsers"
	groupAuthUsers = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
	groupLogDeliv  = "http://acs.amazonaws.com/groups/s3/LogDelivery"
	// ec2CanonicalID is the grantee aws-exec-read names (Amazon EC2's
	// canonical user, which reads AMI bundles).
	ec2CanonicalID = "6aa5a366c34c1cbe25dc49211496e913e0351eb0e8c37aa3477e40942ec6b97c"
)

func groupGrant(uri, perm string) grantXML {
	return grantXML{Grantee: granteeXML{XMLNSXSI: xsiNS, Type: "Group", URI: uri}, Permission: perm}
}

// cannedGrants is the grant list S3 makes of a canned ACL. The owner of
// every object here is its bucket's owner, so bucket-owner-read and
// bucket-owner-full-control add nothing to the owner's FULL_CONTROL (as
// on S3 when the writer owns the bucket).
func cannedGrants(acl, owner string) []grantXML {
	gs := []grantXML{{Grantee: granteeXML{XMLNSXSI: xsiNS, Type: "CanonicalUser", ID: owner, DisplayName: owner}, Permission: "FULL_CONTROL"}}
	switch acl {
	case "public-read":
		gs = append(gs, groupGrant(groupAllUsers, "READ"))
	case "public-read-write":
		gs = append(gs, groupGrant(groupAllUsers, "READ"), groupGrant(groupAllUsers, "WRITE"))
	case "authenticated-read":
		gs = append(gs, groupGrant(groupAuthUsers, "READ"))
	case "log-delivery-write":
		gs = append(gs, groupGrant(groupLogDeliv, "WRITE"), groupGrant(groupLogDeliv, "READ_ACP"))
	case "aws-exec-read":
		gs = append(gs, grantXML{Grantee: granteeXML{XMLNSXSI: xsiNS, Type: "CanonicalUser", ID: ec2CanonicalID, DisplayName: "za-team"}, Permission: "READ"})
	}
	return gs
}

type aclIn struct {
	XMLName xml.Name `xml:"AccessControlPolicy"`
	Owner   struct {
		ID string `xml:"ID"`
	} `xml:"Owner"`
	Grants []struct {
		Grantee struct {
			Type string `xml:"type,attr"`
			ID   string `xml:"ID"`
			URI  string `xml:"URI"`
		} `xml:"Grantee"`
		Permission string `xml:"Permission"`
	} `xml:"AccessControlList>Grant"`
}

// cannedFromPolicy maps an AccessControlPolicy body onto the canned ACL
// whose grants it lists (in any order), the only ACLs kept here; any
// other grant list is 501 NotImplemented, never half-applied.
func cannedFromPolicy(body []byte, owner string, allowed map[string]bool) (string, *apiError) {
	var in aclIn
	if aerr := decodeXML(body, "AccessControlPolicy", &in); aerr != nil {
		return "", newErr(http.StatusBadRequest, "MalformedACLError", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	key := func(typ, id, uri, perm string) string { return typ + "|" + id + "|" + uri + "|" + perm }
	var got []string
	for _, g := range in.Grants {
		got = append(got, key(g.Grantee.Type, g.Grantee.ID, g.Grantee.URI, g.Permission))
	}
	sort.Strings(got)
	names := make([]string, 0, len(allowed))
	for n := range allowed {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		var want []string
		for _, g := range cannedGrants(name, owner) {
			want = append(want, key(g.Grantee.Type, g.Grantee.ID, g.Grantee.URI, g.Permission))
		}
		sort.Strings(want)
		if strings.Join(want, "\n") == strings.Join(got, "\n") {
			return name, nil
		}
	}
	return "", errNotImplemented("an access control list other than a canned ACL's grants")
}

// aclRequest reads the ACL of PutBucketAcl/PutObjectAcl: x-amz-acl or an
// AccessControlPolicy body, not both, not neither.
func aclRequest(rc *reqCtx, owner string, allowed map[string]bool) (string, *apiError) {
	acl, ok, aerr := cannedACLHeader(rc.r.Header, allowed)
	if aerr != nil {
		return "", aerr
	}
	body, aerr := rc.readXMLBody(false, true)
	if aerr != nil {
		return "", aerr
	}
	hasBody := len(strings.TrimSpace(string(body))) > 0
	switch {
	case ok && hasBody:
		return "", newErr(http.StatusBadRequest, "UnexpectedContent", "This request does not support content")
	case ok:
		return acl, nil
	case hasBody:
		return cannedFromPolicy(body, owner, allowed)
	}
	return "", newErr(http.StatusBadRequest, "MissingSecurityHeader", "Your request was missing a required header").
		with("MissingHeaderName", "x-amz-acl")
}

// s3ACLName is how S3 names a stored ACL ("" = private).
func s3ACLName(acl string) string {
	if acl == objstore.ACLDefault {
		return objstore.ACLPrivate
	}
	return acl
}

func (h *handler) getBucketACL(rc *reqCtx) {
	b, err := h.cfg.Store.GetBucket(rc.ctx, rc.p, rc.bucket)
	if err != nil {
		rc.fail(errorFromStore(err, ""))
		return
	}
	rc.writeXML(aclOut{Xmlns: s3Namespace, Owner: ownerOut{ID: b.Owner, DisplayName: b.Owner}, Grants: cannedGrants(b.ACL, b.Owner)})
}

func (h *handler) putBucketACL(rc *reqCtx) {
	b, err := h.cfg.Store.GetBucket(rc.ctx, rc.p, rc.bucket)
	if err != nil {
		rc.fail(errorFromStore(err, ""))
		return
	}
	acl, aerr := aclRequest(rc, b.Owner, bucketCannedACLs)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	if err := h.cfg.Store.PutBucketACL(rc.ctx, rc.p, rc.bucket, acl); err != nil {
		rc.fail(errorFromStore(err, ""))
		return
	}
	rc.w.Header().Set("Content-Length", "0")
	rc.w.WriteHeader(http.StatusOK)
}

func (h *handler) getObjectACL(rc *reqCtx) {
	// An SSE-C object's ACL and tags are served without its key, as on S3.
	info, err := h.cfg.Store.HeadObjectVersion(objstore.MetadataOnly(rc.ctx), rc.p, rc.bucket, rc.key, rc.query("versionId"))
	if err != nil {
		rc.fail(errorFromStore(err, rc.key))
		return
	}
	b, err := h.cfg.Store.GetBucket(rc.ctx, rc.p, rc.bucket)
	if err != nil {
		rc.fail(errorFromStore(err, ""))
		return
	}
	setVersionHeader(rc.w.Header(), info.VersionID)
	rc.writeXML(aclOut{Xmlns: s3Namespace, Owner: ownerOut{ID: b.Owner, DisplayName: b.Owner}, Grants: cannedGrants(s3ACLName(info.ACL), b.Owner)})
}

func (h *handler) putObjectACL(rc *reqCtx) {
	b, err := h.cfg.Store.GetBucket(rc.ctx, rc.p, rc.bucket)
	if err != nil {
		rc.fail(errorFromStore(err, ""))
		return
	}
	acl, aerr := aclRequest(rc, b.Owner, objectCannedACLs)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	info, err := h.cfg.Store.PutObjectACL(rc.ctx, rc.p, rc.bucket, rc.key, rc.query("versionId"), acl)
	if err != nil {
		rc.fail(errorFromStore(err, rc.key))
		return
	}
	setVersionHeader(rc.w.Header(), info.VersionID)
	rc.w.Header().Set("Content-Length", "0")
	rc.w.WriteHeader(http.StatusOK)
}

// ---- tagging ----

type tagXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type taggingXML struct {
	XMLName xml.Name `xml:"Tagging"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Tags    []tagXML `xml:"TagSet>Tag"`
}

func (h *handler) putObjectTagging(rc *reqCtx) {
	body, aerr := rc.readXMLBody(false, true)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	var in taggingXML
	if aerr := decodeXML(body, "Tagging", &in); aerr != nil {
		rc.fail(aerr)
		return
	}
	tags := make([]objstore.Tag, 0, len(in.Tags))
	for _, t := range in.Tags {
		tags = append(tags, objstore.Tag(t))
	}
	if aerr := checkTags(tags); aerr != nil {
		rc.fail(aerr)
		return
	}
	info, err := h.cfg.Store.PutObjectTagging(rc.ctx, rc.p, rc.bucket, rc.key, rc.query("versionId"), tags)
	if err != nil {
		rc.fail(errorFromStore(err, rc.key))
		return
	}
	setVersionHeader(rc.w.Header(), info.VersionID)
	rc.w.Header().Set("Content-Length", "0")
	rc.w.WriteHeader(http.StatusOK)
}

func (h *handler) getObjectTagging(rc *reqCtx) {
	// An SSE-C object's ACL and tags are served without its key, as on S3.
	info, err := h.cfg.Store.HeadObjectVersion(objstore.MetadataOnly(rc.ctx), rc.p, rc.bucket, rc.key, rc.query("versionId"))
	if err != nil {
		rc.fail(errorFromStore(err, rc.key))
		return
	}
	out := taggingXML{Xmlns: s3Namespace, Tags: make([]tagXML, 0, len(info.Tags))}
	for _, t := range info.Tags {
		out.Tags = append(out.Tags, tagXML(t))
	}
	setVersionHeader(rc.w.Header(), info.VersionID)
	rc.writeXML(out)
}

func (h *handler) deleteObjectTagging(rc *reqCtx) {
	info, err := h.cfg.Store.PutObjectTagging(rc.ctx, rc.p, rc.bucket, rc.key, rc.query("versionId"), nil)
	if err != nil {
		rc.fail(errorFromStore(err, rc.key))
		return
	}
	setVersionHeader(rc.w.Header(), info.VersionID)
	rc.w.WriteHeader(http.StatusNoContent)
}
