// Package users holds the reference server's principals other than root:
// their access keys and grants (which buckets they may read and write, which
// KMS keys they may decrypt with), loaded from the --users YAML file and kept
// sealed under the root key in the data directory so a restart keeps them.
// It answers authorization questions for the object store; it must not
// authenticate requests (the protocol front ends do) and must never log a
// secret.
//
// File format:
//
//	users:
//	  - name: auditor
//	    access_key_id: AUDITOR1
//	    access_key_secret_env: AUDITOR_SECRET   # or access_key_secret: "..." (file must then be 0600)
//	    buckets:
//	      read: ["*"]                 # path.Match patterns over bucket names
//	      write: ["scratch-*"]
//	    kms:
//	      decrypt: ["<key-id>", "*"]  # CMK ids, or "*" for every key
package users

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sseaudit/sseaudit/reference/auth"
	"github.com/sseaudit/sseaudit/reference/objstore"
	"github.com/sseaudit/sseaudit/reference/rootkey"
	"github.com/sseaudit/sseaudit/reference/statefile"
)

// User is one principal with its grants.
type User struct {
	Name               string `yaml:"name" json:"name"`
	AccessKeyID        string `yaml:"access_key_id" json:"access_key_id"`
	AccessKeySecret    string `yaml:"access_key_secret,omitempty" json:"access_key_secret"`
	AccessKeySecretEnv string `yaml:"access_key_secret_env,omitempty" json:"-"`
	Buckets            struct {
		Read  []string `yaml:"read" json:"read"`
		Write []string `yaml:"write" json:"write"`
	} `yaml:"buckets" json:"buckets"`
	KMS struct {
		Decrypt []string `yaml:"decrypt" json:"decrypt"`
	} `yaml:"kms" json:"kms"`
}

type file struct {
	Users []User `yaml:"users"`
}

// Set is an immutable set of users; it implements objstore.Authorizer with
// root allowed everything.
type Set struct {
	byName map[string]*User
	list   []User
}

var _ objstore.Authorizer = (*Set)(nil)

// ErrInvalid reports a users file that cannot be used; the message names
// the user and the field.
var ErrInvalid = errors.New("users: invalid users file")

// Parse reads a users file. getenv resolves access_key_secret_env; inline
// secrets are only accepted when insecureMode is false (the caller checked
// that the file is not readable by group or others).
func Parse(data []byte, getenv func(string) string, inlineSecretsAllowed bool) (*Set, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	for i := range f.Users {
		u := &f.Users[i]
		where := fmt.Sprintf("users[%d] (%s)", i, u.Name)
		switch {
		case u.Name == "":
			return nil, fmt.Errorf("%w: %s: name is required", ErrInvalid, where)
		case u.Name == auth.RootPrincipal:
			return nil, fmt.Errorf("%w: %s: the name %q is reserved", ErrInvalid, where, auth.RootPrincipal)
		case u.AccessKeyID == "":
			return nil, fmt.Errorf("%w: %s: access_key_id is required", ErrInvalid, where)
		case u.AccessKeySecret != "" && u.AccessKeySecretEnv != "":
			return nil, fmt.Errorf("%w: %s: set access_key_secret or access_key_secret_env, not both", ErrInvalid, where)
		case u.AccessKeySecret != "" && !inlineSecretsAllowed:
			return nil, fmt.Errorf("%w: %s: access_key_secret is inline but the file is readable by others; chmod 600 it or use access_key_secret_env", ErrInvalid, where)
		}
		if u.AccessKeySecretEnv != "" {
			u.AccessKeySecret = getenv(u.AccessKeySecretEnv)
			if u.AccessKeySecret == "" {
				return nil, fmt.Errorf("%w: %s: environment variable %s is empty", ErrInvalid, where, u.AccessKeySecretEnv)
			}
		}
		if u.AccessKeySecret == "" {
			return nil, fmt.Errorf("%w: %s: access_key_secret or access_key_secret_env is required", ErrInvalid, where)
		}
		for _, pats := range [][]string{u.Buckets.Read, u.Buckets.Write} {
			for _, p := range pats {
				if _, err := path.Match(p, ""); err != nil {
					return nil, fmt.Errorf("%w: %s: bad bucket pattern %q: %v", ErrInvalid, where, p, err)
				}
			}
		}
	}
	return newSet(f.Users)
}

func newSet(list []User) (*Set, error) {
	s := &Set{byName: map[string]*User{}, list: list}
	ids := map[string]bool{}
	for i := range s.list {
		u := &s.list[i]
		if _, dup := s.byName[u.Name]; dup {
			return nil, fmt.Errorf("%w: user %q appears twice", ErrInvalid, u.Name)
		}
		if ids[u.AccessKeyID] {
			return nil, fmt.Errorf("%w: access key id %s appears twice", ErrInvalid, u.AccessKeyID)
		}
		ids[u.AccessKeyID] = true
		s.byName[u.Name] = u
	}
	return s, nil
}

// LoadFile parses a users file from disk, refusing inline secrets in a file
// that group or others can read.
func LoadFile(p string, getenv func(string) string) (*Set, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	s, err := Parse(data, getenv, st.Mode().Perm()&0o077 == 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return s, nil
}

const sealedFile = "users.sealed"
const sealPurpose = "users"

// Save seals the set into dataDir (mode 0600) so a restart without --users
// keeps it.
func (s *Set) Save(dataDir string, key *rootkey.Key, state statefile.Files) error {
	pt, err := json.Marshal(s.list)
	if err != nil {
		return fmt.Errorf("encode users: %w", err)
	}
	sealed, err := key.Seal(sealPurpose, pt, nil)
	clear(pt)
	if err != nil {
		return fmt.Errorf("seal users: %w", err)
	}
	return state.Write(StateName, filepath.Join(dataDir, sealedFile), sealed)
}

// StateName names the saved users file to the state guard (package
// statefile): sealing keeps it secret and unforgeable, the guard keeps an
// older copy (with a removed user in it) from being put back.
const StateName = "users"

// SavedPath is the saved users file in dataDir.
func SavedPath(dataDir string) string { return filepath.Join(dataDir, sealedFile) }

// LoadSaved returns the set saved in dataDir, or an empty set when none was.
func LoadSaved(dataDir string, key *rootkey.Key, state statefile.Files) (*Set, error) {
	blob, err := state.Read(StateName, filepath.Join(dataDir, sealedFile))
	if errors.Is(err, fs.ErrNotExist) {
		return newSet(nil)
	}
	if err != nil {
		return nil, fmt.Errorf("read saved users: %w", err)
	}
	pt, err := key.Open(sealPurpose, blob, nil)
	if err != nil {
		return nil, fmt.Errorf("open saved users: %w", err)
	}
	var list []User
	if err := json.Unmarshal(pt, &list); err != nil {
		return nil, fmt.Errorf("%w: saved users: %v", ErrInvalid, err)
	}
	return newSet(list)
}

// Credentials returns the users' access keys.
func (s *Set) Credentials() []auth.Credential {
	out := make([]auth.Credential, 0, len(s.list))
	for _, u := range s.list {
		out = append(out, auth.Credential{AccessKeyID: u.AccessKeyID, AccessKeySecret: u.AccessKeySecret, Principal: u.Name})
	}
	return out
}

// Names lists the users' names.
func (s *Set) Names() []string {
	out := make([]string, 0, len(s.list))
	for _, u := range s.list {
		out = append(out, u.Name)
	}
	return out
}

func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// CanReadBucket implements objstore.Authorizer. Write implies read.
func (s *Set) CanReadBucket(p objstore.Principal, bucket string) bool {
	if p.Name == auth.RootPrincipal {
		return true
	}
	u, ok := s.byName[p.Name]
	return ok && (matchAny(u.Buckets.Read, bucket) || matchAny(u.Buckets.Write, bucket))
}

// CanWriteBucket implements objstore.Authorizer.
func (s *Set) CanWriteBucket(p objstore.Principal, bucket string) bool {
	if p.Name == auth.RootPrincipal {
		return true
	}
	u, ok := s.byName[p.Name]
	return ok && matchAny(u.Buckets.Write, bucket)
}

// CanDecrypt implements objstore.Authorizer.
func (s *Set) CanDecrypt(p objstore.Principal, keyID string) bool {
	if p.Name == auth.RootPrincipal {
		return true
	}
	u, ok := s.byName[p.Name]
	if !ok {
		return false
	}
	for _, k := range u.KMS.Decrypt {
		if k == "*" || strings.EqualFold(k, keyID) {
			return true
		}
	}
	return false
}
