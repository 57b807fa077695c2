package envelope

import (
	"bytes"
	"context"
	"io"
	"math"
	"strconv"
	"testing"
)

// TestPartNumberOutOfRangeRefused: the stream identity encodes the part as
// a uint32, so part -1 and 2^32-1, or 2^32 and 0, would share an identity
// and a stream written as one would decrypt as the other. Parts outside
// 0..2^32-1 must be refused, not wrapped.
func TestPartNumberOutOfRangeRefused(t *testing.T) {
	e, _ := newOSSEnvelope(t)
	id := Identity{Bucket: "b", Object: "o", UploadID: "u"}
	dk, _, err := e.NewDataKey(context.Background(), Spec{Algorithm: AlgorithmAES256}, id)
	if err != nil {
		t.Fatal(err)
	}
	defer dk.Destroy()
	// A valid stream for part 0 and one for part 2^32-1.
	streams := map[int][]byte{}
	for _, part := range []int{0, math.MaxUint32} {
		var ct bytes.Buffer
		w, err := dk.Encrypt(&ct, part)
		if err != nil {
			t.Fatalf("part %d: %v", part, err)
		}
		w.Write([]byte("part " + strconv.Itoa(part)))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		streams[part] = ct.Bytes()
	}
	for _, tc := range []struct{ bad, alias int }{{-1, math.MaxUint32}, {math.MaxUint32 + 1, 0}, {math.MinInt, 0}} {
		if _, err := dk.Encrypt(io.Discard, tc.bad); err == nil {
			t.Errorf("Encrypt accepted part %d", tc.bad)
		}
		ct := streams[tc.alias]
		if r, err := dk.Decrypt(bytes.NewReader(ct), tc.bad); err == nil {
			got, _ := io.ReadAll(r)
			t.Errorf("Decrypt as part %d opened the stream of part %d: %q", tc.bad, tc.alias, got)
		}
		if r, err := dk.DecryptRange(bytes.NewReader(ct), int64(len(ct)), tc.bad, 0, 1); err == nil {
			got, _ := io.ReadAll(r)
			t.Errorf("DecryptRange as part %d opened the stream of part %d: %q", tc.bad, tc.alias, got)
		}
	}
}
