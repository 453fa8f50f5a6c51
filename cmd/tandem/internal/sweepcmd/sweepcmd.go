// Package sweepcmd is `tandem sweep`: running a parameter sweep, whole or one
// shard of it, and merging shards.
package sweepcmd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/sweep"
)

// options are tandem sweep's flags.
type options struct {
	out, shard string

	emit   string // "", slurm or k8s
	shards int
	tandem string // the binary the jobs run; "": this one

	jobName, time, partition, mem string
	cpus                          int
	sbatch                        []string

	image, claim, namespace string
}

// NewCmd builds `tandem sweep` and `tandem sweep merge`.
func NewCmd() *cobra.Command {
	var opts options
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
Progress (points done of the total, points/s, ETA) goes to stderr: one line
redrawn on a terminal, a line every 5% of the points in a log.

--shard I/N runs only the points whose index is I modulo N, so that N machines
(a Kubernetes Indexed Job, a Slurm array) share a sweep; 'tandem sweep merge'
joins their folders into exactly what one run writes, and refuses a shard
missing, given twice, unfinished, or of another sweep file, shard count or
tandem build.

--emit slurm --shards N writes, into DIR, what runs the sweep as a Slurm job
array, without submitting anything: sweep.sbatch (--array=0-N-1; task K runs
'tandem sweep SWEEP --shard K/N --out DIR/shard-K'), merge.sbatch ('tandem
sweep merge DIR/shard-0 ... --out DIR') and submit.sh, which submits the array
with 'sbatch --parsable' and the merge with --dependency=afterok on it. The
scripts name this tandem binary (--tandem to name another) and the sweep file
by absolute path, so both must be where the nodes see them, as DIR must. The
#SBATCH lines come from --job-name, --time, --cpus-per-task (GOMAXPROCS
follows it), --partition, --mem and --sbatch OPTION (any other, repeatable);
logs go to DIR/logs. The merged results land in DIR.

--emit k8s --shards N --image IMAGE --claim PVC writes k8s-sweep.yaml (a
ConfigMap holding the sweep file and an Indexed Job: completionMode: Indexed,
completions and parallelism N, pod K running shard $(JOB_COMPLETION_INDEX)
into /sweeps/JOB/shard-K on the PersistentVolumeClaim PVC), k8s-merge.yaml
(a Job merging them into /sweeps/JOB) and submit.sh (kubectl apply, wait for
the Indexed Job to complete, apply the merge). IMAGE must have tandem on its
PATH, and the sweep's scenario must be built in or an absolute path in it.`,
		Example: `  tandem sweep fleet.yaml --out out/fleet
  tandem sweep fleet.yaml --shard $JOB_COMPLETION_INDEX/8 --out out/shard-$JOB_COMPLETION_INDEX
  tandem sweep merge out/shard-* --out out/fleet
  tandem sweep fleet.yaml --emit slurm --shards 16 --time 2:00:00 --cpus-per-task 4 --out /scratch/fleet
  bash /scratch/fleet/submit.sh
  tandem sweep fleet.yaml --emit k8s --shards 8 --image registry.example/tandem:1 --claim sweeps --out k8s/fleet`,
		Args: cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return sweepRun(cmd, args[0], &opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.out, "out", "", "write results.jsonl, results.csv and shard.json (with --emit: the scripts) into `DIR`")
	f.StringVar(&opts.shard, "shard", "0/1", "run shard `I/N` only")
	f.StringVar(&opts.emit, "emit", "", "write the jobs that run the sweep on a cluster instead of running it: `KIND` slurm or k8s")
	f.IntVar(&opts.shards, "shards", 0, "with --emit: the number of shards `N`, one task or pod each")
	f.StringVar(&opts.tandem, "tandem", "", "with --emit slurm: the tandem binary `PATH` the tasks run (default: this one)")
	f.StringVar(&opts.jobName, "job-name", "", "with --emit: the job's `NAME` (default tandem- and the sweep's name or file)")
	f.StringVar(&opts.time, "time", "1:00:00", "with --emit slurm: each task's time limit `T`, as sbatch --time takes it")
	f.IntVar(&opts.cpus, "cpus-per-task", 1, "with --emit: the `C` cores each task or pod asks for")
	f.StringVar(&opts.partition, "partition", "", "with --emit slurm: the `PARTITION` (default: the cluster's)")
	f.StringVar(&opts.mem, "mem", "", "with --emit slurm: each task's memory `M`, such as 2G (default: the cluster's)")
	f.StringArrayVar(&opts.sbatch, "sbatch", nil, "with --emit slurm: one more #SBATCH `OPTION`, such as --account=lab (repeatable)")
	f.StringVar(&opts.image, "image", "", "with --emit k8s: the container `IMAGE`, with tandem on its PATH")
	f.StringVar(&opts.claim, "claim", "", "with --emit k8s: the PersistentVolumeClaim `PVC` the pods write the shards to")
	f.StringVar(&opts.namespace, "namespace", "", "with --emit k8s: the `NAMESPACE` (default: kubectl's)")
	cmd.AddCommand(newMerge())
	return cmd
}

func newMerge() *cobra.Command {
	var out string
	return func() *cobra.Command {
		cmd := &cobra.Command{
			Use:   "merge DIR... --out DIR",
			Short: "Join the folders of a sweep's shards into the sweep's results",
			Long: `Join the folders of a sweep's shards into the sweep's results: exactly the
results.jsonl, results.csv and shard.json (as shard 0/1) of one unsharded run.

Each folder must be finished (its shard.json there, its files matching it),
and together they must be every shard of one sweep once: a shard missing or
given twice, or one of another sweep file, shard count or tandem build, is
refused (exit 2), naming the folder, and nothing is written.`,
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
		cmd.Flags().StringVar(&out, "out", "", "write the merged results.jsonl, results.csv and shard.json into `DIR`")
		return cmd
	}()
}

func sweepRun(cmd *cobra.Command, file string, opts *options) error {
	if opts.out == "" {
		return cli.BadInputf("sweep: --out is required (see 'tandem sweep --help')")
	}
	shard, err := sweep.ParseShard(opts.shard)
	if err != nil {
		return cli.BadInput(err)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return cli.BadInput(err)
	}
	spec, err := sweep.Decode(file, raw)
	if err != nil {
		return cli.BadInput(err)
	}
	if opts.emit != "" {
		if cmd.Flags().Changed("shard") {
			return cli.BadInputf("sweep: --emit writes jobs for every shard; --shard is for one of them")
		}
		return emit(cmd.OutOrStdout(), spec, raw, opts, cmd.Flags().Changed)
	}
	for _, name := range []string{"shards", "tandem", "job-name", "time", "cpus-per-task", "partition", "mem", "sbatch", "image", "claim", "namespace"} {
		if cmd.Flags().Changed(name) {
			return cli.BadInputf("sweep: --%s is for --emit slurm or k8s", name)
		}
	}
	return runShard(cmd.OutOrStdout(), cmd.ErrOrStderr(), spec, shard, opts.out)
}

// jobNameChars are what a job name keeps of a sweep's name.
var jobNameChars = regexp.MustCompile(`[^a-z0-9]+`)

// emit writes the jobs that run spec on a cluster; changed says whether a
// flag was given.
func emit(stdout io.Writer, spec *sweep.Spec, raw []byte, opts *options, changed func(flag string) bool) error {
	switch {
	case opts.shards < 1:
		return cli.BadInputf("sweep: --emit needs --shards N, the number of tasks (N >= 1)")
	case opts.shards > spec.Len():
		return cli.BadInputf("sweep: --shards %d: %s has only %d points", opts.shards, spec.File, spec.Len())
	case opts.cpus < 1:
		return cli.BadInputf("sweep: --cpus-per-task %d: want at least 1", opts.cpus)
	}
	out, err := filepath.Abs(opts.out)
	if err != nil {
		return cli.BadInput(err)
	}
	name := opts.jobName
	if name == "" {
		base := spec.Name
		if base == "" {
			base = strings.TrimSuffix(filepath.Base(spec.File), filepath.Ext(spec.File))
		}
		name = strings.Trim("tandem-"+jobNameChars.ReplaceAllString(strings.ToLower(base), "-"), "-")
		name = strings.TrimRight(name[:min(len(name), 48)], "-")
	}
	var files map[string][]byte
	switch opts.emit {
	case "slurm":
		for _, name := range []string{"image", "claim", "namespace"} {
			if changed(name) {
				return cli.BadInputf("sweep: --%s is for --emit k8s", name)
			}
		}
		bin := opts.tandem
		if bin == "" {
			if bin, err = os.Executable(); err == nil {
				bin, err = filepath.EvalSymlinks(bin)
			}
			if err != nil {
				return fmt.Errorf("sweep: where this tandem binary is: %w (give --tandem)", err)
			}
		}
		if bin, err = filepath.Abs(bin); err != nil {
			return cli.BadInput(err)
		}
		sweepFile, err := filepath.Abs(spec.File)
		if err != nil {
			return cli.BadInput(err)
		}
		files, err = sweep.Slurm{
			Tandem: bin, Sweep: sweepFile, Out: out, Shards: opts.shards,
			JobName: name, Time: opts.time, CPUs: opts.cpus, Partition: opts.partition, Mem: opts.mem, Extra: opts.sbatch,
		}.Files()
		if err != nil {
			return cli.BadInput(err)
		}
	case "k8s":
		for _, name := range []string{"tandem", "time", "partition", "mem", "sbatch"} {
			if changed(name) {
				return cli.BadInputf("sweep: --%s is for --emit slurm", name)
			}
		}
		if ref := spec.Scenario; !strings.HasPrefix(ref, "builtin:") && !filepath.IsAbs(ref) {
			return cli.BadInputf("sweep: --emit k8s: %s's scenario %q is a path relative to the sweep file, which the pods do not have; use builtin:NAME or an absolute path in the image", spec.File, ref)
		}
		files, err = sweep.Kubernetes{
			Name: name, Namespace: opts.namespace, Image: opts.image, Sweep: raw,
			Shards: opts.shards, CPUs: opts.cpus, Claim: opts.claim,
		}.Files()
		if err != nil {
			return cli.BadInput(err)
		}
	default:
		return cli.BadInputf("sweep: --emit %q: want slurm or k8s", opts.emit)
	}
	if err := cli.WriteFiles(out, files); err != nil {
		return err
	}
	if err := os.Chmod(filepath.Join(out, sweep.SubmitScript), 0o755); err != nil {
		return err
	}
	if opts.emit == "slurm" {
		// Slurm opens a task's --output before the task starts, and does not
		// make its folder.
		if err := os.MkdirAll(filepath.Join(out, sweep.LogsDir), 0o755); err != nil {
			return err
		}
	}
	names := slices.Sorted(maps.Keys(files))
	for i, n := range names {
		names[i] = filepath.Join(out, n)
	}
	fmt.Fprintf(stdout, "%s job %s, %d shards of %d points: wrote %s; run 'bash %s'\n", opts.emit, name, opts.shards, spec.Len(), strings.Join(names, ", "), filepath.Join(out, sweep.SubmitScript))
	return nil
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
	label := "sweep"
	if shard != sweep.All {
		label = fmt.Sprintf("sweep shard %v", shard)
	}
	prog := newProgress(stderr, label, want.Points, time.Now)
	results, err := sweep.Run(spec, shard, func(done, _ int) { prog.update(done) })
	if err != nil {
		prog.interrupt()
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
