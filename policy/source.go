package policy

import (
	"errors"

	"github.com/sseaudit/sseaudit/snapshot"
)

// Source is a snapshot the engine can read: its summary (everything but
// the objects), then its buckets one at a time with b.Objects filled. The
// signatures are those of snapshot.ReadSummary and snapshot.EachBucket.
// EachBucket must yield buckets in the order of the summary's Buckets.
type Source interface {
	ReadSummary() (snapshot.Summary, error)
	EachBucket(fn func(b snapshot.Bucket) error) error
}

// FileSource reads a snapshot file with package snapshot, streaming one
// bucket at a time.
type FileSource string

// ReadSummary implements Source.
func (s FileSource) ReadSummary() (snapshot.Summary, error) { return snapshot.ReadSummary(string(s)) }

// EachBucket implements Source.
func (s FileSource) EachBucket(fn func(snapshot.Bucket) error) error {
	return snapshot.EachBucket(string(s), fn)
}

// fastSource is implemented by FileSource: the engine's fast path. The
// summary is read without decoding objects (snapshot.ReadHeaders), and the
// objects are streamed raw (snapshot.StreamObjects) and parsed straight
// into AST terms by the workers (jsonast.go), which check each object's
// members against the format (snapshot.CheckObjectMembers) and its bucket
// name.
type fastSource interface {
	fastSummary() (snapshot.Summary, error)
}

func (s FileSource) fastSummary() (snapshot.Summary, error) { return snapshot.ReadHeaders(string(s)) }

// HeadedFileSource is the snapshot file at path whose summary the caller
// has read already with snapshot.ReadHeaders or ReadLeanHeaders: the
// engine uses sum instead of reading a second copy (an estate of 100,000
// buckets holds about 40 MB of bucket records). sum must be the file's and is not modified; it may
// be lean (snapshot.ReadLeanHeaders): the engine then takes each bucket's
// raw response bodies from the file as it evaluates that bucket.
func HeadedFileSource(path string, sum *snapshot.Summary) Source {
	return headedFile{FileSource(path), sum}
}

type headedFile struct {
	FileSource
	sum *snapshot.Summary
}

func (h headedFile) fastSummary() (snapshot.Summary, error) { return *h.sum, nil }

// asFile is the file a source reads, when it reads one.
func asFile(src Source) (FileSource, bool) {
	switch s := src.(type) {
	case FileSource:
		return s, true
	case headedFile:
		return s.FileSource, true
	}
	return "", false
}

// sourceName names src in errors: its path, for a file.
func sourceName(src Source) string {
	if f, ok := asFile(src); ok {
		return string(f)
	}
	return "snapshot"
}

// readSummary reads a source's summary, by the fast path when it has one.
func readSummary(src Source) (snapshot.Summary, error) {
	if f, ok := src.(fastSource); ok {
		return f.fastSummary()
	}
	return src.ReadSummary()
}

// MemorySnapshot is a snapshot held in memory (tests, small scans): a
// summary whose buckets carry their Objects.
type MemorySnapshot snapshot.Summary

// ReadSummary implements Source: the summary with every bucket's Objects nil.
func (m *MemorySnapshot) ReadSummary() (snapshot.Summary, error) {
	s := snapshot.Summary(*m)
	s.Buckets = make([]snapshot.Bucket, len(m.Buckets))
	for i, b := range m.Buckets {
		b.Objects = nil
		s.Buckets[i] = b
	}
	return s, nil
}

// EachBucket implements Source.
func (m *MemorySnapshot) EachBucket(fn func(snapshot.Bucket) error) error {
	for _, b := range m.Buckets {
		if b.Objects == nil {
			b.Objects = []snapshot.Object{}
		}
		if err := fn(b); err != nil {
			return err
		}
	}
	return nil
}

var errStop = errors.New("stop")
