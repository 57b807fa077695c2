package s3http

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

// Browser-based uploads: POST Object with a form signed by a policy
// (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTForms.html).
// The form carries what headers carry on a PUT, SSE included
// (x-amz-server-side-encryption, -aws-kms-key-id), so a form upload is
// encrypted exactly as a PUT with the same fields would be. The request has
// no Authorization header: its signature is over the base64 policy, and
// the policy's conditions bind every form field, so a field the signer did
// not allow (say, a different encryption) is refused.

// maxPostFields bounds the form fields before the file, as S3 does.
const maxPostFields = 1 << 20

// postPeek is how much of a form body IsS3Request reads to tell an S3 form
// from an OSS one; the signature fields precede the file.
const postPeek = 64 << 10

// isFormPost reports a POST of multipart/form-data without Authorization.
func isFormPost(r *http.Request) bool {
	if r.Method != http.MethodPost || r.Header.Get("Authorization") != "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

// peekS3Form reports whether a form POST is signed the S3 way; it puts
// what it read back in front of the body.
func peekS3Form(r *http.Request) bool {
	if r.Body == nil {
		return false
	}
	br := bufio.NewReaderSize(r.Body, postPeek)
	head, _ := br.Peek(postPeek)
	r.Body = struct {
		io.Reader
		io.Closer
	}{br, r.Body}
	low := bytes.ToLower(head)
	for _, f := range []string{`name="x-amz-signature"`, `name="awsaccesskeyid"`, `name="x-amz-credential"`} {
		if bytes.Contains(low, []byte(f)) {
			return true
		}
	}
	return false
}

// postForm is the form fields (names lower-cased) and the file part.
type postForm struct {
	fields   map[string]string
	file     *multipart.Part
	filename string
}

func readPostForm(r *http.Request) (*postForm, *apiError) {
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		return nil, newErr(http.StatusBadRequest, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.")
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	f := &postForm{fields: map[string]string{}}
	budget := int64(maxPostFields)
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, errInvalidArgument("POST requires exactly one file upload per request.")
		}
		if err != nil {
			return nil, newErr(http.StatusBadRequest, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.")
		}
		name := strings.ToLower(p.FormName())
		if name == "" {
			return nil, newErr(http.StatusBadRequest, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data: a part has no field name.")
		}
		if name == "file" {
			f.file, f.filename = p, p.FileName()
			return f, nil // S3 ignores fields after the file
		}
		v, err := io.ReadAll(io.LimitReader(p, budget+1))
		if err != nil {
			return nil, newErr(http.StatusBadRequest, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.")
		}
		if budget -= int64(len(v)); budget < 0 {
			return nil, newErr(http.StatusBadRequest, "MaxPostPreDataLengthExceeded", "Your POST request fields preceding the upload file were too large.")
		}
		if _, dup := f.fields[name]; dup {
			return nil, errInvalidArgument("POST form field %q appears more than once", truncate(name, 64))
		}
		f.fields[name] = string(v)
	}
}

// verifyPostSignature checks the form's signature over the policy: SigV4
// (x-amz-algorithm, -credential, -date, -signature) or SigV2
// (AWSAccessKeyId, signature).
func (h *handler) verifyPostSignature(f *postForm) (*authResult, *apiError) {
	policy := f.fields["policy"]
	switch {
	case f.fields["x-amz-signature"] != "":
		if alg := f.fields["x-amz-algorithm"]; alg != signV4Algorithm {
			return nil, errInvalidArgument("x-amz-algorithm must be %s, not %q", signV4Algorithm, truncate(alg, 32))
		}
		c, ok := parseCredential(f.fields["x-amz-credential"])
		if !ok {
			return nil, errInvalidArgument("x-amz-credential is malformed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"")
		}
		t, err := time.Parse(iso8601Format, f.fields["x-amz-date"])
		if err != nil {
			return nil, errInvalidArgument("x-amz-date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
		}
		if aerr := h.checkScope(c, t, errInvalidArgument); aerr != nil {
			return nil, aerr
		}
		cred, ok := h.cfg.Credentials.Lookup(c.AccessKeyID)
		if !ok {
			return nil, errInvalidAccessKey(c.AccessKeyID)
		}
		if policy == "" {
			return nil, errInvalidArgument("Bucket POST must contain a field named 'policy'.")
		}
		m := hmac.New(sha256.New, signingKey(cred.AccessKeySecret, c))
		m.Write([]byte(policy))
		want := hex.EncodeToString(m.Sum(nil))
		if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(f.fields["x-amz-signature"]))) != 1 {
			return nil, errSignatureMismatch(c.AccessKeyID, policy, f.fields["x-amz-signature"])
		}
		return &authResult{cred: cred, mode: payloadUnsigned}, nil
	case f.fields["awsaccesskeyid"] != "":
		ak := f.fields["awsaccesskeyid"]
		cred, ok := h.cfg.Credentials.Lookup(ak)
		if !ok {
			return nil, errInvalidAccessKey(ak)
		}
		if policy == "" {
			return nil, errInvalidArgument("Bucket POST must contain a field named 'policy'.")
		}
		m := hmac.New(sha1.New, []byte(cred.AccessKeySecret))
		m.Write([]byte(policy))
		got, err := base64.StdEncoding.DecodeString(f.fields["signature"])
		if err != nil || !hmac.Equal(m.Sum(nil), got) {
			return nil, errSignatureMismatch(ak, policy, f.fields["signature"])
		}
		return &authResult{cred: cred, mode: payloadUnsigned}, nil
	}
	return nil, errAccessDenied("Anonymous POST uploads are not allowed: sign the form's policy")
}

// postPolicy is the decoded policy document.
type postPolicy struct {
	Expiration string
	Conditions []json.RawMessage
}

// decodePostPolicy reads the policy document. Its element names are
// case-sensitive, as on S3 ("EXPIRATION" or "CONDITIONS" is no policy
// element, so a document spelling them so lacks one: 400), unlike the
// condition operators and form field names inside, which S3 matches
// case-insensitively. encoding/json would match struct fields ignoring
// case, so the document is read as a map.
func decodePostPolicy(doc []byte) (postPolicy, *apiError) {
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || m == nil {
		msg := "not an object"
		if err != nil {
			msg = err.Error()
		}
		return postPolicy{}, errInvalidArgument("The policy is not a valid JSON document: %s", truncate(msg, 128))
	}
	var p postPolicy
	exp, ok := m["expiration"]
	if !ok {
		return p, errInvalidArgument("Invalid Policy: Policy missing expiration (the element name is \"expiration\", in lower case).")
	}
	if json.Unmarshal(exp, &p.Expiration) != nil {
		return p, errInvalidArgument("Invalid Policy: the expiration is not a string.")
	}
	conds, ok := m["conditions"]
	if !ok {
		return p, errInvalidArgument("Invalid Policy: Policy missing conditions (the element name is \"conditions\", in lower case).")
	}
	if json.Unmarshal(conds, &p.Conditions) != nil {
		return p, errInvalidArgument("Invalid Policy: conditions must be a list.")
	}
	return p, nil
}

// postExempt are the fields a policy need not mention.
func postExempt(name string) bool {
	switch name {
	case "policy", "x-amz-signature", "signature", "awsaccesskeyid", "file":
		return true
	}
	return strings.HasPrefix(name, "x-ignore-")
}

// checkPolicy evaluates the policy against the form's values ("bucket" is
// the URL's bucket). It
// returns the content-length-range, max < 0 when there is none.
func checkPolicy(raw string, vals map[string]string, now time.Time) (minLen, maxLen int64, aerr *apiError) {
	deny := func(format string, args ...any) *apiError {
		return errAccessDenied("Invalid according to Policy: " + fmt.Sprintf(format, args...))
	}
	doc, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return 0, 0, errInvalidArgument("The policy is not valid base64.")
	}
	p, aerr := decodePostPolicy(doc)
	if aerr != nil {
		return 0, 0, aerr
	}
	exp, err := time.Parse(time.RFC3339Nano, p.Expiration)
	if err != nil {
		return 0, 0, errInvalidArgument("The policy's expiration %q is not an ISO 8601 date-time", truncate(p.Expiration, 64))
	}
	if !now.Before(exp) {
		return 0, 0, deny("Policy expired.")
	}
	covered := map[string]bool{}
	maxLen = -1
	match := func(op, field, want string) *apiError {
		field = strings.ToLower(strings.TrimPrefix(field, "$"))
		covered[field] = true
		got := vals[field]
		ok := false
		switch op {
		case "eq":
			ok = got == want
		case "starts-with":
			if field == "content-type" { // a comma-separated list of types
				ok = true
				for _, v := range strings.Split(got, ",") {
					ok = ok && strings.HasPrefix(strings.TrimSpace(v), want)
				}
			} else {
				ok = strings.HasPrefix(got, want)
			}
		default:
			return errInvalidArgument("Invalid Policy: unknown condition operator %q", truncate(op, 32))
		}
		if !ok {
			// Unquoted, as MinIO words it: XML would escape the quotes.
			return deny("Policy Condition failed: [%s, $%s, %s]", op, field, want)
		}
		return nil
	}
	for _, c := range p.Conditions {
		var obj map[string]string
		if json.Unmarshal(c, &obj) == nil {
			for k, v := range obj {
				if aerr := match("eq", k, v); aerr != nil {
					return 0, 0, aerr
				}
			}
			continue
		}
		var arr []json.RawMessage
		if json.Unmarshal(c, &arr) != nil || len(arr) != 3 {
			return 0, 0, errInvalidArgument("Invalid Policy: a condition is neither an object nor a three-element array")
		}
		var op string
		if json.Unmarshal(arr[0], &op) != nil {
			return 0, 0, errInvalidArgument("Invalid Policy: a condition's operator is not a string")
		}
		if strings.EqualFold(op, "content-length-range") {
			lo, e1 := strconv.ParseInt(strings.Trim(string(arr[1]), `"`), 10, 64)
			hi, e2 := strconv.ParseInt(strings.Trim(string(arr[2]), `"`), 10, 64)
			if e1 != nil || e2 != nil || lo < 0 || hi < lo {
				return 0, 0, errInvalidArgument("Invalid Policy: content-length-range needs two integers, min <= max")
			}
			minLen, maxLen = lo, hi
			continue
		}
		var field, want string
		if json.Unmarshal(arr[1], &field) != nil || json.Unmarshal(arr[2], &want) != nil || !strings.HasPrefix(field, "$") {
			return 0, 0, errInvalidArgument("Invalid Policy: a condition must be [operator, \"$field\", \"value\"]")
		}
		if aerr := match(strings.ToLower(op), field, want); aerr != nil {
			return 0, 0, aerr
		}
	}
	for name := range vals {
		if name != "bucket" && !postExempt(name) && !covered[name] {
			return 0, 0, deny("Extra input fields: %s", truncate(name, 64))
		}
	}
	return minLen, maxLen, nil
}

var (
	errPostTooSmall = newErr(http.StatusBadRequest, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size")
	errPostTooLarge = newErr(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
)

// rangeReader fails the upload as soon as it passes max, and at EOF when
// it is under min, so the store never commits an object outside the range.
type rangeReader struct {
	r        io.Reader
	n        int64
	min, max int64
	err      *apiError
}

func (rr *rangeReader) Read(p []byte) (int, error) {
	n, err := rr.r.Read(p)
	rr.n += int64(n)
	if rr.max >= 0 && rr.n > rr.max {
		rr.err = errPostTooLarge
		return 0, rr.err
	}
	if errors.Is(err, io.EOF) && rr.n < rr.min {
		rr.err = errPostTooSmall
		return n, rr.err
	}
	return n, err
}

// postObject serves POST /bucket with a signed form.
func (h *handler) postObject(rc *reqCtx) {
	f, aerr := readPostForm(rc.r)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	a, aerr := h.verifyPostSignature(f)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	rc.auth, rc.p = a, objstore.Principal{Name: a.cred.Principal}
	key := f.fields["key"]
	if key == "" {
		rc.fail(errInvalidArgument("Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields."))
		return
	}
	// Conditions apply to the key field as sent, before ${filename} is
	// replaced (minio-go signs "eq $key prefix/${filename}").
	// "bucket" is always the URL's: a form field of that name (minio-go
	// sends one) must not satisfy the policy's bucket condition for a form
	// posted to another bucket.
	vals := map[string]string{}
	for k, v := range f.fields {
		vals[k] = v
	}
	vals["bucket"] = rc.bucket
	key = strings.ReplaceAll(key, "${filename}", f.filename)
	minLen, maxLen, aerr := checkPolicy(f.fields["policy"], vals, h.cfg.Clock.Now())
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	// The form's fields become the headers of an equivalent PUT, so SSE,
	// metadata, storage class and checksums are handled exactly as there.
	hdr := http.Header{}
	for k, v := range f.fields {
		switch {
		case strings.HasPrefix(k, "x-amz-meta-"), strings.HasPrefix(k, "x-amz-server-side-encryption"),
			strings.HasPrefix(k, "x-amz-checksum-"), k == "x-amz-storage-class",
			k == "content-type", k == "cache-control", k == "content-disposition", k == "content-encoding",
			k == "content-language", k == "expires":
			hdr.Set(k, v)
		case k == "acl":
			hdr.Set(hACL, v) // the form's canned ACL, as x-amz-acl on PUT
		}
	}
	// As on PUT (serve checks the headers before routing, which a form
	// skips): an unknown checksum algorithm is refused, never ignored.
	if aerr := checkChecksumHeaders(hdr); aerr != nil {
		rc.fail(aerr)
		return
	}
	r2 := rc.r.Clone(rc.ctx)
	r2.Header, r2.ContentLength = hdr, -1
	// The bucket policy sees the form's encryption fields as a PUT's
	// headers: a guardrail cannot be bypassed by posting a form.
	rc.key = key
	if aerr := h.policyCheck(rc, "PostObject", hdr.Get("X-Amz-Server-Side-Encryption"),
		hdr.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id")); aerr != nil {
		rc.fail(aerr)
		return
	}
	rr := &rangeReader{r: f.file, min: minLen, max: maxLen}
	r2.Body = io.NopCloser(rr)
	rc.r, rc.key = r2, key

	info, ok := h.storePut(rc, false, func() *apiError { return rr.err })
	if !ok {
		return
	}
	scheme := "http"
	if rc.r.TLS != nil {
		scheme = "https"
	}
	location := scheme + "://" + rc.r.Host + "/" + rc.bucket + "/" + uriEncode(key, false)
	if h.hostBucket(rc.r) != "" {
		location = scheme + "://" + rc.r.Host + "/" + uriEncode(key, false)
	}
	hd := rc.w.Header()
	hd.Set("ETag", quoteETag(info.ETag))
	hd.Set("Location", location)
	h.setSSEHeaders(hd, info.SSE)
	if _, ck, _ := parseSSEOrCustomer(hdr); ck != nil {
		echoCustomerKey(hd, info.SSE, ck)
	}
	setChecksumHeaders(hd, info.Checksum)
	setVersionHeader(hd, info.VersionID)
	if redirect := f.fields["success_action_redirect"]; redirect != "" {
		if u, err := url.Parse(redirect); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
			q := u.Query()
			q.Set("bucket", rc.bucket)
			q.Set("key", key)
			q.Set("etag", quoteETag(info.ETag))
			u.RawQuery = q.Encode()
			hd.Set("Location", u.String())
			rc.w.WriteHeader(http.StatusSeeOther)
			return
		}
	}
	switch f.fields["success_action_status"] {
	case "200":
		hd.Set("Content-Length", "0")
		rc.w.WriteHeader(http.StatusOK)
	case "201":
		out, _ := xml.Marshal(struct {
			XMLName  xml.Name `xml:"PostResponse"`
			Location string   `xml:"Location"`
			Bucket   string   `xml:"Bucket"`
			Key      string   `xml:"Key"`
			ETag     string   `xml:"ETag"`
		}{Location: location, Bucket: rc.bucket, Key: key, ETag: quoteETag(info.ETag)})
		out = append([]byte(xml.Header), out...)
		hd.Set("Content-Type", "application/xml")
		hd.Set("Content-Length", strconv.Itoa(len(out)))
		rc.w.WriteHeader(http.StatusCreated)
		rc.w.Write(out)
	default:
		rc.w.WriteHeader(http.StatusNoContent)
	}
}
