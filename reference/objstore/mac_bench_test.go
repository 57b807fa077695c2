package objstore

import "testing"

// BenchmarkRecordMAC is the record MAC's share of a HEAD: verifying and
// decoding one small object record.
func BenchmarkRecordMAC(b *testing.B) {
	m := testMAC(b)
	rec := &objectRecord{Size: 1, ETag: "0123456789abcdef0123456789abcdef", Algorithm: AlgorithmAES256,
		Record: make([]byte, 220), Files: []dataFile{{Name: "0123456789abcdef0123456789abcdef", Size: 1, Stored: 100, CRC32C: 1 << 32}}}
	v := m.seal("meta", tagObjects, []byte("obj-000001"), rec)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.open("meta", tagObjects, []byte("obj-000001"), v); err != nil {
			b.Fatal(err)
		}
	}
}
