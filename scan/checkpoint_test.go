package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/snapshot"
)

// ckEstate seeds three buckets under prefix: a (8 objects), big (300
// objects, a third under a customer key, a fifth AES256) and c (6), plus,
// when versioned, ver (40 keys of 3 versions each, versioning enabled).
// It returns the number of objects (versions) in all.
func ckEstate(t *testing.T, c *client.Client, prefix string, versioned bool) int {
	t.Helper()
	ctx := context.Background()
	cmk := createKey(t, "checkpoint test "+prefix)
	sizes := map[string]int{"a": 8, "big": 300, "c": 6}
	total := 0
	for name, n := range sizes {
		mkBucket(t, c, prefix+name, nil)
		var wg sync.WaitGroup
		errs := make(chan error, n)
		sem := make(chan struct{}, 8)
		for i := range n {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				var sse *client.SSE
				switch {
				case i < 10:
					// Unencrypted: the first object's HEAD is not held up
					// by the KMS key's first description, so the log soon
					// holds a prefix of the listing.
				case i%3 == 0:
					sse = &client.SSE{Algorithm: "KMS", KeyID: cmk}
				case i%5 == 0:
					sse = &client.SSE{Algorithm: "AES256"}
				}
				key := fmt.Sprintf("k%04d", i)
				if _, err := c.PutObject(ctx, prefix+name, key, strings.NewReader("x"), 1, client.PutOptions{SSE: sse}); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		total += n
	}
	if versioned {
		b := prefix + "ver"
		mkBucket(t, c, b, nil)
		if err := c.PutBucketVersioning(ctx, b, client.VersioningEnabled); err != nil {
			t.Fatal(err)
		}
		for v := range 3 {
			for i := range 40 {
				var sse *client.SSE
				if v == 2 {
					sse = &client.SSE{Algorithm: "AES256"}
				}
				if _, err := c.PutObject(ctx, b, fmt.Sprintf("v%03d", i), strings.NewReader("x"), 1, client.PutOptions{SSE: sse}); err != nil {
					t.Fatal(err)
				}
				total++
			}
		}
	}
	return total
}

// snapshotView is what a resumed scan must reproduce of an uninterrupted
// one: every bucket with its objects (in key order: a scan writes them
// as their HEADs answer), the keys, the coverage counts. Times of reading
// and retry counts are left out.
func snapshotView(t *testing.T, path string) string {
	t.Helper()
	var b strings.Builder
	if err := snapshot.EachBucket(path, func(bk snapshot.Bucket) error {
		bk.ReadAt = time.Time{}
		objs := slices.Clone(bk.Objects)
		for i := range objs {
			objs[i].Attempts = 0
		}
		slices.SortFunc(objs, func(x, y snapshot.Object) int {
			return strings.Compare(x.Key+"\x00"+x.VersionID, y.Key+"\x00"+y.VersionID)
		})
		bk.Objects = objs
		fmt.Fprintf(&b, "%s\n", mustJSON(bk))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sum, err := snapshot.ReadSummary(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range sum.Keys {
		fmt.Fprintf(&b, "key %s %s %s missing=%v service=%v err=%v\n", k.Region, k.KeyID, k.State, k.Missing, k.ServiceKey, k.Error != nil)
	}
	c := sum.Coverage
	fmt.Fprintf(&b, "coverage %d %d %d %d %d %d errors=%d complete=%v\n", c.Buckets, c.BucketsRead, c.ObjectsListed, c.ObjectsInspected,
		c.KeysReferenced, c.KeysDescribed, len(c.Errors), sum.Complete)
	return b.String()
}

// logLines splits a checkpoint log into its lines, with their offsets.
func logLines(t *testing.T, dir string) ([]string, []int) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, checkpointLogFile))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	var offs []int
	off := 0
	for _, l := range strings.SplitAfter(string(raw), "\n") {
		if l == "" {
			continue
		}
		lines, offs = append(lines, l), append(offs, off)
		off += len(l)
	}
	return lines, offs
}

// lineOf is the index of the n-th line (0-based) containing all of subs.
func lineOf(t *testing.T, lines []string, n int, subs ...string) int {
	t.Helper()
	for i, l := range lines {
		ok := true
		for _, s := range subs {
			ok = ok && strings.Contains(l, s)
		}
		if ok {
			if n == 0 {
				return i
			}
			n--
		}
	}
	t.Fatalf("no line %d with %q", n, subs)
	return -1
}

func copyCheckpoint(t *testing.T, from string) string {
	t.Helper()
	to := filepath.Join(t.TempDir(), "ck")
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{checkpointHeaderFile, checkpointLogFile} {
		b, err := os.ReadFile(filepath.Join(from, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return to
}

// resumeProbe is a proxy in front of the reference counting HEADs and
// recording the listings' resume markers.
type resumeProbe struct {
	*proxy
	mu      sync.Mutex
	markers []string // "bucket start-after=K" / "bucket key-marker=K"
}

func startProbe(t *testing.T, rules ...*rule) *resumeProbe {
	p := &resumeProbe{proxy: startProxy(t, rules...)}
	p.onRequest = func(req *http.Request) {
		q := req.URL.Query()
		for _, m := range []string{"start-after", "key-marker"} {
			if v := q.Get(m); v != "" {
				p.mu.Lock()
				p.markers = append(p.markers, strings.Trim(req.URL.Path, "/")+" "+m+"="+v)
				p.mu.Unlock()
			}
		}
	}
	return p
}

// TestResumeFromCheckpoint cuts the checkpoint of a complete scan where a
// kill could have left it (inside a large bucket, mid-line, between two
// buckets, in a bucket's header, at its very start), or damages a line in
// the middle of it, and resumes: the snapshot is the uninterrupted scan's,
// buckets logged whole are not read again, and a bucket cut short resumes
// its listing after the last key it holds whole. A resumed checkpoint cut
// again resumes again. Each dialect and SDK.
func TestResumeFromCheckpoint(t *testing.T) {
	for _, v := range []struct {
		name    string
		dialect client.Dialect
		sdk     string
	}{
		{"oss", client.OSS, ""},
		{"s3", client.S3, ""},
		{"oss-sdk-v2", client.OSS, client.OSSSDKV2},
	} {
		t.Run(v.name, func(t *testing.T) {
			root := clientFor(t, v.dialect, v.sdk, srv.Endpoint, rootAK, rootSK, 30*time.Second)
			prefix := "ck-" + strings.ReplaceAll(v.name, "-", "") + "-"
			total := ckEstate(t, root, prefix, false)
			config := func(c *client.Client, dir string, resume bool) Config {
				return Config{Client: c, KMS: rootKMS, BucketGlob: prefix + "*", Concurrency: 8, ToolVersion: "test",
					TargetInfo: snapshot.Target{Kind: "reference", Dialect: string(v.dialect), Endpoint: "http://reference", Principal: rootAK},
					Checkpoint: dir, Resume: resume, checkpointEvery: 7}
			}
			// Two objects whose HEAD is refused: errors in the buckets a
			// resumption copies count in its coverage as they did.
			denied := func() []*rule {
				return []*rule{{method: http.MethodHead, path: "/" + prefix + "a/k0003", status: 403, times: -1},
					{method: http.MethodHead, path: "/" + prefix + "big/k0040", status: 403, times: -1}}
			}
			full := filepath.Join(t.TempDir(), "full")
			refProxy := startProxy(t, denied()...)
			sum, refPath, err := scanFile(t, config(clientFor(t, v.dialect, v.sdk, refProxy.URL, rootAK, rootSK, 30*time.Second), full, false))
			if err != nil {
				t.Fatal(err)
			}
			want := snapshotView(t, refPath)
			if sum.Coverage.ObjectsInspected != int64(total-2) || len(sum.Coverage.Errors) != 2 {
				t.Fatalf("the uninterrupted scan inspected %d objects with errors %v, want %d and the two refused", sum.Coverage.ObjectsInspected, sum.Coverage.Errors, total-2)
			}
			lines, offs := logLines(t, full)
			big := prefix + "big"
			bigObj := func(n int) int { return lineOf(t, lines, n, `"t":"o"`, `"bucket":"`+big+`"`) }

			resume := func(t *testing.T, dir string) (snapshot.Summary, int64, []string) {
				t.Helper()
				p := startProbe(t, denied()...)
				c := clientFor(t, v.dialect, v.sdk, p.URL, rootAK, rootSK, 30*time.Second)
				var ri ResumeInfo
				cfg := config(c, dir, true)
				cfg.OnResume = func(r ResumeInfo) { ri = r }
				sum, path, err := scanFile(t, cfg)
				if err != nil {
					t.Fatal(err)
				}
				if got := snapshotView(t, path); got != want {
					t.Fatalf("the resumed scan's snapshot differs from the uninterrupted one's:\n got %s\nwant %s", got, want)
				}
				rf := sum.Provenance.ResumedFrom
				if rf == nil || rf.ScanID != ri.ScanID || rf.ScanID == sum.Provenance.ScanID || rf.BucketsCopied != ri.Buckets {
					t.Errorf("provenance resumed_from %+v, OnResume %+v, scan id %s", rf, ri, sum.Provenance.ScanID)
				}
				return sum, p.heads.Load(), p.markers
			}

			cut := func(t *testing.T, dir string, at int) {
				t.Helper()
				if err := os.Truncate(filepath.Join(dir, checkpointLogFile), int64(at)); err != nil {
					t.Fatal(err)
				}
			}
			endA := lineOf(t, lines, 0, `"t":"e"`) // a is first
			cases := []struct {
				name   string
				mutate func(t *testing.T, dir string)
				// heads bounds the HEADs the resumed scan may send;
				// marker is the listing resume marker it must send.
				heads  func(n int64) bool
				copied int
				marker string
			}{
				{"inside the large bucket, mid-line", func(t *testing.T, dir string) { cut(t, dir, offs[bigObj(150)]+20) },
					// Every object before the first position missing
					// from the log is copied, the others HEADed.
					func(n int64) bool { return n == int64(total-8)-prefixLen(t, lines[:bigObj(150)], big) }, 1, big + " start-after="},
				{"between two buckets", func(t *testing.T, dir string) { cut(t, dir, offs[endA+1]) },
					func(n int64) bool { return n == int64(total-8) }, 1, ""},
				{"inside a bucket's header", func(t *testing.T, dir string) { cut(t, dir, offs[endA+1]+5) },
					func(n int64) bool { return n == int64(total-8) }, 1, ""},
				{"nothing logged", func(t *testing.T, dir string) { cut(t, dir, 0) },
					func(n int64) bool { return n == int64(total) }, 0, ""},
				{"the last bucket's end torn", func(t *testing.T, dir string) { cut(t, dir, offs[len(offs)-1]+3) },
					func(n int64) bool { return n < 6 }, 2, prefix + "c start-after=k0005"},
				{"a damaged line inside the large bucket", func(t *testing.T, dir string) {
					path := filepath.Join(dir, checkpointLogFile)
					b, err := os.ReadFile(path)
					if err != nil {
						t.Fatal(err)
					}
					// Still valid JSON, a plausible record: only its
					// checksum tells it is not what was written.
					line := bigObj(100)
					at := offs[line] + strings.Index(lines[line], `"size":1`) + len(`"size":`)
					b[at] = '9'
					if err := os.WriteFile(path, b, 0o600); err != nil {
						t.Fatal(err)
					}
				}, func(n int64) bool { return n == int64(total-8)-prefixLen(t, lines[:bigObj(100)], big) }, 1, big + " start-after="},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					dir := copyCheckpoint(t, full)
					c.mutate(t, dir)
					sum, heads, markers := resume(t, dir)
					if !c.heads(heads) {
						t.Errorf("the resumed scan sent %d HEADs (%d objects in all)", heads, total)
					}
					if sum.Provenance.ResumedFrom.BucketsCopied != c.copied {
						t.Errorf("buckets copied %d, want %d", sum.Provenance.ResumedFrom.BucketsCopied, c.copied)
					}
					if c.marker != "" && !slices.ContainsFunc(markers, func(m string) bool { return strings.HasPrefix(m, c.marker) }) {
						t.Errorf("no listing resumed with %q: %q", c.marker, markers)
					}
					if c.marker == "" && len(markers) > 0 {
						t.Errorf("listings resumed where none was cut short: %q", markers)
					}
				})
			}

			t.Run("resumed twice", func(t *testing.T) {
				dir := copyCheckpoint(t, full)
				cut(t, dir, offs[bigObj(120)]+3)
				_, first, _ := resume(t, dir)
				// The resumed scan's log: cut it again, after its "r".
				lines2, offs2 := logLines(t, dir)
				r := lineOf(t, lines2, 0, `"t":"r"`)
				at := -1
				for i := r + 1; i < len(lines2); i++ {
					if strings.Contains(lines2[i], `"t":"o"`) && strings.Contains(lines2[i], `"bucket":"`+big+`"`) && i > r+60 {
						at = offs2[i] + 1
						break
					}
				}
				if at < 0 {
					t.Fatalf("the resumed log has too few objects of %s after its resume record", big)
				}
				cut(t, dir, at)
				_, second, markers := resume(t, dir)
				if second >= first || second == 0 {
					t.Errorf("the second resumption sent %d HEADs, the first %d", second, first)
				}
				if !slices.ContainsFunc(markers, func(m string) bool { return strings.HasPrefix(m, big+" start-after=") }) {
					t.Errorf("the second resumption did not resume %s's listing: %q", big, markers)
				}
			})
		})
	}
}

// TestResumeVersionsInsideABucket cuts a --versions scan's checkpoint in
// the middle of a versioned bucket: the resumed listing starts after the
// last key all of whose versions were logged (key-marker), and the
// snapshot is the uninterrupted one's, every version once.
func TestResumeVersionsInsideABucket(t *testing.T) {
	root := rootClient(t, client.OSS)
	prefix := "ckv-"
	ckEstate(t, root, prefix, true)
	config := func(c *client.Client, dir string, resume bool) Config {
		return Config{Client: c, KMS: rootKMS, BucketGlob: prefix + "*", Concurrency: 8, ToolVersion: "test", Versions: true,
			TargetInfo: snapshot.Target{Kind: "reference", Dialect: "oss", Endpoint: "http://reference", Principal: rootAK},
			Checkpoint: dir, Resume: resume, checkpointEvery: 5}
	}
	full := filepath.Join(t.TempDir(), "full")
	_, refPath, err := scanFile(t, config(root, full, false))
	if err != nil {
		t.Fatal(err)
	}
	want := snapshotView(t, refPath)
	lines, offs := logLines(t, full)
	ver := prefix + "ver"
	cutAt := lineOf(t, lines, 70, `"t":"o"`, `"bucket":"`+ver+`"`)
	dir := copyCheckpoint(t, full)
	if err := os.Truncate(filepath.Join(dir, checkpointLogFile), int64(offs[cutAt])); err != nil {
		t.Fatal(err)
	}
	p := startProbe(t)
	_, path, err := scanFile(t, config(clientFor(t, client.OSS, "", p.URL, rootAK, rootSK, 30*time.Second), dir, true))
	if err != nil {
		t.Fatal(err)
	}
	if got := snapshotView(t, path); got != want {
		t.Fatalf("the resumed scan's snapshot differs:\n got %s\nwant %s", got, want)
	}
	// Kept: the versions logged without a gap from the first on, but for
	// those of their last key (more of its versions may follow).
	n, keys := prefixKeys(t, lines[:cutAt], ver)
	kept := int64(0)
	for _, k := range keys {
		if k != keys[n-1] {
			kept++
		}
	}
	if h := p.heads.Load(); kept == 0 || h != 120-kept {
		t.Errorf("the resumed scan sent %d HEADs; %d of the 120 versions were to be copied from the checkpoint", h, kept)
	}
	if !slices.ContainsFunc(p.markers, func(m string) bool { return strings.HasPrefix(m, ver+" key-marker=v") }) {
		t.Errorf("the versions listing was not resumed after a key: %q", p.markers)
	}
}

// TestResumeRefusesAnotherScansCheckpoint: a checkpoint of another target,
// principal, bucket filter, shard, --versions, inventory set or tool
// version, and a damaged one, are refused with an error naming the
// mismatch and the fix; nothing is written and the checkpoint is left as
// it was.
func TestResumeRefusesAnotherScansCheckpoint(t *testing.T) {
	root := rootClient(t, client.OSS)
	prefix := "ckm-"
	mkBucket(t, root, prefix+"a", nil)
	putMany(t, root, prefix+"a", "k", 5)
	mkBucket(t, root, prefix+"b", nil)
	putMany(t, root, prefix+"b", "k", 5)
	base := func(dir string) Config {
		return Config{Client: root, KMS: rootKMS, BucketGlob: prefix + "*", Concurrency: 2, ToolVersion: "test",
			TargetInfo: snapshot.Target{Kind: "reference", Dialect: "oss", Endpoint: "http://reference", Principal: rootAK},
			Checkpoint: dir}
	}
	full := filepath.Join(t.TempDir(), "full")
	if _, _, err := scanFile(t, base(full)); err != nil {
		t.Fatal(err)
	}
	lines, _ := logLines(t, full)
	cases := []struct {
		name   string
		change func(*Config)
		damage func(t *testing.T, dir string)
		want   string
	}{
		{"another endpoint", func(c *Config) { c.TargetInfo.Endpoint = "http://elsewhere" }, nil, "target reference oss http://reference, this scan's is reference oss http://elsewhere"},
		{"another dialect", func(c *Config) { c.TargetInfo.Dialect = "s3" }, nil, "target reference oss"},
		{"another principal", func(c *Config) { c.TargetInfo.Principal = "OTHER" }, nil, `principal (access key id) "SCANROOT", this scan's is "OTHER"`},
		{"another bucket filter", func(c *Config) { c.BucketGlob = prefix + "a*" }, nil, `--buckets "ckm-*", this scan's is "ckm-a*"`},
		{"a shard", func(c *Config) { c.Shard = &snapshot.Shard{Index: 0, Count: 1} }, nil, "shard none (every bucket), this scan's is 0/1"},
		{"versions", func(c *Config) { c.Versions = true }, nil, "--versions=false, this scan's is --versions=true"},
		{"an inventory", func(c *Config) { c.Inventory = []InventorySource{{Bucket: prefix + "a", DestBucket: "inv"}} }, nil, "inventory sources [], this scan's are"},
		{"another tool version", func(c *Config) { c.ToolVersion = "test2" }, nil, `written by sseaudit "test", this is "test2"`},
		{"a damaged header", nil, func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, checkpointHeaderFile), []byte(`{"format":1,"identity":`), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "is damaged (checkpoint.json"},
		{"a newer format", nil, func(t *testing.T, dir string) {
			p := filepath.Join(dir, checkpointHeaderFile)
			b, _ := os.ReadFile(p)
			if err := os.WriteFile(p, bytes.Replace(b, []byte(`"format":1`), []byte(`"format":2`), 1), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "has format 2, this sseaudit reads format 1"},
		{"buckets logged out of order", nil, func(t *testing.T, dir string) {
			// b's records first, then a's: every line verifies, the order
			// does not.
			endA := lineOf(t, lines, 0, `"t":"e"`)
			swapped := strings.Join(append(slices.Clone(lines[endA+1:]), lines[:endA+1]...), "")
			if err := os.WriteFile(filepath.Join(dir, checkpointLogFile), []byte(swapped), 0o600); err != nil {
				t.Fatal(err)
			}
		}, `bucket "ckm-b" logged out of the order`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyCheckpoint(t, full)
			if c.damage != nil {
				c.damage(t, dir)
			}
			before := readDir(t, dir)
			cfg := base(dir)
			cfg.Resume = true
			if c.change != nil {
				c.change(&cfg)
			}
			out := filepath.Join(t.TempDir(), "snapshot.json")
			_, err := RunToFile(context.Background(), cfg, out)
			var ce *CheckpointError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "run without --resume to start over") {
				t.Fatalf("got %v, want a CheckpointError with %q and the fix", err, c.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("a refused resumption wrote a snapshot")
			}
			if after := readDir(t, dir); after != before {
				t.Error("a refused resumption changed the checkpoint")
			}
		})
	}

	t.Run("no checkpoint: from the beginning", func(t *testing.T) {
		cfg := base(filepath.Join(t.TempDir(), "none"))
		cfg.Resume = true
		called := false
		cfg.OnResume = func(ResumeInfo) { called = true }
		sum, _, err := scanFile(t, cfg)
		if err != nil || called || sum.Provenance.ResumedFrom != nil || sum.Coverage.ObjectsInspected != 10 {
			t.Errorf("err %v, OnResume called %v, resumed_from %+v, inspected %d", err, called, sum.Provenance.ResumedFrom, sum.Coverage.ObjectsInspected)
		}
	})
	t.Run("without Resume the checkpoint is replaced", func(t *testing.T) {
		dir := copyCheckpoint(t, full)
		cfg := base(dir)
		cfg.ScanID = "fresh-scan"
		if _, _, err := scanFile(t, cfg); err != nil {
			t.Fatal(err)
		}
		var hdr checkpointHeader
		b, err := os.ReadFile(filepath.Join(dir, checkpointHeaderFile))
		if err != nil || json.Unmarshal(b, &hdr) != nil || hdr.ScanID != "fresh-scan" {
			t.Errorf("the checkpoint is of scan %q (%v), want the new scan's", hdr.ScanID, err)
		}
		for _, n := range []string{"", checkpointHeaderFile, checkpointLogFile} {
			fi, err := os.Stat(filepath.Join(dir, n))
			if err != nil {
				t.Fatal(err)
			}
			if want := os.FileMode(0o600); n == "" {
				want = 0o700 | os.ModeDir
				if fi.Mode() != want {
					t.Errorf("checkpoint directory mode %v, want %v", fi.Mode(), want)
				}
			} else if fi.Mode() != want {
				t.Errorf("%s mode %v, want %v", n, fi.Mode(), want)
			}
		}
	})
}

// prefixLen is how many of bucket's objects the log lines hold from the
// first listing position on without a gap: those a resumption keeps.
func prefixLen(t *testing.T, lines []string, bucket string) int64 {
	t.Helper()
	n, _ := prefixKeys(t, lines, bucket)
	return n
}

// prefixKeys is prefixLen and the keys at those positions.
func prefixKeys(t *testing.T, lines []string, bucket string) (int64, []string) {
	t.Helper()
	seen := map[int64]string{}
	for _, l := range lines {
		var r struct {
			T string `json:"t"`
			S int64  `json:"s"`
			O struct {
				Bucket string `json:"bucket"`
				Key    string `json:"key"`
			} `json:"o"`
		}
		if err := json.Unmarshal([]byte(l[9:]), &r); err != nil {
			t.Fatal(err)
		}
		if r.T == "o" && r.O.Bucket == bucket {
			seen[r.S] = r.O.Key
		}
	}
	var keys []string
	for {
		k, ok := seen[int64(len(keys))]
		if !ok {
			break
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		t.Errorf("the log holds none of %s from its first position on", bucket)
	}
	return int64(len(keys)), keys
}

// readDir is every file of dir with its contents, for comparison.
func readDir(t *testing.T, dir string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %x\n", e.Name(), data)
	}
	return b.String()
}
