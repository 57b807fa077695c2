package objstore

import (
	"context"
	"errors"
	"fmt"
	"github.com/sseaudit/sseaudit/reference/faults"
	"io"
	"os"
	"path/filepath"
	"sync"

	bolt "go.etcd.io/bbolt"

	"github.com/sseaudit/sseaudit/reference/envelope"
)

// diskObject is an open object: its metadata snapshot, its data files held
// open (so a concurrent overwrite or delete, which only unlinks them,
// changes nothing it returns) and its unsealed data key.
type diskObject struct {
	res   string
	info  ObjectInfo
	files []dataFile
	fds   []*os.File
	dk    *envelope.DataKey // nil when unencrypted

	mu     sync.Mutex
	closed bool
}

var _ Object = (*diskObject)(nil)

// openObject reads the record and opens the data files under rmMu (see
// DiskStore.rmMu), then checks decrypt permission and unseals the data key.
func (s *DiskStore) openObject(ctx context.Context, p Principal, bucket, key, versionID string) (*diskObject, error) {
	res := objectRes(bucket, key)
	var rec *objectRecord
	var region string
	var info ObjectInfo
	o := &diskObject{res: res}
	err := func() error {
		s.rmMu.RLock()
		defer s.rmMu.RUnlock()
		err := s.db.View(func(tx *bolt.Tx) error {
			b, r, err := lookupTx(tx, bucket, key, versionID)
			if err != nil {
				return err
			}
			region, rec, info = b.Region, r, r.versionInfo(b, key)
			return nil
		})
		if err != nil {
			return asError(res, err)
		}
		for _, f := range rec.Files {
			fd, err := os.Open(filepath.Join(s.dataDir, f.Name))
			if err != nil {
				return internal(res, fmt.Errorf("data file of %s: %w", res, err))
			}
			o.fds = append(o.fds, fd)
		}
		return nil
	}()
	if err != nil {
		o.closeFiles()
		return nil, err
	}
	o.info, o.files = info, rec.Files
	if err := o.checkSizes(rec); err != nil {
		o.closeFiles()
		return nil, err
	}
	switch {
	case rec.Record != nil:
		dk, err := s.openDataKey(ctx, p, res, region, rec.Record, rec.Algorithm, rec.KMSKeyID, bucket, key)
		if err != nil {
			o.closeFiles()
			return nil, err
		}
		o.dk = dk
	case rec.FaultPlaintext && s.faults.Has(faults.PlaintextAtRest):
		// The PlaintextAtRest fault stored these bytes unencrypted.
	case rec.Algorithm != "":
		// Marked encrypted but without a record: never serve the bytes.
		o.closeFiles()
		return nil, newErr(KindDecryptFailed, res, msgDecryptFailed, errors.New("encrypted object without an encryption record"))
	}
	return o, nil
}

// checkSizes compares the data files with the record: the sizes must add
// up and every file must hold exactly its recorded bytes.
func (o *diskObject) checkSizes(rec *objectRecord) error {
	var total int64
	for i, f := range rec.Files {
		total += f.Size
		st, err := o.fds[i].Stat()
		if err != nil {
			return internal(o.res, err)
		}
		if st.Size() != f.Stored || (rec.Record == nil && f.Stored != f.Size) {
			err := fmt.Errorf("data file %s holds %d bytes, metadata says %d", f.Name, st.Size(), f.Stored)
			if rec.Record != nil {
				return newErr(KindDecryptFailed, o.res, msgDecryptFailed, err)
			}
			return internal(o.res, err)
		}
	}
	if total != rec.Size {
		return internal(o.res, fmt.Errorf("parts hold %d bytes, object size is %d", total, rec.Size))
	}
	return nil
}

func (o *diskObject) closeFiles() {
	for _, fd := range o.fds {
		fd.Close()
	}
	o.fds = nil
}

func (o *diskObject) Info() ObjectInfo { return o.info }

// Close releases the data files and destroys the data key. Readers
// returned by Range must be finished before.
func (o *diskObject) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil
	}
	o.closed = true
	o.closeFiles()
	if o.dk != nil {
		o.dk.Destroy()
	}
	return nil
}

// segment is the part of a Range that lies in one data file.
type segment struct {
	file     int   // index into files/fds
	off, len int64 // plaintext range within the file
}

// Range returns the plaintext [off, off+length). Only the chunks holding
// it are read and authenticated; for multipart objects the range may span
// parts, each decrypted with its own part stream.
func (o *diskObject) Range(ctx context.Context, off, length int64) (io.ReadCloser, error) {
	o.mu.Lock()
	closed := o.closed
	o.mu.Unlock()
	if closed {
		return nil, internal(o.res, errors.New("range on a closed object"))
	}
	if off < 0 || length < 0 || off > o.info.Size || length > o.info.Size-off {
		return nil, newErr(KindInvalidRange, o.res, msgInvalidRange,
			fmt.Errorf("[%d, %d+%d) of %d bytes", off, off, length, o.info.Size))
	}
	var segs []segment
	var base int64
	for i, f := range o.files {
		lo, hi := max(off, base), min(off+length, base+f.Size)
		if lo < hi {
			segs = append(segs, segment{file: i, off: lo - base, len: hi - lo})
		}
		base += f.Size
	}
	return &rangeReader{ctx: ctx, o: o, segs: segs}, nil
}

// rangeReader reads the segments of a range one after the other, opening
// each segment's reader only when it is reached (so memory stays at one
// chunk whatever the range).
type rangeReader struct {
	ctx  context.Context
	o    *diskObject
	segs []segment
	cur  io.Reader
	left int64 // bytes still expected from cur
	err  error
}

func (r *rangeReader) open() error {
	sg := r.segs[0]
	r.segs = r.segs[1:]
	f, fd := r.o.files[sg.file], r.o.fds[sg.file]
	r.left = sg.len
	if r.o.dk == nil {
		r.cur = io.NewSectionReader(fd, sg.off, sg.len)
		return nil
	}
	rd, err := r.o.dk.DecryptRange(fd, f.Stored, f.Part, sg.off, sg.len)
	if err != nil {
		return dataError(r.o.res, err)
	}
	r.cur = rd
	return nil
}

func (r *rangeReader) Read(p []byte) (int, error) {
	for r.err == nil {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			break
		}
		if r.cur == nil {
			if len(r.segs) == 0 {
				r.err = io.EOF
				break
			}
			if err := r.open(); err != nil {
				r.err = err
				break
			}
		}
		n, err := r.cur.Read(p)
		r.left -= int64(n)
		if err == io.EOF {
			if r.left != 0 {
				r.err = r.short()
				return n, r.err
			}
			r.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		if err != nil {
			r.err = dataError(r.o.res, err)
		}
		return n, r.err
	}
	return 0, r.err
}

func (r *rangeReader) short() error {
	return internal(r.o.res, fmt.Errorf("data file ended %d bytes early", r.left))
}

// WriteTo lets io.Copy use the segment readers' own WriteTo (no extra
// copy for decrypted chunks; sendfile-capable destinations for plain ones).
func (r *rangeReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for r.err == nil {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			break
		}
		if r.cur == nil {
			if len(r.segs) == 0 {
				r.err = io.EOF
				break
			}
			if err := r.open(); err != nil {
				r.err = err
				break
			}
		}
		n, err := io.Copy(w, r.cur)
		total += n
		r.left -= n
		if err != nil {
			if isAuthFailure(err) {
				err = dataError(r.o.res, err)
			}
			r.err = err
			return total, err
		}
		if r.left != 0 {
			r.err = r.short()
			return total, r.err
		}
		r.cur = nil
	}
	if r.err == io.EOF {
		return total, nil
	}
	return total, r.err
}

func (r *rangeReader) Close() error {
	r.cur, r.segs = nil, nil
	if r.err == nil {
		r.err = errors.New("objstore: read after Close")
	}
	return nil
}
