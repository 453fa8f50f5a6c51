package profilecmd

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"

	"github.com/tandem-edge/tandem/profiler"
	"github.com/tandem-edge/tandem/profiles"
)

// commandLine is the command as typed, each argument quoted where a shell
// would need it, the program named tandem.
func commandLine(args []string) string {
	if len(args) == 0 {
		return ""
	}
	parts := []string{"tandem"}
	for _, a := range args[1:] {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// rebuiltCommand is the command line the options stand for, when the typed
// one is not known (profiles made in code).
func (o *Options) rebuiltCommand() string {
	args := []string{"tandem", "profile"}
	for _, m := range o.Models {
		args = append(args, "--model", m)
	}
	args = append(args, "--threads", strconv.Itoa(o.Threads), "--runs", strconv.Itoa(o.Runs), "--warmup", strconv.Itoa(o.Warmup))
	if len(o.Batches) > 0 {
		b := make([]string, len(o.Batches))
		for i, v := range o.Batches {
			b[i] = strconv.Itoa(v)
		}
		args = append(args, "--batch", strings.Join(b, ","))
	}
	if gaps := o.coldGaps(); gaps != nil {
		args = append(args, "--cold-gaps", joinGaps(gaps), "--cold-runs", strconv.Itoa(o.ColdRuns))
	} else {
		args = append(args, "--cold-gaps", "0")
	}
	if o.Serving {
		args = append(args, "--serving", "--serving-runs", strconv.Itoa(o.ServingRuns))
	}
	args = append(args, "--power", o.Power.String())
	if o.AddTo != "" {
		args = append(args, "--add-to", o.AddTo)
	}
	if o.Slowdown > 1 {
		args = append(args, "--slowdown", strconv.FormatFloat(o.Slowdown, 'g', -1, 64))
	}
	if o.SweepWidths {
		args = append(args, "--sweep-widths", "--sweep-points", strconv.Itoa(o.Points), "--sweep-variants", strconv.Itoa(o.Variants),
			"--seed", strconv.FormatUint(o.Seed, 10))
		if o.HeldOut > 0 {
			args = append(args, "--held-out", strconv.Itoa(o.HeldOut))
		}
	}
	args = append(args, "--out", o.Out)
	return commandLine(append([]string{"tandem"}, args[1:]...))
}

// writeSummary prints a table of what was measured.
func writeSummary(w io.Writer, d *profiles.Device, measured []*profiler.Measurement) error {
	t := tablewriter.NewWriter(w)
	t.Header("model", "latency", "spread", "profiler", "layers", "charged by name", "by fusion", "to neighbours")
	for _, pm := range measured {
		m, lp := pm.Profile, pm.Layers
		total := lp.ByName + lp.ByFusion + lp.ByNeighbour
		share := func(d time.Duration) string {
			if total <= 0 {
				return "-"
			}
			return strconv.FormatFloat(100*float64(d)/float64(total), 'f', 1, 64) + "%"
		}
		if err := t.Append(m.Name, m.Latency.String(), strconv.FormatFloat(m.Spread, 'f', 3, 64),
			strconv.FormatFloat(m.ProfilerOverhead, 'f', 2, 64)+"x", strconv.Itoa(len(m.Layers)),
			share(lp.ByName), share(lp.ByFusion), share(lp.ByNeighbour)); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	for _, pm := range measured {
		m := pm.Profile
		if line := pathsLine(&m); line != "" {
			fmt.Fprintf(w, "%s: %s\n", m.Name, line)
		}
	}
	if p := d.Predictor; p != nil {
		fmt.Fprintf(w, "predictor: %d kernel classes from %d measured networks, NCHWc block %d, align %d, in-sample median error %.1f%%\n",
			len(p.Kernels), p.Samples, p.ChannelBlock, p.ChannelAlign, 100*p.FitError)
	}
	return nil
}

// writeHeldOut prints the predictor's held-out check.
func writeHeldOut(w io.Writer, rows []profiles.HeldOutRow, s profiles.HeldOut) error {
	t := tablewriter.NewWriter(w)
	t.Header("held-out pruned variant", "measured", "predicted", "error")
	for _, r := range rows {
		if err := t.Append(r.Name, r.Measured.String(), r.Predicted.String(), strconv.FormatFloat(100*r.Error, 'f', 1, 64)+"%"); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "predictor held-out check: %d held-out variants, %.0f%% within ±10%%, median |error| %.1f%%\n",
		s.Networks, 100*s.Within10, 100*s.MedianError)
	return err
}

// pathsLine says what the cold latency curve and the serving paths of m
// came to against its back-to-back latency, on one line: "cold 0.70ms@1ms
// 0.77ms@3ms (warm 0.63ms), serving ..."; empty when neither was measured.
func pathsLine(m *profiles.Model) string {
	var parts []string
	if len(m.Cold) > 0 {
		parts = append(parts, fmt.Sprintf("cold %s (warm %s)", profiler.FormatCold(m.Cold), profiler.FormatMs(m.Latency)))
	}
	for _, s := range m.Serving {
		over, _ := m.ServingOverhead(s.Protocol)
		parts = append(parts, fmt.Sprintf("serving %v over %s (+%v)", s.Latency, s.Protocol, over))
	}
	return strings.Join(parts, ", ")
}
