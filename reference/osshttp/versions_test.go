package osshttp

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	oss1 "github.com/aliyun/aliyun-oss-go-sdk/oss"
)

// versionAPI is the versioning part of each SDK, each method one call of
// the SDK's public API (ListVersions pages with the SDK's own markers).
type versionAPI interface {
	PutVersioning(b, status string) error
	GetVersioning(b string) (string, error)
	HeadVersion(b, k, vid string) (http.Header, error)
	GetVersion(b, k, vid string) ([]byte, error)
	DeleteVersion(b, k, vid string) (marker bool, id string, err error)
	// ListVersions returns "key@id" entries ("(marker)" appended for
	// delete markers, "*" for the latest) and the number of pages.
	ListVersions(b, prefix string, max int) ([]string, int, error)
	DeleteVersions(b string, keys, ids []string) (markers []bool, err error)
}

func versionsOf(c sdkClient) versionAPI {
	switch c := c.(type) {
	case *v1Client:
		return v1Versions{c}
	case *v2Client:
		return v2Versions{c}
	}
	panic("unknown SDK client")
}

type v1Versions struct{ c *v1Client }

func (v v1Versions) PutVersioning(b, status string) error {
	return v.c.c.SetBucketVersioning(b, oss1.VersioningConfig{Status: status})
}

func (v v1Versions) GetVersioning(b string) (string, error) {
	r, err := v.c.c.GetBucketVersioning(b)
	return r.Status, err
}

func (v v1Versions) HeadVersion(b, k, vid string) (http.Header, error) {
	return v.c.bucket(b).GetObjectDetailedMeta(k, oss1.VersionId(vid))
}

func (v v1Versions) GetVersion(b, k, vid string) ([]byte, error) {
	r, err := v.c.bucket(b).GetObject(k, oss1.VersionId(vid))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func (v v1Versions) DeleteVersion(b, k, vid string) (bool, string, error) {
	var h http.Header
	opts := []oss1.Option{oss1.GetResponseHeader(&h)}
	if vid != "" {
		opts = append(opts, oss1.VersionId(vid))
	}
	err := v.c.bucket(b).DeleteObject(k, opts...)
	return h.Get("X-Oss-Delete-Marker") == "true", h.Get("X-Oss-Version-Id"), err
}

func (v v1Versions) ListVersions(b, prefix string, max int) ([]string, int, error) {
	var out []string
	km, vm := "", ""
	for pages := 1; ; pages++ {
		r, err := v.c.bucket(b).ListObjectVersions(oss1.Prefix(prefix), oss1.MaxKeys(max), oss1.KeyMarker(km), oss1.VersionIdMarker(vm))
		if err != nil {
			return nil, pages, err
		}
		// v1 splits a page into two slices; merge them back into listing
		// order (keys ascending, newest first), which LastModified gives
		// within a key.
		var page []entry
		for _, x := range r.ObjectVersions {
			page = append(page, entry{x.Key, x.VersionId, x.IsLatest, false, x.LastModified.UnixNano()})
		}
		for _, x := range r.ObjectDeleteMarkers {
			page = append(page, entry{x.Key, x.VersionId, x.IsLatest, true, x.LastModified.UnixNano()})
		}
		out = append(out, sortEntries(page)...)
		if !r.IsTruncated {
			return out, pages, nil
		}
		km, vm = r.NextKeyMarker, r.NextVersionIdMarker
	}
}

func (v v1Versions) DeleteVersions(b string, keys, ids []string) ([]bool, error) {
	var objs []oss1.DeleteObject
	for i, k := range keys {
		objs = append(objs, oss1.DeleteObject{Key: k, VersionId: ids[i]})
	}
	r, err := v.c.bucket(b).DeleteObjectVersions(objs)
	var markers []bool
	for _, d := range r.DeletedObjectsDetail {
		markers = append(markers, d.DeleteMarker)
	}
	return markers, err
}

type v2Versions struct{ c *v2Client }

var ctx = context.Background()

func (v v2Versions) PutVersioning(b, status string) error {
	_, err := v.c.c.PutBucketVersioning(ctx, &oss2.PutBucketVersioningRequest{Bucket: oss2.Ptr(b),
		VersioningConfiguration: &oss2.VersioningConfiguration{Status: oss2.VersioningStatusType(status)}})
	return err
}

func (v v2Versions) GetVersioning(b string) (string, error) {
	r, err := v.c.c.GetBucketVersioning(ctx, &oss2.GetBucketVersioningRequest{Bucket: oss2.Ptr(b)})
	if err != nil {
		return "", err
	}
	return oss2.ToString(r.VersionStatus), nil
}

func (v v2Versions) HeadVersion(b, k, vid string) (http.Header, error) {
	r, err := v.c.c.HeadObject(ctx, &oss2.HeadObjectRequest{Bucket: oss2.Ptr(b), Key: oss2.Ptr(k), VersionId: oss2.Ptr(vid)})
	if err != nil {
		return nil, err
	}
	return r.Headers, nil
}

func (v v2Versions) GetVersion(b, k, vid string) ([]byte, error) {
	r, err := v.c.c.GetObject(ctx, &oss2.GetObjectRequest{Bucket: oss2.Ptr(b), Key: oss2.Ptr(k), VersionId: oss2.Ptr(vid)})
	if err != nil {
		return nil, err
	}
	defer r.Body.Close()
	return io.ReadAll(r.Body)
}

func (v v2Versions) DeleteVersion(b, k, vid string) (bool, string, error) {
	req := &oss2.DeleteObjectRequest{Bucket: oss2.Ptr(b), Key: oss2.Ptr(k)}
	if vid != "" {
		req.VersionId = oss2.Ptr(vid)
	}
	r, err := v.c.c.DeleteObject(ctx, req)
	if err != nil {
		return false, "", err
	}
	return r.DeleteMarker, oss2.ToString(r.VersionId), nil
}

func (v v2Versions) ListVersions(b, prefix string, max int) ([]string, int, error) {
	p := v.c.c.NewListObjectVersionsPaginator(&oss2.ListObjectVersionsRequest{Bucket: oss2.Ptr(b), Prefix: oss2.Ptr(prefix), MaxKeys: int32(max)})
	var out []string
	pages := 0
	for p.HasNext() {
		pages++
		r, err := p.NextPage(ctx)
		if err != nil {
			return nil, pages, err
		}
		var page []entry
		for _, x := range r.ObjectVersions {
			page = append(page, entry{oss2.ToString(x.Key), oss2.ToString(x.VersionId), x.IsLatest, false, x.LastModified.UnixNano()})
		}
		for _, x := range r.ObjectDeleteMarkers {
			page = append(page, entry{oss2.ToString(x.Key), oss2.ToString(x.VersionId), x.IsLatest, true, x.LastModified.UnixNano()})
		}
		out = append(out, sortEntries(page)...)
	}
	return out, pages, nil
}

func (v v2Versions) DeleteVersions(b string, keys, ids []string) ([]bool, error) {
	var objs []oss2.DeleteObject
	for i, k := range keys {
		objs = append(objs, oss2.DeleteObject{Key: oss2.Ptr(k), VersionId: oss2.Ptr(ids[i])})
	}
	r, err := v.c.c.DeleteMultipleObjects(ctx, &oss2.DeleteMultipleObjectsRequest{Bucket: oss2.Ptr(b), Objects: objs})
	if err != nil {
		return nil, err
	}
	var markers []bool
	for _, d := range r.DeletedObjects {
		markers = append(markers, d.DeleteMarker)
	}
	return markers, nil
}

type entry struct {
	key, id        string
	latest, marker bool
	mod            int64
}

func sortEntries(es []entry) []string {
	slices.SortStableFunc(es, func(a, b entry) int {
		if a.key != b.key {
			if a.key < b.key {
				return -1
			}
			return 1
		}
		switch {
		case a.latest:
			return -1
		case b.latest:
			return 1
		case a.mod > b.mod:
			return -1
		case a.mod < b.mod:
			return 1
		}
		return 0
	})
	var out []string
	for _, e := range es {
		s := e.key + "@" + e.id
		if e.marker {
			s += "(marker)"
		}
		if e.latest {
			s += "*"
		}
		out = append(out, s)
	}
	return out
}

// TestVersioningSDKs runs the scenario sseaudit --versions exists for in
// every SDK flavor: v1 written unencrypted, the bucket given a default
// rule, the object re-encrypted by copying it onto itself; v1 stays a
// noncurrent unencrypted version. Then delete markers, listing pages,
// permanent deletes, Suspended and DeleteBucket.
func TestVersioningSDKs(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, e *testEnv, c sdkClient) {
		v := versionsOf(c)
		const b = "versioned"
		must(t, c.CreateBucket(b, nil))
		if st, err := v.GetVersioning(b); err != nil || st != "" {
			t.Fatalf("fresh bucket versioning %q %v", st, err)
		}
		wantErr(t, v.PutVersioning(b, "Sometimes"), http.StatusBadRequest, CodeInvalidArgument)
		must(t, v.PutVersioning(b, "Enabled"))
		if st, err := v.GetVersioning(b); err != nil || st != "Enabled" {
			t.Fatalf("versioning %q %v", st, err)
		}
		h1, err := c.PutObject(b, "doc", []byte("v1 plain"), nil)
		must(t, err)
		id1 := h1.Get("X-Oss-Version-Id")
		if id1 == "" {
			t.Fatal("no x-oss-version-id on a versioned write")
		}
		must(t, c.PutBucketEncryption(b, encRule{alg: "AES256"}))
		_, _, h2, err := c.CopyObject(b, "doc", "doc", nil)
		must(t, err)
		id2 := h2.Get("X-Oss-Version-Id")
		if id2 == "" || id2 == id1 {
			t.Fatalf("copy onto itself: version %q after %q", id2, id1)
		}
		wantSSE(t, "copy", h2, "AES256", "")
		hv1, err := v.HeadVersion(b, "doc", id1)
		must(t, err)
		wantSSE(t, "head v1", hv1, "", "")
		if hv1.Get("X-Oss-Version-Id") != id1 {
			t.Fatalf("head v1 answers version %q", hv1.Get("X-Oss-Version-Id"))
		}
		hv2, err := v.HeadVersion(b, "doc", id2)
		must(t, err)
		wantSSE(t, "head v2", hv2, "AES256", "")
		if got, err := v.GetVersion(b, "doc", id1); err != nil || string(got) != "v1 plain" {
			t.Fatalf("get v1: %q %v", got, err)
		}
		if got, err := v.GetVersion(b, "doc", id2); err != nil || string(got) != "v1 plain" {
			t.Fatalf("get v2: %q %v", got, err)
		}
		_, err = v.HeadVersion(b, "doc", "00000000000000ff0123456789abcdef")
		wantErr(t, err, http.StatusNotFound, CodeNoSuchVersion)

		ids := map[string]string{}
		for _, k := range []string{"a", "b", "c"} {
			h, err := c.PutObject(b, k, []byte(k), nil)
			must(t, err)
			ids[k] = h.Get("X-Oss-Version-Id")
		}
		marker, mid, err := v.DeleteVersion(b, "b", "")
		if err != nil || !marker || mid == "" {
			t.Fatalf("delete: marker %v id %q %v", marker, mid, err)
		}
		_, err = c.HeadObject(b, "b")
		wantErr(t, err, http.StatusNotFound, CodeNoSuchKey)
		_, err = v.GetVersion(b, "b", mid)
		wantErr(t, err, http.StatusMethodNotAllowed, CodeMethodNotAllowed)

		got, pages, err := v.ListVersions(b, "", 2)
		must(t, err)
		want := []string{"a@" + ids["a"] + "*", "b@" + mid + "(marker)*", "b@" + ids["b"], "c@" + ids["c"] + "*",
			"doc@" + id2 + "*", "doc@" + id1}
		if !slices.Equal(got, want) || pages != 3 {
			t.Fatalf("versions %v in %d pages, want %v in 3", got, pages, want)
		}
		page, err := c.ListObjectsV2(b, listOpts{max: 100})
		must(t, err)
		if !slices.Equal(page.keys, []string{"a", "c", "doc"}) {
			t.Fatalf("plain listing %v", page.keys)
		}
		wantErr(t, c.DeleteBucket(b), http.StatusConflict, CodeBucketNotEmpty)

		// Removing the marker for good brings b back.
		marker, rid, err := v.DeleteVersion(b, "b", mid)
		if err != nil || !marker || rid != mid {
			t.Fatalf("remove marker: %v %q %v", marker, rid, err)
		}
		if _, err := c.HeadObject(b, "b"); err != nil {
			t.Fatalf("b after its marker went: %v", err)
		}

		// Suspended: the null version, replaced by the next write.
		must(t, v.PutVersioning(b, "Suspended"))
		for _, body := range []string{"n1", "n2"} {
			h, err := c.PutObject(b, "c", []byte(body), nil)
			must(t, err)
			if h.Get("X-Oss-Version-Id") != "null" {
				t.Fatalf("suspended write: version %q", h.Get("X-Oss-Version-Id"))
			}
		}
		got, _, err = v.ListVersions(b, "c", 100)
		must(t, err)
		if len(got) != 2 || got[0] != "c@null*" {
			t.Fatalf("versions of c %v", got)
		}

		// Remove every version with DeleteMultipleObjects; then the bucket
		// can go.
		all, _, err := v.ListVersions(b, "", 1000)
		must(t, err)
		var ks, vids []string
		for _, s := range all {
			k, id, _ := strings.Cut(s, "@")
			id = strings.TrimSuffix(strings.TrimSuffix(id, "*"), "(marker)")
			ks, vids = append(ks, k), append(vids, id)
		}
		_, err = v.DeleteVersions(b, ks, vids)
		must(t, err)
		must(t, c.DeleteBucket(b))
	})
}
