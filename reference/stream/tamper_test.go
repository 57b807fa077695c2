package stream

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"
)

// chunkAt returns the byte offset of chunk i in a stream.
func chunkAt(i int) int { return HeaderSize + i*ctChunkSize }

func flip(off int) func([]byte) []byte {
	return func(b []byte) []byte { b[off] ^= 0x01; return b }
}

func TestTamper(t *testing.T) {
	// short: 3 full chunks and a 100-byte final chunk.
	shortPT := plaintext(3*ChunkSize+100, 20)
	short := seal(t, shortPT, testKey, testIdentity, WithRand(detRand(20)))
	// full: 2 chunks, the final one full.
	fullPT := plaintext(2*ChunkSize, 21)
	full := seal(t, fullPT, testKey, testIdentity, WithRand(detRand(21)))
	// other: same plaintext, key and identity as short, different salt.
	other := seal(t, shortPT, testKey, testIdentity, WithRand(detRand(22)))
	emptyPT := []byte{}
	empty := seal(t, emptyPT, testKey, testIdentity, WithRand(detRand(23)))

	otherKey := bytes.Repeat([]byte{0x43}, 32)
	junk := []byte("appended junk")

	tests := []struct {
		name     string
		base     []byte // stream to modify
		pt       []byte // its plaintext
		mod      func([]byte) []byte
		key, id  []byte // default testKey, testIdentity
		want     error  // sequential Reader
		wantRng  error  // whole-object range reader with encSize = len(modified); nil means same as want
		released int    // plaintext bytes the sequential reader releases before failing
	}{
		{name: "magic", base: short, pt: shortPT, mod: flip(1), want: ErrMalformedHeader},
		{name: "version", base: short, pt: shortPT, mod: flip(offVersion), want: ErrUnsupportedVersion},
		{name: "chunk-exponent", base: short, pt: shortPT, mod: flip(offExp), want: ErrMalformedHeader},
		{name: "salt", base: short, pt: shortPT, mod: flip(offSalt + 5), want: ErrKeyCommitment},
		{name: "nonce-prefix", base: short, pt: shortPT, mod: flip(offPrefix + 3), want: ErrAuthentication},
		{name: "commitment", base: short, pt: shortPT, mod: flip(offCommit + 31), want: ErrKeyCommitment},
		{name: "chunk0-body", base: short, pt: shortPT, mod: flip(chunkAt(0) + 7), want: ErrAuthentication},
		{name: "chunk1-body", base: short, pt: shortPT, mod: flip(chunkAt(1) + 1000), want: ErrAuthentication, released: ChunkSize},
		{name: "chunk1-tag", base: short, pt: shortPT, mod: flip(chunkAt(2) - 1), want: ErrAuthentication, released: ChunkSize},
		{name: "final-body", base: short, pt: shortPT, mod: flip(chunkAt(3)), want: ErrAuthentication, released: 3 * ChunkSize},
		{name: "final-tag", base: short, pt: shortPT, mod: func(b []byte) []byte { b[len(b)-1] ^= 0x80; return b }, want: ErrAuthentication, released: 3 * ChunkSize},
		{name: "empty-stream-tag", base: empty, pt: emptyPT, mod: func(b []byte) []byte { b[len(b)-3] ^= 0x80; return b }, want: ErrAuthentication},
		{name: "truncate-in-header", base: short, pt: shortPT, mod: func(b []byte) []byte { return b[:HeaderSize-1] }, want: ErrTruncated, wantRng: ErrInvalidSize},
		{name: "truncate-after-header", base: short, pt: shortPT, mod: func(b []byte) []byte { return b[:HeaderSize] }, want: ErrTruncated, wantRng: ErrInvalidSize},
		{name: "truncate-empty-stream-tag", base: empty, pt: emptyPT, mod: func(b []byte) []byte { return b[:HeaderSize+5] }, want: ErrTruncated, wantRng: ErrInvalidSize},
		{name: "drop-short-final-chunk", base: short, pt: shortPT, mod: func(b []byte) []byte { return b[:chunkAt(3)] }, want: ErrTruncated, released: 2 * ChunkSize},
		{name: "drop-full-final-chunk", base: full, pt: fullPT, mod: func(b []byte) []byte { return b[:chunkAt(1)] }, want: ErrTruncated},
		{name: "truncate-mid-chunk", base: short, pt: shortPT, mod: func(b []byte) []byte { return b[:chunkAt(2)+5000] }, want: ErrAuthentication, released: 2 * ChunkSize},
		{name: "truncate-inside-tag", base: short, pt: shortPT, mod: func(b []byte) []byte { return b[:chunkAt(3)+10] }, want: ErrTruncated, released: 3 * ChunkSize, wantRng: ErrInvalidSize},
		{name: "truncate-last-byte", base: short, pt: shortPT, mod: func(b []byte) []byte { return b[:len(b)-1] }, want: ErrAuthentication, released: 3 * ChunkSize},
		{name: "drop-middle-chunk", base: short, pt: shortPT, mod: func(b []byte) []byte { return slices.Delete(b, chunkAt(1), chunkAt(2)) }, want: ErrAuthentication, released: ChunkSize},
		{name: "duplicate-chunk", base: short, pt: shortPT, mod: func(b []byte) []byte { return slices.Insert(b, chunkAt(1), b[chunkAt(0):chunkAt(1)]...) }, want: ErrAuthentication, released: ChunkSize},
		{name: "swap-chunks", base: short, pt: shortPT, mod: func(b []byte) []byte {
			c1 := slices.Clone(b[chunkAt(1):chunkAt(2)])
			copy(b[chunkAt(1):], b[chunkAt(2):chunkAt(3)])
			copy(b[chunkAt(2):], c1)
			return b
		}, want: ErrAuthentication, released: ChunkSize},
		{name: "append-after-short-final", base: short, pt: shortPT, mod: func(b []byte) []byte { return append(b, junk...) }, want: ErrAuthentication, released: 3 * ChunkSize},
		{name: "append-after-full-final", base: full, pt: fullPT, mod: func(b []byte) []byte { return append(b, junk...) }, want: ErrTrailingData, released: ChunkSize, wantRng: ErrInvalidSize},
		{name: "append-chunk-after-full-final", base: full, pt: fullPT, mod: func(b []byte) []byte { return append(b, b[chunkAt(0):chunkAt(1)]...) }, want: ErrTrailingData, released: ChunkSize},
		{name: "append-tag-after-empty", base: empty, pt: emptyPT, mod: func(b []byte) []byte { return append(b, b[HeaderSize:]...) }, want: ErrAuthentication},
		{name: "splice-chunk-other-stream", base: short, pt: shortPT, mod: func(b []byte) []byte {
			copy(b[chunkAt(1):chunkAt(2)], other[chunkAt(1):chunkAt(2)])
			return b
		}, want: ErrAuthentication, released: ChunkSize},
		{name: "splice-final-other-stream", base: short, pt: shortPT, mod: func(b []byte) []byte {
			copy(b[chunkAt(3):], other[chunkAt(3):])
			return b
		}, want: ErrAuthentication, released: 3 * ChunkSize},
		{name: "header-from-other-stream", base: short, pt: shortPT, mod: func(b []byte) []byte {
			copy(b, other[:HeaderSize])
			return b
		}, want: ErrAuthentication},
		{name: "wrong-identity", base: short, pt: shortPT, id: []byte("bucket\x00object/key\x00upload\x00part-2\x00v1"), want: ErrKeyCommitment},
		{name: "empty-identity", base: short, pt: shortPT, id: []byte{}, want: ErrKeyCommitment},
		{name: "wrong-data-key", base: short, pt: shortPT, key: otherKey, want: ErrKeyCommitment},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct := slices.Clone(tt.base)
			if tt.mod != nil {
				ct = tt.mod(ct)
			}
			key, id := testKey, testIdentity
			if tt.key != nil {
				key = tt.key
			}
			if tt.id != nil {
				id = tt.id
			}

			// Sequential Reader via Read.
			var got []byte
			r, err := NewReader(bytes.NewReader(ct), key, id)
			if err == nil {
				got, err = io.ReadAll(r)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("Reader: error %v, want %v", err, tt.want)
			}
			if len(got) != tt.released || !bytes.Equal(got, tt.pt[:len(got)]) {
				t.Errorf("Reader released %d bytes (want %d authentic prefix bytes)", len(got), tt.released)
			}

			// Sequential Reader via WriteTo, from every kind of source.
			for _, k := range sourceKinds {
				var out bytes.Buffer
				r, err = NewReader(k.wrap(ct), key, id)
				if err == nil {
					_, err = r.WriteTo(&out)
				}
				if !errors.Is(err, tt.want) {
					t.Errorf("WriteTo from %s: error %v, want %v", k.name, err, tt.want)
				}
				if out.Len() != tt.released || !bytes.Equal(out.Bytes(), tt.pt[:out.Len()]) {
					t.Errorf("WriteTo from %s released %d bytes (want %d authentic prefix bytes)", k.name, out.Len(), tt.released)
				}
			}

			// Whole-object range read with the (wrong) size of the modified stream.
			wantRng := tt.wantRng
			if wantRng == nil {
				wantRng = tt.want
			}
			got = nil
			plain, err := DecryptedSize(int64(len(ct)))
			if err == nil {
				var rr io.Reader
				rr, err = NewRangeReader(bytes.NewReader(ct), int64(len(ct)), key, id, 0, plain)
				if err == nil {
					got, err = io.ReadAll(rr)
				}
			}
			if !errors.Is(err, wantRng) {
				t.Errorf("range reader: error %v, want %v", err, wantRng)
			}
			if len(got) > len(tt.pt) || !bytes.Equal(got, tt.pt[:len(got)]) {
				t.Errorf("range reader released %d bytes of wrong plaintext", len(got))
			}
		})
	}
}

// TestTamperEveryByte flips each byte of a small multi-chunk stream's
// header and chunk boundaries and checks that decryption never succeeds.
func TestTamperEveryHeaderByte(t *testing.T) {
	pt := plaintext(ChunkSize+10, 24)
	ct := seal(t, pt, testKey, testIdentity)
	for i := range HeaderSize {
		for _, bit := range []byte{0x01, 0x80} {
			bad := slices.Clone(ct)
			bad[i] ^= bit
			got, err := openAll(bad, testKey, testIdentity)
			if err == nil || len(got) != 0 {
				t.Fatalf("header byte %d bit %#x: %d bytes, err %v", i, bit, len(got), err)
			}
		}
	}
}
