package compress

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/data"
	"github.com/tandem-edge/tandem/hil"
	"github.com/tandem-edge/tandem/profiles"
)

// Config is a compression run.
type Config struct {
	Heavy   *dnn.Graph
	Splits  *data.Splits // the heavy model's: fine-tune on Train, check on Val, report on Test
	Budget  Budget
	Methods []string // default: Methods
	// Finetune trains each pruned model further; Epochs 0 skips it.
	Finetune dnn.TrainConfig
	// RL sets the reinforcement-learning search, which rewards on
	// Splits.Val.
	RL   RLConfig
	Seed uint64
	// Device predicts each model's latency for the report (the budget's
	// device when nil); nil with no budget device: none predicted.
	Device *profiles.Device
	// Measure times a model for the report (ONNX Runtime, batch 1); nil:
	// none measured.
	Measure func(*dnn.Graph) (time.Duration, error)

	Log      io.Writer                  // a line per stage; nil: quiet
	Progress func(string, dnn.Progress) // fine-tuning progress, by method
}

// Result is one method's line of report.json.
type Result struct {
	Method                 string    `json:"method"`
	Params                 int64     `json:"params"`
	FLOPs                  int64     `json:"flops"`
	Accuracy               float64   `json:"accuracy"`
	AccuracyBeforeFinetune float64   `json:"accuracy_before_finetune"`
	LatencyMSPredicted     float64   `json:"latency_ms_predicted"`
	LatencyMSMeasured      float64   `json:"latency_ms_measured"`
	Keep                   []float64 `json:"keep"` // kept fraction per prunable layer group
}

// Report is report.json: the budget, the heavy model it started from, and
// each method, the best first in Best.
type Report struct {
	Budget struct {
		FLOPsFraction float64 `json:"flops_fraction,omitempty"`
		FLOPs         int64   `json:"flops,omitempty"`
		LatencyMS     float64 `json:"latency_ms,omitempty"`
		Device        string  `json:"device,omitempty"`
	} `json:"budget"`
	Heavy struct {
		Params   int64   `json:"params"`
		FLOPs    int64   `json:"flops"`
		Accuracy float64 `json:"accuracy"`
	} `json:"heavy"`
	Methods []Result `json:"methods"`
	Best    string   `json:"best"` // the method whose model is edge.onnx: the most accurate
	// Samples says what accuracy is measured on.
	Samples string `json:"samples"`
}

// Run prunes the heavy model by every method to the budget, fine-tunes each,
// and returns the report and the most accurate model.
func Run(cfg Config) (*Report, *dnn.Graph, error) {
	if err := cfg.Budget.Check(); err != nil {
		return nil, nil, err
	}
	methods := cfg.Methods
	if len(methods) == 0 {
		methods = Methods
	}
	if cfg.Splits == nil || cfg.Splits.Test.Len() == 0 {
		return nil, nil, errors.New("compress: no test samples to measure accuracy on")
	}
	dev := cfg.Device
	if dev == nil {
		dev = cfg.Budget.Device
	}
	rep := &Report{Samples: fmt.Sprintf("%d test samples of %s", cfg.Splits.Test.Len(), cfg.Splits.Test.Name)}
	heavyFLOPs, err := cfg.Heavy.FLOPs()
	if err != nil {
		return nil, nil, err
	}
	rep.Heavy.Params, rep.Heavy.FLOPs = cfg.Heavy.Params(), heavyFLOPs
	if rep.Heavy.Accuracy, _, _, err = dnn.Evaluate(cfg.Heavy, cfg.Splits.Test, 0); err != nil {
		return nil, nil, err
	}
	if b := cfg.Budget; b.FLOPs > 0 {
		rep.Budget.FLOPsFraction, rep.Budget.FLOPs = b.FLOPs, int64(b.FLOPs*float64(heavyFLOPs))
	}
	if b := cfg.Budget; b.Latency > 0 {
		rep.Budget.LatencyMS, rep.Budget.Device = ms(b.Latency), b.Device.Name
	}

	var best *dnn.Graph
	bestAcc := -1.0
	for _, m := range methods {
		logf(cfg.Log, "%s: choosing channels for the budget", m)
		var c *Choice
		if m == RL {
			rc := cfg.RL
			if rc.Log == nil {
				rc.Log = cfg.Log
			}
			c, err = chooseRL(cfg.Heavy, cfg.Budget, cfg.Splits.Val, cfg.Splits.Train, rc, cfg.Seed)
		} else {
			c, err = Choose(cfg.Heavy, m, cfg.Budget, cfg.Seed)
		}
		if err != nil {
			return nil, nil, err
		}
		g := c.Graph
		r := Result{Method: m, Params: g.Params(), Keep: c.Ratios}
		if r.FLOPs, err = g.FLOPs(); err != nil {
			return nil, nil, err
		}
		if r.AccuracyBeforeFinetune, _, _, err = dnn.Evaluate(g, cfg.Splits.Test, 0); err != nil {
			return nil, nil, err
		}
		r.Accuracy = r.AccuracyBeforeFinetune
		logf(cfg.Log, "%s: %d params, %.2f MFLOPs, accuracy %.4f before fine-tuning", m, r.Params, float64(r.FLOPs)/1e6, r.AccuracyBeforeFinetune)
		if cfg.Finetune.Epochs > 0 {
			var progress func(dnn.Progress)
			if cfg.Progress != nil {
				progress = func(p dnn.Progress) { cfg.Progress(m, p) }
			}
			tc := cfg.Finetune
			tc.Seed = cfg.Seed
			if _, err := dnn.Train(g, cfg.Splits.Train, cfg.Splits.Val, tc, progress); err != nil {
				return nil, nil, fmt.Errorf("compress: fine-tuning the %s model: %w", m, err)
			}
			if r.Accuracy, _, _, err = dnn.Evaluate(g, cfg.Splits.Test, 0); err != nil {
				return nil, nil, err
			}
			logf(cfg.Log, "%s: accuracy %.4f after %d epochs of fine-tuning", m, r.Accuracy, tc.Epochs)
		}
		if dev != nil && dev.Predictor != nil {
			l, err := hil.PredictGraph(dev, g, 1)
			if err != nil {
				return nil, nil, err
			}
			r.LatencyMSPredicted = ms(l)
		}
		if cfg.Measure != nil {
			l, err := cfg.Measure(g)
			if err != nil {
				return nil, nil, fmt.Errorf("compress: measuring the %s model: %w", m, err)
			}
			r.LatencyMSMeasured = ms(l)
		}
		g.Meta["compress_method"] = m
		g.Meta["test_accuracy"] = fmt.Sprintf("%.4f", r.Accuracy)
		rep.Methods = append(rep.Methods, r)
		if r.Accuracy > bestAcc {
			best, bestAcc, rep.Best = g, r.Accuracy, m
		}
	}
	return rep, best, nil
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
	}
}
