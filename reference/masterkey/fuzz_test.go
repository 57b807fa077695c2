package masterkey

import (
	"bytes"
	"context"
	"github.com/sseaudit/sseaudit/reference/rootkey"
	"testing"
)

// FuzzUnseal feeds arbitrary sealed keys to Unseal: it must never panic and
// must return either an error or exactly the data key that was sealed.
func FuzzUnseal(f *testing.F) {
	ctx := context.Background()
	k, err := Open(ctx, Config{RootKey: testRootF(f), Rand: newDetRand(8)})
	if err != nil {
		f.Fatal(err)
	}
	dk := bytes.Repeat([]byte{0x42}, 32)
	_, sealed, err := k.Seal(ctx, dk, []byte("b/o"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed, []byte("b/o"))
	f.Add(sealed[:10], []byte("b/o"))
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, blob, binding []byte) {
		got, err := k.Unseal(ctx, blob, binding)
		if err == nil && !bytes.Equal(got, dk) {
			t.Fatalf("Unseal returned %x without error; only %x was ever sealed", got, dk)
		}
	})
}

func testRootF(f *testing.F) *rootkey.Key {
	k, err := rootkey.New(bytes.Repeat([]byte{1}, 32), nil)
	if err != nil {
		f.Fatal(err)
	}
	return k
}
