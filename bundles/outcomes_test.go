package bundles

import (
	"bytes"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func randomOutcomes(n, k int, seed uint64) []Outcome {
	rng := rand.New(rand.NewPCG(seed, seed))
	out := make([]Outcome, n)
	for i := range out {
		logits := make([]float32, k)
		for j := range logits {
			logits[j] = float32(rng.NormFloat64() * 3)
		}
		out[i] = Outcome{
			Sample: i * 3, Label: rng.IntN(k), EdgePred: rng.IntN(k), CloudPred: rng.IntN(k),
			MaxProb: rng.Float64(), Margin: rng.Float64() / 2, Entropy: rng.Float64() * math.Log(float64(k)),
			Logits: logits,
		}
	}
	return out
}

func TestOutcomesRoundTrip(t *testing.T) {
	want := randomOutcomes(500, 10, 1)
	var b bytes.Buffer
	if err := WriteOutcomes(&b, want); err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(b.String(), "\n"); first != "sample,label,edge_pred,cloud_pred,max_prob,margin,entropy,"+
		"logit_0,logit_1,logit_2,logit_3,logit_4,logit_5,logit_6,logit_7,logit_8,logit_9" {
		t.Errorf("header %q", first)
	}
	got, err := ReadOutcomes("outcomes.csv", &b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Error("outcomes changed through WriteOutcomes and ReadOutcomes")
	}
}

func TestWriteOutcomesErrors(t *testing.T) {
	uneven := randomOutcomes(2, 3, 1)
	uneven[1].Logits = uneven[1].Logits[:2]
	for name, tc := range map[string]struct {
		outcomes []Outcome
		want     string
	}{
		"none":   {nil, "bundles: writing outcomes: none to write"},
		"uneven": {uneven, "bundles: writing outcomes: outcome 1 (sample 3) has 2 logits, the first has 3"},
		"one class": {[]Outcome{{Logits: []float32{1}}},
			"bundles: writing outcomes: 1 logits, want one per class (>= 2)"},
	} {
		if err := WriteOutcomes(&bytes.Buffer{}, tc.outcomes); err == nil || err.Error() != tc.want {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

func TestReadOutcomesErrors(t *testing.T) {
	const header = "sample,label,edge_pred,cloud_pred,max_prob,margin,entropy,logit_0,logit_1,logit_2\n"
	const row = "0,1,1,2,0.9,0.5,0.3,1.5,2.5,-1\n"
	cases := []struct{ name, text, want string }{
		{"empty", "", "outcomes.csv: empty, want a header line"},
		{"no rows", header, "outcomes.csv: no outcomes after the header"},
		{"wrong column", strings.Replace(header, "margin", "gap", 1) + row,
			`outcomes.csv:1: column 6: want "margin", got "gap"`},
		{"logits out of order", strings.Replace(header, "logit_1,logit_2", "logit_2,logit_1", 1) + row,
			`outcomes.csv:1: column 9: want "logit_1", got "logit_2"`},
		{"one class", "sample,label,edge_pred,cloud_pred,max_prob,margin,entropy,logit_0\n0,0,0,0,1,1,0,1\n",
			"outcomes.csv:1: want columns sample,label,edge_pred,cloud_pred,max_prob,margin,entropy,logit_0,...,logit_{K-1} with K >= 2 classes, got 8 columns"},
		{"not an integer", header + row + "1,1,x,2,0.9,0.5,0.3,1,2,3\n", `outcomes.csv:3: edge_pred: want an integer, got "x"`},
		{"label out of range", header + "0,3,1,2,0.9,0.5,0.3,1,2,3\n", "outcomes.csv:2: label: must be from 0 to 2, got 3"},
		{"negative prediction", header + "0,1,1,-1,0.9,0.5,0.3,1,2,3\n", "outcomes.csv:2: cloud_pred: must be from 0 to 2, got -1"},
		{"negative sample", header + "-4,1,1,1,0.9,0.5,0.3,1,2,3\n", "outcomes.csv:2: sample: must be from 0 to"},
		{"max_prob above 1", header + "0,1,1,1,1.5,0.5,0.3,1,2,3\n", "outcomes.csv:2: max_prob: must be from 0 to 1, got 1.5"},
		{"negative entropy", header + "0,1,1,1,0.5,0.5,-0.1,1,2,3\n", "outcomes.csv:2: entropy: must be >= 0, got -0.1"},
		{"NaN margin", header + "0,1,1,1,0.5,NaN,0.1,1,2,3\n", "outcomes.csv:2: margin: must be from 0 to 1, got NaN"},
		{"infinite logit", header + "0,1,1,1,0.5,0.5,0.1,1,Inf,3\n", "outcomes.csv:2: logit_1: want a finite number, got Inf"},
		{"bad logit", header + "0,1,1,1,0.5,0.5,0.1,1,2,z\n", `outcomes.csv:2: logit_2: want a number, got "z"`},
		{"too few logits", header + row + "1,1,1,1,0.5,0.5,0.1,1,2\n", "outcomes.csv:3: want 10 fields as in the header, got 9"},
		{"duplicate sample", header + row + row, "outcomes.csv:3: sample: 0 already on line 2"},
		{"bad quoting", header + "0,1,1,1,0.5,0.5,0.1,1,2,\"3\n", "outcomes.csv:2:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadOutcomes("outcomes.csv", strings.NewReader(tc.text))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("ReadOutcomes: %v\nwant %q", err, tc.want)
			}
		})
	}
}
