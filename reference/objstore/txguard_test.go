package objstore

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestEveryTransactionIsGuarded: every transaction goes through view or
// update (runTx), which turns a panic on a corrupted meta.db into a typed
// error; a direct s.db.View or s.db.Update would take the server down on
// the first corrupted page it meets (TestCorruptMetaDB finds that only when
// a flip lands on the page that path reads).
func TestEveryTransactionIsGuarded(t *testing.T) {
	direct := regexp.MustCompile(`\bs\.db\.(View|Update|Batch)\(`)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if direct.MatchString(line) {
				if f == "startup.go" && strings.Contains(line, "return s.db.") {
					continue // runTx itself
				}
				t.Errorf("%s:%d: %s: use s.view or s.update", f, i+1, strings.TrimSpace(line))
			}
		}
	}
}
