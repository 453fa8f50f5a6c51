package profiler

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/onnx"
	"github.com/tandem-edge/tandem/hil"
	"github.com/tandem-edge/tandem/predict"
	"github.com/tandem-edge/tandem/profiles"
)

// SweepOptions tune Sweep. The zero value is valid.
type SweepOptions struct {
	Threads int // ONNX Runtime intra-op threads; 0 means 1
	Runs    int // timed runs per probe, without and with the profiler; 0 means 60
	Warmup  int // untimed runs per probe first; 0 means 10
	Points  int // probes per layer configuration; 0 means 16
	// Variants is how many randomly pruned variants of each graph are
	// measured whole, with the graph itself, to calibrate the sum of layers
	// against networks; 0 means 8, a negative number none.
	Variants int
	// HeldOut is how many more pruned variants, taken from the graphs in
	// turn, are measured for checking the predictor on networks it was
	// not fitted to; 0 means none.
	HeldOut int
	Seed    uint64
	// Progress, when not nil, receives a line per layer configuration.
	Progress io.Writer
}

// SweepResult is what Sweep measured.
type SweepResult struct {
	Probes   []profiles.ModelSample // one per single-layer probe
	Networks []profiles.ModelSample // each graph, then its pruned variants
	// HeldOut are the held-out variants: their layers and latency, with no
	// per-layer profile; pass them to profiles.Predictor.EvaluateHeldOut,
	// never to FitPredictor.
	HeldOut []profiles.ModelSample
	// Block is ONNX Runtime's NCHWc channel block as the probes showed it
	// (the padding of blocked convolutions' outputs); 0 when no probe ran a
	// blocked convolution.
	Block int
	// Align is the input channel alignment ONNX Runtime needs to run a
	// convolution of at least Block input channels blocked, as the probes
	// showed it; see profiles.Predictor.ChannelAlign.
	Align int
}

// probeConfig is one convolution of a model as a sweep varies it: its
// input's spatial size, its attributes and the single-input layers that
// follow it (BatchNormalization, activation, pooling), with the channel
// counts it has in the model as the top of the grid.
type probeConfig struct {
	conv       *dnn.Node
	tail       []*dnn.Node
	c, h, w    int  // input shape in the model
	fixedInput bool // the graph input feeds it: its input channels are the data's
}

// Sweep measures single-layer probe models at a grid of channel widths for
// each distinct convolution of graphs (kernel, stride, padding, input size
// and the layers fused after it): a probe is the convolution and its tail,
// then global average pooling and a two-class Dense layer, so that it is a
// valid Graph. It then measures each graph and opts.Variants randomly
// pruned variants of it whole (keep ratios uniform in [0.2, 1] per
// dnn.Graph.ConvGroups group; see sweepNetworks), against which
// profiles.FitPredictor calibrates the sum of its layers. Input widths range
// over [1, C] (fixed where the graph input feeds the convolution) and output
// widths over [1, Out], drawn from seed with a third of the draws on
// multiples of 8 so that the blocked and plain kernels of ONNX Runtime are
// both covered. Each probe is timed as TimeModel times a model and
// charged to layers as MapTrace charges them.
func Sweep(graphs []*dnn.Graph, opts SweepOptions) (*SweepResult, error) {
	points := defaultInt(opts.Points, 16)
	runs := defaultInt(opts.Runs, 60)
	warmup := defaultInt(opts.Warmup, 10)
	configs, err := sweepConfigs(graphs)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "tandem-sweep-")
	if err != nil {
		return nil, fmt.Errorf("profiler: sweep: %w", err)
	}
	defer os.RemoveAll(dir)

	rng := rand.New(rand.NewPCG(opts.Seed, 0x5eed))
	res := &SweepResult{}
	var seen []probeKernel
	for ci, cfg := range configs {
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "profile: sweep %d/%d: %s (%dx%d input, %dx%d kernel, stride %d) at %d widths\n",
				ci+1, len(configs), describeTail(cfg), cfg.h, cfg.w, cfg.conv.Kernel[0], cfg.conv.Kernel[1], max(cfg.conv.Stride[0], 1), points)
		}
		for p := range points {
			cin, cout, groups := cfg.c, cfg.conv.Out, max(cfg.conv.Groups, 1)
			if p > 0 { // the first point is the model's own widths
				cin, cout, groups = cfg.draw(rng)
			}
			g, err := probeGraph(cfg, cin, cout, groups, rng.Uint64())
			if err != nil {
				return nil, err
			}
			s, tr, err := measureProbe(g, filepath.Join(dir, fmt.Sprintf("probe-%d-%d.onnx", ci, p)), opts.Threads, runs, warmup)
			if err != nil {
				return nil, err
			}
			res.Probes = append(res.Probes, *s)
			if k, ok := convKernel(tr, g.Nodes[0]); ok {
				seen = append(seen, k)
			}
		}
	}
	res.Block, res.Align = channelLayout(seen)

	if err := sweepNetworks(res, graphs, opts, rng, dir, runs, warmup); err != nil {
		return nil, err
	}
	return res, nil
}

// sweepNetworks measures each graph and opts.Variants pruned variants of it
// whole: per layer with the profiler, as TimeModel does, then their
// unprofiled latency round-robin (see roundRobin) together with the
// opts.HeldOut held-out variants, so that calibration and check see the
// same machine. The held-out widths come from their own random stream.
func sweepNetworks(res *SweepResult, graphs []*dnn.Graph, opts SweepOptions, rng *rand.Rand, dir string, runs, warmup int) error {
	variants := defaultInt(opts.Variants, 8)
	threads := max(opts.Threads, 1)
	var sessions []*hil.Session
	defer func() {
		for _, s := range sessions {
			s.Close()
		}
	}()
	open := func(path string) error {
		s, err := hil.Open(path, hil.Options{IntraOpThreads: threads})
		if err == nil {
			sessions = append(sessions, s)
		}
		return err
	}
	for gi, g := range graphs {
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "profile: sweep: %s and %d pruned variants of it, whole\n", g.Name, variants)
		}
		for v := range 1 + variants {
			net := g
			if v > 0 {
				var err error
				if net, err = WithWidths(g, RandomWidths(g, rng, minKeep, 1), rng.Uint64()); err != nil {
					return err
				}
			}
			path := filepath.Join(dir, fmt.Sprintf("network-%d-%d.onnx", gi, v))
			s, _, err := measureProbe(net, path, threads, 3*runs, warmup)
			if err != nil {
				return err
			}
			s.Name = g.Name
			if v > 0 {
				s.Name += " " + net.Meta["widths"]
			}
			res.Networks = append(res.Networks, *s)
			if err := open(path); err != nil {
				return err
			}
		}
	}
	held := rand.New(rand.NewPCG(opts.Seed, 0x4e1d))
	for i := range max(opts.HeldOut, 0) {
		g := graphs[i%len(graphs)]
		v, err := WithWidths(g, RandomWidths(g, held, minKeep, 1), held.Uint64())
		if err != nil {
			return err
		}
		specs, err := predict.LayerSpecs(v)
		if err != nil {
			return err
		}
		path := filepath.Join(dir, fmt.Sprintf("held-out-%d.onnx", i))
		if err := onnx.WriteFile(path, v); err != nil {
			return fmt.Errorf("profiler: sweep: %w", err)
		}
		res.HeldOut = append(res.HeldOut, profiles.ModelSample{Name: g.Name + " " + v.Meta["widths"], Layers: specs})
		if err := open(path); err != nil {
			return err
		}
	}
	if opts.Progress != nil {
		fmt.Fprintf(opts.Progress, "profile: sweep: %d networks and %d held-out variants round-robin, %d rounds of %d runs\n",
			len(res.Networks), len(res.HeldOut), roundRobinRounds, roundRobinRuns)
	}
	lat, err := roundRobin(sessions, roundRobinRounds, roundRobinRuns)
	if err != nil {
		return err
	}
	for i := range res.Networks {
		res.Networks[i].Latency = lat[i]
	}
	for i := range res.HeldOut {
		res.HeldOut[i].Latency = lat[len(res.Networks)+i]
	}
	return nil
}

// The round-robin measurement of whole networks: rounds over all of them,
// runs timed runs of each per round.
const (
	roundRobinRounds = 20
	roundRobinRuns   = 15
)

// minKeep is the smallest keep ratio of a pruned variant's layers.
const minKeep = 0.2

// drawWidth draws a channel count in [1, top]: a third of the time a
// multiple of 8, the alignment of blocked kernels.
func drawWidth(rng *rand.Rand, top int) int {
	if top >= 8 && rng.IntN(3) == 0 {
		return 8 * (1 + rng.IntN(top/8))
	}
	return 1 + rng.IntN(top)
}

// draw draws the channels of one probe of cfg: input and output widths and
// the group count. A depthwise convolution stays depthwise (one group per
// channel); another grouped one keeps its groups, its widths multiples of
// them.
func (cfg probeConfig) draw(rng *rand.Rand) (cin, cout, groups int) {
	g := max(cfg.conv.Groups, 1)
	switch {
	case g > 1 && g == cfg.c && cfg.conv.Out == cfg.c:
		w := drawWidth(rng, cfg.c)
		return w, w, w
	case g > 1:
		cin = cfg.c
		if !cfg.fixedInput {
			cin = g * drawWidth(rng, cfg.c/g)
		}
		return cin, g * drawWidth(rng, cfg.conv.Out/g), g
	}
	cin = cfg.c
	if !cfg.fixedInput {
		cin = drawWidth(rng, cfg.c)
	}
	return cin, drawWidth(rng, cfg.conv.Out), 1
}

// sweepConfigs collects the distinct convolutions of graphs.
func sweepConfigs(graphs []*dnn.Graph) ([]probeConfig, error) {
	var configs []probeConfig
	seen := map[string]bool{}
	for _, g := range graphs {
		shapes, err := g.Shapes()
		if err != nil {
			return nil, fmt.Errorf("profiler: sweep: %w", err)
		}
		readers := map[string][]*dnn.Node{}
		for _, n := range g.Nodes {
			for _, in := range n.Inputs {
				readers[in] = append(readers[in], n)
			}
		}
		for _, n := range g.Nodes {
			if n.Op != dnn.OpConv {
				continue
			}
			in := shapes[n.Inputs[0]]
			cfg := probeConfig{conv: n, c: in[0], h: in[1], w: in[2], fixedInput: n.Inputs[0] == g.Input}
			for cur := n.Name; len(readers[cur]) == 1; {
				next := readers[cur][0]
				if next.Op != dnn.OpBatchNorm && next.Op != dnn.OpReLU && next.Op != dnn.OpMaxPool && next.Op != dnn.OpAvgPool {
					break
				}
				cfg.tail = append(cfg.tail, next)
				cur = next.Name
			}
			key := fmt.Sprintf("%d %d %d %v %v %v %d %d %v %s", cfg.c, cfg.h, cfg.w, n.Kernel, n.Stride, n.Pad, max(n.Groups, 1), n.Out, cfg.fixedInput, describeTail(cfg))
			if !seen[key] {
				seen[key] = true
				configs = append(configs, cfg)
			}
		}
	}
	if len(configs) == 0 {
		return nil, fmt.Errorf("profiler: sweep: the models have no Conv layer to sweep")
	}
	return configs, nil
}

func describeTail(cfg probeConfig) string {
	ops := []string{string(cfg.conv.Op)}
	for _, n := range cfg.tail {
		ops = append(ops, string(n.Op))
	}
	return strings.Join(ops, "+")
}

// probeGraph builds the probe of cfg with cin input and cout output
// channels in groups: the convolution, its tail, global average pooling,
// Flatten and a two-class Dense layer.
func probeGraph(cfg probeConfig, cin, cout, groups int, seed uint64) (*dnn.Graph, error) {
	g := &dnn.Graph{Name: "probe", Input: "input", InputShape: []int{cin, cfg.h, cfg.w}, Classes: 2,
		Meta: map[string]string{"probe": describeTail(cfg)}}
	conv := *cfg.conv
	conv.Name, conv.Inputs = "conv", []string{"input"}
	conv.Groups = groups
	conv.W, conv.B = dnn.NewTensor(cout, cin/groups, conv.Kernel[0], conv.Kernel[1]), nil
	if cfg.conv.B != nil {
		conv.B = dnn.NewTensor(cout)
	}
	conv.Out = cout
	g.Nodes = append(g.Nodes, &conv)
	prev := "conv"
	for i, t := range cfg.tail {
		n := *t
		n.Name, n.Inputs = fmt.Sprintf("%s%d", strings.ToLower(string(t.Op)), i), []string{prev}
		if t.Op == dnn.OpBatchNorm {
			n.Scale, n.Bias, n.Mean, n.Var = dnn.NewTensor(cout), dnn.NewTensor(cout), dnn.NewTensor(cout), dnn.NewTensor(cout)
		}
		g.Nodes = append(g.Nodes, &n)
		prev = n.Name
	}
	g.Nodes = append(g.Nodes,
		&dnn.Node{Name: "gap", Op: dnn.OpGlobalAvgPool, Inputs: []string{prev}},
		&dnn.Node{Name: "flatten", Op: dnn.OpFlatten, Inputs: []string{"gap"}},
		&dnn.Node{Name: "fc", Op: dnn.OpDense, Inputs: []string{"flatten"}, Out: 2, W: dnn.NewTensor(2, cout), B: dnn.NewTensor(2)})
	// Weights drawn afresh, BatchNormalization as the identity: only the
	// shapes matter to the time, but all-zero weights could hit fast paths.
	return WithWidths(g, nil, seed)
}

// measureProbe writes g to path, times it and charges its profile to its
// layers.
func measureProbe(g *dnn.Graph, path string, threads, runs, warmup int) (*profiles.ModelSample, *ORTTrace, error) {
	if err := onnx.WriteFile(path, g); err != nil {
		return nil, nil, fmt.Errorf("profiler: sweep: %w", err)
	}
	t, err := TimeModel(path, Options{Threads: threads, Runs: runs, Warmup: warmup})
	if err != nil {
		return nil, nil, err
	}
	s, err := ModelSampleOf(path, g, t)
	if err != nil {
		return nil, nil, err
	}
	return s, t.Trace, nil
}

// ModelSampleOf turns the timing of the model in the file path, whose graph
// is g, into a sample for profiles.FitPredictor.
func ModelSampleOf(path string, g *dnn.Graph, t *Timing) (*profiles.ModelSample, error) {
	layers, err := ReadModelLayers(path)
	if err != nil {
		return nil, err
	}
	lp, err := MapTrace(t.Trace, layers, t.Latency.P50)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	specs, err := predict.LayerSpecs(g)
	if err != nil {
		return nil, err
	}
	byName := map[string]*LayerTiming{}
	for i := range lp.Layers {
		byName[lp.Layers[i].Name] = &lp.Layers[i]
	}
	s := &profiles.ModelSample{Name: filepath.Base(path), Layers: specs, Latency: t.Latency.P50,
		Profiled: make([]time.Duration, len(specs)), Nodes: make([]int, len(specs))}
	for i, n := range g.Nodes {
		if l := byName[n.Name]; l != nil {
			s.Profiled[i], s.Nodes[i] = l.Profiled, len(l.Nodes)
		}
	}
	return s, nil
}

// probeKernel is how ONNX Runtime ran a probe's convolution.
type probeKernel struct {
	in, out int  // the convolution's channels
	ranOut  int  // output channels as run: padded to a block when blocked
	blocked bool // run as an NCHWc kernel
}

// convKernel finds the probe convolution conv among the nodes of the
// trace's last run: the first convolution kernel. ONNX Runtime names its
// blocked kernels "<output>_nchwc".
func convKernel(tr *ORTTrace, conv *dnn.Node) (probeKernel, bool) {
	if len(tr.Runs) == 0 {
		return probeKernel{}, false
	}
	for _, e := range tr.Runs[len(tr.Runs)-1] {
		if !strings.Contains(e.Op, "Conv") || len(e.Outputs) == 0 || len(e.Outputs[0]) != 4 {
			continue
		}
		k := probeKernel{in: conv.W.Shape[1] * max(conv.Groups, 1), out: conv.Out, ranOut: int(e.Outputs[0][1])}
		k.blocked = strings.HasSuffix(e.Name, "_nchwc") || k.ranOut > k.out
		return k, true
	}
	return probeKernel{}, false
}

// channelLayout infers ONNX Runtime's NCHWc block B and alignment A from
// the probes' kernels: B is the smallest power of two for which every
// blocked kernel's output channels are its channels rounded up to a
// multiple of B; A the largest power of two up to B for which the kernels
// with at least B input channels were blocked exactly when their input
// channels were a multiple of A (B when none fits). Both are 0 when no
// kernel was blocked.
func channelLayout(kernels []probeKernel) (block, align int) {
	for b := 2; b <= 256 && block == 0; b *= 2 {
		any, ok := false, true
		for _, k := range kernels {
			if k.blocked {
				any = true
				ok = ok && (k.out+b-1)/b*b == k.ranOut
			}
		}
		if !any {
			return 0, 0
		}
		if ok {
			block = b
		}
	}
	if block == 0 {
		return 0, 0
	}
	align = block
	for a := block; a >= 1; a /= 2 {
		ok := true
		for _, k := range kernels {
			if k.in >= block && k.blocked != (k.in%a == 0) {
				ok = false
				break
			}
		}
		if ok {
			align = a
			break
		}
	}
	return block, align
}
