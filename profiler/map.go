package profiler

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// LayerTiming is one model layer's share of a profiled model's latency.
type LayerTiming struct {
	Name, Op string

	// Latency is the layer's share of the unprofiled whole-model latency:
	// Profiled rescaled so that the shares of all layers sum to it.
	Latency time.Duration

	// Profiled is the midmean over runs of the profiled time charged to the
	// layer (the sum of its ONNX Runtime nodes' times in each run).
	Profiled time.Duration

	// Spread is the coefficient of variation (TrimmedCV) across runs of
	// the profiled time charged to the layer.
	Spread float64

	// Nodes are the ONNX Runtime nodes charged to the layer, in execution
	// order. None: ONNX Runtime fused the layer into another's kernel (a
	// BatchNormalization folded into a Conv, an activation or residual sum
	// computed by it) or removed it.
	Nodes []string
}

// LayerProfile is a model's latency split over its layers.
type LayerProfile struct {
	Layers []LayerTiming // in the model's layer order

	// How the profiled node time (midmean per run) was charged: to the
	// layer the node is named after, to the Conv or Gemm a node named after
	// a fused layer computes, or to a neighbour (layout nodes).
	ByName, ByFusion, ByNeighbour time.Duration
}

// How an ONNX Runtime node was charged to a layer.
type charge int

const (
	chargeName      charge = iota // named after the layer
	chargeFusion                  // named after a layer fused into a Conv or Gemm
	chargeNeighbour               // a layout node, charged to the layer next to it
)

// MapTrace charges each ONNX Runtime node of the trace to one layer of the
// model and rescales the layers' profiled times to the unprofiled
// whole-model latency whole:
//
//	Latencyᵢ = Profiledᵢ · whole / Σⱼ Profiledⱼ
//
// (rounded so that the shares sum to whole exactly). Rescaling, rather than
// summing node times, is needed because the profiler slows every node down,
// small ones most.
//
// A node is charged by the following rule, tried in order:
//  1. Layout nodes the optimiser inserted (ReorderInput, ReorderOutput) go to
//     step 3.
//  2. The node's name, or its longest prefix ending before an underscore,
//     is a layer's name or one of its output tensors' names: ONNX Runtime
//     keeps a node's name through most rewrites and names an NCHWc
//     convolution "<output tensor>_nchwc". When the node is a Conv or Gemm
//     kernel but that layer is not (a BatchNormalization or activation or
//     sum the optimiser fused into the convolution and whose output the
//     fused kernel now writes), the node goes to the Conv or Gemm layer
//     reached backwards from it through layers without weights; among
//     several (a residual sum), to the one whose weight shape matches the
//     node's second input (kernel size equal, channel counts equal up to the
//     NCHWc block padding).
//  3. Otherwise the node goes to the layer of the node executed just before
//     it in the run, whose output it converts; a node that runs first goes to
//     the layer of the node after it.
//
// MapTrace fails when no node of the trace is named after a layer of the
// model: the trace is of another model.
func MapTrace(tr *ORTTrace, layers []ModelLayer, whole time.Duration) (*LayerProfile, error) {
	if len(tr.Runs) == 0 {
		return nil, fmt.Errorf("profiler: mapping ONNX Runtime nodes to layers: the trace holds no runs")
	}
	if whole <= 0 {
		return nil, fmt.Errorf("profiler: mapping ONNX Runtime nodes to layers: whole-model latency %s, want > 0", whole)
	}
	m := newMapper(layers)
	for _, run := range tr.Runs {
		m.assign(run)
	}
	for _, nodes := range m.nodesOf {
		slices.SortFunc(nodes, func(a, b string) int { return m.seen[a] - m.seen[b] })
	}
	if m.named == 0 {
		return nil, fmt.Errorf("profiler: mapping ONNX Runtime nodes to layers: no node of the trace is named after a layer of the model (first node %q): the trace is of another model",
			tr.Runs[0][0].Name)
	}

	// Per layer, its charged time in each run.
	perRun := make([][]time.Duration, len(layers))
	perNode := map[string][]time.Duration{}
	for _, run := range tr.Runs {
		sums := make([]time.Duration, len(layers))
		for _, e := range run {
			sums[m.layerOf[e.Name]] += e.Dur
			perNode[e.Name] = append(perNode[e.Name], e.Dur)
		}
		for i, s := range sums {
			perRun[i] = append(perRun[i], s)
		}
	}

	p := &LayerProfile{Layers: make([]LayerTiming, len(layers))}
	var total time.Duration
	for i, l := range layers {
		lt := LayerTiming{Name: l.Name, Op: l.Op, Nodes: m.nodesOf[i]}
		if len(lt.Nodes) > 0 {
			lt.Profiled, lt.Spread = Midmean(perRun[i]), TrimmedCV(perRun[i])
		}
		total += lt.Profiled
		p.Layers[i] = lt
	}
	for _, name := range m.order {
		d := Midmean(perNode[name])
		switch m.how[name] {
		case chargeName:
			p.ByName += d
		case chargeFusion:
			p.ByFusion += d
		default:
			p.ByNeighbour += d
		}
	}
	if total <= 0 {
		// Every node took under the profiler's microsecond: share the
		// latency equally among the layers that ran nodes.
		for i := range p.Layers {
			if len(p.Layers[i].Nodes) > 0 {
				p.Layers[i].Profiled = 1
				total++
			}
		}
	}
	var cum time.Duration
	var prev time.Duration
	for i := range p.Layers {
		cum += p.Layers[i].Profiled
		// Rounding the cumulative sum makes the shares add up to whole.
		at := time.Duration(float64(whole) * float64(cum) / float64(total))
		p.Layers[i].Latency = at - prev
		prev = at
	}
	return p, nil
}

// mapper assigns ONNX Runtime nodes to layers; see MapTrace.
type mapper struct {
	layers  []ModelLayer
	index   map[string]int // layer name or output tensor → layer
	layerOf map[string]int // ORT node → layer
	how     map[string]charge
	nodesOf [][]string
	order   []string       // ORT nodes in the order they were charged
	seen    map[string]int // ORT node → its place in execution order, first run it ran in
	named   int            // nodes charged by name or fusion
}

func newMapper(layers []ModelLayer) *mapper {
	m := &mapper{layers: layers, index: map[string]int{}, layerOf: map[string]int{}, how: map[string]charge{},
		nodesOf: make([][]string, len(layers)), seen: map[string]int{}}
	for i, l := range layers {
		for _, out := range l.Outputs {
			if _, ok := m.index[out]; !ok {
				m.index[out] = i
			}
		}
	}
	for i, l := range layers { // a layer's own name wins over another's output
		m.index[l.Name] = i
	}
	return m
}

// assign charges the nodes of one run that no earlier run had.
func (m *mapper) assign(run []NodeEvent) {
	at := make([]int, len(run)) // layer of each event, -1 while unknown
	for i, e := range run {
		at[i] = -1
		if _, ok := m.seen[e.Name]; !ok {
			m.seen[e.Name] = len(m.seen)
		}
		if l, ok := m.layerOf[e.Name]; ok {
			at[i] = l
			continue
		}
		if layoutOps[e.Op] {
			continue
		}
		if l, ok := m.byName(e.Name); ok {
			how := chargeName
			if a := m.fusedInto(l, e); a != l {
				l, how = a, chargeFusion
			}
			at[i] = l
			m.set(e.Name, l, how)
		}
	}
	for i, e := range run {
		if at[i] >= 0 {
			continue
		}
		l := -1
		for j := i - 1; j >= 0 && l < 0; j-- {
			l = at[j]
		}
		for j := i + 1; j < len(run) && l < 0; j++ {
			l = at[j]
		}
		if l < 0 {
			continue // no node of the run is known: nothing to charge it to
		}
		at[i] = l
		m.set(e.Name, l, chargeNeighbour)
	}
}

func (m *mapper) set(node string, layer int, how charge) {
	m.layerOf[node] = layer
	m.how[node] = how
	m.nodesOf[layer] = append(m.nodesOf[layer], node)
	m.order = append(m.order, node)
	if how != chargeNeighbour {
		m.named++
	}
}

// layoutOps are the nodes ONNX Runtime's NCHWc optimiser inserts to change
// a tensor's memory layout; their names come from a counter.
var layoutOps = map[string]bool{"ReorderInput": true, "ReorderOutput": true}

// byName finds the layer an ONNX Runtime node is named after: its whole
// name, else its longest prefix that ends before an underscore.
func (m *mapper) byName(name string) (int, bool) {
	for s := name; s != ""; {
		if l, ok := m.index[s]; ok {
			return l, true
		}
		i := strings.LastIndexByte(s, '_')
		if i < 0 {
			break
		}
		s = s[:i]
	}
	return 0, false
}

// weightedOps are the operators, of the ONNX file or of ONNX Runtime's
// optimised graph, whose kernels do a layer's multiply-adds.
var weightedOps = map[string]bool{
	"Conv": true, "FusedConv": true, "NchwcConv": true, "ConvTranspose": true,
	"Gemm": true, "FusedGemm": true, "MatMul": true, "FusedMatMul": true,
}

// fusedInto returns the layer whose computation node e is when e is a
// Conv or Gemm kernel named after a layer l without weights; otherwise l.
func (m *mapper) fusedInto(l int, e NodeEvent) int {
	if !weightedOps[e.Op] || weightedOps[m.layers[l].Op] {
		return l
	}
	var candidates []int
	seen := map[int]bool{l: true}
	queue := []int{l}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, in := range m.layers[cur].Inputs {
			j, ok := m.index[in]
			if !ok || seen[j] {
				continue
			}
			seen[j] = true
			if weightedOps[m.layers[j].Op] {
				candidates = append(candidates, j)
			} else {
				queue = append(queue, j)
			}
		}
	}
	switch len(candidates) {
	case 0:
		return l
	case 1:
		return candidates[0]
	}
	best, bestGap := candidates[0], int64(-1)
	if len(e.Inputs) < 2 {
		return best
	}
	for _, c := range candidates {
		if gap, ok := weightGap(e.Inputs[1], m.layers[c].Weight); ok && (bestGap < 0 || gap < bestGap) {
			best, bestGap = c, gap
		}
	}
	return best
}

// weightGap says whether ran, the weight shape a kernel ran with, can be
// the layer weight w after the optimiser's reordering, which pads channel
// counts up to a block size, and by how many channels they differ.
func weightGap(ran, w []int64) (int64, bool) {
	if len(ran) != len(w) || len(w) < 2 {
		return 0, false
	}
	var gap int64
	for i := range w {
		d := ran[i] - w[i]
		if i >= 2 && d != 0 || d < 0 {
			return 0, false // kernel sizes never change; channels only grow
		}
		gap += d
	}
	return gap, true
}
