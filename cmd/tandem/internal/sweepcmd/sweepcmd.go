// Package sweepcmd is `tandem sweep`: running a parameter sweep, whole or one
// shard of it, and merging shards.
package sweepcmd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/sweep"
)

// NewCmd builds `tandem sweep` and `tandem sweep merge`.
func NewCmd() *cobra.Command {
	var out, shardFlag string
	cmd := &cobra.Command{
		Use:   "sweep SWEEP.yaml --out DIR",
		Short: "Simulate every combination of a scenario's varied keys",
		Long: `Run a parameter sweep: a sweep file names a scenario and the keys to vary,

  name: fleet-size
  scenario: builtin:default        # or a path, relative to the sweep file
  requests: 20000                  # optional: replaces the scenario's
  seeds: [1, 2, 3]                 # optional: every point once per seed
  vary:                            # every combination is a point
    edge.count: [10, 20, 50, 100]
    cloud.servers: [1, 2]

and every point is simulated (the keys are a scenario's, set as in a file, and
checked as one). Writes DIR/results.jsonl (one point a line, with its summary)
and DIR/results.csv (a column per key and per figure), then DIR/shard.json
(the sweep file's SHA-256, the shard, its number of points, each file's
SHA-256 and the tandem build); 'tandem report DIR' turns them into a report.
A rerun into a folder whose shard.json matches does nothing; one that did not
finish, or holds another sweep, shard or build, is run again.

--shard I/N runs only the points whose index is I modulo N, so that N machines
(a Kubernetes Indexed Job, a Slurm array) share a sweep; 'tandem sweep merge'
joins their folders into exactly what one run writes, and refuses a shard
missing, given twice, unfinished, or of another sweep file, shard count or
tandem build.`,
		Example: `  tandem sweep fleet.yaml --out out/fleet
  tandem sweep fleet.yaml --shard $JOB_COMPLETION_INDEX/8 --out out/shard-$JOB_COMPLETION_INDEX
  tandem sweep merge out/shard-* --out out/fleet`,
		Args: cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return cli.BadInputf("sweep: --out is required (see 'tandem sweep --help')")
			}
			shard, err := sweep.ParseShard(shardFlag)
			if err != nil {
				return cli.BadInput(err)
			}
			raw, err := os.ReadFile(args[0])
			if err != nil {
				return cli.BadInput(err)
			}
			spec, err := sweep.Decode(args[0], raw)
			if err != nil {
				return cli.BadInput(err)
			}
			return runShard(cmd.OutOrStdout(), cmd.ErrOrStderr(), spec, shard, out)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write results.jsonl and results.csv into `DIR`")
	cmd.Flags().StringVar(&shardFlag, "shard", "0/1", "run shard `I/N` only")
	cmd.AddCommand(newMerge())
	return cmd
}

func newMerge() *cobra.Command {
	var out string
	return func() *cobra.Command {
		cmd := &cobra.Command{
			Use:     "merge DIR... --out DIR",
			Short:   "Join the folders of a sweep's shards into the sweep's results",
			Example: "  tandem sweep merge out/shard-0 out/shard-1 out/shard-2 --out out/fleet",
			Args:    cli.RangeArgs(1, 1<<20),
			RunE: func(cmd *cobra.Command, args []string) error {
				if out == "" {
					return cli.BadInputf("sweep merge: --out is required")
				}
				var parts []*sweep.Part
				for _, dir := range args {
					p, err := sweep.LoadPart(dir)
					if err != nil {
						return cli.BadInputf("sweep merge: %v", err)
					}
					parts = append(parts, p)
				}
				results, m, err := sweep.MergeParts(parts)
				if err != nil {
					return cli.BadInput(err)
				}
				return write(cmd.OutOrStdout(), out, results, m)
			},
		}
		cmd.Flags().StringVar(&out, "out", "", "write the merged results.jsonl and results.csv into `DIR`")
		return cmd
	}()
}

// runShard runs one shard of spec into dir, unless dir already holds it.
func runShard(stdout, stderr io.Writer, spec *sweep.Spec, shard sweep.Shard, dir string) error {
	want := sweep.NewManifest(spec, shard, spec.ShardLen(shard), sweep.BuildVersion())
	switch why := finished(dir, want); why {
	case "":
		fmt.Fprintf(stdout, "sweep: %s: shard %v of %s is complete (%d points, %s matches): nothing to do\n", dir, shard, spec.File, want.Points, sweep.ManifestFile)
		return nil
	case "empty":
	default:
		fmt.Fprintf(stderr, "sweep: %s: running shard %v again: %s\n", dir, shard, why)
	}
	results, err := sweep.Run(spec, shard, func(done, total int) {
		if done == total || done%max(total/20, 1) == 0 {
			fmt.Fprintf(stderr, "sweep: %d of %d points\n", done, total)
		}
	})
	if err != nil {
		return cli.BadInput(err)
	}
	return write(stdout, dir, results, want)
}

// finished says why dir does not hold the finished run that want describes:
// "" when it does, "empty" when it holds no run at all.
func finished(dir string, want sweep.Manifest) string {
	p, err := sweep.LoadPart(dir)
	switch {
	case errors.Is(err, sweep.ErrNoManifest):
		for _, name := range []string{sweep.ResultsJSONL, sweep.ResultsCSV} {
			if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
				return fmt.Sprintf("%s but no %s: a run that did not finish", name, sweep.ManifestFile)
			}
		}
		return "empty"
	case err != nil:
		return err.Error()
	}
	if d := p.Manifest.Differs(want); d != "" {
		return "it holds " + d
	}
	return ""
}

// write puts results.jsonl and results.csv into dir, together or not at
// all, then the manifest describing them: a folder with a matching manifest
// is a finished run.
func write(stdout io.Writer, dir string, results []sweep.Result, m sweep.Manifest) error {
	var jsonl, csv bytes.Buffer
	if err := sweep.WriteJSONL(&jsonl, results); err != nil {
		return err
	}
	if err := sweep.WriteCSV(&csv, results); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(dir, sweep.ManifestFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	files := map[string][]byte{sweep.ResultsJSONL: jsonl.Bytes(), sweep.ResultsCSV: csv.Bytes()}
	if err := cli.WriteFiles(dir, files); err != nil {
		return err
	}
	m.SetFiles(files)
	if err := cli.WriteFiles(dir, map[string][]byte{sweep.ManifestFile: m.Encode()}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d points: wrote %s and %s, then %s\n", len(results), filepath.Join(dir, sweep.ResultsJSONL), filepath.Join(dir, sweep.ResultsCSV), sweep.ManifestFile)
	return nil
}
