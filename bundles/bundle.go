// Package bundles owns the bundle: a folder holding a heavy (cloud) model, its
// edge model, the per-sample outcomes of both on held-out data, the offloader
// and the reports that made them, with provenance. It loads bundles from disk
// or from the built-ins embedded in the binary; it runs no model.
package bundles

// Outcome is what both models did on one held-out sample. The simulator
// replays outcomes: accuracy in tandem is never modelled, only time.
type Outcome struct {
	Sample    int       // index of the sample in the bundle's held-out set
	Label     int       // true class
	EdgePred  int       // edge model's predicted class
	CloudPred int       // heavy model's predicted class
	MaxProb   float64   // edge model's largest softmax probability
	Margin    float64   // edge model's top-1 minus top-2 probability
	Entropy   float64   // edge model's softmax entropy, in nats
	Logits    []float32 // edge model's raw logits
}

// EdgeCorrect reports whether the edge model answered the sample right.
func (o *Outcome) EdgeCorrect() bool { return o.EdgePred == o.Label }

// CloudCorrect reports whether the heavy model answered the sample right.
func (o *Outcome) CloudCorrect() bool { return o.CloudPred == o.Label }
