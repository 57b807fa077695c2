package osshttp

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestMultipartUpload(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, e *testEnv, c sdkClient) {
		const b, k = "multipart", "big/obj ü+x"
		must(t, c.CreateBucket(b, nil))
		cmk := e.createKey()
		parts := [][]byte{payload(MinPartSize, 20), payload(MinPartSize+17, 21), payload(1000, 22)}
		whole := bytes.Join(parts, nil)

		id, h, err := c.InitiateMultipart(b, k, map[string]string{"x-oss-server-side-encryption": "KMS",
			"x-oss-server-side-encryption-key-id": cmk, "x-oss-meta-kind": "mp", "Content-Type": "video/mp4"})
		must(t, err)
		wantSSE(t, "initiate", h, "KMS", cmk)

		// SSE headers belong to the initiation only.
		_, _, err = c.UploadPart(b, k, id, 1, parts[0], sseHdr("KMS", cmk))
		wantErr(t, err, 400, CodeInvalidArgument)
		_, _, err = c.UploadPart(b, k, id, 1, parts[0], map[string]string{"x-oss-server-side-encryption": "AES256"})
		wantErr(t, err, 400, CodeInvalidArgument)
		_, _, err = c.UploadPart(b, k, "no-such-upload", 1, parts[0], nil)
		wantErr(t, err, 404, CodeNoSuchUpload)
		if _, _, ec := svcErr(err); ec != "0042-00000104" {
			t.Fatalf("UploadPart NoSuchUpload EC %q", ec)
		}

		var refs []partRef
		for i, p := range parts {
			etag, h, err := c.UploadPart(b, k, id, i+1, p, nil)
			must(t, err)
			if etag != etagOf(p) || h.Get("X-Oss-Hash-Crc64ecma") != crcOf(p) {
				t.Fatalf("part %d: etag %q crc %q", i+1, etag, h.Get("X-Oss-Hash-Crc64ecma"))
			}
			wantSSE(t, "upload part", h, "KMS", cmk)
			refs = append(refs, partRef{i + 1, etag})
		}
		listed, err := c.ListParts(b, k, id)
		must(t, err)
		if len(listed) != 3 || listed[1].n != 2 || listed[1].size != int64(len(parts[1])) || listed[2].etag != etagOf(parts[2]) {
			t.Fatalf("ListParts %+v", listed)
		}
		ups, err := c.ListMultipartUploads(b, "big/")
		must(t, err)
		if !slices.Equal(ups, []string{k + "|" + id}) {
			t.Fatalf("ListMultipartUploads %q", ups)
		}

		_, _, err = c.CompleteMultipart(b, k, id, refs, sseHdr("KMS", cmk))
		wantErr(t, err, 400, CodeInvalidArgument)
		bad := slices.Clone(refs)
		bad[1].etag = etagOf([]byte("other"))
		_, _, err = c.CompleteMultipart(b, k, id, bad, nil)
		wantErr(t, err, 400, CodeInvalidPart)

		etag, h, err := c.CompleteMultipart(b, k, id, refs, nil)
		must(t, err)
		if h.Get("X-Oss-Hash-Crc64ecma") != crcOf(whole) || !strings.HasSuffix(etag, `-3"`) {
			t.Fatalf("complete: etag %q crc %q want %s", etag, h.Get("X-Oss-Hash-Crc64ecma"), crcOf(whole))
		}
		wantSSE(t, "complete", h, "KMS", cmk)
		got, h, err := c.GetObject(b, k, nil)
		must(t, err)
		if !bytes.Equal(got, whole) || h.Get("X-Oss-Object-Type") != "Multipart" || h.Get("X-Oss-Hash-Crc64ecma") != crcOf(whole) ||
			h.Get("ETag") != etag || h.Get("X-Oss-Meta-Kind") != "mp" || h.Get("Content-Type") != "video/mp4" {
			t.Fatalf("multipart object headers %v", h)
		}
		wantSSE(t, "get multipart", h, "KMS", cmk)
		// A range across the part boundary.
		got, _, err = c.GetObject(b, k, map[string]string{"Range": "bytes=102390-102410"})
		must(t, err)
		if !bytes.Equal(got, whole[102390:102411]) {
			t.Fatal("range across parts")
		}
		_, err = c.ListParts(b, k, id)
		wantErr(t, err, 404, CodeNoSuchUpload)

		// Parts below 100 KiB (but the last) are refused at completion.
		id2, _, err := c.InitiateMultipart(b, "small", nil)
		must(t, err)
		var small []partRef
		for i := range 2 {
			etag, _, err := c.UploadPart(b, "small", id2, i+1, payload(1000, byte(i)), nil)
			must(t, err)
			small = append(small, partRef{i + 1, etag})
		}
		_, _, err = c.CompleteMultipart(b, "small", id2, small, nil)
		wantErr(t, err, 400, CodeEntityTooSmall)

		// Abort.
		must(t, c.AbortMultipart(b, "small", id2))
		_, err = c.ListParts(b, "small", id2)
		wantErr(t, err, 404, CodeNoSuchUpload)
		err = c.AbortMultipart(b, "small", id2)
		wantErr(t, err, 404, CodeNoSuchUpload)
		if _, _, ec := svcErr(err); ec != "0042-00000002" {
			t.Fatalf("Abort NoSuchUpload EC %q", ec)
		}

		// Under a bucket rule with no header, the rule applies at initiation.
		must(t, c.PutBucketEncryption(b, encRule{alg: "AES256"}))
		id3, h, err := c.InitiateMultipart(b, "ruled", nil)
		must(t, err)
		wantSSE(t, "initiate under rule", h, "AES256", "")
		etag3, h, err := c.UploadPart(b, "ruled", id3, 1, parts[2], nil)
		must(t, err)
		wantSSE(t, "part under rule", h, "AES256", "")
		_, h, err = c.CompleteMultipart(b, "ruled", id3, []partRef{{1, etag3}}, nil)
		must(t, err)
		wantSSE(t, "complete under rule", h, "AES256", "")
		if h.Get("X-Oss-Hash-Crc64ecma") != crcOf(parts[2]) {
			t.Fatal("single-part multipart crc")
		}
	})
}
