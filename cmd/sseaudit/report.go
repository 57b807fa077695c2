package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
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
first (see 'report verify'), signed by the key that re-signs it
(--signing-key), unless --allow-unverified.

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
		// Re-signing vouches for the content with the signing key: the
		// source must have been signed by that same key, or anyone could
		// have edited and re-signed it with their own (an unpinned check
		// proves integrity, not who signed).
		var opts attest.VerifyOptions
		if key, err := attest.LoadPrivateKey(f.signingKey); err == nil {
			opts.PublicKey = key.Public().(ed25519.PublicKey)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("--signing-key: %w", err)
		}
		rep, verr := attest.Verify(ctx, f.from, opts)
		switch {
		case verr != nil && !errors.Is(verr, attest.ErrTampered):
			// Verification could not run (interrupted, unreadable): not a
			// verdict on the directory.
			return fmt.Errorf("--from %s: %w", f.from, verr)
		case verr != nil && !f.allowUnverified:
			printProblems(e, rep)
			return &exitError{code: exitVerifyFailed, err: fmt.Errorf("--from %s does not verify; refusing to re-render and re-sign it (--allow-unverified to do it anyway)", f.from)}
		case opts.PublicKey == nil && !f.allowUnverified:
			return &exitError{code: exitVerifyFailed, err: fmt.Errorf("--from %s is signed by key %s, and the signing key %s does not exist yet: re-signing would vouch for a report no key of yours signed; --allow-unverified to do it anyway", f.from, rep.KeyID, f.signingKey)}
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
		// Streamed: the side file of a large estate's objects can be big.
		return copyRegular(p, filepath.Join(dir, rel))
	})
}

func copyRegular(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

type verifyFlags struct {
	key, keyID, previous, chain string
	allowUnpinned               bool
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

Who signed: pin the signer with --key (its public key file, e.g.
signing.key.pub) or --key-id. Without either, DIR must be signed by your own
key: the default signing key's public key (signing.key.pub in the user
config directory, as 'sseaudit audit' creates it) or, without that file, the
key of the chain log beside it; a directory signed by any other key is a
problem (untrusted-key, exit 1), since anyone can edit a report and sign it
again with a key of their own. --allow-unpinned accepts any signer: the
check then proves only that the files are unchanged since key X signed them,
not who X is, and says so (NOT PINNED). With no local key and no pin, the
check is unpinned too, and says so the same way.

The chain is checked against --previous (the report signed just before) and
the chain log (--chain; by default chain.json beside the default signing
key, when it belongs to the key that signed DIR).

Exit codes: 0 intact (signer pinned, or NOT PINNED as printed), 1 not intact
or signed by a key other than the pinned one or your own (every problem is
listed), 2 the check could not run (DIR or --previous missing, unreadable
key or chain log, interrupted).`,
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
	fl.BoolVar(&f.allowUnpinned, "allow-unpinned", false, "accept a signer other than your own key without pinning it (checks integrity only)")
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
	pinned := opts.PublicKey != nil || strings.TrimSpace(f.keyID) != ""
	if pinned && f.allowUnpinned {
		return verifyInputError(errors.New("report verify: --allow-unpinned with --key or --key-id: give one or the other"))
	}
	// Without a pin, the verifier's own key is the pin (see the help).
	var own ownKey
	if !pinned && !f.allowUnpinned {
		var err error
		if own, err = localKey(defaultSigningKeyPath()); err != nil {
			return verifyInputError(err)
		}
		opts.TrustedKeyID = own.id
	}
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
		if own.id != "" && rep.KeyID != "" && rep.KeyID != own.id {
			fmt.Fprintf(e.stdout, "%s is signed by key %s, not by your own key %s (%s), and no signer was pinned: if you trust key %s, pin it with --key-id %s (or --key its-public-key-file); --allow-unpinned checks integrity only\n",
				dir, rep.KeyID, own.id, own.source, rep.KeyID, rep.KeyID)
		}
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
	switch {
	case rep.Pinned && own.id != "":
		fmt.Fprintf(e.stdout, " (trusted: your own key, %s)", own.source)
	case rep.Pinned:
		fmt.Fprint(e.stdout, " (trusted)")
	default:
		fmt.Fprint(e.stdout, " (NOT PINNED)")
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
	if !rep.Pinned {
		why := "--allow-unpinned was given"
		if !f.allowUnpinned {
			why = "there is no signing key of yours to check it against (" + noKeyWhere() + ")"
		}
		fmt.Fprintf(e.stdout, "WARNING: NOT PINNED: the signer was not checked, because %s. This proves only that the files are unchanged since key %s signed them; anyone can edit a report and sign it again with a key of their own. Pin the signer with --key FILE or --key-id ID.\n", why, rep.KeyID)
	}
	return nil
}

// ownKey is the verifier's own signing key, the default pin of report
// verify: its id and the file it was read from.
type ownKey struct{ id, source string }

// localKey finds the key of the default signing key path keyPath: its
// public key file (keyPath.pub, which 'audit' writes beside the key), else
// the key id of the chain log beside it. No key there is no error (the
// zero ownKey); a file that exists but cannot be read is one.
func localKey(keyPath string) (ownKey, error) {
	if keyPath == "" {
		return ownKey{}, nil
	}
	pubPath := keyPath + ".pub"
	if _, err := os.Lstat(pubPath); err == nil {
		pub, err := attest.LoadPublicKey(pubPath)
		if err != nil {
			return ownKey{}, fmt.Errorf("report verify: your default public key cannot be read: %w; fix or move it, or pin the signer with --key or --key-id", err)
		}
		return ownKey{id: attest.KeyID(pub), source: pubPath}, nil
	}
	chainPath := attest.ChainPath(keyPath)
	if _, err := os.Lstat(chainPath); err == nil {
		c, err := attest.LoadChain(chainPath)
		if err != nil {
			return ownKey{}, fmt.Errorf("report verify: your default chain log cannot be read: %w; fix or move it, or pin the signer with --key or --key-id", err)
		}
		if c.KeyID != "" {
			return ownKey{id: c.KeyID, source: chainPath}, nil
		}
	}
	return ownKey{}, nil
}

// noKeyWhere says where report verify looked for the user's own key.
func noKeyWhere() string {
	p := defaultSigningKeyPath()
	if p == "" {
		return "no user config directory"
	}
	return "no " + p + ".pub or " + attest.ChainPath(p)
}

func printProblems(e env, rep attest.Report) {
	for _, p := range rep.Problems {
		fmt.Fprintf(e.stdout, "FAIL %s\n", p)
	}
}
