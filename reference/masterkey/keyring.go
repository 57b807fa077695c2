package masterkey

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/sseaudit/sseaudit/reference/clock"
	"github.com/sseaudit/sseaudit/reference/rootkey"
	"github.com/sseaudit/sseaudit/reference/statefile"
)

const (
	// FileName is the keyring file in Config.Dir.
	FileName     = "keyring.json"
	fileFormat   = "sseaudit-masterkeys/v1"
	sealPurpose  = "sse-oss-master"
	wrapInfo     = "sseaudit/sse-oss/v1/wrap"
	sealedFormat = 0x01
	materialSize = 32
	saltSize     = 32
	nonceSize    = 12
	headerSize   = 1 + 4 + saltSize
	tagSize      = 16
	// reserveBlock is how many wraps are reserved (and persisted) at a time.
	reserveBlock = 4096
)

// Defaults for the rotation policy.
const (
	DefaultRotateEvery = 90 * 24 * time.Hour
	// DefaultMaxWraps is far below 2^32: even without per-wrap subkeys no
	// single master version would come near the GCM random-nonce bound.
	DefaultMaxWraps uint64 = 1 << 30
)

var (
	// ErrUnknownVersion reports a sealed key naming a master version the
	// keyring does not hold.
	ErrUnknownVersion = errors.New("masterkey: unknown master key version")
	// ErrMalformedSealedKey reports a sealed key that cannot be parsed.
	ErrMalformedSealedKey = errors.New("masterkey: malformed sealed data key")
	// ErrUnseal reports a sealed key that does not authenticate under its
	// master version and binding (tampered, or moved to another object).
	ErrUnseal = errors.New("masterkey: sealed data key does not authenticate")
	// ErrCorruptKeyring reports an unreadable keyring file.
	ErrCorruptKeyring = errors.New("masterkey: keyring file is corrupt")
	// ErrWrongRootKey reports a keyring sealed under a different root key.
	ErrWrongRootKey = errors.New("masterkey: keyring was sealed under a different root key")
)

// Config configures a keyring.
type Config struct {
	// Dir holds keyring.json; "" keeps the keyring in memory only.
	Dir     string
	RootKey *rootkey.Key // required
	Clock   clock.Clock  // default clock.System{}
	Rand    io.Reader    // default crypto/rand
	// RotateEvery is the maximum age of the active version (0 = default).
	RotateEvery time.Duration
	// MaxWraps is the number of data keys one version may seal (0 = default).
	MaxWraps uint64
	// State reads and writes keyring.json (default statefile.Plain); the
	// server passes its *statefile.Guard, so that an edited (active
	// version, dates, use counters), rolled-back or deleted keyring is
	// refused.
	State statefile.Files
}

// StateName names keyring.json to the state guard (package statefile).
const StateName = "masterkeys/keyring"

// Version describes one master key version (never its material).
type Version struct {
	Version uint32
	Created time.Time
	Wraps   uint64 // data keys sealed under it (an upper bound after a restart)
}

type version struct {
	Version
	material []byte
}

// Keyring is the SSE-OSS master keyring. It is safe for concurrent use.
type Keyring struct {
	cfg Config

	mu       sync.Mutex
	versions map[uint32]*version
	active   uint32
	reserved uint64 // wraps of the active version already persisted as used
	wraps    uint64 // wraps of the active version actually done
}

type fileVersion struct {
	Version uint32    `json:"version"`
	Created time.Time `json:"created"`
	Sealed  string    `json:"sealed"`
	Wraps   uint64    `json:"wraps"`
}

type fileData struct {
	Format        string        `json:"format"`
	RootKeyID     string        `json:"root_key_id"`
	Active        uint32        `json:"active"`
	WrapsReserved uint64        `json:"wraps_reserved"`
	RotateEvery   string        `json:"rotate_every"`
	MaxWraps      uint64        `json:"max_wraps"`
	Versions      []fileVersion `json:"versions"`
}

// Open loads the keyring from cfg.Dir, or creates it with version 1.
func Open(ctx context.Context, cfg Config) (*Keyring, error) {
	if cfg.RootKey == nil {
		return nil, errors.New("masterkey: a root key is required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.RotateEvery <= 0 {
		cfg.RotateEvery = DefaultRotateEvery
	}
	if cfg.MaxWraps == 0 {
		cfg.MaxWraps = DefaultMaxWraps
	}
	if cfg.State == nil {
		cfg.State = statefile.Plain{}
	}
	k := &Keyring{cfg: cfg, versions: map[uint32]*version{}}
	if cfg.Dir != "" {
		data, err := cfg.State.Read(StateName, filepath.Join(cfg.Dir, FileName))
		switch {
		case err == nil:
			if err := k.load(data); err != nil {
				return nil, err
			}
			return k, nil
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("read master keyring: %w", err)
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.addVersionLocked(); err != nil {
		return nil, err
	}
	return k, nil
}

func versionAAD(v uint32) []byte {
	return []byte("sse-oss-master/v" + strconv.FormatUint(uint64(v), 10))
}

func (k *Keyring) load(data []byte) error {
	var f fileData
	if err := json.Unmarshal(data, &f); err != nil {
		return fmt.Errorf("%w: %v", ErrCorruptKeyring, err)
	}
	if f.Format != fileFormat {
		return fmt.Errorf("%w: format %q, want %q", ErrCorruptKeyring, f.Format, fileFormat)
	}
	if f.RootKeyID != k.cfg.RootKey.ID() {
		return fmt.Errorf("%w: keyring root key id %s, current root key id %s", ErrWrongRootKey, f.RootKeyID, k.cfg.RootKey.ID())
	}
	if len(f.Versions) == 0 {
		return fmt.Errorf("%w: no versions", ErrCorruptKeyring)
	}
	for _, fv := range f.Versions {
		sealed, err := base64.StdEncoding.DecodeString(fv.Sealed)
		if err != nil {
			return fmt.Errorf("%w: version %d: %v", ErrCorruptKeyring, fv.Version, err)
		}
		mat, err := k.cfg.RootKey.Open(sealPurpose, sealed, versionAAD(fv.Version))
		if err != nil {
			return fmt.Errorf("%w: version %d: %v", ErrCorruptKeyring, fv.Version, err)
		}
		if len(mat) != materialSize || fv.Version == 0 {
			return fmt.Errorf("%w: version %d: bad material", ErrCorruptKeyring, fv.Version)
		}
		if _, dup := k.versions[fv.Version]; dup {
			return fmt.Errorf("%w: version %d appears twice", ErrCorruptKeyring, fv.Version)
		}
		k.versions[fv.Version] = &version{Version: Version{Version: fv.Version, Created: fv.Created, Wraps: fv.Wraps}, material: mat}
	}
	if _, ok := k.versions[f.Active]; !ok {
		return fmt.Errorf("%w: active version %d missing", ErrCorruptKeyring, f.Active)
	}
	// Versions are never removed and each rotation adds active+1, so a
	// keyring written by this package holds exactly 1..active. "active" is
	// not authenticated by the root key: an active below the newest version
	// would make the next rotation recreate (overwrite) version active+1
	// and the next persist drop every version above it.
	for v := range k.versions {
		if v > f.Active {
			return fmt.Errorf("%w: version %d is newer than the active version %d", ErrCorruptKeyring, v, f.Active)
		}
	}
	if uint64(len(k.versions)) != uint64(f.Active) {
		return fmt.Errorf("%w: versions are not exactly 1..%d (active)", ErrCorruptKeyring, f.Active)
	}
	k.active = f.Active
	// Everything reserved before the restart counts as used.
	k.reserved, k.wraps = f.WrapsReserved, f.WrapsReserved
	k.versions[k.active].Wraps = k.wraps
	return nil
}

func (k *Keyring) persistLocked() error {
	if k.cfg.Dir == "" {
		return nil
	}
	f := fileData{
		Format: fileFormat, RootKeyID: k.cfg.RootKey.ID(), Active: k.active,
		WrapsReserved: k.reserved, RotateEvery: k.cfg.RotateEvery.String(), MaxWraps: k.cfg.MaxWraps,
	}
	for v := uint32(1); v <= k.active; v++ {
		ver, ok := k.versions[v]
		if !ok {
			continue
		}
		sealed, err := k.cfg.RootKey.Seal(sealPurpose, ver.material, versionAAD(v))
		if err != nil {
			return fmt.Errorf("seal master key version %d: %w", v, err)
		}
		wraps := ver.Wraps
		if v == k.active {
			wraps = k.reserved
		}
		f.Versions = append(f.Versions, fileVersion{Version: v, Created: ver.Created, Sealed: base64.StdEncoding.EncodeToString(sealed), Wraps: wraps})
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encode master keyring: %w", err)
	}
	if err := os.MkdirAll(k.cfg.Dir, 0o700); err != nil {
		return fmt.Errorf("create keyring dir: %w", err)
	}
	return k.cfg.State.Write(StateName, filepath.Join(k.cfg.Dir, FileName), data)
}

func (k *Keyring) addVersionLocked() error {
	mat := make([]byte, materialSize)
	if _, err := io.ReadFull(k.cfg.Rand, mat); err != nil {
		return fmt.Errorf("generate master key: %w", err)
	}
	next := k.active + 1
	if prev, ok := k.versions[k.active]; ok {
		prev.Wraps = k.wraps
	}
	k.versions[next] = &version{Version: Version{Version: next, Created: k.cfg.Clock.Now()}, material: mat}
	oldActive, oldReserved, oldWraps := k.active, k.reserved, k.wraps
	k.active, k.reserved, k.wraps = next, 0, 0
	if err := k.persistLocked(); err != nil {
		delete(k.versions, next)
		k.active, k.reserved, k.wraps = oldActive, oldReserved, oldWraps
		return err
	}
	return nil
}

// Rotate makes a new master key version active and returns its number.
// Older versions stay available for unsealing.
func (k *Keyring) Rotate(ctx context.Context) (uint32, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.addVersionLocked(); err != nil {
		return 0, fmt.Errorf("rotate master key: %w", err)
	}
	return k.active, nil
}

// Active returns the version new data keys are sealed under.
func (k *Keyring) Active() uint32 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.active
}

// Versions lists every version, oldest first.
func (k *Keyring) Versions() []Version {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]Version, 0, len(k.versions))
	for v := uint32(1); v <= k.active; v++ {
		if ver, ok := k.versions[v]; ok {
			vv := ver.Version
			if v == k.active {
				vv.Wraps = k.wraps
			}
			out = append(out, vv)
		}
	}
	return out
}

// rotateIfDueLocked applies the time and count policy before a wrap.
func (k *Keyring) rotateIfDueLocked() error {
	cur := k.versions[k.active]
	if k.wraps >= k.cfg.MaxWraps || !k.cfg.Clock.Now().Before(cur.Created.Add(k.cfg.RotateEvery)) {
		return k.addVersionLocked()
	}
	return nil
}

func deriveAEAD(material, salt []byte) (cipher.AEAD, error) {
	sub, err := hkdf.Key(sha256.New, material, salt, wrapInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("derive wrap key: %w", err)
	}
	block, err := aes.NewCipher(sub)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Seal seals dataKey under the active master version (rotating first when
// the version is too old or has sealed MaxWraps keys) and binds it to
// binding. It returns the version used and the sealed key.
func (k *Keyring) Seal(ctx context.Context, dataKey, binding []byte) (uint32, []byte, error) {
	k.mu.Lock()
	if err := k.rotateIfDueLocked(); err != nil {
		k.mu.Unlock()
		return 0, nil, fmt.Errorf("rotate master key: %w", err)
	}
	if k.wraps >= k.reserved {
		k.reserved += reserveBlock
		if err := k.persistLocked(); err != nil {
			k.reserved -= reserveBlock
			k.mu.Unlock()
			return 0, nil, fmt.Errorf("reserve master key uses: %w", err)
		}
	}
	k.wraps++
	ver := k.versions[k.active]
	k.mu.Unlock()

	out := make([]byte, headerSize+nonceSize, headerSize+nonceSize+len(dataKey)+tagSize)
	out[0] = sealedFormat
	binary.BigEndian.PutUint32(out[1:5], ver.Version.Version)
	if _, err := io.ReadFull(k.cfg.Rand, out[5:]); err != nil {
		return 0, nil, fmt.Errorf("seal data key: read random: %w", err)
	}
	g, err := deriveAEAD(ver.material, out[5:headerSize])
	if err != nil {
		return 0, nil, fmt.Errorf("seal data key: %w", err)
	}
	aad := append(append([]byte(nil), out[:headerSize]...), binding...)
	return ver.Version.Version, g.Seal(out, out[headerSize:], dataKey, aad), nil
}

// SealedVersion reports which master version a sealed key names.
func SealedVersion(sealed []byte) (uint32, error) {
	if len(sealed) < headerSize+nonceSize+tagSize {
		return 0, fmt.Errorf("%w: %d bytes", ErrMalformedSealedKey, len(sealed))
	}
	if sealed[0] != sealedFormat {
		return 0, fmt.Errorf("%w: format %d", ErrMalformedSealedKey, sealed[0])
	}
	return binary.BigEndian.Uint32(sealed[1:5]), nil
}

// Unseal returns the data key sealed by Seal with the same binding.
func (k *Keyring) Unseal(ctx context.Context, sealed, binding []byte) ([]byte, error) {
	v, err := SealedVersion(sealed)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	ver, ok := k.versions[v]
	k.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: %d", ErrUnknownVersion, v)
	}
	g, err := deriveAEAD(ver.material, sealed[5:headerSize])
	if err != nil {
		return nil, fmt.Errorf("unseal data key: %w", err)
	}
	aad := append(append([]byte(nil), sealed[:headerSize]...), binding...)
	dk, err := g.Open(nil, sealed[headerSize:headerSize+nonceSize], sealed[headerSize+nonceSize:], aad)
	if err != nil {
		return nil, ErrUnseal
	}
	return dk, nil
}

// Rewrap re-seals a data key under the active version without touching
// the data it protects. A key already under the active version is
// re-sealed anyway (fresh salt), which is harmless.
func (k *Keyring) Rewrap(ctx context.Context, sealed, binding []byte) (uint32, []byte, error) {
	dk, err := k.Unseal(ctx, sealed, binding)
	if err != nil {
		return 0, nil, fmt.Errorf("rewrap: %w", err)
	}
	defer clear(dk)
	return k.Seal(ctx, dk, binding)
}
