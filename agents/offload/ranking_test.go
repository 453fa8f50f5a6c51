package offload

import (
	"math"
	"testing"
)

// helps and not build samples offloading does and does not help.
func sampleOf(maxProb float64, edge, cloud bool) Sample {
	return Sample{MaxProb: maxProb, Margin: maxProb / 2, Entropy: 1 - maxProb, EdgeCorrect: edge, CloudCorrect: cloud}
}

func TestRankAUCAndAP(t *testing.T) {
	cases := []struct {
		name    string
		scores  []float64
		helps   []bool
		auc, ap float64
	}{
		{"perfect", []float64{4, 3, 2, 1}, []bool{true, true, false, false}, 1, 1},
		{"reversed", []float64{4, 3, 2, 1}, []bool{false, false, true, true}, 0, (1.0/3 + 2.0/4) / 2},
		// One positive ranked second of four: it beats 2 of 3 negatives;
		// precision at its rank 1/2.
		{"second", []float64{4, 3, 2, 1}, []bool{false, true, false, false}, 2.0 / 3, 0.5},
		// All tied: AUC one half, AP the positive share.
		{"ties", []float64{1, 1, 1, 1}, []bool{true, false, false, true}, 0.5, 0.5},
	}
	for _, c := range cases {
		samples := make([]Sample, len(c.scores))
		for i, h := range c.helps {
			samples[i] = sampleOf(0.5, !h, h)
		}
		r := rank(c.name, c.scores, samples)
		if r.AUC == nil || math.Abs(*r.AUC-c.auc) > 1e-12 || math.Abs(*r.AP-c.ap) > 1e-12 {
			t.Errorf("%s: AUC %v AP %v, want %v and %v", c.name, deref(r.AUC), deref(r.AP), c.auc, c.ap)
		}
	}
	none := []Sample{sampleOf(0.9, true, true), sampleOf(0.2, true, false)}
	if r := rank("none", []float64{1, 2}, none); r.AUC != nil || r.AP != nil {
		t.Errorf("no sample offloading helps: AUC %v, want none", deref(r.AUC))
	}
}

func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

func TestRankingsCurve(t *testing.T) {
	// Ten samples: the edge is right on the six it is surest of; the cloud
	// is right on all but the surest one.
	var samples []Sample
	for i := range 10 {
		p := 0.1 * float64(i+1)
		samples = append(samples, sampleOf(p, i >= 4, i != 9))
	}
	rs := Rankings(nil, samples)
	if len(rs) != 4 || rs[0].Score != "max_prob" || rs[3].Score != KindOracle {
		t.Fatalf("rankings %v", rs)
	}
	mp, oracle := rs[0], rs[3]
	// Edge alone: 6 right; cloud alone: 9. Offloading the 4 least sure
	// makes 10, so cloud accuracy comes at 30% (9 right).
	if got := mp.Curve[0].Accuracy; got != 0.6 {
		t.Errorf("curve at 0%%: %v, want 0.6", got)
	}
	if got := mp.Curve[100].Accuracy; got != 0.9 {
		t.Errorf("curve at 100%%: %v, want 0.9", got)
	}
	if mp.RateForCloudAccuracy != 0.3 || mp.AccuracyAt["20%"] != 0.8 || len(mp.Curve) != 101 {
		t.Errorf("max_prob: rate %v, at 20%% %v", mp.RateForCloudAccuracy, mp.AccuracyAt["20%"])
	}
	if *mp.AUC != 1 || *oracle.AUC != 1 || oracle.RateForCloudAccuracy != 0.3 {
		t.Errorf("AUC %v / %v, oracle rate %v", *mp.AUC, *oracle.AUC, oracle.RateForCloudAccuracy)
	}
	// Offloading the four least sure makes all ten right, one more than
	// the cloud, which is wrong on the surest; sending that one as well
	// gives the lead back.
	if mp.BestLead != 1 || mp.BestLeadRate != 0.4 || oracle.BestLead != 1 || oracle.BestLeadRate != 0.4 {
		t.Errorf("best lead: max_prob %+d at %v, oracle %+d at %v; want +1 at 0.4", mp.BestLead, mp.BestLeadRate, oracle.BestLead, oracle.BestLeadRate)
	}
}

// TestRankingsBestLeadTie: where the cloud is right on every sample the
// cascade can at best tie it, which it first does once the edge model's
// two mistakes, its least sure answers, are sent.
func TestRankingsBestLeadTie(t *testing.T) {
	var samples []Sample
	for i := range 8 {
		samples = append(samples, sampleOf(0.1*float64(i+1), i >= 2, true))
	}
	mp := Rankings(nil, samples)[0]
	if mp.BestLead != 0 || mp.BestLeadRate != 0.25 {
		t.Errorf("max_prob: best lead %+d at %v, want +0 at 0.25", mp.BestLead, mp.BestLeadRate)
	}
}
