package profiler

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/dnn"
)

func zoo(t testing.TB, arch string) *dnn.Graph {
	t.Helper()
	g, err := dnn.Zoo(arch, []int{1, 28, 28}, 10, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestConvGroups(t *testing.T) {
	tests := []struct {
		arch string
		want [][]string
	}{
		{"vgg", [][]string{{"conv1"}, {"conv2"}, {"conv3"}, {"conv4"}}},
		{"resnet", [][]string{{"conv1", "layer1.0.conv2"}, {"layer1.0.conv1"}, {"layer2.0.conv1"},
			{"layer2.0.conv2", "layer2.0.down"}, {"layer3.0.conv1"}, {"layer3.0.conv2", "layer3.0.down"}}},
	}
	for _, tt := range tests {
		if got := zoo(t, tt.arch).ConvGroups(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: groups %q\nwant %q", tt.arch, got, tt.want)
		}
	}
}

func TestWithWidths(t *testing.T) {
	g := zoo(t, "resnet")
	rng := rand.New(rand.NewPCG(3, 4))
	for range 5 {
		w := RandomWidths(g, rng, 0.2, 1)
		v, err := WithWidths(g, w, 9)
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range w {
			if n := v.Node(name); n.Out != want || n.W.Shape[0] != want {
				t.Errorf("%s: %d outputs, weights %v; want %d", name, n.Out, n.W.Shape, want)
			}
		}
		if g.Node("conv1").Out != 16 {
			t.Fatal("WithWidths changed its input graph")
		}
		if fc := v.Node("fc"); fc.W.Shape[1] != w["layer3.0.conv2"] {
			t.Errorf("fc reads %d features, want layer3's %d channels", fc.W.Shape[1], w["layer3.0.conv2"])
		}
		if !strings.Contains(v.Meta["widths"], "layer2.0.down=") {
			t.Errorf("provenance %q lacks the widths", v.Meta["widths"])
		}
	}
	for _, tt := range []struct {
		name   string
		widths map[string]int
		want   string
	}{
		{"not a conv", map[string]int{"layer1.0.bn1": 3}, `"layer1.0.bn1" is not a Conv layer`},
		{"zero", map[string]int{"conv1": 0}, "width 0 for conv1"},
		{"tie broken", map[string]int{"layer2.0.conv2": 8}, "adds inputs of unequal shapes"},
	} {
		if _, err := WithWidths(g, tt.widths, 1); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestChannelLayout(t *testing.T) {
	k := func(in, out, ran int, blocked bool) probeKernel { return probeKernel{in, out, ran, blocked} }
	tests := []struct {
		name         string
		kernels      []probeKernel
		block, align int
	}{
		{"none blocked", []probeKernel{k(3, 8, 8, false)}, 0, 0},
		{"avx-512", []probeKernel{k(1, 5, 16, true), k(16, 18, 32, true), k(20, 32, 32, true), k(18, 8, 8, false), k(24, 4, 16, true)}, 16, 4},
		{"only aligned inputs", []probeKernel{k(1, 5, 16, true), k(32, 16, 16, true)}, 16, 16},
		{"avx2", []probeKernel{k(1, 5, 8, true), k(12, 9, 16, true), k(10, 4, 4, false)}, 8, 4},
	}
	for _, tt := range tests {
		if b, a := channelLayout(tt.kernels); b != tt.block || a != tt.align {
			t.Errorf("%s: block %d, align %d; want %d, %d", tt.name, b, a, tt.block, tt.align)
		}
	}
}

func TestProbeDraw(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	depthwise := probeConfig{conv: &dnn.Node{Op: dnn.OpConv, Out: 32, Groups: 32}, c: 32}
	grouped := probeConfig{conv: &dnn.Node{Op: dnn.OpConv, Out: 64, Groups: 4}, c: 32}
	first := probeConfig{conv: &dnn.Node{Op: dnn.OpConv, Out: 16}, c: 3, fixedInput: true}
	for range 50 {
		if in, out, g := depthwise.draw(rng); in != out || g != in || in < 1 || in > 32 {
			t.Fatalf("depthwise draw %d, %d, %d groups", in, out, g)
		}
		if in, out, g := grouped.draw(rng); g != 4 || in%4 != 0 || out%4 != 0 || in > 32 || out > 64 || in < 4 {
			t.Fatalf("grouped draw %d, %d, %d groups", in, out, g)
		}
		if in, out, g := first.draw(rng); in != 3 || g != 1 || out < 1 || out > 16 {
			t.Fatalf("draw for the first layer %d, %d, %d groups: its input is the data's", in, out, g)
		}
	}
}
