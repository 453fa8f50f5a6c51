package dnn

import (
	"math"
	"testing"
)

// TestReconstructBringsOutputsBack prunes a trained model's inner layers and
// checks that refitting brings each cut convolution's outputs closer to the
// original's than pruning alone leaves them.
func TestReconstructBringsOutputsBack(t *testing.T) {
	train := barSet(256, 1)
	for _, arch := range []string{"vgg", "resnet"} {
		t.Run(arch, func(t *testing.T) {
			g, err := Zoo(arch, train.Shape, 3, 0.5, 1)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Train(g, train, nil, TrainConfig{Epochs: 2, BatchSize: 32, NoFlip: true, Seed: 1}, nil); err != nil {
				t.Fatal(err)
			}
			keep := map[string][]int{}
			for _, gr := range g.ConvGroups() {
				n := g.Node(gr[0]).Out
				idx := L1Channels(g, gr, max(1, n/2))
				for _, name := range gr {
					keep[name] = idx
				}
			}
			pruned, err := Prune(g, keep)
			if err != nil {
				t.Fatal(err)
			}
			refit := pruned.Clone()
			const n = 96
			if err := Reconstruct(g, refit, keep, train.X, n, 8, 1); err != nil {
				t.Fatal(err)
			}
			refitted := 0
			for _, l := range refit.Nodes {
				if l.Op != OpConv || l.W.Shape[1] == g.Node(l.Name).W.Shape[1] {
					continue
				}
				refitted++
				// Compare against the original on held-out images.
				held := train.X[n*64 : 2*n*64]
				want, _, _ := activations(g, l.Name, held, n)
				before, _, _ := activations(pruned, l.Name, held, n)
				after, _, _ := activations(refit, l.Name, held, n)
				eb, ea := keptError(want, before, keep[l.Name], g.Node(l.Name).Out, n), keptError(want, after, keep[l.Name], g.Node(l.Name).Out, n)
				t.Logf("%s: squared error %.4g before refitting, %.4g after", l.Name, eb, ea)
				if !(ea < 0.5*eb) {
					t.Errorf("%s: squared error %.4g after refitting, %.4g before", l.Name, ea, eb)
				}
			}
			if refitted == 0 {
				t.Fatal("no convolution was refitted")
			}
			if unchanged := refit.Nodes[0].W.Data; !equal32(unchanged, pruned.Nodes[0].W.Data) {
				t.Error("the first convolution, whose inputs are the image, was refitted")
			}
		})
	}
}

// keptError is the mean squared difference between the original's outputs on
// the kept channels and the pruned model's.
func keptError(orig, pruned []float32, kept []int, channels, n int) float64 {
	hw := len(orig) / n / channels
	var sum float64
	for s := range n {
		for j, c := range kept {
			for i := range hw {
				d := float64(orig[(s*channels+c)*hw+i] - pruned[(s*len(kept)+j)*hw+i])
				sum += d * d
			}
		}
	}
	return sum / float64(n*len(kept)*hw)
}

func equal32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestReconstructorReusesTheOriginal: refits through one Reconstructor,
// whose original outputs are computed once, equal Reconstruct's.
func TestReconstructorReusesTheOriginal(t *testing.T) {
	train := barSet(128, 1)
	g, err := Zoo("vgg", train.Shape, 3, 0.5, 1)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReconstructor(g, train.X, 64, 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, frac := range []int{2, 3} {
		keep := map[string][]int{}
		for _, gr := range g.ConvGroups() {
			idx := L1Channels(g, gr, max(1, g.Node(gr[0]).Out/frac))
			for _, name := range gr {
				keep[name] = idx
			}
		}
		pruned, err := Prune(g, keep)
		if err != nil {
			t.Fatal(err)
		}
		a, b := pruned.Clone(), pruned.Clone()
		if err := r.Refit(a, keep, 7); err != nil {
			t.Fatal(err)
		}
		if err := Reconstruct(g, b, keep, train.X, 64, 4, 7); err != nil {
			t.Fatal(err)
		}
		for i := range a.Nodes {
			if a.Nodes[i].W != nil && !equal32(a.Nodes[i].W.Data, b.Nodes[i].W.Data) {
				t.Errorf("1/%d kept: %s differs between the two refits", frac, a.Nodes[i].Name)
			}
		}
	}
	if _, err := NewReconstructor(g, train.X[:10], 64, 4); err == nil {
		t.Error("64 samples in 10 values: no error")
	}
}
