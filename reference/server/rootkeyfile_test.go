package server

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRootKeyFileAndDataDirMode: an existing data directory of mode 0755
// is made 0700 with a warning; the root key lives where --root-key-file
// says, and a key file inside the data directory draws a warning that
// one outside does not.
func TestRootKeyFileAndDataDirMode(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	cases := []struct {
		name     string
		keyFile  string // relative to base; "" = the default inside data
		wantWarn bool
	}{
		{"default inside the data dir", "", true},
		{"explicit path inside the data dir", "data/keys/root.key", true},
		{"outside the data dir", "secrets/root.key", false},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := filepath.Join(base, c.name, "data")
			if err := os.MkdirAll(data, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(data, 0o755); err != nil {
				t.Fatal(err)
			}
			keyFile := ""
			if c.keyFile != "" {
				keyFile = filepath.Join(base, c.name, c.keyFile)
				if err := os.MkdirAll(filepath.Dir(keyFile), 0o700); err != nil {
					t.Fatal(err)
				}
			}
			var log bytes.Buffer
			s, err := Start(ctx, Config{DataDir: data, RootKeyFile: keyFile, KMSAddr: "127.0.0.1:0", Getenv: noEnv,
				Logger: slog.New(slog.NewTextHandler(&log, nil))})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close(ctx)
			st, err := os.Stat(data)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o700 {
				t.Errorf("data dir mode %v after start, want 0700", st.Mode().Perm())
			}
			if !strings.Contains(log.String(), "data directory mode was too open") {
				t.Errorf("no warning about the data dir's mode 0755:\n%s", log.String())
			}
			want := keyFile
			if want == "" {
				want = filepath.Join(data, RootKeyFile)
			}
			if st, err := os.Stat(want); err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("root key file %s: %v, %v; want it created 0600", want, err, st)
			}
			if keyFile != "" {
				if _, err := os.Stat(filepath.Join(data, RootKeyFile)); err == nil {
					t.Errorf("case %d: a root key was also written into the data dir", i)
				}
			}
			if got := strings.Contains(log.String(), "root key file is inside the data directory"); got != c.wantWarn {
				t.Errorf("inside warning %v, want %v:\n%s", got, c.wantWarn, log.String())
			}
		})
	}
}
