package objstore

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"hash/crc64"
	"testing"
)

// FuzzPutGet writes arbitrary keys, metadata and content with each
// encryption choice and checks that nothing panics, that invalid keys are
// refused with KindInvalidObjectName, and that valid ones read back
// byte-exact (content, metadata, ETag, CRC64, SSE, a sub-range, listing).
// Every execution fsyncs, so minimizing a large input takes long; run with
// e.g. -fuzz FuzzPutGet -fuzzminimizetime 2s.
func FuzzPutGet(f *testing.F) {
	f.Add("key", "text/plain", "Owner", "value", []byte("hello"), uint8(0), uint16(1), uint16(2))
	f.Add("dir/日本語", "", "x", "\xff\xfe not utf-8", bytes.Repeat([]byte{1, 2, 3}, 30_000), uint8(1), uint16(65530), uint16(100))
	f.Add("with\x00nul", "a\x00b", "MiXeD", "", []byte{}, uint8(2), uint16(0), uint16(0))
	f.Add("", "t", "k", "v", []byte("x"), uint8(1), uint16(0), uint16(1))
	f.Add("bad\xffkey", "t", "k", "v", []byte("x"), uint8(2), uint16(0), uint16(1))
	e := newTestEnv(f)
	mustBucket(f, e.s, "fuzz", nil)
	algs := []string{"", AlgorithmAES256, AlgorithmKMS}
	f.Fuzz(func(t *testing.T, key, contentType, metaKey, metaVal string, data []byte, alg uint8, off, n uint16) {
		sse := SSE{Algorithm: algs[int(alg)%len(algs)]}
		opts := PutOptions{SSE: sse, ContentType: contentType, UserMetadata: map[string]string{metaKey: metaVal}}
		info, err := e.s.PutObject(bg, root, "fuzz", key, bytes.NewReader(data), int64(len(data)), opts)
		if !ValidObjectKey(key) {
			if KindOf(err) != KindInvalidObjectName {
				t.Fatalf("invalid key %q: %v", key, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("PutObject(%q): %v", key, err)
		}
		sum := md5.Sum(data)
		wantMeta := lowerASCII(metaKey)
		head, err := e.s.HeadObject(bg, root, "fuzz", key)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range []ObjectInfo{info, head} {
			if i.Key != key || i.Size != int64(len(data)) || i.ETag != hex.EncodeToString(sum[:]) ||
				i.CRC64 != crc64.Checksum(data, crcTable) || i.ContentType != contentType ||
				i.UserMetadata[wantMeta] != metaVal || len(i.UserMetadata) != 1 || i.SSE.Algorithm != sse.Algorithm {
				t.Fatalf("info %+v", i)
			}
		}
		if got := get(t, e.s, "fuzz", key); !bytes.Equal(got, data) {
			t.Fatalf("read back %d bytes, want %d", len(got), len(data))
		}
		lo := min(int64(off), int64(len(data)))
		ln := min(int64(n), int64(len(data))-lo)
		got, err := readRange(e.s, root, "fuzz", key, lo, ln)
		if err != nil || !bytes.Equal(got, data[lo:lo+ln]) {
			t.Fatalf("range [%d,+%d): %v", lo, ln, err)
		}
		res, err := e.s.ListObjects(bg, root, "fuzz", ListOptions{Prefix: key, MaxKeys: 1})
		if err != nil || len(res.Objects) != 1 || res.Objects[0].Key != key {
			t.Fatalf("listing prefix %q: %+v, %v", key, res, err)
		}
	})
}
