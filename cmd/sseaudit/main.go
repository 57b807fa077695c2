// Command sseaudit proves that object-storage server-side encryption is set
// up and behaves as it should: it serves a reference OSS/S3 + KMS
// implementation, runs conformance suites, scans estates and writes reports.
//
// Exit codes, for every command: 0 clean; 1 a gate failed (findings at or
// above --fail-on, unaccepted coverage gaps, a failed conformance scenario,
// a report that does not verify); 2 the run itself failed or its input was
// bad (unreachable target, refused credentials, malformed file, unknown
// flag or command).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sseaudit/sseaudit/embedded"
	"github.com/sseaudit/sseaudit/pipeline"
)

// version is set at build time with -ldflags "-X main.version=..."; when it
// is not, toolVersion reads the module version and VCS revision the Go
// toolchain embedded in the binary.
var version = ""

// Exit codes.
const (
	exitGate   = 1 // a gate failed: findings, gaps, scenarios, verification
	exitFailed = 2 // the run failed or the input was bad
)

// exitError carries a process exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// exitCode maps an error from a command to the process exit code: only a
// gate failure is 1; every other error (bad input, a failed run, cobra's
// own usage errors) is 2.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if pipeline.IsGate(err) {
		return exitGate
	}
	return exitFailed
}

// env lets commands read the environment through one seam that tests
// replace.
type env struct {
	getenv func(string) string
	// lookupEnv tells a variable set empty from an unset one (os.LookupEnv);
	// nil falls back to getenv, where empty counts as unset.
	lookupEnv func(string) (string, bool)
	stdout    io.Writer
	stderr    io.Writer
	// jsonErrors is set by a command asked for JSON logs: its final error
	// is then printed as a JSON log record, so stderr stays all JSON.
	jsonErrors *bool
}

func newRootCommand(e env) *cobra.Command {
	if e.jsonErrors == nil {
		e.jsonErrors = new(bool)
	}
	root := &cobra.Command{
		Use:           "sseaudit",
		Short:         "Prove object-storage server-side encryption is configured and behaves correctly",
		Version:       toolVersion(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.AddCommand(newVersionCommand(e), newServeCommand(e), newKMSCommand(), newConformanceCommand(e), newScanCommand(e),
		newDiffCommand(e), newAuditCommand(e), newReportCommand(e), newScheduleCommand(e), newHistoryCommand(e), newRulesCommand(e), newSchemaCommand(e), newMergeCommand(e), newFsckCommand(e), newRemediateCommand(e))
	// Cobra's own errors (unknown flag, bad flag value, missing argument)
	// are bad input: say how to get help.
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%s: %w (see '%s --help')", c.CommandPath(), err, c.CommandPath())
	})
	return root
}

func newVersionCommand(e env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the sseaudit version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(e.stdout, "sseaudit %s\n", toolVersion())
			return err
		},
	}
}

// toolVersion is the version recorded in snapshots and reports: the -X
// linker value, else the module version, else the VCS revision the build
// embedded (with "+dirty" for a modified tree), else "devel".
func toolVersion() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, at string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	v := "devel-" + rev
	if t, err := time.Parse(time.RFC3339, at); err == nil {
		v += "-" + t.UTC().Format("20060102")
	}
	if dirty {
		v += "+dirty"
	}
	return v
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := processEnv()
	stopProfile := startCPUProfile(os.Getenv("SSEAUDIT_CPUPROFILE"))
	stopHeap := startPeakHeapProfile(os.Getenv("SSEAUDIT_MEMPROFILE"))
	err := newRootCommand(e).ExecuteContext(ctx)
	stopHeap()
	stopProfile()
	if err != nil {
		printError(e, err)
	}
	os.Exit(exitCode(err))
}

// processEnv is the process's environment as commands read it. The root
// key variable is taken out of the process environment first, so that no
// child process (a browser, an editor, a shell a test starts) inherits the
// key that opens the reference's data directory; only the reference,
// through getenv, still reads it.
func processEnv() env {
	rootKey, hasRootKey := os.LookupEnv(embedded.EnvRootKey)
	if hasRootKey {
		_ = os.Unsetenv(embedded.EnvRootKey)
	}
	lookup := func(k string) (string, bool) {
		if k == embedded.EnvRootKey {
			return rootKey, hasRootKey
		}
		return os.LookupEnv(k)
	}
	return env{
		getenv:    func(k string) string { v, _ := lookup(k); return v },
		lookupEnv: lookup,
		stdout:    os.Stdout, stderr: os.Stderr, jsonErrors: new(bool),
	}
}

// lookup reads an environment variable, telling set-but-empty from unset
// where the environment can.
func (e env) lookup(k string) (string, bool) {
	if e.lookupEnv != nil {
		return e.lookupEnv(k)
	}
	v := e.getenv(k)
	return v, v != ""
}

// printError prints a command's final error as one line on stderr (a JSON
// log record when the command logs JSON).
func printError(e env, err error) {
	msg := err.Error()
	if *e.jsonErrors {
		rec := map[string]any{"time": time.Now().UTC().Format(time.RFC3339Nano), "level": "ERROR", "msg": msg, "exit_code": exitCode(err)}
		b, _ := json.Marshal(rec)
		fmt.Fprintln(e.stderr, string(b))
		return
	}
	if !strings.HasPrefix(msg, "sseaudit") {
		msg = "sseaudit: " + msg
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(msg), "\n") {
		if l = strings.TrimRight(l, " \t"); l != "" {
			lines = append(lines, l)
		}
	}
	fmt.Fprintln(e.stderr, strings.Join(lines, "\n  "))
}

// startPeakHeapProfile writes a heap profile taken at the command's peak
// of live heap (the variable SSEAUDIT_MEMPROFILE; unset: none): a profile
// at exit shows nothing live, and the peak is what a memory bound is about.
// The live heap is sampled every 100 ms after a GC's mark, so the peak it
// finds is the largest seen at a sample, close to but not exactly the
// true one. It returns the function that writes the profile.
func startPeakHeapProfile(path string) func() {
	if path == "" {
		return func() {}
	}
	var (
		mu   sync.Mutex
		peak uint64
		prof bytes.Buffer
	)
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			metrics.Read(sample)
			if live := sample[0].Value.Uint64(); live > peak {
				mu.Lock()
				peak = live
				prof.Reset()
				_ = pprof.Lookup("heap").WriteTo(&prof, 0)
				mu.Unlock()
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
		mu.Lock()
		defer mu.Unlock()
		if err := os.WriteFile(path, prof.Bytes(), 0o600); err != nil {
			fmt.Fprintf(os.Stderr, "sseaudit: SSEAUDIT_MEMPROFILE: %v\n", err)
			return
		}
		fmt.Fprintf(os.Stderr, "sseaudit: SSEAUDIT_MEMPROFILE: peak live heap %d MiB\n", peak>>20)
	}
}

// startCPUProfile writes a CPU profile of the whole command to path (the
// variable SSEAUDIT_CPUPROFILE; unset: none), so that the command users
// run is the one profiled (scripts/census-bench.sh uses it). It returns
// the function that ends the profile.
func startCPUProfile(path string) func() {
	if path == "" {
		return func() {}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sseaudit: SSEAUDIT_CPUPROFILE: %v\n", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "sseaudit: SSEAUDIT_CPUPROFILE: %v\n", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
