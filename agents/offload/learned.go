package offload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// OffloaderFormat is the format line of an offloader file.
const OffloaderFormat = "tandem-offloader/1"

// Offloader is a trained offloading classifier: a small multilayer
// perceptron that scores, from the edge model's output alone, how likely it
// is that the cloud model would answer correctly where the edge did not. A
// request goes to the cloud when its score reaches Threshold.
//
// Its input is the edge model's softmax probabilities in class order, then
// max_prob, margin and entropy, and, when Embedding is set, that many of
// the edge model's features before its classifier (Sample.Embedding), each
// standardised by Mean and Std. The class probabilities let it learn which
// answers the edge model gets wrong (a shirt called a T-shirt) and not only
// how unsure it is.
//
// offloader.json holds this struct as JSON.
type Offloader struct {
	Format  string   `json:"format"`  // OffloaderFormat
	Classes int      `json:"classes"` // the edge model's classes
	Inputs  []string `json:"inputs"`  // the features, in order (documentation; fixed by Classes and Embedding)
	// Embedding is how many of the edge model's features before its
	// classifier the offloader reads after the softmax features; 0: none.
	Embedding int         `json:"embedding,omitempty"`
	Mean      []float64   `json:"mean"` // per input
	Std       []float64   `json:"std"`  // per input, > 0
	W1        [][]float64 `json:"w1"`   // hidden × inputs
	B1        []float64   `json:"b1"`   // hidden
	W2        []float64   `json:"w2"`   // hidden
	B2        float64     `json:"b2"`
	Threshold float64     `json:"threshold"` // offload when the score is at least this, in [0, 1]
	// Target says what a score of 1 means, for people reading the file.
	Target string `json:"target"`
	// Training records how the offloader was made: data, seeds, settings,
	// and how the threshold was chosen.
	Training map[string]any `json:"training,omitempty"`
}

// InputCount is the length of the input vector for a model of c classes
// and an embedding of e features.
func InputCount(classes, embedding int) int { return classes + 3 + embedding }

func inputNames(classes, embedding int) []string {
	names := make([]string, 0, InputCount(classes, embedding))
	for i := range classes {
		names = append(names, fmt.Sprintf("p%d", i))
	}
	names = append(names, "max_prob", "margin", "entropy")
	for i := range embedding {
		names = append(names, fmt.Sprintf("f%d", i))
	}
	return names
}

// inputs writes sample s's raw (unstandardised) input vector into dst, which
// has InputCount(len(s.Logits), e) elements, the last e of them from
// s.Embedding.
func inputs(s *Sample, dst []float64) {
	m := s.Logits[0]
	for _, l := range s.Logits[1:] {
		m = max(m, l)
	}
	var sum float64
	k := len(s.Logits)
	for i, l := range s.Logits {
		dst[i] = math.Exp(float64(l - m))
		sum += dst[i]
	}
	for i := range k {
		dst[i] /= sum
	}
	dst[k], dst[k+1], dst[k+2] = s.MaxProb, s.Margin, s.Entropy
	for i := range dst[k+3:] {
		dst[k+3+i] = float64(s.Embedding[i])
	}
}

// score is the network's output for a standardised input x, using h as
// scratch of the hidden width.
func (o *Offloader) score(x, h []float64) float64 {
	z := o.B2
	for j, w := range o.W1 {
		a := o.B1[j]
		for i, v := range x {
			a += float64(w[i] * v) // rounded apart: the same score on every architecture
		}
		h[j] = max(a, 0)
		z += float64(o.W2[j] * h[j])
	}
	return sigmoid(z)
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// Score returns the offloader's score of a sample, in [0, 1]. It allocates;
// the policy NewLearned returns does not.
func (o *Offloader) Score(s *Sample) float64 {
	x := make([]float64, len(o.Mean))
	o.standardised(s, x)
	return o.score(x, make([]float64, len(o.B1)))
}

func (o *Offloader) standardised(s *Sample, x []float64) {
	inputs(s, x)
	for i := range x {
		x[i] = (x[i] - o.Mean[i]) / o.Std[i]
	}
}

// Learned is the policy of a trained offloader. It keeps scratch space, so
// each device (each goroutine) needs its own: see NewLearned.
type Learned struct {
	o    *Offloader
	x, h []float64
}

// NewLearned returns a policy that offloads the samples o scores at or above
// its threshold.
func NewLearned(o *Offloader) *Learned {
	return &Learned{o: o, x: make([]float64, len(o.Mean)), h: make([]float64, len(o.B1))}
}

func (l *Learned) Name() string    { return KindLearned }
func (l *Learned) EdgeFirst() bool { return true }

// Decide sends the sample to the cloud when its score reaches the threshold.
// It panics when the sample's logits do not match the offloader's classes;
// the simulator checks that once, when it loads the offloader.
func (l *Learned) Decide(s *Sample, _ *Context) Decision {
	if l.score(s) >= l.o.Threshold {
		return Cloud
	}
	return Edge
}

// score is the offloader's score of s, in the policy's scratch space.
func (l *Learned) score(s *Sample) float64 {
	if len(s.Logits) != l.o.Classes || len(s.Embedding) < l.o.Embedding {
		panic(fmt.Sprintf("offload: learned policy for %d classes and %d features given %d logits and %d features", l.o.Classes, l.o.Embedding, len(s.Logits), len(s.Embedding)))
	}
	l.o.standardised(s, l.x)
	return l.o.score(l.x, l.h)
}

// DecodeOffloader reads and checks an offloader file; name is for messages.
// Unknown fields, missing weights, shapes that disagree and numbers that are
// not finite are errors naming the field.
func DecodeOffloader(name string, b []byte) (*Offloader, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var o Offloader
	if err := dec.Decode(&o); err != nil {
		return nil, fmt.Errorf("%s: %w", name, jsonError(b, err))
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: more than one JSON value; want one object", name)
	}
	if err := o.Check(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &o, nil
}

// jsonError adds the line and column to a JSON syntax or type error.
func jsonError(b []byte, err error) error {
	var off int64
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off = syn.Offset
	case errors.As(err, &typ):
		off = typ.Offset
	default:
		return err
	}
	off = min(max(off, 0), int64(len(b)))
	line := 1 + bytes.Count(b[:off], []byte("\n"))
	col := off - int64(bytes.LastIndexByte(b[:off], '\n'))
	return fmt.Errorf("line %d, column %d: %w", line, col, err)
}

// Check reports the first inconsistency of an offloader: a wrong format, a
// shape that does not match its classes, or a number that is not finite.
func (o *Offloader) Check() error {
	if o.Format != OffloaderFormat {
		return fmt.Errorf("format: want %q, got %q", OffloaderFormat, o.Format)
	}
	if o.Classes < 2 {
		return fmt.Errorf("classes: want at least 2, got %d", o.Classes)
	}
	if o.Embedding < 0 {
		return fmt.Errorf("embedding: want a count of features, got %d", o.Embedding)
	}
	n, h := InputCount(o.Classes, o.Embedding), len(o.B1)
	if h == 0 {
		return errors.New("b1: want one bias per hidden unit, got none")
	}
	for _, v := range []struct {
		field string
		got   int
		want  int
	}{{"inputs", len(o.Inputs), n}, {"mean", len(o.Mean), n}, {"std", len(o.Std), n}, {"w1", len(o.W1), h}, {"w2", len(o.W2), h}} {
		if v.got != v.want {
			return fmt.Errorf("%s: want %d values for %d classes, %d features and %d hidden units, got %d", v.field, v.want, o.Classes, o.Embedding, h, v.got)
		}
	}
	for j, row := range o.W1 {
		if len(row) != n {
			return fmt.Errorf("w1[%d]: want %d weights, got %d", j, n, len(row))
		}
		if err := finite(fmt.Sprintf("w1[%d]", j), row); err != nil {
			return err
		}
	}
	for _, v := range []struct {
		field string
		xs    []float64
	}{{"mean", o.Mean}, {"std", o.Std}, {"b1", o.B1}, {"w2", o.W2}, {"b2", []float64{o.B2}}} {
		if err := finite(v.field, v.xs); err != nil {
			return err
		}
	}
	for i, s := range o.Std {
		if !(s >= minStd) {
			return fmt.Errorf("std[%d]: must be at least %g, got %g", i, minStd, s)
		}
	}
	if !(o.Threshold >= 0 && o.Threshold <= 1) {
		return fmt.Errorf("threshold: must be from 0 to 1, got %g", o.Threshold)
	}
	return nil
}

// Bounds on an offloader's numbers. Trained ones are far inside them; they
// keep every score finite, whatever the file says: with |x| ≤ 1e15 after
// standardising, no sum in the network can overflow.
const (
	maxWeight = 1e6
	minStd    = 1e-9
)

func finite(field string, xs []float64) error {
	for i, x := range xs {
		if !(math.Abs(x) <= maxWeight) {
			return fmt.Errorf("%s[%d]: want a finite number of magnitude at most %g, got %g", field, i, float64(maxWeight), x)
		}
	}
	return nil
}

// Encode writes o as indented JSON, the form of offloader.json.
func (o *Offloader) Encode() ([]byte, error) {
	if err := o.Check(); err != nil {
		return nil, fmt.Errorf("offload: encode offloader: %w", err)
	}
	b, err := json.MarshalIndent(o, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
