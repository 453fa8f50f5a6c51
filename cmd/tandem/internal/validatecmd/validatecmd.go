// Package validatecmd is `tandem validate`: how far the simulator is from
// real execution, scenario by scenario, as a table anyone can rerun.
package validatecmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/fidelity"
	"github.com/tandem-edge/tandem/hil/fleet"
	"github.com/tandem-edge/tandem/profiler"
	"github.com/tandem-edge/tandem/scenarios"
	"github.com/tandem-edge/tandem/sim"
	"github.com/tandem-edge/tandem/sweep"
)

// Options are the inputs of `tandem validate`.
type Options struct {
	Scenarios []string // paths or builtin:NAME, at least one
	Out       string   // required
	Runs      int      // real runs of each scenario, at least 1
	Requests  int      // > 0 replaces each scenario's requests/duration
	Seed      uint64
	SeedSet   bool    // Seed replaces each scenario's seed
	Protocol  string  // when set, replaces each scenario's cloud.protocol
	Shaper    string  // fleet.ShaperProcess or fleet.ShaperKernel; "": process
	MaxError  float64 // > 0: exit with status 3 when a scenario misses it (see fidelity.Table.Check)
	// Profiles, when set, is a folder of this machine's profiles read in
	// place of the built-ins of the same names (scenarios.Scenario.Profiles).
	Profiles string
	JSON     bool

	Stdout, Stderr io.Writer
}

// NewCmd builds `tandem validate`.
func NewCmd() *cobra.Command { return newCmd(Run) }

func newCmd(runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "validate SCENARIO... --out DIR",
		Short: "Measure how far the simulator is from real execution, scenario by scenario",
		Long: `Measure how far the simulator's prediction is from what really happens. For each
SCENARIO (a YAML file or builtin:NAME) validate simulates it once, as 'tandem sim'
does, then runs it for real --runs times, as 'tandem hil run' does (the edge
models in ONNX Runtime, the cloud server started on loopback, the links shaped in
process, or with --shaper kernel by the kernel), all on the same seed and number of requests: every run makes the same
requests, on the same devices, at the same times, with the same samples.

For each figure it reports the simulation's value (sim), the median of the real
runs (hil; the mean of the middle two for an even --runs), each real run's value
(hil runs) and the relative error

    error = (sim − hil) / hil

how far the prediction is from what happened: +10% means the simulator predicted
10% more than was measured (for a latency: a slower deployment than the real
one), −10% that it predicted less; "—" where hil is 0. The figures: accuracy
and offload rate, which the simulator replays from real outcomes, so they must be
identical in every run; latency mean, p50, p95 and p99; throughput; the cloud's
utilization; and the mean time of each stage in ms: the edge's queue and model
over every completed request, the uplink, cloud queue, cloud, downlink and
whole latency over the requests the cloud answered.

Writes DIR/NAME/sim/ and DIR/NAME/hil-K/ (K from 1), each with the summary.json
and requests.csv that 'tandem sim' and 'tandem hil run' write, DIR/fidelity.md
(the summary across scenarios, then each scenario's runs, figures and stages)
and DIR/fidelity.json (the same as one object), all of them together once every
run has succeeded, never half of them. Prints the summary table: per scenario
the latency mean, p95 and p99 errors and the worst figure (with --json,
fidelity.json's object instead). fidelity.md names the command that reruns it.

The real runs measure this machine: run validate on a quiet one (no builds, no
benchmarks, no other heavy work), or the errors measure the noise. ONNX Runtime
must be present, and each bundle's dataset installed for its held-out inputs.
The simulation predicts the machine its profiles were measured on: a scenario
whose profiles come from another processor, core count or architecture is
named in the log and in fidelity.md. --profiles DIR reads this machine's own
(tandem profile ... --name edge-cpu-1t --out DIR/edge-cpu-1t.yaml) in place of
the built-ins of the same names.

With --max-error E (such as 0.05) validate writes everything, then exits with
status 3 and one line per miss when a scenario's latency mean, p95 or p99 is
more than E off, or its accuracy or offload rate differs in any run.`,
		Example: `  tandem validate builtin:default builtin:congested-uplink --requests 2000 --out out/fidelity
  tandem validate mine.yaml --runs 5 --seed 7 --max-error 0.05 --out out/mine`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Scenarios = args
			opts.SeedSet = cmd.Flags().Changed("seed")
			opts.Stdout, opts.Stderr = cmd.OutOrStdout(), cmd.ErrOrStderr()
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return runF(ctx, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Out, "out", "", "write every run's outputs, fidelity.md and fidelity.json into `DIR` (required)")
	f.IntVar(&opts.Runs, "runs", 3, "run each scenario for real `R` times; hil is the median")
	f.IntVar(&opts.Requests, "requests", 0, "make `N` arrivals over the fleet in every run, replacing each scenario's requests or duration")
	f.Uint64Var(&opts.Seed, "seed", 0, "seed `S` of every run, replacing each scenario's")
	f.StringVar(&opts.Protocol, "protocol", "", "reach the cloud by `P`, binary or json, in every run, replacing each scenario's cloud.protocol")
	f.StringVar(&opts.Shaper, "shaper", fleet.ShaperProcess, "shape the real runs' links by `S`: process (the link rule on the wall clock) or kernel (a veth pair per device, rate-limited by tc; needs root)")
	f.Float64Var(&opts.MaxError, "max-error", 0, "exit with status 3 when a latency mean, p95 or p99 is more than `E` off (0.05: 5%), or accuracy or offload rate differ; 0: no check")
	f.StringVar(&opts.Profiles, "profiles", "", "read a built-in profile NAME from `DIR`/NAME.yaml where it is there: this machine's own (make fidelity-here)")
	f.BoolVar(&opts.JSON, "json", false, "print fidelity.json's object instead of the summary table")
	return cmd
}

// scenario is one scenario to validate, loaded and resolved.
type scenario struct {
	ref string
	in  *scenarios.Inputs
}

// Run validates each scenario and writes the outputs.
func Run(ctx context.Context, opts *Options) error {
	if err := opts.check(); err != nil {
		return err
	}
	// Every scenario is read before any runs, so that a bad last one costs
	// no real time.
	var scs []scenario
	dirs := map[string]string{}
	for _, ref := range opts.Scenarios {
		sc, err := scenarios.LoadWith(ref, scenarios.Overrides{Requests: opts.Requests, Seed: opts.Seed, SeedSet: opts.SeedSet, Protocol: opts.Protocol})
		if err != nil {
			return cli.BadInput(err)
		}
		sc.Profiles = opts.Profiles
		if err := fleet.CheckSize(sc); err != nil {
			return cli.BadInput(err)
		}
		// Before any scenario runs: a key a real run cannot honour is
		// told at once, not after the scenarios before it have run.
		if err := fleet.CheckRunnable(sc); err != nil {
			return cli.BadInput(err)
		}
		if !validName(sc.Name) {
			return cli.BadInputf("%s: name %q: validate writes each scenario into a folder of its name, which this cannot be", ref, sc.Name)
		}
		if other, ok := dirs[sc.Name]; ok {
			return cli.BadInputf("validate: %s and %s are both named %q: each scenario's runs go into DIR/NAME", other, ref, sc.Name)
		}
		dirs[sc.Name] = ref
		in, err := scenarios.Resolve(sc)
		if err != nil {
			return cli.BadInput(err)
		}
		if _, err := sim.ConfigFor(in); err != nil {
			return cli.BadInput(err)
		}
		scs = append(scs, scenario{ref: ref, in: in})
	}

	out, err := cli.NewOutput(opts.Out)
	if err != nil {
		return err
	}
	defer out.Abort()
	here := profiler.ReadHostFacts()
	rep := &fidelity.Report{
		Command:  opts.command(),
		Tandem:   sweep.BuildVersion().String(),
		Host:     here.String(),
		RelError: fidelity.RelErrorDefinition,
		MaxError: opts.MaxError,
		Runs:     opts.Runs,
	}
	for _, s := range scs {
		other := profiler.OtherHosts(s.in, here, true)
		if len(other) > 0 {
			fmt.Fprintf(opts.Stderr, "validate: %s: this machine is %s; the profiles of %s were measured on another: the simulation predicts that machine\n",
				s.in.Scenario.Name, here, strings.Join(other, "; "))
		}
		t, err := validate(ctx, opts, out, s)
		if err != nil {
			return err
		}
		t.OtherHosts = other
		rep.Scenarios = append(rep.Scenarios, t)
	}
	missed := rep.Check()

	raw, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	for name, content := range map[string][]byte{"fidelity.json": append(raw, '\n'), "fidelity.md": rep.Markdown()} {
		f, err := out.Create(name)
		if err != nil {
			return err
		}
		if _, err := f.Write(content); err != nil {
			return err
		}
	}
	if err := out.Commit(); err != nil {
		return err
	}

	if opts.JSON {
		if _, err := opts.Stdout.Write(append(raw, '\n')); err != nil {
			return err
		}
	} else {
		runs := fmt.Sprintf("%d real runs", opts.Runs)
		if opts.Runs == 1 {
			runs = "the one real run"
		}
		fmt.Fprintf(opts.Stdout, "error = (sim − hil) / hil, hil from %s\n\n", runs)
		opts.Stdout.Write(rep.SummaryMarkdown())
		fmt.Fprintf(opts.Stdout, "\nwrote %s and %s\n", filepath.Join(opts.Out, "fidelity.md"), filepath.Join(opts.Out, "fidelity.json"))
	}
	if len(missed) > 0 {
		for _, m := range missed[1:] {
			fmt.Fprintf(opts.Stderr, "validate: %s\n", m)
		}
		msg := missed[0]
		if len(missed) > 1 {
			msg += fmt.Sprintf(" (and %d more misses above)", len(missed)-1)
		}
		return &cli.BoundError{Err: errors.New("validate: " + msg)}
	}
	return nil
}

// check validates the options that need no file.
func (o *Options) check() error {
	if len(o.Scenarios) == 0 {
		return cli.BadInputf("validate: name at least one SCENARIO, a path or builtin:NAME (see 'tandem validate --help')")
	}
	if o.Out == "" {
		return cli.BadInputf("validate: --out is required (see 'tandem validate --help')")
	}
	if o.Runs < 1 {
		return cli.BadInputf("validate: --runs %d: want at least one real run", o.Runs)
	}
	if o.Requests < 0 {
		return cli.BadInputf("validate: --requests %d: want a positive count", o.Requests)
	}
	if o.Protocol != "" && !slices.Contains(scenarios.Protocols, o.Protocol) {
		return cli.BadInputf("validate: --protocol %q: want one of %s", o.Protocol, strings.Join(scenarios.Protocols, ", "))
	}
	if o.Shaper != "" && o.Shaper != fleet.ShaperProcess && o.Shaper != fleet.ShaperKernel {
		return cli.BadInputf("validate: --shaper %q: want %s or %s", o.Shaper, fleet.ShaperProcess, fleet.ShaperKernel)
	}
	if o.Profiles != "" {
		if fi, err := os.Stat(o.Profiles); err != nil || !fi.IsDir() {
			return cli.BadInputf("validate: --profiles %s: not a folder of profiles", o.Profiles)
		}
	}
	if !(o.MaxError >= 0) {
		return cli.BadInputf("validate: --max-error %g: want a share of at least 0 (0.05: 5%%; 0: no check)", o.MaxError)
	}
	return nil
}

// validate simulates one scenario, runs it for real opts.Runs times, and
// writes each run's outputs into out under the scenario's name.
func validate(ctx context.Context, opts *Options, out *cli.Output, s scenario) (*fidelity.Table, error) {
	name := s.in.Scenario.Name
	logf := func(format string, args ...any) {
		fmt.Fprintf(opts.Stderr, "validate: %s: "+format+"\n", append([]any{name}, args...)...)
	}

	logf("simulating")
	cfg, err := sim.ConfigFor(s.in)
	if err != nil {
		return nil, cli.BadInput(err)
	}
	engine, err := sim.New(cfg)
	if err != nil {
		return nil, cli.BadInput(err)
	}
	rec, err := newTee(out, path.Join(name, "sim"))
	if err != nil {
		return nil, err
	}
	start := time.Now()
	sum, err := engine.Run(rec) // flushes rec
	if err != nil {
		return nil, fmt.Errorf("validate: %s: %w", name, err)
	}
	sum.WallSeconds = time.Since(start).Seconds()
	if err := writeSummary(out, path.Join(name, "sim"), sum); err != nil {
		return nil, err
	}
	simRun := fidelity.Run{Summary: sum, Stages: rec.stages.Means()}

	var hilRuns []fidelity.Run
	for k := 1; k <= opts.Runs; k++ {
		logf("hil run %d/%d", k, opts.Runs)
		dir := path.Join(name, fidelity.RunName(k))
		rec, err := newTee(out, dir)
		if err != nil {
			return nil, err
		}
		res, err := fleet.RunScenario(ctx, s.in, fleet.ScenarioRun{
			Shaper:   opts.Shaper,
			Recorder: rec,
			Log:      opts.Stderr,
			Progress: progress(opts.Stderr, fmt.Sprintf("validate: %s: hil run %d/%d", name, k, opts.Runs)),
		})
		var bad *fleet.InputError
		if errors.As(err, &bad) {
			return nil, cli.BadInput(err)
		}
		if err != nil {
			return nil, fmt.Errorf("validate: %s: hil run %d/%d: %w", name, k, opts.Runs, err)
		}
		if err := rec.Flush(); err != nil {
			return nil, err
		}
		if err := writeSummary(out, dir, res.Summary); err != nil {
			return nil, err
		}
		if res.Summary.Failed > 0 {
			logf("hil run %d/%d: %d of %d requests failed: %s", k, opts.Runs, res.Summary.Failed, res.Summary.Requests, res.Summary.FailuresByReason())
		}
		hilRuns = append(hilRuns, fidelity.Run{Summary: res.Summary, Stages: rec.stages.Means()})
	}
	t := fidelity.NewTable(simRun, hilRuns)
	t.Ref = s.ref
	return t, nil
}

// tee hands each record to the stages' recorder and to requests.csv.
type tee struct {
	stages *fidelity.Stages
	csv    *deploy.CSVRecorder
}

// newTee opens dir/requests.csv in out and returns the recorder of a run
// into it.
func newTee(out *cli.Output, dir string) (*tee, error) {
	f, err := out.Create(path.Join(dir, "requests.csv"))
	if err != nil {
		return nil, err
	}
	return &tee{stages: &fidelity.Stages{}, csv: deploy.NewCSVRecorder(f)}, nil
}

func (t *tee) Record(r *deploy.Record) error {
	t.stages.Record(r)
	return t.csv.Record(r)
}

// Flush writes out what requests.csv holds back.
func (t *tee) Flush() error { return t.csv.Flush() }

func writeSummary(out *cli.Output, dir string, sum *deploy.Summary) error {
	f, err := out.Create(path.Join(dir, "summary.json"))
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	return enc.Encode(sum)
}

// progress prints a line at most every two seconds as a real run's requests
// end, with how many failed so far, as 'tandem hil run' does.
func progress(w io.Writer, prefix string) func(ended, failed, total int) {
	last := time.Now()
	return func(ended, failed, total int) {
		if ended == total || time.Since(last) >= 2*time.Second {
			last = time.Now()
			if failed > 0 {
				fmt.Fprintf(w, "%s: %d of %d requests ended, %d of them failed\n", prefix, ended, total, failed)
				return
			}
			fmt.Fprintf(w, "%s: %d of %d requests ended\n", prefix, ended, total)
		}
	}
}

// validName reports whether a scenario's name can be a folder of its own.
func validName(name string) bool {
	return filepath.IsLocal(name) && name != "." && !strings.ContainsAny(name, `/\`)
}

// command is the command line that reruns the validation.
func (o *Options) command() string {
	args := []string{"tandem", "validate"}
	args = append(args, o.Scenarios...)
	args = append(args, "--runs", strconv.Itoa(o.Runs))
	if o.Requests > 0 {
		args = append(args, "--requests", strconv.Itoa(o.Requests))
	}
	if o.SeedSet {
		args = append(args, "--seed", strconv.FormatUint(o.Seed, 10))
	}
	if o.Protocol != "" {
		args = append(args, "--protocol", o.Protocol)
	}
	if o.Shaper == fleet.ShaperKernel {
		args = append(args, "--shaper", o.Shaper)
	}
	if o.MaxError > 0 {
		args = append(args, "--max-error", strconv.FormatFloat(o.MaxError, 'g', -1, 64))
	}
	if o.Profiles != "" {
		args = append(args, "--profiles", o.Profiles)
	}
	args = append(args, "--out", o.Out)
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " ")
}

// shellQuote quotes a word for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=+,@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
