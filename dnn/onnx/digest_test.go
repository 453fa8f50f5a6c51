package onnx

import (
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/dnn"
)

func TestGraphDigest(t *testing.T) {
	digest := func(g *dnn.Graph) string {
		t.Helper()
		b, err := Encode(g)
		if err != nil {
			t.Fatal(err)
		}
		d, err := GraphDigest(b)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	base := digest(residualNet(1))
	if len(base) != 64 {
		t.Fatalf("digest %q: want 64 hex digits", base)
	}
	retrained := residualNet(2) // other weights, statistics and metadata
	retrained.Name, retrained.Meta["seed"] = "resnet-tiny-2", "8"
	window := residualNet(1) // avg1: 1×1 windows, unpadded, for 3×3 padded by 1
	window.Nodes[8].Kernel, window.Nodes[8].Pad = [2]int{1, 1}, [4]int{}
	renamed := residualNet(1)
	renamed.Nodes[len(renamed.Nodes)-1].Name = "classifier"
	strided := residualNet(1)
	strided.Nodes[3].Stride = [2]int{1, 1}
	tests := []struct {
		name string
		g    *dnn.Graph
		same bool
	}{
		{"other weights and metadata", retrained, true},
		{"another pooling window", window, false},
		{"a renamed layer", renamed, false},
		{"another stride", strided, false},
	}
	for _, tc := range tests {
		if got := digest(tc.g); (got == base) != tc.same {
			t.Errorf("%s: digest %.12s, base %.12s: want same %v", tc.name, got, base, tc.same)
		}
	}
	if _, err := GraphDigest([]byte("not a model")); err == nil || !strings.Contains(err.Error(), "graph digest") {
		t.Errorf("bad bytes: err = %v", err)
	}
}
