package objstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// collectGarbage runs in Open before the store is shared. It empties tmp/
// (writes that never completed) and removes every data file that no
// object or part record references: a crash between a rename into data/
// and the metadata commit, or between a commit and the removal of the
// files it replaced, leaves such orphans. Nothing visible is ever removed,
// because visibility is exactly "referenced by a committed record". If a
// record cannot be decoded, data files are left alone (the set of
// referenced files would be unknown).
func (s *DiskStore) collectGarbage(ctx context.Context) error {
	tmps, err := os.ReadDir(s.tmpDir)
	if err != nil {
		return fmt.Errorf("objstore: read %s: %w", s.tmpDir, err)
	}
	for _, e := range tmps {
		if err := os.RemoveAll(filepath.Join(s.tmpDir, e.Name())); err != nil {
			return fmt.Errorf("objstore: clean tmp: %w", err)
		}
	}
	if len(tmps) > 0 {
		s.log.Info("removed incomplete writes", "count", len(tmps))
	}

	refs := map[string]bool{}
	err = s.view(func(tx *bolt.Tx) error {
		// Noncurrent versions reference data files as current objects do.
		// Only authenticated records count: a record edited (or corrupted)
		// to name another file must not make the file it named look
		// unreferenced, so any failure leaves data/ alone.
		for _, tbl := range [][]byte{tblObjects, tblVersions} {
			tag := byte(tagObjects)
			if string(tbl) == string(tblVersions) {
				tag = tagVersions
			}
			err := tx.Bucket(tbl).ForEachBucket(func(name []byte) error {
				return tx.Bucket(tbl).Bucket(name).ForEach(func(k, v []byte) error {
					rec, err := s.mac.open(string(name), tag, k, v)
					if err != nil {
						return fmt.Errorf("%s %s/%q: %w", tbl, name, k, err)
					}
					for _, f := range rec.Files {
						refs[f.Name] = true
					}
					return nil
				})
			})
			if err != nil {
				return err
			}
		}
		return tx.Bucket(tblParts).ForEachBucket(func(id []byte) error {
			return tx.Bucket(tblParts).Bucket(id).ForEach(func(k, v []byte) error {
				pr, err := decode[partRecord](v, "part")
				if err != nil {
					return fmt.Errorf("upload %s part: %w", id, err)
				}
				refs[pr.Name] = true
				return nil
			})
		})
	})
	if err != nil {
		s.log.Error("metadata has unreadable or unauthenticated records; skipping data file garbage collection", "err", err)
		return nil
	}
	files, err := os.ReadDir(s.dataDir)
	if err != nil {
		return fmt.Errorf("objstore: read %s: %w", s.dataDir, err)
	}
	removed := 0
	for _, e := range files {
		name := e.Name()
		if refs[name] {
			continue
		}
		if !validDataName(name) || !e.Type().IsRegular() {
			s.log.Warn("unexpected entry in data directory left alone", "name", name)
			continue
		}
		if err := os.Remove(filepath.Join(s.dataDir, name)); err != nil {
			return fmt.Errorf("objstore: remove orphan: %w", err)
		}
		removed++
	}
	if removed > 0 {
		s.log.Info("removed orphaned data files", "count", removed)
	}
	if err := s.dataFD.Sync(); err != nil {
		return fmt.Errorf("objstore: fsync data dir: %w", err)
	}
	return syncDir(s.tmpDir)
}
