package profilecmd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/hil"
	"github.com/tandem-edge/tandem/profiler"
	"github.com/tandem-edge/tandem/profiles"
)

// modelArg is one --model: the name the profile gives it and its file.
type modelArg struct{ name, file string }

// parseModel reads NAME=FILE or FILE; NAME defaults to FILE's base name
// without its extension.
func parseModel(arg string) (modelArg, error) {
	name, file, named := strings.Cut(arg, "=")
	if !named {
		file = arg
		name = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	}
	if name == "" || file == "" {
		return modelArg{}, fmt.Errorf("--model %q: want FILE.onnx or NAME=FILE.onnx", arg)
	}
	return modelArg{name: name, file: file}, nil
}

// coldGaps are the gaps to time the cold latency after; nil when
// --cold-gaps turns it off: no gaps, or a single 0.
func (o *Options) coldGaps() []time.Duration {
	if len(o.ColdGaps) == 0 || len(o.ColdGaps) == 1 && o.ColdGaps[0] == 0 {
		return nil
	}
	return o.ColdGaps
}

// joinGaps writes gaps as --cold-gaps reads them: "1ms,3ms,10ms".
func joinGaps(gaps []time.Duration) string {
	s := make([]string, len(gaps))
	for i, g := range gaps {
		s[i] = g.String()
	}
	return strings.Join(s, ",")
}

func (o *Options) validate() ([]modelArg, error) {
	switch {
	case len(o.Models) == 0:
		return nil, cli.BadInputf("profile: --model is required (see 'tandem profile --help')")
	case o.Out == "":
		return nil, cli.BadInputf("profile: --out is required (see 'tandem profile --help')")
	case o.Threads < 1:
		return nil, cli.BadInputf("profile: --threads %d: want 1 or more", o.Threads)
	case o.Runs < 1:
		return nil, cli.BadInputf("profile: --runs %d: want 1 or more", o.Runs)
	case o.Slowdown != 0 && !(o.Slowdown >= 1 && o.Slowdown <= 1000): // 0: Options made in code, the host as it is
		return nil, cli.BadInputf("profile: --slowdown %g: want 1 (the host as it is) to 1000", o.Slowdown)
	case o.Slowdown > 1 && o.SweepWidths:
		return nil, cli.BadInputf("profile: --slowdown and --sweep-widths: the latency predictor is fitted to this host, not to a device emulated on it; profile the emulated device without --sweep-widths")
	case o.Warmup < 0:
		return nil, cli.BadInputf("profile: --warmup %d: want 0 or more", o.Warmup)
	case o.ColdRuns < 1:
		return nil, cli.BadInputf("profile: --cold-runs %d: want 1 or more", o.ColdRuns)
	case o.ServingRuns < 1:
		return nil, cli.BadInputf("profile: --serving-runs %d: want 1 or more", o.ServingRuns)
	case o.Points < 1:
		return nil, cli.BadInputf("profile: --sweep-points %d: want 1 or more", o.Points)
	case o.Variants < 0:
		return nil, cli.BadInputf("profile: --sweep-variants %d: want 0 or more", o.Variants)
	case o.HeldOut < 0:
		return nil, cli.BadInputf("profile: --held-out %d: want 0 (none) or more", o.HeldOut)
	case o.HeldOut > 0 && !o.SweepWidths:
		return nil, cli.BadInputf("profile: --held-out checks the predictor that --sweep-widths fits: add --sweep-widths")
	case o.AddTo != "" && (o.SweepWidths || o.Slowdown > 1):
		return nil, cli.BadInputf("profile: --add-to keeps the profile's predictor and host: without --sweep-widths and --slowdown")
	}
	if gaps := o.coldGaps(); gaps != nil {
		for _, g := range gaps {
			if g <= 0 {
				return nil, cli.BadInputf("profile: --cold-gaps %s: gap %v: want gaps above 0, or a single 0 (off)", joinGaps(gaps), g)
			}
		}
	}
	for _, b := range o.Batches {
		if b < 1 {
			return nil, cli.BadInputf("profile: --batch %d: want batch sizes of 1 or more", b)
		}
	}
	var models []modelArg
	seen := map[string]string{}
	for _, arg := range o.Models {
		m, err := parseModel(arg)
		if err != nil {
			return nil, cli.BadInputf("profile: %v", err)
		}
		if prev, dup := seen[m.name]; dup {
			return nil, cli.BadInputf("profile: --model %s and --model %s are both named %q: name them, --model NAME=FILE", prev, m.file, m.name)
		}
		seen[m.name] = m.file
		if _, err := os.Stat(m.file); err != nil {
			return nil, cli.BadInputf("profile: --model %s: %v", arg, err)
		}
		models = append(models, m)
	}
	if dir := filepath.Dir(o.Out); dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, cli.BadInputf("profile: --out %s: folder %s does not exist", o.Out, dir)
		}
	}
	return models, nil
}

func run(o *Options) error {
	models, err := o.validate()
	if err != nil {
		return err
	}
	if _, err := hil.InitORT(); err != nil {
		return err
	}
	batches := o.Batches
	if batches == nil && o.Threads > 1 {
		batches = profiler.ServerBatches
	}
	popts := profiler.Options{Threads: o.Threads, Runs: o.Runs, Warmup: o.Warmup, Batches: batches,
		ColdGaps: o.coldGaps(), ColdRuns: o.ColdRuns, Serving: o.Serving, ServingRuns: o.ServingRuns, Progress: o.Progress}
	if o.Warmup == 0 {
		popts.Warmup = -1 // none, as asked
	}

	named := make([]profiler.NamedModel, len(models))
	for i, m := range models {
		named[i] = profiler.NamedModel{Name: m.name, File: m.file}
	}
	cmd := o.Command
	if cmd == "" {
		cmd = o.rebuiltCommand()
	}
	d, measured, err := profiler.MeasureDevice(o.profileName(), cmd, named, popts)
	if err != nil {
		return cli.BadInput(err)
	}
	if o.SweepWidths {
		if d.Predictor, err = o.fitPredictor(models, measured, d.Models); err != nil {
			return err
		}
	}
	if o.Slowdown > 1 {
		// An emulated device: hil run stretches each of its runs as much.
		for i := range d.Models {
			d.Models[i] = d.Models[i].Stretched(o.Slowdown)
		}
		d.Host.Slowdown = o.Slowdown
	}
	if o.AddTo != "" {
		if d, err = addTo(o.AddTo, d); err != nil {
			return err
		}
	} else if d.Power, err = o.measurePower(models[0]); err != nil {
		return err
	}
	b, err := profiles.EncodeDevice(d)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	if err := cli.WriteFileAtomic(o.Out, b); err != nil {
		return fmt.Errorf("profile: --out %s: %w", o.Out, err)
	}
	if o.Stdout != nil {
		return writeSummary(o.Stdout, d, measured)
	}
	return nil
}

// addTo returns the profile in file with the models of d, measured on the
// same host with the same threads, added after its own; its source gains
// d's. The profile's predictor and power stay as they were measured.
func addTo(file string, d *profiles.Device) (*profiles.Device, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, cli.BadInputf("profile: --add-to: %v", err)
	}
	base, err := profiles.DecodeDevice(file, raw)
	if err != nil {
		return nil, cli.BadInputf("profile: --add-to: %v", err)
	}
	h, b := d.Host, base.Host
	if h.CPU != b.CPU || h.Cores != b.Cores || h.Threads != b.Threads || h.Arch != b.Arch || h.Runtime != b.Runtime || b.Slowdown > 1 {
		return nil, cli.BadInputf("profile: --add-to %s: measured on %s (%d cores, %s, %s, %d threads, slowdown %g); this run is on %s (%d cores, %s, %s, %d threads): a profile holds one device's numbers",
			file, b.CPU, b.Cores, b.Arch, b.Runtime, b.Threads, b.Slowdown, h.CPU, h.Cores, h.Arch, h.Runtime, h.Threads)
	}
	for _, m := range d.Models {
		for _, have := range base.Models {
			if have.Name == m.Name {
				return nil, cli.BadInputf("profile: --add-to %s: it already has a model named %q", file, m.Name)
			}
		}
	}
	base.Models = append(base.Models, d.Models...)
	base.Source += "; models " + modelNames(d.Models) + " added by " + d.Source
	return base, nil
}

func modelNames(ms []profiles.Model) string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Name
	}
	return strings.Join(names, ", ")
}

// measurePower measures this host's power idle and running m (--power),
// or says on the progress stream why it cannot; only a failing model is an
// error.
func (o *Options) measurePower(m modelArg) (*profiles.Power, error) {
	say := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "profile: "+format+"\n", args...)
		}
	}
	switch {
	case o.Power <= 0:
		return nil, nil
	case o.Slowdown > 1:
		say("power not measured: an emulated device (--slowdown) draws what its board draws, not this host; give its figures in the scenario (edge.power)")
		return nil, nil
	}
	busy, closeModel, err := profiler.Busy(m.file, o.Threads)
	if err != nil {
		return nil, fmt.Errorf("profile: --model %s: %w", m.file, err)
	}
	defer closeModel()
	say("power: %v idle, then %v of %s back to back", o.Power, o.Power, m.name)
	p, err := profiler.MeasurePower(profiler.RAPLRoot, o.Power, busy, fmt.Sprintf("batch-1 runs of %s on %d thread(s)", m.name, max(o.Threads, 1)))
	var none *profiler.NoPowerError
	if errors.As(err, &none) {
		say("%v; the profile carries no power figures", err)
		return nil, nil
	}
	return p, err
}

// fitPredictor sweeps the models' layers and fits the predictor and, with
// --held-out, checks it.
func (o *Options) fitPredictor(models []modelArg, measured []*profiler.Measurement, profiled []profiles.Model) (*profiles.Predictor, error) {
	var graphs []*dnn.Graph
	for i, pm := range measured {
		if pm.DecodeErr != nil {
			return nil, cli.BadInput(fmt.Errorf("profile: --sweep-widths builds pruned layers of the models, but --model %s does not decode: %w",
				models[i].file, pm.DecodeErr))
		}
		pm.Graph.Name = models[i].name
		graphs = append(graphs, pm.Graph)
	}
	if !hasConv(graphs) {
		return nil, cli.BadInputf("profile: --sweep-widths sweeps the widths of convolutions, and the models have none")
	}
	variants := o.Variants
	if variants == 0 {
		variants = -1 // none, as asked
	}
	sw, err := profiler.Sweep(graphs, profiler.SweepOptions{Threads: o.Threads, Points: o.Points, Variants: variants,
		HeldOut: o.HeldOut, Seed: o.Seed, Progress: o.Progress})
	if err != nil {
		return nil, err
	}
	p, err := profiles.FitPredictor(sw.Probes, sw.Networks, profiles.FitOptions{
		ChannelBlock: sw.Block, ChannelAlign: sw.Align, Batches: profiles.BatchFactors(profiled)})
	if err != nil {
		return nil, err
	}
	if len(sw.HeldOut) > 0 {
		rows, summary := p.EvaluateHeldOut(sw.HeldOut)
		summary.Seed = o.Seed
		p.HeldOut = &summary
		if o.Stdout != nil {
			if err := writeHeldOut(o.Stdout, rows, summary); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

func hasConv(graphs []*dnn.Graph) bool {
	for _, g := range graphs {
		for _, n := range g.Nodes {
			if n.Op == dnn.OpConv {
				return true
			}
		}
	}
	return false
}

// profileName is --name, else the --out file's base name without its
// extension.
func (o *Options) profileName() string {
	if o.Name != "" {
		return o.Name
	}
	return strings.TrimSuffix(filepath.Base(o.Out), filepath.Ext(o.Out))
}
