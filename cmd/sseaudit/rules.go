package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/pipeline"
)

func newRulesCommand(e env) *cobra.Command {
	var (
		po     pipeline.PolicyOptions
		format string
	)
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List the rules a scan evaluates, with their severity, category and control mappings",
		Long: `List every rule the policies define (the built-in ones plus --policy
directories), as the scan would evaluate them: severities include the
--profile's overrides. The rules' METADATA blocks are the one registry of
rules; this prints it.` + envHelp,
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			return bindEnv(cmd, e, policyFlags...)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			engine, err := pipeline.LoadEngine(cmd.Context(), po)
			if err != nil {
				return err
			}
			rules := engine.Rules()
			rules = append(rules, findings.ExpiredWaiverMeta)
			switch format {
			case "json":
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rules)
			case "table":
				tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "RULE\tSEVERITY\tCATEGORY\tRESOURCE\tTITLE\tCONTROLS")
				for _, r := range rules {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Severity, r.Category, r.ResourceType, r.Title, controlList(r.Controls))
				}
				return tw.Flush()
			}
			return fmt.Errorf("--format %q: use table or json", format)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&po.Dirs, "policy", nil, "extra policy directory (repeatable)")
	fl.StringVar(&po.Config, "config", "", "policy config file")
	fl.StringVar(&po.Profile, "profile", "", "organisation profile")
	fl.StringVar(&format, "format", "table", "table or json")
	return cmd
}

// controlList names a rule's controls compactly: "CIS Alibaba v2.0.0 5.9".
func controlList(cs []findings.Control) string {
	if len(cs) == 0 {
		return "-"
	}
	var out []string
	for _, c := range cs {
		s := c.Framework
		if c.Version != "" {
			s += " " + c.Version
		}
		out = append(out, s+" "+c.ID)
	}
	return strings.Join(out, "; ")
}
