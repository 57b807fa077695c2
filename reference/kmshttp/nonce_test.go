package kmshttp

import (
	"testing"
	"time"
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
		{"a", "n2", t0, nonceFull},                       // bounded: refuse rather than forget
		{"a", "n1", exp, nonceFresh},                     // expired entries are swept
		{"a", "n1", exp.Add(time.Second), nonceReplayed}, // and the new one is remembered
		{"a", "n3", exp.Add(time.Second), nonceFresh},    // the swept slot is free again
		{"a", "n4", exp.Add(2 * time.Second), nonceFull}, // still bounded
		{"a", "n3", exp.Add(3 * time.Second), nonceReplayed},
	}
	for i, s := range steps {
		if got := c.use(s.ak, s.nonce, s.now.Add(15*time.Minute), s.now); got != s.want {
			t.Fatalf("step %d (%s/%s): got %d, want %d", i, s.ak, s.nonce, got, s.want)
		}
	}
}
