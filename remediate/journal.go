package remediate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/sseaudit/sseaudit/client"
)

// JournalSchema is the version of the journal's lines.
const JournalSchema = "sseaudit.remediation-journal/v1"

// Journal operations.
const (
	OpHeader  = "header"  // first line: the plan it belongs to
	OpDefault = "default" // a bucket default set
	OpStart   = "start"   // a copy is about to be sent; State is what was read before it
	OpDone    = "done"    // the copy is in place (verified or not: Problems)
	OpSkip    = "skip"    // not copied, and why
	OpFail    = "fail"    // the copy was refused or failed; the object is as it was
)

// Entry is one journal line.
type Entry struct {
	Op     string    `json:"op"`
	Time   time.Time `json:"time"`
	Bucket string    `json:"bucket,omitempty"`
	Key    string    `json:"key,omitempty"`
	// Header only.
	Schema     string `json:"schema,omitempty"`
	PlanSHA256 string `json:"plan_sha256,omitempty"`
	// Start: the state read before the copy, which verification compares
	// with, and how the copy is made.
	State *State `json:"state,omitempty"`
	Mode  string `json:"mode,omitempty"` // single or multipart
	// Done: the object after the copy.
	After     *After   `json:"after,omitempty"`
	Recovered bool     `json:"recovered,omitempty"` // the copy had landed before an interruption
	Problems  []string `json:"problems,omitempty"`  // verification failures
	// Skip and fail.
	Reason string `json:"reason,omitempty"`
}

// State is an object as read before its copy.
type State struct {
	VersionID    string            `json:"version_id,omitempty"`
	ETag         string            `json:"etag"`
	Size         int64             `json:"size"`
	LastModified time.Time         `json:"last_modified"`
	SSE          string            `json:"sse,omitempty"`
	KMSKeyID     string            `json:"kms_key_id,omitempty"`
	ContentType  string            `json:"content_type,omitempty"`
	Headers      map[string]string `json:"headers,omitempty"`
	Metadata     map[string]string `json:"metadata,omitempty"`
	StorageClass string            `json:"storage_class,omitempty"`
	ACL          string            `json:"acl"`
	Tags         map[string]string `json:"tags,omitempty"`
	// CRC64 is OSS's x-oss-hash-crc64ecma; SHA256 the content's digest
	// when it had to be read (neither CRC-64 nor an MD5 ETag).
	CRC64  string `json:"crc64,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	// Checksum is S3's additional checksum (nil: none, or OSS), which the
	// copy is asked to keep in its algorithm.
	Checksum *client.Checksum `json:"checksum,omitempty"`
}

// After is an object as read after its copy.
type After struct {
	VersionID string `json:"version_id,omitempty"`
	ETag      string `json:"etag"`
	SSE       string `json:"sse"`
	KMSKeyID  string `json:"kms_key_id,omitempty"`
	// Checksum says how the content was found unchanged.
	Checksum string `json:"checksum"`
	// AdditionalChecksum is S3's additional checksum after the copy (nil:
	// none, or OSS).
	AdditionalChecksum *client.Checksum `json:"additional_checksum,omitempty"`
}

// journal appends fsynced lines to the journal file.
type journal struct {
	mu sync.Mutex
	f  *os.File
}

// objectState is what a journal says of one object.
type objectState struct {
	last  string // the last op: start, done, skip, fail
	start *Entry // the last start
	dones int
}

// openJournal opens (or creates) the journal at path for a plan with
// digest planSHA, and returns what it already says per bucket/key. A
// journal of another plan is refused; a torn last line (the process died
// while writing it) is cut off.
func openJournal(path, planSHA string, now time.Time) (*journal, map[[2]string]*objectState, []Entry, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("remediate: open the journal: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, nil, nil, fmt.Errorf("remediate: read the journal %s: %w", path, err)
	}
	whole := data
	if i := bytes.LastIndexByte(data, '\n'); i+1 != len(data) {
		whole = data[:i+1]
		if err := f.Truncate(int64(len(whole))); err != nil {
			f.Close()
			return nil, nil, nil, fmt.Errorf("remediate: cut the torn last line of the journal %s: %w", path, err)
		}
	}
	states := map[[2]string]*objectState{}
	var entries []Entry
	sc := bufio.NewScanner(bytes.NewReader(whole))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	n := 0
	for sc.Scan() {
		n++
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			f.Close()
			return nil, nil, nil, fmt.Errorf("remediate: the journal %s: line %d is damaged (%v): keep it for the record and start a new journal with --journal", path, n, err)
		}
		if n == 1 {
			if e.Op != OpHeader || e.Schema != JournalSchema {
				f.Close()
				return nil, nil, nil, fmt.Errorf("remediate: %s is not a remediation journal of this version", path)
			}
			if e.PlanSHA256 != planSHA {
				f.Close()
				return nil, nil, nil, fmt.Errorf("remediate: the journal %s belongs to another plan (sha256 %s, this plan %s): give each plan its own --journal", path, e.PlanSHA256, planSHA)
			}
			continue
		}
		entries = append(entries, e)
		if e.Key == "" {
			continue
		}
		k := [2]string{e.Bucket, e.Key}
		st := states[k]
		if st == nil {
			st = &objectState{}
			states[k] = st
		}
		st.last = e.Op
		switch e.Op {
		case OpStart:
			ec := e
			st.start = &ec
		case OpDone:
			st.dones++
		}
	}
	if err := sc.Err(); err != nil {
		f.Close()
		return nil, nil, nil, fmt.Errorf("remediate: read the journal %s: %w", path, err)
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		f.Close()
		return nil, nil, nil, fmt.Errorf("remediate: the journal %s: %w", path, err)
	}
	j := &journal{f: f}
	if n == 0 {
		if err := j.append(Entry{Op: OpHeader, Time: now, Schema: JournalSchema, PlanSHA256: planSHA}); err != nil {
			f.Close()
			return nil, nil, nil, err
		}
	}
	return j, states, entries, nil
}

// append writes e as one line and syncs it to disk before returning, so
// that what the journal says happened did happen before anything after
// it is sent.
func (j *journal) append(e Entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("remediate: journal: %w", err)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return errors.New("remediate: journal closed")
	}
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("remediate: write the journal: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("remediate: sync the journal: %w", err)
	}
	return nil
}

func (j *journal) close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}

// ReadJournal reads every entry of a journal (header included), for
// reports and tests.
func ReadJournal(path string) ([]Entry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("remediate: read the journal: %w", err)
	}
	var out []Entry
	for i, line := range bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var e Entry
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, fmt.Errorf("remediate: the journal %s: line %d: %w", path, i+1, err)
		}
		out = append(out, e)
	}
	return out, nil
}
