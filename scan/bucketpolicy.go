package scan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/sseaudit/sseaudit/snapshot"
)

// PolicyFacts reads a bucket policy document (S3's or OSS's JSON) for the
// facts about encryption guardrails that rules judge (snapshot.Policy),
// for bucket. It understands the guardrails AWS and Alibaba Cloud
// document:
//
//   - deny s3:PutObject / oss:PutObject when the SSE header is absent
//     ("Null": {"s3:x-amz-server-side-encryption": "true"}), or is not a
//     given value ("StringNotEquals": {...: "aws:kms"}; a negated operator
//     also matches a request without the header, so it denies those too);
//   - the same on the KMS key id header
//     (s3:x-amz-server-side-encryption-aws-kms-key-id,
//     oss:x-oss-server-side-encryption-key-id);
//   - deny every action when aws:SecureTransport / acs:SecureTransport is
//     false ("Bool");
//   - allow anyone to read objects with no condition.
//
// A fact is derived only from a statement that holds for every principal
// and every object of the bucket, with one condition operator on one key:
// anything narrower (a principal, a prefix, a NotAction, several
// conditions, which must all hold) does not make the fact true and is
// listed in Notes with the reason. The document is never judged here; a
// document that is not a policy yields ParseError and no facts.
func PolicyFacts(bucket, doc string) snapshot.Policy {
	sum := sha256.Sum256([]byte(doc))
	p := snapshot.Policy{Status: snapshot.PolicySet, Raw: doc, RawSHA256: hex.EncodeToString(sum[:])}
	if len(p.Raw) > snapshot.MaxPolicyRaw {
		n := snapshot.MaxPolicyRaw
		for n > 0 && !utf8.RuneStart(p.Raw[n]) {
			n-- // never split a character
		}
		p.Raw, p.RawTruncated = p.Raw[:n], true
	}
	var d policyDoc
	dec := json.NewDecoder(bytes.NewReader([]byte(doc)))
	if err := dec.Decode(&d); err != nil {
		p.ParseError = fmt.Sprintf("not a policy document: %v", err)
		return p
	}
	stmts, err := d.statements()
	if err != nil {
		p.ParseError = err.Error()
		return p
	}
	var sseSets, keySets [][]string // each deny's allowed values; all must hold
	for i, st := range stmts {
		name := fmt.Sprintf("statement %d", i+1)
		if st.Sid != "" {
			name += fmt.Sprintf(" (%s)", st.Sid)
		}
		f, note := st.facts(bucket)
		if note != "" {
			p.Notes = append(p.Notes, name+": "+note)
		}
		if f.denyNoSSE {
			p.DeniesUnencryptedPut = true
		}
		if f.sse != nil {
			p.DeniesUnencryptedPut = true
			sseSets = append(sseSets, f.sse)
		}
		if f.keys != nil {
			p.DeniesUnencryptedPut = true
			keySets = append(keySets, f.keys)
		}
		p.DeniesInsecureTransport = p.DeniesInsecureTransport || f.denyHTTP
		p.AllowsPublicRead = p.AllowsPublicRead || f.publicRead
	}
	if len(keySets) > 0 {
		// Naming a key implies KMS (neither service takes a key id with
		// another algorithm).
		sseSets = append(sseSets, []string{"KMS"})
	}
	if algs := intersect(sseSets); len(algs) == 1 {
		p.RequiredSSE = algs[0]
	} else if len(sseSets) > 0 && len(algs) == 0 {
		p.Notes = append(p.Notes, "the statements allow no SSE algorithm at all: every PutObject is denied")
	}
	if len(keySets) > 0 {
		p.RequiredKMSKeyIDs = intersect(keySets)
		if len(p.RequiredKMSKeyIDs) == 0 {
			p.Notes = append(p.Notes, "the statements allow no KMS key at all: every PutObject is denied")
		}
	}
	return p
}

// intersect is the values every set holds (sorted), nil for no sets.
func intersect(sets [][]string) []string {
	if len(sets) == 0 {
		return nil
	}
	out := []string{}
	for _, v := range sets[0] {
		all := true
		for _, s := range sets[1:] {
			all = all && slices.Contains(s, v)
		}
		if all && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

type policyDoc struct {
	Statement json.RawMessage `json:"Statement"`
}

// statements reads Statement: one statement or a list of them.
func (d policyDoc) statements() ([]statement, error) {
	raw := bytes.TrimSpace(d.Statement)
	if len(raw) == 0 {
		return nil, fmt.Errorf("the document has no Statement")
	}
	if raw[0] == '{' {
		var st statement
		if err := json.Unmarshal(raw, &st); err != nil {
			return nil, fmt.Errorf("the Statement member: %v", err)
		}
		return []statement{st}, nil
	}
	var sts []statement
	if err := json.Unmarshal(raw, &sts); err != nil {
		return nil, fmt.Errorf("the Statement member: %v", err)
	}
	return sts, nil
}

type statement struct {
	Sid          string                                `json:"Sid"`
	Effect       string                                `json:"Effect"`
	Principal    json.RawMessage                       `json:"Principal"`
	NotPrincipal json.RawMessage                       `json:"NotPrincipal"`
	Action       strs                                  `json:"Action"`
	NotAction    strs                                  `json:"NotAction"`
	Resource     strs                                  `json:"Resource"`
	NotResource  strs                                  `json:"NotResource"`
	Condition    map[string]map[string]json.RawMessage `json:"Condition"`
}

// strs is a string or a list of strings.
type strs []string

func (s *strs) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = strs{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("want a string or a list of strings: %s", truncateText(string(b), 60))
	}
	*s = many
	return nil
}

// condValues reads a condition value: a string, bool or number, or a
// list of them, as strings.
func condValues(raw json.RawMessage) ([]string, bool) {
	var many []any
	if err := json.Unmarshal(raw, &many); err != nil {
		var one any
		if json.Unmarshal(raw, &one) != nil {
			return nil, false
		}
		many = []any{one}
	}
	out := make([]string, 0, len(many))
	for _, v := range many {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case bool, float64:
			out = append(out, fmt.Sprint(v))
		default:
			return nil, false
		}
	}
	return out, true
}

// stmtFacts is what one statement says.
type stmtFacts struct {
	denyNoSSE  bool     // denies a PutObject without the SSE header
	sse        []string // denies a PutObject unless its SSE is one of these
	keys       []string // denies a PutObject unless its KMS key id is one of these
	denyHTTP   bool     // denies every request without TLS
	publicRead bool     // allows anyone to read objects
}

// Condition keys, lower-cased (AWS and OSS compare them case-insensitively).
var (
	sseKeys = map[string]bool{"s3:x-amz-server-side-encryption": true, "oss:x-oss-server-side-encryption": true,
		"acs:x-oss-server-side-encryption": true}
	keyIDKeys = map[string]bool{"s3:x-amz-server-side-encryption-aws-kms-key-id": true,
		"oss:x-oss-server-side-encryption-key-id": true, "acs:x-oss-server-side-encryption-key-id": true}
	tlsKeys = map[string]bool{"aws:securetransport": true, "acs:securetransport": true}
)

func (st statement) facts(bucket string) (stmtFacts, string) {
	var f stmtFacts
	effect := strings.ToLower(st.Effect)
	put := st.actionCovers("putobject")
	switch {
	case effect != "deny" && effect != "allow":
		return f, fmt.Sprintf("Effect %q is neither Allow nor Deny: ignored", st.Effect)
	case len(st.NotPrincipal) > 0 || len(st.NotAction) > 0 || len(st.NotResource) > 0:
		return f, "NotPrincipal, NotAction or NotResource: not counted"
	}
	everyone := st.everyone()
	objects := st.coversObjects(bucket)
	if effect == "allow" {
		if everyone && objects && st.actionCovers("getobject") {
			if len(st.Condition) > 0 {
				return f, "allows anyone to read objects under a condition (a network, a VPC, TLS...): not counted as public"
			}
			f.publicRead = true
		}
		return f, ""
	}
	// A deny: which condition key, with which operator and values.
	if len(st.Condition) != 1 {
		if len(st.Condition) > 1 && (put || st.actionCovers("*")) {
			return f, "several condition operators, which must all hold: not counted"
		}
		return f, ""
	}
	var op, key string
	var vals []string
	for o, kv := range st.Condition {
		if len(kv) != 1 {
			return f, fmt.Sprintf("condition %s tests %d keys, which must all hold: not counted", o, len(kv))
		}
		for k, raw := range kv {
			v, ok := condValues(raw)
			if !ok {
				return f, fmt.Sprintf("condition %s %s: values not understood: not counted", o, k)
			}
			op, key, vals = o, strings.ToLower(k), v
		}
	}
	relevant := sseKeys[key] || keyIDKeys[key] || tlsKeys[key]
	if !relevant {
		return f, ""
	}
	var narrow []string
	if !everyone {
		narrow = append(narrow, "it applies to some principals only")
	}
	if !objects {
		narrow = append(narrow, "its resources are not every object of bucket "+bucket)
	}
	if tlsKeys[key] {
		if !st.actionCovers("*") {
			narrow = append(narrow, "it denies some actions only")
		}
		if !strings.EqualFold(op, "Bool") || len(vals) != 1 || !strings.EqualFold(vals[0], "false") {
			return f, fmt.Sprintf("condition %s %s %v is not the insecure-transport deny (Bool false): not counted", op, key, vals)
		}
		if len(narrow) > 0 {
			return f, "insecure-transport deny not counted: " + strings.Join(narrow, "; ")
		}
		f.denyHTTP = true
		return f, ""
	}
	if !put {
		return f, fmt.Sprintf("condition on %s but the actions do not include PutObject: not counted", key)
	}
	if len(narrow) > 0 {
		return f, "encryption deny not counted: " + strings.Join(narrow, "; ")
	}
	// With IfExists a request without the key matches too, as with the
	// negated operators: for a deny, the same.
	switch strings.TrimSuffix(strings.ToLower(op), "ifexists") {
	case "null":
		if len(vals) == 1 && strings.EqualFold(vals[0], "true") {
			f.denyNoSSE = true // the header (or key id) is absent
			if keyIDKeys[key] {
				// No key id without KMS: KMS is required, with any key.
				f.sse = []string{"KMS"}
			}
			return f, ""
		}
		return f, fmt.Sprintf("condition Null %s %v does not deny absent headers: not counted", key, vals)
	case "stringnotequals", "stringnotequalsignorecase", "stringnotlike":
		if sseKeys[key] {
			if strings.HasPrefix(strings.ToLower(op), "stringnotlike") {
				f.sse = expandSSEPatterns(vals)
			} else {
				f.sse = []string{}
				for _, v := range vals {
					f.sse = append(f.sse, normaliseSSE(v))
				}
			}
			return f, ""
		}
		f.keys = vals
		return f, ""
	}
	return f, fmt.Sprintf("condition operator %s on %s not understood: not counted", op, key)
}

// normaliseSSE maps a policy's SSE value to this tool's vocabulary
// ("aws:kms" is KMS).
func normaliseSSE(v string) string {
	switch strings.ToLower(v) {
	case "aws:kms", "kms":
		return "KMS"
	case "aes256":
		return "AES256"
	}
	return v
}

// expandSSEPatterns turns StringNotLike patterns into the algorithms they
// let through.
func expandSSEPatterns(patterns []string) []string {
	var out []string
	for _, a := range []string{"AES256", "aws:kms", "KMS", "SM4"} {
		for _, p := range patterns {
			if ok, _ := path.Match(p, a); ok && !slices.Contains(out, normaliseSSE(a)) {
				out = append(out, normaliseSSE(a))
			}
		}
	}
	return out
}

// everyone: the statement's principal is everyone ("*", {"AWS": "*"},
// ["*"]).
func (st statement) everyone() bool {
	raw := bytes.TrimSpace(st.Principal)
	if len(raw) == 0 {
		return false
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one == "*"
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return slices.Contains(list, "*")
	}
	var m map[string]strs
	if json.Unmarshal(raw, &m) == nil {
		for _, v := range m {
			if slices.Contains(v, "*") {
				return true
			}
		}
	}
	return false
}

// actionCovers: the actions include the object action act (lower case,
// "*" for every action) in the s3: or oss: namespace.
func (st statement) actionCovers(act string) bool {
	for _, a := range st.Action {
		a = strings.ToLower(a)
		if a == "*" {
			return true
		}
		svc, name, ok := strings.Cut(a, ":")
		if !ok || (svc != "s3" && svc != "oss") {
			continue
		}
		if name == "*" {
			return true
		}
		if act != "*" {
			if ok, _ := path.Match(name, act); ok {
				return true
			}
		}
	}
	return false
}

// coversObjects: the resources include every object of bucket
// (arn:aws:s3:::bucket/*, acs:oss:*:*:bucket/*, "*", any pattern whose
// wildcards take in every key of the bucket).
func (st statement) coversObjects(bucket string) bool {
	for _, r := range st.Resource {
		if r == "*" {
			return true
		}
		var rest string
		switch {
		case strings.HasPrefix(r, "arn:aws:s3:::"):
			rest = strings.TrimPrefix(r, "arn:aws:s3:::")
		case strings.HasPrefix(r, "acs:oss:"):
			// acs:oss:REGION:ACCOUNT:bucket/key
			parts := strings.SplitN(r, ":", 5)
			if len(parts) != 5 {
				continue
			}
			rest = parts[4]
		default:
			continue
		}
		// Every key: the pattern ends with "*" (which, in ARNs, also
		// matches "/") and what comes before it matches the start of
		// "bucket/".
		q, ok := strings.CutSuffix(rest, "*")
		if !ok {
			continue
		}
		full := bucket + "/"
		for i := 0; i <= len(full); i++ {
			if arnMatch(q, full[:i]) {
				return true
			}
		}
	}
	return false
}

// arnMatch matches s against an ARN pattern: "*" any run of characters
// ("/" included), "?" one character.
func arnMatch(p, s string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if arnMatch(p[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
		default:
			if s == "" || s[0] != p[0] {
				return false
			}
		}
		p, s = p[1:], s[1:]
	}
	return s == ""
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
