package dnn

import (
	"math"
	"slices"
	"testing"
)

func TestZoo(t *testing.T) {
	if got := ZooArchs(); !slices.Equal(got, []string{"resnet", "resnet20", "tiny", "vgg", "vgg13"}) {
		t.Errorf("ZooArchs() = %v", got)
	}
	for _, arch := range ZooArchs() {
		for _, shape := range [][]int{{1, 28, 28}, {3, 32, 32}} {
			full, err := Zoo(arch, shape, 10, 1, 1)
			if err != nil {
				t.Fatal(err)
			}
			thin, err := Zoo(arch, shape, 10, 0.25, 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(thin.Nodes) != len(full.Nodes) || 4*thin.Params() > full.Params() {
				t.Errorf("%s: width 0.25 has %d params, width 1 %d", arch, thin.Params(), full.Params())
			}
			for i, n := range full.Nodes {
				if thin.Nodes[i].Name != n.Name {
					t.Errorf("%s: node %d is %q at width 1 and %q at 0.25", arch, i, n.Name, thin.Nodes[i].Name)
				}
			}
			for _, name := range []string{"conv1", "bn1", "relu1", "flatten", "fc"} {
				if full.Node(name) == nil {
					t.Errorf("%s: no node %q", arch, name)
				}
			}
			net, err := NewNet(full, 2)
			if err != nil {
				t.Fatal(err)
			}
			x := make([]float32, 2*net.InputSize())
			for i := range x {
				x[i] = float32(i%17) / 17
			}
			logits := make([]float32, 20)
			net.Forward(logits, x, 2, false)
			for _, v := range logits {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("%s: logits %v", arch, logits)
				}
			}
		}
	}
	g, _ := Zoo("vgg", []int{1, 28, 28}, 10, 1, 1)
	if f, _ := g.FLOPs(); f < 5e6 || f > 50e6 {
		t.Errorf("vgg: %d FLOPs, want the order of 10 M", f)
	}
	r, _ := Zoo("resnet", []int{1, 28, 28}, 10, 1, 1)
	for _, name := range []string{"layer1.0.add", "layer2.0.down", "layer3.0.downbn"} {
		if r.Node(name) == nil {
			t.Errorf("resnet: no node %q", name)
		}
	}
	if r.Node("layer1.0.down") != nil {
		t.Error("resnet: the first block should keep an identity shortcut")
	}
	r20, _ := Zoo("resnet20", []int{1, 28, 28}, 10, 1, 1)
	if got := r20.Params(); got < 250_000 || got > 300_000 {
		t.Errorf("resnet20: %d params, want about 0.27 M as published", got)
	}
	// Each block's first convolution is a group of its own; each stage's
	// residual stream ties the rest.
	groups := r20.ConvGroups()
	if len(groups) != 12 {
		t.Fatalf("resnet20: %d prunable groups, want 12: %v", len(groups), groups)
	}
	want := [][]string{{"conv1", "layer1.0.conv2", "layer1.1.conv2", "layer1.2.conv2"}, {"layer1.0.conv1"}}
	for i, w := range want {
		if !slices.Equal(groups[i], w) {
			t.Errorf("resnet20: group %d is %v, want %v", i, groups[i], w)
		}
	}
	var streams [][]string
	for _, g := range groups {
		if len(g) > 1 {
			streams = append(streams, g)
		}
	}
	if len(streams) != 3 || !slices.Equal(streams[2], []string{"layer3.0.conv2", "layer3.0.down", "layer3.1.conv2", "layer3.2.conv2"}) {
		t.Errorf("resnet20: residual streams %v, want one per stage", streams)
	}
	v13, _ := Zoo("vgg13", []int{1, 28, 28}, 10, 1, 1)
	if got := len(v13.ConvGroups()); got != 10 {
		t.Errorf("vgg13: %d prunable groups, want one per convolution, 10", got)
	}
	if got := v13.Params(); got < 2_300_000 || got > 2_500_000 {
		t.Errorf("vgg13: %d params, want about 2.4 M (VGG-13 at half width)", got)
	}
	a, _ := Zoo("vgg", []int{1, 28, 28}, 10, 1, 42)
	b, _ := Zoo("vgg", []int{1, 28, 28}, 10, 1, 42)
	if !slices.Equal(a.Nodes[0].W.Data, b.Nodes[0].W.Data) {
		t.Error("one seed gave different weights")
	}
	for _, bad := range []struct {
		arch    string
		shape   []int
		classes int
		width   float64
	}{{"alexnet", []int{1, 28, 28}, 10, 1}, {"vgg", []int{28, 28}, 10, 1}, {"vgg", []int{1, 2, 2}, 10, 1}, {"vgg", []int{1, 28, 28}, 1, 1}, {"vgg", []int{1, 28, 28}, 10, -1}} {
		if _, err := Zoo(bad.arch, bad.shape, bad.classes, bad.width, 1); err == nil {
			t.Errorf("Zoo(%q, %v, %d, %g): no error", bad.arch, bad.shape, bad.classes, bad.width)
		}
	}
}
