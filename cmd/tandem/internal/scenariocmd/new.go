package scenariocmd

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/profiler"
	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
)

// NewOptions are the inputs of `tandem scenario new`.
type NewOptions struct {
	Bundle      string // builtin:NAME or a bundle folder
	Name        string // the scenario's name; "" is the bundle's
	EdgeDevice  string // the edge devices' profile
	CloudDevice string // the cloud servers' profile
	Out         string // the file to write; "" prints it
	// ProfileHere, when set, is the folder to write profiles of the
	// bundle's models measured on this machine into, and the scenario's
	// devices.
	ProfileHere string
	Progress    io.Writer // profiling's progress lines

	measure profiler.Options // the edge profile's measurement; the server's adds its threads, batch curve and serving path
}

func newNew() *cobra.Command {
	opts := &NewOptions{}
	cmd := &cobra.Command{
		Use:   "new --bundle BUNDLE [--edge-device PROFILE --cloud-device PROFILE] [--out FILE.yaml]",
		Short: "Write a complete scenario for a bundle, ready to simulate",
		Long: `Write a complete scenario for a bundle: the built-in default deployment (twenty
devices at ten requests a second each over 10 Mbit/s links with a 20 ms round
trip, one cloud server) running that bundle's models, the bundle's learned
offloader deciding (a max_prob threshold of 0.8 when the bundle has none), every
default filled in. It is checked as 'tandem sim' checks a scenario before it is
written, so what it writes runs.

Device profiles are tied to model files by their SHA-256: the built-in profiles
hold the built-in bundle's models only. For a bundle of your own, measure its
models first, then name the profiles; without them, scenario new says which
commands to run, or --profile-here DIR measures them on this machine (a minute or
two; keep the machine quiet) into DIR/edge-here.yaml, one ONNX Runtime thread, and
DIR/server-here.yaml, every core with the batch curve and the serving path, and
names those. With --out, relative paths (the bundle, the profiles) are written
relative to the scenario file's folder, where tandem reads them from.`,
		Example: `  tandem scenario new --bundle builtin:fashion > mine.yaml
  tandem profile --model digits/edge=digits/edge.onnx --model digits/heavy=digits/heavy.onnx --threads 1 --out edge.yaml
  tandem profile --model digits/edge=digits/edge.onnx --model digits/heavy=digits/heavy.onnx --threads 2 --serving --out server.yaml
  tandem scenario new --bundle digits --edge-device edge.yaml --cloud-device server.yaml --out digits.yaml
  tandem scenario new --bundle digits --profile-here . --out digits.yaml   # the same in one command
  tandem sim digits.yaml`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Progress = cmd.ErrOrStderr()
			if cmd.Flags().Changed("profile-here") && (cmd.Flags().Changed("edge-device") || cmd.Flags().Changed("cloud-device")) {
				return cli.BadInputf("scenario new: --profile-here measures the devices; leave out --edge-device and --cloud-device")
			}
			b, err := NewScenario(opts)
			if err != nil {
				return err
			}
			if opts.Out == "" {
				_, err = cmd.OutOrStdout().Write(b)
				return err
			}
			if err := cli.WriteFileAtomic(opts.Out, b); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s; run it with: tandem sim %s\n", opts.Out, opts.Out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Bundle, "bundle", "", "the `BUNDLE` to deploy: builtin:NAME or a bundle folder (required)")
	f.StringVar(&opts.Name, "name", "", "the scenario's `NAME` (default: the bundle's)")
	f.StringVar(&opts.EdgeDevice, "edge-device", "edge-cpu-1t", "the edge devices' `PROFILE`: a built-in name or a profile file")
	f.StringVar(&opts.CloudDevice, "cloud-device", "server-cpu", "the cloud servers' `PROFILE`: a built-in name or a profile file")
	f.StringVar(&opts.Out, "out", "", "write the scenario to `FILE.yaml` instead of printing it")
	f.StringVar(&opts.ProfileHere, "profile-here", "", "measure the bundle's models on this machine into `DIR`/edge-here.yaml (one thread) and DIR/server-here.yaml (every core, with the serving path), and use them")
	return cmd
}

// NewScenario builds, checks and encodes the scenario opts describe.
func NewScenario(opts *NewOptions) ([]byte, error) {
	if opts.Bundle == "" {
		return nil, cli.BadInputf("scenario new: --bundle is required (see 'tandem scenario new --help')")
	}
	if opts.Out != "" {
		if dir := filepath.Dir(opts.Out); !exists(dir) {
			return nil, cli.BadInputf("scenario new: --out %s: folder %s does not exist", opts.Out, dir)
		}
	}
	b, err := bundles.Load(opts.Bundle)
	if err != nil {
		return nil, cli.BadInputf("scenario new: --bundle %s: %v", opts.Bundle, err)
	}
	if opts.ProfileHere != "" {
		if err := profileHere(b, opts); err != nil {
			return nil, err
		}
	}
	sc, err := scenarios.Load("builtin:default")
	if err != nil {
		return nil, err
	}
	sc.Name = opts.Name
	if sc.Name == "" {
		sc.Name = b.Name
	}
	sc.Description = fmt.Sprintf("Bundle %s on the default deployment: %d edge devices at %g requests per second each, a %g Mbit/s uplink with %s round trip, %d cloud server.",
		b.Name, sc.Edge.Devices(), sc.Workload.Rate, sc.Link.UplinkMbps, sc.Link.RTT.D(), sc.Cloud[0].Servers)
	// Paths are written as the scenario file will read them: relative to
	// its folder.
	rel := func(p string) string {
		if opts.Out == "" || strings.HasPrefix(p, "builtin:") || filepath.IsAbs(p) || !exists(p) {
			return p
		}
		abs, err1 := filepath.Abs(p)
		dir, err2 := filepath.Abs(filepath.Dir(opts.Out))
		if err1 != nil || err2 != nil {
			return p
		}
		if r, err := filepath.Rel(dir, abs); err == nil {
			return r
		}
		return abs
	}
	sc.Bundle, sc.Edge[0].Device, sc.Cloud[0].Device = rel(opts.Bundle), rel(opts.EdgeDevice), rel(opts.CloudDevice)
	if _, err := b.Offloader(); errors.Is(err, fs.ErrNotExist) {
		sc.Policy = scenarios.Policy{Kind: scenarios.PolicyThreshold, Feature: scenarios.FeatureMaxProb, Threshold: 0.8}
	}
	if opts.Out != "" {
		sc.File = opts.Out
	} else {
		sc.File = "new.yaml" // paths as typed: relative to here
	}
	if err := sc.Validate(); err != nil {
		return nil, cli.BadInputf("scenario new: %v", err)
	}
	if _, err := scenarios.Resolve(sc); err != nil {
		return nil, cli.BadInputf("scenario new: %v\n%s", err, profileHint(b, opts))
	}
	out, err := scenarios.Marshal(sc)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// profileHint says how to measure a bundle's models for a scenario.
func profileHint(b *bundles.Bundle, opts *NewOptions) string {
	models := ""
	for _, which := range []string{bundles.ModelEdge, bundles.ModelHeavy} {
		if path, ok := b.ModelPath(which); ok {
			models += fmt.Sprintf(" --model %s/%s=%s", b.Name, which, path)
		}
	}
	if models == "" {
		return "the profiles must hold measurements of the bundle's models (tandem profile)"
	}
	return "measure the bundle's models on this machine, then name the profiles:\n" +
		"  tandem profile" + models + " --threads 1 --out edge.yaml\n" +
		"  tandem profile" + models + " --threads 2 --serving --out server.yaml\n" +
		"  tandem scenario new --bundle " + opts.Bundle + " --edge-device edge.yaml --cloud-device server.yaml"
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// profileHere measures the bundle's models on this machine into
// opts.ProfileHere, as an edge and a server profile, and names them as the
// scenario's devices.
func profileHere(b *bundles.Bundle, opts *NewOptions) error {
	if st, err := os.Stat(opts.ProfileHere); err != nil || !st.IsDir() {
		return cli.BadInputf("scenario new: --profile-here %s: not a folder", opts.ProfileHere)
	}
	var models []profiler.NamedModel
	for _, which := range []string{bundles.ModelEdge, bundles.ModelHeavy} {
		path, ok := b.ModelPath(which)
		if !ok {
			return cli.BadInputf("scenario new: --profile-here: bundle %s is built in, and the built-in profiles already hold its models", opts.Bundle)
		}
		models = append(models, profiler.NamedModel{Name: b.Name + "/" + which, File: path})
	}
	edge := opts.measure
	if edge.ColdGaps == nil {
		edge.ColdGaps = profiler.DefaultColdGaps
	}
	edge.Threads, edge.Progress = 1, opts.Progress
	server := edge
	server.Threads, server.Batches, server.Serving = runtime.NumCPU(), profiler.ServerBatches, true
	command := fmt.Sprintf("tandem scenario new --bundle %s --profile-here %s", opts.Bundle, opts.ProfileHere)
	for _, p := range []struct {
		name string
		o    profiler.Options
		dev  *string
	}{{"edge-here", edge, &opts.EdgeDevice}, {"server-here", server, &opts.CloudDevice}} {
		d, _, err := profiler.MeasureDevice(p.name, command, models, p.o)
		if err != nil {
			return cli.BadInputf("scenario new: --profile-here: %v", err)
		}
		raw, err := profiles.EncodeDevice(d)
		if err != nil {
			return err
		}
		file := filepath.Join(opts.ProfileHere, p.name+".yaml")
		if err := cli.WriteFileAtomic(file, raw); err != nil {
			return err
		}
		*p.dev = file
	}
	return nil
}
