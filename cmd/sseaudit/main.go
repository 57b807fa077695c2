// Command sseaudit proves that object-storage server-side encryption is set
// up and behaves as it should: it serves a reference OSS/S3 + KMS
// implementation, runs conformance suites, scans estates and writes reports.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// exitError carries a process exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// env lets commands read the environment through one seam that tests replace.
type env struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
}

func newRootCommand(e env) *cobra.Command {
	root := &cobra.Command{
		Use:           "sseaudit",
		Short:         "Prove object-storage server-side encryption is configured and behaves correctly",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.AddCommand(newVersionCommand(e), newServeCommand(e), newKMSCommand(), newConformanceCommand(e), newScanCommand(e), newDiffCommand(e), newAuditCommand(e), newReportCommand(e), newScheduleCommand(e), newHistoryCommand(e))
	return root
}

func newVersionCommand(e env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the sseaudit version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(e.stdout, "sseaudit %s\n", version)
			return err
		},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := env{getenv: os.Getenv, stdout: os.Stdout, stderr: os.Stderr}
	if err := newRootCommand(e).ExecuteContext(ctx); err != nil {
		msg := err.Error()
		if !strings.HasPrefix(msg, "sseaudit") {
			msg = "sseaudit: " + msg
		}
		fmt.Fprintln(os.Stderr, msg)
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(1)
	}
}
