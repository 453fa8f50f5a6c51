package offload

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/tandem-edge/tandem/paired"
)

// Result is how one policy does on a set of samples: the fraction it sends
// to the cloud and the fraction the cascade then answers correctly.
type Result struct {
	Policy      string  `json:"policy"`            // the policy kind
	Setting     string  `json:"setting,omitempty"` // its parameters, e.g. "max_prob < 0.87"
	OffloadRate float64 `json:"offload_rate"`
	Accuracy    float64 `json:"accuracy"`
	// VsCloud bounds, at 95%, the cascade's accuracy less cloud-only's on
	// the same samples (paired.Interval): how far from the cloud's accuracy
	// these samples allow the policy's to be. Reports written before it
	// was added lack it.
	VsCloud *Bounds `json:"vs_cloud,omitempty"`
}

// Bounds is an interval.
type Bounds struct {
	Low  float64 `json:"low"`
	High float64 `json:"high"`
}

// Evaluate decides every sample with p (with an empty context: no queue, no
// link estimate) and scores the cascade.
func Evaluate(p Policy, setting string, samples []Sample) Result {
	var off, right int
	var ctx Context
	lead := make([]int, len(samples)) // per sample: the cascade right, less the cloud
	once := make([]int, len(samples))
	for i := range samples {
		s := &samples[i]
		d := Cloud
		if p.EdgeFirst() {
			d = p.Decide(s, &ctx)
		}
		once[i] = 1
		if d == Cloud {
			off++
			if s.CloudCorrect {
				right++
			}
		} else {
			if s.EdgeCorrect {
				right++
			}
			lead[i] = b2i(s.EdgeCorrect) - b2i(s.CloudCorrect)
		}
	}
	n := float64(len(samples))
	_, low, high := paired.Interval(lead, once)
	return Result{Policy: p.Name(), Setting: setting, OffloadRate: float64(off) / n, Accuracy: float64(right) / n,
		VsCloud: &Bounds{Low: low, High: high}}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Report is the offloader's report.json: how often its decisions were right
// and how the cascade it drives compares with the baselines, all on samples
// it was not trained on.
type Report struct {
	// DecisionAccuracy is the fraction of samples on which the offloader
	// decided what Helps says it should: offload exactly when the edge model
	// is wrong and the cloud model right. Offloading helps few samples, so
	// never offloading scores high too: read it beside
	// DecisionAccuracyNeverOffload, and rank offloaders by Rankings.
	DecisionAccuracy float64 `json:"decision_accuracy"`
	// DecisionAccuracyNeverOffload is the same figure for never
	// offloading: the share of samples offloading does not help.
	DecisionAccuracyNeverOffload float64 `json:"decision_accuracy_never_offload"`
	// OffloadPrecision is the fraction of offloaded samples that offloading
	// helped; OffloadRecall the fraction of samples it would help that were
	// offloaded.
	OffloadPrecision float64  `json:"offload_precision"`
	OffloadRecall    float64  `json:"offload_recall"`
	Samples          int      `json:"samples"`
	Threshold        float64  `json:"threshold"`
	Policies         []Result `json:"policies"` // learned first, then the baselines
	// Rankings says, for the learned score and each baseline's, how well
	// it orders the samples for offloading at every rate.
	Rankings []Ranking `json:"rankings"`
	// Data says where the samples come from.
	Data string `json:"data,omitempty"`
}

// NewReport evaluates offloader o on samples against the baselines: edge-only,
// cloud-only, and, at o's offload rate on these samples, random offloading
// and a max_prob threshold, then the oracle. seed drives the random baseline.
func NewReport(o *Offloader, samples []Sample, seed uint64) (*Report, error) {
	if len(samples) == 0 {
		return nil, fmt.Errorf("offload: report: no samples")
	}
	for i := range samples {
		if len(samples[i].Logits) != o.Classes {
			return nil, fmt.Errorf("offload: report: sample %d has %d logits, the offloader takes %d classes", i, len(samples[i].Logits), o.Classes)
		}
	}
	learned := NewLearned(o)
	r := &Report{Samples: len(samples), Threshold: o.Threshold}
	var agree, tp, offloaded, helps int
	var ctx Context
	for i := range samples {
		s := &samples[i]
		off := learned.Decide(s, &ctx) == Cloud
		h := Helps(s)
		if off == h {
			agree++
		}
		if off {
			offloaded++
			if h {
				tp++
			}
		}
		if h {
			helps++
		}
	}
	n := float64(len(samples))
	r.DecisionAccuracy = float64(agree) / n
	r.DecisionAccuracyNeverOffload = 1 - float64(helps)/n
	r.OffloadPrecision = ratio(tp, offloaded)
	r.OffloadRecall = ratio(tp, helps)

	lr := Evaluate(learned, fmt.Sprintf("score >= %.4g", o.Threshold), samples)
	rate := lr.OffloadRate
	rnd, err := NewRandom(rate, rand.NewPCG(seed, 0x72616e646f6d)) // "random"
	if err != nil {
		return nil, err
	}
	t := maxProbAtRate(samples, rate)
	th, err := NewThreshold(MaxProb, t)
	if err != nil {
		return nil, err
	}
	r.Policies = []Result{
		lr,
		Evaluate(EdgeOnly{}, "", samples),
		Evaluate(CloudOnly{}, "", samples),
		Evaluate(rnd, fmt.Sprintf("p = %.4g, the learned offload rate", rate), samples),
		Evaluate(th, fmt.Sprintf("max_prob < %.4g, the learned offload rate", t), samples),
		Evaluate(Oracle{}, "", samples),
	}
	r.Rankings = Rankings(o, samples)
	return r, nil
}

// maxProbAtRate is the max_prob threshold that offloads a fraction rate of
// the samples: those the edge model is least sure of.
func maxProbAtRate(samples []Sample, rate float64) float64 {
	p := make([]float64, len(samples))
	for i := range samples {
		p[i] = samples[i].MaxProb
	}
	slices.Sort(p)
	k := int(math.Round(rate * float64(len(p))))
	switch {
	case k <= 0:
		return 0
	case k >= len(p):
		return min(math.Nextafter(p[len(p)-1], math.Inf(1)), 1)
	}
	return (p[k-1] + p[k]) / 2
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
