package hil

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/onnx"
)

// TestGoAndORTAgree runs every zoo architecture, and the built-in bundle's
// trained models, through tandem's Go forward pass and through ONNX Runtime
// from the exported ONNX file: the logits must agree to 1e-4.
func TestGoAndORTAgree(t *testing.T) {
	requireORT(t)
	type model struct {
		name string
		g    *dnn.Graph
	}
	var models []model
	for _, arch := range dnn.ZooArchs() {
		for _, width := range []float64{1, 0.5} {
			g, err := dnn.Zoo(arch, []int{1, 28, 28}, 10, width, 7)
			if err != nil {
				t.Fatal(err)
			}
			perturb(g, 11)
			models = append(models, model{arch + "@" + strconv.FormatFloat(width, 'g', -1, 64), g})
		}
	}
	for _, which := range []string{"heavy", "edge"} {
		g, err := onnx.ReadFile(filepath.Join("..", "bundles", "fashion", which+".onnx"))
		if err != nil {
			t.Fatalf("built-in bundle's %s model: %v", which, err)
		}
		models = append(models, model{"fashion/" + which, g})
	}

	const batch = 8
	for _, m := range models {
		t.Run(m.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			k := 28 * 28
			x := make([]float32, batch*k)
			for i := range x {
				x[i] = rng.Float32()
			}
			net, err := dnn.NewNet(m.g, batch)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]float32, batch*m.g.Classes)
			net.Forward(want, x, batch, false)

			b, err := onnx.Encode(m.g)
			if err != nil {
				t.Fatal(err)
			}
			s, err := OpenBytes(m.name, b, Options{IntraOpThreads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			// ORT sees the model's input, so the normalisation Forward applies
			// is applied here first.
			xn := normalise(x, m.g)
			got := make([]float32, len(want))
			if err := s.Run(got, xn, batch); err != nil {
				t.Fatal(err)
			}
			worst := 0.0
			for i := range want {
				worst = math.Max(worst, math.Abs(float64(got[i]-want[i])))
			}
			if worst > 1e-4 {
				t.Errorf("max |Go − ORT| = %.3g over %d logits, want ≤ 1e-4", worst, len(want))
			}
			t.Logf("max |Go − ORT| = %.3g", worst)
		})
	}
}

// perturb gives BatchNorm layers non-trivial statistics and affine terms,
// so that a disagreement in how either side applies them shows.
func perturb(g *dnn.Graph, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	for _, n := range g.Nodes {
		if n.Op != dnn.OpBatchNorm {
			continue
		}
		for i := range n.Mean.Data {
			n.Scale.Data[i] = 0.5 + rng.Float32()
			n.Bias.Data[i] = rng.Float32() - 0.5
			n.Mean.Data[i] = 0.2 * (rng.Float32() - 0.5)
			n.Var.Data[i] = 0.5 + rng.Float32()
		}
	}
	g.InputMean, g.InputStd = []float32{0.3}, []float32{0.35}
}

func normalise(x []float32, g *dnn.Graph) []float32 {
	out := make([]float32, len(x))
	copy(out, x)
	if len(g.InputMean) == 0 {
		return out
	}
	c, hw := g.InputShape[0], g.InputShape[1]*g.InputShape[2]
	for i := range out {
		ch := i / hw % c
		out[i] = (out[i] - g.InputMean[ch]) / g.InputStd[ch]
	}
	return out
}
