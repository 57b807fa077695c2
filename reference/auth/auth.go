// Package auth holds the reference server's principals and their access
// keys: the root credentials (from the environment, or generated on first
// start and kept sealed under the root key) and a lookup used by the
// request-signature checks of every endpoint. It must not verify signatures
// itself (each protocol does that) and must never log a secret.
package auth

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/sseaudit/sseaudit/reference/atomicfile"
	"github.com/sseaudit/sseaudit/reference/rootkey"
)

// Environment variables for the root principal's access key.
const (
	EnvRootAccessKeyID     = "SSEAUDIT_ROOT_ACCESS_KEY_ID"
	EnvRootAccessKeySecret = "SSEAUDIT_ROOT_ACCESS_KEY_SECRET"
)

// RootPrincipal is the principal name of the root credentials.
const RootPrincipal = "root"

// Credential is an access key pair and the principal it authenticates.
// Its String method never shows the secret.
type Credential struct {
	AccessKeyID     string `json:"access_key_id"`
	AccessKeySecret string `json:"access_key_secret"`
	Principal       string `json:"principal"`
}

func (c Credential) String() string {
	return fmt.Sprintf("%s (access key %s)", c.Principal, c.AccessKeyID)
}

// Store looks credentials up by access key id. It is immutable once built
// and safe for concurrent use.
type Store struct {
	byID map[string]Credential
}

// NewStore builds a store; a duplicated access key id is an error.
func NewStore(creds ...Credential) (*Store, error) {
	s := &Store{byID: make(map[string]Credential, len(creds))}
	for _, c := range creds {
		if c.AccessKeyID == "" || c.AccessKeySecret == "" {
			return nil, fmt.Errorf("credential for %q: empty access key id or secret", c.Principal)
		}
		if _, dup := s.byID[c.AccessKeyID]; dup {
			return nil, fmt.Errorf("access key id %s is used twice", c.AccessKeyID)
		}
		s.byID[c.AccessKeyID] = c
	}
	return s, nil
}

// Lookup returns the credential for an access key id.
func (s *Store) Lookup(accessKeyID string) (Credential, bool) {
	c, ok := s.byID[accessKeyID]
	return c, ok
}

const rootCredFile = "root-credentials.sealed"
const sealPurpose = "root-credentials"

// ErrPartialEnv reports that only one of the two root credential variables is set.
var ErrPartialEnv = errors.New("auth: set both " + EnvRootAccessKeyID + " and " + EnvRootAccessKeySecret + ", or neither")

// LoadRoot returns the root credential from the environment when both
// variables are set; otherwise it reads the sealed credential file in dataDir,
// or generates a new pair, seals it there (mode 0600) and reports
// generated=true so the caller can print it once.
func LoadRoot(getenv func(string) string, dataDir string, key *rootkey.Key, rnd io.Reader) (c Credential, generated bool, err error) {
	id, secret := strings.TrimSpace(getenv(EnvRootAccessKeyID)), strings.TrimSpace(getenv(EnvRootAccessKeySecret))
	switch {
	case id != "" && secret != "":
		return Credential{AccessKeyID: id, AccessKeySecret: secret, Principal: RootPrincipal}, false, nil
	case id != "" || secret != "":
		return Credential{}, false, ErrPartialEnv
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	path := filepath.Join(dataDir, rootCredFile)
	blob, err := os.ReadFile(path)
	switch {
	case err == nil:
		pt, err := key.Open(sealPurpose, blob, nil)
		if err != nil {
			return Credential{}, false, fmt.Errorf("open %s: %w", path, err)
		}
		if err := json.Unmarshal(pt, &c); err != nil || c.AccessKeyID == "" || c.AccessKeySecret == "" {
			return Credential{}, false, fmt.Errorf("open %s: malformed credential record", path)
		}
		return c, false, nil
	case !errors.Is(err, fs.ErrNotExist):
		return Credential{}, false, fmt.Errorf("read %s: %w", path, err)
	}
	idRaw, secRaw := make([]byte, 10), make([]byte, 20)
	if _, err := io.ReadFull(rnd, idRaw); err != nil {
		return Credential{}, false, fmt.Errorf("generate access key id: %w", err)
	}
	if _, err := io.ReadFull(rnd, secRaw); err != nil {
		return Credential{}, false, fmt.Errorf("generate access key secret: %w", err)
	}
	c = Credential{
		AccessKeyID:     "LTAI" + strings.ToUpper(hex.EncodeToString(idRaw)),
		AccessKeySecret: hex.EncodeToString(secRaw),
		Principal:       RootPrincipal,
	}
	pt, _ := json.Marshal(c)
	sealed, err := key.Seal(sealPurpose, pt, nil)
	if err != nil {
		return Credential{}, false, fmt.Errorf("seal root credentials: %w", err)
	}
	if err := atomicfile.WriteFile(path, sealed, 0o600); err != nil {
		return Credential{}, false, err
	}
	return c, true, nil
}
