package paired

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestSignTest(t *testing.T) {
	tests := []struct {
		k, m int
		want float64
	}{
		{0, 0, 1},
		{3, 3, 1},
		{1, 0, 1},      // 2 · 1/2
		{5, 0, 0.0625}, // 2 · 2^-5
		{0, 5, 0.0625},
		{2, 8, 0.109375},   // 2 · (1+10+45)/1024
		{10, 21, 0.070756}, // checked against Python's exact math.comb sums
		{32, 63, 0.001924},
	}
	for _, tc := range tests {
		if got := SignTest(tc.k, tc.m); math.Abs(got-tc.want) > 5e-6 {
			t.Errorf("SignTest(%d, %d) = %.6f, want %.6f", tc.k, tc.m, got, tc.want)
		}
	}
	// Far past where C(n, i) overflows a float64, the tail still sums.
	if p := SignTest(2400, 2600); !(p > 0.004 && p < 0.006) {
		t.Errorf("SignTest(2400, 2600) = %g, want about 0.0049", p)
	}
	if p := SignTest(5000, 5001); p != 1 && !(p > 0.99) {
		t.Errorf("SignTest(5000, 5001) = %g, want about 1", p)
	}
}

func TestCompare(t *testing.T) {
	// Sample 7 is drawn three times: B gets it right each time, A never.
	a := []Outcome{{0, 7, false}, {1, 7, false}, {2, 7, false}, {3, 1, true}, {4, 2, true}, {5, 3, false}}
	b := []Outcome{{5, 3, false}, {4, 2, false}, {3, 1, true}, {2, 7, true}, {1, 7, true}, {0, 7, true}}
	r, err := Compare(a, b)
	if err != nil {
		t.Fatal(err)
	}
	// By sample: 7 nets +3 over 3 requests, 2 nets −1, 1 and 3 net 0; the
	// difference is 2/6, the residuals' squares sum to 6, so the half-width
	// is 1.96·√(6·4/3)/6.
	half := z95 * math.Sqrt(8) / 6
	want := Result{Requests: 6, BOnly: 3, AOnly: 1, P: SignTest(3, 1), Samples: 4, SamplesB: 1, SamplesA: 1, SamplesP: 1,
		Difference: 1.0 / 3, DifferenceLow: 1.0/3 - half, DifferenceHigh: 1.0/3 + half}
	got := *r
	for _, f := range []*float64{&got.Difference, &got.DifferenceLow, &got.DifferenceHigh} {
		*f = math.Round(*f*1e12) / 1e12
	}
	for _, f := range []*float64{&want.Difference, &want.DifferenceLow, &want.DifferenceHigh} {
		*f = math.Round(*f*1e12) / 1e12
	}
	if got != want {
		t.Errorf("Compare = %+v, want %+v", got, want)
	}
}

func TestInterval(t *testing.T) {
	// once: 1000 samples, B alone right on 30, A alone on 10; the variance
	// is (b+c−(b−c)²/n)/n² = 39.6/10⁶, n/(n−1) times.
	halfOnce := z95 * math.Sqrt(39.6*1000/999) / 1000
	tests := []struct {
		name            string
		s               netReqs
		diff, low, high float64
	}{
		{"each sample once", discordant(30, 10, 1000, 1), 0.02, 0.02 - halfOnce, 0.02 + halfOnce},
		// Replaying every sample twice doubles the requests and not the
		// evidence: the interval is the one above, where counting
		// requests as independent would narrow it by √2.
		{"each sample twice", discordant(30, 10, 1000, 2), 0.02, 0.02 - halfOnce, 0.02 + halfOnce},
		{"B behind", discordant(10, 30, 1000, 1), -0.02, -0.02 - halfOnce, -0.02 + halfOnce},
		{"no disagreement", netReqs{[]int{0, 0, 0}, []int{1, 4, 2}}, 0, 0, 0},
		{"one sample", netReqs{[]int{2}, []int{4}}, 0.5, 0.5, 0.5},
		{"none", netReqs{}, 0, 0, 0},
	}
	for _, tc := range tests {
		diff, low, high := Interval(tc.s.net, tc.s.reqs)
		if math.Abs(diff-tc.diff) > 1e-12 || math.Abs(low-tc.low) > 1e-12 || math.Abs(high-tc.high) > 1e-12 {
			t.Errorf("%s: Interval = %.6f [%.6f, %.6f], want %.6f [%.6f, %.6f]", tc.name, diff, low, high, tc.diff, tc.low, tc.high)
		}
	}
}

type netReqs struct{ net, reqs []int }

// discordant returns n samples, each replayed times requests, on b of
// which B alone is right and on c A alone.
func discordant(b, c, n, times int) netReqs {
	var s netReqs
	for i := range n {
		d := 0
		switch {
		case i < b:
			d = times
		case i < b+c:
			d = -times
		}
		s.net = append(s.net, d)
		s.reqs = append(s.reqs, times)
	}
	return s
}

func TestCompareMismatch(t *testing.T) {
	base := []Outcome{{0, 1, true}, {1, 2, true}}
	tests := []struct {
		name string
		b    []Outcome
		want string
	}{
		{"count", []Outcome{{0, 1, true}}, "2 requests and 1"},
		{"sample", []Outcome{{0, 1, true}, {1, 3, true}}, "request 1 replays sample 2 in A and 3 in B"},
		{"id", []Outcome{{0, 1, true}, {9, 2, true}}, "request 9 is in B and not in A"},
		{"twice", []Outcome{{0, 1, true}, {0, 1, true}}, "request 0 is in B twice"},
	}
	for _, tc := range tests {
		_, err := Compare(base, tc.b)
		var me *MismatchError
		if !errors.As(err, &me) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want a MismatchError saying %q", tc.name, err, tc.want)
		}
	}
	if _, err := Compare([]Outcome{{0, 1, true}, {0, 2, true}}, base); err == nil || !strings.Contains(err.Error(), "in A twice") {
		t.Errorf("a duplicate id in A: err = %v", err)
	}
}

func TestReadOutcomes(t *testing.T) {
	csv := "id,device,sample,correct,status\n0,0,9752,true,ok\n1,3,12,false,ok\n2,1,5,true,failed\n"
	got, err := ReadOutcomes("r.csv", strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	want := []Outcome{{0, 9752, true}, {1, 12, false}, {2, 5, false}}
	if len(got) != len(want) {
		t.Fatalf("got %d outcomes, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("outcome %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestReadOutcomesBad(t *testing.T) {
	tests := []struct{ csv, want string }{
		{"", "r.csv: empty"},
		{"id,sample,status\n", `r.csv:1: no column "correct"`},
		{"id,sample,correct,status\nx,1,true,ok\n", "r.csv:2: id: want a non-negative integer"},
		{"id,sample,correct,status\n0,1,true,ok\n1,-4,true,ok\n", "r.csv:3: sample: want a non-negative integer"},
		{"id,sample,correct,status\n0,1,yes,ok\n", "r.csv:2: correct: want true or false"},
		{"id,sample,correct,status\n0,1,true\n", "r.csv: record on line 2: wrong number of fields"},
	}
	for _, tc := range tests {
		_, err := ReadOutcomes("r.csv", strings.NewReader(tc.csv))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.csv, err, tc.want)
		}
	}
}

func FuzzReadOutcomes(f *testing.F) {
	f.Add("id,sample,correct,status\n0,1,true,ok\n")
	f.Add("id,device,sample,arrival_ms,decision,edge_ms,uplink_ms,cloud_queue_ms,cloud_ms,latency_ms,correct,status\n0,0,3,1.0,edge,0.5,0,0,0,0.5,true,ok\n")
	f.Add("id,sample,correct,status\n\"0\",1,true,failed\n")
	f.Fuzz(func(t *testing.T, s string) {
		outs, err := ReadOutcomes("f.csv", strings.NewReader(s))
		if err != nil {
			return
		}
		// Whatever reads compares with itself: no disagreement.
		if r, err := Compare(outs, outs); err == nil && (r.BOnly != 0 || r.AOnly != 0 || r.P != 1) {
			t.Fatalf("a run against itself: %+v", r)
		}
	})
}

// Runs whose ids are not 0 to n−1 pair up as those whose ids are.
func TestCompareSparseIDs(t *testing.T) {
	shift := func(os []Outcome, by uint64) []Outcome {
		out := make([]Outcome, len(os))
		for i, o := range os {
			o.ID = o.ID*1000 + by
			out[i] = o
		}
		return out
	}
	a := []Outcome{{0, 7, false}, {1, 7, false}, {2, 7, true}, {3, 1, true}}
	b := []Outcome{{3, 1, false}, {2, 7, true}, {1, 7, true}, {0, 7, true}}
	dense, err := Compare(a, b)
	if err != nil {
		t.Fatal(err)
	}
	sparse, err := Compare(shift(a, 5), shift(b, 5))
	if err != nil {
		t.Fatal(err)
	}
	if *dense != *sparse {
		t.Errorf("sparse ids: %+v, dense: %+v", *sparse, *dense)
	}
	for _, tc := range []struct {
		a, b []Outcome
		want string
	}{
		{shift(a, 5), shift(append(b[:3:3], Outcome{ID: 9, Sample: 7}), 5), "request 9005 is in B and not in A"},
		{shift(a, 5), shift(append(b[:3:3], b[2]), 5), "request 1005 is in B twice"},
		{shift(append(a[:3:3], a[2]), 5), shift(b, 5), "request 2005 is in A twice"},
	} {
		if _, err := Compare(tc.a, tc.b); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err = %v, want %q", err, tc.want)
		}
	}
}

func TestDifferenceText(t *testing.T) {
	tests := []struct {
		r    Result
		want string
	}{
		{Result{}, "none: every request answered alike"},
		{Result{BOnly: 30, AOnly: 10, SamplesB: 12, SamplesA: 5, Difference: 0.002, DifferenceLow: -0.0005, DifferenceHigh: 0.0045},
			"+0.200 points (95% interval -0.050 to +0.450)"},
		{Result{BOnly: 2, SamplesB: 1, Difference: 0.0001, DifferenceLow: 0.0001, DifferenceHigh: 0.0001},
			"+0.010 points (95% interval +0.010 to +0.010), but only 1 sample differs: the interval is too narrow"},
		{Result{AOnly: 4, SamplesA: 3, Difference: -0.0002, DifferenceLow: -0.0004, DifferenceHigh: 0},
			"-0.020 points (95% interval -0.040 to +0.000), but only 3 samples differ: the interval is too narrow"},
	}
	for _, tc := range tests {
		if got := tc.r.DifferenceText(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.r, got, tc.want)
		}
	}
}
