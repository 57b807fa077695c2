// Package users holds the reference server's principals other than root:
// their access keys and grants (which buckets they may read and write, which
// KMS actions they may call on which keys), loaded from the --users YAML
// file and kept sealed under the root key in the data directory so a
// restart keeps them. It answers authorization questions for the object
// store (objstore.Authorizer) and for the KMS emulator (kms.Authorizer,
// AuthorizeKMS), which asks it for every KMS call, whether it came over
// the KMS endpoint or from the object store in-process. It must not
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
//	    kms:                          # each a list of key patterns (below)
//	      use: ["alias/app-*"]        # Encrypt, Decrypt, GenerateDataKey, GenerateDataKeyWithoutPlaintext, ReEncrypt
//	      read: ["*"]                 # DescribeKey, ListKeys, ListKeyVersions, DescribeKeyVersion, ListAliases, ListAliasesByKeyId
//	      manage: ["<key-id>"]        # CreateKey, UpdateKeyDescription, Enable/DisableKey, Schedule/CancelKeyDeletion,
//	                                  # CreateKeyVersion, UpdateRotationPolicy, Create/Update/DeleteAlias
//	      decrypt: ["<key-id>"]       # older spelling of use: the same grant
//
// # KMS grants
//
// Root may do everything. Every other principal may do nothing in KMS
// except what a group grants it (default deny); the groups are independent
// (manage does not imply read or use). A key pattern is "*" (every key and
// alias, and the key and alias containers), or a path.Match pattern over
// key ids (compared case-insensitively, ids being lower-case GUIDs) and
// over alias names ("alias/app-*"; '*' does not cross '/', so "alias/*"
// does not cover alias/acs/oss or alias/a/b). An alias pattern covers the
// keys the alias points at when the call is made, whichever name the call
// uses for the key; Alibaba RAM decides on the key alone, but allowing
// grants by alias (as AWS KMS's kms:ResourceAliases condition does) lets a
// users file name the OSS service key, alias/acs/oss, whose id is only
// known after its first use. Repointing an alias moves such grants, which
// is why alias operations need manage on the alias and on every key they
// take it from or give it to.
//
// CreateKey, ListKeys and ListAliases name no key: Alibaba RAM authorizes
// them on the key or alias container, so they need the group's "*" grant;
// ListKeys is refused, not filtered, for anyone else. A refusal is 403
// Forbidden.NoPermission on the KMS endpoint and 403 AccessDenied ("This
// request is forbidden by kms.") in the OSS and S3 dialects. The object
// store needs use on a key to write an SSE-KMS object with it
// (GenerateDataKey) and to read one or upload a part (Decrypt).
//
// The decrypt field predates the groups and gated only SSE-KMS reads (the
// KMS endpoint then allowed every authenticated caller everything, and
// SSE-KMS writes were not checked for any key). It is read as use, not as
// Decrypt alone: a principal that could read and write SSE-KMS objects
// with a key keeps both, a principal without it loses the writes it was
// never meant to have, and over the KMS endpoint nobody gets more than
// before. Old files and sealed saves load unchanged.
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
	"github.com/sseaudit/sseaudit/reference/kms"
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
		Use    []string `yaml:"use,omitempty" json:"use,omitempty"`
		Read   []string `yaml:"read,omitempty" json:"read,omitempty"`
		Manage []string `yaml:"manage,omitempty" json:"manage,omitempty"`
		// Decrypt is the older spelling of Use (see the package doc).
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

var (
	_ objstore.Authorizer = (*Set)(nil)
	_ kms.Authorizer      = (*Set)(nil)
)

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
		for _, g := range []struct {
			field string
			pats  []string
		}{{"use", u.KMS.Use}, {"read", u.KMS.Read}, {"manage", u.KMS.Manage}, {"decrypt", u.KMS.Decrypt}} {
			for _, p := range g.pats {
				if err := checkKeyPattern(p); err != nil {
					return nil, fmt.Errorf("%w: %s: kms.%s: %v", ErrInvalid, where, g.field, err)
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

// checkKeyPattern explains why p cannot be a KMS key pattern.
func checkKeyPattern(p string) error {
	switch {
	case p == "":
		return errors.New(`an empty key pattern; use a key id, an alias such as "alias/app", a glob, or "*"`)
	case strings.HasPrefix(p, "acs:"):
		return fmt.Errorf("key pattern %q is an ARN; give the key id or alias it ends with", p)
	}
	if _, err := path.Match(p, ""); err != nil {
		return fmt.Errorf("bad key pattern %q: %v", p, err)
	}
	return nil
}

// AuthorizeKMS implements kms.Authorizer: root may do everything; anyone
// else (including an unknown or empty principal) only what a grant of the
// action's group covers (see the package doc). It is the one KMS decision
// of the reference: the emulator asks it for every call, from the KMS
// endpoint and from the object store alike.
func (s *Set) AuthorizeKMS(principal, action string, r kms.Resource) bool {
	if principal == auth.RootPrincipal {
		return true
	}
	u, ok := s.byName[principal]
	if !ok {
		return false
	}
	var grants [][]string
	switch kms.ActionGroup(action) {
	case kms.GroupUse:
		grants = [][]string{u.KMS.Use, u.KMS.Decrypt}
	case kms.GroupRead:
		grants = [][]string{u.KMS.Read}
	case kms.GroupManage:
		grants = [][]string{u.KMS.Manage}
	default:
		return false
	}
	for _, pats := range grants {
		for _, p := range pats {
			if covers(p, r) {
				return true
			}
		}
	}
	return false
}

// covers reports whether key pattern p covers r.
func covers(p string, r kms.Resource) bool {
	switch {
	case p == "*":
		return true
	case r.Container != "":
		return false
	case r.Alias != "":
		return match(p, r.Alias)
	}
	if r.KeyID != "" && match(strings.ToLower(p), strings.ToLower(r.KeyID)) {
		return true
	}
	for _, a := range r.Aliases {
		if match(p, a) {
			return true
		}
	}
	return false
}

func match(pattern, name string) bool {
	ok, _ := path.Match(pattern, name)
	return ok
}

// CanDecrypt implements objstore.Authorizer by AuthorizeKMS for Decrypt on
// the key id alone: grants made through an alias are not seen, because the
// set does not know the aliases. The server therefore answers the object
// store with kms.Emulator.Authorized, which adds them.
func (s *Set) CanDecrypt(p objstore.Principal, keyID string) bool {
	return s.AuthorizeKMS(p.Name, "Decrypt", kms.Resource{KeyID: keyID})
}
