package compress

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/tandem-edge/tandem/agents/offload"
	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/bundles/build"
	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/data"
	"github.com/tandem-edge/tandem/predict"
	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
	"github.com/tandem-edge/tandem/sim"
)

// Metrics a deployment objective may minimise.
var Metrics = []string{"mean", "p50", "p95", "p99"}

// Deployment puts the simulator in the loop: the agent's reward becomes
// how much lower a deployment's latency is with the episode's model on the
// edge devices than with every input sent to the cloud. Each candidate is
// run on the validation split, its per-sample outcomes replace the
// bundle's, its latency comes from the edge device's predictor, and the
// policy is a max_prob threshold set by offload.ParityRate so that the
// cascade is as accurate as the cloud alone on those samples (with the
// confidence asked for). The agent so trades edge accuracy (fewer offloads)
// against edge time.
type Deployment struct {
	// Scenario is the deployment; its bundle's heavy model must be the one
	// compressed, and its policy is replaced as above.
	Scenario *scenarios.Scenario
	// Metric is the latency minimised, one of Metrics; "" means the mean.
	Metric string
	// Reference, when set, is another edge model (the bundle's current
	// one) reported in the same deployment for comparison.
	Reference *dnn.Graph
	// Confidence is offload.ParityRate's; 0 means 0.5, parity on the
	// samples themselves. Higher asks the rate of a bootstrap quantile,
	// which on an episode's 1 000 images turns on the few the edge model
	// gets surely wrong: at 0.95 the agent's model deployed 60% below
	// cloud-only where uniform pruning's did 75% (docs/results.md).
	Confidence float64
	// Tolerance is offload.ParityRate's: how much less accurate than the
	// cloud, as a fraction, each candidate's cascade may be.
	Tolerance float64
}

// DeploymentResult is a model's deployment, as report.json gives it.
type DeploymentResult struct {
	// Threshold is the max_prob below which an input is offloaded, chosen
	// on validation; OffloadRate, Accuracy and the latencies are the
	// simulator's on the test split's outcomes.
	Threshold   float64          `json:"threshold"`
	OffloadRate float64          `json:"offload_rate"`
	Accuracy    float64          `json:"accuracy"`
	LatencyMS   deploy.LatencyMS `json:"latency_ms"`
	EdgeMS      float64          `json:"edge_ms"` // the predicted edge time simulated
	// Reduction is 1 − latency / cloud-only latency, for the metric.
	Reduction float64 `json:"reduction"`
	// ValReduction is the same on the validation split's outcomes: what
	// a deployment objective chooses the written model by.
	ValReduction float64 `json:"val_reduction,omitempty"`
}

// DeploymentReport is report.json's account of the deployment objective.
type DeploymentReport struct {
	Scenario string `json:"scenario"`
	Metric   string `json:"metric"`
	Requests int    `json:"requests"`
	// ThresholdRule says how each model's threshold was set on validation.
	ThresholdRule string            `json:"threshold_rule"`
	CloudOnly     *DeploymentResult `json:"cloud_only"`
	Reference     *DeploymentResult `json:"reference,omitempty"`
}

// deployer simulates a scenario with candidate edge models.
type deployer struct {
	in       *scenarios.Inputs
	metric   string
	conf     float64 // offload.ParityRate's confidence
	tol      float64 // and tolerance
	heavyVal []int32 // the heavy model's predictions on validation
	heavyTst []int32 // and on test
	cloudMS  float64 // the cloud-only deployment's metric
	report   *DeploymentReport
}

// newDeployer resolves the scenario and simulates cloud-only; heavyVal and
// heavyTest are the heavy model's predictions on the validation and test
// splits.
func newDeployer(d *Deployment, heavy *dnn.Graph, heavyVal, heavyTest []int32, splits *data.Splits) (*deployer, error) {
	if d.Scenario == nil {
		return nil, errors.New("compress: a deployment objective needs a scenario")
	}
	metric := d.Metric
	if metric == "" {
		metric = "mean"
	}
	if !slices.Contains(Metrics, metric) {
		return nil, fmt.Errorf("compress: deployment metric %q: want one of %v", metric, Metrics)
	}
	conf := d.Confidence
	if conf == 0 {
		conf = 0.5
	}
	if !(conf >= 0.5 && conf < 1) {
		return nil, fmt.Errorf("compress: deployment confidence %g: want a probability from 0.5 (parity on the validation samples) to below 1", conf)
	}
	if !(d.Tolerance >= 0 && d.Tolerance < 1) {
		return nil, fmt.Errorf("compress: deployment tolerance %g: want a fraction of accuracy from 0 to below 1", d.Tolerance)
	}
	sc := *d.Scenario
	sc.Policy = scenarios.Policy{Kind: offload.KindThreshold, Feature: offload.MaxProb.String(), Threshold: 0.5}
	if len(sc.Edge) != 1 {
		return nil, fmt.Errorf("%s: edge: %d groups; the deployment objective deploys one edge model on one device class, a single group", sc.File, len(sc.Edge))
	}
	if sc.Edge[0].Service != nil {
		return nil, fmt.Errorf("%s: edge.service: the deployment objective times each candidate with the edge device's predictor; remove the override", sc.File)
	}
	if sc.Edge[0].Bundle != "" {
		return nil, fmt.Errorf("%s: edge.bundle: the deployment objective deploys the model being compressed as the scenario's bundle; remove the group's own", sc.File)
	}
	// Every candidate brings its own edge time, so the bundle's edge model
	// need not be in the edge profile: resolve with a stand-in service.
	probe := sc
	probe.Edge = scenarios.EdgeGroups{sc.Edge[0]}
	probe.Edge[0].Service = &scenarios.Service{Dist: scenarios.DistDeterministic, Mean: scenarios.Duration(1)}
	in, err := scenarios.Resolve(&probe)
	if err != nil {
		return nil, err
	}
	in.Scenario = &sc
	if in.EdgeDevice, err = sc.EdgeProfile(0); err != nil {
		return nil, fmt.Errorf("%s: edge.device: %w", sc.File, err)
	}
	if in.EdgeDevice.Predictor == nil {
		return nil, fmt.Errorf("%s: edge.device: the deployment objective times each model with the device profile's latency predictor, and %s has none (tandem profile --sweep-widths)", sc.File, in.EdgeDevice.Name)
	}
	if in.Bundle.Models.Heavy.Params != 0 && in.Bundle.Models.Heavy.Params != heavy.Params() {
		return nil, fmt.Errorf("%s: bundle %s's heavy model has %d parameters, the model compressed %d: the scenario must deploy the model being compressed",
			sc.File, in.Bundle.Name, in.Bundle.Models.Heavy.Params, heavy.Params())
	}
	dp := &deployer{in: in, metric: metric, conf: conf, tol: d.Tolerance, heavyVal: heavyVal, heavyTst: heavyTest,
		report: &DeploymentReport{Scenario: sc.Name, Metric: metric, Requests: sc.Requests, ThresholdRule: thresholdRule(conf, d.Tolerance)}}
	// Cloud-only needs no edge model: any outcomes of the test split do.
	cloud := *in.Scenario
	cloud.Policy = scenarios.Policy{Kind: offload.KindCloudOnly}
	outs := build.Outcomes(splits.Test, heavy.Classes, dp.heavyTst, dp.heavyTst, make([]float32, splits.Test.Len()*heavy.Classes))
	sum, err := dp.simulate(&cloud, outs, nil)
	if err != nil {
		return nil, err
	}
	dp.cloudMS = pick(sum.LatencyMS, metric)
	dp.report.CloudOnly = &DeploymentResult{Threshold: 1, OffloadRate: sum.OffloadRate, Accuracy: overRequests(sum), LatencyMS: sum.LatencyMS}
	if d.Reference != nil {
		if dp.report.Reference, err = dp.evaluate(d.Reference, splits); err != nil {
			return nil, fmt.Errorf("compress: the reference edge model: %w", err)
		}
	}
	return dp, nil
}

// reward is the latency reduction against cloud-only of the deployment
// with g on validation.
func (dp *deployer) reward(g *dnn.Graph, val *data.Set, heavyVal []int32) (float64, error) {
	r, _, err := dp.run(g, val, heavyVal, -1)
	if err != nil {
		return 0, err
	}
	return r.Reduction, nil
}

// evaluate sets g's threshold on validation and simulates its deployment on
// the test split's outcomes.
func (dp *deployer) evaluate(g *dnn.Graph, splits *data.Splits) (*DeploymentResult, error) {
	v, t, err := dp.run(g, splits.Val, dp.heavyVal, -1)
	if err != nil {
		return nil, err
	}
	r, _, err := dp.run(g, splits.Test, dp.heavyTst, t)
	if err != nil {
		return nil, err
	}
	r.ValReduction = v.Reduction
	return r, nil
}

// run simulates the deployment of g on set's outcomes, with threshold t, or
// with parityThreshold's on set when t is negative; it returns the result
// and the threshold.
func (dp *deployer) run(g *dnn.Graph, set *data.Set, heavyPred []int32, t float64) (*DeploymentResult, float64, error) {
	_, preds, logits, err := dnn.Evaluate(g, set, 0)
	if err != nil {
		return nil, 0, err
	}
	if len(heavyPred) != set.Len() {
		return nil, 0, fmt.Errorf("compress: %d heavy-model predictions for %d samples", len(heavyPred), set.Len())
	}
	outs := build.Outcomes(set, g.Classes, heavyPred, preds, logits)
	if t < 0 {
		t = parityThreshold(outs, dp.conf, dp.tol)
	}
	edge, err := predict.Graph(dp.in.EdgeDevice, g, 1)
	if err != nil {
		return nil, 0, err
	}
	sc := *dp.in.Scenario
	sc.Policy.Threshold = t
	sum, err := dp.simulate(&sc, outs, dp.candidate(g.Name, edge))
	if err != nil {
		return nil, 0, err
	}
	v := pick(sum.LatencyMS, dp.metric)
	return &DeploymentResult{Threshold: t, OffloadRate: sum.OffloadRate, Accuracy: overRequests(sum), LatencyMS: sum.LatencyMS,
		EdgeMS: ms(edge), Reduction: 1 - v/dp.cloudMS}, t, nil
}

// candidate is the edge profile's entry for a candidate model predicted to
// take edge back to back. A candidate was never measured, so it borrows
// a measured model's run-to-run spread, and its cold curve scaled by the
// ratio of the two back-to-back latencies, so that a candidate on a device
// that idles between requests pays the cold runs tandem sim charges a real
// model (without them the deployment's edge time is half what sim predicts
// on builtin:default). Scaling assumes the cold penalty grows with the
// model's run, as the state a run must reload does. The model borrowed from
// is the heavy one, measured on the edge device, when the profile has it:
// it is an input of the compression, where the bundle's edge model is what
// the compression replaces, and borrowing from that would make each
// rebuild's reward depend on the previous rebuild's output.
func (dp *deployer) candidate(name string, edge time.Duration) *profiles.Model {
	for _, sum := range []string{dp.in.Bundle.Models.Heavy.SHA256, dp.in.Bundle.Models.Edge.SHA256} {
		m, err := dp.in.EdgeDevice.Model(sum)
		if err != nil || m.Latency <= 0 {
			continue
		}
		c := m.Stretched(float64(edge) / float64(m.Latency))
		c.Name, c.Latency, c.Layers, c.Batches, c.Serving = name, edge, nil, nil, nil
		return &c
	}
	return &profiles.Model{Name: name, Latency: edge}
}

// simulate runs sc with the outcomes and, when not nil, the edge model's
// profile in place of the bundle's.
func (dp *deployer) simulate(sc *scenarios.Scenario, outs []bundles.Outcome, edge *profiles.Model) (*deploy.Summary, error) {
	in := *dp.in
	in.Scenario = sc
	cfg, err := sim.ConfigFor(&in)
	if err != nil {
		return nil, err
	}
	cfg.Outcomes = outs
	if edge != nil {
		cfg.EdgeModel = edge
	}
	s, err := sim.New(cfg)
	if err != nil {
		return nil, err
	}
	return s.Run(nil)
}

// parityThreshold is the max_prob threshold that offloads, least sure
// first, offload.ParityRate's share of outs at the confidence and
// tolerance: the fewest for the cascade to be as accurate as the heavy
// model alone on outs at 0.5 and none. The bootstrap's seed is fixed, so
// that a model's reward is a function of the model.
func parityThreshold(outs []bundles.Outcome, confidence, tolerance float64) float64 {
	order := make([]int, len(outs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return outs[order[a]].MaxProb < outs[order[b]].MaxProb })
	diff := make([]int8, len(outs))
	for k, i := range order {
		s := offload.Sample{EdgeCorrect: outs[i].EdgeCorrect(), CloudCorrect: outs[i].CloudCorrect()}
		diff[k] = offload.Diff(&s)
	}
	k := int(math.Round(offload.ParityRate(diff, confidence, tolerance, 1) * float64(len(outs))))
	switch {
	case k == 0:
		return 0
	case k >= len(order):
		return 1
	}
	return (outs[order[k-1]].MaxProb + outs[order[k]].MaxProb) / 2
}

// thresholdRule says in words what parityThreshold sets.
func thresholdRule(confidence, tolerance float64) string {
	rate := "the offload rate "
	if confidence <= 0.5 {
		rate = "the lowest offload rate "
	}
	return "max_prob, " + rate + offload.ParityTarget(confidence, tolerance) + " (validation)"
}

// overRequests is the accuracy over every request: one that failed (timed
// out) is not a correct one.
func overRequests(s *deploy.Summary) float64 {
	if s.Requests == 0 {
		return 0
	}
	return s.Accuracy * float64(s.Completed) / float64(s.Requests)
}

func pick(l deploy.LatencyMS, metric string) float64 {
	switch metric {
	case "p50":
		return l.P50
	case "p95":
		return l.P95
	case "p99":
		return l.P99
	}
	return l.Mean
}
