package s3http

import (
	"bytes"
	"encoding/xml"
	"fmt"

	"net/http"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/signer"
)

// csum is the base64 checksum of data computed by minio-go's own hashers,
// an implementation independent of the server's.
func csum(t testing.TB, ct minio.ChecksumType, data []byte) string {
	t.Helper()
	s := ct.ChecksumBytes(data).Encoded()
	if s == "" {
		t.Fatalf("minio-go cannot compute %v", ct)
	}
	return s
}

// compositeSum is S3's composite multipart checksum of parts, with "-N".
func compositeSum(ct minio.ChecksumType, parts ...[]byte) string {
	var cat []byte
	for _, p := range parts {
		cat = append(cat, ct.ChecksumBytes(p).Raw()...)
	}
	return fmt.Sprintf("%s-%d", ct.ChecksumBytes(cat).Encoded(), len(parts))
}

// trailingMinio is a minio-go client that sends checksums (in trailers
// where it can), as mint's checksum tests use it.
func (ts *testServer) trailingMinio(t testing.TB) *minio.Client {
	t.Helper()
	c, err := minio.New("127.0.0.1:"+ts.Port, &minio.Options{
		Creds: miniocreds.NewStaticV4(rootAK, rootSK, ""), Secure: false, Region: testRegion,
		BucketLookup: minio.BucketLookupPath, Transport: ts.loopbackTransport(), MaxRetries: 1, TrailingHeaders: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var supportedChecksums = []minio.ChecksumType{
	minio.ChecksumCRC32, minio.ChecksumCRC32C, minio.ChecksumCRC64NVME, minio.ChecksumSHA1,
	minio.ChecksumSHA256, minio.ChecksumMD5, minio.ChecksumSHA512,
	minio.ChecksumXXHash64, minio.ChecksumXXHash3, minio.ChecksumXXHash128,
}

// TestChecksumHeaders: every supported x-amz-checksum-<alg> is verified
// (a wrong one is refused and writes nothing) and answered; every other
// checksum a write names is refused by name, never ignored.
func TestChecksumHeaders(t *testing.T) {
	ts := newTestServer(t)
	if r := ts.raw(t, rawReq{method: "PUT", path: "/cks"}); r.status != 200 {
		t.Fatalf("create bucket: %d %s", r.status, r.body)
	}
	obj := pattern(3000, 2)
	type tcase struct {
		name    string
		headers map[string]string
		sign    string
		mutate  func(r *http.Request)
		status  int
		code    string
		msg     string            // the error message must contain it
		answer  map[string]string // response headers that must be set
	}
	var cases []tcase
	for _, ct := range supportedChecksums {
		h := ct.KeyCapitalized()
		cases = append(cases,
			tcase{name: ct.String() + " ok", headers: map[string]string{h: csum(t, ct, obj)}, status: 200,
				answer: map[string]string{h: csum(t, ct, obj), "X-Amz-Checksum-Type": "FULL_OBJECT"}},
			tcase{name: ct.String() + " wrong", headers: map[string]string{h: csum(t, ct, obj[1:])}, sign: "unsigned", status: 400, code: "BadDigest"},
			tcase{name: ct.String() + " with its algorithm", headers: map[string]string{h: csum(t, ct, obj), "X-Amz-Sdk-Checksum-Algorithm": ct.String()},
				status: 200, answer: map[string]string{h: csum(t, ct, obj)}},
			tcase{name: ct.String() + " trailer", sign: "none", status: 200, answer: map[string]string{h: csum(t, ct, obj)},
				mutate: func(r *http.Request) {
					r.Header.Set("X-Amz-Content-Sha256", streamingUnsignedTrailer)
					*r = *signer.SignV4Trailer(*r, rootAK, rootSK, "", testRegion, http.Header{h: {csum(t, ct, obj)}})
				}},
			tcase{name: ct.String() + " trailer wrong", sign: "none", status: 400, code: "BadDigest",
				mutate: func(r *http.Request) {
					r.Header.Set("X-Amz-Content-Sha256", streamingUnsignedTrailer)
					*r = *signer.SignV4Trailer(*r, rootAK, rootSK, "", testRegion, http.Header{h: {csum(t, ct, obj[:10])}})
				}},
		)
	}
	for _, name := range []string{"xxhash256", "blake3", "crc16", "Md6"} {
		cases = append(cases,
			tcase{name: name + " header", headers: map[string]string{"X-Amz-Checksum-" + name: b64([]byte("12345678"))},
				status: 400, code: "InvalidArgument", msg: "x-amz-checksum-" + strings.ToLower(name)},
			tcase{name: name + " algorithm", headers: map[string]string{"X-Amz-Checksum-Algorithm": strings.ToUpper(name)},
				status: 400, code: "InvalidArgument", msg: strings.ToUpper(name)},
			tcase{name: name + " sdk algorithm", headers: map[string]string{"X-Amz-Sdk-Checksum-Algorithm": name},
				status: 400, code: "InvalidArgument", msg: name},
			tcase{name: name + " trailer", sign: "none", status: 400, code: "InvalidArgument", msg: "x-amz-checksum-" + strings.ToLower(name),
				mutate: func(r *http.Request) {
					r.Header.Set("X-Amz-Content-Sha256", streamingUnsignedTrailer)
					*r = *signer.SignV4Trailer(*r, rootAK, rootSK, "", testRegion, http.Header{"X-Amz-Checksum-" + name: {b64([]byte("12345678"))}})
				}},
		)
	}
	cases = append(cases,
		tcase{name: "mode and type are not checksums", headers: map[string]string{"X-Amz-Checksum-Mode": "ENABLED", "X-Amz-Checksum-Type": "FULL_OBJECT"},
			status: 200, answer: map[string]string{"X-Amz-Checksum-Crc64nvme": csum(t, minio.ChecksumCRC64NVME, obj)}},
		tcase{name: "algorithm without a value is computed", headers: map[string]string{"X-Amz-Checksum-Algorithm": "sha512"},
			status: 200, answer: map[string]string{"X-Amz-Checksum-Sha512": csum(t, minio.ChecksumSHA512, obj)}},
		tcase{name: "bad checksum type", headers: map[string]string{"X-Amz-Checksum-Type": "PARTIAL"}, status: 400, code: "InvalidArgument"},
		tcase{name: "algorithm disagrees with value", headers: map[string]string{
			"X-Amz-Checksum-Algorithm": "SHA256", "X-Amz-Checksum-Crc32": csum(t, minio.ChecksumCRC32, obj)}, status: 400, code: "InvalidRequest"},
		tcase{name: "algorithm headers disagree", headers: map[string]string{
			"X-Amz-Checksum-Algorithm": "SHA256", "X-Amz-Sdk-Checksum-Algorithm": "SHA1"}, status: 400, code: "InvalidRequest"},
		tcase{name: "md5 value too short", headers: map[string]string{"X-Amz-Checksum-Md5": b64([]byte("short"))}, status: 400, code: "InvalidRequest"},
	)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprintf("o%d", i)
			r := ts.raw(t, rawReq{method: "PUT", path: "/cks/" + key, body: obj, headers: tc.headers, sign: tc.sign, mutate: tc.mutate})
			if r.status != tc.status || r.code != tc.code {
				t.Fatalf("got %d %s, want %d %s: %s", r.status, r.code, tc.status, tc.code, r.body)
			}
			if tc.msg != "" && !bytes.Contains(r.body, []byte(tc.msg)) {
				t.Errorf("error does not name %q: %s", tc.msg, r.body)
			}
			for k, v := range tc.answer {
				if got := r.header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			head := ts.raw(t, rawReq{method: "HEAD", path: "/cks/" + key})
			if tc.status != 200 && head.status != 404 {
				t.Fatalf("refused write left an object (HEAD %d)", head.status)
			}
			if tc.status == 200 && head.status != 200 {
				t.Fatalf("HEAD after write: %d", head.status)
			}
		})
	}
}

// TestChecksumOnRead: GET and HEAD report the stored checksum only with
// x-amz-checksum-mode: ENABLED, and never for a byte range.
func TestChecksumOnRead(t *testing.T) {
	ts := newTestServer(t)
	c := ts.trailingMinio(t)
	if err := c.MakeBucket(bg, "reads", minio.MakeBucketOptions{Region: testRegion}); err != nil {
		t.Fatal(err)
	}
	data := pattern(40_000, 3)
	if _, err := c.PutObject(bg, "reads", "md5", bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{DisableMultipart: true, Checksum: minio.ChecksumMD5}); err != nil {
		t.Fatal(err)
	}
	plain := ts.rootMinio(t) // sends no checksum: the object gets CRC64NVME
	if _, err := plain.PutObject(bg, "reads", "default", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	md5h, nvme := "X-Amz-Checksum-Md5", "X-Amz-Checksum-Crc64nvme"
	for _, tc := range []struct {
		name    string
		req     rawReq
		status  int
		header  string
		want    string // "" = the checksum headers must be absent
		wantTyp string
	}{
		{"get with mode", rawReq{method: "GET", path: "/reads/md5", headers: map[string]string{"X-Amz-Checksum-Mode": "ENABLED"}}, 200, md5h, csum(t, minio.ChecksumMD5, data), "FULL_OBJECT"},
		{"head with mode", rawReq{method: "HEAD", path: "/reads/md5", headers: map[string]string{"X-Amz-Checksum-Mode": "ENABLED"}}, 200, md5h, csum(t, minio.ChecksumMD5, data), "FULL_OBJECT"},
		{"get without mode", rawReq{method: "GET", path: "/reads/md5"}, 200, md5h, "", ""},
		{"range", rawReq{method: "GET", path: "/reads/md5", headers: map[string]string{"X-Amz-Checksum-Mode": "ENABLED", "Range": "bytes=0-99"}}, 206, md5h, "", ""},
		{"part 1 of a single-part object", rawReq{method: "GET", path: "/reads/md5?partNumber=1", headers: map[string]string{"X-Amz-Checksum-Mode": "ENABLED"}}, 200, md5h, csum(t, minio.ChecksumMD5, data), "FULL_OBJECT"},
		{"default checksum", rawReq{method: "HEAD", path: "/reads/default", headers: map[string]string{"X-Amz-Checksum-Mode": "ENABLED"}}, 200, nvme, csum(t, minio.ChecksumCRC64NVME, data), "FULL_OBJECT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ts.raw(t, tc.req)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if got := r.header.Get(tc.header); got != tc.want {
				t.Errorf("%s = %q, want %q", tc.header, got, tc.want)
			}
			if got := r.header.Get("X-Amz-Checksum-Type"); got != tc.wantTyp {
				t.Errorf("x-amz-checksum-type = %q, want %q", got, tc.wantTyp)
			}
		})
	}
	// minio-go verifies the body against a FULL_OBJECT checksum.
	o, err := c.GetObject(bg, "reads", "default", minio.GetObjectOptions{Checksum: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustReadAll(t, o); !bytes.Equal(got, data) {
		t.Fatal("GetObject returned other bytes")
	}
	o.Close()
}

// TestMinioChecksumUploads drives minio-go's checksum uploads (single PUT
// and multipart, composite and full-object) and reads every place the
// checksum is reported back: the upload answer, HEAD, GET of a part,
// GetObjectAttributes, a copy.
func TestMinioChecksumUploads(t *testing.T) {
	ts := newTestServer(t)
	c := ts.trailingMinio(t)
	if err := c.MakeBucket(bg, "mpcks", minio.MakeBucketOptions{Region: testRegion}); err != nil {
		t.Fatal(err)
	}
	const partSize = 5 << 20
	data := pattern(partSize+100_000, 4)
	p1, p2 := data[:partSize], data[partSize:]
	for _, tc := range []struct {
		cs        minio.ChecksumType
		multipart bool
		want      string // the object's checksum as reported
		mode      string
	}{
		{minio.ChecksumMD5, false, csum(t, minio.ChecksumMD5, data), "FULL_OBJECT"},
		{minio.ChecksumSHA512, false, csum(t, minio.ChecksumSHA512, data), "FULL_OBJECT"},
		{minio.ChecksumCRC64NVME, false, csum(t, minio.ChecksumCRC64NVME, data), "FULL_OBJECT"},
		{minio.ChecksumMD5, true, compositeSum(minio.ChecksumMD5, p1, p2), "COMPOSITE"},
		{minio.ChecksumSHA512, true, compositeSum(minio.ChecksumSHA512, p1, p2), "COMPOSITE"},
		{minio.ChecksumXXHash64, false, csum(t, minio.ChecksumXXHash64, data), "FULL_OBJECT"},
		{minio.ChecksumXXHash128, true, compositeSum(minio.ChecksumXXHash128, p1, p2), "COMPOSITE"},
		{minio.ChecksumSHA256, true, compositeSum(minio.ChecksumSHA256, p1, p2), "COMPOSITE"},
		{minio.ChecksumCRC32C, true, compositeSum(minio.ChecksumCRC32C, p1, p2), "COMPOSITE"},
		{minio.ChecksumFullObjectCRC32, true, csum(t, minio.ChecksumCRC32, data), "FULL_OBJECT"},
		{minio.ChecksumFullObjectCRC32C, true, csum(t, minio.ChecksumCRC32C, data), "FULL_OBJECT"},
		{minio.ChecksumCRC64NVME, true, csum(t, minio.ChecksumCRC64NVME, data), "FULL_OBJECT"},
	} {
		name := fmt.Sprintf("%s-%s-multipart=%v", tc.cs, tc.mode, tc.multipart)
		t.Run(name, func(t *testing.T) {
			key := strings.ToLower(name)
			base := tc.cs.Base()
			ui, err := c.PutObject(bg, "mpcks", key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{
				DisableMultipart: !tc.multipart, PartSize: partSize, DisableContentSha256: true, Checksum: tc.cs,
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := checksumOf(ui.ChecksumCRC32, ui.ChecksumCRC32C, ui.ChecksumCRC64NVME, ui.ChecksumSHA1, ui.ChecksumSHA256, ui.ChecksumMD5, ui.ChecksumSHA512,
				ui.ChecksumXXHash64, ui.ChecksumXXHash3, ui.ChecksumXXHash128); got != tc.want || ui.ChecksumMode != tc.mode {
				t.Fatalf("upload answered %q %q, want %q %q", got, ui.ChecksumMode, tc.want, tc.mode)
			}
			st, err := c.StatObject(bg, "mpcks", key, minio.StatObjectOptions{Checksum: true})
			if err != nil || st.Checksum(base) != tc.want || st.ChecksumMode != tc.mode {
				t.Fatalf("StatObject = %q %q, %v", st.Checksum(base), st.ChecksumMode, err)
			}
			attrs, err := c.GetObjectAttributes(bg, "mpcks", key, minio.ObjectAttributesOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := attrs.ChecksumMap()[base.Key()]; got != strings.Split(tc.want, "-")[0] || attrs.Checksum.ChecksumType != tc.mode {
				t.Errorf("GetObjectAttributes checksum %q %q", got, attrs.Checksum.ChecksumType)
			}
			if attrs.ETag != st.ETag || attrs.ObjectSize != len(data) || attrs.StorageClass != "STANDARD" {
				t.Errorf("GetObjectAttributes = ETag %q size %d class %q", attrs.ETag, attrs.ObjectSize, attrs.StorageClass)
			}
			if tc.multipart {
				ps := attrs.ObjectParts
				if ps.PartsCount != 2 || len(ps.Parts) != 2 || ps.Parts[1].Size != len(p2) ||
					checksumOf(ps.Parts[1].ChecksumCRC32, ps.Parts[1].ChecksumCRC32C, ps.Parts[1].ChecksumCRC64NVME, ps.Parts[1].ChecksumSHA1,
						ps.Parts[1].ChecksumSHA256, ps.Parts[1].ChecksumMD5, ps.Parts[1].ChecksumSHA512,
						ps.Parts[1].ChecksumXXHash64, ps.Parts[1].ChecksumXXHash3, ps.Parts[1].ChecksumXXHash128) != csum(t, base, p2) {
					t.Errorf("GetObjectAttributes parts = %+v", ps)
				}
				// GET of part 2: its bytes, and (verified by minio-go when
				// the type is FULL_OBJECT) its checksum.
				o, err := c.GetObject(bg, "mpcks", key, minio.GetObjectOptions{Checksum: true, PartNumber: 2})
				if err != nil {
					t.Fatal(err)
				}
				got := mustReadAll(t, o)
				ost, _ := o.Stat()
				o.Close()
				if !bytes.Equal(got, p2) || ost.Checksum(base) != csum(t, base, p2) {
					t.Errorf("GET part 2: %d bytes, checksum %q", len(got), ost.Checksum(base))
				}
			} else if attrs.ObjectParts.PartsCount != 0 || len(attrs.ObjectParts.Parts) != 0 {
				t.Errorf("single-part object has ObjectParts %+v", attrs.ObjectParts)
			}
			// A copy keeps the algorithm, as a full-object checksum of the
			// copied bytes.
			if _, err := c.CopyObject(bg, minio.CopyDestOptions{Bucket: "mpcks", Object: key + "-copy"},
				minio.CopySrcOptions{Bucket: "mpcks", Object: key}); err != nil {
				t.Fatal(err)
			}
			cst, err := c.StatObject(bg, "mpcks", key+"-copy", minio.StatObjectOptions{Checksum: true})
			if err != nil || cst.Checksum(base) != csum(t, base, data) || cst.ChecksumMode != "FULL_OBJECT" {
				t.Errorf("copy: %q %q, %v", cst.Checksum(base), cst.ChecksumMode, err)
			}
		})
	}
}

// checksumOf returns the one non-empty value.
func checksumOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// TestMinioCopyObjectChecksum: x-amz-checksum-algorithm on CopyObject
// computes that checksum over the copy; CopyObjectResult carries it.
func TestMinioCopyObjectChecksum(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rootMinio(t)
	if err := c.MakeBucket(bg, "copycks", minio.MakeBucketOptions{Region: testRegion}); err != nil {
		t.Fatal(err)
	}
	data := pattern(33_000, 5)
	if _, err := c.PutObject(bg, "copycks", "src", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, ct := range append([]minio.ChecksumType{minio.ChecksumNone}, supportedChecksums...) {
		t.Run(ct.String(), func(t *testing.T) {
			dst := minio.CopyDestOptions{Bucket: "copycks", Object: "dst-" + ct.String(), ChecksumType: ct, ReplaceMetadata: true}
			want, base := csum(t, minio.ChecksumCRC64NVME, data), minio.ChecksumCRC64NVME // the source's
			if ct != minio.ChecksumNone {
				want, base = csum(t, ct, data), ct
			}
			ui, err := c.CopyObject(bg, dst, minio.CopySrcOptions{Bucket: "copycks", Object: "src"})
			if err != nil {
				t.Fatal(err)
			}
			got := checksumOf(ui.ChecksumCRC32, ui.ChecksumCRC32C, ui.ChecksumCRC64NVME, ui.ChecksumSHA1, ui.ChecksumSHA256, ui.ChecksumMD5, ui.ChecksumSHA512,
				ui.ChecksumXXHash64, ui.ChecksumXXHash3, ui.ChecksumXXHash128)
			if got != want || ui.ChecksumMode != "FULL_OBJECT" {
				t.Fatalf("CopyObjectResult checksum %q %q, want %q", got, ui.ChecksumMode, want)
			}
			st, err := c.StatObject(bg, "copycks", dst.Object, minio.StatObjectOptions{Checksum: true})
			if err != nil || st.Checksum(base) != want || st.ChecksumMode != "FULL_OBJECT" {
				t.Fatalf("StatObject = %q %q, %v", st.Checksum(base), st.ChecksumMode, err)
			}
		})
	}
}

type listPartsXML struct {
	ChecksumAlgorithm string
	ChecksumType      string
	Part              []struct {
		PartNumber     int
		ChecksumSHA256 string
	}
}

type completeResultXML struct {
	ETag           string
	ChecksumSHA256 string
	ChecksumType   string
}

// TestMultipartChecksumRaw covers the checksum rules of multipart uploads
// at the wire: what CreateMultipartUpload accepts, parts of another
// algorithm, and CompleteMultipartUpload checking what the client lists.
func TestMultipartChecksumRaw(t *testing.T) {
	ts := newTestServer(t)
	if r := ts.raw(t, rawReq{method: "PUT", path: "/mpraw"}); r.status != 200 {
		t.Fatal(r.status)
	}
	for _, tc := range []struct {
		name    string
		headers map[string]string
		status  int
		code    string
	}{
		{"full object sha256", map[string]string{"X-Amz-Checksum-Algorithm": "SHA256", "X-Amz-Checksum-Type": "FULL_OBJECT"}, 400, "InvalidRequest"},
		{"composite crc64nvme", map[string]string{"X-Amz-Checksum-Algorithm": "CRC64NVME", "X-Amz-Checksum-Type": "COMPOSITE"}, 400, "InvalidRequest"},
		{"type without algorithm", map[string]string{"X-Amz-Checksum-Type": "COMPOSITE"}, 400, "InvalidRequest"},
		{"blake3", map[string]string{"X-Amz-Checksum-Algorithm": "BLAKE3"}, 400, "InvalidArgument"},
		{"a checksum value", map[string]string{"X-Amz-Checksum-Algorithm": "CRC32C", "X-Amz-Checksum-Crc32c": b64(make([]byte, 4))}, 400, "InvalidRequest"},
		{"full object crc32c", map[string]string{"X-Amz-Checksum-Algorithm": "CRC32C", "X-Amz-Checksum-Type": "FULL_OBJECT"}, 200, ""},
	} {
		r := ts.raw(t, rawReq{method: "POST", path: "/mpraw/c?uploads", headers: tc.headers})
		if r.status != tc.status || r.code != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, r.status, r.code, tc.status, tc.code)
		}
		if tc.status == 200 && (r.header.Get("X-Amz-Checksum-Algorithm") != "CRC32C" || r.header.Get("X-Amz-Checksum-Type") != "FULL_OBJECT") {
			t.Errorf("%s: answered %v", tc.name, r.header)
		}
	}

	init := ts.raw(t, rawReq{method: "POST", path: "/mpraw/obj?uploads", headers: map[string]string{"X-Amz-Checksum-Algorithm": "SHA256"}})
	var iu struct{ UploadId string }
	if init.status != 200 || xml.Unmarshal(init.body, &iu) != nil || iu.UploadId == "" {
		t.Fatalf("initiate: %d %s", init.status, init.body)
	}
	q := "uploadId=" + iu.UploadId
	part := pattern(1000, 6)
	if r := ts.raw(t, rawReq{method: "PUT", path: "/mpraw/obj?partNumber=1&" + q, body: part,
		headers: map[string]string{"X-Amz-Checksum-Crc32": csum(t, minio.ChecksumCRC32, part)}}); r.status != 400 || r.code != "InvalidRequest" {
		t.Fatalf("part of another algorithm: %d %s", r.status, r.code)
	}
	up := ts.raw(t, rawReq{method: "PUT", path: "/mpraw/obj?partNumber=1&" + q, body: part})
	partSum := csum(t, minio.ChecksumSHA256, part)
	if up.status != 200 || up.header.Get("X-Amz-Checksum-Sha256") != partSum {
		t.Fatalf("part: %d, checksum %q", up.status, up.header.Get("X-Amz-Checksum-Sha256"))
	}
	lp := ts.raw(t, rawReq{method: "GET", path: "/mpraw/obj?" + q})
	var lpx listPartsXML
	if lp.status != 200 || xml.Unmarshal(lp.body, &lpx) != nil || lpx.ChecksumAlgorithm != "SHA256" || lpx.ChecksumType != "COMPOSITE" ||
		len(lpx.Part) != 1 || lpx.Part[0].ChecksumSHA256 != partSum {
		t.Fatalf("ListParts: %d %s", lp.status, lp.body)
	}
	etag := up.header.Get("ETag")
	complete := func(extra string) string {
		return `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>` + etag + `</ETag>` + extra + `</Part></CompleteMultipartUpload>`
	}
	object := compositeSum(minio.ChecksumSHA256, part)
	for _, tc := range []struct {
		name    string
		body    string
		headers map[string]string
		status  int
		code    string
	}{
		{"wrong part checksum", complete("<ChecksumSHA256>" + csum(t, minio.ChecksumSHA256, part[1:]) + "</ChecksumSHA256>"), nil, 400, "InvalidPart"},
		{"unkept part checksum", complete("<ChecksumCRC32>" + csum(t, minio.ChecksumCRC32, part) + "</ChecksumCRC32>"), nil, 400, "InvalidPart"},
		{"unknown part checksum", complete("<ChecksumBLAKE3>" + b64([]byte("12345678")) + "</ChecksumBLAKE3>"), nil, 400, "InvalidArgument"},
		{"malformed part checksum", complete("<ChecksumSHA256>nope</ChecksumSHA256>"), nil, 400, "InvalidArgument"},
		{"wrong object checksum", complete(""), map[string]string{"X-Amz-Checksum-Sha256": partSum}, 400, "BadDigest"},
		{"object checksum of another algorithm", complete(""), map[string]string{"X-Amz-Checksum-Crc32": csum(t, minio.ChecksumCRC32, part)}, 400, "InvalidRequest"},
		{"other type", complete(""), map[string]string{"X-Amz-Checksum-Type": "FULL_OBJECT"}, 400, "InvalidRequest"},
		{"unknown object checksum", complete(""), map[string]string{"X-Amz-Checksum-Blake3": b64(make([]byte, 16))}, 400, "InvalidArgument"},
		{"all right", complete("<ChecksumSHA256>" + partSum + "</ChecksumSHA256>"),
			map[string]string{"X-Amz-Checksum-Sha256": strings.Split(object, "-")[0], "X-Amz-Checksum-Type": "COMPOSITE"}, 200, ""},
	} {
		r := ts.raw(t, rawReq{method: "POST", path: "/mpraw/obj?" + q, body: []byte(tc.body), headers: tc.headers})
		if r.status != tc.status || r.code != tc.code {
			t.Fatalf("%s: %d %s, want %d %s: %s", tc.name, r.status, r.code, tc.status, tc.code, r.body)
		}
		if tc.status != 200 {
			if h := ts.raw(t, rawReq{method: "HEAD", path: "/mpraw/obj"}); h.status != 404 {
				t.Fatalf("%s: refused completion created the object", tc.name)
			}
			continue
		}
		var res completeResultXML
		if err := xml.Unmarshal(r.body, &res); err != nil || res.ChecksumSHA256 != object || res.ChecksumType != "COMPOSITE" {
			t.Fatalf("%s: result %s", tc.name, r.body)
		}
	}
}

// TestGetObjectAttributesRaw covers the request validation of
// GetObjectAttributes and its wire details.
func TestGetObjectAttributesRaw(t *testing.T) {
	ts := newTestServer(t)
	if r := ts.raw(t, rawReq{method: "PUT", path: "/attrs"}); r.status != 200 {
		t.Fatal(r.status)
	}
	obj := []byte("attributes")
	if r := ts.raw(t, rawReq{method: "PUT", path: "/attrs/o", body: obj, headers: map[string]string{"X-Amz-Storage-Class": "ONEZONE_IA"}}); r.status != 200 {
		t.Fatal(r.status)
	}
	all := "ETag,Checksum,ObjectParts,StorageClass,ObjectSize"
	for _, tc := range []struct {
		name   string
		req    rawReq
		status int
		code   string
		check  func(t *testing.T, r rawResp)
	}{
		{"all", rawReq{method: "GET", path: "/attrs/o?attributes", headers: map[string]string{"X-Amz-Object-Attributes": all}}, 200, "",
			func(t *testing.T, r rawResp) {
				if r.header.Get("ETag") != "" || r.header.Get("Last-Modified") == "" {
					t.Errorf("headers %v", r.header)
				}
				if !containsAll(string(r.body), "<ETag>"+md5hex(obj)+"</ETag>", "<ChecksumCRC64NVME>"+csum(t, minio.ChecksumCRC64NVME, obj)+"</ChecksumCRC64NVME>",
					"<ChecksumType>FULL_OBJECT</ChecksumType>", "<StorageClass>ONEZONE_IA</StorageClass>", "<ObjectSize>10</ObjectSize>") ||
					strings.Contains(string(r.body), "ObjectParts") {
					t.Errorf("body %s", r.body)
				}
			}},
		{"only size", rawReq{method: "GET", path: "/attrs/o?attributes", headers: map[string]string{"X-Amz-Object-Attributes": "ObjectSize"}}, 200, "",
			func(t *testing.T, r rawResp) {
				if strings.Contains(string(r.body), "ETag") || !strings.Contains(string(r.body), "<ObjectSize>10</ObjectSize>") {
					t.Errorf("body %s", r.body)
				}
			}},
		{"unknown attribute", rawReq{method: "GET", path: "/attrs/o?attributes", headers: map[string]string{"X-Amz-Object-Attributes": "ETag,Owner"}}, 400, "InvalidArgument", nil},
		{"no attributes", rawReq{method: "GET", path: "/attrs/o?attributes"}, 400, "InvalidRequest", nil},
		{"bad max parts", rawReq{method: "GET", path: "/attrs/o?attributes", headers: map[string]string{"X-Amz-Object-Attributes": all, "X-Amz-Max-Parts": "-1"}}, 400, "InvalidArgument", nil},
		{"missing key", rawReq{method: "GET", path: "/attrs/nope?attributes", headers: map[string]string{"X-Amz-Object-Attributes": all}}, 404, "NoSuchKey", nil},
		{"missing bucket", rawReq{method: "GET", path: "/nobucket/o?attributes", headers: map[string]string{"X-Amz-Object-Attributes": all}}, 404, "NoSuchBucket", nil},
		{"put", rawReq{method: "PUT", path: "/attrs/o?attributes", body: obj}, 501, "NotImplemented", nil},
		{"bucket", rawReq{method: "GET", path: "/attrs?attributes"}, 501, "NotImplemented", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ts.raw(t, tc.req)
			if r.status != tc.status || r.code != tc.code {
				t.Fatalf("%d %s, want %d %s: %s", r.status, r.code, tc.status, tc.code, r.body)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
	if r := ts.raw(t, rawReq{method: "PUT", path: "/attrs/copy", headers: map[string]string{"X-Amz-Copy-Source": "/attrs/o",
		"X-Amz-Checksum-Sha256": csum(t, minio.ChecksumSHA256, obj)}}); r.status != 400 || r.code != "InvalidRequest" {
		t.Fatalf("CopyObject with a checksum value: %d %s", r.status, r.code)
	}
	if got := ts.raw(t, rawReq{method: "GET", path: "/attrs/o"}); !bytes.Equal(got.body, obj) {
		t.Fatal("PUT ?attributes changed the object")
	}
}
