package offload

import "github.com/tandem-edge/tandem/bundles"

// FromOutcomes returns the sample a policy sees for each of a bundle's
// outcomes, in order. The samples share the outcomes' logits.
func FromOutcomes(outcomes []bundles.Outcome) []Sample {
	out := make([]Sample, len(outcomes))
	for i := range outcomes {
		o := &outcomes[i]
		out[i] = Sample{
			Logits: o.Logits, MaxProb: o.MaxProb, Margin: o.Margin, Entropy: o.Entropy,
			EdgeCorrect: o.EdgeCorrect(), CloudCorrect: o.CloudCorrect(),
		}
	}
	return out
}
