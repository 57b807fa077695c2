package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/sseaudit/sseaudit/pipeline"
	"github.com/sseaudit/sseaudit/snapshot"
)

func newDiffCommand(e env) *cobra.Command {
	var (
		asJSON bool
		po     pipeline.PolicyOptions
	)
	cmd := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Show what changed between two snapshots: buckets, rules, versioning, objects, KMS keys and findings",
		Long: `Compare two snapshots (files, or scan or report directories holding
snapshot.json):
  - buckets added or removed, default rules and versioning changed;
  - objects added or removed, objects whose encryption changed (saying
    whether their ETag and LastModified stayed the same, which means the
    storage changed an existing object's encryption without a rewrite),
    objects whose content changed;
  - KMS keys whose state, rotation or deletion date changed;
  - findings new, resolved or changed, from evaluating the policies
    (--policy, --config, --profile, --waivers) over both snapshots, the new
    one compared with the old for drift as a scan would.
Where one side could not be read the change is reported as unknown, never
skipped. Exit 0 whether or not anything changed, 2 on bad input.` + envHelp,
		Args: cobra.ExactArgs(2),
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			return bindEnv(cmd, e, policyFlags...)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			oldPath, err := pipeline.SnapshotPath(args[0])
			if err != nil {
				return err
			}
			newPath, err := pipeline.SnapshotPath(args[1])
			if err != nil {
				return err
			}
			n := 0
			enc := json.NewEncoder(e.stdout)
			err = snapshot.Diff(cmd.Context(), oldPath, newPath, func(c snapshot.Change) error {
				n++
				if asJSON {
					return enc.Encode(c)
				}
				return printChange(e.stdout, c)
			})
			if err != nil {
				return fmt.Errorf("diff: %w", err)
			}
			fcs, err := pipeline.DiffFindings(cmd.Context(), oldPath, newPath, po)
			if err != nil {
				return fmt.Errorf("diff: %w", err)
			}
			for _, fc := range fcs {
				n++
				if asJSON {
					if err := enc.Encode(fc); err != nil {
						return err
					}
					continue
				}
				detail := fmt.Sprintf("%s %s %s", fc.Finding.Rule, fc.Finding.Severity, clip(fc.Finding.Message, 110))
				if fc.Note != "" {
					detail += "  (" + fc.Note + ")"
				}
				fmt.Fprintf(e.stdout, "%-26s %s  %s\n", fc.Kind, printable(fc.Finding.Resource.UID), detail)
			}
			if !asJSON {
				fmt.Fprintf(e.stdout, "%d changes\n", n)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&asJSON, "json", false, "one JSON object per change")
	fl.StringArrayVar(&po.Dirs, "policy", nil, "extra policy directory (repeatable)")
	fl.StringVar(&po.Config, "config", "", "policy config file")
	fl.StringVar(&po.Profile, "profile", "", "organisation profile")
	fl.StringVar(&po.Waivers, "waivers", "", "waivers file")
	fl.BoolVar(&po.AllowBroadWaivers, "allow-broad-waivers", false, "accept waivers that match every rule or name no particular resource")
	fl.BoolVar(&po.AllowPermanentWaivers, "allow-permanent-waivers", false, "accept waivers without an expiry")
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

func versioning(b *snapshot.Bucket) string {
	if b == nil || b.Versioning == "" {
		return "never enabled"
	}
	return b.Versioning
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
	case snapshot.VersioningChanged:
		detail = versioning(c.BucketBefore) + " -> " + versioning(c.BucketAfter)
	case snapshot.ObjectEncryptionChanged:
		detail = objectSSE(c.Before) + " -> " + objectSSE(c.After)
		if c.SameETag && c.SameLastModified {
			detail += "  (same ETag and LastModified: changed without a rewrite)"
		}
	case snapshot.ObjectAdded:
		detail = objectSSE(c.After)
	case snapshot.ObjectRemoved:
		detail = objectSSE(c.Before)
	case snapshot.KeyAdded, snapshot.KeyRemoved, snapshot.KeyChanged, snapshot.KeyUnknown:
		k := c.KeyAfter
		if k == nil {
			k = c.KeyBefore
		}
		where = "kms://" + k.Region + "/" + k.KeyID
		if c.Kind == snapshot.KeyAdded {
			detail = "state " + orDash(k.State)
		}
	}
	if c.Note != "" {
		detail += "  " + c.Note
	}
	_, err := fmt.Fprintf(w, "%-26s %s  %s\n", c.Kind, printable(where), printable(detail))
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
