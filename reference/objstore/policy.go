package objstore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Bucket policies: the subset of OSS's and S3's policy language that SSE
// guardrails use, enforced. A policy is parsed once (ParseBucketPolicy),
// kept verbatim (GetBucketPolicy returns the document byte for byte, as
// both services do) and evaluated on every request to its bucket by the
// front ends (BucketPolicy.Denies, before the store is called).
//
// Supported, in both dialects: Deny statements with Action (patterns with
// * and ?), Resource (ARN patterns: arn:aws:s3:::bucket[/key] and
// acs:oss:region:account:bucket[/key], whose region and account are not
// compared: the reference has one region and no account ids), Principal
// ("*", or names or ARNs/UIDs whose last ":" or "/" segment is a principal
// name) and Condition with StringEquals, StringNotEquals, StringLike,
// StringNotLike (each also ...IfExists), Null and Bool on the keys
// s3:x-amz-server-side-encryption, s3:x-amz-server-side-encryption-aws-kms-key-id
// and aws:SecureTransport (S3), oss:x-oss-server-side-encryption,
// oss:x-oss-server-side-encryption-key-id and acs:SecureTransport (OSS).
//
// Everything else is refused with KindMalformedPolicy naming it: Allow
// statements (the reference grants through its users file; an Allow it
// stored but did not apply would mislead an audit), NotAction,
// NotResource, NotPrincipal, other operators and other keys. A guardrail
// the reference accepted but silently did not enforce would be worse than
// one it refused.
//
// Evaluation follows IAM: a statement applies when its action, resource
// and principal match and every condition holds; a condition on a key the
// request lacks is false for StringEquals/StringLike/Bool, true for the
// negated operators and for ...IfExists. The SSE keys are the request's
// headers, not the bucket default (a request relying on the default has
// none, as on both services). Only the operations that carry encryption
// headers (PutObject, CopyObject, AppendObject, PostObject and multipart
// initiation) have them; a statement with an SSE condition does not apply
// to the other operations that share their action (UploadPart,
// UploadPartCopy, CompleteMultipartUpload), whose encryption the
// initiation fixed. The reference serves plain HTTP unless the server
// says it sits behind a TLS terminator, so SecureTransport is false and a
// Deny on "false" denies every request it names, including this policy's
// own removal (the operator then deletes the bucket's policy with the
// root credentials over TLS, or restarts the server with TLS).
//
// OSS's special rule is kept: a statement with Principal "*" and no
// Condition does not apply to the bucket owner.

// PolicyDialect is the policy language a document is written in.
type PolicyDialect string

// Policy dialects.
const (
	PolicyDialectOSS PolicyDialect = "oss"
	PolicyDialectS3  PolicyDialect = "s3"
)

// MaxPolicySize is the largest policy document accepted (S3's limit; OSS
// allows 16 KiB, less).
const MaxPolicySize = 20 << 10

// Policy condition keys, lower-cased (keys are case-insensitive).
const (
	condS3SSE        = "s3:x-amz-server-side-encryption"
	condS3SSEKey     = "s3:x-amz-server-side-encryption-aws-kms-key-id"
	condAWSSecure    = "aws:securetransport"
	condOSSSSE       = "oss:x-oss-server-side-encryption"
	condOSSSSEKey    = "oss:x-oss-server-side-encryption-key-id"
	condACSSecure    = "acs:securetransport"
	condKindSSE      = 1
	condKindKeyID    = 2
	condKindSecure   = 3
	policyVersionOSS = "1"
)

var policyCondKeys = map[PolicyDialect]map[string]int{
	PolicyDialectS3:  {condS3SSE: condKindSSE, condS3SSEKey: condKindKeyID, condAWSSecure: condKindSecure},
	PolicyDialectOSS: {condOSSSSE: condKindSSE, condOSSSSEKey: condKindKeyID, condACSSecure: condKindSecure},
}

// BucketPolicy is a parsed bucket policy and the document it came from.
type BucketPolicy struct {
	Dialect  PolicyDialect
	Document []byte
	stmts    []policyStatement
	// broken marks a stored policy this build cannot parse (written by
	// another build, or damaged): it denies every request but the policy
	// operations of the bucket's owner, so a guardrail fails closed.
	broken bool
}

type policyStatement struct {
	actions    []string // lower-case patterns
	resources  []string // patterns over "bucket" or "bucket/key"
	principals []string // "*" or names, ARNs, UIDs
	conds      []policyCondition
}

type policyCondition struct {
	op       string // canonical operator without IfExists
	ifExists bool
	key      int // condKind*
	values   []string
}

// PolicyRequest is what a front end knows of a request, for evaluation.
type PolicyRequest struct {
	// Op is the front end's operation name (PutObject, CopyObject,
	// UploadPart, GetObject, ListObjects, PutBucketPolicy...).
	Op        string
	Principal Principal
	Bucket    string
	Key       string // "" for bucket-level operations
	// SecureTransport: the request came over TLS.
	SecureTransport bool
	// SSEAlgorithm is the encryption header as sent ("" = not sent), with
	// S3's aws:kms as AlgorithmKMS; KMSKeyID the key id header ("" = not
	// sent).
	SSEAlgorithm string
	KMSKeyID     string
}

// sseOps are the operations that carry encryption headers.
var sseOps = map[string]bool{
	"PutObject": true, "CopyObject": true, "AppendObject": true, "PostObject": true,
	"InitiateMultipartUpload": true, "CreateMultipartUpload": true,
}

// policyActions maps operations to their action names where they differ
// from the operation name (the default is the dialect's prefix and the
// operation).
var policyActions = map[PolicyDialect]map[string]string{
	PolicyDialectS3: {
		"CopyObject": "PutObject", "UploadPart": "PutObject", "UploadPartCopy": "PutObject",
		"CreateMultipartUpload": "PutObject", "InitiateMultipartUpload": "PutObject",
		"CompleteMultipartUpload": "PutObject", "AppendObject": "PutObject", "PostObject": "PutObject",
		"HeadObject": "GetObject", "GetObjectMeta": "GetObject", "GetObjectAttributes": "GetObject",
		"ListObjects": "ListBucket", "ListObjectsV2": "ListBucket", "HeadBucket": "ListBucket",
		"ListObjectVersions": "ListBucketVersions", "DeleteObjects": "DeleteObject",
		"DeleteMultipleObjects": "DeleteObject", "ListParts": "ListMultipartUploadParts",
		"ListMultipartUploads": "ListBucketMultipartUploads",
		"GetBucketEncryption":  "GetEncryptionConfiguration", "PutBucketEncryption": "PutEncryptionConfiguration",
		"DeleteBucketEncryption": "PutEncryptionConfiguration", "DeleteBucketPolicy": "DeleteBucketPolicy",
		"PutObjectACL": "PutObjectAcl", "GetObjectACL": "GetObjectAcl", "PutBucketACL": "PutBucketAcl", "GetBucketACL": "GetBucketAcl",
		"CreateBucket": "CreateBucket", "PutBucket": "CreateBucket",
	},
	PolicyDialectOSS: {
		"CopyObject": "PutObject", "UploadPart": "PutObject", "UploadPartCopy": "PutObject",
		"CreateMultipartUpload": "PutObject", "InitiateMultipartUpload": "PutObject",
		"CompleteMultipartUpload": "PutObject", "AppendObject": "PutObject", "PostObject": "PutObject",
		"HeadObject": "GetObject", "GetObjectMeta": "GetObject",
		"ListObjectsV2": "ListObjects", "ListObjectVersions": "ListObjectVersions",
		"DeleteObjects": "DeleteObject", "DeleteMultipleObjects": "DeleteObject",
		"PutObjectACL": "PutObjectAcl", "GetObjectACL": "GetObjectAcl", "PutBucketACL": "PutBucketAcl", "GetBucketACL": "GetBucketAcl",
		"CreateBucket": "PutBucket", "ListBucket": "ListObjects",
		"PutSymlink": "PutObject", "GetSymlink": "GetObject",
	},
}

// policyAction is the action name of op in dialect d, lower-cased.
func policyAction(d PolicyDialect, op string) string {
	if a, ok := policyActions[d][op]; ok {
		op = a
	}
	return strings.ToLower(string(d) + ":" + op)
}

func malformed(res, format string, args ...any) *Error {
	return newErr(KindMalformedPolicy, res, fmt.Sprintf(format, args...), nil)
}

func unsupported(res, format string, args ...any) *Error {
	return newErr(KindPolicyUnsupported, res, fmt.Sprintf(format, args...), nil)
}

// ParseBucketPolicy parses a policy document of dialect d for bucket. A
// document outside the supported subset is KindMalformedPolicy with a
// message naming what is wrong or unsupported.
func ParseBucketPolicy(d PolicyDialect, bucket string, doc []byte) (*BucketPolicy, error) {
	res := bucketRes(bucket)
	if _, ok := policyCondKeys[d]; !ok {
		return nil, internal(res, fmt.Errorf("unknown policy dialect %q", d))
	}
	if len(doc) > MaxPolicySize {
		return nil, malformed(res, "Policies cannot exceed %d bytes", MaxPolicySize)
	}
	trimmed := bytes.TrimSpace(doc)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, malformed(res, "Policies must be valid JSON and the first byte must be '{'")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &top); err != nil {
		return nil, malformed(res, "Policies must be valid JSON: %v", err)
	}
	p := &BucketPolicy{Dialect: d, Document: bytes.Clone(doc)}
	var stmtsRaw json.RawMessage
	for k, v := range top {
		switch k {
		case "Version":
			var ver string
			if err := json.Unmarshal(v, &ver); err != nil {
				return nil, malformed(res, "The policy Version must be a string")
			}
			if d == PolicyDialectOSS && ver != policyVersionOSS {
				return nil, malformed(res, "The policy Version must be %q, not %q", policyVersionOSS, ver)
			}
			if d == PolicyDialectS3 && ver != "2012-10-17" && ver != "2008-10-17" {
				return nil, malformed(res, "The policy must contain a valid version string")
			}
		case "Id":
		case "Statement":
			stmtsRaw = v
		default:
			return nil, malformed(res, "Unknown field %s", k)
		}
	}
	if d == PolicyDialectOSS {
		if _, ok := top["Version"]; !ok {
			return nil, malformed(res, "Missing required field Version")
		}
	}
	if stmtsRaw == nil {
		return nil, malformed(res, "Missing required field Statement")
	}
	var raws []json.RawMessage
	if t := bytes.TrimSpace(stmtsRaw); len(t) > 0 && t[0] == '{' {
		raws = []json.RawMessage{stmtsRaw}
	} else if err := json.Unmarshal(stmtsRaw, &raws); err != nil {
		return nil, malformed(res, "Statement must be an object or a list of objects")
	}
	if len(raws) == 0 {
		return nil, malformed(res, "Statement must not be empty")
	}
	for i, raw := range raws {
		st, err := parseStatement(d, res, raw)
		if err != nil {
			err.Message = fmt.Sprintf("Statement %d: %s", i+1, err.Message)
			return nil, err
		}
		p.stmts = append(p.stmts, st)
	}
	return p, nil
}

// stringOrList reads a JSON string or list of strings.
func stringOrList(v json.RawMessage) ([]string, bool) {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return []string{s}, true
	}
	var l []string
	if json.Unmarshal(v, &l) == nil {
		return l, true
	}
	return nil, false
}

func parseStatement(d PolicyDialect, res string, raw json.RawMessage) (policyStatement, *Error) {
	var st policyStatement
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return st, malformed(res, "a statement must be a JSON object")
	}
	for _, k := range []string{"NotAction", "NotResource", "NotPrincipal"} {
		if _, ok := fields[k]; ok {
			return st, unsupported(res, "%s is not supported by the reference server", k)
		}
	}
	for _, req := range []string{"Effect", "Action", "Resource", "Principal"} {
		if _, ok := fields[req]; !ok {
			return st, malformed(res, "Missing required field %s", req)
		}
	}
	for k, v := range fields {
		switch k {
		case "Sid":
		case "Effect":
			var e string
			if json.Unmarshal(v, &e) != nil || (e != "Allow" && e != "Deny") {
				return st, malformed(res, "Invalid effect: %s", v)
			}
			if e == "Allow" {
				return st, unsupported(res, "Allow statements are not supported by the reference server, which enforces Deny statements only (its grants come from the --users file)")
			}
		case "Action":
			l, ok := stringOrList(v)
			if !ok || len(l) == 0 {
				return st, malformed(res, "Policy has invalid action")
			}
			for _, a := range l {
				la := strings.ToLower(a)
				if la != "*" && !strings.HasPrefix(la, string(d)+":") {
					return st, malformed(res, "Policy has invalid action %q (actions start with %q)", a, string(d)+":")
				}
				st.actions = append(st.actions, la)
			}
		case "Resource":
			l, ok := stringOrList(v)
			if !ok || len(l) == 0 {
				return st, malformed(res, "Policy has invalid resource")
			}
			for _, r := range l {
				pat, ok := resourcePattern(d, r)
				if !ok {
					return st, malformed(res, "Policy has invalid resource %q", r)
				}
				st.resources = append(st.resources, pat)
			}
		case "Principal":
			l, err := parsePrincipal(d, res, v)
			if err != nil {
				return st, err
			}
			st.principals = l
		case "Condition":
			conds, err := parseConditions(d, res, v)
			if err != nil {
				return st, err
			}
			st.conds = conds
		default:
			return st, malformed(res, "Unknown field %s", k)
		}
	}
	return st, nil
}

// resourcePattern turns an ARN pattern into a pattern over "bucket" or
// "bucket/key"; "*" matches everything.
func resourcePattern(d PolicyDialect, r string) (string, bool) {
	if r == "*" {
		return "*", true
	}
	switch d {
	case PolicyDialectS3:
		rest, ok := strings.CutPrefix(r, "arn:aws:s3:::")
		return rest, ok && rest != ""
	default:
		parts := strings.SplitN(r, ":", 5)
		if len(parts) != 5 || parts[0] != "acs" || parts[1] != "oss" || parts[4] == "" {
			return "", false
		}
		return parts[4], true
	}
}

func parsePrincipal(d PolicyDialect, res string, v json.RawMessage) ([]string, *Error) {
	if l, ok := stringOrList(v); ok {
		if d == PolicyDialectS3 && (len(l) != 1 || l[0] != "*") {
			return nil, malformed(res, "Invalid principal in policy: use \"*\" or {\"AWS\": ...}")
		}
		if len(l) == 0 { // OSS: an empty list is "*"
			l = []string{"*"}
		}
		return l, nil
	}
	if d == PolicyDialectOSS {
		return nil, malformed(res, "Invalid principal in policy: use a list of UIDs or \"*\"")
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(v, &m) != nil {
		return nil, malformed(res, "Invalid principal in policy")
	}
	var out []string
	for k, pv := range m {
		if k != "AWS" {
			return nil, unsupported(res, "Invalid principal in policy: principal type %s is not supported by the reference server", k)
		}
		l, ok := stringOrList(pv)
		if !ok || len(l) == 0 {
			return nil, malformed(res, "Invalid principal in policy")
		}
		out = append(out, l...)
	}
	if len(out) == 0 {
		return nil, malformed(res, "Invalid principal in policy")
	}
	return out, nil
}

var policyOperators = map[string]bool{
	"StringEquals": true, "StringNotEquals": true, "StringLike": true, "StringNotLike": true, "Null": true, "Bool": true,
}

func parseConditions(d PolicyDialect, res string, v json.RawMessage) ([]policyCondition, *Error) {
	var ops map[string]map[string]json.RawMessage
	if json.Unmarshal(v, &ops) != nil {
		return nil, malformed(res, "Condition must map operators to {key: value(s)}")
	}
	names := make([]string, 0, len(ops))
	for op := range ops {
		names = append(names, op)
	}
	sort.Strings(names) // stable evaluation and messages
	var out []policyCondition
	for _, opName := range names {
		op, ifExists := strings.CutSuffix(opName, "IfExists")
		if !policyOperators[op] || (ifExists && (op == "Null")) {
			return nil, unsupported(res, "Condition operator %s is not supported by the reference server (supported: StringEquals, StringNotEquals, StringLike, StringNotLike, their IfExists forms, Null and Bool)", opName)
		}
		for key, raw := range ops[opName] {
			kind, ok := policyCondKeys[d][strings.ToLower(key)]
			if !ok {
				return nil, unsupported(res, "Condition key %s is not supported by the reference server", key)
			}
			vals, ok := stringOrList(raw)
			if !ok {
				var b bool
				if json.Unmarshal(raw, &b) != nil {
					return nil, malformed(res, "Condition values of %s must be strings", key)
				}
				vals = []string{fmt.Sprint(b)}
			}
			if len(vals) == 0 {
				return nil, malformed(res, "Condition %s has no value", key)
			}
			switch {
			case op == "Null" || op == "Bool":
				for _, s := range vals {
					if !strings.EqualFold(s, "true") && !strings.EqualFold(s, "false") {
						return nil, malformed(res, "%s values of %s must be true or false", op, key)
					}
				}
				if op == "Bool" && kind != condKindSecure {
					return nil, malformed(res, "Bool cannot be used with %s", key)
				}
			case kind == condKindSecure:
				return nil, malformed(res, "%s can be used with Bool or Null only", key)
			}
			out = append(out, policyCondition{op: op, ifExists: ifExists, key: kind, values: vals})
		}
	}
	return out, nil
}

// Denies reports whether the policy denies req. owner is the bucket's
// owner (for OSS's rule on Principal "*" without Condition).
func (p *BucketPolicy) Denies(req PolicyRequest, owner string) bool {
	if p == nil {
		return false
	}
	if p.broken {
		isPolicyOp := strings.HasSuffix(req.Op, "BucketPolicy")
		return !(isPolicyOp && (req.Principal.Name == owner || req.Principal.Name == "root"))
	}
	action := policyAction(p.Dialect, req.Op)
	resource := req.Bucket
	if req.Key != "" {
		resource += "/" + req.Key
	}
	for i := range p.stmts {
		if p.stmts[i].applies(p.Dialect, req, action, resource, owner) {
			return true
		}
	}
	return false
}

func (st *policyStatement) applies(d PolicyDialect, req PolicyRequest, action, resource, owner string) bool {
	if !anyMatch(st.actions, action) || !anyMatch(st.resources, resource) {
		return false
	}
	if !st.principalMatches(d, req.Principal.Name, owner) {
		return false
	}
	for _, c := range st.conds {
		if c.key != condKindSecure && !sseOps[req.Op] {
			return false // see the comment at the top: not this operation's key
		}
		if !c.holds(d, req) {
			return false
		}
	}
	return true
}

func (st *policyStatement) principalMatches(d PolicyDialect, name, owner string) bool {
	for _, pr := range st.principals {
		if pr == "*" {
			if d == PolicyDialectOSS && len(st.conds) == 0 && name == owner {
				continue // OSS: "*" without Condition spares the owner
			}
			return true
		}
		if pr == name || strings.HasSuffix(pr, "/"+name) || strings.HasSuffix(pr, ":"+name) {
			return true
		}
	}
	return false
}

func anyMatch(patterns []string, s string) bool {
	for _, p := range patterns {
		if globMatch(p, s) {
			return true
		}
	}
	return false
}

// value returns the request's value of a condition key, in the policy's
// dialect's spelling, and whether the request has the key.
func condValue(d PolicyDialect, kind int, req PolicyRequest) (string, bool) {
	switch kind {
	case condKindSecure:
		return fmt.Sprint(req.SecureTransport), true
	case condKindSSE:
		if req.SSEAlgorithm == "" {
			return "", false
		}
		if d == PolicyDialectS3 && req.SSEAlgorithm == AlgorithmKMS {
			return "aws:kms", true
		}
		return req.SSEAlgorithm, true
	default:
		return req.KMSKeyID, req.KMSKeyID != ""
	}
}

func (c policyCondition) holds(d PolicyDialect, req PolicyRequest) bool {
	v, present := condValue(d, c.key, req)
	switch c.op {
	case "Null":
		for _, want := range c.values {
			if strings.EqualFold(want, "true") == !present {
				return true
			}
		}
		return false
	case "Bool":
		if !present {
			return false
		}
		for _, want := range c.values {
			if strings.EqualFold(want, v) {
				return true
			}
		}
		return false
	}
	if !present {
		return c.ifExists || c.op == "StringNotEquals" || c.op == "StringNotLike"
	}
	any := false
	for _, want := range c.values {
		if (c.op == "StringEquals" || c.op == "StringNotEquals") && want == v ||
			(c.op == "StringLike" || c.op == "StringNotLike") && globMatch(want, v) {
			any = true
			break
		}
	}
	if c.op == "StringNotEquals" || c.op == "StringNotLike" {
		return !any
	}
	return any
}

// globMatch matches s against a pattern with * (any run) and ? (one
// character), as IAM's ARN and StringLike patterns do.
func globMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
