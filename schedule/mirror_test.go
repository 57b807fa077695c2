package schedule

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestMirrorReadableWhileLocked: while one store holds the database, the
// mirror lists and gets every run as the store does, follows updates and
// pruning, and is rebuilt from the database when the store reopens.
func TestMirrorReadableWhileLocked(t *testing.T) {
	p := filepath.Join(t.TempDir(), "runs.db")
	st, err := OpenStore(p, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { st.Close() }()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i, job := range []string{"a", "a.b", "a", "b/c", "a"} {
		r := &Run{Job: job, Scheduled: t0.Add(time.Duration(i) * time.Hour), Outcome: OK, Finished: t0.Add(time.Duration(i) * time.Hour)}
		if err := st.Create(r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := OpenStore(p, 50*time.Millisecond); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	m, err := OpenMirror(p)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(rs []*Run) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	for _, job := range []string{"", "a", "a.b", "b/c", "nope"} {
		want, err := st.List(job)
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.List(job)
		if err != nil {
			t.Fatal(err)
		}
		w, g := ids(want), ids(got)
		slices.Sort(w)
		slices.Sort(g)
		if !slices.Equal(w, g) {
			t.Errorf("List(%q): mirror %v, store %v", job, g, w)
		}
	}
	if got, _ := m.List("a"); !slices.Equal(ids(got), []string{"a-1", "a-3", "a-5"}) {
		t.Errorf("mirror List(a) order = %v", ids(got))
	}
	r, err := st.Get("a-3")
	if err != nil {
		t.Fatal(err)
	}
	r.Error = "updated"
	if err := st.Put(r); err != nil {
		t.Fatal(err)
	}
	if got, err := m.Get("a-3"); err != nil || got.Error != "updated" {
		t.Fatalf("mirror Get after Put = %+v, %v", got, err)
	}
	if _, err := m.Get("a-99"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("mirror Get(unknown) = %v", err)
	}
	if n, err := st.Prune(1, 0, t0.Add(24*time.Hour)); err != nil || n != 2 {
		t.Fatalf("Prune = %d, %v", n, err)
	}
	if got, _ := m.List("a"); !slices.Equal(ids(got), []string{"a-5"}) {
		t.Errorf("mirror after prune = %v", ids(got))
	}
	ents, _ := os.ReadDir(MirrorPath(p))
	for _, e := range ents {
		if fi, _ := e.Info(); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", e.Name(), fi.Mode().Perm())
		}
	}
	// A lost mirror is rebuilt from the database on open.
	st.Close()
	if err := os.RemoveAll(MirrorPath(p)); err != nil {
		t.Fatal(err)
	}
	if st, err = OpenStore(p, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.List(""); len(got) != 3 {
		t.Errorf("rebuilt mirror holds %v", ids(got))
	}
}
