package dnn

import (
	"slices"
	"testing"
)

func TestIdentityBlocks(t *testing.T) {
	tests := []struct {
		arch string
		adds []string
	}{
		// The first block of stages 2 and 3 project their shortcut.
		{"resnet20", []string{"layer1.0.add", "layer1.1.add", "layer1.2.add", "layer2.1.add", "layer2.2.add", "layer3.1.add", "layer3.2.add"}},
		{"vgg", nil},
	}
	for _, tt := range tests {
		g, err := Zoo(tt.arch, []int{1, 28, 28}, 10, 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		var adds []string
		for _, b := range g.IdentityBlocks() {
			adds = append(adds, b.Add)
		}
		if !slices.Equal(adds, tt.adds) {
			t.Errorf("%s: blocks closed by %v, want %v", tt.arch, adds, tt.adds)
		}
	}
	g, _ := Zoo("resnet20", []int{1, 28, 28}, 10, 1, 1)
	b := g.IdentityBlocks()[3]
	if want := []string{"layer2.1.conv1", "layer2.1.bn1", "layer2.1.relu1", "layer2.1.conv2", "layer2.1.bn2"}; !slices.Equal(b.Branch, want) || b.Shortcut != "layer2.0.relu2" {
		t.Errorf("block %+v, want branch %v after layer2.0.relu2", b, want)
	}
}

func TestBlockGroups(t *testing.T) {
	g, err := Zoo("resnet20", []int{1, 28, 28}, 10, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Groups 1-3 are the first stage's blocks; 6, 7 and 10, 11 the later
	// stages' second and third (ConvGroups' order).
	want := map[int]string{1: "layer1.0.add", 2: "layer1.1.add", 3: "layer1.2.add", 6: "layer2.1.add", 7: "layer2.2.add", 10: "layer3.1.add", 11: "layer3.2.add"}
	got := g.BlockGroups()
	if len(got) != len(want) {
		t.Fatalf("BlockGroups = %v, want %v", got, want)
	}
	for i, add := range want {
		if got[i] != add {
			t.Errorf("group %d: %q, want %q", i, got[i], add)
		}
	}
}

func TestDropBlocks(t *testing.T) {
	g, err := Zoo("resnet20", []int{1, 28, 28}, 10, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	d, err := DropBlocks(g, []string{"layer3.1.add", "layer3.2.add"})
	if err != nil {
		t.Fatal(err)
	}
	// Each 64-channel block held two 3×3 convolutions and two BatchNorms.
	perBlock := int64(2*64*64*9 + 2*2*64)
	if got, want := d.Params(), g.Params()-2*perBlock; got != want {
		t.Errorf("params %d, want %d", got, want)
	}
	if n := d.Node("gap"); n == nil || n.Inputs[0] != "layer3.0.relu2" {
		t.Errorf("gap reads %v, want layer3.0.relu2 (both blocks gone)", n)
	}
	if d.Node("layer3.1.relu2") != nil || d.Node("layer3.2.relu2") != nil {
		t.Error("the dropped blocks' last ReLUs are still there")
	}
	if g.Node("layer3.1.conv1") == nil || d.Node("layer3.1.conv1") != nil {
		t.Error("the original lost a layer, or the copy kept one")
	}
	// The copy still runs, and keeps the output's shape.
	net, err := NewNet(d, 2)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, 20)
	net.Forward(out, make([]float32, 2*784), 2, false)

	for _, bad := range [][]string{{"layer2.0.add"}, {"nope"}, {"layer1.1.add", "layer1.1.add"}} {
		if _, err := DropBlocks(g, bad); err == nil {
			t.Errorf("DropBlocks(%v): no error", bad)
		}
	}
}
