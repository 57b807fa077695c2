package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bktRewrites holds journalled remediation rewrites (RecordRewrites). It
// is created on first use, so databases of earlier versions read as
// holding none.
var bktRewrites = []byte("rewrites")

// Rewrite is one object rewritten on purpose by 'sseaudit remediate
// apply' (copied onto itself with new encryption), as its journal
// recorded it: the object before the copy and after it. The drift rule
// (SSE-007) does not report a change from Before to After as storage
// drift; any other change of the object still is.
type Rewrite struct {
	Bucket string       `json:"bucket"`
	Key    string       `json:"key"`
	Before RewriteState `json:"before"`
	After  RewriteState `json:"after"`
	At     time.Time    `json:"at"`
	// Plan is the SHA-256 of the plan the rewrite applied.
	Plan string `json:"plan_sha256,omitempty"`
}

// RewriteState is an object version on one side of a rewrite.
type RewriteState struct {
	VersionID string `json:"version_id,omitempty"`
	ETag      string `json:"etag"`
	SSE       string `json:"sse,omitempty"`
	KMSKeyID  string `json:"kms_key_id,omitempty"`
}

// rewriteKey is target 0x00 bucket 0x00 key 0x00 BE64(at) 0x00 version
// before: a bucket's rewrites are one prefix scan, in time order per key.
func rewriteKey(targetKey string, r *Rewrite) []byte {
	k := append(rewritePrefix(targetKey, r.Bucket), r.Key...)
	k = append(k, 0)
	k = append(k, be64(r.At)...)
	k = append(k, 0)
	return append(k, r.Before.VersionID...)
}

func rewritePrefix(targetKey, bucket string) []byte {
	k := append([]byte(targetKey), 0)
	k = append(k, bucket...)
	return append(k, 0)
}

// RecordRewrites records the rewrites of one remediation of the target.
// Recording the same rewrite again (a resumed run, a second report)
// replaces it.
func (d *DB) RecordRewrites(targetKey string, rs []Rewrite) error {
	if len(rs) == 0 {
		return nil
	}
	err := d.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bktRewrites)
		if err != nil {
			return err
		}
		for i := range rs {
			r := &rs[i]
			r.At = r.At.UTC()
			v, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if err := b.Put(rewriteKey(targetKey, r), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("history: record rewrites: %w", err)
	}
	return nil
}

// Rewrites returns the rewrites recorded for the target's bucket at or
// after since (the zero time: all), by key and then time.
func (d *DB) Rewrites(targetKey, bucket string, since time.Time) ([]Rewrite, error) {
	var out []Rewrite
	prefix := rewritePrefix(targetKey, bucket)
	err := d.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktRewrites)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var r Rewrite
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("rewrite %q: %w", k, err)
			}
			if r.At.Before(since) {
				continue
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("history: rewrites of %s: %w", bucket, err)
	}
	return out, nil
}
