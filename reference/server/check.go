package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/sseaudit/sseaudit/reference/envelope"
	"github.com/sseaudit/sseaudit/reference/kms"
	"github.com/sseaudit/sseaudit/reference/masterkey"
	"github.com/sseaudit/sseaudit/reference/objstore"
	"github.com/sseaudit/sseaudit/reference/rootkey"
	"github.com/sseaudit/sseaudit/reference/statefile"
	"github.com/sseaudit/sseaudit/reference/users"
)

// Problem is one thing Check found wrong in a data directory.
type Problem struct {
	// Path is the file (or "bucket/key" of an object) the problem is in.
	Path string `json:"path"`
	// What says what is wrong, without any secret.
	What string `json:"what"`
}

func (p Problem) String() string { return p.Path + ": " + p.What }

// Check verifies a stopped server's data directory without serving it and
// without writing to it: the state manifest and every state file it
// guards (the KMS keystore with every sealed key version, the master
// keyring, the saved users), then every object and version record's
// authentication and every data file's presence and size. Object data is
// never decrypted. It returns the problems found; the error is for a
// directory it could not check at all (missing, locked by a running
// server, no root key).
func Check(ctx context.Context, cfg Config) ([]Problem, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("server: a data directory is required")
	}
	if st, err := os.Stat(cfg.DataDir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("data directory %s: not a directory (%v)", cfg.DataDir, err)
	}
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	s := &Server{cfg: cfg}
	if err := s.acquireLock(); err != nil {
		return nil, err
	}
	defer s.lock.Close()
	keyFile := cfg.RootKeyFile
	if keyFile == "" {
		keyFile = filepath.Join(cfg.DataDir, RootKeyFile)
	}
	if strings.TrimSpace(cfg.Getenv(rootkey.EnvVar)) == "" {
		if _, err := os.Stat(keyFile); err != nil {
			return nil, fmt.Errorf("root key: %s unset and %s unreadable (%v): give the key this directory was created with", rootkey.EnvVar, keyFile, err)
		}
	}
	key, _, err := rootkey.Load(cfg.Getenv, keyFile, nil)
	if err != nil {
		return nil, fmt.Errorf("load root key: %w", err)
	}
	var probs []Problem
	add := func(path string, err error) {
		probs = append(probs, Problem{Path: path, What: err.Error()})
	}
	manifest := filepath.Join(cfg.DataDir, StateManifest)
	guarded := map[string]string{
		kms.StateName:       filepath.Join(cfg.DataDir, KMSDir, kms.KeystoreFile),
		masterkey.StateName: filepath.Join(cfg.DataDir, MasterKeyDir, masterkey.FileName),
		users.StateName:     users.SavedPath(cfg.DataDir),
	}
	state, err := statefile.Open(manifest, key, statefile.Options{Guarded: guarded, ReadOnly: true,
		Witnesses: []string{filepath.Join(cfg.DataDir, ObjectsDir, objstore.MetaFile)}})
	if err != nil {
		add(manifest, err)
		return probs, nil
	}
	// Each state file: authentic, then decodable by its owner (which opens
	// every sealed key in it).
	for _, name := range []string{kms.StateName, masterkey.StateName, users.StateName} {
		path := guarded[name]
		if _, err := state.Read(name, path); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				add(path, err)
			}
			continue
		}
		var err error
		switch name {
		case kms.StateName:
			_, err = kms.New(kms.Config{Dir: filepath.Dir(path), RootKey: key, State: state})
		case masterkey.StateName:
			_, err = masterkey.Open(ctx, masterkey.Config{Dir: filepath.Dir(path), RootKey: key, State: state})
		case users.StateName:
			_, err = users.LoadSaved(cfg.DataDir, key, state)
		}
		if err != nil {
			add(path, err)
		}
	}
	// The object store: every record authentic, every data file present
	// with its size (and the plaintext CRC of unencrypted objects). The
	// envelope is never used: Check decrypts nothing.
	objDir := filepath.Join(cfg.DataDir, ObjectsDir)
	if _, err := os.Stat(filepath.Join(objDir, objstore.MetaFile)); errors.Is(err, fs.ErrNotExist) {
		return probs, nil
	}
	st, err := objstore.Open(ctx, objstore.Config{Dir: objDir, Region: defaultRegion, Envelope: envelope.New(envelope.Config{}), RootKey: key, ReadOnly: true})
	if err != nil {
		add(filepath.Join(objDir, objstore.MetaFile), err)
		return probs, nil
	}
	defer st.Close()
	found, err := st.Check(ctx, objstore.CheckOptions{PlainData: cfg.CheckPlainData})
	if err != nil {
		return nil, fmt.Errorf("check objects: %w", err)
	}
	for _, p := range found {
		where := p.Bucket + "/" + p.Key
		if p.VersionID != "" {
			where += "?versionId=" + p.VersionID
		}
		probs = append(probs, Problem{Path: where, What: p.Check + ": " + p.Detail})
	}
	return probs, nil
}
