package hilcmd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/hil/fleet"
	"github.com/tandem-edge/tandem/hil/oip"
	"github.com/tandem-edge/tandem/profiler"
	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/report"
	"github.com/tandem-edge/tandem/scenarios"
)

// RunOptions are the inputs of `tandem hil run`.
type RunOptions struct {
	Scenario string
	Cloud    string // the server's URL; empty: start one on loopback
	// CloudTokenFile holds the bearer token the --cloud server asks for;
	// CloudCA the PEM certificates an https --cloud server's is checked
	// against instead of the system's.
	CloudTokenFile, CloudCA string
	// Protocol, when set, replaces the scenario's cloud.protocol.
	Protocol    string
	cloudBinary bool   // the deprecated --cloud-binary
	Model       string // the model's name on that server
	Dataset     string // where the held-out inputs come from; empty: the bundle's dataset
	// Shaper shapes the links: fleet.ShaperProcess ("") or
	// fleet.ShaperKernel.
	Shaper   string
	Out      string
	Requests int
	Seed     uint64
	SeedSet  bool
	JSON     bool
	// MaxFailureRate is the largest share of requests that may fail before
	// the run exits with cli.ExitTooManyFailed (its outputs written all the
	// same).
	MaxFailureRate float64

	Stdout, Stderr io.Writer
}

func newRun() *cobra.Command {
	opts := &RunOptions{}
	cmd := &cobra.Command{
		Use:   "run SCENARIO --out DIR",
		Short: "Run a scenario on real hardware: the same scenario file and outputs as sim",
		Long: `Run a scenario for real. The requests are the ones 'tandem sim' simulates for the
same scenario and seed: the same devices, arrival times and held-out samples. Each
arrives at its device on the wall clock; the device runs the bundle's edge model
through ONNX Runtime on the sample's real input, the scenario's policy decides on
the model's real output, and an offloaded input crosses the device's link, shaped
in process from the scenario's link (its rate or its replayed trace, and half the
round trip each way), to an inference server that runs the heavy model.

With --shaper kernel the bytes cross real network links instead: the run makes two
network namespaces, the devices' and the cloud's, joined by one veth pair per
device whose two ends tc's token bucket filter limits to the scenario's uplink
and downlink rates; half the round trip each way is still added in process (the
kernel's netem delay is not everywhere). It needs root (or CAP_SYS_ADMIN and
CAP_NET_ADMIN) and iproute2, shapes constant rates only (not traces), and removes
the namespaces when the run ends, also on Ctrl-C; a run that was killed has its
namespaces removed by the next. requests.csv's uplink and downlink columns then
hold the half round trips, its cloud column the rest of the call, transfers
included.

Without --cloud the command starts that server itself on loopback, with the
scenario's cloud.servers copies of the heavy model and its batching. With --cloud
URL it sends to a running server that speaks the Open Inference Protocol: 'tandem
hil serve' on another machine, or Triton or KServe serving the bundle's heavy
model.

A split scenario (policy.kind split, after: NODE) runs the heavy model cut in
two: each device runs its first layers up to NODE, the cut tensor crosses the
link, and the server runs the rest. The run cuts the bundle's heavy model itself
(as 'tandem split --parts' writes the two parts); a --cloud server must serve
the rest, cloud.onnx.

Writes DIR/summary.json (mode "hil") and DIR/requests.csv, the schema 'tandem sim'
writes, so 'tandem compare' can say how far the simulation was off. The run takes
real time: the scenario's requests at its rates (--requests shortens it). The held
-out inputs come from the bundle's dataset, which must be installed.

A request fails when the cloud does not answer it within the scenario's timeout
(none: within a minute), refuses or drops the connection, answers an HTTP error or
answers what is not the model's output; requests.csv's failure column and
summary.json's failures say which. summary.json's accuracy_over_requests counts a
failed request as a wrong one, accuracy_over_completed (and accuracy) leaves it
out. A --cloud server's model must take the bundle's input shape and give its
classes, checked before the first request. When more than --max-failure-rate of
the requests fail, the command still writes its outputs, then exits with status 3.

A fleet whose edge groups run several applications (an edge group's bundle key)
runs each device's own bundle, and the cloud serves every heavy model: the pool
started on loopback holds them all, or a --cloud server serves the scenario's
bundle's model as --model and each other bundle's as --model-BUNDLE (tandem hil
serve --model heavy=A.onnx --model heavy-digits=B.onnx).`,
		Example: `  tandem hil run builtin:default --requests 2000 --out out/hil
  tandem sim builtin:default --requests 2000 --out out/sim
  tandem compare out/sim/summary.json out/hil/summary.json
  sudo tandem hil run builtin:congested-uplink --shaper kernel --requests 2000 --out out/hil-kernel
  tandem hil run mine.yaml --cloud https://10.0.0.2:8443 --cloud-token-file token --cloud-ca cert.pem --out out/hil`,
		Args: cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Scenario = args[0]
			opts.SeedSet = cmd.Flags().Changed("seed")
			if opts.cloudBinary && opts.Protocol == "" {
				opts.Protocol = profiles.ProtocolBinary
			}
			opts.Stdout, opts.Stderr = cmd.OutOrStdout(), cmd.ErrOrStderr()
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return Run(ctx, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Out, "out", "", "write summary.json and requests.csv into `DIR` (required)")
	f.StringVar(&opts.Cloud, "cloud", "", "send offloaded inputs to the server at `URL` (default: start one on loopback)")
	f.StringVar(&opts.Model, "model", "heavy", "the heavy model's `NAME` on the --cloud server (another application's: NAME-BUNDLE)")
	f.StringVar(&opts.CloudTokenFile, "cloud-token-file", "", "send the --cloud server the bearer token in `FILE`")
	f.StringVar(&opts.CloudCA, "cloud-ca", "", "trust the PEM certificates in `FILE` for an https --cloud server")
	f.StringVar(&opts.Protocol, "protocol", "", "reach the cloud by `P`: binary (tensors as raw bytes) or json, replacing the scenario's cloud.protocol")
	f.BoolVar(&opts.cloudBinary, "cloud-binary", false, "the same as --protocol binary")
	f.MarkDeprecated("cloud-binary", "binary is the default; --protocol chooses")
	f.StringVar(&opts.Shaper, "shaper", fleet.ShaperProcess, "shape the links by `S`: process (the link rule on the wall clock) or kernel (a veth pair per device between two network namespaces, rate-limited by tc; needs root; constant-rate links and the loopback server only)")
	f.StringVar(&opts.Dataset, "dataset", "", "dataset `NAME` or PATH of the held-out inputs (default: the bundle's)")
	f.IntVar(&opts.Requests, "requests", 0, "run `N` arrivals over the fleet, replacing the scenario's requests or duration")
	f.Uint64Var(&opts.Seed, "seed", 0, "seed `S`, replacing the scenario's")
	f.BoolVar(&opts.JSON, "json", false, "print summary.json's object instead of a table")
	f.Float64Var(&opts.MaxFailureRate, "max-failure-rate", 0, "exit with status 3 when more than this share `R` of requests fail (0 to 1)")
	return cmd
}

// Run runs the scenario for real and writes its outputs.
func Run(ctx context.Context, opts *RunOptions) error {
	if opts.Out == "" {
		return cli.BadInputf("hil run: --out is required (see 'tandem hil run --help')")
	}
	if opts.Requests < 0 {
		return cli.BadInputf("hil run: --requests %d: want a positive count", opts.Requests)
	}
	if !(opts.MaxFailureRate >= 0 && opts.MaxFailureRate <= 1) {
		return cli.BadInputf("hil run: --max-failure-rate %g: want a share from 0 to 1", opts.MaxFailureRate)
	}
	sc, err := scenarios.LoadWith(opts.Scenario, scenarios.Overrides{Requests: opts.Requests, Seed: opts.Seed, SeedSet: opts.SeedSet, Protocol: opts.Protocol})
	if err != nil {
		return cli.BadInput(err)
	}
	if err := fleet.CheckSize(sc); err != nil {
		return cli.BadInput(err)
	}
	in, err := scenarios.Resolve(sc)
	if err != nil {
		return cli.BadInput(err)
	}
	switch opts.Shaper {
	case "", fleet.ShaperProcess, fleet.ShaperKernel:
	default:
		return cli.BadInputf("hil run: --shaper %q: want %s or %s", opts.Shaper, fleet.ShaperProcess, fleet.ShaperKernel)
	}
	if opts.Shaper == fleet.ShaperKernel && opts.Cloud != "" {
		return cli.BadInputf("hil run: --shaper kernel shapes the links to the server the run starts; with --cloud the links are the real network's")
	}
	if err := fleet.CheckApplications(in, opts.Cloud != "", opts.Dataset); err != nil {
		return cli.BadInput(err)
	}
	run := fleet.ScenarioRun{Model: opts.Model, Dataset: opts.Dataset, Shaper: opts.Shaper, Log: opts.Stderr}
	here := profiler.ReadHostFacts()
	if other := profiler.OtherHosts(in, here, opts.Cloud == ""); len(other) > 0 {
		fmt.Fprintf(opts.Stderr, "hil run: this machine is %s; the scenario's profiles of %s were measured on another: tandem sim predicts that machine, so profile this one (tandem profile) before comparing the two\n",
			here, strings.Join(other, "; "))
	}
	if opts.Cloud != "" && sc.Policy.Kind != scenarios.PolicyEdgeOnly {
		// Each application's heavy model by its name on the server.
		for _, name := range fleet.ModelNames(in, opts.Model) {
			c, err := cloudClient(ctx, opts, name, sc.Cloud[0].Protocol)
			if err != nil {
				return err
			}
			run.Clouds = append(run.Clouds, c)
		}
	}

	out, err := cli.NewOutput(opts.Out)
	if err != nil {
		return err
	}
	defer out.Abort()
	f, err := out.Create("requests.csv")
	if err != nil {
		return err
	}
	csv := deploy.NewCSVRecorder(f)
	run.Recorder = csv
	run.Progress = progress(opts.Stderr)
	res, err := fleet.RunScenario(ctx, in, run)
	var bad *fleet.InputError
	if errors.As(err, &bad) {
		return cli.BadInput(err)
	}
	if err != nil {
		return err
	}
	sum := res.Summary
	if err := csv.Flush(); err != nil {
		return err
	}
	sf, err := out.Create("summary.json")
	if err != nil {
		return err
	}
	enc := json.NewEncoder(sf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(sum); err != nil {
		return err
	}
	if err := out.Commit(); err != nil {
		return err
	}
	if sum.Failed > 0 {
		fmt.Fprintf(opts.Stderr, "hil run: %d of %d requests failed: %s\n", sum.Failed, sum.Requests, sum.FailuresByReason())
	}
	if opts.JSON {
		enc := json.NewEncoder(opts.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(sum); err != nil {
			return err
		}
	} else {
		report.PrintSummary(opts.Stdout, in, sum)
		fmt.Fprintf(opts.Stdout, "wrote %s and %s\n", filepath.Join(opts.Out, "summary.json"), filepath.Join(opts.Out, "requests.csv"))
	}
	if float64(sum.Failed) > opts.MaxFailureRate*float64(sum.Requests) {
		return &cli.FailedRequestsError{Failed: sum.Failed, Requests: sum.Requests, Allowed: opts.MaxFailureRate, Reasons: sum.FailuresByReason()}
	}
	return nil
}

// cloudClient returns the client of model on the --cloud server, checked to
// speak what the flags ask of it; RunScenario checks the model against its
// bundle.
func cloudClient(ctx context.Context, opts *RunOptions, model, protocol string) (*oip.Client, error) {
	hc := fleet.HTTPClient()
	if opts.CloudCA != "" {
		pem, err := os.ReadFile(opts.CloudCA)
		if err != nil {
			return nil, cli.BadInputf("hil run: --cloud-ca: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, cli.BadInputf("hil run: --cloud-ca %s: no PEM certificate in it", opts.CloudCA)
		}
		hc.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	var token string
	if opts.CloudTokenFile != "" {
		t, err := readToken(opts.CloudTokenFile)
		if err != nil {
			return nil, cli.BadInputf("hil run: --cloud-token-file: %v", err)
		}
		token = t
	}
	c, err := oip.NewClientToken(ctx, opts.Cloud, model, hc, token)
	if err != nil {
		return nil, cli.BadInputf("hil run: --cloud %s: %v", opts.Cloud, err)
	}
	if protocol == profiles.ProtocolBinary {
		if err := c.ExpectExtension(ctx, oip.ExtensionBinaryTensorData); err != nil {
			return nil, cli.BadInputf("hil run: --cloud %s: %v (the scenario's cloud.protocol is binary; --protocol json sends JSON numbers)", opts.Cloud, err)
		}
		c.Binary = true
	}
	return c, nil
}

// progress prints a line at most every two seconds as requests end, with
// how many failed so far, so that a failing cloud shows while the run goes
// on.
func progress(w io.Writer) func(ended, failed, total int) {
	last := time.Now()
	return func(ended, failed, total int) {
		if ended == total || time.Since(last) >= 2*time.Second {
			last = time.Now()
			if failed > 0 {
				fmt.Fprintf(w, "hil run: %d of %d requests ended, %d of them failed\n", ended, total, failed)
				return
			}
			fmt.Fprintf(w, "hil run: %d of %d requests ended\n", ended, total)
		}
	}
}
