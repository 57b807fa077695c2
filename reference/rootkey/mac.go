package rootkey

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"hash"
)

// MAC returns a keyed hash for authenticating stored state of the given
// purpose: HMAC-SHA256 under subkey = HKDF-SHA256(ikm=root, salt=none,
// info="sseaudit/rootkey/v1/mac/" || purpose). The purpose keeps a tag
// made for one kind of state from verifying another. Callers write the
// message with Write and compare tags with hmac.Equal.
func (k *Key) MAC(purpose string) (hash.Hash, error) {
	sub, err := hkdf.Key(sha256.New, k.k[:], nil, "sseaudit/rootkey/v1/mac/"+purpose, 32)
	if err != nil {
		return nil, fmt.Errorf("derive mac subkey: %w", err)
	}
	return hmac.New(sha256.New, sub), nil
}
