package compress

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/data"
	"github.com/tandem-edge/tandem/predict"
	"github.com/tandem-edge/tandem/profiles"
)

// Config is a compression run.
type Config struct {
	Heavy  *dnn.Graph
	Splits *data.Splits // the heavy model's: fine-tune on Train, select on Val, report on Test
	// Budget is what every method's model must fit, unless Target is set.
	Budget Budget
	// Target, when set, replaces the fixed budget by a search: for each
	// method, the smallest budget whose fine-tuned model reaches a
	// validation accuracy (see Target).
	Target *Target
	// Deployment, when set, rewards the agent with the latency of a
	// simulated deployment instead of accuracy, and reports every method's
	// model in that deployment.
	Deployment *Deployment
	Methods    []string // default: Methods
	// Given is the Given method's proportions, one a group of
	// Heavy.ConvGroups.
	Given []float64
	// Finetune trains each pruned model further; Epochs 0 skips it. Its
	// Teacher (or TeacherLogits, on the training split), when set, distils
	// the heavy model (or any other) into each.
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
	Method string `json:"method"`
	Params int64  `json:"params"`
	FLOPs  int64  `json:"flops"`
	// Accuracy is on the test split, measured once, after selection.
	Accuracy               float64 `json:"accuracy"`
	AccuracyBeforeFinetune float64 `json:"accuracy_before_finetune"`
	// ValAccuracy, after fine-tuning, is what methods, budgets and
	// episodes are selected on.
	ValAccuracy        float64 `json:"val_accuracy"`
	LatencyMSPredicted float64 `json:"latency_ms_predicted"`
	LatencyMSMeasured  float64 `json:"latency_ms_measured"`
	// LatencyNote, when set, says the two latencies disagree by more than
	// the predictor's error: the device profile is of another machine.
	LatencyNote string    `json:"latency_note,omitempty"`
	Keep        []float64 `json:"keep"` // kept fraction per prunable layer group
	// Deployment is the model's simulated deployment, with a deployment
	// objective.
	Deployment *DeploymentResult `json:"deployment,omitempty"`
	// Seconds is where the method's wall time went, over every probe of a
	// target search.
	Seconds Seconds `json:"seconds"`
	// With a target: the budget found, whether its model reached the
	// target, and every budget tried on the way.
	Budget  float64 `json:"budget,omitempty"`
	Reached *bool   `json:"reached,omitempty"`
	// BudgetFit is where a least-squares line of the probes' validation
	// accuracy against the logarithm of their resource crosses the target,
	// as a fraction of the heavy model's resource: a size at the target
	// that one validation image more or less in one probe does not move
	// by a whole bisection step. 0 when the line does not rise.
	BudgetFit float64 `json:"budget_fit,omitempty"`
	Probes    []Probe `json:"probes,omitempty"`
	// Shortlist is how rl's or random search's shortlist (RLConfig.Shortlist)
	// re-scored the search's best models for this one.
	Shortlist []Shortlisted `json:"shortlist,omitempty"`
}

// Seconds splits a method's wall time: choosing the channels (the agent's
// whole search for rl), fine-tuning, and measuring (validation and test
// accuracy, latency, the deployment).
type Seconds struct {
	Choose   float64 `json:"choose"`
	Finetune float64 `json:"finetune"`
	Measure  float64 `json:"measure"`
}

func (s *Seconds) add(o Seconds) {
	s.Choose += o.Choose
	s.Finetune += o.Finetune
	s.Measure += o.Measure
}

// Probe is one step of a target search: a budget, its fine-tuned model's
// size and validation accuracy.
type Probe struct {
	Budget      float64       `json:"budget"`
	Params      int64         `json:"params"`
	FLOPs       int64         `json:"flops"`
	ValAccuracy float64       `json:"val_accuracy"`
	Shortlist   []Shortlisted `json:"shortlist,omitempty"`
}

// Report is report.json: the budget or target, the heavy model it started
// from, and each method, the one whose model is edge.onnx in Best.
type Report struct {
	Budget     BudgetReport      `json:"budget"`
	Target     *TargetReport     `json:"target,omitempty"`
	Deployment *DeploymentReport `json:"deployment,omitempty"`
	Heavy      struct {
		Params      int64   `json:"params"`
		FLOPs       int64   `json:"flops"`
		Accuracy    float64 `json:"accuracy"`
		ValAccuracy float64 `json:"val_accuracy"`
	} `json:"heavy"`
	Methods []Result `json:"methods"`
	// Best is the method whose model is edge.onnx: with a budget, the most
	// accurate on validation, or with a deployment objective the one whose
	// deployment is fastest on validation; with a target, the smallest (by
	// the searched resource) that reached it.
	Best string `json:"best"`
	// Command is the command line that made the report, when one did.
	Command string `json:"command,omitempty"`
	// GEMM is the BLAS library and its kernels that trained the models:
	// the same command, seed and inputs give the same bytes on the same
	// kernels (dnn.GEMMKernel).
	GEMM string `json:"gemm"`
	// Samples says what accuracy is measured on.
	Samples   string `json:"samples"`
	Selection string `json:"selection"`
	Finetune  struct {
		Epochs        int     `json:"epochs"`
		LR            float64 `json:"lr"`
		Distill       bool    `json:"distill"`
		Temperature   float64 `json:"temperature,omitempty"`
		DistillWeight float64 `json:"distill_weight,omitempty"`
		// CachedTeacher: the soft targets are the heavy model's logits on
		// each training image as it is, computed once, not on each
		// augmented view.
		CachedTeacher bool `json:"cached_teacher,omitempty"`
	} `json:"finetune"`
}

// BudgetReport is a budget as report.json gives it: each limit as a
// fraction and in its own units.
type BudgetReport struct {
	FLOPsFraction  float64 `json:"flops_fraction,omitempty"`
	FLOPs          int64   `json:"flops,omitempty"`
	ParamsFraction float64 `json:"params_fraction,omitempty"`
	Params         int64   `json:"params,omitempty"`
	LatencyMS      float64 `json:"latency_ms,omitempty"`
	Device         string  `json:"device,omitempty"`
	// ChannelMultiple is Budget.Multiple, reported with a target search's
	// empty budget too: it shapes every model either way.
	ChannelMultiple int `json:"channel_multiple,omitempty"`
}

func describe(b Budget, base size) BudgetReport {
	r := BudgetReport{ChannelMultiple: max(b.Multiple, 1)}
	if b.FLOPs > 0 {
		r.FLOPsFraction, r.FLOPs = b.FLOPs, int64(b.FLOPs*float64(base.flops))
	}
	if b.Params > 0 {
		r.ParamsFraction, r.Params = b.Params, int64(b.Params*float64(base.params))
	}
	if b.Latency > 0 {
		r.LatencyMS, r.Device = ms(b.Latency), b.Device.Name
	}
	return r
}

// Run prunes the heavy model by every method, to the budget or by the
// target search, fine-tunes each, and returns the report and the chosen
// model. Every choice is made on the validation split; the test split
// measures each method's final model once.
func Run(cfg Config) (*Report, *dnn.Graph, error) {
	if cfg.Target != nil {
		if err := cfg.Target.check(); err != nil {
			return nil, nil, err
		}
	} else if err := cfg.Budget.Check(); err != nil {
		return nil, nil, err
	}
	methods := cfg.Methods
	if len(methods) == 0 {
		methods = Methods
	}
	if cfg.Splits == nil || cfg.Splits.Test.Len() == 0 {
		return nil, nil, errors.New("compress: no test samples to measure accuracy on")
	}
	if cfg.Splits.Val == nil || cfg.Splits.Val.Len() == 0 {
		return nil, nil, errors.New("compress: no validation samples to select on")
	}
	rep := &Report{GEMM: dnn.GEMMName(), Samples: fmt.Sprintf("%d test samples of %s", cfg.Splits.Test.Len(), cfg.Splits.Test.Name),
		Selection: fmt.Sprintf("on %d validation samples; the test split measures each method's final model once", cfg.Splits.Val.Len())}
	base, err := sizeOf(cfg.Heavy)
	if err != nil {
		return nil, nil, err
	}
	rep.Heavy.Params, rep.Heavy.FLOPs = base.params, base.flops
	var heavyTest, heavyVal []int32
	if rep.Heavy.Accuracy, heavyTest, _, err = dnn.Evaluate(cfg.Heavy, cfg.Splits.Test, 0); err != nil {
		return nil, nil, err
	}
	if rep.Heavy.ValAccuracy, heavyVal, _, err = dnn.Evaluate(cfg.Heavy, cfg.Splits.Val, 0); err != nil {
		return nil, nil, err
	}
	rep.Budget = describe(cfg.Budget, base) // with a target, the channel multiple alone
	ft := cfg.Finetune
	rep.Finetune.Epochs, rep.Finetune.LR, rep.Finetune.Distill = ft.Epochs, ft.LR, distils(ft)
	rep.Finetune.CachedTeacher = ft.TeacherLogits != nil
	if distils(ft) {
		rep.Finetune.Temperature, rep.Finetune.DistillWeight = orValue(ft.Temperature, 4), orValue(ft.DistillWeight, 0.9)
	}

	r := &runner{cfg: cfg, base: base}
	if cfg.Deployment != nil {
		logf(cfg.Log, "deployment: simulating %s with every input sent to the cloud", cfg.Deployment.Scenario.Name)
		if r.deploy, err = newDeployer(cfg.Deployment, cfg.Heavy, heavyVal, heavyTest, cfg.Splits); err != nil {
			return nil, nil, err
		}
		rep.Deployment = r.deploy.report
	}
	if cfg.Target != nil {
		if rep.Target, err = r.target(rep.Heavy.ValAccuracy); err != nil {
			return nil, nil, err
		}
	}
	var best *dnn.Graph
	for _, m := range methods {
		var c *candidate
		if cfg.Target != nil {
			c, err = r.search(m, rep.Target)
		} else {
			c, err = r.probe(m, cfg.Budget)
		}
		if err != nil {
			return nil, nil, err
		}
		if err := r.finish(c); err != nil {
			return nil, nil, err
		}
		rep.Methods = append(rep.Methods, c.Result)
		if better(c.Result, rep) {
			best, rep.Best = c.graph, m
		}
	}
	return rep, best, nil
}

// better reports whether res should replace the report's best so far.
func better(res Result, rep *Report) bool {
	if rep.Best == "" {
		return true
	}
	var cur Result
	for _, r := range rep.Methods {
		if r.Method == rep.Best {
			cur = r
		}
	}
	t := rep.Target
	if t == nil {
		if res.Deployment != nil && cur.Deployment != nil {
			// A deployment objective wants the fastest deployment, which
			// need not be the most accurate edge model.
			return res.Deployment.ValReduction > cur.Deployment.ValReduction
		}
		return res.ValAccuracy > cur.ValAccuracy
	}
	switch reached, was := *res.Reached, *cur.Reached; {
	case reached != was:
		return reached
	case !reached:
		return res.ValAccuracy > cur.ValAccuracy
	}
	if a, b := t.cost(res), t.cost(cur); a != b {
		return a < b
	}
	return res.ValAccuracy > cur.ValAccuracy
}

// runner holds what every method's run shares.
type runner struct {
	cfg    Config
	base   size
	deploy *deployer // nil without a deployment objective
}

// candidate is a method's fine-tuned model and its report line so far.
type candidate struct {
	Result
	graph  *dnn.Graph // fine-tuned
	pruned *dnn.Graph // before fine-tuning
}

// probe prunes by method to the budget, fine-tunes and measures the model
// on validation.
func (r *runner) probe(m string, b Budget) (*candidate, error) {
	cfg := r.cfg
	logf(cfg.Log, "%s: choosing channels for the budget", m)
	var c *Choice
	var err error
	var secs Seconds
	t0 := time.Now()
	if m == RL || m == RandomSearch {
		rc := cfg.RL
		rc.randomOnly = m == RandomSearch
		if rc.Log == nil {
			rc.Log = cfg.Log
		}
		if rc.Recipe.Epochs == 0 {
			rc.Recipe = cfg.Finetune
		}
		rc.deploy = r.deploy
		c, err = chooseRL(cfg.Heavy, b, cfg.Splits.Val, cfg.Splits.Train, rc, cfg.Seed)
	} else if m == Given {
		c, err = ChooseGiven(cfg.Heavy, cfg.Given, b)
	} else {
		c, err = Choose(cfg.Heavy, m, b, cfg.Seed)
	}
	if err != nil {
		return nil, err
	}
	secs.Choose = time.Since(t0).Seconds()
	pruned, g := c.Graph, c.Graph
	res := Result{Method: m, Params: g.Params(), Keep: c.Ratios, Shortlist: c.Shortlist}
	if res.FLOPs, err = g.FLOPs(); err != nil {
		return nil, err
	}
	t0 = time.Now()
	if cfg.Finetune.Epochs > 0 {
		g = pruned.Clone()
		var progress func(dnn.Progress)
		if cfg.Progress != nil {
			progress = func(p dnn.Progress) { cfg.Progress(m, p) }
		}
		tc := cfg.Finetune
		tc.Seed = cfg.Seed
		if _, err := dnn.Train(g, cfg.Splits.Train, nil, tc, progress); err != nil {
			return nil, fmt.Errorf("compress: fine-tuning the %s model: %w", m, err)
		}
	}
	secs.Finetune = time.Since(t0).Seconds()
	t0 = time.Now()
	if res.ValAccuracy, _, _, err = dnn.Evaluate(g, cfg.Splits.Val, 0); err != nil {
		return nil, err
	}
	secs.Measure = time.Since(t0).Seconds()
	res.Seconds = secs
	logf(cfg.Log, "%s: %d params, %.2f MFLOPs, validation accuracy %.4f after %d epochs of fine-tuning",
		m, res.Params, float64(res.FLOPs)/1e6, res.ValAccuracy, cfg.Finetune.Epochs)
	return &candidate{Result: res, graph: g, pruned: pruned}, nil
}

// finish measures a method's final model on the test split, predicts and
// measures its latency, and tags it.
func (r *runner) finish(c *candidate) error {
	cfg := r.cfg
	var err error
	t0 := time.Now()
	defer func() { c.Seconds.Measure += time.Since(t0).Seconds() }()
	if c.AccuracyBeforeFinetune, _, _, err = dnn.Evaluate(c.pruned, cfg.Splits.Test, 0); err != nil {
		return err
	}
	c.Accuracy = c.AccuracyBeforeFinetune
	if c.graph != c.pruned {
		if c.Accuracy, _, _, err = dnn.Evaluate(c.graph, cfg.Splits.Test, 0); err != nil {
			return err
		}
	}
	logf(cfg.Log, "%s: test accuracy %.4f (%.4f before fine-tuning)", c.Method, c.Accuracy, c.AccuracyBeforeFinetune)
	dev := cfg.Device
	if dev == nil {
		dev = cfg.Budget.Device
	}
	if dev == nil && cfg.Target != nil {
		dev = cfg.Target.Device
	}
	if dev != nil && dev.Predictor != nil {
		l, err := predict.Graph(dev, c.graph, 1)
		if err != nil {
			return err
		}
		c.LatencyMSPredicted = ms(l)
	}
	if cfg.Measure != nil {
		l, err := cfg.Measure(c.graph)
		if err != nil {
			return fmt.Errorf("compress: measuring the %s model: %w", c.Method, err)
		}
		c.LatencyMSMeasured = ms(l)
	}
	if c.LatencyNote = profileDisagrees(dev, c.LatencyMSPredicted, c.LatencyMSMeasured); c.LatencyNote != "" {
		logf(cfg.Log, "note: %s model: %s", c.Method, c.LatencyNote)
	}
	if r.deploy != nil {
		if c.Deployment, err = r.deploy.evaluate(c.graph, cfg.Splits); err != nil {
			return err
		}
		logf(cfg.Log, "%s: deployed, %.2f%% offloaded, accuracy %.4f, %s latency %.3f ms (%.1f%% below cloud-only)", c.Method,
			100*c.Deployment.OffloadRate, c.Deployment.Accuracy, r.deploy.metric, pick(c.Deployment.LatencyMS, r.deploy.metric), 100*c.Deployment.Reduction)
	}
	// The pruned model inherits the heavy one's metadata: what said how
	// the heavy model was trained does not describe this one.
	delete(c.graph.Meta, "train_seconds")
	if cmd := c.graph.Meta["command"]; cmd != "" {
		delete(c.graph.Meta, "command")
		c.graph.Meta["heavy_command"] = cmd
	}
	c.graph.Meta["compress_method"] = c.Method
	c.graph.Meta["test_accuracy"] = fmt.Sprintf("%.4f", c.Accuracy)
	c.graph.Meta["val_accuracy"] = fmt.Sprintf("%.4f", c.ValAccuracy)
	return nil
}

func distils(tc dnn.TrainConfig) bool { return tc.Teacher != nil || tc.TeacherLogits != nil }

func orValue(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func durationMS(v float64) time.Duration { return time.Duration(math.Round(v * 1e6)) }

func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
	}
}
