package offload

import (
	"math"
	"math/rand/v2"
	"testing"
)

// naiveFeatures is the textbook definition, valid for small logits only.
func naiveFeatures(logits []float32) (maxProb, margin, entropy float64) {
	p := make([]float64, len(logits))
	var sum float64
	for i, l := range logits {
		p[i] = math.Exp(float64(l))
		sum += p[i]
	}
	var first, second float64
	for i := range p {
		p[i] /= sum
		if p[i] > first {
			first, second = p[i], first
		} else if p[i] > second {
			second = p[i]
		}
		if p[i] > 0 {
			entropy -= p[i] * math.Log(p[i])
		}
	}
	return first, first - second, entropy
}

func TestFeatures(t *testing.T) {
	h34 := -(0.75*math.Log(0.75) + 0.25*math.Log(0.25))
	pe := 1 / (1 + math.Exp(-1))
	tests := []struct {
		name                     string
		logits                   []float32
		maxProb, margin, entropy float64
	}{
		{"uniform", []float32{0, 0, 0, 0}, 0.25, 0, math.Log(4)},
		{"one class", []float32{3}, 1, 1, 0},
		{"three to one", []float32{float32(math.Log(3)), 0}, 0.75, 0.5, h34},
		{"huge logits do not overflow", []float32{1000, 0, 0}, 1, 1, 0},
		{"tiny logits do not underflow", []float32{-1000, -1000}, 0.5, 0, math.Log(2)},
		{"shift invariant", []float32{501, 500}, pe, 2*pe - 1, -(pe*math.Log(pe) + (1-pe)*math.Log(1-pe))},
		{"top not first", []float32{0, 2, 1}, 0, 0, 0}, // checked against naiveFeatures below
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mp, mg, en := Features(tt.logits)
			if tt.name == "top not first" {
				tt.maxProb, tt.margin, tt.entropy = naiveFeatures(tt.logits)
			}
			for _, c := range []struct {
				what      string
				got, want float64
			}{{"maxProb", mp, tt.maxProb}, {"margin", mg, tt.margin}, {"entropy", en, tt.entropy}} {
				if math.IsNaN(c.got) || math.Abs(c.got-c.want) > 1e-6 {
					t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
				}
			}
		})
	}
}

func TestFeaturesMatchNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		logits := make([]float32, 1+rng.IntN(20))
		for i := range logits {
			logits[i] = float32(rng.NormFloat64() * 4)
		}
		mp, mg, en := Features(logits)
		wp, wg, we := naiveFeatures(logits)
		if math.Abs(mp-wp) > 1e-9 || math.Abs(mg-wg) > 1e-9 || math.Abs(en-we) > 1e-9 {
			t.Fatalf("Features(%v) = %v %v %v, want %v %v %v", logits, mp, mg, en, wp, wg, we)
		}
	}
}

func TestFeaturesEmptyPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Features(nil) did not panic")
		}
	}()
	Features(nil)
}

func TestParseFeature(t *testing.T) {
	for _, f := range []Feature{MaxProb, Margin, Entropy} {
		got, err := ParseFeature(f.String())
		if err != nil || got != f {
			t.Errorf("ParseFeature(%q) = %v, %v", f.String(), got, err)
		}
	}
	if _, err := ParseFeature("confidence"); err == nil {
		t.Error("ParseFeature(confidence) did not fail")
	}
}

func TestNewSample(t *testing.T) {
	s := NewSample([]float32{float32(math.Log(3)), 0}, false, true)
	if math.Abs(s.MaxProb-0.75) > 1e-7 || math.Abs(s.Margin-0.5) > 1e-7 || s.EdgeCorrect || !s.CloudCorrect {
		t.Errorf("NewSample = %+v", s)
	}
}
