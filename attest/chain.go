package attest

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ChainSchema identifies the chain log format.
const ChainSchema = "sseaudit.chain/v1"

// ChainLog is the signer's record of every manifest it signed with one key,
// oldest first, so consecutive runs form a chain even when written to
// different directories. It holds no secret; it is written with mode 0600
// beside the key.
type ChainLog struct {
	Schema string      `json:"schema"`
	KeyID  string      `json:"key_id"`
	Links  []ChainLink `json:"links"`
}

// ChainPath is where the chain log of the key at keyPath lives.
func ChainPath(keyPath string) string { return filepath.Join(filepath.Dir(keyPath), "chain.json") }

// LoadChain reads the chain log at path; a missing file is an empty log.
func LoadChain(path string) (*ChainLog, error) {
	raw, err := readFileBounded(path, maxChainLogSize)
	if errors.Is(err, fs.ErrNotExist) {
		return &ChainLog{Schema: ChainSchema}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("attest: chain log: %w", err)
	}
	var c ChainLog
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("attest: chain log %s: %w", path, err)
	}
	if c.Schema != ChainSchema {
		return nil, fmt.Errorf("attest: chain log %s: unsupported schema %q", path, c.Schema)
	}
	return &c, nil
}

// Save writes the log to path (mode 0600), replacing it atomically.
func (c *ChainLog) Save(path string) error {
	if c.Schema == "" {
		c.Schema = ChainSchema
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("attest: chain log: %w", err)
	}
	if err := writeFileAtomic(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("attest: chain log: %w", err)
	}
	return nil
}

// Last returns the newest link, nil for an empty log.
func (c *ChainLog) Last() *ChainLink {
	if len(c.Links) == 0 {
		return nil
	}
	l := c.Links[len(c.Links)-1]
	return &l
}

// Find returns the link of run seq.
func (c *ChainLog) Find(seq int) (ChainLink, bool) {
	for _, l := range c.Links {
		if l.Sequence == seq {
			return l, true
		}
	}
	return ChainLink{}, false
}

// Append records l, which must follow the last link.
func (c *ChainLog) Append(l ChainLink) error {
	want := 1
	if last := c.Last(); last != nil {
		want = last.Sequence + 1
	}
	if l.Sequence != want {
		return fmt.Errorf("attest: chain log: run %d cannot follow run %d", l.Sequence, want-1)
	}
	c.Links = append(c.Links, l)
	return nil
}

// SignChained signs dir like Sign, linking the manifest to the last run in
// the chain log at chainPath and recording the new run there. The log must
// belong to key (an empty or missing log starts a new chain).
func SignChained(dir string, files []string, key ed25519.PrivateKey, chainPath string, meta ...Meta) (ChainLink, error) {
	c, err := LoadChain(chainPath)
	if err != nil {
		return ChainLink{}, err
	}
	id := KeyID(key.Public().(ed25519.PublicKey))
	if c.KeyID != "" && c.KeyID != id {
		return ChainLink{}, fmt.Errorf("attest: the chain log %s belongs to key %s, not %s: move it away to start a new chain for this key", chainPath, c.KeyID, id)
	}
	c.KeyID = id
	link, err := Sign(dir, files, key, c.Last(), meta...)
	if err != nil {
		return ChainLink{}, err
	}
	if err := c.Append(link); err != nil {
		return ChainLink{}, err
	}
	if err := c.Save(chainPath); err != nil {
		return ChainLink{}, err
	}
	return link, nil
}
