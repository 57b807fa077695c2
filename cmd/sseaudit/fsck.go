package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sseaudit/sseaudit/embedded"
)

func newFsckCommand(e env) *cobra.Command {
	var dataDir, rootKeyFile string
	var asJSON, plainData bool
	cmd := &cobra.Command{
		Use:   "fsck",
		Short: "Check a stopped reference server's data directory: every record and key store authentic, every data file present",
		Long: `Check a stopped reference server's data directory without serving or
changing it: the state manifest and what it guards (the KMS keystore with
every sealed key version, the OSS-managed master keyring, the saved users),
every object and version record's authentication, and every data file's
presence and size (with --plain-data, the checksum of every unencrypted
object's bytes too). Object data is never decrypted.

The root key comes from SSEAUDIT_ROOT_KEY or --root-key-file, as for serve.
Exit 0: no problem. Exit 1: problems, one per line (or a JSON list with
--json). Exit 2: the directory could not be checked (missing, in use by a
running server, no root key).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			probs, err := embedded.Check(cmd.Context(), embedded.Config{DataDir: dataDir, RootKeyFile: rootKeyFile, Getenv: e.getenv}, plainData)
			if err != nil {
				return fmt.Errorf("fsck: %w", err)
			}
			if asJSON {
				if probs == nil {
					probs = []embedded.Problem{}
				}
				b, _ := json.MarshalIndent(probs, "", "  ")
				fmt.Fprintln(e.stdout, string(b))
			} else {
				for _, p := range probs {
					fmt.Fprintln(e.stdout, p.String())
				}
			}
			if len(probs) > 0 {
				return &exitError{code: exitGate, err: fmt.Errorf("fsck: %d problem(s) in %s", len(probs), dataDir)}
			}
			if !asJSON {
				fmt.Fprintf(e.stdout, "fsck: %s: no problems\n", dataDir)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data", "sseaudit-data", "data directory of a stopped sseaudit serve")
	f.StringVar(&rootKeyFile, "root-key-file", "", "root key file when SSEAUDIT_ROOT_KEY is unset (default DATA/root.key)")
	f.BoolVar(&asJSON, "json", false, "print the problems as a JSON list")
	f.BoolVar(&plainData, "plain-data", false, "also read every unencrypted object's bytes and verify their checksum (encrypted data is authenticated when read, never decrypted here)")
	return cmd
}
