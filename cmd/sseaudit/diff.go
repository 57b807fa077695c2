package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/sseaudit/sseaudit/snapshot"
)

func newDiffCommand(e env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Show what changed between two snapshots",
		Long: `Compare two snapshots bucket by bucket: buckets added or removed, default
rules changed, objects added or removed, objects whose encryption changed
(saying whether their ETag and LastModified stayed the same, which means the
storage changed an existing object's encryption without a rewrite), and
objects whose content changed. Exit 0 whether or not anything changed.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			n := 0
			enc := json.NewEncoder(e.stdout)
			err := snapshot.Diff(cmd.Context(), args[0], args[1], func(c snapshot.Change) error {
				n++
				if asJSON {
					return enc.Encode(c)
				}
				return printChange(e.stdout, c)
			})
			if err != nil {
				return fmt.Errorf("diff: %w", err)
			}
			if !asJSON {
				fmt.Fprintf(e.stdout, "%d changes\n", n)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per change")
	return cmd
}

func ruleString(r *snapshot.Rule) string {
	if r == nil {
		return "none"
	}
	if r.KMSMasterKeyID != "" {
		return r.Method + " (" + r.Algorithm + ", " + r.KMSMasterKeyID + ")"
	}
	return r.Method + " (" + r.Algorithm + ")"
}

func objectSSE(o *snapshot.Object) string {
	if o == nil {
		return "-"
	}
	if o.KMSKeyID != "" {
		return o.Method + " (" + o.KMSKeyID + ")"
	}
	return o.Method
}

func printChange(w io.Writer, c snapshot.Change) error {
	where := c.Bucket
	if c.Key != "" {
		where += "/" + c.Key
	}
	var detail string
	switch c.Kind {
	case snapshot.RuleChanged:
		detail = ruleString(c.RuleBefore) + " -> " + ruleString(c.RuleAfter)
	case snapshot.ObjectEncryptionChanged:
		detail = objectSSE(c.Before) + " -> " + objectSSE(c.After)
		if c.SameETag && c.SameLastModified {
			detail += "  (same ETag and LastModified: changed without a rewrite)"
		}
	case snapshot.ObjectAdded:
		detail = objectSSE(c.After)
	case snapshot.ObjectRemoved:
		detail = objectSSE(c.Before)
	}
	if c.Note != "" {
		detail += "  " + c.Note
	}
	_, err := fmt.Fprintf(w, "%-26s %s  %s\n", c.Kind, where, detail)
	return err
}
