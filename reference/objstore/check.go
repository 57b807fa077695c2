package objstore

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/crc64"
	"io"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// Problem is one integrity problem Check found. It names where and what,
// never key material or data.
type Problem struct {
	Bucket, Key string
	// VersionID is the version the record claims ("" for the null
	// version or when the record does not authenticate); Table is
	// "objects", "versions" or "parts" (an upload's part).
	VersionID, Table string
	// Check is what failed, as in IntegrityError.Check ("record
	// authentication", "data file missing", "data file size", "plaintext
	// CRC-32C", "data file shared", ...).
	Check, Detail string
}

func (p Problem) String() string {
	s := fmt.Sprintf("%s/%s", p.Bucket, p.Key)
	if p.VersionID != "" {
		s += " version " + p.VersionID
	}
	return fmt.Sprintf("%s (%s): %s: %s", s, p.Table, p.Check, p.Detail)
}

// CheckOptions select what Check reads beyond metadata.
type CheckOptions struct {
	// PlainData reads every unencrypted data file and verifies its
	// plaintext CRC (reads all plain bytes; encrypted data is never read:
	// it is authenticated by the stream format when decrypted).
	PlainData bool
}

// checkedFile is a data file a record names, with what the record says.
type checkedFile struct {
	where Problem // Bucket, Key, VersionID, Table of the record
	file  dataFile
	plain bool
}

// Check verifies, without decrypting anything and without KMS, every
// object and version record's authentication at its position and
// content, and every data file they and the uploads' parts name: present,
// of the recorded size, referenced once, and (opts.PlainData) unencrypted
// plaintext matching its CRC. It returns every problem found; the error
// is for failures to run the check (a database that cannot be read,
// ctx), not for problems. It may run while the store serves requests:
// records are read in one read transaction, files checked after it, so a
// file removed by a concurrent overwrite can show up as missing.
func (s *DiskStore) Check(ctx context.Context, opts CheckOptions) ([]Problem, error) {
	var problems []Problem
	var files []checkedFile
	err := s.view(func(tx *bolt.Tx) error {
		for _, tbl := range []struct {
			name []byte
			tag  byte
			what string
		}{{tblObjects, tagObjects, "objects"}, {tblVersions, tagVersions, "versions"}} {
			err := tx.Bucket(tbl.name).ForEachBucket(func(name []byte) error {
				return tx.Bucket(tbl.name).Bucket(name).ForEach(func(k, v []byte) error {
					if err := ctx.Err(); err != nil {
						return err
					}
					rec, err := s.mac.open(string(name), tbl.tag, k, v)
					if err != nil {
						var ie *IntegrityError
						if !errors.As(err, &ie) {
							return err
						}
						problems = append(problems, Problem{Bucket: ie.Bucket, Key: ie.Key, VersionID: ie.VersionID, Table: ie.Table, Check: ie.Check, Detail: ie.Detail})
						return nil
					}
					where := Problem{Bucket: string(name), Key: string(k), VersionID: rec.VersionID, Table: tbl.what}
					if tbl.tag == tagVersions {
						where.Key, _, _ = parseUploadKey(k)
					}
					var total int64
					for _, f := range rec.Files {
						total += f.Size
						files = append(files, checkedFile{where: where, file: f, plain: rec.Record == nil})
					}
					if total != rec.Size {
						p := where
						p.Check, p.Detail = "record content", fmt.Sprintf("parts hold %d bytes, object size is %d", total, rec.Size)
						problems = append(problems, p)
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
				where := Problem{Key: "upload " + string(id), Table: "parts"}
				pr, err := decode[partRecord](v, "part")
				if err == nil && !validDataName(pr.Name) {
					err = fmt.Errorf("data file name %q is not one this store writes", pr.Name)
				}
				if err != nil {
					where.Check, where.Detail = "record content", err.Error()
					problems = append(problems, where)
					return nil
				}
				// A part's plaintext is checked once completed, when the
				// upload's encryption is known.
				files = append(files, checkedFile{where: where, file: pr.dataFile})
				return nil
			})
		})
	})
	if err != nil {
		return problems, fmt.Errorf("objstore: check: %w", err)
	}
	seen := make(map[string]Problem, len(files))
	for _, cf := range files {
		if err := ctx.Err(); err != nil {
			return problems, err
		}
		fail := func(check, detail string) {
			p := cf.where
			p.Check, p.Detail = check, detail
			problems = append(problems, p)
		}
		if first, dup := seen[cf.file.Name]; dup {
			fail("data file shared", fmt.Sprintf("%s is also named by %s", cf.file.Name, first.String()))
			continue
		}
		seen[cf.file.Name] = cf.where
		path := filepath.Join(s.dataDir, cf.file.Name)
		st, err := os.Stat(path)
		switch {
		case errors.Is(err, os.ErrNotExist):
			fail("data file missing", cf.file.Name)
			continue
		case err != nil:
			return problems, fmt.Errorf("objstore: check: %w", err)
		case st.Size() != cf.file.Stored:
			fail("data file size", fmt.Sprintf("data file %s holds %d bytes, metadata says %d", cf.file.Name, st.Size(), cf.file.Stored))
			continue
		}
		if cf.plain && opts.PlainData {
			if detail, err := checkPlainFile(path, cf.file); err != nil {
				return problems, fmt.Errorf("objstore: check: %w", err)
			} else if detail != "" {
				check := "plaintext CRC-32C"
				if cf.file.CRC32C == 0 {
					check = "plaintext CRC-64"
				}
				fail(check, detail)
			}
		}
	}
	return problems, nil
}

// checkPlainFile reads an unencrypted data file and compares its CRC with
// the record's; it returns a non-empty detail on a mismatch.
func checkPlainFile(path string, f dataFile) (string, error) {
	fd, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer fd.Close()
	var got, want uint64
	if f.CRC32C != 0 {
		h := crc32.New(castagnoli)
		if _, err := io.Copy(h, fd); err != nil {
			return "", err
		}
		got, want = uint64(h.Sum32()), f.CRC32C&^(1<<32)
	} else {
		h := crc64.New(crcTable)
		if _, err := io.Copy(h, fd); err != nil {
			return "", err
		}
		got, want = h.Sum64(), f.CRC64
	}
	if got != want {
		return fmt.Sprintf("data file %s content has checksum %#x, record says %#x", f.Name, got, want), nil
	}
	return "", nil
}
