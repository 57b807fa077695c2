package objstore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func openTestBolt(t *testing.T) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "gc.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("t")); return err }); err != nil {
		t.Fatal(err)
	}
	return db
}

// waitQueued waits until n calls are queued behind the running commit.
func waitQueued(t *testing.T, g *committer, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		g.mu.Lock()
		q := len(g.queue)
		g.mu.Unlock()
		if q >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d calls queued, want %d", q, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestCommitterSharesTransactions: updates that arrive while a commit runs
// are committed together in the next transaction, each sees the writes of
// those before it, a failing update gets its own error and does not undo
// the others, and a panicking one becomes an error.
func TestCommitterSharesTransactions(t *testing.T) {
	db := openTestBolt(t)
	errPanicked := errors.New("update panicked")
	g := &committer{runTx: db.Update, panicked: func(p any) error { return fmt.Errorf("%w: %v", errPanicked, p) }}
	release := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // holds the first commit open while the others queue
		defer wg.Done()
		if err := g.update(func(tx *bolt.Tx) error {
			<-release
			return tx.Bucket([]byte("t")).Put([]byte("first"), []byte("1"))
		}); err != nil {
			t.Error(err)
		}
	}()
	waitQueued(t, g, 0)
	for { // the first call is leading
		g.mu.Lock()
		l := g.leading
		g.mu.Unlock()
		if l {
			break
		}
		time.Sleep(time.Millisecond)
	}
	const n = 12
	txIDs := make([]int, n)
	errs := make([]error, n)
	errBoom := errors.New("boom")
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = g.update(func(tx *bolt.Tx) error {
				txIDs[i] = tx.ID()
				switch i {
				case 3:
					return errBoom
				case 5:
					panic("bad update")
				}
				return tx.Bucket([]byte("t")).Put(fmt.Appendf(nil, "k%02d", i), []byte("v"))
			})
		}()
		waitQueued(t, g, i+1) // arrival order = i
	}
	close(release)
	wg.Wait()

	shared := map[int]int{}
	for i, err := range errs {
		switch i {
		case 3:
			if !errors.Is(err, errBoom) {
				t.Errorf("update 3: %v, want boom", err)
			}
		case 5:
			if !errors.Is(err, errPanicked) {
				t.Errorf("update 5 panicked: %v, want the panicked error", err)
			}
		default:
			if err != nil {
				t.Errorf("update %d: %v", i, err)
			}
			shared[txIDs[i]]++
		}
	}
	if len(shared) != 1 {
		t.Errorf("the %d successful queued updates committed in %d transactions %v, want 1", n-2, len(shared), shared)
	}
	if err := db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("t"))
		for i := range n {
			got := b.Get(fmt.Appendf(nil, "k%02d", i)) != nil
			if want := i != 3 && i != 5; got != want {
				t.Errorf("k%02d stored = %t, want %t", i, got, want)
			}
		}
		if b.Get([]byte("first")) == nil {
			t.Error("the first update is missing")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestCommitterSeesEarlierWrites: updates in one transaction run in
// order, each seeing the writes before it, as separate transactions would.
func TestCommitterSeesEarlierWrites(t *testing.T) {
	db := openTestBolt(t)
	g := &committer{runTx: db.Update}
	var wg sync.WaitGroup
	var total atomic.Int64
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := g.update(func(tx *bolt.Tx) error {
				b := tx.Bucket([]byte("t"))
				n := 0
				if v := b.Get([]byte("n")); v != nil {
					fmt.Sscan(string(v), &n)
				}
				return b.Put([]byte("n"), fmt.Append(nil, n+1))
			}); err != nil {
				t.Error(err)
				return
			}
			total.Add(1)
		}()
	}
	wg.Wait()
	var got []byte
	db.View(func(tx *bolt.Tx) error { got = bytes.Clone(tx.Bucket([]byte("t")).Get([]byte("n"))); return nil })
	if string(got) != fmt.Sprint(total.Load()) || total.Load() != 64 {
		t.Fatalf("counter = %s after %d increments, want 64", got, total.Load())
	}
}

// TestDirSyncerCoalesces: callers arriving while an fsync runs share the
// next one, which starts after all of them called; a caller whose round
// failed gets the error, one whose round succeeded does not.
func TestDirSyncerCoalesces(t *testing.T) {
	var rounds atomic.Int64
	gate := make(chan struct{})
	var failRound atomic.Int64
	d := &dirSyncer{fsync: func() error {
		r := rounds.Add(1)
		if r == 1 {
			<-gate
		}
		if r == failRound.Load() {
			return errors.New("EIO")
		}
		return nil
	}}
	d.cond = sync.NewCond(&d.mu)
	first := make(chan error, 1)
	go func() { first <- d.sync() }()
	for rounds.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	const n = 10
	errs := make(chan error, n)
	for range n {
		go func() { errs <- d.sync() }()
	}
	// All n wait for round 2, which cannot start before round 1 ends.
	deadline := time.Now().Add(10 * time.Second)
	for {
		d.mu.Lock()
		waiting := d.started == 1 && d.waiting == n
		d.mu.Unlock()
		if waiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("round 2 started before round 1 finished")
		}
		time.Sleep(time.Millisecond)
	}
	failRound.Store(2)
	close(gate)
	if err := <-first; err != nil {
		t.Fatalf("round 1: %v", err)
	}
	for range n {
		if err := <-errs; err == nil {
			t.Error("a caller covered only by the failed round 2 got no error")
		}
	}
	if got := rounds.Load(); got != 2 {
		t.Errorf("%d fsyncs for %d callers, want 2 (one, then one shared by the rest)", got, n+1)
	}
	// A later caller needs a new round, which succeeds.
	if err := d.sync(); err != nil {
		t.Errorf("round 3: %v", err)
	}
	if got := rounds.Load(); got != 3 {
		t.Errorf("%d fsyncs, want 3", got)
	}
}

// TestConcurrentVersionedWrites: concurrent writes to one key of an
// Enabled bucket, encrypted (version reserved before the write) and plain
// (version allocated in the commit), share commits; every acknowledged
// write is its own readable version, and no data file is lost or left over.
func TestConcurrentVersionedWrites(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "vers", nil)
	if err := e.s.PutBucketVersioning(bg, root, "vers", VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 5
	var wg sync.WaitGroup
	var mu sync.Mutex
	etags := map[string]string{} // version id -> ETag returned
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				data := pattern(3000+w*each+i, byte(w*each+i))
				opts := PutOptions{}
				if w%2 == 0 {
					opts.SSE = SSE{Algorithm: AlgorithmAES256}
				}
				info, err := e.s.PutObject(bg, root, "vers", "k", bytes.NewReader(data), int64(len(data)), opts)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if _, dup := etags[info.VersionID]; dup || info.VersionID == "" {
					t.Errorf("version id %q returned twice or empty", info.VersionID)
				}
				etags[info.VersionID] = info.ETag
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res, err := e.s.ListObjectVersions(bg, root, "vers", ListVersionsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Versions) != writers*each {
		t.Fatalf("%d versions after %d acknowledged writes", len(res.Versions), writers*each)
	}
	for _, v := range res.Versions {
		if etags[v.VersionID] != v.ETag {
			t.Fatalf("version %s: ETag %s, the write returned %q", v.VersionID, v.ETag, etags[v.VersionID])
		}
		o, err := e.s.OpenObjectVersion(bg, root, "vers", "k", v.VersionID)
		if err != nil {
			t.Fatal(err)
		}
		r, err := o.Range(bg, 0, v.Size)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		o.Close()
		if err != nil || md5hex(got) != v.ETag {
			t.Fatalf("version %s: read %d bytes, %v; content does not match its ETag", v.VersionID, len(got), err)
		}
	}
	if n := len(listFiles(t, filepath.Join(e.dir, DataDir))); n != writers*each {
		t.Fatalf("%d data files for %d versions", n, writers*each)
	}
}
