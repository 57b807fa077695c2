package snapshot

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestSeekable: a compressed snapshot is read at offsets through a
// decompressed 0600 copy that remove deletes; a plain one is its own.
func TestSeekable(t *testing.T) {
	dir := t.TempDir()
	plainPath := filepath.Join(dir, "s.json")
	writeSnap(t, plainPath, true, Bucket{Name: "b", Objects: []Object{{Key: "k", Method: "none"}}})
	doc, err := os.ReadFile(plainPath)
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	enc, _ := zstd.NewWriter(&z)
	enc.Write(doc)
	enc.Close()
	zPath := filepath.Join(dir, "s.json.zst")
	if err := os.WriteFile(zPath, z.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	p, remove, err := Seekable(plainPath, dir)
	if err != nil || p != plainPath {
		t.Fatalf("plain: %q, %v", p, err)
	}
	remove()
	if _, err := os.Stat(plainPath); err != nil {
		t.Fatalf("remove of a plain file's path deleted it: %v", err)
	}

	tmp := t.TempDir()
	p, remove, err = Seekable(zPath, tmp)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	if err != nil || !bytes.Equal(got, doc) {
		t.Fatalf("decompressed copy differs (%v)", err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("copy mode %v, want 0600", st.Mode().Perm())
	}
	remove()
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("remove left %d files", len(left))
	}

	// A damaged stream leaves no copy behind.
	bad := filepath.Join(dir, "bad.zst")
	os.WriteFile(bad, z.Bytes()[:z.Len()/2], 0o600)
	if _, _, err := Seekable(bad, tmp); err == nil {
		t.Error("a truncated compressed snapshot was accepted")
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("a failed copy left %d files", len(left))
	}
}
