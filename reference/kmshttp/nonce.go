package kmshttp

import (
	"container/heap"
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
// replay on its own). Each access key has its own quota of live nonces: when
// one key holds perKey of them its new requests are refused rather than a
// nonce forgotten early (which would reopen the replay window), and no other
// key is affected. So one principal flooding requests signed 14 minutes
// ahead locks out only itself, and only until its own entries expire.
// Nonces are recorded only for authenticated requests, so the number of
// keys, and memory, is bounded by the credentials the server knows:
// perKey × keys entries at most. Keys are SHA-256 digests, so memory per
// entry is fixed whatever the nonce length.
type nonceCache struct {
	mu     sync.Mutex
	perKey int
	keys   map[string]*keyNonces // access key id → its live nonces
}

// keyNonces are one access key's live nonces: a set for the replay lookup
// and a min-heap on expiry so expired entries are dropped in O(log n) each,
// never by scanning the set under the lock.
type keyNonces struct {
	seen  map[[sha256.Size]byte]struct{}
	byExp expiryHeap
}

type nonceEntry struct {
	exp int64 // unix nanoseconds; the nonce is live while now < exp
	key [sha256.Size]byte
}

type expiryHeap []nonceEntry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].exp < h[j].exp }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(nonceEntry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

func newNonceCache(perKey int) *nonceCache {
	return &nonceCache{perKey: perKey, keys: make(map[string]*keyNonces)}
}

// use records nonce for accessKeyID until expiry, or reports it replayed,
// or (the key's quota being full of live nonces) refuses it.
func (c *nonceCache) use(accessKeyID, nonce string, expiry, now time.Time) nonceResult {
	key := sha256.Sum256([]byte(nonce))
	nowNS := now.UnixNano()

	c.mu.Lock()
	defer c.mu.Unlock()
	k := c.keys[accessKeyID]
	if k == nil {
		k = &keyNonces{seen: make(map[[sha256.Size]byte]struct{})}
		c.keys[accessKeyID] = k
	}
	for len(k.byExp) > 0 && k.byExp[0].exp <= nowNS {
		delete(k.seen, heap.Pop(&k.byExp).(nonceEntry).key)
	}
	if _, ok := k.seen[key]; ok {
		return nonceReplayed
	}
	if len(k.seen) >= c.perKey {
		return nonceFull
	}
	k.seen[key] = struct{}{}
	heap.Push(&k.byExp, nonceEntry{exp: expiry.UnixNano(), key: key})
	return nonceFresh
}
