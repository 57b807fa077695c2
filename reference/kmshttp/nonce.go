package kmshttp

import (
	"crypto/sha256"
	"sync"
	"time"
)

type nonceResult int

const (
	nonceFresh nonceResult = iota
	nonceReplayed
	nonceFull
)

// nonceCache remembers the SignatureNonces of accepted requests until their
// timestamp leaves the skew window (after that the timestamp check refuses a
// replay on its own). It is bounded: when max nonces are live, new requests
// are refused rather than forgetting a nonce early, which would reopen the
// replay window. Keys are SHA-256 digests, so memory per entry is fixed
// whatever the nonce length.
type nonceCache struct {
	mu        sync.Mutex
	max       int
	seen      map[[sha256.Size]byte]time.Time // digest → expiry
	nextSweep time.Time
}

func newNonceCache(max int) *nonceCache {
	return &nonceCache{max: max, seen: make(map[[sha256.Size]byte]time.Time)}
}

// sweepEvery bounds how often use scans for expired entries when not full.
const sweepEvery = time.Minute

// use records nonce for accessKeyID until expiry, or reports it replayed.
func (c *nonceCache) use(accessKeyID, nonce string, expiry, now time.Time) nonceResult {
	h := sha256.New()
	h.Write([]byte(accessKeyID))
	h.Write([]byte{0})
	h.Write([]byte(nonce))
	var key [sha256.Size]byte
	h.Sum(key[:0])

	c.mu.Lock()
	defer c.mu.Unlock()
	if !now.Before(c.nextSweep) || len(c.seen) >= c.max {
		for k, exp := range c.seen {
			if !exp.After(now) {
				delete(c.seen, k)
			}
		}
		c.nextSweep = now.Add(sweepEvery)
	}
	if exp, ok := c.seen[key]; ok && exp.After(now) {
		return nonceReplayed
	}
	if len(c.seen) >= c.max {
		return nonceFull
	}
	c.seen[key] = expiry
	return nonceFresh
}
