package osshttp

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

// TestStorageClassAndContentLanguage: the OSS object classes and
// Content-Language are kept through PutObject, CopyObject and multipart
// uploads and reported on GET, HEAD and in listings; another class is 400
// InvalidArgument and writes nothing.
func TestStorageClassAndContentLanguage(t *testing.T) {
	classes := []string{"Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive"}
	forEachFlavor(t, func(t *testing.T, e *testEnv, c sdkClient) {
		const b = "classes"
		must(t, c.CreateBucket(b, nil))
		data := payload(3000, 1)
		for _, sc := range classes {
			_, err := c.PutObject(b, "o-"+sc, data, map[string]string{"x-oss-storage-class": sc, "Content-Language": "zh-" + sc})
			must(t, err)
			got, gh, err := c.GetObject(b, "o-"+sc, nil)
			must(t, err)
			hh, err := c.HeadObject(b, "o-"+sc)
			must(t, err)
			for what, h := range map[string]map[string][]string{"GET": gh, "HEAD": hh} {
				if cls := strings.Join(h["X-Oss-Storage-Class"], ","); cls != sc || strings.Join(h["Content-Language"], ",") != "zh-"+sc {
					t.Errorf("%s %s: class %q, Content-Language %q", what, sc, cls, strings.Join(h["Content-Language"], ","))
				}
			}
			if !bytes.Equal(got, data) { // archive classes need no restore here
				t.Fatalf("%s: content differs", sc)
			}
		}
		for _, list := range []func(string, listOpts) (listPage, error){c.ListObjects, c.ListObjectsV2} {
			page, err := list(b, listOpts{prefix: "o-"})
			must(t, err)
			for i, k := range page.keys {
				if page.classes[i] != strings.TrimPrefix(k, "o-") {
					t.Errorf("listed %s as %q", k, page.classes[i])
				}
			}
			if len(page.keys) != len(classes) {
				t.Fatalf("listed %d objects", len(page.keys))
			}
		}
		for _, bad := range []string{"GLACIER", "standard", "Cold"} {
			_, err := c.PutObject(b, "bad", data, map[string]string{"x-oss-storage-class": bad})
			wantErr(t, err, 400, CodeInvalidArgument)
			_, _, _, err = c.CopyObject(b, "o-IA", "bad", map[string]string{"x-oss-storage-class": bad})
			wantErr(t, err, 400, CodeInvalidArgument)
		}
		_, err := c.HeadObject(b, "bad")
		wantErr(t, err, 404, CodeNoSuchKey)

		for _, tc := range []struct {
			name string
			hdr  map[string]string
			want string
		}{
			{"copy keeps the class", nil, "Archive"},
			{"copy sets the class", map[string]string{"x-oss-storage-class": "IA"}, "IA"},
		} {
			_, _, _, err := c.CopyObject(b, "o-Archive", "copy", tc.hdr)
			must(t, err)
			h, err := c.HeadObject(b, "copy")
			must(t, err)
			if h.Get("X-Oss-Storage-Class") != tc.want || h.Get("Content-Language") != "zh-Archive" {
				t.Errorf("%s: class %q, Content-Language %q", tc.name, h.Get("X-Oss-Storage-Class"), h.Get("Content-Language"))
			}
		}

		id, _, err := c.InitiateMultipart(b, "mp", map[string]string{"x-oss-storage-class": "ColdArchive", "Content-Language": "en"})
		must(t, err)
		etag, _, err := c.UploadPart(b, "mp", id, 1, data, nil)
		must(t, err)
		_, _, err = c.CompleteMultipart(b, "mp", id, []partRef{{1, etag}}, nil)
		must(t, err)
		h, err := c.HeadObject(b, "mp")
		must(t, err)
		if h.Get("X-Oss-Storage-Class") != "ColdArchive" || h.Get("Content-Language") != "en" {
			t.Errorf("multipart: class %q, Content-Language %q", h.Get("X-Oss-Storage-Class"), h.Get("Content-Language"))
		}
		_, _, err = c.InitiateMultipart(b, "mp2", map[string]string{"x-oss-storage-class": "Deep"})
		wantErr(t, err, 400, CodeInvalidArgument)

		// A class written through S3 shows as the nearest OSS class.
		_, err = e.store.PutObject(bg, rootPrincipal, b, "s3", bytes.NewReader(data), int64(len(data)), objstore.PutOptions{StorageClass: "GLACIER"})
		must(t, err)
		h, err = c.HeadObject(b, "s3")
		must(t, err)
		if h.Get("X-Oss-Storage-Class") != "Archive" {
			t.Errorf("S3 GLACIER seen as %q", h.Get("X-Oss-Storage-Class"))
		}
	})
}

// TestForbidOverwriteRace: of concurrent x-oss-forbid-overwrite writes of
// one new key exactly one succeeds; the store checks atomically with the
// commit.
func TestForbidOverwriteRace(t *testing.T) {
	e := newTestEnv(t)
	c := flavors[len(flavors)-1].mk(e, rootAK, rootSK)
	must(t, c.CreateBucket("race", nil))
	for round := range 3 {
		key := "k" + strings.Repeat("x", round)
		const n = 6
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = c.PutObject("race", key, payload(200_000, byte(i)), map[string]string{"x-oss-forbid-overwrite": "true"})
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
				continue
			}
			wantErr(t, err, 409, CodeFileAlreadyExists)
		}
		if ok != 1 {
			t.Fatalf("round %d: %d writes with x-oss-forbid-overwrite succeeded, want 1", round, ok)
		}
	}
}
