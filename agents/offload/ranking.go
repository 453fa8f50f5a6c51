package offload

import (
	"fmt"
	"math"
)

// Ranking is how well one score orders samples for offloading, as a
// detector of the samples offloading helps (Helps: the edge model wrong and
// the cloud model right), independent of any one threshold. A cascade that
// offloads the fraction r of samples with the highest scores has the
// accuracy Curve gives at r.
type Ranking struct {
	Score string `json:"score"` // learned, max_prob, margin, entropy or oracle
	// AUC is the area under the ROC curve of the score for Helps (0.5:
	// no better than chance; ties count half); nil when offloading helps
	// every sample or none.
	AUC *float64 `json:"roc_auc"`
	// AP is the average precision of the score for Helps; a random score
	// has the share of samples offloading helps. Nil with AUC.
	AP *float64 `json:"average_precision"`
	// RateForCloudAccuracy is the smallest fraction offloaded at which the
	// cascade is as accurate as the cloud model alone.
	RateForCloudAccuracy float64 `json:"rate_for_cloud_accuracy"`
	// BestLead is the most samples by which the cascade's right answers
	// exceed the cloud model's at any fraction offloaded, and BestLeadRate
	// the least fraction that reaches it. Sending everything ties, so it
	// is never below 0; at 0 the cascade can at best match the cloud, and
	// where a threshold set elsewhere lands on either side of that tie is
	// chance.
	BestLead     int     `json:"best_lead"`
	BestLeadRate float64 `json:"best_lead_rate"`
	// AccuracyAt is the cascade's accuracy offloading 5, 10 and 20% of the
	// samples.
	AccuracyAt map[string]float64 `json:"accuracy_at"`
	// Curve is the cascade's accuracy at every whole percent offloaded.
	Curve []CurvePoint `json:"curve"`
}

// CurvePoint is one point of the accuracy–offload curve.
type CurvePoint struct {
	OffloadRate float64 `json:"offload_rate"`
	Accuracy    float64 `json:"accuracy"`
}

// RankingRates are the offload rates Ranking.AccuracyAt reports.
var RankingRates = []float64{0.05, 0.10, 0.20}

// RateKey names an offload rate in Ranking.AccuracyAt: "5%" for 0.05.
func RateKey(rate float64) string { return fmt.Sprintf("%g%%", math.Round(rate*1000)/10) }

// Rankings ranks samples by the learned offloader's score (when o is not
// nil), by each confidence feature and by the oracle.
func Rankings(o *Offloader, samples []Sample) []Ranking {
	type scorer struct {
		name  string
		score func(*Sample) float64
	}
	var scorers []scorer
	if o != nil {
		scorers = append(scorers, scorer{KindLearned, o.Score})
	}
	scorers = append(scorers,
		scorer{MaxProb.String(), func(s *Sample) float64 { return -s.MaxProb }},
		scorer{Margin.String(), func(s *Sample) float64 { return -s.Margin }},
		scorer{Entropy.String(), func(s *Sample) float64 { return s.Entropy }},
		scorer{KindOracle, func(s *Sample) float64 {
			if Helps(s) {
				return 1
			}
			return 0
		}},
	)
	out := make([]Ranking, 0, len(scorers))
	for _, sc := range scorers {
		scores := make([]float64, len(samples))
		for i := range samples {
			scores[i] = sc.score(&samples[i])
		}
		out = append(out, rank(sc.name, scores, samples))
	}
	return out
}

// rank measures one score over samples.
func rank(name string, scores []float64, samples []Sample) Ranking {
	n := len(samples)
	// Highest score first; ties keep sample order, so that every cut of
	// the order is a cascade some threshold and tie-break would give.
	order := byScore(scores)
	r := Ranking{Score: name, AccuracyAt: map[string]float64{}}
	if auc, ap := aucAP(order, scores, samples); !math.IsNaN(auc) {
		r.AUC, r.AP = &auc, &ap
	}
	correct, cloud := cascade(order, samples)
	r.RateForCloudAccuracy = 1
	for k, c := range correct {
		if c >= cloud {
			r.RateForCloudAccuracy = float64(k) / float64(n)
			break
		}
	}
	best := 0
	for k, c := range correct {
		if c > correct[best] {
			best = k
		}
	}
	r.BestLead, r.BestLeadRate = correct[best]-cloud, float64(best)/float64(n)
	at := func(rate float64) float64 {
		return float64(correct[int(math.Round(rate*float64(n)))]) / float64(n)
	}
	for _, rate := range RankingRates {
		r.AccuracyAt[RateKey(rate)] = at(rate)
	}
	for p := 0; p <= 100; p++ {
		r.Curve = append(r.Curve, CurvePoint{OffloadRate: float64(p) / 100, Accuracy: at(float64(p) / 100)})
	}
	return r
}

// aucAP computes the ROC AUC and the average precision of scores for Helps,
// given the samples in descending order of score. Tied scores form one
// step of both curves.
func aucAP(order []int, scores []float64, samples []Sample) (auc, ap float64) {
	var pos, neg int
	for i := range samples {
		if Helps(&samples[i]) {
			pos++
		} else {
			neg++
		}
	}
	if pos == 0 || neg == 0 {
		return math.NaN(), math.NaN()
	}
	var tp, fp int
	for a := 0; a < len(order); {
		b := a
		var gtp, gfp int
		for ; b < len(order) && scores[order[b]] == scores[order[a]]; b++ {
			if Helps(&samples[order[b]]) {
				gtp++
			} else {
				gfp++
			}
		}
		// The group's positives beat every negative ranked below it and
		// half of those tied with them.
		auc += float64(gtp) * (float64(neg-fp-gfp) + 0.5*float64(gfp))
		tp, fp = tp+gtp, fp+gfp
		ap += float64(gtp) / float64(pos) * float64(tp) / float64(tp+fp)
		a = b
	}
	return auc / float64(pos*neg), ap
}
