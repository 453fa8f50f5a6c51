package dnn

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// silence zeroes, in g, every output channel of each Conv in keep that keep
// does not list: its filters, bias, and the BatchNormalization scale and
// shift after it, so that the channel is 0 after BN (and after ReLU).
func silence(g *Graph, keep map[string][]int) {
	for name, idx := range keep {
		n := g.Node(name)
		per := len(n.W.Data) / n.Out
		for c := range n.Out {
			if slices.Contains(idx, c) {
				continue
			}
			clear(n.W.Data[c*per : (c+1)*per])
			if n.B != nil {
				n.B.Data[c] = 0
			}
			for _, m := range g.Nodes {
				if m.Op == OpBatchNorm && m.Inputs[0] == name {
					m.Scale.Data[c], m.Bias.Data[c] = 0, 0
				}
			}
		}
	}
}

func forward(t *testing.T, g *Graph, x []float32, n int) []float32 {
	t.Helper()
	net, err := NewNet(g, n)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, n*g.Classes)
	net.Forward(out, x, n, false)
	return out
}

// TestPruneKeepsWhatTheChannelsComputed silences some channels of each
// zoo network, prunes exactly those away, and checks that the pruned
// network gives the silenced one's logits: Prune moved every kept weight
// to its place.
func TestPruneKeepsWhatTheChannelsComputed(t *testing.T) {
	for _, arch := range []string{"vgg", "resnet", "tiny"} {
		t.Run(arch, func(t *testing.T) {
			g, err := Zoo(arch, []int{1, 16, 16}, 10, 0.5, 3)
			if err != nil {
				t.Fatal(err)
			}
			// Nonzero BN statistics, so that a misplaced one shows.
			rng := rand.New(rand.NewPCG(1, 2))
			for _, n := range g.Nodes {
				if n.Op == OpBatchNorm {
					for i := range n.Mean.Data {
						n.Mean.Data[i] = float32(0.1 * rng.NormFloat64())
						n.Var.Data[i] = float32(0.5 + rng.Float64())
						n.Bias.Data[i] = float32(0.1 * rng.NormFloat64())
					}
				}
			}
			keep := map[string][]int{}
			for _, group := range g.ConvGroups() {
				out := g.Node(group[0]).Out
				var idx []int
				for c := range out {
					if rng.Float64() < 0.6 || c == out-1 {
						idx = append(idx, c)
					}
				}
				for _, name := range group {
					keep[name] = idx
				}
			}
			silenced := g.Clone()
			silence(silenced, keep)
			pruned, err := Prune(silenced, keep)
			if err != nil {
				t.Fatal(err)
			}
			if pruned.Params() >= g.Params() {
				t.Errorf("pruned %d params, original %d", pruned.Params(), g.Params())
			}
			x := make([]float32, 4*256)
			for i := range x {
				x[i] = rng.Float32()
			}
			want, got := forward(t, silenced, x, 4), forward(t, pruned, x, 4)
			for i := range want {
				if math.Abs(float64(got[i]-want[i])) > 1e-4 {
					t.Fatalf("logit %d: pruned %v, silenced original %v", i, got[i], want[i])
				}
			}
		})
	}
}

func TestL1Channels(t *testing.T) {
	g, err := Zoo("tiny", []int{1, 8, 8}, 3, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	name := g.ConvGroups()[0][0]
	w := g.Node(name).W
	per := len(w.Data) / w.Shape[0]
	// Channels 1 and 3 have the largest filters, by magnitude; 2 and 3 tie
	// below them, and the lower index goes first.
	for c := range w.Shape[0] {
		v := float32(0.5)
		switch c {
		case 1:
			v = -2
		case 3:
			v = 2
		case 0, 2:
			v = 1
		}
		for i := range per {
			w.Data[c*per+i] = v
		}
	}
	if got := L1Channels(g, []string{name}, 2); !slices.Equal(got, []int{1, 3}) {
		t.Errorf("L1Channels(2) = %v, want [1 3]", got)
	}
	if got := L1Channels(g, []string{name}, 3); !slices.Equal(got, []int{0, 1, 3}) {
		t.Errorf("L1Channels(3) = %v, want [0 1 3] (0 before 2 on a tie)", got)
	}
}

func TestPruneErrors(t *testing.T) {
	g, err := Zoo("resnet", []int{1, 16, 16}, 10, 0.5, 3)
	if err != nil {
		t.Fatal(err)
	}
	groups := g.ConvGroups()
	var tied []string
	for _, gr := range groups {
		if len(gr) > 1 {
			tied = gr
			break
		}
	}
	if tied == nil {
		t.Fatal("resnet has no tied convolutions")
	}
	cases := []struct {
		name string
		keep map[string][]int
		want string
	}{
		{"not a conv", map[string][]int{g.Nodes[1].Name: {0}}, "is not a Conv layer"},
		{"unsorted", map[string][]int{groups[0][0]: {2, 1}}, "must be increasing indices"},
		{"out of range", map[string][]int{groups[0][0]: {0, 999}}, "must be increasing indices below"},
		{"empty", map[string][]int{groups[0][0]: {}}, "at least one"},
		{"tied differ", map[string][]int{tied[0]: {0, 1}, tied[1]: {0, 2}}, "keep different channels"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Prune(g, tc.keep); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Prune: %v, want %q", err, tc.want)
			}
		})
	}
}
