// Package splitcmd is `tandem split`: where to cut the bundle's heavy model
// between a scenario's edge device and its cloud (split points), from the
// profiles' per-layer times and the scenario's link.
package splitcmd

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/spf13/cobra"

	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/onnx"
	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
	"github.com/tandem-edge/tandem/split"
)

// Result is what --json prints.
type Result struct {
	Scenario string        `json:"scenario"`
	Model    string        `json:"model"`
	Points   []split.Point `json:"points"`
	Best     split.Point   `json:"best"`

	heavy *dnn.Graph
	after string // the scenario's policy.after, for a split policy
}

// NewCmd builds `tandem split`.
func NewCmd() *cobra.Command {
	var (
		asJSON     bool
		parts, cut string
	)
	cmd := &cobra.Command{
		Use:   "split [SCENARIO]",
		Short: "Where to cut the heavy model between the edge device and the cloud",
		Long: `Partial offloading (Neurosurgeon): the edge device runs the heavy model's
first layers and sends the one tensor that crosses the cut, the cloud runs the
rest and answers. For every point the bundle's heavy model can be cut at (after
a node past which a single tensor is still needed, and before the first and
after the last), print the latency of one unqueued request: the device's share
of the model, the tensor's HTTP request on the uplink (framed in TCP segments),
the cloud's share with its serving overhead, the answer and the round trip.
Each share is the layers' part of the per-layer times the scenario's edge and
cloud profiles measured for the heavy model, scaled to its back-to-back
latency; cold runs and queueing are left out.

The first edge group's device and link are used; the edge profile must have
measured the heavy model (the built-in edge-cpu-1t has), and a trace link is
taken at its mean rate. Accuracy is the heavy model's at every cut.
SCENARIO defaults to builtin:default.

With --parts DIR it writes the two models a cut deployment runs instead:
DIR/device.onnx, the heavy model up to the cut (its input normalised as the
heavy model's, its output the cut tensor, flattened), and DIR/cloud.onnx, the
rest (the cut tensor in, the logits out). The cut is --after NODE, else the
scenario's policy.after where its policy is split, else the fastest point
between the ends. 'tandem hil run' cuts the model the same way itself; serve
cloud.onnx ('tandem hil serve') where a split scenario's run reaches a --cloud
server.`,
		Example: `  tandem split builtin:default
  tandem split docs/fidelity/slow-board.yaml --json
  tandem split mine.yaml --after gap --parts out/parts`,
		Args: cli.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := "builtin:default"
			if len(args) == 1 {
				name = args[0]
			}
			if cut != "" && parts == "" {
				return cli.BadInputf("--after names the cut --parts writes; without --parts every cut is listed")
			}
			r, err := Run(name)
			if err != nil {
				return err
			}
			if parts != "" {
				return writeParts(cmd.OutOrStdout(), r, cut, parts)
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			}
			return print(cmd.OutOrStdout(), r)
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return cli.BadInputf("%s: %v (see '%s --help')", c.CommandPath(), err, c.CommandPath())
	})
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object instead of a table")
	cmd.Flags().StringVar(&parts, "parts", "", "write the cut model's two parts into `DIR` (device.onnx, cloud.onnx) instead of the table")
	cmd.Flags().StringVar(&cut, "after", "", "with --parts, cut after `NODE` (one of the points the table lists)")
	return cmd
}

// Run computes the split points of scenario name.
func Run(name string) (*Result, error) {
	sc, err := scenarios.Load(name)
	if err != nil {
		return nil, cli.BadInput(err)
	}
	b, err := bundles.Load(sc.BundleRef())
	if err != nil {
		return nil, cli.BadInput(fmt.Errorf("%s: bundle: %w", sc.File, err))
	}
	raw, err := b.ReadModel(bundles.ModelHeavy)
	if err != nil {
		return nil, cli.BadInput(err)
	}
	g, err := onnx.Decode(raw)
	if err != nil {
		return nil, cli.BadInput(fmt.Errorf("bundle %s: heavy model: %w", b.Name, err))
	}
	edgeDev, err := sc.EdgeProfile(0)
	if err != nil {
		return nil, cli.BadInput(fmt.Errorf("%s: %s.device: %w", sc.File, sc.EdgePath(0), err))
	}
	cloudDev, err := sc.CloudProfile(0)
	if err != nil {
		return nil, cli.BadInput(fmt.Errorf("%s: cloud.device: %w", sc.File, err))
	}
	heavy := &b.Models.Heavy
	edge, err := heavyOn(edgeDev, heavy.SHA256)
	if err != nil {
		return nil, cli.BadInput(fmt.Errorf("%s: %s.device: %w", sc.File, sc.EdgePath(0), err))
	}
	cloud, err := heavyOn(cloudDev, heavy.SHA256)
	if err != nil {
		return nil, cli.BadInput(fmt.Errorf("%s: cloud.device: %w", sc.File, err))
	}
	up, err := sc.Uplink(0)
	if err != nil {
		return nil, cli.BadInput(err)
	}
	down, err := sc.Downlink(0)
	if err != nil {
		return nil, cli.BadInput(err)
	}
	// The serving path measured a request carrying the input: what it
	// adds to the tensor is what a cut tensor's request carries too.
	overhead, _ := deploy.CloudOverhead(cloud, sc.Cloud[0].Protocol)
	points, err := split.Points(g, edge, cloud, overhead, split.LinkOf(sc, up, down, cloud, b.InputBytes()))
	if err != nil {
		return nil, cli.BadInput(err)
	}
	r := &Result{Scenario: sc.Name, Model: b.Name + "/heavy", Points: points, Best: split.Best(points), heavy: g}
	if sc.Policy.Kind == scenarios.PolicySplit {
		r.after = sc.Policy.After
	}
	return r, nil
}

// writeParts writes the two parts of r's model cut after node after (see
// the command's help for the default) into dir, both or neither.
func writeParts(w io.Writer, r *Result, after, dir string) error {
	if after == "" {
		after = r.after
	}
	if after == "" {
		if len(r.Points) < 3 {
			return cli.BadInputf("%s: %s has no cut between its two ends", r.Scenario, r.Model)
		}
		after = split.Best(r.Points[1 : len(r.Points)-1]).After
	}
	device, cloud, err := split.Parts(r.heavy, after)
	if err != nil {
		return cli.BadInput(fmt.Errorf("--after: %w", err))
	}
	files := map[string][]byte{}
	for name, g := range map[string]*dnn.Graph{"device.onnx": device, "cloud.onnx": cloud} {
		if files[name], err = onnx.Encode(g); err != nil {
			return err
		}
	}
	if err := cli.WriteFiles(dir, files); err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "wrote %s (%s up to %s: %d values out a sample) and %s (the rest: input %v)\n",
		filepath.Join(dir, "device.onnx"), r.Model, after, device.Classes, filepath.Join(dir, "cloud.onnx"), cloud.InputShape)
	return err
}

// heavyOn is the profile's entry for the heavy model file of sum.
func heavyOn(d *profiles.Device, sum string) (*profiles.Model, error) {
	if m, err := d.Model(sum); err == nil {
		return m, nil
	}
	return nil, fmt.Errorf("profile %s has not measured the bundle's heavy model (sha256 %.12s…): profile it there with tandem profile --add-to", d.Name, sum)
}

func print(w io.Writer, r *Result) error {
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 3, 64) }
	t := tablewriter.NewWriter(w)
	t.Header("cut after", "edge layers", "tensor bytes", "edge ms", "uplink ms", "cloud ms", "downlink + rtt ms", "total ms")
	for _, p := range r.Points {
		after := p.After
		if after == "" {
			after = "(nothing: cloud-only)"
		}
		if p.TensorBytes == 0 {
			after += " (edge-only)"
		}
		if err := t.Append(after, strconv.Itoa(p.Layers), strconv.Itoa(p.TensorBytes), ms(p.Edge), ms(p.Uplink), ms(p.Cloud), ms(p.Downlink), ms(p.Total)); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	best := r.Best.After
	if best == "" {
		best = "nothing (cloud-only)"
	}
	_, err := fmt.Fprintf(w, "fastest: cut after %s, %s ms a request (%s, unqueued)\n", best, ms(r.Best.Total), r.Scenario)
	return err
}
