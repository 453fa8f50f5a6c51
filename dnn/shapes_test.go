package dnn

import (
	"slices"
	"strings"
	"testing"
)

func TestShapes(t *testing.T) {
	g := testGraph(t, []int{3, 9, 8},
		convNode("c", "x", 4, 3, 2, [4]int{1, 1, 1, 1}, 1, 3, true),
		poolNode("p", "c", OpMaxPool, 2, 2, [4]int{}),
		poolNode("a", "c", OpAvgPool, 3, 1, [4]int{1, 1, 1, 1}),
		opNode("g", OpGlobalAvgPool, "a"),
		opNode("f", OpFlatten, "p"),
		denseNode("fc", "f", 5, 16, true),
	)
	shapes, err := g.Shapes()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{"x": {3, 9, 8}, "c": {4, 5, 4}, "p": {4, 2, 2}, "a": {4, 5, 4}, "g": {4, 1, 1}, "f": {16}, "fc": {5}}
	for name, w := range want {
		if !slices.Equal(shapes[name], w) {
			t.Errorf("%s: shape %v, want %v", name, shapes[name], w)
		}
	}
}

func TestShapeErrors(t *testing.T) {
	conv := func() *Node { return convNode("conv1", "x", 4, 3, 1, [4]int{1, 1, 1, 1}, 1, 3, false) }
	cases := []struct {
		name  string
		edit  func(g *Graph)
		wants []string // substrings of the error
	}{
		{"conv with two inputs", func(g *Graph) { g.Nodes[0].Inputs = []string{"x", "x"} }, []string{`"conv1"`, "2 inputs, want 1"}},
		{"conv channel mismatch", func(g *Graph) { g.Nodes[0].W = NewTensor(4, 2, 3, 3) }, []string{`"conv1"`, "W has shape [4 2 3 3], want [4 3 3 3]"}},
		{"conv groups do not divide", func(g *Graph) { g.Nodes[0].Groups = 2 }, []string{`"conv1"`, "not both divisible by 2 groups"}},
		{"conv kernel larger than input", func(g *Graph) {
			g.Nodes[0].Kernel, g.Nodes[0].Pad, g.Nodes[0].W = [2]int{7, 7}, [4]int{}, NewTensor(4, 3, 7, 7)
		}, []string{`"conv1"`, "larger than the padded"}},
		{"conv bias length", func(g *Graph) { g.Nodes[0].B = NewTensor(3) }, []string{`"conv1"`, "B has 3 values, want 4"}},
		{"batchnorm parameter length", func(g *Graph) { g.Nodes[1].Var = NewTensor(3) }, []string{`"bn1"`, "Var must hold 4 values"}},
		{"dense W mismatch", func(g *Graph) { g.Node("fc").W = NewTensor(10, 5) }, []string{`"fc"`, "W has shape [10 5], want [10 4]"}},
		{"dense on a feature map", func(g *Graph) { g.Node("fc").Inputs = []string{"relu1"} }, []string{`"fc"`, "insert a Flatten"}},
		{"add of unequal shapes", func(g *Graph) {
			g.Nodes = slices.Insert(g.Nodes, 4, opNode("sum", OpAdd, "relu1", "gap"))
		}, []string{`"sum"`, "unequal shapes [4 6 6] and [4 1 1]"}},
		{"add with one input", func(g *Graph) {
			g.Nodes = slices.Insert(g.Nodes, 3, opNode("sum", OpAdd, "relu1"))
		}, []string{`"sum"`, "1 inputs, want 2"}},
		{"unknown op", func(g *Graph) { g.Nodes[2].Op = "Softplus" }, []string{`"relu1"`, `unknown op "Softplus"`}},
		{"undefined input", func(g *Graph) { g.Nodes[2].Inputs = []string{"bn2"} }, []string{`"relu1"`, `input "bn2"`}},
		{"later node as input", func(g *Graph) { g.Nodes[2].Inputs = []string{"gap"} }, []string{`"relu1"`, `input "gap"`}},
		{"duplicate name", func(g *Graph) { g.Nodes[2].Name = "bn1" }, []string{`"bn1"`, "used twice"}},
		{"wrong class count", func(g *Graph) { g.Classes = 7 }, []string{`"fc"`, "want [7]"}},
		{"pool padding not below kernel", func(g *Graph) {
			g.Nodes = slices.Insert(g.Nodes, 3, poolNode("pool1", "relu1", OpMaxPool, 2, 2, [4]int{2, 0, 0, 0}))
		}, []string{`"pool1"`, "padding"}},
		{"dropout rate", func(g *Graph) {
			g.Nodes = slices.Insert(g.Nodes, 3, &Node{Name: "drop", Op: OpDropout, Inputs: []string{"relu1"}, Rate: 1})
		}, []string{`"drop"`, "Rate = 1"}},
		{"normalisation length", func(g *Graph) { g.InputMean, g.InputStd = []float32{0}, []float32{1} }, []string{"1 means", "want 3"}},
		{"no nodes", func(g *Graph) { g.Nodes = nil }, []string{"no nodes"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := &Graph{Name: "g", Input: "x", InputShape: []int{3, 6, 6}, Classes: 10, Nodes: []*Node{
				conv(), bnNode("bn1", "conv1", 4), opNode("relu1", OpReLU, "bn1"),
				opNode("gap", OpGlobalAvgPool, "relu1"), opNode("flat", OpFlatten, "gap"), denseNode("fc", "flat", 10, 4, true),
			}}
			if err := g.Validate(); err != nil {
				t.Fatalf("unedited graph: %v", err)
			}
			tc.edit(g)
			_, err := g.Shapes()
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestCost(t *testing.T) {
	g := testGraph(t, []int{3, 5, 5},
		convNode("c", "x", 4, 3, 1, [4]int{1, 1, 1, 1}, 1, 3, true),
		bnNode("bn", "c", 4),
		opNode("r", OpReLU, "bn"),
		convNode("dw", "r", 4, 3, 2, [4]int{1, 1, 1, 1}, 4, 4, false),
		poolNode("p", "dw", OpMaxPool, 3, 1, [4]int{}),
		opNode("f", OpFlatten, "p"),
		denseNode("fc", "f", 10, 4, true),
	)
	costs, err := g.Cost()
	if err != nil {
		t.Fatal(err)
	}
	want := []LayerCost{
		{Name: "c", Op: OpConv, FLOPs: 2 * 4 * 25 * 27, Params: 4*27 + 4, Bytes: 4 * (4*27 + 4 + 4*25)},
		{Name: "bn", Op: OpBatchNorm, FLOPs: 2 * 100, Params: 8, Bytes: 4 * (16 + 100)},
		{Name: "r", Op: OpReLU, FLOPs: 100, Bytes: 4 * 100},
		{Name: "dw", Op: OpConv, FLOPs: 2 * 4 * 9 * 9, Params: 36, Bytes: 4 * (36 + 36)},
		{Name: "p", Op: OpMaxPool, FLOPs: 4 * 9, Bytes: 4 * 4},
		{Name: "f", Op: OpFlatten, Bytes: 4 * 4},
		{Name: "fc", Op: OpDense, FLOPs: 2 * 40, Params: 50, Bytes: 4 * (50 + 10)},
	}
	if !slices.Equal(costs, want) {
		t.Errorf("costs\n%+v\nwant\n%+v", costs, want)
	}
	flops, err := g.FLOPs()
	var sumF, sumP int64
	for _, c := range want {
		sumF += c.FLOPs
		sumP += c.Params
	}
	if err != nil || flops != sumF || g.Params() != sumP {
		t.Errorf("totals %d FLOPs %d params (%v), want %d and %d", flops, g.Params(), err, sumF, sumP)
	}
}

func TestClone(t *testing.T) {
	g, err := Zoo("tiny", []int{1, 8, 8}, 3, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := g.Clone()
	c.Nodes[0].W.Data[0] += 1
	c.Nodes[0].Inputs[0] = "other"
	c.Meta["arch"] = "changed"
	if g.Nodes[0].W.Data[0] == c.Nodes[0].W.Data[0] || g.Nodes[0].Inputs[0] != "input" || g.Meta["arch"] != "tiny" {
		t.Error("changing the clone changed the original")
	}
}
