package objstore

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/crc64"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/sseaudit/sseaudit/reference/faults"

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
		err := s.view(func(tx *bolt.Tx) error {
			b, r, err := s.lookupTx(tx, bucket, key, versionID)
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
			if !validDataName(f.Name) { // objectRecord.validate checked it; never open a path
				return integrityErr(o.integrity(info, "data file name", fmt.Sprintf("%q", f.Name)))
			}
			fd, err := os.Open(filepath.Join(s.dataDir, f.Name))
			if errors.Is(err, fs.ErrNotExist) {
				return integrityErr(o.integrity(info, "data file missing", f.Name))
			}
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
	if customerKeyFrom(ctx) != nil && rec.Record == nil {
		o.closeFiles()
		return nil, newErr(KindInvalidRequest, res, msgSSECNotApplicable, nil)
	}
	switch {
	case rec.Record != nil:
		dk, err := s.openDataKey(ctx, p, res, region, rec.Record, rec.Algorithm, rec.KMSKeyID, bucket, key, rec.VersionID)
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
			detail := fmt.Sprintf("data file %s holds %d bytes, metadata says %d", f.Name, st.Size(), f.Stored)
			if rec.Record != nil {
				return newErr(KindDecryptFailed, o.res, msgDecryptFailed, errors.New(detail))
			}
			return integrityErr(o.integrity(o.info, "data file size", detail))
		}
	}
	if total != rec.Size {
		return integrityErr(o.integrity(o.info, "record content", fmt.Sprintf("parts hold %d bytes, object size is %d", total, rec.Size)))
	}
	return nil
}

// integrity describes a failure of the object described by info.
func (o *diskObject) integrity(info ObjectInfo, check, detail string) *IntegrityError {
	return &IntegrityError{Bucket: info.Bucket, Key: info.Key, VersionID: info.VersionID, Check: check, Detail: detail}
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
		if sg.off == 0 && sg.len == f.Size {
			r.cur = newPlainVerifier(r.cur, f, func(check, detail string) error {
				return integrityErr(r.o.integrity(r.o.info, check, detail))
			})
		}
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

// plainVerifier streams a whole unencrypted data file and checks the
// plaintext checksum of its record (CRC-32C, or CRC-64 for files written
// before format 2) before it returns the file's last bytes: the read that
// would reach the end holds its bytes back until the checksum matched,
// and on a mismatch returns none of them, only an *IntegrityError. A GET
// that meets it has sent its status and headers, so the front end aborts
// the response: the client sees a body shorter than its Content-Length
// (a connection reset), never a complete 200 of altered bytes. The check
// detects corruption (every single-bit and burst error), not a deliberate
// substitution that keeps the CRC: plain objects are not authenticated
// against someone who can write the data directory.
type plainVerifier struct {
	r      io.Reader
	left   int64
	c32    uint32
	c64    uint64
	want   uint64
	use32  bool
	fail   func(check, detail string) error
	failed error
}

func newPlainVerifier(r io.Reader, f dataFile, fail func(check, detail string) error) *plainVerifier {
	v := &plainVerifier{r: r, left: f.Size, fail: fail, use32: f.CRC32C != 0}
	if v.use32 {
		v.want = f.CRC32C &^ (1 << 32)
	} else {
		v.want = f.CRC64
	}
	return v
}

func (v *plainVerifier) update(p []byte) {
	if v.use32 {
		v.c32 = crc32.Update(v.c32, castagnoli, p)
	} else {
		v.c64 = crc64.Update(v.c64, crcTable, p)
	}
}

func (v *plainVerifier) Read(p []byte) (int, error) {
	if v.failed != nil {
		return 0, v.failed
	}
	if v.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) < v.left {
		n, err := v.r.Read(p)
		v.update(p[:n])
		v.left -= int64(n)
		return n, err
	}
	p = p[:v.left]
	n, err := io.ReadFull(v.r, p)
	v.update(p[:n])
	v.left -= int64(n)
	if err != nil {
		if err == io.ErrUnexpectedEOF {
			err = io.EOF // the caller reports the short file
		}
		return n, err
	}
	got, check := uint64(v.c32), "plaintext CRC-32C"
	if !v.use32 {
		got, check = v.c64, "plaintext CRC-64"
	}
	if got != v.want {
		v.failed = v.fail(check, fmt.Sprintf("data file content has checksum %#x, record says %#x", got, v.want))
		return 0, v.failed
	}
	return n, nil
}
