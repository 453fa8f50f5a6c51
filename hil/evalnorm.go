package hil

import "fmt"

// Normalizer maps pixels in [0, 1] to what a model expects: per channel,
//
//	x' = (x − mean[c]) / std[c]
//
// The zero Normalizer copies.
type Normalizer struct {
	mean, invStd []float32 // one entry per channel
	plane        int       // values per channel of one sample
}

// Normalizer returns the normalizer of the model's own metadata (a copy
// when it records none).
func (s *Session) Normalizer() (*Normalizer, error) { return newNormalizer(s, nil, nil) }

// newNormalizer takes mean and std, or, when both are nil, the model's
// metadata.
func newNormalizer(s *Session, mean, std []float32) (*Normalizer, error) {
	if mean == nil && std == nil {
		var err error
		if mean, std, err = s.Normalization(); err != nil {
			return nil, err
		}
		if mean == nil {
			return &Normalizer{}, nil
		}
	}
	shape := s.SampleShape()
	if err := checkNormalization(mean, std, shape[0]); err != nil {
		return nil, fmt.Errorf("hil: normalising the input of %s: %w", s.Name, err)
	}
	n := &Normalizer{plane: s.InputSize() / shape[0]}
	for c := range shape[0] {
		i := min(c, len(mean)-1)
		n.mean = append(n.mean, mean[i])
		n.invStd = append(n.invStd, 1/std[i])
	}
	return n, nil
}

// Apply writes the normalised src to dst, both holding whole samples.
func (n *Normalizer) Apply(dst, src []float32) {
	if n.mean == nil {
		copy(dst, src)
		return
	}
	channels := len(n.mean)
	for i, v := range src[:len(dst)] {
		c := (i / n.plane) % channels
		dst[i] = (v - n.mean[c]) * n.invStd[c]
	}
}
