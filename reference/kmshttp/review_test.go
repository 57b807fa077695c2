package kmshttp

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestReplayAtSkewBoundary replays a signed request at the last instant its
// timestamp is still accepted (exactly MaxSkew after it): the nonce must
// still be remembered then.
func TestReplayAtSkewBoundary(t *testing.T) {
	f := newFixture(t)
	ts := f.srvClock.Now().Truncate(time.Second)
	f.srvClock.Set(ts)
	target := "/?" + rpcQuery("GET", map[string]string{"Action": "ListKeys"}, testCred.AccessKeySecret, ts)
	if got := f.do("GET", target, nil, nil); got.status != 200 {
		t.Fatalf("first request: %d %v", got.status, got.body)
	}
	for _, at := range []time.Duration{time.Minute, DefaultMaxSkew - time.Nanosecond, DefaultMaxSkew} {
		f.srvClock.Set(ts.Add(at))
		if got := f.do("GET", target, nil, nil); got.code() != CodeNonceUsed {
			t.Fatalf("replay %v after the timestamp answered %d %v", at, got.status, got.body)
		}
	}
	f.srvClock.Set(ts.Add(DefaultMaxSkew + time.Nanosecond))
	if got := f.do("GET", target, nil, nil); got.code() != CodeTimestampExpired {
		t.Fatalf("late replay answered %d %v", got.status, got.body)
	}
}

// TestACS3QueryKeyCannotMergeParameters: the ACS3 canonical query writes
// parameter names unescaped, so a name holding '=' or '&' would let one
// signed query ("A=1&B=2") be re-sent as another ({"A=1&B": "2"}) with
// the same signature, silently dropping parameters. Such names must be
// refused before any action runs.
func TestACS3QueryKeyCannotMergeParameters(t *testing.T) {
	f := newFixture(t)
	now := f.srvClock.Now()
	host := strings.TrimPrefix(f.srv.URL, "http://")
	sign := func(action, nonce string, query map[string]string, rawQuery string) http.Header {
		sum := sha256.Sum256(nil)
		h := map[string]string{
			"host": host, "x-acs-action": action, "x-acs-version": APIVersion,
			"x-acs-date": now.UTC().Format(timestampLayout), "x-acs-signature-nonce": nonce,
			"x-acs-content-sha256": hex.EncodeToString(sum[:]),
		}
		names := []string{"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"}
		values := map[string][]string{}
		hdr := http.Header{}
		for _, n := range names {
			values[n] = []string{h[n]}
			hdr.Set(n, h[n])
		}
		sig := acs3Sign(acs3StringToSign("GET", "/", query, names, values, h["x-acs-content-sha256"]), testCred.AccessKeySecret)
		hdr.Set("Authorization", schemeACS3+" Credential="+testCred.AccessKeyID+",SignedHeaders="+strings.Join(names, ";")+",Signature="+sig)
		return hdr
	}
	// What the client signed: Description and EnableAutomaticRotation...
	signedQuery := map[string]string{"Description": "d", "EnableAutomaticRotation": "true", "RotationInterval": "7d"}
	hdr := sign("CreateKey", "merge-1", signedQuery, "")
	// ...re-sent with "Description=d&EnableAutomaticRotation" as one name.
	forged := url.QueryEscape("Description=d&EnableAutomaticRotation") + "=true&RotationInterval=7d"
	if acs3CanonicalQuery(map[string]string{"Description=d&EnableAutomaticRotation": "true", "RotationInterval": "7d"}) != acs3CanonicalQuery(signedQuery) {
		t.Fatal("test premise: the canonical queries should collide")
	}
	got := f.do("GET", "/?"+forged, hdr, nil)
	if got.status == 200 {
		t.Fatalf("a query whose parameters were merged under the original signature was served: %v", got.body)
	}
	if got.code() != CodeIncompleteSignature && got.code() != CodeInvalidParameter {
		t.Fatalf("got %d %v", got.status, got.body)
	}
	// The genuine request still works.
	hdr = sign("CreateKey", "merge-2", signedQuery, "")
	q := url.Values{}
	for k, v := range signedQuery {
		q.Set(k, v)
	}
	if got := f.do("GET", "/?"+q.Encode(), hdr, nil); got.status != 200 {
		t.Fatalf("genuine request: %d %v", got.status, got.body)
	}
}

// TestNumberOfBytesZeroRefused: NumberOfBytes is 1..1024 when given; an
// explicit 0 (the SDK sends tea.Int32(0) as "NumberOfBytes=0") must be
// refused, not read as "absent" and answered with a 32-byte key.
func TestNumberOfBytesZeroRefused(t *testing.T) {
	f := newFixture(t)
	now := f.srvClock.Now()
	for _, action := range []string{"GenerateDataKey", "GenerateDataKeyWithoutPlaintext"} {
		for _, n := range []string{"0", "-0", "+0", "1025"} {
			target := "/?" + rpcQuery("GET", map[string]string{"Action": action, "KeyId": "alias/acs/oss", "NumberOfBytes": n}, testCred.AccessKeySecret, now)
			got := f.do("GET", target, nil, nil)
			if got.status != 400 || got.code() != CodeInvalidParameter {
				t.Errorf("%s NumberOfBytes=%s: got %d %v, want 400 InvalidParameter", action, n, got.status, got.body)
			}
		}
	}
}
