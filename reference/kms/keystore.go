package kms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sseaudit/sseaudit/reference/rootkey"
)

// StateName names keystore.json to the state guard (package statefile).
const StateName = "kms/keystore"

// KeystoreFormat is the format tag of keystore.json.
const KeystoreFormat = "sseaudit/kms-keystore/v1"

// On-disk form. Times are RFC 3339 with nanoseconds (UTC), "" when unset.
// Key material appears only sealed under the root key.
type keystoreJSON struct {
	Format    string                 `json:"format"`
	RootKeyID string                 `json:"root_key_id"`
	Seq       uint64                 `json:"seq"`
	Regions   map[string]*regionJSON `json:"regions"`
}

type regionJSON struct {
	Keys    []*keyJSON        `json:"keys"`
	Aliases map[string]string `json:"aliases"`
}

type keyJSON struct {
	KeyID                   string         `json:"key_id"`
	Seq                     uint64         `json:"seq"`
	Description             string         `json:"description"`
	KeyState                string         `json:"key_state"`
	Creator                 string         `json:"creator"`
	CreationDate            string         `json:"creation_date"`
	PrimaryKeyVersion       string         `json:"primary_key_version"`
	AutomaticRotation       bool           `json:"automatic_rotation"`
	RotationIntervalSeconds int64          `json:"rotation_interval_seconds"`
	LastRotationDate        string         `json:"last_rotation_date"`
	NextRotationDate        string         `json:"next_rotation_date"`
	DeleteDate              string         `json:"delete_date"`
	Versions                []*versionJSON `json:"versions"`
}

type versionJSON struct {
	KeyVersionID   string `json:"key_version_id"`
	CreationDate   string `json:"creation_date"`
	SealedMaterial []byte `json:"sealed_material"` // base64 of rootkey.Seal output
}

func encTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// persistLocked writes the whole store. Caller holds e.mu exclusively.
func (e *Emulator) persistLocked() error {
	ks := keystoreJSON{Format: KeystoreFormat, RootKeyID: e.root.ID(), Seq: e.st.seq, Regions: map[string]*regionJSON{}}
	for name, rs := range e.st.regions {
		if len(rs.keys) == 0 && len(rs.aliases) == 0 {
			continue
		}
		rj := &regionJSON{Keys: []*keyJSON{}, Aliases: map[string]string{}}
		for _, k := range rs.sortedKeys() {
			kj := &keyJSON{
				KeyID: k.id, Seq: k.seq, Description: k.description, KeyState: k.state, Creator: k.creator,
				CreationDate: encTime(k.created), PrimaryKeyVersion: k.primary,
				AutomaticRotation: k.rotation, RotationIntervalSeconds: int64(k.interval / time.Second),
				LastRotationDate: encTime(k.lastRotation), NextRotationDate: encTime(k.nextRotation),
				DeleteDate: encTime(k.deleteDate),
			}
			for _, v := range k.versions {
				if v.sealed == nil {
					return errors.New("kms: key version without sealed material")
				}
				kj.Versions = append(kj.Versions, &versionJSON{KeyVersionID: v.id, CreationDate: encTime(v.created), SealedMaterial: v.sealed})
			}
			rj.Keys = append(rj.Keys, kj)
		}
		for a, id := range rs.aliases {
			rj.Aliases[a] = id
		}
		ks.Regions[name] = rj
	}
	data, err := json.MarshalIndent(&ks, "", " ")
	if err != nil {
		return err
	}
	return e.state.Write(StateName, e.path, append(data, '\n'))
}

// decodeKeystore parses and fully validates a keystore, opening every
// sealed key version. Anything unexpected is ErrCorruptKeystore.
func decodeKeystore(data []byte, path string, root *rootkey.Key, account string) (*store, error) {
	var ks keystoreJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ks); err != nil {
		return nil, corruptf("%s: %v", path, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, corruptf("%s: trailing data after the keystore object", path)
	}
	if ks.Format != KeystoreFormat {
		return nil, corruptf("%s: format %q, want %q", path, ks.Format, KeystoreFormat)
	}
	if ks.RootKeyID != root.ID() {
		return nil, &RootKeyMismatchError{Path: path, Keystore: ks.RootKeyID, Configured: root.ID()}
	}
	st := newStore()
	st.seq = ks.Seq
	seenSeq := map[uint64]bool{}
	for name, rj := range ks.Regions {
		if !ValidRegion(name) || rj == nil {
			return nil, corruptf("%s: bad region entry %q", path, name)
		}
		rs := newRegionState()
		for _, kj := range rj.Keys {
			k, err := decodeKey(kj, name, root, account)
			if err != nil {
				return nil, corruptf("%s: region %s: %v", path, name, err)
			}
			if st.keyExists(k.id) || rs.keys[k.id] != nil {
				return nil, corruptf("%s: duplicate key %s", path, k.id)
			}
			if k.seq == 0 || k.seq > st.seq || seenSeq[k.seq] {
				return nil, corruptf("%s: key %s has an invalid sequence number", path, k.id)
			}
			seenSeq[k.seq] = true
			rs.keys[k.id] = k
		}
		for a, id := range rj.Aliases {
			k := rs.keys[id]
			if k == nil || !aliasRE.MatchString(a) {
				return nil, corruptf("%s: region %s: bad alias %q", path, name, a)
			}
			if (a == ServiceKeyAliasOSS) != k.isService() {
				return nil, corruptf("%s: region %s: alias %q does not match the key's creator", path, name, a)
			}
			if a != ServiceKeyAliasOSS && (a == "alias/acs" || strings.HasPrefix(a, ServiceAliasPrefix)) {
				return nil, corruptf("%s: region %s: reserved alias %q", path, name, a)
			}
			rs.aliases[a] = id
		}
		rs.recompute()
		st.regions[name] = rs
	}
	return st, nil
}

func decTime(s string, required bool) (time.Time, error) {
	if s == "" {
		if required {
			return time.Time{}, errors.New("missing date")
		}
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

func decodeKey(kj *keyJSON, region string, root *rootkey.Key, account string) (*keyRecord, error) {
	if kj == nil || !validGUID(kj.KeyID) {
		return nil, errors.New("bad key id")
	}
	k := &keyRecord{id: kj.KeyID, seq: kj.Seq, description: kj.Description, state: kj.KeyState, creator: kj.Creator, primary: kj.PrimaryKeyVersion, rotation: kj.AutomaticRotation}
	switch k.state {
	case StateEnabled, StateDisabled, StatePendingDeletion:
	default:
		return nil, fmt.Errorf("key %s: bad state %q", k.id, k.state)
	}
	if k.creator != account && k.creator != CreatorOSS {
		return nil, fmt.Errorf("key %s: creator %q is neither the account nor %s", k.id, k.creator, CreatorOSS)
	}
	if len(k.description) > MaxDescriptionLen {
		return nil, fmt.Errorf("key %s: description too long", k.id)
	}
	var err error
	if k.created, err = decTime(kj.CreationDate, true); err != nil {
		return nil, fmt.Errorf("key %s: creation date: %v", k.id, err)
	}
	if k.lastRotation, err = decTime(kj.LastRotationDate, true); err != nil {
		return nil, fmt.Errorf("key %s: last rotation date: %v", k.id, err)
	}
	if k.nextRotation, err = decTime(kj.NextRotationDate, k.rotation); err != nil {
		return nil, fmt.Errorf("key %s: next rotation date: %v", k.id, err)
	}
	if k.deleteDate, err = decTime(kj.DeleteDate, k.state == StatePendingDeletion); err != nil {
		return nil, fmt.Errorf("key %s: delete date: %v", k.id, err)
	}
	if (k.state != StatePendingDeletion && !k.deleteDate.IsZero()) || (!k.rotation && !k.nextRotation.IsZero()) {
		return nil, fmt.Errorf("key %s: inconsistent dates", k.id)
	}
	secs := kj.RotationIntervalSeconds
	if secs != 0 || k.rotation {
		if secs < int64(MinRotationInterval/time.Second) || secs > int64(MaxRotationInterval/time.Second) {
			return nil, fmt.Errorf("key %s: rotation interval out of range", k.id)
		}
		k.interval = time.Duration(secs) * time.Second
	}
	if k.isService() && (k.rotation || k.state != StateEnabled) {
		return nil, fmt.Errorf("key %s: service key with rotation or non-Enabled state", k.id)
	}
	if len(kj.Versions) == 0 {
		return nil, fmt.Errorf("key %s: no versions", k.id)
	}
	for _, vj := range kj.Versions {
		if vj == nil || !validGUID(vj.KeyVersionID) || k.version(vj.KeyVersionID) != nil {
			return nil, fmt.Errorf("key %s: bad or duplicate version id", k.id)
		}
		created, err := decTime(vj.CreationDate, true)
		if err != nil {
			return nil, fmt.Errorf("key %s version %s: creation date: %v", k.id, vj.KeyVersionID, err)
		}
		material, err := root.Open(materialPurpose, vj.SealedMaterial, materialAAD(region, k.id, vj.KeyVersionID))
		if err != nil {
			return nil, fmt.Errorf("key %s version %s: sealed material does not open: %v", k.id, vj.KeyVersionID, err)
		}
		if len(material) != materialSize {
			return nil, fmt.Errorf("key %s version %s: material has %d bytes", k.id, vj.KeyVersionID, len(material))
		}
		k.versions = append(k.versions, &keyVersion{id: vj.KeyVersionID, created: created, material: material, sealed: vj.SealedMaterial})
	}
	if k.primaryVersion() == nil {
		return nil, fmt.Errorf("key %s: primary version %q is not among its versions", k.id, k.primary)
	}
	return k, nil
}
