package embedded

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/sseaudit/sseaudit/"

// TestOneDoorToTheReference walks every Go file of the module (tests
// included) and holds the layering: only this package reaches into
// reference/, reference/ never imports the auditor side, and this package
// imports nothing of the auditor side either.
func TestOneDoorToTheReference(t *testing.T) {
	root := ".."
	checked := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); p != root && (strings.HasPrefix(n, ".") || n == "testdata" || n == "bin") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		inReference := strings.HasPrefix(rel, "reference/")
		inBridge := strings.HasPrefix(rel, "embedded/")
		for _, im := range f.Imports {
			path, _ := strconv.Unquote(im.Path.Value)
			if !strings.HasPrefix(path, module) {
				continue
			}
			toReference := strings.HasPrefix(path, module+"reference/")
			switch {
			case inReference && strings.HasSuffix(rel, "_test.go") && path == module+"kmsclient":
				// The reference's own tests drive its KMS through the
				// official SDK, built by this SDK-only helper (no audit logic).
			case inReference && strings.HasSuffix(rel, "_test.go") && path == module+"internal/meter":
				// Benchmarks measure their own process (heap, CPU) with the
				// module's one meter, which knows nothing of either side.
			case inReference && !toReference:
				t.Errorf("%s imports %s: the reference must not depend on the auditor side", rel, path)
			case inBridge && !toReference:
				t.Errorf("%s imports %s: the bridge must stay a leaf over reference/", rel, path)
			case !inReference && !inBridge && toReference:
				t.Errorf("%s imports %s: the auditor side reaches the reference only through package embedded", rel, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Fatalf("only %d Go files checked: is the module root %s?", checked, root)
	}
}
