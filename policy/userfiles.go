package policy

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// fileBudget is what is left of the bounds on user policy files while a
// load reads them (Sandbox.MaxFileBytes, MaxTotalBytes).
type fileBudget struct {
	perFile, total, left int64
}

// readUserDir reads the policy files under dir (the i-th --policy
// directory): every *.rego file that is not a *_test.rego, in directories
// that are not hidden. A policy file must be a regular file reached through
// real directories: a symbolic link, a FIFO, a device or a socket named
// *.rego is refused with an error naming it, and is never opened, followed
// or read (so its text cannot appear in an error, and a reader cannot be
// made to block or read for ever); so is a symbolic link to a directory
// (its policies would silently be left out). Each file is read through
// the size bounds of budget.
func readUserDir(dir string, i int, budget *fileBudget) ([]policyFile, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("policy: --policy %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("policy: --policy %s: not a directory", dir)
	}
	// The root keeps every open inside dir, even if an entry is swapped
	// for a symbolic link between the walk and the open.
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("policy: --policy %s: %w", dir, err)
	}
	defer root.Close()
	var files []policyFile
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		// The entry's type comes from the directory listing (lstat): a
		// symbolic link is seen as one, never as its target.
		mode := d.Type()
		switch {
		case d.IsDir():
			if p != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		case mode&fs.ModeSymlink != 0:
			if isPolicyFile(p) {
				return &notRegularError{path: p, what: "a symbolic link" + linkTarget(p)}
			}
			// A link to a directory would hide the policies in it; any
			// other link is not a policy file and is left alone. Stat
			// follows the link without opening what it points to.
			if t, err := os.Stat(p); err == nil && t.IsDir() {
				return &notRegularError{path: p, what: "a symbolic link to a directory" + linkTarget(p),
					hint: "symbolic links are not followed, so the policies in it would be left out; pass that directory with another --policy"}
			}
			return nil
		case !isPolicyFile(p):
			return nil
		case !mode.IsRegular():
			return &notRegularError{path: p, what: describeMode(mode)}
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b, err := readBounded(root, filepath.ToSlash(rel), p, info, budget)
		if err != nil {
			return err
		}
		files = append(files, policyFile{name: p, logical: fmt.Sprintf("user%d/%s", i+1, filepath.ToSlash(rel)), src: b})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("policy: --policy %s: %w", dir, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("policy: --policy %s: no .rego policy files (test files *_test.rego are not loaded)", dir)
	}
	return files, nil
}

// notRegularError is a policy file that is not a regular file. It names
// the path and what it is, never what it holds.
type notRegularError struct{ path, what, hint string }

func (e *notRegularError) Error() string {
	if e.hint != "" {
		return fmt.Sprintf("%s is %s: %s", e.path, e.what, e.hint)
	}
	return fmt.Sprintf("%s is %s, not a regular file: policy files are read only from regular files, and symbolic links are not followed (copy the file into the directory); it was not read", e.path, e.what)
}

func linkTarget(p string) string {
	if t, err := os.Readlink(p); err == nil {
		return " (to " + t + ")"
	}
	return ""
}

// describeMode names what a non-regular entry is.
func describeMode(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "an irregular file"
}

// readBounded reads the regular file rel of root (p is its path for
// errors, info what the walk saw of it) through the budget's bounds. The
// file opened must be the one the walk saw, still a regular file: a file
// swapped for a link, a FIFO or a device in between is refused unread.
func readBounded(root *os.Root, rel, p string, info fs.FileInfo, budget *fileBudget) ([]byte, error) {
	if info.Size() > budget.perFile {
		return nil, fmt.Errorf("%s is %d bytes, more than the %s one policy file may hold (sandbox bound); it is not read", p, info.Size(), bytesText(budget.perFile))
	}
	if info.Size() > budget.left {
		return nil, fmt.Errorf("%s is not read: the user policy files hold more than %s in all (sandbox bound)", p, bytesText(budget.total))
	}
	f, err := root.OpenFile(rel, os.O_RDONLY|openNoBlock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !os.SameFile(info, st) || !st.Mode().IsRegular() {
		return nil, &notRegularError{path: p, what: "a file replaced by another while it was being opened"}
	}
	limit := min(budget.perFile, budget.left)
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		if limit == budget.perFile {
			return nil, fmt.Errorf("%s grew past %s while being read, more than one policy file may hold (sandbox bound)", p, bytesText(budget.perFile))
		}
		return nil, fmt.Errorf("%s is not read: the user policy files hold more than %s in all (sandbox bound)", p, bytesText(budget.total))
	}
	budget.left -= int64(len(b))
	return b, nil
}
