package offload

import "testing"

// BenchmarkDecide measures one decision of each deployable policy on a
// ten-class sample: the simulator makes one per request.
func BenchmarkDecide(b *testing.B) {
	samples := synthetic(64, 1)
	for i := range samples {
		// Ten classes, as the built-in bundle has.
		l := make([]float32, 10)
		copy(l, samples[i].Logits)
		samples[i] = NewSample(l, samples[i].EdgeCorrect, samples[i].CloudCorrect)
	}
	o, err := Train(samples, TrainConfig{Hidden: 16, Epochs: 10, Folds: 2, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	th, _ := NewThreshold(MaxProb, 0.9)
	for _, p := range []Policy{th, NewLearned(o)} {
		b.Run(p.Name(), func(b *testing.B) {
			var ctx Context
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				p.Decide(&samples[i%len(samples)], &ctx)
			}
		})
	}
}
