package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/sseaudit/sseaudit/pipeline"
	"github.com/sseaudit/sseaudit/snapshot"
)

func newMergeCommand(e env) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "merge --out FILE SHARD...",
		Short: "Join the snapshots of a sharded scan (scan --shard i/n) into one snapshot",
		Long: `Join the snapshots of every shard of one sharded scan (files, or scan
directories holding snapshot.json) into one snapshot, as if one scan had
read every bucket. Evaluate it with 'sseaudit scan --from-snapshot FILE' or
'sseaudit audit --from-snapshot FILE'.

Refused (exit 2): a shard missing or given twice, shards of different
targets, policy bundles, bucket filters or sseaudit versions, and shards
that share a bucket: a merge never makes a silently smaller census.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return fmt.Errorf("--out: give the file to write the merged snapshot to")
			}
			var paths []string
			for _, a := range args {
				p, err := pipeline.SnapshotPath(a)
				if err != nil {
					return err
				}
				paths = append(paths, p)
			}
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*")
			if err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			defer os.Remove(tmp.Name())
			sum, err := snapshot.Merge(cmd.Context(), paths, tmp)
			if err == nil {
				err = tmp.Sync()
			}
			if cerr := tmp.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("merge: %w", err)
			}
			if err := os.Rename(tmp.Name(), out); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			c := sum.Coverage
			fmt.Fprintf(e.stdout, "merged %d shards: %d buckets, %d objects listed, %d inspected, %d keys; complete: %v\nsnapshot: %s\n",
				len(paths), c.Buckets, c.ObjectsListed, c.ObjectsInspected, c.KeysReferenced, sum.Complete, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write the merged snapshot to")
	return cmd
}
