package dnn

import "testing"

func TestFeatures(t *testing.T) {
	g, err := Zoo("resnet20", []int{1, 28, 28}, 10, 0.5, 1)
	if err != nil {
		t.Fatal(err)
	}
	f, err := g.Features()
	if err != nil {
		t.Fatal(err)
	}
	if f.Classes != 32 || f.Output() != "flatten" || len(f.Nodes) != len(g.Nodes)-1 || g.Classes != 10 {
		t.Fatalf("features: %d wide after %s; the model keeps %d classes", f.Classes, f.Output(), g.Classes)
	}
	// The features are what the classifier reads: applying it to them
	// gives the model's logits.
	x := make([]float32, 2*784)
	for i := range x {
		x[i] = float32(i%17) / 17
	}
	logits, feats := make([]float32, 20), make([]float32, 64)
	gn, _ := NewNet(g, 2)
	gn.Forward(logits, x, 2, false)
	fn, _ := NewNet(f, 2)
	fn.Forward(feats, x, 2, false)
	fc := g.Nodes[len(g.Nodes)-1]
	for s := range 2 {
		for c := range 10 {
			z := fc.B.Data[c]
			for j := range 32 {
				z += fc.W.Data[c*32+j] * feats[s*32+j]
			}
			if d := z - logits[s*10+c]; d > 1e-4 || d < -1e-4 {
				t.Fatalf("sample %d class %d: classifier on the features %g, the model %g", s, c, z, logits[s*10+c])
			}
		}
	}
	if _, err := (&Graph{Name: "x", Input: "in", InputShape: []int{4}, Classes: 2, Nodes: []*Node{{Name: "fc", Op: OpDense, Inputs: []string{"in"}, Out: 2, W: NewTensor(2, 4), B: NewTensor(2)}}}).Features(); err == nil {
		t.Error("a lone Dense on the input has no features: no error")
	}
}
