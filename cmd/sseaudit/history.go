package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sseaudit/sseaudit/schedule"
)

func newHistoryCommand(e env) *cobra.Command {
	var db, job string
	cmd := &cobra.Command{
		Use:   "history",
		Short: "List the runs of sseaudit schedule, per job",
		Long: `List the runs recorded by sseaudit schedule (oldest first per job).
"history show RUN" prints one run's summary and its delta from the previous run.
While the daemon runs, its database is locked; the runs are then read from
the mirror it keeps beside the database (history.runs.db.d/), which is as
current as the daemon's last write.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, done, err := openRunsReadOnly(db)
			if err != nil {
				return err
			}
			defer done()
			rs, err := st.List(job)
			if err != nil {
				return err
			}
			printRuns(e.stdout, rs)
			return nil
		},
	}
	cmd.PersistentFlags().StringVar(&db, "db", defaultHistoryPath(), "history database of sseaudit schedule")
	cmd.Flags().StringVar(&job, "job", "", "only this job")
	show := &cobra.Command{
		Use:   "show RUN",
		Short: "Print a run's summary and delta",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, done, err := openRunsReadOnly(db)
			if err != nil {
				return err
			}
			defer done()
			r, err := st.Get(args[0])
			if err != nil {
				return err
			}
			printRun(e.stdout, r)
			return nil
		},
	}
	cmd.AddCommand(show)
	return cmd
}

// runsReader is the runs database, or its mirror while a daemon holds it.
type runsReader interface {
	List(job string) ([]*schedule.Run, error)
	Get(id string) (*schedule.Run, error)
}

func openRunsReadOnly(db string) (runsReader, func(), error) {
	if db == "" {
		return nil, nil, fmt.Errorf("--db: no database")
	}
	path := schedule.RunsPath(db)
	if _, err := os.Stat(path); err != nil {
		return nil, nil, fmt.Errorf("--db %s: no runs database at %s (has sseaudit schedule run with this --db?)", db, path)
	}
	st, err := schedule.OpenStore(path, 500*time.Millisecond)
	if err == nil {
		return st, func() { st.Close() }, nil
	}
	if !errors.Is(err, schedule.ErrLocked) {
		return nil, nil, err
	}
	m, merr := schedule.OpenMirror(path)
	if merr != nil {
		return nil, nil, fmt.Errorf("%w; and %v", err, merr)
	}
	return m, func() {}, nil
}

func printRuns(w io.Writer, rs []*schedule.Run) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tJOB\tSCHEDULED\tOUTCOME\tDURATION\tFINDINGS\tNEW\tRESOLVED\tDRIFTS\tNOTIFY\tERROR")
	for _, r := range rs {
		var dur string
		if !r.Started.IsZero() && !r.Finished.IsZero() {
			dur = r.Finished.Sub(r.Started).Round(time.Millisecond).String()
		}
		n, res, drift := "-", "-", "-"
		if d := r.Delta; d != nil {
			n, res, drift = fmt.Sprint(len(d.New)), fmt.Sprint(len(d.Resolved)), fmt.Sprint(d.ConformanceFailures)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Job, r.Scheduled.UTC().Format(time.RFC3339), r.Outcome,
			dur, len(r.Findings), n, res, drift, r.Notify, oneLine(r.Error))
	}
	tw.Flush()
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

func printRun(w io.Writer, r *schedule.Run) {
	fmt.Fprintf(w, "run:       %s\njob:       %s\noutcome:   %s\n", r.ID, r.Job, r.Outcome)
	fmt.Fprintf(w, "scheduled: %s\nstarted:   %s\nfinished:  %s\n", r.Scheduled.UTC().Format(time.RFC3339), fmtTime(r.Started), fmtTime(r.Finished))
	if r.Error != "" {
		fmt.Fprintf(w, "error:     %s\n", r.Error)
	}
	if r.ScanID != "" {
		fmt.Fprintf(w, "scan:      %s\nreport:    %s\nobjects:   %d\n", r.ScanID, r.ReportDir, r.Objects)
	}
	fmt.Fprintf(w, "findings:  %d open", len(r.Findings))
	for _, s := range []string{"critical", "high", "medium", "low", "info"} {
		if n := r.BySeverity[s]; n > 0 {
			fmt.Fprintf(w, ", %s %d", s, n)
		}
	}
	fmt.Fprintln(w)
	if r.Notify != "" {
		fmt.Fprintf(w, "notify:    %s (%d attempts) %s\n", r.Notify, r.NotifyAttempts, r.NotifyError)
	}
	d := r.Delta
	if d == nil {
		return
	}
	prev := d.PreviousRun
	if prev == "" {
		prev = "none (first run)"
	}
	fmt.Fprintf(w, "delta from: %s\n", prev)
	for _, x := range []struct {
		name string
		fs   []schedule.FindingRef
	}{{"new", d.New}, {"resolved", d.Resolved}, {"unchanged", d.Unchanged}, {"grown", d.Grown}} {
		fmt.Fprintf(w, "  %s findings: %d\n", x.name, len(x.fs))
		if x.name == "unchanged" {
			continue
		}
		for _, f := range x.fs {
			objects := ""
			if f.Objects > 0 {
				objects = fmt.Sprintf(" [%d objects]", f.Objects)
			}
			fmt.Fprintf(w, "    %-8s %s %s%s (first seen %s, last seen %s)\n", f.Severity, f.Rule, f.Resource, objects, fmtTime(f.FirstSeen), fmtTime(f.LastSeen))
		}
	}
	if len(d.DefaultsChanged) > 0 {
		fmt.Fprintf(w, "  bucket defaults changed: %s\n", strings.Join(d.DefaultsChanged, ", "))
	}
	fmt.Fprintf(w, "  objects whose encryption changed: %d (conformance failures: %d)\n", len(d.EncryptionChanged), d.ConformanceFailures)
	for _, c := range d.EncryptionChanged {
		tag := ""
		if c.Drift {
			tag = "  CONFORMANCE FAILURE: changed in place"
		}
		fmt.Fprintf(w, "    %s/%s: %s -> %s (default changed: %v)%s\n", c.Bucket, c.Key, c.Before, c.After, c.DefaultChanged, tag)
	}
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
