package schedule

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Outcome of a run.
type Outcome string

// The outcomes. Running is stored while a run is in progress; a daemon
// that finds one at start-up (it crashed) marks it Incomplete.
const (
	Running    Outcome = "running"
	OK         Outcome = "ok"
	Failed     Outcome = "failed"
	Skipped    Outcome = "skipped"
	Incomplete Outcome = "incomplete"
)

// Notification state of a run.
const (
	NotifyNone    = ""        // nothing to send
	NotifyPending = "pending" // to be sent (re-queued after a restart)
	NotifySent    = "sent"
	NotifyFailed  = "failed" // retries exhausted
)

// Run is one run of a job.
type Run struct {
	ID        string    `json:"id"`
	Job       string    `json:"job"`
	Scheduled time.Time `json:"scheduled"`
	Started   time.Time `json:"started,omitzero"`
	Finished  time.Time `json:"finished,omitzero"`
	Outcome   Outcome   `json:"outcome"`
	Error     string    `json:"error,omitempty"`
	// Verdict and ExitCode are the run's verdict as `sseaudit scan` would
	// give it (pass 0, fail 1, error 2); Reasons say why it is not pass.
	Verdict  string   `json:"verdict,omitempty"`
	ExitCode int      `json:"exit_code"`
	Reasons  []string `json:"reasons,omitempty"`

	ScanID       string         `json:"scan_id,omitempty"`
	SnapshotPath string         `json:"snapshot_path,omitempty"`
	ReportDir    string         `json:"report_dir,omitempty"`
	Objects      int            `json:"objects"`
	BySeverity   map[string]int `json:"by_severity,omitempty"`
	Findings     []FindingRef   `json:"findings,omitempty"`
	Delta        *Delta         `json:"delta,omitempty"`

	Notify         string `json:"notify,omitempty"`
	NotifyAttempts int    `json:"notify_attempts,omitempty"`
	NotifyError    string `json:"notify_error,omitempty"`
}

// ErrLocked reports a runs database held by another daemon.
var ErrLocked = errors.New("schedule: the runs database is in use by another sseaudit schedule")

// ErrNotFound reports an unknown run id.
var ErrNotFound = errors.New("schedule: no such run")

var bktRuns = []byte("runs")

// Store keeps run records in a bbolt file.
type Store struct {
	db     *bolt.DB
	mirror string // MirrorPath of the database; see mirror.go
}

// RunsPath is the runs database kept next to the history database.
func RunsPath(historyPath string) string {
	return strings.TrimSuffix(historyPath, filepath.Ext(historyPath)) + ".runs.db"
}

// OpenStore opens or creates the store at path. A store held by another
// process fails with ErrLocked after timeout.
func OpenStore(path string, timeout time.Duration) (*Store, error) {
	if timeout <= 0 {
		timeout = time.Second
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("schedule: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s", ErrLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("schedule: open %s: %w", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucketIfNotExists(bktRuns); return err }); err != nil {
		db.Close()
		return nil, fmt.Errorf("schedule: %w", err)
	}
	s := &Store{db: db, mirror: MirrorPath(path)}
	if err := s.syncMirror(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close releases the store.
func (s *Store) Close() error { return s.db.Close() }

func runKey(job string, seq uint64) []byte { return []byte(fmt.Sprintf("%s/%012d", job, seq)) }

// Create assigns r an id (JOB-SEQ) and stores it.
func (s *Store) Create(r *Run) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktRuns)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		r.ID = fmt.Sprintf("%s-%d", r.Job, seq)
		v, err := json.Marshal(r)
		if err != nil {
			return err
		}
		return b.Put(runKey(r.Job, seq), v)
	})
	if err != nil {
		return err
	}
	return s.writeMirror(r)
}

func keyOf(id string) ([]byte, error) {
	i := strings.LastIndexByte(id, '-')
	var seq uint64
	if i <= 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if _, err := fmt.Sscanf(id[i+1:], "%d", &seq); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return runKey(id[:i], seq), nil
}

// Put replaces a stored run.
func (s *Store) Put(r *Run) error {
	k, err := keyOf(r.ID)
	if err != nil {
		return err
	}
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bktRuns).Put(k, v) }); err != nil {
		return err
	}
	return s.writeMirror(r)
}

// Get reads one run.
func (s *Store) Get(id string) (*Run, error) {
	k, err := keyOf(id)
	if err != nil {
		return nil, err
	}
	var r *Run
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bktRuns).Get(k)
		if v == nil {
			return fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		r = new(Run)
		return json.Unmarshal(v, r)
	})
	return r, err
}

// List returns the runs of job ("" = every job), oldest first per job.
func (s *Store) List(job string) ([]*Run, error) {
	var out []*Run
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bktRuns).Cursor()
		prefix := []byte(job + "/")
		k, v := c.First()
		if job != "" {
			k, v = c.Seek(prefix)
		}
		for ; k != nil; k, v = c.Next() {
			if job != "" && !strings.HasPrefix(string(k), string(prefix)) {
				break
			}
			r := new(Run)
			if err := json.Unmarshal(v, r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// LastOK is the latest successful run of job before the run id exclude.
func (s *Store) LastOK(job, exclude string) (*Run, error) {
	rs, err := s.List(job)
	if err != nil {
		return nil, err
	}
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].Outcome == OK && rs[i].ID != exclude {
			return rs[i], nil
		}
	}
	return nil, nil
}

// Recover marks the runs left Running by a crashed daemon Incomplete and
// returns the runs whose notification is still pending.
func (s *Store) Recover(now time.Time) (incomplete []*Run, pending []*Run, err error) {
	rs, err := s.List("")
	if err != nil {
		return nil, nil, err
	}
	for _, r := range rs {
		if r.Outcome == Running {
			r.Outcome = Incomplete
			r.Error = "the daemon stopped during the run"
			if r.Finished.IsZero() {
				r.Finished = now
			}
			if err := s.Put(r); err != nil {
				return nil, nil, err
			}
			incomplete = append(incomplete, r)
		}
		if r.Notify == NotifyPending {
			pending = append(pending, r)
		}
	}
	return incomplete, pending, nil
}

// Prune keeps the keepN latest runs of each job (0: all) and drops runs
// finished more than maxAge before now (0: no limit). It returns how many
// were removed.
func (s *Store) Prune(keepN int, maxAge time.Duration, now time.Time) (int, error) {
	rs, err := s.List("")
	if err != nil {
		return 0, err
	}
	byJob := map[string][]*Run{}
	for _, r := range rs {
		byJob[r.Job] = append(byJob[r.Job], r)
	}
	var drop [][]byte
	var dropIDs []string
	for _, runs := range byJob {
		sort.SliceStable(runs, func(i, j int) bool { return runs[i].Scheduled.Before(runs[j].Scheduled) })
		for i, r := range runs {
			if r.Outcome == Running {
				continue
			}
			old := maxAge > 0 && !r.Finished.IsZero() && now.Sub(r.Finished) > maxAge
			extra := keepN > 0 && i < len(runs)-keepN
			if old || extra {
				k, err := keyOf(r.ID)
				if err != nil {
					return 0, err
				}
				drop = append(drop, k)
				dropIDs = append(dropIDs, r.ID)
			}
		}
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktRuns)
		for _, k := range drop {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, id := range dropIDs {
		if err := s.removeMirror(id); err != nil {
			return len(drop), err
		}
	}
	return len(drop), nil
}
