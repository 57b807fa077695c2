package kms

import (
	"context"
	"testing"
)

func benchEnv(b *testing.B) (API, string) {
	e, err := New(Config{}) // system clock, crypto/rand
	if err != nil {
		b.Fatal(err)
	}
	api := e.Region(testRegion)
	md, err := api.CreateKey(context.Background(), CreateKeyInput{})
	if err != nil {
		b.Fatal(err)
	}
	return api, md.KeyId
}

// BenchmarkGenerateDataKeyDecrypt measures one envelope round trip: a
// GenerateDataKey (as on an object PUT) and a Decrypt (as on a GET).
func BenchmarkGenerateDataKeyDecrypt(b *testing.B) {
	api, key := benchEnv(b)
	ctx := context.Background()
	ectx := map[string]string{"bucket": "b", "object": "some/object/key"}
	b.ReportAllocs()
	for b.Loop() {
		g, err := api.GenerateDataKey(ctx, GenerateDataKeyInput{KeyId: key, EncryptionContext: ectx})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := api.Decrypt(ctx, DecryptInput{CiphertextBlob: g.CiphertextBlob, EncryptionContext: ectx}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
}

// BenchmarkGenerateDataKeyDecryptParallel shows the data plane does not
// serialise on a write lock.
func BenchmarkGenerateDataKeyDecryptParallel(b *testing.B) {
	api, key := benchEnv(b)
	ectx := map[string]string{"bucket": "b", "object": "some/object/key"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			g, err := api.GenerateDataKey(ctx, GenerateDataKeyInput{KeyId: key, EncryptionContext: ectx})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := api.Decrypt(ctx, DecryptInput{CiphertextBlob: g.CiphertextBlob, EncryptionContext: ectx}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
}
