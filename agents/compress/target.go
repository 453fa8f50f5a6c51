package compress

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/tandem-edge/tandem/predict"
	"github.com/tandem-edge/tandem/profiles"
)

// Resources a target search may budget.
const (
	ResourceParams  = "params"
	ResourceFLOPs   = "flops"
	ResourceLatency = "latency"
)

// Resources lists them, the default first.
var Resources = []string{ResourceParams, ResourceFLOPs, ResourceLatency}

// Target asks for the smallest model that is still accurate enough, the
// comparison compression papers make (size at equal accuracy): for each
// method, bisection on the budget, each probe pruned, fine-tuned and
// measured on the validation split, finds the smallest budget whose model
// reaches Accuracy.
type Target struct {
	// Accuracy is the validation accuracy to reach; 0 means the heavy
	// model's own validation accuracy less Drop.
	Accuracy float64
	// Drop is how much below the heavy model the target lies when Accuracy
	// is 0; 0 means 0.01 (one point).
	Drop float64
	// Resource is what the searched budget limits, one of Resources; ""
	// means parameters.
	Resource string
	// Device predicts latency for ResourceLatency.
	Device *profiles.Device
	// Steps is the number of probes per method; 0 means 6.
	Steps int
	// Min is the smallest budget searched, as a fraction of the heavy
	// model's resource; 0 means 0.01. The search is geometric between it
	// and 1, so six steps pin the budget to within about 8%.
	Min float64
}

// TargetReport is report.json's account of a target search.
type TargetReport struct {
	Accuracy         float64 `json:"accuracy"` // on validation
	HeavyValAccuracy float64 `json:"heavy_val_accuracy"`
	Resource         string  `json:"resource"`
	Device           string  `json:"device,omitempty"`
	Steps            int     `json:"steps"`
	Min              float64 `json:"min"`
	// HeavyLatencyMS is what latency fractions are fractions of.
	HeavyLatencyMS float64 `json:"heavy_latency_ms,omitempty"`
}

func (t *Target) check() error {
	switch {
	case t.Resource != "" && !slices.Contains(Resources, t.Resource):
		return fmt.Errorf("compress: target resource %q: want one of %v", t.Resource, Resources)
	case t.Resource == ResourceLatency && (t.Device == nil || t.Device.Predictor == nil):
		return errors.New("compress: a latency target needs a device profile with a latency predictor (tandem profile --sweep-widths)")
	case t.Accuracy < 0 || t.Accuracy > 1:
		return fmt.Errorf("compress: target accuracy %g: want [0, 1]", t.Accuracy)
	case t.Drop < 0 || t.Drop >= 1:
		return fmt.Errorf("compress: target accuracy drop %g: want [0, 1)", t.Drop)
	case t.Steps < 0:
		return fmt.Errorf("compress: %d target search steps: want at least 1", t.Steps)
	case t.Min < 0 || t.Min >= 1:
		return fmt.Errorf("compress: smallest target budget %g: want (0, 1)", t.Min)
	}
	return nil
}

// target fills in the defaults against the heavy model's validation
// accuracy.
func (r *runner) target(heavyVal float64) (*TargetReport, error) {
	t := *r.cfg.Target
	tr := &TargetReport{Accuracy: t.Accuracy, HeavyValAccuracy: heavyVal, Resource: t.Resource, Steps: t.Steps, Min: t.Min}
	if tr.Accuracy == 0 {
		tr.Accuracy = heavyVal - orValue(t.Drop, 0.01)
	}
	if tr.Resource == "" {
		tr.Resource = ResourceParams
	}
	if tr.Steps == 0 {
		tr.Steps = 6
	}
	if tr.Min == 0 {
		tr.Min = 0.01
	}
	if tr.Resource == ResourceLatency {
		l, err := predict.Graph(t.Device, r.cfg.Heavy, 1)
		if err != nil {
			return nil, err
		}
		tr.Device, tr.HeavyLatencyMS = t.Device.Name, ms(l)
	}
	return tr, nil
}

// budgetAt is the budget of a fraction x of the heavy model's resource, in
// the fixed budget's channel multiple.
func (r *runner) budgetAt(tr *TargetReport, x float64) Budget {
	b := Budget{Multiple: r.cfg.Budget.Multiple}
	switch tr.Resource {
	case ResourceFLOPs:
		b.FLOPs = x
	case ResourceLatency:
		b.Latency, b.Device = durationMS(x*tr.HeavyLatencyMS), r.cfg.Target.Device
	default:
		b.Params = x
	}
	return b
}

// search bisects, geometrically, on the budget for method m: a probe that
// reaches the target lowers the upper end, one that does not (or cannot be
// built) raises the lower. The answer is the smallest probe that reached
// the target or, when none did, the most accurate probe, marked unreached.
func (r *runner) search(m string, tr *TargetReport) (*candidate, error) {
	lo, hi := math.Log(tr.Min), 0.0
	var best, closest *candidate
	var probes []Probe
	var secs Seconds
	for step := range tr.Steps {
		x := math.Exp((lo + hi) / 2)
		logf(r.cfg.Log, "%s: probe %d/%d: budget %.4g of the heavy model's %s", m, step+1, tr.Steps, x, tr.Resource)
		c, err := r.probe(m, r.budgetAt(tr, x))
		var inf infeasible
		if errors.As(err, &inf) {
			logf(r.cfg.Log, "%s: %v", m, err)
			lo = (lo + hi) / 2
			continue
		}
		if err != nil {
			return nil, err
		}
		secs.add(c.Seconds)
		c.Budget = x
		probes = append(probes, Probe{Budget: x, Params: c.Params, FLOPs: c.FLOPs, ValAccuracy: c.ValAccuracy, Shortlist: c.Shortlist})
		if closest == nil || c.ValAccuracy > closest.ValAccuracy {
			closest = c
		}
		if c.ValAccuracy >= tr.Accuracy {
			best, hi = c, (lo+hi)/2
		} else {
			lo = (lo + hi) / 2
		}
	}
	reached := best != nil
	if !reached {
		best = closest
	}
	if best == nil {
		return nil, fmt.Errorf("compress: %s: no budget down to %g of the heavy model's %s could be met", m, math.Exp(lo), tr.Resource)
	}
	best.Reached, best.Probes, best.Seconds = &reached, probes, secs
	best.BudgetFit = r.fit(tr, probes)
	logf(r.cfg.Log, "%s: smallest model reaching %.4f on validation: budget %.4g, %d params (reached: %v); the probes' line crosses it at %.4g",
		m, tr.Accuracy, best.Budget, best.Params, reached, best.BudgetFit)
	return best, nil
}

// fit returns where the least-squares line of the probes' validation
// accuracy against the log of their resource (their budget for latency)
// reaches the target, as a fraction of the heavy model's resource; 0 with
// fewer than two probes or a line that does not rise.
func (r *runner) fit(tr *TargetReport, probes []Probe) float64 {
	if len(probes) < 2 {
		return 0
	}
	heavy := 1.0
	switch tr.Resource {
	case ResourceParams:
		heavy = float64(r.cfg.Heavy.Params())
	case ResourceFLOPs:
		f, err := r.cfg.Heavy.FLOPs()
		if err != nil || f == 0 {
			return 0
		}
		heavy = float64(f)
	}
	var mx, my float64
	xs := make([]float64, len(probes))
	for i, p := range probes {
		switch tr.Resource {
		case ResourceParams:
			xs[i] = math.Log(float64(p.Params) / heavy)
		case ResourceFLOPs:
			xs[i] = math.Log(float64(p.FLOPs) / heavy)
		default:
			xs[i] = math.Log(p.Budget)
		}
		mx += xs[i]
		my += p.ValAccuracy
	}
	n := float64(len(probes))
	mx, my = mx/n, my/n
	var sxy, sxx float64
	for i, p := range probes {
		sxy += (xs[i] - mx) * (p.ValAccuracy - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	if sxx == 0 || sxy <= 0 {
		return 0
	}
	slope := sxy / sxx
	return math.Exp(mx + (tr.Accuracy-my)/slope)
}

// cost is the searched resource of a method's model, to rank methods.
func (tr *TargetReport) cost(res Result) float64 {
	switch tr.Resource {
	case ResourceFLOPs:
		return float64(res.FLOPs)
	case ResourceLatency:
		if res.LatencyMSPredicted > 0 {
			return res.LatencyMSPredicted
		}
		return res.Budget
	}
	return float64(res.Params)
}
