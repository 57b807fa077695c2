package objstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// CorruptDatabaseError reports a metadata database that cannot be read
// consistently: bbolt refuses it, its consistency check finds broken
// pages, or reading it panicked (a corrupt page can make bbolt panic; Open
// turns that into this error). The data files are not touched.
type CorruptDatabaseError struct {
	Path string
	Err  error
}

func (e *CorruptDatabaseError) Error() string {
	return fmt.Sprintf("objstore: metadata database %s is corrupt: %v; restore it from a backup (the data files were not touched)", e.Path, e.Err)
}

func (e *CorruptDatabaseError) Unwrap() error { return e.Err }

// ErrUnauthenticatedDatabase reports a database written before record
// authentication that Open was not allowed to adopt
// (Config.AdoptUnauthenticated).
var ErrUnauthenticatedDatabase = errors.New("objstore: the metadata database holds records written before record authentication")

// maxCheckErrors bounds the consistency problems one error reports.
const maxCheckErrors = 5

// openMeta opens the metadata database and readies it: bbolt's page
// consistency check, the tables, adoption of legacy records and garbage
// collection. Any panic on the way (bbolt reading a corrupt page, with
// faults turned into panics for this goroutine) becomes a
// *CorruptDatabaseError; on error the database is closed.
func (s *DiskStore) openMeta(ctx context.Context, adopt bool) (err error) {
	path := filepath.Join(s.dir, MetaFile)
	defer func() {
		if p := recover(); p != nil {
			err = &CorruptDatabaseError{Path: path, Err: fmt.Errorf("reading it panicked: %v", p)}
		}
		if err != nil && s.db != nil {
			s.db.Close()
			s.db = nil
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		var pe *fs.PathError
		if errors.Is(err, berrors.ErrTimeout) || errors.As(err, &pe) {
			return fmt.Errorf("objstore: open metadata: %w", err)
		}
		return &CorruptDatabaseError{Path: path, Err: err}
	}
	s.db = db
	if err := checkPages(db); err != nil {
		return &CorruptDatabaseError{Path: path, Err: err}
	}
	if err := db.Update(ensureTables); err != nil {
		return err
	}
	if err := s.adoptLegacy(adopt); err != nil {
		return err
	}
	return s.collectGarbage(ctx)
}

// openMetaReadOnly opens the database for Check: read-only, no tables
// created, no adoption, no garbage collection. A database that is not
// authenticated (older formats) is ErrUnauthenticatedDatabase, as Open
// without adoption would say.
func (s *DiskStore) openMetaReadOnly() (err error) {
	path := filepath.Join(s.dir, MetaFile)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("objstore: open metadata: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			err = &CorruptDatabaseError{Path: path, Err: fmt.Errorf("reading it panicked: %v", p)}
		}
		if err != nil && s.db != nil {
			s.db.Close()
			s.db = nil
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second, ReadOnly: true})
	if err != nil {
		var pe *fs.PathError
		if errors.Is(err, berrors.ErrTimeout) || errors.As(err, &pe) {
			return fmt.Errorf("objstore: open metadata: %w", err)
		}
		return &CorruptDatabaseError{Path: path, Err: err}
	}
	s.db = db
	if err := checkPages(db); err != nil {
		return &CorruptDatabaseError{Path: path, Err: err}
	}
	return db.View(func(tx *bolt.Tx) error {
		for _, t := range [][]byte{tblMeta, tblObjects, tblVersions} {
			if tx.Bucket(t) == nil {
				return &CorruptDatabaseError{Path: path, Err: fmt.Errorf("table %s is missing", t)}
			}
		}
		if f := string(tx.Bucket(tblMeta).Get(keyFormat)); f != metaFormatAuthenticated {
			return fmt.Errorf("%w: format %q", ErrUnauthenticatedDatabase, f)
		}
		return nil
	})
}

// checkPages runs bbolt's consistency check (every reachable page, the
// freelist) and reports its first problems. It costs one pass over the
// database, as garbage collection does.
//
// bbolt runs its check on a goroutine of its own, where a corrupted
// element that points outside the file would fault and kill the process
// (SetPanicOnFault is per goroutine): touchAll first reads every key and
// value the check will, on the caller's goroutine, where such a fault is
// a panic its caller turns into a *CorruptDatabaseError.
func checkPages(db *bolt.DB) error {
	if err := db.View(touchAll); err != nil {
		return err
	}
	var errs []error
	err := db.View(func(tx *bolt.Tx) error {
		for e := range tx.Check() {
			if len(errs) < maxCheckErrors {
				errs = append(errs, e)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return errors.Join(errs...)
}

// adoptLegacy makes a database of format v1 to v3 authenticated. Records
// already in format 2 must verify (a build of this version wrote them
// and a crash interrupted an earlier adoption); every other record is
// rewritten in format 2 as found, when adopt allows it, else Open fails
// with ErrUnauthenticatedDatabase. A record that does not decode or
// breaks objectRecord.validate is left as it is (reads report it as an
// integrity failure) and logged. The format becomes
// metaFormatAuthenticated last, so an adoption interrupted by a crash
// resumes on the next start.
func (s *DiskStore) adoptLegacy(adopt bool) error {
	var format string
	if err := s.view(func(tx *bolt.Tx) error {
		format = string(tx.Bucket(tblMeta).Get(keyFormat))
		return nil
	}); err != nil {
		return err
	}
	if format == metaFormatAuthenticated {
		return nil
	}
	type rewrite struct{ k, v []byte }
	adopted, skipped := 0, 0
	for _, tbl := range [][]byte{tblObjects, tblVersions} {
		var names [][]byte
		if err := s.view(func(tx *bolt.Tx) error {
			return tx.Bucket(tbl).ForEachBucket(func(name []byte) error {
				names = append(names, bytes.Clone(name))
				return nil
			})
		}); err != nil {
			return err
		}
		tag := byte(tagObjects)
		if bytes.Equal(tbl, tblVersions) {
			tag = tagVersions
		}
		for _, name := range names {
			err := s.update(func(tx *bolt.Tx) error {
				t := tx.Bucket(tbl).Bucket(name)
				var todo []rewrite
				err := t.ForEach(func(k, v []byte) error {
					if len(v) > 0 && v[0] == recBinary2 {
						if _, err := s.mac.open(string(name), tag, k, v); err != nil {
							return fmt.Errorf("objstore: refusing to adopt a database whose authenticated records fail verification: %w", err)
						}
						return nil
					}
					if !adopt {
						return fmt.Errorf("%w (format %q, first in %s/%q); start once with adoption of unauthenticated metadata enabled (objstore.Config.AdoptUnauthenticated) to authenticate them as found",
							ErrUnauthenticatedDatabase, format, name, k)
					}
					rec, err := decodeObject(v, "object")
					if err == nil {
						err = rec.validate()
					}
					if err != nil {
						skipped++
						s.log.Error("legacy record not adopted: reads of it fail the integrity check", "table", string(tbl), "bucket", string(name), "key", string(k), "err", err)
						return nil
					}
					todo = append(todo, rewrite{bytes.Clone(k), s.mac.seal(string(name), tag, k, rec)})
					return nil
				})
				if err != nil {
					return err
				}
				for _, r := range todo {
					if err := t.Put(r.k, r.v); err != nil {
						return err
					}
				}
				adopted += len(todo)
				return nil
			})
			if err != nil {
				return err
			}
		}
	}
	if err := s.update(func(tx *bolt.Tx) error {
		return tx.Bucket(tblMeta).Put(keyFormat, []byte(metaFormatAuthenticated))
	}); err != nil {
		return err
	}
	if adopted > 0 || skipped > 0 {
		s.log.Warn("adopted unauthenticated metadata records as found: edits made before this start cannot be detected",
			"from_format", format, "adopted", adopted, "not_adopted", skipped)
	}
	return nil
}

// view and update run a bbolt transaction the way openMeta opens the
// database: memory faults become panics for this goroutine, and a panic
// (bbolt reading a page that a corrupted byte sent out of bounds) becomes
// an internal *Error wrapping a *CorruptDatabaseError instead of taking
// the server down. bbolt rolls the transaction back on the way out, so
// the writer lock is released. The page check at Open cannot catch every
// corruption: a flipped length inside a leaf is only met when read.
func (s *DiskStore) view(fn func(*bolt.Tx) error) error { return s.runTx(false, fn) }

func (s *DiskStore) update(fn func(*bolt.Tx) error) error { return s.runTx(true, fn) }

func (s *DiskStore) runTx(write bool, fn func(*bolt.Tx) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = s.txPanicked(p)
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	if write {
		return s.db.Update(fn)
	}
	return s.db.View(fn)
}

// txPanicked is the error of a transaction that panicked (runTx; the
// group commit's per-update recovery).
func (s *DiskStore) txPanicked(p any) error {
	return internal("", &CorruptDatabaseError{Path: filepath.Join(s.dir, MetaFile), Err: fmt.Errorf("reading it panicked: %v", p)})
}

// touchAll reads every byte of every key and value in every bucket,
// nested ones included. It finds nothing by itself: its reads are where
// a corrupted element's out-of-range offset or length faults (see
// checkPages).
func touchAll(tx *bolt.Tx) error {
	var sum byte
	var walk func(b *bolt.Bucket) error
	walk = func(b *bolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			for _, c := range k {
				sum ^= c
			}
			if v == nil {
				nb := b.Bucket(k)
				if nb == nil {
					return fmt.Errorf("key %x has no value and is no bucket", k)
				}
				return walk(nb)
			}
			for _, c := range v {
				sum ^= c
			}
			return nil
		})
	}
	err := tx.ForEach(func(name []byte, b *bolt.Bucket) error {
		for _, c := range name {
			sum ^= c
		}
		return walk(b)
	})
	_ = sum
	return err
}
