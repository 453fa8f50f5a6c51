package offload

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestCalibrate(t *testing.T) {
	samples := synthetic(900, 3)
	cases := []struct {
		name string
		cfg  TrainConfig
	}{
		{"parity", TrainConfig{Hidden: 8, Epochs: 300, LR: 0.03, Folds: 3, Seed: 1, Confidence: 0.5}},
		{"confident", TrainConfig{Hidden: 8, Epochs: 300, LR: 0.03, Folds: 3, Seed: 1, Confidence: 0.95}},
		{"tolerant", TrainConfig{Hidden: 8, Epochs: 300, LR: 0.03, Folds: 3, Seed: 1, Confidence: 0.95, Tolerance: 0.02}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Calibrate(samples, CalibrateConfig{Train: tc.cfg, Splits: 4, Holdout: 0.5, Seed: 7, Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			met := 0
			for i, s := range c.Splits {
				if s.Trained+s.HeldOut != len(samples) || s.HeldOut != 450 {
					t.Errorf("split %d: %d trained, %d held out of %d", i, s.Trained, s.HeldOut, len(samples))
				}
				if want := int(tc.cfg.Tolerance * 450); s.Slack != want {
					t.Errorf("split %d: slack %d, want %d", i, s.Slack, want)
				}
				if s.Met != (s.Lead >= -s.Slack) || s.Rate < 0 || s.Rate > 1 || s.HeldRate < 0 || s.HeldRate > 1 {
					t.Errorf("split %d: %+v", i, s)
				}
				if s.Met {
					met++
				}
			}
			if c.Met != met || !(c.MetLow <= float64(met)/4 && float64(met)/4 <= c.MetHigh) {
				t.Errorf("met %d (interval %.3f–%.3f), the splits say %d", c.Met, c.MetLow, c.MetHigh, met)
			}
			if c.Rule != ParityTarget(tc.cfg.Confidence, tc.cfg.Tolerance) {
				t.Errorf("rule %q", c.Rule)
			}
			// The edge model's mistakes here are ones its output shows, so
			// an offloader trained on half the samples finds them on the
			// other half: the rules hold on most held-out halves.
			if c.Met < 3 {
				t.Errorf("target met on %d of 4 held-out halves: %+v", c.Met, c.Splits)
			}
		})
	}
}

// TestCalibrateWorkers checks that the splits' outcomes depend on the seed
// alone, not on how many run at once.
func TestCalibrateWorkers(t *testing.T) {
	samples := synthetic(600, 4)
	calls := 0
	one, err := Calibrate(samples, CalibrateConfig{Train: quick, Splits: 3, Holdout: 0.4, Seed: 11, Workers: 1,
		Progress: func(done, total int) {
			calls++
			if done != calls || total != 3 {
				t.Errorf("progress %d of %d on call %d", done, total, calls)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 3 {
		t.Errorf("%d progress calls for 3 splits", calls)
	}
	three, err := Calibrate(samples, CalibrateConfig{Train: quick, Splits: 3, Holdout: 0.4, Seed: 11, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(one, three) {
		t.Errorf("one worker: %+v\nthree: %+v", one, three)
	}
	other, err := Calibrate(samples, CalibrateConfig{Train: quick, Splits: 3, Holdout: 0.4, Seed: 12, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(one.Splits, other.Splits) {
		t.Error("seeds 11 and 12 drew the same splits")
	}
}

func TestCalibrateErrors(t *testing.T) {
	samples := synthetic(60, 5)
	cases := []struct {
		name    string
		cfg     TrainConfig
		splits  int
		holdout float64
		want    string
	}{
		{"budget", TrainConfig{Budget: 0.1}, 2, 0.5, "a budget sets the offload rate itself"},
		{"no splits", quick, 0, 0.5, "0 splits"},
		{"holdout of none", quick, 2, 0, "holdout 0"},
		{"holdout of all", quick, 2, 1, "holdout 1"},
		{"too few to train", quick, 2, 0.95, "57 held out"},
		{"bad setting", TrainConfig{Confidence: 0.3}, 2, 0.5, "confidence 0.3"},
	}
	for _, tc := range cases {
		if _, err := Calibrate(samples, CalibrateConfig{Train: tc.cfg, Splits: tc.splits, Holdout: tc.holdout, Seed: 1, Workers: 1}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

func TestWilson(t *testing.T) {
	cases := []struct {
		k, n   int
		lo, hi float64
	}{
		{0, 10, 0, 0.2775},
		{10, 10, 0.7225, 1},
		{11, 20, 0.3421, 0.7418},
		{19, 20, 0.7639, 0.9911},
	}
	for _, c := range cases {
		lo, hi := wilson(c.k, c.n)
		if d := lo - c.lo; d > 1e-4 || d < -1e-4 {
			t.Errorf("wilson(%d, %d) low %.4f, want %.4f", c.k, c.n, lo, c.lo)
		}
		if d := hi - c.hi; d > 1e-4 || d < -1e-4 {
			t.Errorf("wilson(%d, %d) high %.4f, want %.4f", c.k, c.n, hi, c.hi)
		}
	}
}

// TestCalibrateNothingToLearn checks that splits failing alike give one
// error, of one line, that still says why.
func TestCalibrateNothingToLearn(t *testing.T) {
	samples := synthetic(200, 6)
	for i := range samples {
		samples[i].EdgeCorrect = true // the cloud rescues nothing
	}
	_, err := Calibrate(samples, CalibrateConfig{Train: quick, Splits: 4, Holdout: 0.5, Seed: 1, Workers: 2})
	if !errors.Is(err, ErrNothingToLearn) || strings.Contains(err.Error(), "\n") {
		t.Errorf("Calibrate: %q, want one line wrapping ErrNothingToLearn", err)
	}
}
