package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sseaudit/sseaudit/attest"
	"github.com/sseaudit/sseaudit/pipeline"
	"github.com/sseaudit/sseaudit/reports"
)

// Exit codes of sseaudit report verify.
const (
	exitVerifyFailed = 1 // the directory does not verify
	exitVerifyError  = 2 // verification could not run (bad key file, ...)
)

type reportFlags struct {
	from, out, signingKey string
	allowUnverified       bool
}

func newReportCommand(e env) *cobra.Command {
	var f reportFlags
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Re-render a report directory from its report.json, or verify one",
		Long: `With --from DIR, render every format again from DIR/report.json into --out
(default DIR itself), keep DIR's other files (snapshot.json, cucumber.json)
and sign the result, as a new run in the signing key's chain. DIR must verify
first (see 'report verify'), unless --allow-unverified.

'sseaudit report verify DIR' checks a signed report directory.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.from == "" {
				return errors.New("give --from DIR to re-render a report, or use 'sseaudit report verify DIR'")
			}
			return runReport(cmd.Context(), e, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.from, "from", "", "report directory holding report.json")
	fl.StringVar(&f.out, "out", "", "directory to write (default: --from, replaced in place)")
	fl.StringVar(&f.signingKey, "signing-key", defaultSigningKeyPath(), "Ed25519 signing key (created 0600 if missing)")
	fl.BoolVar(&f.allowUnverified, "allow-unverified", false, "re-render even when --from does not verify")
	cmd.AddCommand(newReportVerifyCommand(e))
	return cmd
}

func runReport(ctx context.Context, e env, f reportFlags) error {
	if f.out == "" {
		f.out = f.from
	}
	if _, err := os.Stat(filepath.Join(f.from, reports.ModelFile)); err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	if _, err := os.Stat(filepath.Join(f.from, attest.ManifestFile)); err == nil {
		rep, verr := attest.Verify(ctx, f.from, attest.VerifyOptions{})
		switch {
		case verr != nil && !errors.Is(verr, attest.ErrTampered):
			// Verification could not run (interrupted, unreadable): not a
			// verdict on the directory.
			return fmt.Errorf("--from %s: %w", f.from, verr)
		case verr != nil && !f.allowUnverified:
			printProblems(e, rep)
			return &exitError{code: exitVerifyFailed, err: fmt.Errorf("--from %s does not verify; refusing to re-render and re-sign it (--allow-unverified to do it anyway)", f.from)}
		}
	} else if !f.allowUnverified {
		return fmt.Errorf("--from %s is not signed (no %s); --allow-unverified to re-render it anyway", f.from, attest.ManifestFile)
	}
	if err := pipeline.CheckReplaceable(f.out); err != nil {
		return err
	}
	model, err := reports.ReadModel(filepath.Join(f.from, reports.ModelFile))
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	key, _, err := pipeline.SigningKey(f.signingKey, e.stderr)
	keyPath := f.signingKey
	if err != nil {
		return err
	}
	stage, err := pipeline.StageDir(f.out)
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	if err := copyReportInputs(f.from, stage); err != nil {
		return err
	}
	if _, err := reports.WriteAll(stage, model); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	link, err := pipeline.SignDir(stage, model, key, keyPath, toolVersion())
	if err != nil {
		return err
	}
	if err := pipeline.ReplaceDir(stage, f.out); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "re-rendered %s from %s\nsigned: run %d of the chain, key id %s\nreport: %s\n",
		f.out, filepath.Join(f.from, reports.ModelFile), link.Sequence, attest.KeyID(key.Public().(ed25519.PublicKey)), absPath(filepath.Join(f.out, reports.HTMLFile)))
	return nil
}

// copyReportInputs copies every file of from into dir except the manifest
// and signature (the rendered formats are overwritten afterwards).
func copyReportInputs(from, dir string) error {
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if rel == "." {
				return nil
			}
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		case rel == attest.ManifestFile || rel == attest.SignatureFile || !d.Type().IsRegular():
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
}

type verifyFlags struct {
	key, keyID, previous, chain string
}

func newReportVerifyCommand(e env) *cobra.Command {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   "verify DIR",
		Short: "Check that a signed report directory is intact",
		Long: `Check DIR's manifest.sig over manifest.json, every file listed in the
manifest (digest and size), that no file was added since signing, and the
chain link to the previous report.

Only regular files inside DIR are read: a symbolic link (also for
manifest.json and manifest.sig), FIFO, device or directory where a file is
listed is a problem and is never followed or opened, and no file is read
past the size the manifest lists. Interrupting (SIGINT, SIGTERM) stops the
check at once.

Pin the signer with --key (its public key file, e.g. signing.key.pub) or
--key-id; without either, the signature is checked against the key the
manifest names, which proves the files are unchanged since signing but not
who signed. The chain is checked against --previous (the report signed just
before) and the chain log (--chain; by default chain.json beside the default
signing key, when it belongs to the key that signed DIR).

Exit codes: 0 intact, 1 not intact (every problem is listed), 2 the check
could not run (DIR or --previous missing, unreadable key or chain log,
interrupted).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReportVerify(cmd.Context(), e, f, args[0])
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.key, "key", "", "trusted public key file (PEM PUBLIC KEY or base64)")
	fl.StringVar(&f.keyID, "key-id", "", "trusted key id (32 hex digits, as the audit prints)")
	fl.StringVar(&f.previous, "previous", "", "the report directory signed just before DIR")
	fl.StringVar(&f.chain, "chain", "", "chain log (default: chain.json beside the default signing key)")
	return cmd
}

// verifyInputError is a report verify error that is not a finding about
// the directory: the check could not run (exit 2).
func verifyInputError(err error) error { return &exitError{code: exitVerifyError, err: err} }

func isDir(p string) error {
	st, err := os.Stat(p)
	if err == nil && !st.IsDir() {
		err = errors.New("not a directory")
	}
	return err
}

func runReportVerify(ctx context.Context, e env, f verifyFlags, dir string) error {
	if err := isDir(dir); err != nil {
		return verifyInputError(fmt.Errorf("report verify: %s: %w", dir, err))
	}
	if f.previous != "" {
		if err := isDir(f.previous); err != nil {
			return verifyInputError(fmt.Errorf("report verify: --previous %s: %w", f.previous, err))
		}
	}
	var opts attest.VerifyOptions
	if f.key != "" && f.keyID != "" {
		return verifyInputError(errors.New("report verify: give --key or --key-id, not both"))
	}
	if f.key != "" {
		pub, err := attest.LoadPublicKey(f.key)
		if err != nil {
			return verifyInputError(fmt.Errorf("--key: %w", err))
		}
		opts.PublicKey = pub
	}
	if id := strings.TrimSpace(f.keyID); id != "" {
		if b, err := hex.DecodeString(id); err != nil || len(b) != 16 {
			return verifyInputError(fmt.Errorf("--key-id %q: want the 32 hex digits the audit prints", f.keyID))
		}
	}
	opts.TrustedKeyID = f.keyID
	opts.PreviousDir = f.previous
	chainPath := f.chain
	if chainPath != "" {
		if _, err := os.Stat(chainPath); err != nil {
			return verifyInputError(fmt.Errorf("--chain: %w", err))
		}
		c, err := attest.LoadChain(chainPath)
		if err != nil {
			return verifyInputError(fmt.Errorf("--chain: %w", err))
		}
		opts.Chain = c
	}
	rep, err := attest.Verify(ctx, dir, opts)
	if f.chain == "" && rep.Manifest != nil && (err == nil || errors.Is(err, attest.ErrTampered)) {
		// The local chain log, when it belongs to the key that signed dir.
		if p := defaultSigningKeyPath(); p != "" {
			chainPath = attest.ChainPath(p)
			if c, cerr := attest.LoadChain(chainPath); cerr == nil && c.KeyID == rep.KeyID && len(c.Links) > 0 {
				opts.Chain = c
				rep, err = attest.Verify(ctx, dir, opts)
			} else {
				chainPath = ""
			}
		}
	}
	switch {
	case err == nil:
	case errors.Is(err, attest.ErrTampered):
		printProblems(e, rep)
		names := make([]string, len(rep.Problems))
		for i, p := range rep.Problems {
			names[i] = string(p.Kind)
			if p.Path != "" {
				names[i] += " " + p.Path
			}
		}
		return &exitError{code: exitVerifyFailed, err: fmt.Errorf("report verify: %s is NOT intact: %d problem(s): %s", dir, len(rep.Problems), strings.Join(names, ", "))}
	case ctx.Err() != nil:
		return verifyInputError(fmt.Errorf("report verify: %w (no verdict: run it again to check %s fully)", err, dir))
	default:
		return verifyInputError(fmt.Errorf("report verify: %w", err))
	}
	m := rep.Manifest
	fmt.Fprintf(e.stdout, "%s: intact: %d files match the manifest, none added; signature valid, key id %s", dir, rep.FilesChecked, rep.KeyID)
	if rep.Pinned {
		fmt.Fprint(e.stdout, " (trusted)")
	} else {
		fmt.Fprint(e.stdout, " (not pinned: pass --key or --key-id to check who signed)")
	}
	fmt.Fprintf(e.stdout, "\nchain: run %d", m.Sequence)
	var checked []string
	if f.previous != "" {
		checked = append(checked, "previous report "+f.previous)
	}
	if opts.Chain != nil {
		checked = append(checked, "chain log "+chainPath)
	}
	if len(checked) > 0 {
		fmt.Fprintf(e.stdout, ", linked correctly (checked against %s)", strings.Join(checked, " and "))
	} else {
		fmt.Fprint(e.stdout, " (link not checked: pass --previous or --chain)")
	}
	fmt.Fprintln(e.stdout)
	return nil
}

func printProblems(e env, rep attest.Report) {
	for _, p := range rep.Problems {
		fmt.Fprintf(e.stdout, "FAIL %s\n", p)
	}
}
