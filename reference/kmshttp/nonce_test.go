package kmshttp

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	kmssdk "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/sseaudit/sseaudit/kmsclient"
	"github.com/sseaudit/sseaudit/reference/auth"
	"github.com/sseaudit/sseaudit/reference/clock"
	"github.com/sseaudit/sseaudit/reference/kms"
)

func TestNonceCache(t *testing.T) {
	c := newNonceCache(2)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	exp := t0.Add(15 * time.Minute)
	steps := []struct {
		ak, nonce string
		now       time.Time
		want      nonceResult
	}{
		{"a", "n1", t0, nonceFresh},
		{"a", "n1", t0.Add(time.Minute), nonceReplayed},
		{"b", "n1", t0, nonceFresh},                      // nonces are per access key
		{"a", "n2", t0, nonceFresh},                      // a's quota is 2
		{"a", "n3", t0, nonceFull},                       // bounded: refuse rather than forget
		{"b", "n2", t0, nonceFresh},                      // a full quota of a does not touch b's
		{"c", "n9", t0, nonceFresh},                      // nor a new key's
		{"a", "n1", exp, nonceFresh},                     // n1 and n2 expired: dropped
		{"a", "n1", exp.Add(time.Second), nonceReplayed}, // and the new n1 is remembered
		{"a", "n3", exp.Add(time.Second), nonceFresh},    // n2's slot is free again
		{"a", "n4", exp.Add(2 * time.Second), nonceFull}, // still bounded
		{"a", "n3", exp.Add(3 * time.Second), nonceReplayed},
	}
	for i, s := range steps {
		if got := c.use(s.ak, s.nonce, s.now.Add(15*time.Minute), s.now); got != s.want {
			t.Fatalf("step %d (%s/%s): got %d, want %d", i, s.ak, s.nonce, got, s.want)
		}
	}
}

// TestNonceCacheExpiresWithTheRequestsWindow: an entry lives until its own
// request's timestamp leaves the window, whatever the order of arrival, so
// one signed ahead outlives ones that arrived later but were signed closer
// to now, and each expiry frees a slot of the quota exactly then.
func TestNonceCacheExpiresWithTheRequestsWindow(t *testing.T) {
	const window = 15 * time.Minute
	c := newNonceCache(3)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	steps := []struct {
		nonce  string
		signed time.Duration // request timestamp, from now
		at     time.Duration // arrival, from now
		want   nonceResult
	}{
		{"ahead", 14 * time.Minute, 0, nonceFresh},   // live until +29m
		{"now", 0, 0, nonceFresh},                    // until +15m
		{"behind", -14 * time.Minute, 0, nonceFresh}, // until +1m
		{"x", time.Minute, time.Minute - time.Nanosecond, nonceFull},
		{"x", time.Minute, time.Minute, nonceFresh}, // "behind" expired; x until +16m
		{"y", 15 * time.Minute, time.Minute, nonceFull},
		{"y", 15 * time.Minute, 15 * time.Minute, nonceFresh}, // "now" expired
		{"z", 16 * time.Minute, 16 * time.Minute, nonceFresh}, // x expired
		{"ahead", 14 * time.Minute, 16 * time.Minute, nonceReplayed},
		{"ahead", 14 * time.Minute, 29*time.Minute - time.Nanosecond, nonceReplayed},
		{"ahead", 29 * time.Minute, 29 * time.Minute, nonceFresh},
	}
	for i, s := range steps {
		if got := c.use("a", s.nonce, now.Add(s.signed+window), now.Add(s.at)); got != s.want {
			t.Fatalf("step %d (%s signed %+v, at %+v): got %d, want %d", i, s.nonce, s.signed, s.at, got, s.want)
		}
	}
}

// TestNonceFloodLocksOutOnlyTheFlooder is the case: a principal
// fills its nonce quota with requests signed 14 minutes ahead (nonces that
// stay live for 29 minutes). Before, the cache was shared and root got 400
// Throttling for those 29 minutes; now only the flooder is refused (429
// Rejected.Throttling), root works at once, and the flooder works again
// when its own entries expire.
func TestNonceFloodLocksOutOnlyTheFlooder(t *testing.T) {
	const quota = 64
	now := time.Now().UTC()
	root := auth.Credential{AccessKeyID: "LTAIROOTACCESSKEY1", AccessKeySecret: "root-secret-0123456789", Principal: "root"}
	mallory := auth.Credential{AccessKeyID: "LTAIMALLORYKEY0001", AccessKeySecret: "mallory-secret-012345", Principal: "mallory"}
	emu, err := kms.New(kms.Config{Clock: clock.NewFake(now)})
	if err != nil {
		t.Fatal(err)
	}
	creds, err := auth.NewStore(root, mallory)
	if err != nil {
		t.Fatal(err)
	}
	srvClock := clock.NewFake(now)
	h, err := NewHandler(Config{Emulator: emu, Region: testRegion, Credentials: creds, Clock: srvClock,
		Logger: slog.New(slog.DiscardHandler), MaxNoncesPerKey: quota})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	// send is one ListKeys by mallory signed at signed; it returns the
	// status and the error code ("" on success).
	send := func(signed time.Time) (int, string) {
		t.Helper()
		q := rpcQuery("GET", map[string]string{"Action": "ListKeys", "AccessKeyId": mallory.AccessKeyID}, mallory.AccessKeySecret, signed)
		resp, err := srv.Client().Get(srv.URL + "/?" + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct{ Code string }
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body.Code
	}
	// Timestamps outside the 15-minute window are refused before their
	// nonce is looked at, so they take none of the quota.
	for i := range quota + 5 {
		if status, code := send(now.Add(16 * time.Minute)); status != http.StatusBadRequest || code != CodeTimestampExpired {
			t.Fatalf("request %d signed 16 minutes ahead: %d %s, want 400 %s", i, status, code, CodeTimestampExpired)
		}
	}
	ahead := now.Add(14 * time.Minute)
	for i := range quota {
		// Whatever KMS authorization answers (ListKeys may be refused to
		// mallory), the nonce was recorded: freshness comes first.
		if status, code := send(ahead); code == CodeRejectedThrottling || code == CodeNonceUsed {
			t.Fatalf("flood request %d refused early: %d %s", i, status, code)
		}
	}
	// Root, through the official SDK, right away.
	c, err := kmsclient.New(srv.URL, testRegion, root.AccessKeyID, root.AccessKeySecret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListKeys(&kmssdk.ListKeysRequest{PageSize: tea.Int32(10)}); err != nil {
		t.Fatalf("root locked out by another principal's flood: %v", err)
	}

	if status, code := send(ahead); status != http.StatusTooManyRequests || code != CodeRejectedThrottling {
		t.Fatalf("request over the quota: %d %s, want 429 %s", status, code, CodeRejectedThrottling)
	}
	if status, code := send(now); code != CodeRejectedThrottling {
		t.Fatalf("the flooder signing at the current time: %d %s, want its own quota still full", status, code)
	}

	// The flooder's entries expire with their own window: 14m ahead + 15m.
	srvClock.Set(now.Add(29*time.Minute - time.Second))
	if _, code := send(srvClock.Now()); code != CodeRejectedThrottling {
		t.Fatalf("before the flood's window ends: %s, want still throttled", code)
	}
	srvClock.Set(now.Add(29*time.Minute + time.Second))
	if status, code := send(srvClock.Now()); code == CodeRejectedThrottling {
		t.Fatalf("after the flood's window ended: %d %s, want the quota free again", status, code)
	}
}
