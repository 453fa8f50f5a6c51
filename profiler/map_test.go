package profiler

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMapTraceFixtures(t *testing.T) {
	tests := []struct {
		name  string
		nodes map[string][]string // layer → ORT nodes charged to it; every other layer gets none
	}{
		{name: "tiny", nodes: map[string][]string{
			"conv1": {"relu1_nchwc", "ReorderOutput_token_5"},
			"pool1": {"pool1"},
			"conv2": {"relu2_nchwc", "ReorderOutput"},
			"gap":   {"gap"}, "flatten": {"flatten"}, "fc": {"fc"},
		}},
		{name: "resnet", nodes: map[string][]string{
			"conv1":          {"relu1_nchwc", "ReorderOutput_token_23"},
			"layer1.0.conv1": {"layer1.0.relu1_nchwc", "ReorderOutput_token_22"},
			"layer1.0.conv2": {"layer1.0.bn2_nchwc", "ReorderOutput_token_24"},
			"layer2.0.conv1": {"layer2.0.relu1_nchwc", "ReorderOutput"},
			"layer2.0.down":  {"layer2.0.downbn_nchwc"},
			"layer2.0.conv2": {"layer2.0.bn2_nchwc", "ReorderOutput_token_27"},
			"layer3.0.conv1": {"layer3.0.relu1_nchwc", "ReorderOutput_token_26"},
			"layer3.0.down":  {"layer3.0.downbn_nchwc", "ReorderOutput_token_25"},
			"layer3.0.conv2": {"layer3.0.conv2"},
			"gap":            {"gap"}, "flatten": {"flatten"}, "fc": {"fc"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			model, trace := fixturePaths(tt.name)
			tr, err := ReadORTTrace(trace)
			if err != nil {
				t.Fatal(err)
			}
			layers, err := ReadModelLayers(model)
			if err != nil {
				t.Fatal(err)
			}
			const whole = 97531 * time.Nanosecond
			p, err := MapTrace(tr, layers, whole)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Layers) != len(layers) {
				t.Fatalf("%d layers, want the model's %d", len(p.Layers), len(layers))
			}
			var sum time.Duration
			for i, l := range p.Layers {
				if l.Name != layers[i].Name {
					t.Errorf("layer %d is %s, want the model's order (%s)", i, l.Name, layers[i].Name)
				}
				if want := tt.nodes[l.Name]; !slices.Equal(l.Nodes, want) {
					t.Errorf("%s: nodes %q, want %q", l.Name, l.Nodes, want)
				}
				if (l.Latency > 0) != (len(l.Nodes) > 0) || l.Latency < 0 {
					t.Errorf("%s: latency %v with nodes %q", l.Name, l.Latency, l.Nodes)
				}
				sum += l.Latency
			}
			if sum != whole {
				t.Errorf("layer latencies sum to %v, want the whole model's %v exactly", sum, whole)
			}
			if p.ByName <= 0 || p.ByFusion <= 0 || p.ByNeighbour <= 0 {
				t.Errorf("charged by name %v, by fusion %v, to neighbours %v: want each > 0", p.ByName, p.ByFusion, p.ByNeighbour)
			}
		})
	}
}

func TestMapTraceOtherModel(t *testing.T) {
	_, trace := fixturePaths("resnet")
	tr, err := ReadORTTrace(trace)
	if err != nil {
		t.Fatal(err)
	}
	other := []ModelLayer{{Name: "dense", Op: "Gemm"}, {Name: "softmax", Op: "Softmax", Inputs: []string{"dense"}}}
	_, err = MapTrace(tr, other, time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "no node of the trace is named after a layer of the model") {
		t.Errorf("error %v, want one saying the trace is of another model", err)
	}
	if _, err := MapTrace(&ORTTrace{}, other, time.Millisecond); err == nil {
		t.Error("no error for a trace without runs")
	}
	if _, err := MapTrace(tr, other, 0); err == nil {
		t.Error("no error for a zero whole-model latency")
	}
}

// TestMapTraceFusedSum checks the weight-shape rule: a fused kernel named
// after a residual sum goes to the convolution whose weights it ran with.
func TestMapTraceFusedSum(t *testing.T) {
	layers := []ModelLayer{
		{Name: "a", Op: "Conv", Outputs: []string{"a"}, Weight: []int64{8, 4, 3, 3}},
		{Name: "b", Op: "Conv", Outputs: []string{"b"}, Weight: []int64{8, 4, 1, 1}},
		{Name: "sum", Op: "Add", Inputs: []string{"a", "b"}, Outputs: []string{"sum_out"}},
		{Name: "relu", Op: "Relu", Inputs: []string{"sum"}, Outputs: []string{"relu"}},
	}
	ev := func(name, op string, dur int, weight []int64) NodeEvent {
		return NodeEvent{Name: name, Op: op, Dur: time.Duration(dur) * time.Microsecond, Inputs: [][]int64{{1, 4, 8, 8}, weight}}
	}
	run := []NodeEvent{
		ev("ReorderInput", "ReorderInput", 1, nil),
		ev("b_nchwc", "Conv", 2, []int64{16, 4, 1, 1}),
		ev("sum_out_nchwc", "Conv", 6, []int64{16, 4, 3, 3}), // the Add, its ReLU and conv a in one kernel
		ev("ReorderOutput_token_3", "ReorderOutput", 1, nil),
	}
	p, err := MapTrace(&ORTTrace{Runs: [][]NodeEvent{run, run}}, layers, 10*time.Microsecond)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, l := range p.Layers {
		got[l.Name] = l.Nodes
	}
	want := map[string][]string{"a": {"sum_out_nchwc", "ReorderOutput_token_3"}, "b": {"ReorderInput", "b_nchwc"}}
	for _, l := range layers {
		if !slices.Equal(got[l.Name], want[l.Name]) {
			t.Errorf("%s: nodes %q, want %q", l.Name, got[l.Name], want[l.Name])
		}
	}
	if p.ByName != 2*time.Microsecond || p.ByFusion != 6*time.Microsecond || p.ByNeighbour != 2*time.Microsecond {
		t.Errorf("by name %v, fusion %v, neighbour %v; want 2µs, 6µs, 2µs", p.ByName, p.ByFusion, p.ByNeighbour)
	}
	if a, b := p.Layers[0].Latency, p.Layers[1].Latency; a != 7*time.Microsecond || b != 3*time.Microsecond {
		t.Errorf("latencies a %v, b %v; want 7µs and 3µs (10µs shared 7:3)", a, b)
	}
}

func TestWeightGap(t *testing.T) {
	tests := []struct {
		ran, w []int64
		gap    int64
		ok     bool
	}{
		{[]int64{16, 4, 3, 3}, []int64{8, 4, 3, 3}, 8, true},
		{[]int64{8, 4, 3, 3}, []int64{8, 4, 3, 3}, 0, true},
		{[]int64{16, 4, 1, 1}, []int64{8, 4, 3, 3}, 0, false}, // kernel differs
		{[]int64{4, 4, 3, 3}, []int64{8, 4, 3, 3}, 0, false},  // fewer channels than the layer
		{[]int64{16, 4}, []int64{8, 4, 3, 3}, 0, false},
	}
	for _, tt := range tests {
		gap, ok := weightGap(tt.ran, tt.w)
		if gap != tt.gap || ok != tt.ok {
			t.Errorf("weightGap(%v, %v) = %d, %v; want %d, %v", tt.ran, tt.w, gap, ok, tt.gap, tt.ok)
		}
	}
}

func TestReadModelLayers(t *testing.T) {
	model, _ := fixturePaths("resnet")
	layers, err := ReadModelLayers(model)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]ModelLayer{}
	for _, l := range layers {
		byName[l.Name] = l
	}
	add := byName["layer2.0.add"]
	if add.Op != "Add" || !slices.Equal(add.Inputs, []string{"layer2.0.bn2", "layer2.0.downbn"}) {
		t.Errorf("layer2.0.add: %+v", add)
	}
	if c := byName["layer3.0.conv2"]; c.Op != "Conv" || !slices.Equal(c.Weight, []int64{20, 18, 3, 3}) {
		t.Errorf("layer3.0.conv2: %+v, want weight [20 18 3 3]", c)
	}
	if c := byName["conv1"]; len(c.Inputs) != 0 {
		t.Errorf("conv1 reads %q; the graph input is no layer", c.Inputs)
	}
	for _, bad := range []string{"testdata/profile/resnet.ort.json", "testdata/profile/none.onnx"} {
		if _, err := ReadModelLayers(bad); err == nil {
			t.Errorf("ReadModelLayers(%s): no error", bad)
		}
	}
}
