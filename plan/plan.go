// Package plan owns capacity planning: the largest load, or the smallest
// resource, at which a scenario still meets its service-level objectives,
// found by bisection over one of its keys with the simulator.
package plan

import (
	"errors"
	"fmt"
	"github.com/tandem-edge/tandem/bundles"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/scenarios"
	"github.com/tandem-edge/tandem/sim"
)

// SLO is one objective on a run's summary.
type SLO struct {
	Metric string  `json:"metric"` // mean, p50, p95, p99, max (latency, at most); accuracy (at least); offload_rate (at most)
	Limit  float64 `json:"limit"`  // milliseconds for latencies, a fraction otherwise
}

// ParseSLO reads METRIC=LIMIT: p95=100ms, mean=20ms, accuracy=0.92,
// offload_rate=0.3.
func ParseSLO(s string) (SLO, error) {
	m, v, ok := strings.Cut(s, "=")
	m, v = strings.TrimSpace(m), strings.TrimSpace(v)
	if !ok {
		return SLO{}, fmt.Errorf("plan: SLO %q: want METRIC=LIMIT, such as p95=100ms or accuracy=0.92", s)
	}
	switch m {
	case "mean", "p50", "p95", "p99", "max":
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return SLO{}, fmt.Errorf("plan: SLO %q: want a positive latency such as 100ms", s)
		}
		return SLO{Metric: m, Limit: float64(d) / 1e6}, nil
	case "accuracy", "offload_rate":
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f >= 0 && f <= 1) {
			return SLO{}, fmt.Errorf("plan: SLO %q: want a fraction from 0 to 1", s)
		}
		return SLO{Metric: m, Limit: f}, nil
	}
	return SLO{}, fmt.Errorf("plan: SLO %q: unknown metric %q; want mean, p50, p95, p99, max, accuracy or offload_rate", s, m)
}

func (o SLO) String() string {
	switch o.Metric {
	case "accuracy":
		return fmt.Sprintf("accuracy ≥ %g", o.Limit)
	case "offload_rate":
		return fmt.Sprintf("offload_rate ≤ %g", o.Limit)
	}
	return fmt.Sprintf("%s latency ≤ %g ms", o.Metric, o.Limit)
}

// Met reports whether a summary meets the objective. A run that failed
// requests meets no objective.
func (o SLO) Met(s *deploy.Summary) bool {
	if s.Failed > 0 || s.Completed == 0 {
		return false
	}
	l := s.LatencyMS
	switch o.Metric {
	case "mean":
		return l.Mean <= o.Limit
	case "p50":
		return l.P50 <= o.Limit
	case "p95":
		return l.P95 <= o.Limit
	case "p99":
		return l.P99 <= o.Limit
	case "max":
		return l.Max <= o.Limit
	case "accuracy":
		return s.Accuracy >= o.Limit
	case "offload_rate":
		return s.OffloadRate <= o.Limit
	}
	return false
}

// groupless strips an edge group's index from a key ("edge[1].count").
var groupless = regexp.MustCompile(`\[[0-9]+\]`)

// integerKeys are the numeric keys a search keeps to whole numbers.
var integerKeys = map[string]bool{
	"requests": true, "edge.count": true, "edge.concurrency": true, "cloud.servers": true,
	"cloud.batching.max_batch": true, "link.request_bytes": true, "link.response_bytes": true,
}

// Config is a search.
type Config struct {
	Scenario *scenarios.Scenario
	Key      string  // the key varied, a number: workload.rate, edge.count, cloud.servers...
	Lo, Hi   float64 // the range searched; 0: 1/16 and 16 times the scenario's value
	SLOs     []SLO
	// Tolerance is how close, relative to the answer, the search gets for a
	// key that is not an integer; 0: 1%.
	Tolerance float64
	// Outcomes, when set, are replayed in place of the bundle's (its test
	// split's): the validation split's, so that an operating point is not
	// chosen on the samples it is then reported on.
	Outcomes []bundles.Outcome
}

// Check says whether cfg is a search Search can make, without simulating:
// objectives, a numeric key and a range.
func (cfg Config) Check() error {
	_, _, _, err := cfg.bounds()
	return err
}

// bounds is the range cfg searches and whether its key is an integer.
func (cfg Config) bounds() (lo, hi float64, integer bool, err error) {
	if len(cfg.SLOs) == 0 {
		return 0, 0, false, errors.New("plan: no objective: give at least one SLO")
	}
	cur, err := scenarios.Get(cfg.Scenario, cfg.Key)
	if err != nil {
		return 0, 0, false, err
	}
	integer = integerKeys[groupless.ReplaceAllString(cfg.Key, "")]
	lo, hi = cfg.Lo, cfg.Hi
	if lo == 0 || hi == 0 {
		// The default range is around the scenario's own value.
		v, err := strconv.ParseFloat(cur, 64)
		if err != nil || !(v > 0) {
			return 0, 0, false, fmt.Errorf("plan: %s is %q in the scenario; plan varies a positive number (workload.rate, edge.count, cloud.servers, link.uplink_mbps...), or give the range", cfg.Key, cur)
		}
		if lo == 0 {
			lo = v / 16
		}
		if hi == 0 {
			hi = v * 16
		}
	}
	if integer {
		lo, hi = math.Max(1, math.Floor(lo)), math.Ceil(hi)
	}
	if !(lo > 0 && hi > lo) {
		return 0, 0, false, fmt.Errorf("plan: range %g to %g of %s: want 0 < lo < hi", lo, hi, cfg.Key)
	}
	return lo, hi, integer, nil
}

// Step is one simulation of the search.
type Step struct {
	Value   string          `json:"value"`
	Met     bool            `json:"met"`
	Summary *deploy.Summary `json:"summary"`
}

// Result is the answer: the boundary value of the key and the run there.
type Result struct {
	Key  string `json:"key"`
	SLOs []SLO  `json:"slos"`
	// Direction says what the answer is: "largest" when the objectives
	// hold below it (a load), "smallest" when they hold above it (a
	// resource); "everywhere" or "nowhere" when they hold over all of the
	// range or none of it.
	Direction string  `json:"direction"`
	Value     string  `json:"value,omitempty"`
	Lo        float64 `json:"lo"`
	Hi        float64 `json:"hi"`
	Steps     []Step  `json:"steps"`
	// At is the run at Value.
	At *deploy.Summary `json:"at,omitempty"`
	// Test, for a search that replayed other outcomes than the bundle's
	// (Config.Outcomes), is the run at Value on the bundle's own test
	// outcomes: what tandem sim then reports.
	Test *deploy.Summary `json:"test,omitempty"`
}

// Search finds where the objectives stop holding as the key moves over its
// range, by bisection: each step is one simulation of the scenario with the
// key set (scenarios.With), so every point is a scenario a user could have
// written.
func Search(cfg Config) (*Result, error) {
	lo, hi, integer, err := cfg.bounds()
	if err != nil {
		return nil, err
	}
	tol := cfg.Tolerance
	if tol == 0 {
		tol = 0.01
	}
	res := &Result{Key: cfg.Key, SLOs: cfg.SLOs, Lo: lo, Hi: hi}
	format := func(x float64) string {
		if integer {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', 6, 64)
	}
	eval := func(x float64) (bool, *deploy.Summary, error) {
		val := format(x)
		sc, err := scenarios.With(cfg.Scenario, scenarios.Assignment{Key: cfg.Key, Value: val})
		if err != nil {
			return false, nil, err
		}
		sum, err := sim.SimulateOn(sc, cfg.Outcomes)
		if err != nil {
			return false, nil, fmt.Errorf("plan: %s=%s: %w", cfg.Key, val, err)
		}
		met := true
		for _, o := range cfg.SLOs {
			met = met && o.Met(sum)
		}
		res.Steps = append(res.Steps, Step{Value: val, Met: met, Summary: sum})
		return met, sum, nil
	}
	okLo, sumLo, err := eval(lo)
	if err != nil {
		return nil, err
	}
	okHi, sumHi, err := eval(hi)
	if err != nil {
		return nil, err
	}
	switch {
	case okLo && okHi:
		res.Direction, res.Value, res.At = "everywhere", format(hi), sumHi
		return res, res.onTest(cfg)
	case !okLo && !okHi:
		res.Direction = "nowhere"
		return res, nil
	case okLo:
		res.Direction = "largest"
	default:
		res.Direction = "smallest"
	}
	// good is the end where the objectives hold.
	good, bad, goodSum := lo, hi, sumLo
	if !okLo {
		good, bad, goodSum = hi, lo, sumHi
	}
	for {
		if integer && math.Abs(bad-good) <= 1 || !integer && math.Abs(bad-good) <= tol*math.Abs(good) {
			break
		}
		mid := (good + bad) / 2
		if integer {
			mid = math.Floor(mid)
			if mid == good || mid == bad {
				mid = math.Ceil((good + bad) / 2)
			}
		}
		ok, sum, err := eval(mid)
		if err != nil {
			return nil, err
		}
		if ok {
			good, goodSum = mid, sum
		} else {
			bad = mid
		}
	}
	res.Value, res.At = format(good), goodSum
	return res, res.onTest(cfg)
}

// onTest runs the scenario at the answer on the bundle's test outcomes
// when the search replayed others.
func (res *Result) onTest(cfg Config) error {
	if cfg.Outcomes == nil || res.Value == "" {
		return nil
	}
	sc, err := scenarios.With(cfg.Scenario, scenarios.Assignment{Key: cfg.Key, Value: res.Value})
	if err != nil {
		return err
	}
	if res.Test, err = sim.Simulate(sc); err != nil {
		return fmt.Errorf("plan: %s=%s on the test outcomes: %w", cfg.Key, res.Value, err)
	}
	return nil
}
