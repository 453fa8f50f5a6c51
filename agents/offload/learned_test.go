package offload

import (
	"bytes"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

var thresholdRE = regexp.MustCompile(`"threshold": [^,]*,`)

// synthetic returns samples of a three-class edge model whose mistakes the
// max_prob threshold cannot see: it is wrong, and sure of itself, on a
// quarter of the samples it calls class 2, which the cloud gets right; and
// unsure, but right, on class 0.
func synthetic(n int, seed uint64) []Sample {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]Sample, n)
	for i := range out {
		pred := rng.IntN(3)
		conf := 2 + 2*rng.Float64()
		if pred == 0 {
			conf = 0.3 + 0.3*rng.Float64()
		}
		logits := make([]float32, 3)
		for j := range logits {
			logits[j] = float32(0.2 * rng.NormFloat64())
		}
		logits[pred] += float32(conf)
		edgeOK := !(pred == 2 && rng.Float64() < 0.25)
		if pred == 1 && rng.Float64() < 0.03 {
			edgeOK = false // a few the cloud cannot fix either
		}
		out[i] = NewSample(logits, edgeOK, !(pred == 1 && !edgeOK))
	}
	return out
}

var quick = TrainConfig{Hidden: 8, Epochs: 300, LR: 0.03, Folds: 3, Seed: 1}

func TestTrainBeatsThreshold(t *testing.T) {
	o, err := Train(synthetic(600, 1), quick)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := NewReport(o, synthetic(2000, 2), 1)
	if err != nil {
		t.Fatal(err)
	}
	byPolicy := map[string]Result{}
	for _, r := range rep.Policies {
		byPolicy[r.Policy] = r
		t.Logf("%-10s %-45s offload %5.1f%% accuracy %5.1f%%", r.Policy, r.Setting, 100*r.OffloadRate, 100*r.Accuracy)
	}
	t.Logf("decision accuracy %.3f, precision %.3f, recall %.3f", rep.DecisionAccuracy, rep.OffloadPrecision, rep.OffloadRecall)
	learned, th, cloud := byPolicy[KindLearned], byPolicy[KindThreshold], byPolicy[KindCloudOnly]
	if learned.Accuracy < cloud.Accuracy-0.01 {
		t.Errorf("learned accuracy %.3f, want about cloud-only's %.3f (the rule it was trained to)", learned.Accuracy, cloud.Accuracy)
	}
	if learned.Accuracy <= th.Accuracy+0.02 {
		t.Errorf("learned accuracy %.3f does not beat max_prob at the same offload rate (%.3f)", learned.Accuracy, th.Accuracy)
	}
	// The edge model's mistakes on class 2 look like its right answers, so
	// matching the cloud means offloading what it calls class 2: a third.
	if learned.OffloadRate > 0.4 {
		t.Errorf("learned offloads %.0f%%, want about a third", 100*learned.OffloadRate)
	}
	if rep.DecisionAccuracy < 0.7 || rep.OffloadRecall < 0.9 {
		t.Errorf("decision accuracy %.3f, recall %.3f: want at least 0.7 and 0.9", rep.DecisionAccuracy, rep.OffloadRecall)
	}
	// The rankings say the same without a threshold: the learned score
	// finds the cases offloading helps better than max_prob does.
	if len(rep.Rankings) != 5 || rep.Rankings[0].Score != KindLearned || rep.Rankings[1].Score != "max_prob" {
		t.Fatalf("rankings %+v", rep.Rankings)
	}
	lr, mp := rep.Rankings[0], rep.Rankings[1]
	t.Logf("AUC learned %.3f, max_prob %.3f; AP %.3f, %.3f", *lr.AUC, *mp.AUC, *lr.AP, *mp.AP)
	if *lr.AUC <= *mp.AUC || *lr.AP <= *mp.AP || lr.RateForCloudAccuracy >= mp.RateForCloudAccuracy {
		t.Errorf("learned AUC %.3f AP %.3f rate %.3f, max_prob %.3f %.3f %.3f", *lr.AUC, *lr.AP, lr.RateForCloudAccuracy, *mp.AUC, *mp.AP, mp.RateForCloudAccuracy)
	}
	if d := rep.DecisionAccuracyNeverOffload; d <= 0 || d >= 1 {
		t.Errorf("never offloading is right on %.3f", d)
	}
}

func TestTrainBudget(t *testing.T) {
	cfg := quick
	cfg.Budget = 0.02
	o, err := Train(synthetic(600, 1), cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := Evaluate(NewLearned(o), "", synthetic(600, 1))
	if r.OffloadRate > 0.03 {
		t.Errorf("offload rate %.3f on the training samples with a budget of 0.02", r.OffloadRate)
	}
}

// Without a budget the offloader records how sure its rate was asked to be
// and the rule that set it: parity at 0.5, the bootstrap above it.
func TestTrainConfidence(t *testing.T) {
	samples := synthetic(300, 1)
	for _, tc := range []struct {
		conf, want float64
		rule       string
	}{
		{0.5, 0.5, "lowest offload rate at least as accurate as cloud-only"},
		{0, DefaultConfidence, "in 0.95 of 500 bootstrap resamples"},
		{0.99, 0.99, "in 0.99 of 500 bootstrap resamples"},
	} {
		cfg := quick
		cfg.Confidence = tc.conf
		o, err := Train(samples, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := o.Training["confidence"]; got != tc.want {
			t.Errorf("confidence %g: training records %v, want %v", tc.conf, got, tc.want)
		}
		if rule, _ := o.Training["threshold_rule"].(string); !strings.Contains(rule, tc.rule) {
			t.Errorf("confidence %g: threshold rule %q, want it to say %q", tc.conf, rule, tc.rule)
		}
	}
}

// A tolerance is recorded with the rule that used it, and never asks for
// more offloading than none does.
func TestTrainTolerance(t *testing.T) {
	samples := synthetic(300, 1)
	rate := func(tol float64) (float64, *Offloader) {
		cfg := quick
		cfg.Tolerance = tol
		o, err := Train(samples, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return o.Training["offload_rate"].(float64), o
	}
	exact, _ := rate(0)
	within, o := rate(0.02)
	if within > exact {
		t.Errorf("rate %v within 2 points, above %v with none", within, exact)
	}
	if o.Training["tolerance"] != 0.02 {
		t.Errorf("training records tolerance %v, want 0.02", o.Training["tolerance"])
	}
	if rule, _ := o.Training["threshold_rule"].(string); !strings.Contains(rule, "within 2 points of cloud-only's accuracy in 0.95 of 500") {
		t.Errorf("threshold rule %q, want it to name the tolerance", rule)
	}
}

func TestTrainDeterministic(t *testing.T) {
	enc := func() []byte {
		o, err := Train(synthetic(300, 3), quick)
		if err != nil {
			t.Fatal(err)
		}
		b, err := o.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if a, b := enc(), enc(); !bytes.Equal(a, b) {
		t.Error("two trainings with one seed differ")
	}
}

// withEmbedding gives synthetic samples two features "before the
// classifier": the first, noisy, says which of the sure class-2 answers are
// the mistakes, which nothing in the logits shows; the second is noise.
func withEmbedding(samples []Sample, seed uint64) []Sample {
	rng := rand.New(rand.NewPCG(seed, 2))
	for i := range samples {
		wrong := float32(0)
		if !samples[i].EdgeCorrect {
			wrong = 1
		}
		samples[i].Embedding = []float32{wrong + float32(0.3*rng.NormFloat64()), float32(rng.NormFloat64())}
	}
	return samples
}

func TestTrainEmbedding(t *testing.T) {
	cfg := quick
	cfg.Embedding = true
	o, err := Train(withEmbedding(synthetic(600, 1), 1), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if o.Embedding != 2 || len(o.Inputs) != InputCount(3, 2) || o.Inputs[len(o.Inputs)-1] != "f1" {
		t.Fatalf("offloader of %d features, inputs %v", o.Embedding, o.Inputs)
	}
	plain, err := Train(synthetic(600, 1), quick)
	if err != nil {
		t.Fatal(err)
	}
	test := withEmbedding(synthetic(2000, 2), 2)
	withF, without := Rankings(o, test)[0], Rankings(plain, test)[0]
	t.Logf("AUC with the features %.3f, without %.3f", *withF.AUC, *without.AUC)
	if *withF.AUC <= *without.AUC+0.05 {
		t.Errorf("AUC %.3f with the features, %.3f without: the features show the mistakes", *withF.AUC, *without.AUC)
	}
	b, err := o.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeOffloader("o.json", b)
	if err != nil || back.Embedding != 2 || back.Score(&test[0]) != o.Score(&test[0]) {
		t.Errorf("round trip: %v, %d features", err, back.Embedding)
	}
}

func TestTrainErrors(t *testing.T) {
	allRight := synthetic(100, 1)
	for i := range allRight {
		allRight[i].EdgeCorrect = true
	}
	mixed := synthetic(100, 1)
	mixed[7].Logits = mixed[7].Logits[:2]
	cases := []struct {
		name    string
		samples []Sample
		cfg     TrainConfig
		want    string
	}{
		{"too few", synthetic(4, 1), quick, "4 samples, want at least 6"},
		{"nothing to learn", allRight, quick, "nothing to learn"},
		{"ragged logits", mixed, quick, "sample 7 has 2 logits"},
		{"bad budget", synthetic(100, 1), TrainConfig{Budget: 1.5}, "budget 1.5"},
		{"confidence below parity", synthetic(100, 1), TrainConfig{Confidence: 0.3}, "confidence 0.3"},
		{"certainty", synthetic(100, 1), TrainConfig{Confidence: 1}, "confidence 1:"},
		{"no features", synthetic(100, 1), TrainConfig{Embedding: true}, "the samples have none"},
		{"ragged features", raggedEmbedding(), TrainConfig{Embedding: true}, "sample 5 has 1 features"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Train(tc.samples, tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Train: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func raggedEmbedding() []Sample {
	s := withEmbedding(synthetic(100, 1), 1)
	s[5].Embedding = s[5].Embedding[:1]
	return s
}

func TestOffloaderRoundTrip(t *testing.T) {
	o, err := Train(synthetic(300, 3), quick)
	if err != nil {
		t.Fatal(err)
	}
	b, err := o.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeOffloader("offloader.json", b)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range synthetic(50, 4) {
		if a, b := o.Score(&s), back.Score(&s); a != b {
			t.Fatalf("sample %d: score %v before encoding, %v after", i, a, b)
		}
	}
}

func TestDecodeOffloaderErrors(t *testing.T) {
	o, err := Train(synthetic(300, 3), TrainConfig{Hidden: 2, Epochs: 5, Folds: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	good, err := o.Encode()
	if err != nil {
		t.Fatal(err)
	}
	edit := func(old, repl string) string {
		if !strings.Contains(string(good), old) {
			t.Fatalf("encoded offloader has no %q", old)
		}
		return strings.Replace(string(good), old, repl, 1)
	}
	cases := []struct {
		name, in, want string
	}{
		{"unknown field", edit(`"classes": 3,`, `"classes": 3, "colour": "red",`), `unknown field "colour"`},
		{"wrong format", edit(OffloaderFormat, "tandem-offloader/9"), `format: want "tandem-offloader/1"`},
		{"too few classes", edit(`"classes": 3,`, `"classes": 1,`), "classes: want at least 2, got 1"},
		{"classes disagree", edit(`"classes": 3,`, `"classes": 4,`), "inputs: want 7 values for 4 classes"},
		{"threshold out of range", thresholdRE.ReplaceAllString(string(good), `"threshold": 7,`), "threshold: must be from 0 to 1"},
		{"string for number", edit(`"classes": 3,`, `"classes": "three",`), `line 3, column 21: json: cannot unmarshal string`},
		{"syntax", edit(`"classes": 3,`, `"classes": 3,,`), "line 3, column 17: invalid character ','"},
		{"two values", string(good) + "{}", "more than one JSON value"},
		{"empty", "", "EOF"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeOffloader("offloader.json", []byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "offloader.json: ") {
				t.Errorf("DecodeOffloader: %v, want an error naming the file and containing %q", err, tc.want)
			}
		})
	}
}

func TestLearnedDecideAllocates(t *testing.T) {
	o, err := Train(synthetic(300, 3), TrainConfig{Hidden: 4, Epochs: 5, Folds: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	l := NewLearned(o)
	s := synthetic(1, 9)[0]
	var ctx Context
	if n := testing.AllocsPerRun(100, func() { l.Decide(&s, &ctx) }); n != 0 {
		t.Errorf("Decide allocates %v times a call, want 0", n)
	}
}

func TestChooseRate(t *testing.T) {
	// Five samples scored high to low: offloading the first hurts (edge
	// right, cloud wrong), the next two help. The edge alone is right on 3,
	// the cloud alone on 4.
	samples := []Sample{
		{EdgeCorrect: true, CloudCorrect: false},
		{EdgeCorrect: false, CloudCorrect: true},
		{EdgeCorrect: false, CloudCorrect: true},
		{EdgeCorrect: true, CloudCorrect: true},
		{EdgeCorrect: true, CloudCorrect: true},
	}
	scores := []float64{0.9, 0.8, 0.7, 0.2, 0.1}
	cases := []struct {
		budget float64
		want   float64
	}{
		{0, 0.6}, // offloading the top 3 is right on 4, as the cloud is
		{0.4, 0}, // offloading 1 or 2 is no better than none
		{1, 0.6}, // the best is 4 right, first reached at 3 offloaded
	}
	for _, tc := range cases {
		if got, _ := chooseRate(scores, samples, TrainConfig{Budget: tc.budget, Confidence: 0.5, Seed: 1}); got != tc.want {
			t.Errorf("budget %g: rate %g, want %g", tc.budget, got, tc.want)
		}
	}
}
