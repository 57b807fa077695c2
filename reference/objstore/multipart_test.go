package objstore

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"hash/crc64"
	"os"
	"strings"
	"testing"
)

const minPart = 100 << 10 // OSS minimum

func uploadParts(t *testing.T, s *DiskStore, bucket, key, id string, parts [][]byte) []CompletePart {
	t.Helper()
	var out []CompletePart
	for i, p := range parts {
		part, up, err := s.UploadPart(bg, root, bucket, key, id, i+1, bytes.NewReader(p), int64(len(p)), PartOptions{ContentMD5: md5raw(p)})
		if err != nil {
			t.Fatalf("UploadPart %d: %v", i+1, err)
		}
		if part.PartNumber != i+1 || part.ETag != md5hex(p) || part.Size != int64(len(p)) ||
			part.CRC64 != crc64.Checksum(p, crcTable) || up.UploadID != id {
			t.Fatalf("UploadPart %d = %+v, %+v", i+1, part, up)
		}
		out = append(out, CompletePart{PartNumber: i + 1, ETag: `"` + strings.ToUpper(part.ETag) + `"`})
	}
	return out
}

func multipartETag(parts [][]byte) string {
	var cat []byte
	for _, p := range parts {
		cat = append(cat, md5raw(p)...)
	}
	s := md5.Sum(cat)
	return hex.EncodeToString(s[:]) + fmt.Sprintf("-%d", len(parts))
}

func TestMultipartEncrypted(t *testing.T) {
	for _, tc := range []struct {
		name string
		rule *EncryptionRule
		req  SSE
	}{
		{"plain", nil, SSE{}},
		{"AES256 default", &EncryptionRule{Algorithm: AlgorithmAES256}, SSE{}},
		{"KMS default", &EncryptionRule{Algorithm: AlgorithmKMS}, SSE{}},
		{"KMS request", nil, SSE{Algorithm: AlgorithmKMS}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			mustBucket(t, e.s, "mpu", tc.rule)
			up, err := e.s.CreateMultipartUpload(bg, root, "mpu", "big", PutOptions{SSE: tc.req, ContentType: "video/mp4", UserMetadata: map[string]string{"k": "v"}})
			if err != nil {
				t.Fatal(err)
			}
			wantSSE := SSE{}
			switch {
			case tc.req.Algorithm != "":
				wantSSE.Algorithm = tc.req.Algorithm
			case tc.rule != nil:
				wantSSE.Algorithm = tc.rule.Algorithm
			}
			if wantSSE.Algorithm == AlgorithmKMS {
				wantSSE.KMSKeyID = e.serviceKeyID(t)
			}
			if up.SSE != wantSSE || up.Key != "big" || up.Bucket != "mpu" || len(up.UploadID) != 32 {
				t.Fatalf("upload = %+v, want SSE %+v", up, wantSSE)
			}
			// Changing the rule mid-upload does not change the upload.
			if err := e.s.PutBucketEncryption(bg, root, "mpu", EncryptionRule{Algorithm: AlgorithmAES256}); err != nil {
				t.Fatal(err)
			}
			parts := [][]byte{pattern(minPart+70_000, 1), pattern(minPart, 2), pattern(5_000, 3)}
			// Part 2 first uploaded with other content, then replaced.
			if _, _, err := e.s.UploadPart(bg, root, "mpu", "big", up.UploadID, 2, bytes.NewReader(pattern(minPart, 99)), minPart, PartOptions{}); err != nil {
				t.Fatal(err)
			}
			filesBefore := len(listFiles(t, e.dir+"/data"))
			cps := uploadParts(t, e.s, "mpu", "big", up.UploadID, parts)
			if n := len(listFiles(t, e.dir+"/data")); n != filesBefore+2 {
				t.Fatalf("replacing part 2 left its old file: %d data files, want %d", n, filesBefore+2)
			}
			_, upl, err := e.s.UploadPart(bg, root, "mpu", "big", up.UploadID, 4, strings.NewReader("unlisted"), 8, PartOptions{})
			if err != nil || upl.SSE != wantSSE {
				t.Fatalf("UploadPart's upload = %+v, %v", upl, err)
			}
			lp, lup, err := e.s.ListParts(bg, root, "mpu", "big", up.UploadID, 0, 0)
			if err != nil || len(lp.Parts) != 4 || lup.SSE != wantSSE || lp.IsTruncated {
				t.Fatalf("ListParts = %+v, %+v, %v", lp, lup, err)
			}
			if lp.Parts[1].ETag != md5hex(parts[1]) {
				t.Fatal("ListParts shows the replaced part 2")
			}
			info, err := e.s.CompleteMultipartUpload(bg, root, "mpu", "big", up.UploadID, cps, CompleteOptions{MinPartSize: minPart})
			if err != nil {
				t.Fatal(err)
			}
			all := bytes.Join(parts, nil)
			if info.Size != int64(len(all)) || info.ETag != multipartETag(parts) || !info.Multipart || info.PartsCount != 3 ||
				info.CRC64 != crc64.Checksum(all, crcTable) || info.SSE != wantSSE || info.ContentType != "video/mp4" || info.UserMetadata["k"] != "v" {
				t.Fatalf("Complete = %+v", info)
			}
			if h, _ := e.s.HeadObject(bg, root, "mpu", "big"); h.SSE != wantSSE || h.ETag != info.ETag || h.CRC64 != info.CRC64 {
				t.Fatalf("Head = %+v", h)
			}
			if n := len(listFiles(t, e.dir+"/data")); n != filesBefore+2 {
				t.Fatalf("the unlisted part was not discarded: %d data files", n)
			}
			if !bytes.Equal(get(t, e.s, "mpu", "big"), all) {
				t.Fatal("multipart object reads back wrong")
			}
			rest, _ := e.s.AtRest(bg, "mpu", "big")
			if len(rest.DataFiles) != 3 || rest.Encrypted != (wantSSE.Algorithm != "") {
				t.Fatalf("AtRest = %+v", rest)
			}
			for i, f := range rest.DataFiles {
				b, _ := os.ReadFile(f)
				if enc := bytes.Contains(b, parts[i][:64]); enc == rest.Encrypted {
					t.Fatalf("part %d: plaintext at rest = %v, encrypted = %v", i+1, enc, rest.Encrypted)
				}
			}
			p1 := int64(len(parts[0]))
			p2 := p1 + int64(len(parts[1]))
			for _, r := range [][2]int64{
				{0, 10}, {p1 - 10, 20}, {p1, 1}, {p1 - 1, 1}, {p1 - 5, int64(len(parts[1])) + 10}, {p2 - 3, 3},
				{p2 - 3, 100}, {0, int64(len(all))}, {int64(len(all)), 0}, {int64(len(all)) - 1, 1}, {65_000, 70_000},
			} {
				got, err := readRange(e.s, root, "mpu", "big", r[0], r[1])
				if err != nil || !bytes.Equal(got, all[r[0]:r[0]+r[1]]) {
					t.Fatalf("range [%d,+%d): %v, %d bytes", r[0], r[1], err, len(got))
				}
			}
			// Copying a multipart object reads across its part streams and
			// writes a single-part object.
			cp, err := e.s.CopyObject(bg, root, "mpu", "big", "mpu", "copy", CopyOptions{Put: PutOptions{SSE: SSE{Algorithm: AlgorithmAES256}}})
			if err != nil || cp.Multipart || cp.ETag != md5hex(all) || cp.CRC64 != info.CRC64 || cp.ContentType != "video/mp4" {
				t.Fatalf("copy of the multipart object = %+v, %v", cp, err)
			}
			if !bytes.Equal(get(t, e.s, "mpu", "copy"), all) {
				t.Fatal("copy reads back wrong")
			}
			if _, _, err := e.s.ListParts(bg, root, "mpu", "big", up.UploadID, 0, 0); KindOf(err) != KindNoSuchUpload {
				t.Fatalf("ListParts after Complete: %v", err)
			}
		})
	}
}

func TestMultipartErrors(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "mpu", &EncryptionRule{Algorithm: AlgorithmKMS})
	up, err := e.s.CreateMultipartUpload(bg, root, "mpu", "obj", PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	small := pattern(1000, 1)
	big := pattern(minPart, 2)
	parts := uploadParts(t, e.s, "mpu", "obj", up.UploadID, [][]byte{big, small, big})

	for _, n := range []int{0, -1, 10001} {
		_, _, err := e.s.UploadPart(bg, root, "mpu", "obj", up.UploadID, n, strings.NewReader("x"), 1, PartOptions{})
		wantKind(t, err, KindInvalidArgument)
	}
	_, _, err = e.s.UploadPart(bg, root, "mpu", "obj", "nope", 1, strings.NewReader("x"), 1, PartOptions{})
	wantKind(t, err, KindNoSuchUpload)
	_, _, err = e.s.UploadPart(bg, root, "mpu", "other-key", up.UploadID, 1, strings.NewReader("x"), 1, PartOptions{})
	wantKind(t, err, KindNoSuchUpload)
	_, _, err = e.s.UploadPart(bg, root, "mpu", "obj", up.UploadID, 5, strings.NewReader("abc"), 3, PartOptions{ContentMD5: md5raw([]byte("abd"))})
	wantKind(t, err, KindInvalidDigest)
	_, _, err = e.s.UploadPart(bg, root, "mpu", "obj", up.UploadID, 5, strings.NewReader("ab"), 3, PartOptions{})
	wantKind(t, err, KindIncompleteBody)

	cases := []struct {
		name  string
		parts []CompletePart
		want  Kind
	}{
		{"none", nil, KindInvalidArgument},
		{"descending", []CompletePart{parts[1], parts[0]}, KindInvalidPartOrder},
		{"duplicate", []CompletePart{parts[0], parts[0]}, KindInvalidPartOrder},
		{"wrong etag", []CompletePart{{PartNumber: 1, ETag: md5hex(small)}}, KindInvalidPart},
		{"missing part", []CompletePart{parts[0], {PartNumber: 7, ETag: md5hex(big)}}, KindInvalidPart},
		{"part 5 never completed", []CompletePart{{PartNumber: 5, ETag: md5hex([]byte("ab"))}}, KindInvalidPart},
		{"too small non-final", []CompletePart{parts[0], parts[1], parts[2]}, KindEntityTooSmall},
	}
	for _, c := range cases {
		_, err := e.s.CompleteMultipartUpload(bg, root, "mpu", "obj", up.UploadID, c.parts, CompleteOptions{MinPartSize: minPart})
		if KindOf(err) != c.want {
			t.Errorf("%s: %v, want kind %d", c.name, err, c.want)
		}
	}
	if _, err := e.s.HeadObject(bg, root, "mpu", "obj"); KindOf(err) != KindNoSuchKey {
		t.Fatalf("a failed Complete made the object visible: %v", err)
	}
	// Small final part is fine; the upload survived the failed attempts.
	info, err := e.s.CompleteMultipartUpload(bg, root, "mpu", "obj", up.UploadID, []CompletePart{parts[0], parts[1]}, CompleteOptions{MinPartSize: minPart})
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != int64(len(big)+len(small)) {
		t.Fatalf("size %d", info.Size)
	}
	_, err = e.s.CompleteMultipartUpload(bg, root, "mpu", "obj", up.UploadID, parts[:1], CompleteOptions{MinPartSize: minPart})
	wantKind(t, err, KindNoSuchUpload)

	up2, _ := e.s.CreateMultipartUpload(bg, root, "mpu", "aborted", PutOptions{})
	uploadParts(t, e.s, "mpu", "aborted", up2.UploadID, [][]byte{small})
	files := len(listFiles(t, e.dir+"/data"))
	if err := e.s.AbortMultipartUpload(bg, root, "mpu", "aborted", up2.UploadID); err != nil {
		t.Fatal(err)
	}
	if n := len(listFiles(t, e.dir+"/data")); n != files-1 {
		t.Fatalf("abort left part files: %d -> %d", files, n)
	}
	wantKind(t, e.s.AbortMultipartUpload(bg, root, "mpu", "aborted", up2.UploadID), KindNoSuchUpload)
	_, _, err = e.s.UploadPart(bg, root, "mpu", "aborted", up2.UploadID, 1, strings.NewReader("x"), 1, PartOptions{})
	wantKind(t, err, KindNoSuchUpload)
}

func TestListPartsAndUploadsPagination(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "mpu", nil)
	up, _ := e.s.CreateMultipartUpload(bg, root, "mpu", "parts", PutOptions{})
	for _, n := range []int{3, 1, 10000, 7, 2} {
		if _, _, err := e.s.UploadPart(bg, root, "mpu", "parts", up.UploadID, n, strings.NewReader("p"), 1, PartOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var got []int
	marker := 0
	for pages := 0; ; pages++ {
		res, _, err := e.s.ListParts(bg, root, "mpu", "parts", up.UploadID, marker, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range res.Parts {
			got = append(got, p.PartNumber)
		}
		if !res.IsTruncated {
			break
		}
		if pages > 5 || res.NextPartNumberMarker <= marker {
			t.Fatalf("pagination does not advance: %+v", res)
		}
		marker = res.NextPartNumberMarker
	}
	if fmt.Sprint(got) != "[1 2 3 7 10000]" {
		t.Fatalf("parts = %v", got)
	}

	// Uploads: several per key, keys with a delimiter.
	e.clk.Advance(1e9)
	type ku struct{ key, id string }
	var want []ku
	want = append(want, ku{"parts", up.UploadID})
	for _, k := range []string{"a/1", "a/2", "b", "b", "c/x/y", "a\x00z"} {
		e.clk.Advance(1e9)
		u, err := e.s.CreateMultipartUpload(bg, root, "mpu", k, PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, ku{k, u.UploadID})
	}
	var all []ku
	opts := ListUploadsOptions{MaxUploads: 2}
	for pages := 0; ; pages++ {
		res, err := e.s.ListMultipartUploads(bg, root, "mpu", opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Uploads) > 2 || len(res.CommonPrefixes) != 0 {
			t.Fatalf("page = %+v", res)
		}
		for _, u := range res.Uploads {
			all = append(all, ku{u.Key, u.UploadID})
		}
		if !res.IsTruncated {
			break
		}
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		opts.KeyMarker, opts.UploadIDMarker = res.NextKeyMarker, res.NextUploadIDMarker
	}
	// Expected order: by key, then by upload id (= initiation order).
	order := []string{"a\x00z", "a/1", "a/2", "b", "b", "c/x/y", "parts"}
	if len(all) != len(order) {
		t.Fatalf("listed %d uploads: %+v", len(all), all)
	}
	for i, k := range order {
		if all[i].key != k {
			t.Fatalf("upload %d is %q, want %q (all: %q)", i, all[i].key, k, all)
		}
	}
	if all[3].id >= all[4].id || all[3].id != want[3].id {
		t.Fatalf("uploads of one key not in initiation order: %v", all)
	}

	res, err := e.s.ListMultipartUploads(bg, root, "mpu", ListUploadsOptions{Delimiter: "/"})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(res.CommonPrefixes) != "[a/ c/]" || len(res.Uploads) != 4 {
		t.Fatalf("delimited listing = %+v", res)
	}
	res, err = e.s.ListMultipartUploads(bg, root, "mpu", ListUploadsOptions{Prefix: "c/", Delimiter: "/"})
	if err != nil || fmt.Sprint(res.CommonPrefixes) != "[c/x/]" || len(res.Uploads) != 0 {
		t.Fatalf("prefixed listing = %+v, %v", res, err)
	}
	res, err = e.s.ListMultipartUploads(bg, root, "mpu", ListUploadsOptions{Delimiter: "/", MaxUploads: 1, KeyMarker: "a/"})
	if err != nil || len(res.Uploads) != 1 || res.Uploads[0].Key != "b" || !res.IsTruncated || len(res.CommonPrefixes) != 0 {
		t.Fatalf("listing after the common prefix a/ = %+v, %v", res, err)
	}
}
