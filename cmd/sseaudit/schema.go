package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sseaudit/sseaudit/schemas"
)

// schemaNames maps the names the command takes to the formats.
var schemaNames = map[string]string{
	"report":   schemas.ReportFormat,
	"findings": schemas.FindingsFormat,
	"snapshot": schemas.SnapshotFormat,
}

func newSchemaCommand(e env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schema report|findings|snapshot [FILE]",
		Short: "Print the JSON Schema of report.json, findings.json or snapshot.json, or check a file against it",
		Long: `With one argument, print the JSON Schema (draft 2020-12) of that document
for other tools to validate with. With a FILE, check the file against it:
exit 0 if it conforms, 1 naming where it does not.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, ok := schemaNames[args[0]]
			if !ok {
				return fmt.Errorf("schema %q: use report, findings or snapshot", args[0])
			}
			if len(args) == 1 {
				b, err := schemas.Bytes(format)
				if err != nil {
					return err
				}
				_, err = e.stdout.Write(b)
				return err
			}
			fh, err := os.Open(args[1])
			if err != nil {
				return err
			}
			defer fh.Close()
			if err := schemas.Validate(format, fh); err != nil {
				return gateError(fmt.Errorf("%s does not follow %s: %s", args[1], format, strings.TrimSpace(err.Error())))
			}
			fmt.Fprintf(e.stdout, "%s follows %s\n", args[1], format)
			return nil
		},
	}
	return cmd
}

// gateError marks err as a gate failure (exit 1).
func gateError(err error) error { return &exitError{code: exitGate, err: err} }
