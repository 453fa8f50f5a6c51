package hil

import "fmt"

// normalizer maps pixels in [0, 1] to what a model expects: per channel,
//
//	x' = (x − mean[c]) / std[c]
//
// The zero normalizer copies.
type normalizer struct {
	mean, invStd []float32 // one entry per channel
	plane        int       // values per channel of one sample
}

// newNormalizer takes mean and std, or, when both are nil, the model's
// metadata.
func newNormalizer(s *Session, mean, std []float32) (*normalizer, error) {
	if mean == nil && std == nil {
		var err error
		if mean, std, err = s.Normalization(); err != nil {
			return nil, err
		}
		if mean == nil {
			return &normalizer{}, nil
		}
	}
	shape := s.SampleShape()
	if err := checkNormalization(mean, std, shape[0]); err != nil {
		return nil, fmt.Errorf("hil: normalising the input of %s: %w", s.Name, err)
	}
	n := &normalizer{plane: s.InputSize() / shape[0]}
	for c := range shape[0] {
		i := min(c, len(mean)-1)
		n.mean = append(n.mean, mean[i])
		n.invStd = append(n.invStd, 1/std[i])
	}
	return n, nil
}

// apply writes the normalised src to dst, both holding whole samples.
func (n *normalizer) apply(dst, src []float32) {
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
